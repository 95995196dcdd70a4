package pgrest

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// ErrArgument is wrapped by CheckArg's errors.
var ErrArgument = errors.New("PostgREST cannot read this argument from a query string")

// CheckArg reports whether PostgREST reads the query parameter key=text of
// a GET or HEAD function call as the argument key with the value text.
// PostgREST reads every parameter of such a call as a filter first, so it
// does not when:
//
//   - key is select, columns, on_conflict, order, limit, offset, and or
//     or, which PostgREST takes for themselves;
//   - key is not a plain name: letters, digits, _, $ and inner spaces,
//     in parts joined by single dashes (a dot, quotes, -> or other
//     characters make PostgREST read a different name, or fail);
//   - text starts like a filter (eq., not., in., is., like(any). ...):
//     PostgREST applies it as a filter on the result, or refuses it;
//   - key or text is not valid UTF-8 or holds NUL (see CheckText).
//
// Such a call can only be made with POST.
func CheckArg(key, text string) error {
	if err := CheckText(key); err != nil {
		return err
	}
	if err := CheckText(text); err != nil {
		return err
	}
	if !plainArgName(key) {
		return fmt.Errorf("%w: %q is not a plain name or is one PostgREST reserves", ErrArgument, key)
	}
	if IsFilterText(text) {
		return fmt.Errorf("%w: the value starts like a filter (an operator and a dot), which PostgREST would apply as one", ErrArgument)
	}
	return nil
}

var reservedParams = map[string]bool{
	"select": true, "columns": true, "on_conflict": true,
	"order": true, "limit": true, "offset": true, "and": true, "or": true,
}

// plainArgName reports whether PostgREST's field name grammar (pFieldName:
// identifiers of letters, digits, _, space and $, trimmed, joined by dashes
// not followed by >) reads key back unchanged, as a whole.
func plainArgName(key string) bool {
	if reservedParams[key] {
		return false
	}
	for part := range strings.SplitSeq(key, "-") {
		if part == "" || strings.TrimSpace(part) != part {
			return false
		}
		for _, r := range part {
			if !unicode.IsLetter(r) && (r < '0' || r > '9') && r != '_' && r != '$' && r != ' ' {
				return false
			}
		}
	}
	return true
}

// filterText matches the start of a value PostgREST's filter grammar
// (pOpExpr) reads as an operator, or starts reading as one and fails:
// "not.", in./is./isdistinct., a full-text operator with an optional
// language, a simple operator, or a comparison with an optional (any) or
// (all), each followed by a dot.
var filterText = regexp.MustCompile(`^(?:not\.|in\.|is\.|isdistinct\.|` +
	`(?:fts|plfts|phfts|wfts)(?:\([\pL0-9_ $]+\))?\.|` +
	`(?:neq|cs|cd|ov|sl|sr|nxr|nxl|adj)\.|` +
	`(?:eq|gte|gt|lte|lt|like|ilike|match|imatch)(?:\((?:any|all)\))?\.)`)

// IsFilterText reports whether PostgREST reads s, the value of a query
// parameter, as a filter rather than as a plain value (see CheckArg).
func IsFilterText(s string) bool { return filterText.MatchString(s) }
