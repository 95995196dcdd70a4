package supabase

import (
	"math"
	"net/http"
	"slices"
	"strings"
)

// FilterOption configures [Query.Or].
type FilterOption interface{ applyFilter(*refOptions) }

// OrderOption configures [Query.Order].
type OrderOption interface{ applyOrder(*orderOptions) }

// RangeOption configures [Query.Limit] and [Query.Range].
type RangeOption interface{ applyRange(*refOptions) }

type refOptions struct{ table string }

type orderOptions struct {
	refOptions
	descending bool
	nulls      string // "", "nullsfirst", "nullslast"
}

// ReferencedTableOption applies a filter or modifier to an embedded
// resource instead of the top-level rows; made by [ReferencedTable]. It is a
// [FilterOption], an [OrderOption] and a [RangeOption].
type ReferencedTableOption struct{ table string }

// ReferencedTable applies [Query.Or], [Query.Order], [Query.Limit] or
// [Query.Range] to the embedded resource table (as named in [Query.Select],
// alias included) instead of the top-level rows: the parameter becomes
// "<table>.or", "<table>.order", "<table>.limit", "<table>.offset".
func ReferencedTable(table string) ReferencedTableOption { return ReferencedTableOption{table} }

func (o ReferencedTableOption) applyFilter(r *refOptions) { r.table = o.table }
func (o ReferencedTableOption) applyOrder(r *orderOptions) {
	r.table = o.table
}
func (o ReferencedTableOption) applyRange(r *refOptions) { r.table = o.table }

func (r refOptions) key(name string) string {
	if r.table == "" {
		return name
	}
	return r.table + "." + name
}

// orderFlag is an [OrderOption] of its own ([Ascending], [Descending],
// [NullsFirst], [NullsLast]): a small value that [Query.Order] applies
// without allocating.
type orderFlag uint8

const (
	orderAscending orderFlag = iota + 1
	orderDescending
	orderNullsFirst
	orderNullsLast
)

func (f orderFlag) applyOrder(o *orderOptions) {
	switch f {
	case orderAscending:
		o.descending = false
	case orderDescending:
		o.descending = true
	case orderNullsFirst:
		o.nulls = "nullsfirst"
	case orderNullsLast:
		o.nulls = "nullslast"
	}
}

// Ascending sorts from smallest to largest (the default).
func Ascending() OrderOption { return orderAscending }

// Descending sorts from largest to smallest.
func Descending() OrderOption { return orderDescending }

// NullsFirst puts nulls before other values.
func NullsFirst() OrderOption { return orderNullsFirst }

// NullsLast puts nulls after other values.
func NullsLast() OrderOption { return orderNullsLast }

// orderSuffix is what follows the column in an order parameter.
func orderSuffix(o orderOptions) string {
	dir := ".asc"
	if o.descending {
		dir = ".desc"
	}
	switch o.nulls {
	case "nullsfirst":
		if o.descending {
			return ".desc.nullsfirst"
		}
		return ".asc.nullsfirst"
	case "nullslast":
		if o.descending {
			return ".desc.nullslast"
		}
		return ".asc.nullslast"
	}
	return dir
}

// Order sorts the rows by column (ascending unless Descending). Calling it
// again adds a further sort key: Order("a", Descending()).Order("b") sends
// order=a.desc,b.asc. Options: [Ascending], [Descending], [NullsFirst],
// [NullsLast], [ReferencedTable].
func (q Query) Order(column string, opts ...OrderOption) Query {
	if q.err != nil {
		return q
	}
	if strings.TrimSpace(column) == "" {
		return q.fail("Order: empty column name")
	}
	var o orderOptions
	for _, opt := range opts {
		// The options of this package are applied directly: passing &o to
		// an interface method would move o to the heap on every call.
		switch x := opt.(type) {
		case nil:
		case orderFlag:
			x.applyOrder(&o)
		case ReferencedTableOption:
			o.table = x.table
		default:
			p := o
			opt.applyOrder(&p)
			o = p
		}
	}
	suffix := orderSuffix(o)
	key := o.key("order")
	if prev, ok := q.param(key); ok && prev != "" {
		return q.setParam(key, prev+","+column+suffix)
	}
	return q.setParts(key, column, suffix)
}

func rangeOpts(opts []RangeOption) refOptions {
	var r refOptions
	for _, opt := range opts {
		switch x := opt.(type) { // as in Order: no interface call on &r
		case nil:
		case ReferencedTableOption:
			r.table = x.table
		default:
			p := r
			opt.applyRange(&p)
			r = p
		}
	}
	return r
}

// Limit returns at most n rows (limit=n). Option: [ReferencedTable].
func (q Query) Limit(n int, opts ...RangeOption) Query {
	if q.err != nil {
		return q
	}
	if n < 0 {
		return q.fail("Limit: negative limit %d", n)
	}
	return q.setNum(rangeOpts(opts).key("limit"), n)
}

// Range returns the rows from index from to index to, both inclusive and
// counted from 0 (offset=from, limit=to-from+1). It replaces an earlier
// [Query.Limit]. Option: [ReferencedTable].
func (q Query) Range(from, to int, opts ...RangeOption) Query {
	if q.err != nil {
		return q
	}
	if from < 0 || to < from {
		return q.fail("Range(%d, %d): need 0 <= from <= to", from, to)
	}
	if to-from == math.MaxInt { // to-from+1 would overflow
		return q.fail("Range(%d, %d): range too large", from, to)
	}
	r := rangeOpts(opts)
	q = q.setNum(r.key("offset"), from)
	return q.setNum(r.key("limit"), to-from+1)
}

// Single asks PostgREST for exactly one row as a JSON object (Accept:
// application/vnd.pgrst.object+json). PostgREST answers 406 with code
// PGRST116 when zero or several rows match; the error matches [ErrNotFound]
// or [ErrTooManyRows].
func (q Query) Single() Query {
	q.accept = acceptObject
	return q
}

// MaybeSingle expects zero or one row. The request is unchanged (an array);
// the check is made on the response, as supabase-js does: [Query.Execute]
// returns the row as a JSON object, or null for no row, and an error matching
// [ErrTooManyRows] (PGRST116, status 406) for more than one. On a write that
// check comes after the write has committed; use [MaybeOne], which has
// PostgREST check and roll back.
func (q Query) MaybeSingle() Query {
	q.maybeSingle = true
	return q
}

// CSV asks for the rows as CSV (Accept: text/csv); [Response.Body] is the CSV
// text.
func (q Query) CSV() Query {
	q.accept = acceptCSV
	return q
}

// GeoJSON asks for the rows as a GeoJSON FeatureCollection (Accept:
// application/geo+json), for tables with a PostGIS geometry column.
func (q Query) GeoJSON() Query {
	q.accept = acceptGeoJSON
	return q
}

// ExplainOptions configures [Query.Explain].
type ExplainOptions struct {
	Analyze  bool   // run the query and report real timings
	Verbose  bool   // include output columns and more detail
	Settings bool   // include non-default planner settings
	Buffers  bool   // include buffer usage (with Analyze)
	WAL      bool   // include WAL usage (with Analyze)
	Format   string // "text" (default) or "json"
}

// Explain returns the query plan instead of the rows (Accept:
// application/vnd.pgrst.plan+<format>). PostgREST only allows it when the
// db-plan-enabled setting is on. The plan describes the query as it would be
// answered in the media type chosen by [Query.Single], [Query.CSV] or
// [Query.GeoJSON].
func (q Query) Explain(o ExplainOptions) Query {
	if q.err != nil {
		return q
	}
	switch o.Format {
	case "":
		o.Format = "text"
	case "text", "json":
	default:
		return q.fail("Explain: format must be \"text\" or \"json\", got %q", o.Format)
	}
	q.editExtras().explain = &o
	return q
}

// Rollback runs the request in a transaction that is rolled back (Prefer:
// tx=rollback): a write reports its result without changing anything.
// PostgREST must allow it (db-tx-end).
func (q Query) Rollback() Query {
	q.rollback = true
	return q
}

// MaxAffected makes [Query.Update], [Query.Delete] or [Client.RPC] fail,
// changing nothing, when it would affect more than n rows (Prefer:
// handling=strict, max-affected=n). Needs PostgREST 13 or later.
func (q Query) MaxAffected(n int) Query {
	if q.err != nil {
		return q
	}
	if n < 0 {
		return q.fail("MaxAffected: negative count %d", n)
	}
	q.hasMaxAffected = true
	q.editExtras().maxAffected = n
	return q
}

// StripNulls asks PostgREST to leave null-valued keys out of the returned
// objects (Accept: application/vnd.pgrst.array+json;nulls=stripped, or the
// object variant with [Query.Single]). It cannot be combined with [Query.CSV].
func (q Query) StripNulls() Query {
	q.stripNulls = true
	return q
}

// Header sets an HTTP header on this query's request only. It is applied
// after the headers the query computes (Accept, Prefer, ...), so it
// replaces them; headers set with [WithHeaders] on the client still take
// precedence. Setting Authorization or apikey here replaces the client's
// credentials for this request.
func (q Query) Header(name, value string) Query {
	if q.err != nil {
		return q
	}
	if !validHeaderName(name) {
		return q.fail("Header: invalid header name %q", name)
	}
	if !validHeaderValue(value) {
		return q.fail("Header: value of %q has a control character", name)
	}
	x := q.editExtras()
	x.headers = append(slices.Clip(x.headers), headerPair{http.CanonicalHeaderKey(name), value})
	return q
}

// Retry allows the request to be retried after network errors and 503 or
// 520 answers, per the client's [RetryPolicy]. Reads (GET, HEAD) are always
// retryable; writes only with Retry, since a write that reached the server
// may be applied twice.
func (q Query) Retry() Query {
	q.retry = true
	return q
}
