package supabase

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
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
//     it is, even when it is not JSON; All, One and MaybeOne then report a
//     decoding error where supabase-js reports {message: body}.
//   - Select("  ") (only whitespace) sends select=* where supabase-js sends
//     an empty select.
//   - Match sends its filters in sorted column order (a Go map has no
//     order); PostgREST does not care about parameter order.

// CountMethod is how PostgREST counts rows for Response.Count.
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
// (Client.From) or a function call (Client.RPC) with its filters and
// modifiers. Nothing is sent until a terminal call: Query.Execute,
// Query.Count, All, One, MaybeOne or Rows.
//
// A Query is an immutable value. Every method returns a new Query and leaves
// its receiver unchanged, so a base query can be stored and branched from
// any number of goroutines at once. Credentials are not part of a query:
// they are read from the client's current session when it is sent.
//
// Invalid input (an empty column, an unknown operator, Range(10, 5), a
// value that cannot be encoded) makes the query carry an error matching
// ErrInvalidQuery; later methods keep the first error and terminal calls
// return it without sending anything. Query.Err reports it early.
//
// The zero Query has no client; its terminal calls return an error.
type Query struct {
	c      *Client
	err    error
	kind   queryKind
	target string // table or function name
	params []pgrest.Pair
	body   []byte // nil: no body

	selected       bool // Select called
	count          CountMethod
	head           bool
	rpcMethod      string // for kindRPC: GET, HEAD or POST
	rpcMinimal     bool   // HEAD with object arguments fell back to POST
	ignoreDups     bool
	missingDefault bool

	accept         acceptKind
	maybeSingle    bool
	stripNulls     bool
	explain        *ExplainOptions // never mutated once set
	rollback       bool
	hasMaxAffected bool
	maxAffected    int

	headers []headerPair
	retry   bool
}

// From starts a query on the table or view named table in the client's
// schema. Without a further Select, Insert, Upsert, Update or Delete it
// reads every column (GET with select=*).
func (c *Client) From(table string) Query {
	q := Query{c: c, target: table}
	if strings.TrimSpace(table) == "" {
		q.err = invalidQuery("From: empty table name")
	}
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

// addParam appends a parameter; the receiver's slice is never written to.
func (q Query) addParam(key, value string) Query {
	q.params = append(slices.Clip(q.params), pgrest.Pair{Key: key, Value: value})
	return q
}

// setParam replaces the value of key where it is (as URLSearchParams.set
// does) or appends it.
func (q Query) setParam(key, value string) Query {
	for i, p := range q.params {
		if p.Key == key {
			ps := slices.Clone(q.params)
			ps[i].Value = value
			q.params = ps
			return q
		}
	}
	return q.addParam(key, value)
}

func (q Query) param(key string) (string, bool) {
	for _, p := range q.params {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// ---- options ----

// SelectOption configures Query.Select.
type SelectOption interface{ applySelect(*selectOptions) }

// WriteOption configures Query.Insert, Query.Upsert, Query.Update and
// Query.Delete.
type WriteOption interface{ applyWrite(*writeOptions) }

// RPCOption configures Client.RPC.
type RPCOption interface{ applyRPC(*rpcOptions) }

type selectOptions struct {
	count CountMethod
	head  bool
}

type writeOptions struct {
	count            CountMethod
	defaultToNull    *bool
	onConflict       *string
	ignoreDuplicates bool
}

type rpcOptions struct {
	count CountMethod
	head  bool
	get   bool
}

// CountOption asks for the number of matching rows in Response.Count; made
// by Count. It is a SelectOption, a WriteOption and an RPCOption.
type CountOption struct{ method CountMethod }

// Count asks PostgREST to count the rows the request matches, with method
// (CountExact, CountPlanned or CountEstimated), and report the total in
// Response.Count (from the Content-Range header).
func Count(method CountMethod) CountOption { return CountOption{method} }

func (o CountOption) applySelect(s *selectOptions) { s.count = o.method }
func (o CountOption) applyWrite(w *writeOptions)   { w.count = o.method }
func (o CountOption) applyRPC(r *rpcOptions)       { r.count = o.method }

// HeadOption sends a HEAD request: no rows, only the status and, with
// Count, the count. Made by Head; a SelectOption and an RPCOption.
type HeadOption struct{}

// Head makes Select (or RPC) send HEAD instead of GET, so no rows are
// returned; combine with Count to count rows cheaply.
func Head() HeadOption { return HeadOption{} }

func (HeadOption) applySelect(s *selectOptions) { s.head = true }
func (HeadOption) applyRPC(r *rpcOptions)       { r.head = true }

type rpcOptionFunc func(*rpcOptions)

func (f rpcOptionFunc) applyRPC(r *rpcOptions) { f(r) }

// RPCGet calls the function with GET, its arguments in the query string, for
// read-only (STABLE or IMMUTABLE) functions. Arrays are sent as Postgres
// array literals ({a,b}), null as null.
func RPCGet() RPCOption { return rpcOptionFunc(func(r *rpcOptions) { r.get = true }) }

type writeOptionFunc func(*writeOptions)

func (f writeOptionFunc) applyWrite(w *writeOptions) { f(w) }

// DefaultToNull says how Insert and Upsert fill columns missing from some of
// the rows: true (the default) sends null, false lets Postgres use the
// column default (Prefer: missing=default).
func DefaultToNull(b bool) WriteOption {
	return writeOptionFunc(func(w *writeOptions) { w.defaultToNull = &b })
}

// OnConflict names the columns (comma-separated) of the unique constraint
// Upsert resolves conflicts on (on_conflict=...). Default: the primary key.
func OnConflict(columns string) WriteOption {
	return writeOptionFunc(func(w *writeOptions) { w.onConflict = &columns })
}

// IgnoreDuplicates makes Upsert skip rows that conflict instead of merging
// them (Prefer: resolution=ignore-duplicates).
func IgnoreDuplicates() WriteOption {
	return writeOptionFunc(func(w *writeOptions) { w.ignoreDuplicates = true })
}

func validCount(m CountMethod) bool {
	switch m {
	case "", CountExact, CountPlanned, CountEstimated:
		return true
	}
	return false
}

// ---- select and writes ----

// Select chooses the columns to return, in PostgREST's select syntax
// (renames "alias:col", embedded resources "author:profiles(id,name)",
// JSON paths "data->>key", casts "price::text", aggregates "amount.sum()").
// Whitespace outside double quotes is removed; "" means "*".
//
// On a read, the options are Count and Head. After Insert, Upsert, Update,
// Delete or on an RPC query, Select asks for the affected rows (or the
// function's result set) back (Prefer: return=representation); Count is
// accepted there too.
func (q Query) Select(columns string, opts ...SelectOption) Query {
	if q.err != nil {
		return q
	}
	var o selectOptions
	for _, opt := range opts {
		if opt != nil {
			opt.applySelect(&o)
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
		q.count = o.count
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
		q.count = o.count
	}
	q.missingDefault = o.defaultToNull != nil && !*o.defaultToNull
	return q, o
}

// Insert adds rows: values is one row (a struct or map) or several (a slice
// of them), encoded with encoding/json. For several rows the union of their
// keys is sent as columns="a","b" in first-seen order, so rows may omit
// keys (see DefaultToNull). Struct fields keep their declaration order; map
// keys are sorted by encoding/json, and a json.RawMessage keeps its order.
//
// Options: Count, DefaultToNull. Rows are returned only if Select is added.
func (q Query) Insert(values any, opts ...WriteOption) Query {
	q, _ = q.startWrite(kindInsert, opts)
	return q.withRows("Insert", values)
}

// Upsert inserts rows, or updates those that conflict with an existing row
// on the primary key or the OnConflict columns (Prefer:
// resolution=merge-duplicates; IgnoreDuplicates keeps the existing rows
// instead). values is as for Insert.
//
// Options: OnConflict, IgnoreDuplicates, Count, DefaultToNull.
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
	q.body = body
	return q
}

// Update sets the given columns on every row the filters match: values is a
// struct or map encoded with encoding/json (use a map or omitempty to send
// only the columns to change). Without a filter PostgREST updates every row
// the role may update.
//
// Option: Count. Rows are returned only if Select is added.
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
	q.body = body
	return q
}

// Delete removes every row the filters match. Without a filter PostgREST
// deletes every row the role may delete.
//
// Option: Count. Rows are returned only if Select is added.
func (q Query) Delete(opts ...WriteOption) Query {
	q, _ = q.startWrite(kindDelete, opts)
	return q
}

// RPC starts a call of the Postgres function fn in the client's schema.
// args (a struct, a map, a json.RawMessage or nil for none) is sent as the
// JSON body of a POST. With RPCGet the call is a GET and the arguments go
// in the query string; with Head it is a HEAD (no result body) unless an
// argument is an object, which cannot be sent in a query string: then it is
// a POST with Prefer: return=minimal, as in supabase-js.
//
// The result can be filtered, ordered and paginated like a table when the
// function returns a set of rows; Select then picks columns.
//
// Options: RPCGet, Head, Count.
func (c *Client) RPC(fn string, args any, opts ...RPCOption) Query {
	q := Query{c: c, kind: kindRPC, target: fn, rpcMethod: http.MethodPost}
	if strings.TrimSpace(fn) == "" {
		return q.fail("RPC: empty function name")
	}
	var o rpcOptions
	for _, opt := range opts {
		if opt != nil {
			opt.applyRPC(&o)
		}
	}
	if !validCount(o.count) {
		return q.fail("RPC: unknown count method %q", o.count)
	}
	q.count = o.count
	body := []byte("{}")
	if args != nil {
		b, err := marshalJSON(args)
		if err != nil {
			return q.fail("RPC: cannot encode args: %v", err)
		}
		if string(b) != "null" {
			body = b
		}
	}
	if !o.get && !o.head {
		q.body = body
		return q
	}
	if pgrest.Kind(body) != '{' {
		return q.fail("RPC: arguments sent in the query string must be an object, got JSON %s", jsonKindName(body))
	}
	members, err := pgrest.ObjectMembers(body)
	if err != nil {
		return q.fail("RPC: cannot read args: %v", err)
	}
	params := make([]pgrest.Pair, 0, len(members))
	for _, m := range members {
		text, hasObject, err := pgrest.ParamText(m.Value)
		if err != nil {
			return q.fail("RPC: argument %q: %v", m.Key, err)
		}
		if hasObject && o.head {
			// An object cannot travel in a query string: POST it and ask
			// for no body back, as supabase-js does.
			q.rpcMinimal = true
			q.body = body
			return q
		}
		params = append(params, pgrest.Pair{Key: m.Key, Value: text})
	}
	q.params = params
	if o.head {
		q.rpcMethod = http.MethodHead
	} else {
		q.rpcMethod = http.MethodGet
	}
	return q
}

// ---- transforms ----

// FilterOption configures Query.Or.
type FilterOption interface{ applyFilter(*refOptions) }

// OrderOption configures Query.Order.
type OrderOption interface{ applyOrder(*orderOptions) }

// RangeOption configures Query.Limit and Query.Range.
type RangeOption interface{ applyRange(*refOptions) }

type refOptions struct{ table string }

type orderOptions struct {
	refOptions
	descending bool
	nulls      string // "", "nullsfirst", "nullslast"
}

// ReferencedTableOption applies a filter or modifier to an embedded
// resource instead of the top-level rows; made by ReferencedTable. It is a
// FilterOption, an OrderOption and a RangeOption.
type ReferencedTableOption struct{ table string }

// ReferencedTable applies Or, Order, Limit or Range to the embedded
// resource table (as named in Select, alias included) instead of the
// top-level rows: the parameter becomes "<table>.or", "<table>.order",
// "<table>.limit", "<table>.offset".
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

type orderOptionFunc func(*orderOptions)

func (f orderOptionFunc) applyOrder(o *orderOptions) { f(o) }

// Ascending sorts from smallest to largest (the default).
func Ascending() OrderOption { return orderOptionFunc(func(o *orderOptions) { o.descending = false }) }

// Descending sorts from largest to smallest.
func Descending() OrderOption { return orderOptionFunc(func(o *orderOptions) { o.descending = true }) }

// NullsFirst puts nulls before other values.
func NullsFirst() OrderOption {
	return orderOptionFunc(func(o *orderOptions) { o.nulls = "nullsfirst" })
}

// NullsLast puts nulls after other values.
func NullsLast() OrderOption { return orderOptionFunc(func(o *orderOptions) { o.nulls = "nullslast" }) }

// Order sorts the rows by column (ascending unless Descending). Calling it
// again adds a further sort key: Order("a", Descending()).Order("b") sends
// order=a.desc,b.asc. Options: Ascending, Descending, NullsFirst, NullsLast,
// ReferencedTable.
func (q Query) Order(column string, opts ...OrderOption) Query {
	if q.err != nil {
		return q
	}
	if strings.TrimSpace(column) == "" {
		return q.fail("Order: empty column name")
	}
	var o orderOptions
	for _, opt := range opts {
		if opt != nil {
			opt.applyOrder(&o)
		}
	}
	v := column + ".asc"
	if o.descending {
		v = column + ".desc"
	}
	if o.nulls != "" {
		v += "." + o.nulls
	}
	key := o.key("order")
	if prev, ok := q.param(key); ok && prev != "" {
		v = prev + "," + v
	}
	return q.setParam(key, v)
}

func rangeOpts(opts []RangeOption) refOptions {
	var r refOptions
	for _, opt := range opts {
		if opt != nil {
			opt.applyRange(&r)
		}
	}
	return r
}

// Limit returns at most n rows (limit=n). Option: ReferencedTable.
func (q Query) Limit(n int, opts ...RangeOption) Query {
	if q.err != nil {
		return q
	}
	if n < 0 {
		return q.fail("Limit: negative limit %d", n)
	}
	return q.setParam(rangeOpts(opts).key("limit"), strconv.Itoa(n))
}

// Range returns the rows from index from to index to, both inclusive and
// counted from 0 (offset=from, limit=to-from+1). It replaces an earlier
// Limit. Option: ReferencedTable.
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
	q = q.setParam(r.key("offset"), strconv.Itoa(from))
	return q.setParam(r.key("limit"), strconv.Itoa(to-from+1))
}

// Single asks PostgREST for exactly one row as a JSON object (Accept:
// application/vnd.pgrst.object+json). PostgREST answers 406 with code
// PGRST116 when zero or several rows match; the error matches ErrNotFound
// or ErrTooManyRows.
func (q Query) Single() Query {
	q.accept = acceptObject
	return q
}

// MaybeSingle expects zero or one row. The request is unchanged (an
// array); the check is made on the response, as supabase-js does: Execute
// returns the row as a JSON object, or null for no row, and an error
// matching ErrTooManyRows (PGRST116, status 406) for more than one.
func (q Query) MaybeSingle() Query {
	q.maybeSingle = true
	return q
}

// CSV asks for the rows as CSV (Accept: text/csv); Response.Body is the CSV
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

// ExplainOptions configures Query.Explain.
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
// answered in the media type chosen by Single, CSV or GeoJSON.
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
	q.explain = &o
	return q
}

// Rollback runs the request in a transaction that is rolled back (Prefer:
// tx=rollback): a write reports its result without changing anything.
// PostgREST must allow it (db-tx-end).
func (q Query) Rollback() Query {
	q.rollback = true
	return q
}

// MaxAffected makes an Update, Delete or RPC fail, changing nothing, when
// it would affect more than n rows (Prefer: handling=strict,
// max-affected=n). Needs PostgREST 13 or later.
func (q Query) MaxAffected(n int) Query {
	if q.err != nil {
		return q
	}
	if n < 0 {
		return q.fail("MaxAffected: negative count %d", n)
	}
	q.hasMaxAffected = true
	q.maxAffected = n
	return q
}

// StripNulls asks PostgREST to leave null-valued keys out of the returned
// objects (Accept: application/vnd.pgrst.array+json;nulls=stripped, or the
// object variant with Single). It cannot be combined with CSV.
func (q Query) StripNulls() Query {
	q.stripNulls = true
	return q
}

// Header sets an HTTP header on this query's request only. It is applied
// after the headers the query computes (Accept, Prefer, ...), so it
// replaces them; headers set with WithHeaders on the client still take
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
	q.headers = append(slices.Clip(q.headers), headerPair{http.CanonicalHeaderKey(name), value})
	return q
}

// Retry allows the request to be retried after network errors and 503 or
// 520 answers, per the client's RetryPolicy. Reads (GET, HEAD) are always
// retryable; writes only with Retry, since a write that reached the server
// may be applied twice.
func (q Query) Retry() Query {
	q.retry = true
	return q
}

// ---- rendering ----

func (q Query) method() string {
	switch q.kind {
	case kindInsert, kindUpsert:
		return http.MethodPost
	case kindUpdate:
		return http.MethodPatch
	case kindDelete:
		return http.MethodDelete
	case kindRPC:
		return q.rpcMethod
	}
	if q.head {
		return http.MethodHead
	}
	return http.MethodGet
}

// build renders q into the request the transport sends.
func (q Query) build() (*apiRequest, error) {
	if err := q.Err(); err != nil {
		return nil, err
	}
	method := q.method()

	var u strings.Builder
	u.WriteString(q.c.core.restURL)
	if q.kind == kindRPC {
		u.WriteString("/rpc")
	}
	u.WriteByte('/')
	u.WriteString(url.PathEscape(q.target))
	params := q.params
	if q.kind == kindRead && !q.selected {
		params = append([]pgrest.Pair{{Key: "select", Value: "*"}}, params...)
	}
	if len(params) > 0 {
		u.WriteByte('?')
		u.WriteString(pgrest.EncodeQuery(params))
	}

	h := make(http.Header, 6)
	if accept := q.acceptHeader(); accept != "" {
		h.Set("Accept", accept)
	}
	if q.c.schema != "" {
		if method == http.MethodGet || method == http.MethodHead {
			h.Set("Accept-Profile", q.c.schema)
		} else {
			h.Set("Content-Profile", q.c.schema)
		}
	}
	// A request without a body gets no Content-Type (supabase-js sends one
	// on DELETE too; a media type for no content is meaningless).
	if q.body != nil {
		h.Set("Content-Type", mediaJSON)
	}
	if prefer := q.preferHeader(); prefer != "" {
		h.Set("Prefer", prefer)
	}
	for _, hp := range q.headers {
		h[hp.name] = []string{hp.value}
	}
	return &apiRequest{
		service: ServiceREST,
		method:  method,
		url:     u.String(),
		header:  h,
		body:    q.body,
		retry:   method == http.MethodGet || method == http.MethodHead || q.retry,
	}, nil
}

func (q Query) acceptHeader() string {
	var accept string
	switch q.accept {
	case acceptObject:
		accept = mediaObject
	case acceptCSV:
		accept = mediaCSV
	case acceptGeoJSON:
		accept = mediaGeoJSON
	}
	if e := q.explain; e != nil {
		var opts []string
		for _, o := range []struct {
			on   bool
			name string
		}{{e.Analyze, "analyze"}, {e.Verbose, "verbose"}, {e.Settings, "settings"}, {e.Buffers, "buffers"}, {e.WAL, "wal"}} {
			if o.on {
				opts = append(opts, o.name)
			}
		}
		forType := accept
		if forType == "" {
			forType = mediaJSON
		}
		return "application/vnd.pgrst.plan+" + e.Format + `; for="` + forType + `"; options=` + strings.Join(opts, "|") + ";"
	}
	if q.stripNulls {
		switch q.accept {
		case acceptDefault:
			return mediaArrayNulls
		case acceptObject:
			return mediaObject + ";nulls=stripped"
		}
	}
	return accept
}

func (q Query) preferHeader() string {
	var p []string
	if q.kind == kindUpsert {
		if q.ignoreDups {
			p = append(p, "resolution=ignore-duplicates")
		} else {
			p = append(p, "resolution=merge-duplicates")
		}
	}
	if q.count != "" {
		p = append(p, "count="+string(q.count))
	}
	if q.missingDefault {
		p = append(p, "missing=default")
	}
	switch {
	case q.rpcMinimal:
		p = append(p, "return=minimal")
	case q.selected && q.kind != kindRead:
		p = append(p, "return=representation")
	}
	if q.rollback {
		p = append(p, "tx=rollback")
	}
	if q.hasMaxAffected {
		p = append(p, "handling=strict", "max-affected="+strconv.Itoa(q.maxAffected))
	}
	return strings.Join(p, ", ")
}

// RequestPreview is the request a query would send, for tests, logs and
// examples. Header holds the query's headers and the client's WithHeaders
// headers, but never apikey, Authorization or X-Client-Info, which are added
// when the request is sent.
type RequestPreview struct {
	Method string
	URL    string // absolute, with the query string
	Header http.Header
	Body   []byte // nil when the request has no body
}

// Preview returns the request q would send, without sending it. It returns
// the error the query carries, if any.
func (q Query) Preview() (RequestPreview, error) {
	r, err := q.build()
	if err != nil {
		return RequestPreview{}, err
	}
	h := r.header
	for k, vs := range q.c.core.headers {
		h[k] = slices.Clone(vs)
	}
	for _, k := range []string{"Authorization", "Apikey", "X-Client-Info"} {
		h.Del(k)
	}
	return RequestPreview{Method: r.method, URL: r.url, Header: h, Body: slices.Clone(r.body)}, nil
}

// String formats the preview as the request line, one "Name: value" line
// per header in sorted order, and the body after a blank line.
func (p RequestPreview) String() string {
	var b strings.Builder
	b.WriteString(p.Method + " " + p.URL + "\n")
	keys := make([]string, 0, len(p.Header))
	for k := range p.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range p.Header[k] {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	if p.Body != nil {
		b.WriteString("\n")
		b.Write(p.Body)
		b.WriteString("\n")
	}
	return b.String()
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
