package localstack

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// builder collects bind arguments while SQL text is assembled. Values only
// ever reach PostgreSQL as arguments; identifiers are quoted.
type builder struct {
	args    []any
	aliases int // embedded resources rendered so far, for unique aliases
}

// arg binds v and returns its placeholder. Strings are sent in text format
// and typed by PostgreSQL from their context, like PostgREST's unknown-typed
// literals.
func (b *builder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func ident(parts ...string) string { return pgx.Identifier(parts).Sanitize() }

// col renders a column reference on relation rel.
func (b *builder) col(rel string, c colRef) string {
	s := ident(rel, c.name)
	for _, st := range c.path {
		if st.index {
			s += st.arrow + b.arg(st.key) + "::int"
		} else {
			s += st.arrow + b.arg(st.key) + "::text"
		}
	}
	if c.cast != "" {
		s = "(" + s + ")::" + c.cast
	}
	return s
}

func (b *builder) selectList(rel string, items []selectItem) string {
	var parts []string
	for _, it := range items {
		switch {
		case it.star:
			parts = append(parts, ident(rel)+".*")
		case it.embed != nil && it.embed.spread:
			for _, c := range b.spreadSQL(rel, it.embed) {
				parts = append(parts, c.expr+" AS "+ident(c.key))
			}
		case it.embed != nil:
			parts = append(parts, b.embedSQL(rel, it.embed)+" AS "+ident(it.alias))
		default:
			parts = append(parts, b.col(rel, it.col)+" AS "+ident(it.alias))
		}
	}
	return strings.Join(parts, ", ")
}

// where renders conds and extra conditions joined by AND; "" when there
// are none.
func (b *builder) where(rel string, conds []cond, extra ...string) string {
	if len(conds) == 0 && len(extra) == 0 {
		return ""
	}
	var parts []string
	if len(conds) > 0 {
		parts = append(parts, b.conj(rel, conds, " AND "))
	}
	return " WHERE " + strings.Join(append(parts, extra...), " AND ")
}

func (b *builder) conj(rel string, conds []cond, sep string) string {
	if len(conds) == 0 {
		if sep == " OR " {
			return "false"
		}
		return "true"
	}
	parts := make([]string, len(conds))
	for i, c := range conds {
		switch c := c.(type) {
		case *filter:
			parts[i] = b.filter(rel, c)
		case *logic:
			sep := " AND "
			if c.or {
				sep = " OR "
			}
			parts[i] = "(" + b.conj(rel, c.children, sep) + ")"
			if c.negate {
				parts[i] = "NOT " + parts[i]
			}
		}
	}
	return strings.Join(parts, sep)
}

var (
	simpleOps = map[string]string{
		"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=",
		"like": "LIKE", "ilike": "ILIKE", "match": "~", "imatch": "~*",
		"cs": "@>", "cd": "<@", "ov": "&&", "sl": "<<", "sr": ">>", "nxl": "&<", "nxr": "&>", "adj": "-|-",
		"isdistinct": "IS DISTINCT FROM",
	}
	ftsFuncs = map[string]string{"fts": "to_tsquery", "plfts": "plainto_tsquery", "phfts": "phraseto_tsquery", "wfts": "websearch_to_tsquery"}
	isValues = map[string]string{"null": "NULL", "not_null": "NOT NULL", "true": "TRUE", "false": "FALSE", "unknown": "UNKNOWN"}
)

func (b *builder) filter(rel string, f *filter) string {
	c := b.col(rel, f.col)
	var s string
	switch f.op {
	case "is":
		s = c + " IS " + isValues[f.value]
	case "in":
		if len(f.list) == 0 {
			s = "false"
			break
		}
		ph := make([]string, len(f.list))
		for i, v := range f.list {
			ph[i] = b.arg(v)
		}
		s = c + " IN (" + strings.Join(ph, ", ") + ")"
	case "fts", "plfts", "phfts", "wfts":
		if f.mod != "" {
			s = c + " @@ " + ftsFuncs[f.op] + "(" + b.arg(f.mod) + "::regconfig, " + b.arg(f.value) + ")"
		} else {
			s = c + " @@ " + ftsFuncs[f.op] + "(" + b.arg(f.value) + ")"
		}
	default:
		v := f.value
		if f.op == "like" || f.op == "ilike" {
			v = strings.ReplaceAll(v, "*", "%")
		}
		if f.mod == "any" || f.mod == "all" {
			s = c + " " + simpleOps[f.op] + " " + strings.ToUpper(f.mod) + "(" + b.arg(v) + ")"
		} else {
			s = c + " " + simpleOps[f.op] + " " + b.arg(v)
		}
	}
	if f.negate {
		s = "NOT (" + s + ")"
	}
	return s
}

func (b *builder) orderBy(rel string, items []orderItem) string {
	if len(items) == 0 {
		return ""
	}
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = b.col(rel, it.col)
		if it.desc {
			parts[i] += " DESC"
		}
		if it.nulls != "" {
			parts[i] += " " + it.nulls
		}
	}
	return " ORDER BY " + strings.Join(parts, ", ")
}

func (b *builder) limitOffset(limit *int64, offset int64) string {
	s := ""
	if limit != nil {
		s += " LIMIT " + b.arg(*limit)
	}
	if offset > 0 {
		s += " OFFSET " + b.arg(offset)
	}
	return s
}

// aggregate wraps a row source (a subquery aliased _t) into the statement
// that returns the response body and the number of rows.
func aggregate(m media, inner string) string {
	switch {
	case m.csv:
		return `SELECT coalesce((SELECT string_agg(k, ',') FROM json_object_keys(json_agg(_t) -> 0) AS k) || E'\n' ||
			string_agg(substr(_t::text, 2, length(_t::text) - 2), E'\n'), ''), count(*) FROM (` + inner + `) _t`
	case m.stripped:
		return `SELECT json_strip_nulls(coalesce(json_agg(_t), '[]'))::text, count(*) FROM (` + inner + `) _t`
	}
	return `SELECT coalesce(json_agg(_t), '[]')::text, count(*) FROM (` + inner + `) _t`
}
