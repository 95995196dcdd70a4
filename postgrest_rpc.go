package supabase

import (
	"strings"

	"github.com/supabase-go/supabase/internal/pgrest"
)

// RPC starts a call of the Postgres function fn in the client's schema.
// args (a struct, a map, a [json.RawMessage] or nil for none) is sent as the
// JSON body of a POST. With [RPCGet] the call is a GET and the arguments go
// in the query string; with [Head] it is a HEAD (no result body) unless an
// argument is an object, which cannot be sent in a query string: then it is
// a POST with Prefer: return=minimal, as in supabase-js.
//
// The result can be filtered, ordered and paginated like a table when the
// function returns a set of rows; [Query.Select] then picks columns.
//
// Options: [RPCGet], [Head], a [CountMethod] ([CountExact], ...).
func (c *Client) RPC(fn string, args any, opts ...RPCOption) Query {
	q := Query{c: c, kind: kindRPC, target: fn, rpcMethod: rpcPost}
	if strings.TrimSpace(fn) == "" {
		return q.fail("RPC: empty function name")
	}
	q.params = c.paramsFor("/rpc/", fn)
	var o rpcOptions
	for _, opt := range opts {
		if opt != nil {
			opt.applyRPC(&o)
		}
	}
	if !validCount(o.count) {
		return q.fail("RPC: unknown count method %q", o.count)
	}
	if o.count != "" {
		q.editExtras().count = o.count
	}
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
		q.editExtras().body = body
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
			q.editExtras().body = body
			return q
		}
		params = append(params, pgrest.Pair{Key: m.Key, Value: text})
	}
	ps := q.params
	for _, p := range params {
		if err := pgrest.CheckArg(p.Key, p.Value); err != nil {
			return q.fail("RPC: argument %q: %v; call the function with POST", p.Key, err)
		}
		if ps, err = ps.Append(p); err != nil {
			// CheckArg refuses all that Append does.
			_, cause := paramError(err)
			return q.fail("RPC: argument %q: %v; call the function with POST", p.Key, cause)
		}
	}
	q.params = ps
	if o.head {
		q.rpcMethod = rpcHead
	} else {
		q.rpcMethod = rpcGet
	}
	return q
}
