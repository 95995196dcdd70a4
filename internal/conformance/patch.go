package conformance

import (
	"encoding/json"
	"fmt"
	"path"
)

// Patches turn a golden into what an SDK that deliberately differs from
// supabase-js must send and return. Each returns a func(*Golden) to apply
// to a copy (see Golden.Clone).

// PatchRequests applies f to every golden request.
func PatchRequests(f func(r *Request)) func(g *Golden) {
	return func(g *Golden) {
		for i := range g.Requests {
			f(&g.Requests[i])
		}
	}
}

// NoContentTypeWithoutBody drops Content-Type from body-less requests.
var NoContentTypeWithoutBody = PatchRequests(func(r *Request) {
	if r.Body == nil && r.BodyText == nil {
		delete(r.Headers, "content-type")
	}
})

// SetQuery replaces the value from by to in every query pair named name.
func SetQuery(name, from, to string) func(g *Golden) {
	return PatchRequests(func(r *Request) {
		for i, p := range r.Query {
			if p[0] == name && p[1] == from {
				r.Query[i][1] = to
			}
		}
	})
}

// DropBodyKeys removes top-level keys from the JSON body of every request
// whose path matches pattern (see PatchBody).
func DropBodyKeys(pattern string, keys ...string) func(g *Golden) {
	return PatchBody(pattern, func(m map[string]any) {
		for _, k := range keys {
			delete(m, k)
		}
	})
}

// RenameBodyKey renames a top-level key of the JSON body of every request
// whose path matches pattern (see PatchBody).
func RenameBodyKey(pattern, from, to string) func(g *Golden) {
	return PatchBody(pattern, func(m map[string]any) {
		if v, ok := m[from]; ok {
			delete(m, from)
			m[to] = v
		}
	})
}

// PatchBody applies f to the JSON object body of every request whose path
// matches pattern (path.Match syntax: * is one path segment).
func PatchBody(pattern string, f func(m map[string]any)) func(g *Golden) {
	return PatchRequests(func(r *Request) {
		if ok, _ := path.Match(pattern, r.Path); !ok || r.Body == nil {
			return
		}
		v, err := DecodeJSON(r.Body)
		m, ok := v.(map[string]any)
		if err != nil || !ok {
			panic(fmt.Sprintf("conformance: patch: body of %s is not a JSON object", r.Path))
		}
		f(m)
		r.Body, _ = json.Marshal(m)
	})
}

// DropRequests removes the golden requests for which drop is true.
func DropRequests(drop func(r *Request) bool) func(g *Golden) {
	return func(g *Golden) {
		kept := g.Requests[:0]
		for _, r := range g.Requests {
			if !drop(&r) {
				kept = append(kept, r)
			}
		}
		g.Requests = kept
	}
}

// DropEmptyQuery removes query pairs whose value is empty.
var DropEmptyQuery = PatchRequests(func(r *Request) {
	kept := r.Query[:0]
	for _, p := range r.Query {
		if p[1] != "" {
			kept = append(kept, p)
		}
	}
	r.Query = kept
})

// PatchResult rewrites the golden result of one step.
func PatchResult(step int, f func(res map[string]any)) func(g *Golden) {
	return func(g *Golden) {
		v, err := DecodeJSON(g.Results[step].Result)
		m, ok := v.(map[string]any)
		if err != nil || !ok {
			panic(fmt.Sprintf("conformance: patch: result %d is not a JSON object", step))
		}
		f(m)
		g.Results[step].Result, _ = json.Marshal(m)
	}
}

// Patches applies fs in order.
func Patches(fs ...func(g *Golden)) func(g *Golden) {
	return func(g *Golden) {
		for _, f := range fs {
			f(g)
		}
	}
}

// Clone returns a deep copy of g's requests and results, for patching.
func (g Golden) Clone() Golden {
	c := g
	c.Requests = make([]Request, len(g.Requests))
	for i, r := range g.Requests {
		c.Requests[i] = r.Clone()
	}
	c.Results = make([]Result, len(g.Results))
	for i, r := range g.Results {
		c.Results[i] = r
		c.Results[i].Result = append(json.RawMessage(nil), r.Result...)
	}
	return c
}
