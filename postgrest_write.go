package supabase

import (
	"strings"

	"github.com/supabase-go/supabase/internal/pgrest"
)

// Select chooses the columns to return, in PostgREST's select syntax
// (renames "alias:col", embedded resources "author:profiles(id,name)",
// JSON paths "data->>key", casts "price::text", aggregates "amount.sum()").
// Whitespace outside double quotes is removed; "" means "*".
//
// On a read, the options are a [CountMethod] ([CountExact], ...) and [Head].
// After [Query.Insert], [Query.Upsert], [Query.Update], [Query.Delete] or on
// a [Client.RPC] query, Select asks for the affected rows (or the function's
// result set) back (Prefer: return=representation); a CountMethod is accepted
// there too.
func (q Query) Select(columns string, opts ...SelectOption) Query {
	if q.err != nil {
		return q
	}
	var o selectOptions
	for _, opt := range opts {
		// This package's options are applied directly: &o passed to an
		// interface method would move o to the heap on every call.
		switch x := opt.(type) {
		case nil:
		case CountMethod:
			x.applySelect(&o)
		case HeadOption:
			x.applySelect(&o)
		default:
			p := o
			opt.applySelect(&p)
			o = p
		}
	}
	if !validCount(o.count) {
		return q.fail("Select: unknown count method %q", o.count)
	}
	if o.head && q.kind != kindRead {
		return q.fail("Select: Head only applies to reads, not to %s", q.kind)
	}
	q = q.setParam("select", pgrest.CleanSelect(columns))
	q.selected = true
	if o.count != "" {
		q.editExtras().count = o.count
	}
	if o.head {
		q.head = true
	}
	return q
}

func (q Query) startWrite(kind queryKind, opts []WriteOption) (Query, writeOptions) {
	var o writeOptions
	if q.err != nil {
		return q, o
	}
	if q.kind != kindRead {
		return q.fail("%s: query is already a %s", kind, q.kind), o
	}
	if q.head {
		return q.fail("%s: Head only applies to reads", kind), o
	}
	for _, opt := range opts {
		if opt != nil {
			opt.applyWrite(&o)
		}
	}
	switch {
	case !validCount(o.count):
		return q.fail("%s: unknown count method %q", kind, o.count), o
	case kind != kindUpsert && (o.onConflict != nil || o.ignoreDuplicates):
		return q.fail("%s: OnConflict and IgnoreDuplicates apply only to Upsert", kind), o
	case (kind == kindUpdate || kind == kindDelete) && o.defaultToNull != nil:
		return q.fail("%s: DefaultToNull applies only to Insert and Upsert", kind), o
	}
	q.kind = kind
	if o.count != "" {
		q.editExtras().count = o.count
	}
	q.missingDefault = o.defaultToNull != nil && !*o.defaultToNull
	return q, o
}

// Insert adds rows: values is one row (a struct or map) or several (a slice
// of them), encoded with encoding/json. For several rows the union of their
// keys is sent as columns="a","b" in first-seen order, so rows may omit
// keys (see [DefaultToNull]). Struct fields keep their declaration order; map
// keys are sorted by encoding/json, and a [json.RawMessage] keeps its order.
//
// Options: a [CountMethod], [DefaultToNull]. Rows are returned only if
// [Query.Select] is added.
func (q Query) Insert(values any, opts ...WriteOption) Query {
	q, _ = q.startWrite(kindInsert, opts)
	return q.withRows("Insert", values)
}

// Upsert inserts rows, or updates those that conflict with an existing row
// on the primary key or the [OnConflict] columns (Prefer:
// resolution=merge-duplicates; [IgnoreDuplicates] keeps the existing rows
// instead). values is as for [Query.Insert].
//
// Options: [OnConflict], [IgnoreDuplicates], a [CountMethod], [DefaultToNull].
func (q Query) Upsert(values any, opts ...WriteOption) Query {
	q, o := q.startWrite(kindUpsert, opts)
	if q.err != nil {
		return q
	}
	q.ignoreDups = o.ignoreDuplicates
	if o.onConflict != nil {
		q = q.setParam("on_conflict", *o.onConflict)
	}
	return q.withRows("Upsert", values)
}

func (q Query) withRows(method string, values any) Query {
	if q.err != nil {
		return q
	}
	body, err := marshalJSON(values)
	if err != nil {
		return q.fail("%s: cannot encode values: %v", method, err)
	}
	switch pgrest.Kind(body) {
	case '{':
	case '[':
		cols, err := pgrest.ArrayObjectKeys(body)
		if err != nil {
			return q.fail("%s: values must be an object or a list of objects: %v", method, err)
		}
		if len(cols) > 0 {
			var b strings.Builder
			for i, c := range cols {
				// PostgREST's columns list has no escape for a quote inside a
				// quoted name; such a key cannot be sent correctly.
				if strings.ContainsAny(c, `"\`) {
					return q.fail("%s: column name %q contains a quote or backslash", method, c)
				}
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(`"` + c + `"`)
			}
			q = q.setParam("columns", b.String())
		}
	default:
		return q.fail("%s: values must be an object or a list of objects, got JSON %s", method, jsonKindName(body))
	}
	q.editExtras().body = body
	return q
}

// Update sets the given columns on every row the filters match: values is a
// struct or map encoded with encoding/json (use a map or omitempty to send
// only the columns to change). Without a filter PostgREST updates every row
// the role may update.
//
// Option: a [CountMethod]. Rows are returned only if [Query.Select] is added.
func (q Query) Update(values any, opts ...WriteOption) Query {
	q, _ = q.startWrite(kindUpdate, opts)
	if q.err != nil {
		return q
	}
	body, err := marshalJSON(values)
	if err != nil {
		return q.fail("Update: cannot encode values: %v", err)
	}
	if pgrest.Kind(body) != '{' {
		return q.fail("Update: values must be an object, got JSON %s", jsonKindName(body))
	}
	q.editExtras().body = body
	return q
}

// Delete removes every row the filters match. Without a filter PostgREST
// deletes every row the role may delete.
//
// Option: a [CountMethod]. Rows are returned only if [Query.Select] is added.
func (q Query) Delete(opts ...WriteOption) Query {
	q, _ = q.startWrite(kindDelete, opts)
	return q
}
