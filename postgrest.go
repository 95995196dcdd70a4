package supabase

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/supabase-go/supabase/internal/pgrest"
)

// Deliberate differences from supabase-js 2.119 on the wire. Everything else
// matches the requests supabase-js sends (compared as decoded query pairs,
// headers and JSON bodies).
//
//   - in()/notIn() (cases filter_in_quotes_backslash_spaces_unicode and any
//     value with . or :): supabase-js quotes an element only when it
//     contains , ( or ) and never escapes " or \. We quote every element
//     containing whitespace or any of , . : ( ) " \ and escape " and \ with
//     a backslash, which is how PostgREST's grammar reads quoted values, so
//     `say "hi"` is sent as "say \"hi\"" and cannot change meaning.
//     Numbers are never quoted (in.(1.5,2)), as in supabase-js.
//   - in()/notIn() with an empty string (case
//     filter_in_empty_string_null_boolean): supabase-js sends it as nothing,
//     so in("c", [""]) becomes in.(), the empty list. We send "".
//   - Arrays for contains, containedBy, overlaps, likeAllOf/likeAnyOf/
//     ilikeAllOf/ilikeAnyOf, Eq with a slice and RPC GET/HEAD arguments
//     (case filter_ilike_any_of): supabase-js joins elements with "," without
//     quoting, so "%x,y%" becomes two patterns. We write a Postgres array
//     literal and quote elements that are empty, spell null, or contain
//     whitespace or any of , { } ( ) " \ . : ; nil elements are sent as null
//     (supabase-js sends an empty element).
//   - DELETE without a body (cases delete_*, error_404_empty_body):
//     supabase-js sends Content-Type: application/json on a request with no
//     body. We send Content-Type only with a body.
//   - RPC GET with an object argument: supabase-js sends "[object Object]";
//     we send the object as JSON. The function name is path-escaped
//     (supabase-js does not escape it).
//   - Responses (case error_200_non_json_body): Execute returns a 2xx body as
//     it is, even when it is not JSON; All, One, MaybeOne, Page and Rows
//     then return a *Error matching ErrInvalidResponse where supabase-js
//     reports {message: body}.
//   - Select("  ") (only whitespace) sends select=* where supabase-js sends
//     an empty select.
//   - Match sends its filters in sorted column order (a Go map has no
//     order); PostgREST does not care about parameter order.

// CountMethod is how PostgREST counts rows for [Response].Count. It is
// also the option that asks for the count: pass it to [Query.Select], a
// write ([Query.Insert], [Query.Update], ...) or [Client.RPC], as in
// c.From("todos").Select("id", supabase.[CountExact]).
type CountMethod string

// Count methods, sent as Prefer: count=<method>.
const (
	// CountExact runs COUNT(*): exact, slow on big tables.
	CountExact CountMethod = "exact"
	// CountPlanned uses the planner's estimate: fast, approximate.
	CountPlanned CountMethod = "planned"
	// CountEstimated counts exactly up to db-max-rows and uses the planner's
	// estimate above it.
	CountEstimated CountMethod = "estimated"
)

type queryKind uint8

const (
	kindRead queryKind = iota
	kindInsert
	kindUpsert
	kindUpdate
	kindDelete
	kindRPC
)

func (k queryKind) String() string {
	return [...]string{"Select", "Insert", "Upsert", "Update", "Delete", "RPC"}[k]
}

type acceptKind uint8

const (
	acceptDefault acceptKind = iota
	acceptObject
	acceptCSV
	acceptGeoJSON
)

const (
	mediaObject     = "application/vnd.pgrst.object+json"
	mediaCSV        = "text/csv"
	mediaGeoJSON    = "application/geo+json"
	mediaJSON       = "application/json"
	mediaArrayNulls = "application/vnd.pgrst.array+json;nulls=stripped"
)

type headerPair struct{ name, value string }

// Query is a PostgREST request under construction: a table read or write
// ([Client.From]) or a function call ([Client.RPC]) with its filters and
// modifiers. Nothing is sent until a terminal call: [Query.Execute],
// [Query.Count], [All], [One], [MaybeOne], [Page] or [Rows].
//
// A Query is an immutable value. Every method returns a new Query and leaves
// its receiver unchanged, so a base query can be stored and branched from
// any number of goroutines at once. Credentials are not part of a query:
// they are read from the client's current session when it is sent.
//
// Invalid input (an empty column, an operator that is not one token,
// Range(10, 5), a value that cannot be encoded) makes the query carry an
// error matching [ErrInvalidQuery]; later methods keep the first error
// and terminal calls return it without sending anything. [Query.Err]
// reports it early.
//
// The zero Query has no client; its terminal calls return an error.
type Query struct {
	// A Query is copied in and out of every method: what few queries set
	// is behind x, and the flags are bytes, so that the copy stays small.
	c      *Client
	err    error
	target string // table or function name
	params pgrest.Params
	x      *queryExtras // nil: none set

	kind           queryKind
	rpcMethod      rpcVerb // for kindRPC
	accept         acceptKind
	selected       bool // Select called
	head           bool
	rpcMinimal     bool // HEAD with object arguments fell back to POST
	ignoreDups     bool
	missingDefault bool
	maybeSingle    bool
	stripNulls     bool
	rollback       bool
	hasMaxAffected bool
	retry          bool
}

// queryExtras holds the parts of a [Query] that few queries set. It is
// shared between queries and copied on write (by editExtras),
// never changed in place.
type queryExtras struct {
	count       CountMethod
	body        []byte          // nil: no body
	explain     *ExplainOptions // never mutated once set
	maxAffected int
	headers     []headerPair
}

var noExtras queryExtras

// extras returns q's extras for reading only.
func (q *Query) extras() *queryExtras {
	if q.x == nil {
		return &noExtras
	}
	return q.x
}

// editExtras gives q its own copy of its extras and returns it.
func (q *Query) editExtras() *queryExtras {
	x := new(queryExtras)
	if q.x != nil {
		*x = *q.x
	}
	q.x = x
	return x
}

type rpcVerb uint8

const (
	rpcPost rpcVerb = iota
	rpcGet
	rpcHead
)

// From starts a query on the table or view named table in the client's
// schema. Without a further Select, Insert, Upsert, Update or Delete it
// reads every column (GET with select=*).
func (c *Client) From(table string) Query {
	q := Query{c: c, target: table}
	if strings.TrimSpace(table) == "" {
		q.err = invalidQuery("From: empty table name")
		return q
	}
	q.params = c.paramsFor("/", table)
	return q
}

// Err returns the error the query carries, if any, including combinations
// that are only invalid together (MaxAffected on a read, StripNulls with
// CSV). Terminal calls return it before sending anything.
func (q Query) Err() error {
	switch {
	case q.err != nil:
		return q.err
	case q.c == nil || q.c.core == nil:
		return invalidQuery("query has no client: start it with Client.From or Client.RPC on a client from NewClient")
	case q.c.err != nil:
		return q.c.err
	case q.hasMaxAffected && q.kind != kindUpdate && q.kind != kindDelete && q.kind != kindRPC:
		return invalidQuery("MaxAffected applies only to Update, Delete and RPC, not to %s", q.kind)
	case q.stripNulls && q.accept == acceptCSV:
		return invalidQuery("StripNulls cannot be combined with CSV")
	}
	return nil
}

// paramsFor returns the empty parameter list of a query on target, which
// keeps the URL in front of the parameters (see [pgrest.Prefixed]).
func (c *Client) paramsFor(path, target string) pgrest.Params {
	if c == nil || c.core == nil {
		return pgrest.Params{}
	}
	return pgrest.Prefixed(c.core.restURL, path, url.PathEscape(target))
}

func invalidQuery(format string, args ...any) *Error {
	return &Error{Service: ServiceREST, Code: codeInvalidQuery, Message: fmt.Sprintf(format, args...)}
}

// fail returns q carrying err unless it already carries one.
func (q Query) fail(format string, args ...any) Query {
	if q.err == nil {
		q.err = invalidQuery(format, args...)
	}
	return q
}

// addParam appends a parameter; the receiver's list is never changed.
func (q Query) addParam(key, value string) Query {
	if q.err == nil {
		ps, err := q.params.Append(pgrest.Pair{Key: key, Value: value})
		q.keepParams(key, ps, err)
	}
	return q
}

// setParam replaces the value of key where it is (as URLSearchParams.set
// does) or appends it.
func (q Query) setParam(key, value string) Query {
	return q.setParts(key, value, "")
}

// setNum is setParam with a number.
func (q Query) setNum(key string, n int) Query {
	if q.err == nil {
		ps, err := q.params.Set(pgrest.Pair{Key: key, Num: int64(n), IsNum: true})
		q.keepParams(key, ps, err)
	}
	return q
}

// setParts is setParam with the value value+suffix.
func (q Query) setParts(key, value, suffix string) Query {
	if q.err == nil {
		ps, err := q.params.Set(pgrest.Pair{Key: key, Value: value, Suffix: suffix})
		q.keepParams(key, ps, err)
	}
	return q
}

// keepParams stores the list a parameter was added to, or the error for
// text PostgREST cannot read (invalid UTF-8, NUL).
func (q *Query) keepParams(key string, ps pgrest.Params, err error) {
	if err == nil {
		q.params = ps
		return
	}
	if inKey, cause := paramError(err); inKey {
		*q = q.fail("query parameter %q: %v", key, cause)
	} else {
		*q = q.fail("query parameter %q: value: %v", key, cause)
	}
}

// paramError splits an error of [pgrest.Params.Append] or Set into whether
// the key (rather than the value) was refused, and why.
func paramError(err error) (inKey bool, cause error) {
	if fe, ok := err.(*pgrest.FieldError); ok {
		return fe.InKey, fe.Err
	}
	return false, err
}

func (q Query) param(key string) (string, bool) {
	return q.params.Get(key)
}

// jsonKindName names the kind of a JSON value for errors, which must not
// quote the caller's data.
func jsonKindName(body []byte) string {
	switch pgrest.Kind(body) {
	case '[':
		return "array"
	case '{':
		return "object"
	case '"':
		return "string"
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case 0:
		return "nothing"
	}
	return "number"
}
