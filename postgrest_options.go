package supabase

// SelectOption configures [Query.Select].
type SelectOption interface{ applySelect(*selectOptions) }

// WriteOption configures [Query.Insert], [Query.Upsert], [Query.Update] and
// [Query.Delete].
type WriteOption interface{ applyWrite(*writeOptions) }

// RPCOption configures [Client.RPC].
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

// A CountMethod is itself an option (a [SelectOption], a [WriteOption] and
// an [RPCOption]): Select("*", [CountExact]) asks PostgREST to count the rows
// the request matches and report the total in [Response.Count], from the
// Content-Range header (Prefer: count=exact).
func (m CountMethod) applySelect(s *selectOptions) { s.count = m }
func (m CountMethod) applyWrite(w *writeOptions)   { w.count = m }
func (m CountMethod) applyRPC(r *rpcOptions)       { r.count = m }

// HeadOption sends a HEAD request: no rows, only the status and, with a
// [CountMethod], the count. Made by [Head]; a [SelectOption] and an
// [RPCOption].
type HeadOption struct{}

// Head makes [Query.Select] (or [Client.RPC]) send HEAD instead of GET, so no
// rows are returned; combine with a [CountMethod]
// (Select("*", [CountExact], Head())) to count rows cheaply, or use
// [Query.Count].
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

// DefaultToNull says how [Query.Insert] and [Query.Upsert] fill columns
// missing from some of the rows: true (the default) sends null, false lets
// Postgres use the column default (Prefer: missing=default).
func DefaultToNull(b bool) WriteOption {
	return writeOptionFunc(func(w *writeOptions) { w.defaultToNull = &b })
}

// OnConflict names the columns (comma-separated) of the unique constraint
// [Query.Upsert] resolves conflicts on (on_conflict=...). Default: the
// primary key.
func OnConflict(columns string) WriteOption {
	return writeOptionFunc(func(w *writeOptions) { w.onConflict = &columns })
}

// IgnoreDuplicates makes [Query.Upsert] skip rows that conflict instead of
// merging them (Prefer: resolution=ignore-duplicates).
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
