package localstack

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// restCall is one request to /rest/v1 being served.
type restCall struct {
	s       *Server
	w       http.ResponseWriter
	r       *http.Request
	schema  string
	role    string
	claims  []byte
	authed  bool // role is not anon: 42501 answers 403 instead of 401
	prefs   *prefs
	media   media
	profile bool // the request named its schema
}

// newRESTCall authenticates the request as PostgREST does and parses the
// headers every data request shares.
func (s *Server) newRESTCall(w http.ResponseWriter, r *http.Request) (*restCall, error) {
	c := &restCall{s: s, w: w, r: r, role: "anon"}
	tok, ok := bearer(r)
	if !ok {
		// The gateway has checked the key; PostgREST itself sees it as the token.
		tok = r.Header.Get("apikey")
		if tok == "" {
			tok = r.URL.Query().Get("apikey")
		}
	}
	if ok && tok == "" {
		return c, restErr(http.StatusUnauthorized, "PGRST301", "Empty JWT is sent in Authorization header")
	}
	vt, err := verifyJWT(s.cfg.JWTSecret, tok, restJWTOptions...)
	if err != nil {
		var msg, code = err.Error(), "PGRST301"
		switch err {
		case errJWTExpired, errJWTClaims, errJWTNotYet, errJWTFuture:
			code = "PGRST303"
		case errJWTParts:
			msg = fmt.Sprintf("Expected 3 parts in JWT; got %d", strings.Count(tok, ".")+1)
		}
		re := restErr(http.StatusUnauthorized, code, msg)
		re.header = http.Header{"Www-Authenticate": {fmt.Sprintf(`Bearer error="invalid_token", error_description=%q`, msg)}}
		return c, re
	}
	c.claims = vt.raw
	if role := vt.str("role"); role != "" {
		c.role = role
	}
	c.authed = c.role != "anon"

	hdr := "Accept-Profile"
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr = "Content-Profile"
	}
	c.schema = s.cfg.Schemas[0]
	if v := r.Header.Get(hdr); v != "" {
		if !slices.Contains(s.cfg.Schemas, v) {
			return c, restErr(http.StatusNotAcceptable, "PGRST106", "Invalid schema: "+v).
				withHint("Only the following schemas are exposed: " + strings.Join(s.cfg.Schemas, ", "))
		}
		c.schema, c.profile = v, true
	}
	if c.prefs, err = parsePrefer(r.Header); err != nil {
		return c, err
	}
	if c.media, err = parseAccept(r.Header.Get("Accept")); err != nil {
		return c, err
	}
	return c, nil
}

// run executes f in a transaction as the request's role with its claims
// published, the way PostgREST prepares every request. The connection is
// authenticator's, so PostgreSQL itself refuses any other role. f reports
// whether the transaction is to be committed.
func (c *restCall) run(readOnly bool, f func(ctx context.Context, tx pgx.Tx) (commit bool, err error)) error {
	ctx := c.r.Context()
	opts := pgx.TxOptions{}
	if readOnly {
		opts.AccessMode = pgx.ReadOnly
	}
	tx, err := c.s.rest.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	headers := map[string]string{}
	for k, v := range c.r.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	hjson, _ := json.Marshal(headers)
	// As behind Supabase's gateway: PostgREST sees the path without the
	// /rest/v1 prefix, and its search path has public and extensions after
	// the request's schema.
	_, err = tx.Exec(ctx, `SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true),
		set_config('request.method', $3, true), set_config('request.path', $4, true),
		set_config('request.headers', $5, true), set_config('search_path', $6, true)`,
		c.role, string(c.claims), c.r.Method, strings.TrimPrefix(c.r.URL.Path, "/rest/v1"), string(hjson), ident(c.schema)+", public, extensions")
	if err != nil {
		return err
	}
	commit, err := f(ctx, tx)
	if err != nil {
		return err
	}
	if commit && c.prefs.tx != "rollback" {
		return tx.Commit(ctx)
	}
	return nil
}

// result is what a statement produced: the JSON (or CSV) body and row counts.
type result struct {
	body  []byte
	n     int64
	total *int64
}

func (c *restCall) fail(err error) {
	c.s.writeRESTError(c.w, c.r, c.mapMissing(err), c.authed)
}

// mapMissing turns "relation does not exist" for the requested table into
// PostgREST's schema cache error.
func (c *restCall) mapMissing(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	table := c.r.PathValue("table")
	if table == "" {
		return err
	}
	qualified := c.schema + "." + table
	if (pe.Code == "42P01" && pe.Message == fmt.Sprintf("relation %q does not exist", qualified)) ||
		(pe.Code == "42704" && pe.Message == fmt.Sprintf("type %q does not exist", qualified)) {
		return restErr(http.StatusNotFound, "PGRST205", fmt.Sprintf("Could not find the table '%s' in the schema cache", qualified))
	}
	if pe.Code == "42703" && strings.HasSuffix(pe.Message, fmt.Sprintf(" of relation %q does not exist", table)) && strings.HasPrefix(pe.Message, "column ") {
		col := strings.TrimSuffix(strings.TrimPrefix(pe.Message, "column "), fmt.Sprintf(" of relation %q does not exist", table))
		col, _ = strconv.Unquote(col)
		return restErr(http.StatusBadRequest, "PGRST204", fmt.Sprintf("Could not find the '%s' column of '%s' in the schema cache", col, table))
	}
	return err
}

// restRoot answers the OpenAPI root (not served) and deeper paths PostgREST
// does not know.
func (s *Server) restRoot(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/rest/v1/" {
		s.writeRESTError(w, r, restErr(http.StatusNotFound, "PGRST126", "Root endpoint metadata is disabled"), false)
		return
	}
	s.writeRESTError(w, r, restErr(http.StatusNotFound, "PGRST125", "Invalid path specified in request URL"), false)
}

func (s *Server) table(w http.ResponseWriter, r *http.Request) {
	c, err := s.newRESTCall(w, r)
	if err != nil {
		c.fail(err)
		return
	}
	pairs, err := queryPairs(r.URL.RawQuery)
	if err != nil {
		c.fail(err)
		return
	}
	table := r.PathValue("table")
	p, err := parseParams(table, pairs, nil)
	if err == nil && hasEmbeds(p.sel) {
		err = c.resolveEmbeds(r.Context(), c.s.rest, table, p.sel)
	}
	if err != nil {
		c.fail(err)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		err = c.read(table, p)
	case http.MethodPost:
		err = c.insert(table, p)
	case http.MethodPatch:
		err = c.update(table, p)
	case http.MethodDelete:
		err = c.delete(table, p)
	default:
		err = restErr(http.StatusMethodNotAllowed, "PGRST117", "Unsupported HTTP method: "+r.Method)
	}
	if err != nil {
		c.fail(err)
	}
}

func (c *restCall) read(table string, p *readParams) error {
	var b builder
	rel := ident(c.schema, table)
	where := b.where(table, p.where, b.innerConds(table, p.sel)...)
	inner := "SELECT " + b.selectList(table, p.sel) + " FROM " + rel + where + b.orderBy(table, p.order) + b.limitOffset(p.limit, p.offset)
	sql := aggregate(c.media, inner)
	counting := c.prefs.count != ""
	if counting {
		sql = "SELECT body, n, (SELECT count(*) FROM " + rel + where + ") FROM (" + sql + ") AS _r(body, n)"
	}
	var res result
	err := c.run(true, func(ctx context.Context, tx pgx.Tx) (bool, error) {
		var total int64
		dest := []any{&res.body, &res.n}
		if counting {
			dest = append(dest, &total)
		}
		if err := tx.QueryRow(ctx, sql, b.args...).Scan(dest...); err != nil {
			return false, err
		}
		if counting {
			res.total = &total
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	return c.respond(http.StatusOK, res, p.offset, true)
}

// respond writes a result: the body in the negotiated format, Content-Range
// and, for a single object, the one-row check.
func (c *restCall) respond(status int, res result, offset int64, withBody bool) error {
	h := c.w.Header()
	if c.media.single && withBody && res.n != 1 {
		return restErr(http.StatusNotAcceptable, "PGRST116", "Cannot coerce the result to a single JSON object").
			withDetails(fmt.Sprintf("The result contains %d rows", res.n))
	}
	total := "*"
	if res.total != nil {
		total = strconv.FormatInt(*res.total, 10)
	}
	if status == http.StatusOK && c.r.Method != http.MethodPatch && c.r.Method != http.MethodDelete {
		if res.n == 0 {
			h.Set("Content-Range", "*/"+total)
		} else {
			h.Set("Content-Range", fmt.Sprintf("%d-%d/%s", offset, offset+res.n-1, total))
		}
		// PostgREST's statuses for a counted range.
		if res.total != nil && offset > *res.total {
			return restErr(http.StatusRequestedRangeNotSatisfiable, "PGRST103", "Requested range not satisfiable").
				withDetails(fmt.Sprintf("An offset of %d was requested, but there are only %d rows.", offset, *res.total))
		}
		if res.total != nil && res.n < *res.total {
			status = http.StatusPartialContent
		}
	} else {
		h.Set("Content-Range", "*/"+total)
	}
	if len(c.prefs.applied) > 0 {
		h.Set("Preference-Applied", strings.Join(c.prefs.applied, ", "))
	}
	if c.profile {
		h.Set("Content-Profile", c.schema)
	}
	if !withBody {
		c.w.WriteHeader(status)
		return nil
	}
	body := res.body
	switch {
	case c.media.csv:
		h.Set("Content-Type", "text/csv; charset=utf-8")
	case c.media.single:
		h.Set("Content-Type", "application/vnd.pgrst.object+json; charset=utf-8")
		body = bytes.TrimSpace(body)
		body = bytes.TrimSpace(body[1 : len(body)-1]) // the one element of the array
	default:
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	c.w.WriteHeader(status)
	if c.r.Method != http.MethodHead {
		c.w.Write(body)
	}
	return nil
}

// payload is a parsed JSON request body: one object or an array of them.
type payload struct {
	raw    []byte // always an array
	rows   []json.RawMessage
	keys   [][]string // each row's keys in order
	object bool       // the body was one object, not an array
}

func readPayload(r *http.Request) (*payload, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		return nil, err
	}
	bad := restErr(http.StatusBadRequest, "PGRST102", "Empty or invalid json")
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, bad
	}
	p := &payload{}
	switch b[0] {
	case '{':
		p.rows = []json.RawMessage{b}
		p.object = true
	case '[':
		if err := json.Unmarshal(b, &p.rows); err != nil {
			return nil, bad
		}
	default:
		return nil, bad
	}
	for _, row := range p.rows {
		keys, err := objectKeys(row)
		if err != nil {
			return nil, bad
		}
		p.keys = append(p.keys, keys)
	}
	if b[0] == '{' {
		p.raw = append(append([]byte{'['}, b...), ']')
	} else {
		p.raw = b
	}
	return p, nil
}

// objectKeys returns the keys of a JSON object in their order.
func objectKeys(raw json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// returning says whether the response needs the written rows.
func (c *restCall) returning() bool { return c.prefs.ret == "representation" }

// write runs the statements of a write and answers it. Each statement is
// either a bare DML statement (when no rows are returned: a RETURNING
// clause would also apply SELECT policies) or one that returns its rows
// through aggregate.
func (c *restCall) write(status int, stmts []*builder, sqls []string) error {
	var res result
	var parts [][]byte
	err := c.run(false, func(ctx context.Context, tx pgx.Tx) (bool, error) {
		for i, sql := range sqls {
			if c.returning() {
				var body []byte
				var n int64
				if err := tx.QueryRow(ctx, sql, stmts[i].args...).Scan(&body, &n); err != nil {
					return false, err
				}
				res.n += n
				parts = append(parts, body)
			} else {
				tag, err := tx.Exec(ctx, sql, stmts[i].args...)
				if err != nil {
					return false, err
				}
				res.n += tag.RowsAffected()
			}
		}
		if c.prefs.maxAffected != nil && c.prefs.strict && res.n > *c.prefs.maxAffected {
			return false, restErr(http.StatusBadRequest, "PGRST124", "Query result exceeds max-affected preference constraint").
				withDetails(fmt.Sprintf("The query affects %d rows", res.n))
		}
		// As PostgREST: a single object was asked for, so anything but one
		// affected row is refused and rolled back, whatever the response
		// returns (also with return=minimal).
		if c.media.single && res.n != 1 {
			return false, restErr(http.StatusNotAcceptable, "PGRST116", "Cannot coerce the result to a single JSON object").
				withDetails(fmt.Sprintf("The result contains %d rows", res.n))
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	if c.prefs.count != "" {
		n := res.n
		res.total = &n
	}
	if !c.returning() {
		if status == http.StatusOK {
			status = http.StatusNoContent
		}
		return c.respond(status, res, 0, false)
	}
	res.body = joinArrays(parts, c.media.csv)
	return c.respond(status, res, 0, true)
}

// joinArrays concatenates JSON arrays (or CSV documents) from several statements.
func joinArrays(parts [][]byte, csv bool) []byte {
	if len(parts) == 1 {
		return parts[0]
	}
	if csv {
		// Every non-empty part starts with the same header line; keep one.
		var out []byte
		for _, p := range parts {
			switch {
			case len(p) == 0:
			case len(out) == 0:
				out = append(out, p...)
			default:
				_, rows, _ := bytes.Cut(p, []byte("\n"))
				out = append(append(out, '\n'), rows...)
			}
		}
		return out
	}
	var elems [][]byte
	for _, p := range parts {
		p = bytes.TrimSpace(p)
		if inner := bytes.TrimSpace(p[1 : len(p)-1]); len(inner) > 0 {
			elems = append(elems, inner)
		}
	}
	return append(append([]byte{'['}, bytes.Join(elems, []byte(", "))...), ']')
}

// rowsSQL wraps a data-modifying statement so that its rows come back in
// the response format, selected as the request asks.
func (c *restCall) rowsSQL(b *builder, table, dml string, p *readParams) string {
	if !c.returning() {
		return dml
	}
	inner := "SELECT " + b.selectList(table, p.sel) + " FROM " + ident(table) + b.orderBy(table, p.order)
	return "WITH " + ident(table) + " AS (" + dml + " RETURNING *) " + aggregate(c.media, inner)
}

func (c *restCall) insert(table string, p *readParams) error {
	pl, err := readPayload(c.r)
	if err != nil {
		return err
	}
	if len(pl.rows) == 0 {
		return c.write(http.StatusCreated, nil, nil)
	}
	cols := p.columns
	if cols == nil {
		cols = pl.keys[0]
		for _, k := range pl.keys[1:] {
			if !sameSet(k, cols) {
				return restErr(http.StatusBadRequest, "PGRST102", "All object keys must match")
			}
		}
	}
	// Group consecutive rows by the columns they insert: all of cols, or
	// with missing=default only those present, so absent ones get defaults.
	type group struct {
		cols []string
		rows []json.RawMessage
	}
	var groups []group
	for i, row := range pl.rows {
		gc := cols
		if c.prefs.missing == "default" {
			gc = nil
			for _, col := range cols {
				if slices.Contains(pl.keys[i], col) {
					gc = append(gc, col)
				}
			}
		}
		if n := len(groups); n > 0 && slices.Equal(groups[n-1].cols, gc) && len(gc) > 0 {
			groups[n-1].rows = append(groups[n-1].rows, row)
			continue
		}
		groups = append(groups, group{cols: gc, rows: []json.RawMessage{row}})
	}
	rel := ident(c.schema, table)
	var conflict string
	if c.prefs.resolution != "" {
		target := p.onConflict
		if target == nil {
			var err error
			if target, err = c.primaryKey(table); err != nil {
				return err
			}
		}
		if len(target) > 0 {
			quoted := make([]string, len(target))
			for i, t := range target {
				quoted[i] = ident(t)
			}
			conflict = " ON CONFLICT (" + strings.Join(quoted, ", ") + ")"
		}
	}
	var stmts []*builder
	var sqls []string
	for _, g := range groups {
		b := &builder{}
		var dml string
		if len(g.cols) == 0 {
			dml = "INSERT INTO " + rel + " DEFAULT VALUES"
		} else {
			quoted := make([]string, len(g.cols))
			for i, col := range g.cols {
				quoted[i] = ident(col)
			}
			list := strings.Join(quoted, ", ")
			arr, _ := json.Marshal(g.rows)
			dml = "INSERT INTO " + rel + " (" + list + ") SELECT " + list + " FROM json_populate_recordset(NULL::" + rel + ", " + b.arg(string(arr)) + ")"
		}
		if conflict != "" {
			if c.prefs.resolution == "merge-duplicates" && len(g.cols) > 0 {
				sets := make([]string, len(g.cols))
				for i, col := range g.cols {
					sets[i] = ident(col) + " = EXCLUDED." + ident(col)
				}
				dml += conflict + " DO UPDATE SET " + strings.Join(sets, ", ")
			} else {
				dml += conflict + " DO NOTHING"
			}
		}
		stmts = append(stmts, b)
		sqls = append(sqls, c.rowsSQL(b, table, dml, p))
	}
	return c.write(http.StatusCreated, stmts, sqls)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// primaryKey returns the primary key columns of table, for upserts without on_conflict.
func (c *restCall) primaryKey(table string) ([]string, error) {
	rows, err := c.s.rest.Query(c.r.Context(), `SELECT a.attname FROM pg_index i
		JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
		JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (i.indkey)
		WHERE n.nspname = $1 AND t.relname = $2 AND i.indisprimary
		ORDER BY array_position(i.indkey, a.attnum)`, c.schema, table)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (c *restCall) update(table string, p *readParams) error {
	pl, err := readPayload(c.r)
	if err != nil {
		return err
	}
	if !pl.object {
		return restErr(http.StatusBadRequest, "PGRST102", "Empty or invalid json")
	}
	b := &builder{}
	rel := ident(c.schema, table)
	cols := pl.keys[0]
	if len(cols) == 0 {
		// Nothing to change: PostgREST answers as if no row matched.
		return c.write(http.StatusOK, []*builder{b}, []string{c.rowsSQL(b, table, "SELECT * FROM "+rel+" WHERE false", p)})
	}
	quoted := make([]string, len(cols))
	for i, col := range cols {
		quoted[i] = ident(col)
	}
	list := strings.Join(quoted, ", ")
	dml := "UPDATE " + rel + " SET (" + list + ") = (SELECT " + list + " FROM json_populate_record(NULL::" + rel + ", " + b.arg(string(pl.rows[0])) + "))" +
		b.where(table, p.where)
	return c.write(http.StatusOK, []*builder{b}, []string{c.rowsSQL(b, table, dml, p)})
}

func (c *restCall) delete(table string, p *readParams) error {
	b := &builder{}
	dml := "DELETE FROM " + ident(c.schema, table) + b.where(table, p.where)
	return c.write(http.StatusOK, []*builder{b}, []string{c.rowsSQL(b, table, dml, p)})
}

// routine is a function found for an RPC call.
type routine struct {
	inNames    []string
	inTypes    []string
	nDefaults  int
	retSet     bool
	composite  bool
	void       bool
	hasOutArgs bool
	table      string // the table whose rows it returns, for embeds
}

func (s *Server) findRoutines(ctx context.Context, tx pgx.Tx, schema, name string) ([]routine, error) {
	rows, err := tx.Query(ctx, `SELECT coalesce(p.proargnames, '{}')::text[], coalesce(p.proargmodes::text[], '{}'),
			array(SELECT format_type(t, NULL) FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) AS t),
			p.pronargdefaults, p.proretset, rt.typtype = 'c' OR (rt.oid = 'record'::regtype), p.prorettype = 'void'::regtype,
			coalesce((SELECT c.relname::text FROM pg_class c WHERE c.oid = rt.typrelid AND c.relnamespace = n.oid AND c.relkind IN ('r', 'v', 'm', 'p', 'f')), '')
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_type rt ON rt.oid = p.prorettype
		WHERE n.nspname = $1 AND p.proname = $2 AND p.prokind = 'f'`, schema, name)
	if err != nil {
		return nil, err
	}
	var out []routine
	for rows.Next() {
		var names, modes, types []string
		var rt routine
		if err := rows.Scan(&names, &modes, &types, &rt.nDefaults, &rt.retSet, &rt.composite, &rt.void, &rt.table); err != nil {
			rows.Close()
			return nil, err
		}
		for i, t := range types {
			mode := "i"
			if len(modes) > 0 {
				mode = modes[i]
			}
			if mode == "o" || mode == "t" {
				rt.hasOutArgs = true
				continue
			}
			n := ""
			if i < len(names) {
				n = names[i]
			}
			rt.inNames = append(rt.inNames, n)
			rt.inTypes = append(rt.inTypes, t)
		}
		out = append(out, rt)
	}
	return out, rows.Err()
}

// matches reports whether rt can be called with exactly the named args.
func (rt *routine) matches(args []string) bool {
	for _, a := range args {
		if !slices.Contains(rt.inNames, a) {
			return false
		}
	}
	for i, n := range rt.inNames {
		if i < len(rt.inNames)-rt.nDefaults && !slices.Contains(args, n) {
			return false
		}
	}
	return true
}

func (s *Server) rpc(w http.ResponseWriter, r *http.Request) {
	c, err := s.newRESTCall(w, r)
	if err == nil {
		err = c.callRoutine(r.PathValue("fn"))
	}
	if err != nil {
		c.fail(err)
	}
}

func (c *restCall) callRoutine(fn string) error {
	r := c.r
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		return restErr(http.StatusMethodNotAllowed, "PGRST101", "Cannot use the "+r.Method+" method on RPC")
	}
	pairs, err := queryPairs(r.URL.RawQuery)
	if err != nil {
		return err
	}
	var body json.RawMessage = []byte("{}")
	if r.Method == http.MethodPost {
		b, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
		if err != nil {
			return err
		}
		if b = bytes.TrimSpace(b); len(b) > 0 {
			if b[0] != '{' || !json.Valid(b) {
				return restErr(http.StatusBadRequest, "PGRST102", "Empty or invalid json")
			}
			body = b
		}
	}
	readOnly := r.Method != http.MethodPost
	var res result
	var rt *routine
	var p *readParams
	err = c.run(readOnly, func(ctx context.Context, tx pgx.Tx) (bool, error) {
		cands, err := c.s.findRoutines(ctx, tx, c.schema, fn)
		if err != nil {
			return false, err
		}
		var argNames []string
		if r.Method == http.MethodPost {
			argNames, _ = objectKeys(body)
		} else {
			for _, kv := range pairs {
				for _, cand := range cands {
					if slices.Contains(cand.inNames, kv.name) && !slices.Contains(argNames, kv.name) {
						argNames = append(argNames, kv.name)
					}
				}
			}
		}
		for i := range cands {
			if cands[i].matches(argNames) {
				rt = &cands[i]
				break
			}
		}
		if rt == nil {
			return false, noRoutine(c.schema, fn, argNames, r.Method == http.MethodPost)
		}
		p, err = parseParams(fn, pairs, func(n string) bool { return r.Method != http.MethodPost && slices.Contains(rt.inNames, n) })
		if err == nil && hasEmbeds(p.sel) {
			// Embeds relate to the table the function returns rows of.
			err = c.resolveEmbeds(ctx, tx, cmp.Or(rt.table, fn), p.sel)
		}
		if err != nil {
			return false, err
		}
		if r.Method != http.MethodPost {
			obj := map[string]string{}
			for k, v := range p.args {
				obj[k] = v
			}
			body, _ = json.Marshal(obj)
		}
		b := &builder{}
		var from string
		var named []string
		var defs []string
		for i, n := range rt.inNames {
			if slices.Contains(argNames, n) {
				named = append(named, ident(n)+" := _a."+ident(n))
				defs = append(defs, ident(n)+" "+rt.inTypes[i])
			}
		}
		call := ident(c.schema, fn) + "(" + strings.Join(named, ", ") + ")"
		if len(defs) > 0 {
			from = "json_to_record(" + b.arg(string(body)) + ") AS _a(" + strings.Join(defs, ", ") + "), LATERAL " + call + " AS " + ident(fn)
		} else {
			from = call + " AS " + ident(fn)
		}
		var sql string
		counting := false
		switch {
		case rt.void:
			sql = "SELECT '', count(*) FROM " + from
		case rt.composite || rt.hasOutArgs || rt.retSet:
			// The call runs once, in a CTE, however often its rows are read.
			src := "WITH " + ident(fn) + " AS MATERIALIZED (SELECT " + ident(fn) + ".* FROM " + from + ") "
			where := b.where(fn, p.where)
			tail := " FROM " + ident(fn) + where + b.orderBy(fn, p.order) + b.limitOffset(p.limit, p.offset)
			if rt.composite || rt.hasOutArgs {
				sql = aggregate(c.media, "SELECT "+b.selectList(fn, p.sel)+tail)
			} else {
				sql = "SELECT coalesce(json_agg(_t." + ident(fn) + "), '[]')::text, count(*) FROM (SELECT " + ident(fn) + tail + ") _t"
			}
			if c.prefs.count != "" {
				// The where clause's placeholders serve both of its uses.
				sql = "SELECT body, n, (SELECT count(*) FROM " + ident(fn) + where + ") FROM (" + sql + ") AS _r(body, n)"
				counting = true
			}
			sql = src + sql
		default:
			sql = "SELECT coalesce(to_json(" + ident(fn) + ")::text, 'null'), 1 FROM " + from
		}
		dest := []any{&res.body, &res.n}
		if counting {
			var total int64
			res.total = &total
			dest = append(dest, res.total)
		}
		if err := tx.QueryRow(ctx, sql, b.args...).Scan(dest...); err != nil {
			return false, err
		}
		// Checked here, not only by respond, so that the call's writes roll back.
		if c.media.single && rt.retSet && res.n != 1 && r.Method != http.MethodHead {
			return false, restErr(http.StatusNotAcceptable, "PGRST116", "Cannot coerce the result to a single JSON object").
				withDetails(fmt.Sprintf("The result contains %d rows", res.n))
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	switch {
	case rt.void:
		if len(c.prefs.applied) > 0 {
			c.w.Header().Set("Preference-Applied", strings.Join(c.prefs.applied, ", "))
		}
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	case !rt.retSet && (rt.composite || rt.hasOutArgs) && !c.media.csv:
		// A function returning one row answers an object.
		body := bytes.TrimSpace(res.body)
		body = bytes.TrimSpace(body[1 : len(body)-1])
		if len(body) == 0 {
			body = []byte("null")
		}
		ct := "application/json; charset=utf-8"
		if c.media.single {
			ct = "application/vnd.pgrst.object+json; charset=utf-8"
		}
		c.w.Header().Set("Content-Type", ct)
		c.w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			c.w.Write(body)
		}
		return nil
	case !rt.retSet && !rt.composite && !rt.hasOutArgs:
		c.w.Header().Set("Content-Type", "application/json; charset=utf-8")
		c.w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			c.w.Write(res.body)
		}
		return nil
	}
	return c.respond(http.StatusOK, res, p.offset, r.Method != http.MethodHead)
}

func noRoutine(schema, fn string, args []string, post bool) error {
	sorted := slices.Clone(args)
	sort.Strings(sorted)
	name := schema + "." + fn
	msg := "Could not find the function " + name
	details := "Searched for the function " + name
	if len(sorted) == 0 {
		msg += " without parameters"
		details += " without parameters"
	} else {
		msg += "(" + strings.Join(sorted, ", ") + ")"
		if len(sorted) == 1 {
			details += " with parameter " + sorted[0]
		} else {
			details += " with parameters " + strings.Join(sorted, ", ")
		}
	}
	if post {
		details += " or with a single unnamed json/jsonb parameter"
	}
	return restErr(http.StatusNotFound, "PGRST202", msg+" in the schema cache").
		withDetails(details + ", but no matches were found in the schema cache.")
}
