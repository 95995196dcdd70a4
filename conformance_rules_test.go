package supabase_test

// The deliberate differences from supabase-js 2.119.0, as rules applied to
// every recorded case they concern (see conformance.Divergence). TestConformance
// applies them to every case of every corpus it replays and proves each one
// live; DIVERGENCES.md is rendered from this table.

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/supabase-go/supabase/internal/conformance"
	"github.com/supabase-go/supabase/internal/pgrest"
)

var divergenceRules = []*conformance.Divergence{
	{
		Name:  "rest-content-type-only-with-body",
		Scope: "Requests under `/rest/v1` that carry no body.",
		JS:    "Sends `Content-Type: application/json` on every REST request other than GET and HEAD, so also on a DELETE without a body.",
		Go:    "Sends Content-Type only with a body (postgrest.go, Query.build).",
		Why:   "A media type for absent content is meaningless; strict proxies and WAFs may reject a DELETE that announces a body it does not have.",
		When: func(x *conformance.Exchange) bool {
			return x.AnyRequest(func(r *conformance.Request) bool { return bodylessWithType(r, "/rest/v1") })
		},
		Rewrite: dropContentTypeWithoutBody("/rest/v1"),
	},
	{
		Name:  "auth-content-type-only-with-body",
		Scope: "Requests under `/auth/v1` that carry no body.",
		JS:    "Sends `Content-Type: application/json;charset=UTF-8` on body-less Auth requests (POST /logout, DELETE /factors/{id}, DELETE /admin/users/{id}/factors/{id}).",
		Go:    "Sends Content-Type only with a body (auth.go, AuthClient.authCall).",
		Why:   "Same as for REST: no body, no media type.",
		When: func(x *conformance.Exchange) bool {
			return x.AnyRequest(func(r *conformance.Request) bool { return bodylessWithType(r, "/auth/v1") })
		},
		Rewrite: dropContentTypeWithoutBody("/auth/v1"),
	},
	{
		Name:  "in-list-quoting",
		Scope: "Query values written by `in()` and `notIn()`, and by `filter()`/`not()` with the `in` operator and an array.",
		JS: "Drops duplicate values (7 and \"7\" count as two), double-quotes an element only when it contains `,`, `(` or `)` " +
			"and never escapes `\"` or `\\`: `in.(say \"hi\",back\\slash,two words,a.b)`; an empty string is sent as nothing, " +
			"so `in(\"c\", [\"\"])` becomes `in.()`, the empty list; `filter()` and `not()` with `in` write `String(values)`, " +
			"without the parentheses: `not.in.1,2`.",
		Go: "Re-encodes the list with internal/pgrest List: every element containing whitespace or any of `, . : ( ) \" \\` " +
			"is double-quoted with `\"` and `\\` escaped, the empty string is `\"\"` (alone, `(\"\",\"\")`, since PostgREST reads " +
			"`(\"\")` as the empty list), duplicates are dropped after encoding: " +
			"`in.(\"say \\\"hi\\\"\",\"back\\\\slash\",\"two words\",\"a.b\")`.",
		Why: "PostgREST reads `\"` and `\\` as quoting and escape characters inside an in-list and `.`/`:` as its own syntax: " +
			"unescaped, a value can change meaning or break the filter; an empty element is ambiguous, and alone it turns a " +
			"test for the empty string into one that matches nothing.",
		When:    func(x *conformance.Exchange) bool { return hasListValues(x, true) },
		Rewrite: reencodeLists(true),
	},
	{
		Name: "array-literal-quoting",
		Scope: "Query values written from arrays: `contains`, `containedBy` and `overlaps` given an array, " +
			"`likeAllOf`, `likeAnyOf`, `ilikeAllOf`, `ilikeAnyOf`; `eq`, `neq`, `gt`, `gte`, `lt`, `lte`, `isDistinct`, " +
			"`match()`, `filter()` and `not()` (other than with `in`) given an array; array arguments of an rpc sent with " +
			"`get` or `head`.",
		JS: "Writes `{` + `values.join(\",\")` + `}` without quoting: `cs.{red wine,cheese,aged}`, so an element containing " +
			"`,` becomes two elements, `null` becomes an empty element and nested arrays are flattened; `eq` and the other " +
			"comparisons, `match()`, `filter()` and `not()` write `String(values)`, the same join without braces: `eq.a,b c`.",
		Go: "Writes a Postgres array literal with internal/pgrest Array: elements that are empty, spell null or contain " +
			"whitespace or any of `, { } ( ) \" \\ . :` are double-quoted and escaped, nil is `null`, nested slices nest: " +
			"`cs.{\"red wine\",\"cheese,aged\"}`, `cs.{{1,2},{3,4}}`, `eq.{a,\"b c\"}`.",
		Why: "An element containing `,` (or `{}`, `\"`, `\\`, whitespace) must be quoted in an array literal, or the filter " +
			"silently matches something else; an array column compared with `eq` needs an array literal, not a bare list.",
		When:    func(x *conformance.Exchange) bool { return hasListValues(x, false) },
		Rewrite: reencodeLists(false),
	},
	{
		Name:  "verify-otp-no-options-body",
		Scope: "POST `/auth/v1/verify` whose JSON body has an `options` member.",
		JS:    "verifyOtp copies its whole `options` object (`{\"redirectTo\": ...}`, `{\"captchaToken\": ...}`) into the JSON body, besides sending `redirect_to` in the query and the captcha token in `gotrue_meta_security`.",
		Go:    "Sends `redirect_to` in the query and the captcha token in `gotrue_meta_security` only (auth_otp.go, AuthClient.VerifyOTP).",
		Why:   "Auth does not read `options`; client-side option names leaking into the request body are noise the server may one day reject.",
		When: func(x *conformance.Exchange) bool {
			return x.AnyRequest(func(r *conformance.Request) bool { return isVerify(r) && r.BodyHasKey("options") })
		},
		Rewrite: patchBodies(isVerify, func(m map[string]any) { delete(m, "options") }),
	},
	{
		Name:  "generate-link-redirect-to",
		Scope: "POST `/auth/v1/admin/generate_link` whose JSON body has a `redirectTo` member.",
		JS:    "admin.generateLink spreads `options` into the body, so the camelCase `redirectTo` is sent as a body field.",
		Go:    "Sends `data` and `redirect_to` (Auth's field names) in the body, and `redirect_to` in the query (auth_admin.go, AdminClient.GenerateLink).",
		Why:   "Auth reads `redirect_to`, not `redirectTo`.",
		When: func(x *conformance.Exchange) bool {
			return x.AnyRequest(func(r *conformance.Request) bool { return isGenerateLink(r) && r.BodyHasKey("redirectTo") })
		},
		Rewrite: patchBodies(isGenerateLink, func(m map[string]any) {
			if v, ok := m["redirectTo"]; ok {
				delete(m, "redirectTo")
				m["redirect_to"] = v
			}
		}),
	},
	{
		Name:  "mfa-challenge-no-factor-id",
		Scope: "POST `/auth/v1/factors/{id}/challenge` whose JSON body has a `factorId` member.",
		JS:    "mfa.challenge (and challengeAndVerify) sends its whole params object as the body, so `factorId` (camelCase, already in the path) is sent too.",
		Go:    "Sends `{}` or `{\"channel\": ...}` (auth_mfa.go, MFAClient.Challenge).",
		Why:   "The factor is named by the path; the client-side parameter name is not an Auth field.",
		When: func(x *conformance.Exchange) bool {
			return x.AnyRequest(func(r *conformance.Request) bool { return isChallenge(r) && r.BodyHasKey("factorId") })
		},
		Rewrite: patchBodies(isChallenge, func(m map[string]any) { delete(m, "factorId") }),
	},
	{
		Name:  "admin-delete-user-no-get",
		Scope: "Steps calling `auth.admin.deleteUser`: their GET `/auth/v1/admin/users/{id}`.",
		JS:    "admin.deleteUser first GETs the user (to return it), then sends the DELETE; when the GET fails it stops there and returns the GET's error.",
		Go:    "Sends only `DELETE /admin/users/{id}` with `{\"should_soft_delete\": ...}` and returns only an error (auth_admin.go, AdminClient.DeleteUser); where supabase-js stopped after a failed GET, the DELETE is sent in its place (and must get the same answer).",
		Why:   "The extra GET is a wasted round trip whose answer the Go API does not return.",
		When:  func(x *conformance.Exchange) bool { return deleteUserCall(x) != nil },
		Rewrite: func(x *conformance.Exchange) error {
			id, soft, err := deleteUserArgs(deleteUserCall(x))
			if err != nil {
				return err
			}
			p := "/auth/v1/admin/users/" + id
			var out []conformance.Request
			for i, r := range x.Requests {
				if r.Method != "GET" || r.Path != p {
					out = append(out, r)
					continue
				}
				if i+1 < len(x.Requests) && x.Requests[i+1].Method == "DELETE" && x.Requests[i+1].Path == p {
					continue
				}
				// supabase-js stopped after the failed GET: the DELETE
				// takes its place, and its answer must be the GET's for
				// the recorded result to stay right.
				d := r.Clone()
				d.Method = "DELETE"
				d.Headers["content-type"] = "application/json;charset=UTF-8"
				d.Body, _ = json.Marshal(map[string]bool{"should_soft_delete": soft})
				if r.Rule == nil || x.AnswerIndex(&d) != *r.Rule {
					return fmt.Errorf("the DELETE replacing %s would get another answer than the GET", r.Summary())
				}
				out = append(out, d)
			}
			x.Requests = out
			return nil
		},
	},
	{
		Name:  "admin-list-users-no-empty-paging",
		Scope: "GET `/auth/v1/admin/users` with an empty `page` or `per_page` query parameter.",
		JS:    "admin.listUsers() sends `page=` and `per_page=` with empty values for the paging parameters not given.",
		Go:    "Omits unset paging parameters, so the server's defaults apply (auth_admin.go, AdminClient.ListUsers).",
		Why:   "Empty parameters are not values.",
		When: func(x *conformance.Exchange) bool {
			return x.AnyRequest(func(r *conformance.Request) bool { return isListUsers(r) && hasEmptyPaging(r) })
		},
		Rewrite: func(x *conformance.Exchange) error {
			for i := range x.Requests {
				r := &x.Requests[i]
				if !isListUsers(r) {
					continue
				}
				kept := r.Query[:0:0]
				for _, p := range r.Query {
					if !isPagingParam(p[0]) || p[1] != "" {
						kept = append(kept, p)
					}
				}
				r.Query = kept
			}
			return nil
		},
	},
	{
		Name:  "admin-list-users-paging-headers",
		Scope: "Successful `auth.admin.listUsers` results, with the `X-Total-Count` and `Link` headers of their answer.",
		JS: "Reports `total: 0` unless the answer has a Link header (though it has `X-Total-Count`), and reads only the first " +
			"digit of each page number in Link (`page=12` is page 1).",
		Go:  "Reads `Total` from `X-Total-Count` and `NextPage`/`LastPage` as whole numbers from Link (auth_admin.go, AdminClient.ListUsers).",
		Why: "The total the server sent is the total, and page 12 is page 12.",
		When: func(x *conformance.Exchange) bool {
			_, ok := listUsersAnswer(x)
			return ok
		},
		Rewrite: func(x *conformance.Exchange) error {
			ans, _ := listUsersAnswer(x)
			m, err := x.ResultObject()
			if err != nil {
				return err
			}
			data, ok := m["data"].(map[string]any)
			if !ok {
				return errors.New("listUsers result without data")
			}
			if v, ok := ans.Header("X-Total-Count"); ok {
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
					data["total"] = n
				}
			}
			var next, last int
			if l, ok := ans.Header("Link"); ok {
				next, last = conformance.LinkPages(l)
			}
			data["nextPage"], data["lastPage"] = nil, last
			if next > 0 {
				data["nextPage"] = next
			}
			return x.SetResultObject(m)
		},
	},
	{
		Name:  "get-session-missing-is-an-error",
		Scope: "`auth.getSession` results with no session and no error.",
		JS:    "getSession() with nobody signed in returns `{session: null}` and no error.",
		Go:    "AuthClient.Session returns an error matching ErrSessionMissing (auth.go).",
		Why:   "A nil session with a nil error would make every caller check both; in Go the absence is the error, as for every other call needing a session.",
		When:  noSessionResult,
		Rewrite: func(x *conformance.Exchange) error {
			m, err := x.ResultObject()
			if err != nil {
				return err
			}
			m["error"] = map[string]any{"name": "AuthSessionMissingError", "message": "Auth session missing!", "status": 400}
			return x.SetResultObject(m)
		},
	},
	{
		Name: "lost-session-is-an-error",
		Scope: "Data, Storage and Functions steps that supabase-js sent with the project key as bearer although an " +
			"earlier step signed a user in and no sign-out followed: the session was dropped by a refused refresh or a " +
			"`session_not_found`.",
		JS: "Drops the session and sends the request as anon: the caller gets the anon answer (often an empty list) " +
			"with no error.",
		Go: "Sends nothing and returns an error matching ErrSessionExpired, until the caller signs in again or calls " +
			"SignOut (session.go, the lost state).",
		Why: "A script reading a protected table as a user must not get an empty answer it believes; \"revoked\" " +
			"must be told apart from \"never signed in\". Signing out is how a caller asks for anon.",
		When: lostSessionStep,
		Rewrite: func(x *conformance.Exchange) error {
			key := "Bearer " + x.Case.Key
			if x.Case.Key == "" {
				key = "Bearer " + conformance.DefaultAnonKey
			}
			kept := x.Requests[:0]
			for _, r := range x.Requests {
				if r.Headers["authorization"] != key || r.Under("/auth/v1") {
					kept = append(kept, r)
				}
			}
			x.Requests = kept
			m, err := x.ResultObject()
			if err != nil {
				return err
			}
			m["data"] = nil
			m["error"] = map[string]any{"name": lostSessionError, "message": "the session ended"}
			for _, k := range []string{"count", "status", "statusText", "response"} {
				if _, ok := m[k]; ok {
					m[k] = nil
				}
			}
			return x.SetResultObject(m)
		},
	},
	{
		Name:  "pkce-no-flow-id",
		Scope: "Results of `auth.signInWithOAuth` and `auth.linkIdentity` that started a PKCE flow (`flowType: 'pkce'`): their `flowId`.",
		JS: "Keeps the verifier of each PKCE flow in a slot of its own (up to 5 pending flows) and returns the slot's random " +
			"`flowId`, which `exchangeCodeForSession(code, {flowId})` may name; without it the latest flow's verifier is used.",
		Go: "Keeps one verifier per store, the latest flow's, which ExchangeCodeForSession uses; SignInWithOAuthURL and " +
			"LinkIdentityURL return the URL only (auth_pkce.go, CodeVerifierStore).",
		Why: "A Go program drives one sign-in at a time per session store (a CLI, or a server with a store per visitor), " +
			"and a store with one slot stays a small interface a cookie or a file can implement; an id the caller must " +
			"carry through the redirect buys nothing there.",
		When: func(x *conformance.Exchange) bool {
			_, ok := flowIDResult(x)
			return ok
		},
		Rewrite: func(x *conformance.Exchange) error {
			m, _ := flowIDResult(x)
			m["data"].(map[string]any)["flowId"] = nil
			return x.SetResultObject(m)
		},
	},
	{
		Name:  "rest-2xx-body-as-is",
		Scope: "REST results that supabase-js reports as the error `{message: body}` for a 2xx answer whose body is not JSON.",
		JS:    "A 2xx answer whose body is not JSON (outside csv() and explain()) becomes an error `{message: body}` with the 2xx status.",
		Go:    "Query.Execute returns the 2xx body as it is, without error (All, One and MaybeOne then report a decoding error) (postgrest_results.go).",
		Why:   "A 2xx is a success; Execute is the raw layer (CSV and plans are not JSON either), and typed decoding reports the problem where it occurs.",
		When: func(x *conformance.Exchange) bool {
			_, ok := nonJSONSuccess(x)
			return ok
		},
		Rewrite: func(x *conformance.Exchange) error {
			body, _ := nonJSONSuccess(x)
			m, err := x.ResultObject()
			if err != nil {
				return err
			}
			m["data"], m["error"] = body, nil
			return x.SetResultObject(m)
		},
	},
}

// isData: a REST step (a from or rpc chain) with a REST result.
func isData(x *conformance.Exchange) bool {
	return (x.Target() == "db" || x.Target() == "rpc") && x.Result != nil && x.Result.Kind == "data"
}

func bodylessWithType(r *conformance.Request, prefix string) bool {
	_, has := r.Headers["content-type"]
	return has && !r.HasBody() && r.Under(prefix)
}

func dropContentTypeWithoutBody(prefix string) func(x *conformance.Exchange) error {
	return func(x *conformance.Exchange) error {
		for i := range x.Requests {
			if r := &x.Requests[i]; bodylessWithType(r, prefix) {
				delete(r.Headers, "content-type")
			}
		}
		return nil
	}
}

// patchBodies applies f to the JSON object body of every request sel
// selects.
func patchBodies(sel func(r *conformance.Request) bool, f func(m map[string]any)) func(x *conformance.Exchange) error {
	return func(x *conformance.Exchange) error {
		for i := range x.Requests {
			r := &x.Requests[i]
			if !sel(r) || r.Body == nil {
				continue
			}
			m, ok := r.BodyObject()
			if !ok {
				return fmt.Errorf("%s: body is not a JSON object", r.Summary())
			}
			f(m)
			if err := r.SetBodyObject(m); err != nil {
				return err
			}
		}
		return nil
	}
}

func isVerify(r *conformance.Request) bool { return r.Method == "POST" && r.Path == "/auth/v1/verify" }

func isGenerateLink(r *conformance.Request) bool {
	return r.Method == "POST" && r.Path == "/auth/v1/admin/generate_link"
}

func isChallenge(r *conformance.Request) bool {
	ok, _ := path.Match("/auth/v1/factors/*/challenge", r.Path)
	return r.Method == "POST" && ok
}

func isListUsers(r *conformance.Request) bool {
	return r.Method == "GET" && r.Path == "/auth/v1/admin/users"
}

func isPagingParam(name string) bool { return name == "page" || name == "per_page" }

func hasEmptyPaging(r *conformance.Request) bool {
	for _, p := range r.Query {
		if isPagingParam(p[0]) && p[1] == "" {
			return true
		}
	}
	return false
}

// listUsersAnswer returns the answer to a successful listUsers step's GET.
func listUsersAnswer(x *conformance.Exchange) (conformance.Rule, bool) {
	if x.Target() != "auth.admin" || !x.CallsAny("listUsers") || x.Result == nil || x.Result.Kind != "auth" {
		return conformance.Rule{}, false
	}
	if m, err := x.ResultObject(); err != nil || m["error"] != nil {
		return conformance.Rule{}, false
	}
	for i := len(x.Requests) - 1; i >= 0; i-- {
		if isListUsers(&x.Requests[i]) {
			return x.Answer(&x.Requests[i]), true
		}
	}
	return conformance.Rule{}, false
}

func deleteUserCall(x *conformance.Exchange) *conformance.Call {
	if x.Target() != "auth.admin" {
		return nil
	}
	for i, c := range x.Calls() {
		if c.Call == "deleteUser" {
			return &x.Calls()[i]
		}
	}
	return nil
}

func deleteUserArgs(c *conformance.Call) (id string, soft bool, err error) {
	a := conformance.NewArgs(*c)
	id = a.Str(0)
	if a.Has(1) {
		if err := json.Unmarshal(c.Args[1], &soft); err != nil {
			return "", false, fmt.Errorf("deleteUser: argument 1: %w", err)
		}
	}
	return id, soft, a.Err()
}

// flowIDResult returns the result of an auth step whose data carries a
// PKCE flowId.
func flowIDResult(x *conformance.Exchange) (map[string]any, bool) {
	if x.Target() != "auth" || x.Result == nil || x.Result.Kind != "auth" {
		return nil, false
	}
	m, err := x.ResultObject()
	if err != nil {
		return nil, false
	}
	data, ok := m["data"].(map[string]any)
	if !ok || data["flowId"] == nil {
		return nil, false
	}
	return m, true
}

// noSessionResult: a getSession step that returned no session, no error.
// lostSessionError names, in a rewritten result, the SDK's lost-session
// error: compared by its sentinel, ErrSessionExpired.
const lostSessionError = "LostSession"

// lostSessionStep reports whether x is a data, Storage or Functions step
// that supabase-js sent with the key as bearer while a user was signed in:
// a session result came before it and no sign-out since.
func lostSessionStep(x *conformance.Exchange) bool {
	switch x.Target() {
	case "db", "rpc", "storage", "functions":
	default:
		return false
	}
	signedIn := false
	for _, p := range x.Before {
		if p.Step == nil {
			continue
		}
		if p.CallsAny("signOut") && !signOutOthers(p) {
			signedIn = false
			continue
		}
		if m, err := p.ResultObject(); err == nil && p.Result.Kind == "auth" {
			if data, ok := m["data"].(map[string]any); ok && data["session"] != nil {
				signedIn = true
			}
		}
	}
	if !signedIn {
		return false
	}
	key := x.Case.Key
	if key == "" {
		key = conformance.DefaultAnonKey
	}
	return x.AnyRequest(func(r *conformance.Request) bool {
		return !r.Under("/auth/v1") && r.Headers["authorization"] == "Bearer "+key
	})
}

// signOutOthers reports whether x's signOut has scope "others", which keeps
// the caller's session.
func signOutOthers(x *conformance.Exchange) bool {
	for _, c := range x.Calls() {
		if c.Call == "signOut" && len(c.Args) > 0 {
			var o struct{ Scope string }
			if json.Unmarshal(c.Args[0], &o) == nil && o.Scope == "others" {
				return true
			}
		}
	}
	return false
}

func noSessionResult(x *conformance.Exchange) bool {
	if x.Target() != "auth" || !x.CallsAny("getSession") || x.Result == nil || x.Result.Kind != "auth" {
		return false
	}
	m, err := x.ResultObject()
	if err != nil || m["error"] != nil {
		return false
	}
	data, ok := m["data"].(map[string]any)
	return ok && data["session"] == nil
}

// nonJSONSuccess returns the body of a 2xx answer that supabase-js turned
// into the error {message: body}.
func nonJSONSuccess(x *conformance.Exchange) (string, bool) {
	if !isData(x) || len(x.Requests) == 0 {
		return "", false
	}
	m, err := x.ResultObject()
	if err != nil {
		return "", false
	}
	e, ok := m["error"].(map[string]any)
	if !ok || len(e) != 1 {
		return "", false
	}
	msg, ok := e["message"].(string)
	status, _ := m["status"].(json.Number)
	if n, err := status.Int64(); !ok || err != nil || n < 200 || n > 299 {
		return "", false
	}
	ans := x.Answer(&x.Requests[len(x.Requests)-1])
	if ans.BodyText == nil || *ans.BodyText != msg || json.Valid([]byte(msg)) {
		return "", false
	}
	return msg, true
}

// listValue is one array (or object of arrays) of a call that ends up in
// the query: the parameter name, what supabase-js wrote and what this SDK
// writes for the same value.
type listValue struct {
	name, js, goText string
	inList           bool // the SDK writes an in-list (pgrest.List), not an array literal
}

// Operators of the calls whose array argument supabase-js writes as
// {values.join(",")}.
var braceOps = map[string]string{
	"contains": "cs", "containedBy": "cd", "overlaps": "ov",
	"likeAllOf": "like(all)", "likeAnyOf": "like(any)", "ilikeAllOf": "ilike(all)", "ilikeAnyOf": "ilike(any)",
}

// Operators of the calls whose argument supabase-js writes as String(value),
// for an array values.join(",") without braces.
var bareOps = map[string]string{
	"eq": "eq", "neq": "neq", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte", "isDistinct": "isdistinct",
}

// listValues lists every array argument of the step's calls that is
// written into the query, with supabase-js's and this SDK's text for it:
// in()/notIn() lists; arrays given to contains, containedBy, overlaps, the
// like*Of patterns, the comparisons, match(), filter() and not(); and array
// arguments of an rpc sent with get or head.
func listValues(x *conformance.Exchange) ([]listValue, error) {
	var out []listValue
	add := func(name, op string, raw json.RawMessage, js func(json.RawMessage) (string, error), inList bool) error {
		v, err := conformance.JSValue(raw)
		if err != nil {
			return err
		}
		jsText, err := js(raw)
		if err != nil {
			return err
		}
		var goText string
		if inList {
			goText, err = pgrest.List(v)
		} else {
			goText, err = pgrest.Array(v)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, listValue{name: name, js: op + "." + jsText, goText: op + "." + goText, inList: inList})
		return nil
	}
	for _, c := range x.Calls() {
		var err error
		switch {
		case (c.Call == "in" || c.Call == "notIn") && len(c.Args) == 2:
			op := "in"
			if c.Call == "notIn" {
				op = "not.in"
			}
			err = add(strArg(c, 0), op, c.Args[1], conformance.JSInList, true)
		case braceOps[c.Call] != "" && len(c.Args) == 2 && isJSONArray(c.Args[1]):
			err = add(strArg(c, 0), braceOps[c.Call], c.Args[1], conformance.JSArrayLiteral, false)
		case bareOps[c.Call] != "" && len(c.Args) == 2 && isJSONArray(c.Args[1]):
			err = add(strArg(c, 0), bareOps[c.Call], c.Args[1], conformance.JSString, false)
		case (c.Call == "filter" || c.Call == "not") && len(c.Args) == 3 && isJSONArray(c.Args[2]):
			op := strArg(c, 1)
			if c.Call == "not" {
				op = "not." + op
			}
			base, _, _ := strings.Cut(strings.TrimPrefix(op, "not."), "(")
			err = add(strArg(c, 0), op, c.Args[2], conformance.JSString, base == "in")
		case c.Call == "match" && len(c.Args) == 1:
			var m map[string]json.RawMessage
			if json.Unmarshal(c.Args[0], &m) == nil {
				for k, v := range m {
					if isJSONArray(v) && err == nil {
						err = add(k, "eq", v, conformance.JSString, false)
					}
				}
			}
		case c.Call == "rpc" && len(c.Args) >= 3:
			var o struct{ Get, Head bool }
			var args map[string]json.RawMessage
			if json.Unmarshal(c.Args[2], &o) != nil || !(o.Get || o.Head) || json.Unmarshal(c.Args[1], &args) != nil {
				continue
			}
			for k, v := range args {
				if !isJSONArray(v) {
					continue
				}
				js, err := conformance.JSArrayLiteral(v)
				if err != nil {
					return nil, err
				}
				goText, _, err := pgrest.ParamText(v)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				out = append(out, listValue{name: k, js: js, goText: goText})
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Call, err)
		}
	}
	return out, nil
}

func strArg(c conformance.Call, i int) string {
	var s string
	if i < len(c.Args) {
		_ = json.Unmarshal(c.Args[i], &s)
	}
	return s
}

func isJSONArray(raw json.RawMessage) bool {
	return strings.HasPrefix(strings.TrimSpace(string(raw)), "[")
}

// hasListValues: the step writes in-lists (inList) or array literals into
// the query.
func hasListValues(x *conformance.Exchange, inList bool) bool {
	if !isData(x) {
		return false
	}
	vs, err := listValues(x)
	if err != nil {
		return true // let Rewrite report it
	}
	for _, v := range vs {
		if v.inList == inList {
			return true
		}
	}
	return false
}

// reencodeLists replaces supabase-js's text for every in-list (inList) or
// array literal the step's calls write into the query by this SDK's
// encoding of the same value (internal/pgrest List, Array or ParamText,
// which the query builder uses). Each supabase-js text must be found in the
// recorded query: the rule's model of supabase-js is checked as it is used.
func reencodeLists(inList bool) func(x *conformance.Exchange) error {
	return func(x *conformance.Exchange) error {
		if len(x.Requests) == 0 {
			return nil
		}
		vs, err := listValues(x)
		if err != nil {
			return err
		}
		done := map[[2]int]bool{}
		for _, v := range vs {
			if v.inList != inList {
				continue
			}
			if !x.ReplaceQueryValue(done, v.name, v.js, v.goText) {
				return fmt.Errorf("%s: supabase-js's text %q is not in the recorded query", v.name, v.js)
			}
		}
		return nil
	}
}

// ---------------------------------------------------------------------------
// The divergence document

var writeDivergenceDoc = flag.Bool("conformance.writedoc", false,
	"rewrite testdata/conformance/DIVERGENCES.md from divergenceRules")

// docDirs are the corpora DIVERGENCES.md lists cases of: the repository's
// copies, whatever SUPABASE_CONFORMANCE_DIR says.
var docDirs = []string{filepath.Join("testdata", "conformance"), filepath.Join("testdata", "conformance-extra")}

// touchedCases applies the rules to every case of the corpora and lists,
// per rule and corpus, the cases whose golden it rewrites.
func touchedCases(suites []*conformance.Suite) (map[string]map[string][]string, error) {
	out := map[string]map[string][]string{}
	for _, s := range suites {
		for i := range s.Entries {
			e := &s.Entries[i]
			_, touched, err := conformance.ApplyDivergences(e, divergenceRules)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", e.Case.Name, err)
			}
			for _, r := range touched {
				if out[r.Name] == nil {
					out[r.Name] = map[string][]string{}
				}
				out[r.Name][s.Dir] = append(out[r.Name][s.Dir], e.Case.Name)
			}
		}
	}
	return out, nil
}

func renderDivergences(suites []*conformance.Suite) (string, error) {
	touched, err := touchedCases(suites)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("# Divergences from supabase-js\n\n")
	b.WriteString("Generated from `divergenceRules` in `conformance_rules_test.go`\n")
	b.WriteString("(`go test -run TestConformanceDivergenceDoc -conformance.writedoc .` rewrites it).\n\n")
	b.WriteString("Where supabase-js 2.119.0 is wrong or sloppy on the wire, this SDK does the right\n")
	b.WriteString("thing instead. Each difference is a rule: a predicate saying which recorded\n")
	b.WriteString("requests and results it concerns, and a rewrite turning what supabase-js sent\n")
	b.WriteString("and returned there into what this SDK must send and return. `TestConformance`\n")
	b.WriteString("applies every rule to every case it concerns, in every corpus it replays, asserts\n")
	b.WriteString("the rewritten golden, and counts the case as *diverged*. A rule that rewrites a\n")
	b.WriteString("case must be needed there (without it the case must not match), and every rule\n")
	b.WriteString("must be needed by at least one case, so none can go stale. No case is named\n")
	b.WriteString("anywhere in the rules; the cases below are the ones each rule rewrites.\n\n")
	b.WriteString("| Rule | Applies to |")
	for _, s := range suites {
		fmt.Fprintf(&b, " `%s` |", filepath.ToSlash(s.Dir))
	}
	b.WriteString("\n|---|---|")
	for range suites {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	cell := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }
	for _, r := range divergenceRules {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s |", r.Name, r.Name, cell(r.Scope))
		for _, s := range suites {
			fmt.Fprintf(&b, " %d |", len(touched[r.Name][s.Dir]))
		}
		b.WriteString("\n")
	}
	for _, r := range divergenceRules {
		fmt.Fprintf(&b, "\n## %s\n\n", r.Name)
		fmt.Fprintf(&b, "- **Applies to:** %s\n", r.Scope)
		fmt.Fprintf(&b, "- **supabase-js:** %s\n", r.JS)
		fmt.Fprintf(&b, "- **This SDK:** %s\n", r.Go)
		fmt.Fprintf(&b, "- **Why:** %s\n", r.Why)
		for _, s := range suites {
			cases := touched[r.Name][s.Dir]
			quoted := make([]string, len(cases))
			for i, c := range cases {
				quoted[i] = "`" + c + "`"
			}
			list := "none"
			if len(quoted) > 0 {
				list = strings.Join(quoted, ", ")
			}
			fmt.Fprintf(&b, "- **Cases in `%s`:** %s\n", filepath.ToSlash(s.Dir), list)
		}
	}
	return b.String(), nil
}

// TestConformanceDivergenceDoc checks the rule table and that
// DIVERGENCES.md renders it with the cases each rule rewrites.
func TestConformanceDivergenceDoc(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range divergenceRules {
		switch {
		case r.Name == "" || r.Scope == "" || r.JS == "" || r.Go == "" || r.Why == "" || r.When == nil || r.Rewrite == nil:
			t.Errorf("rule %q: every field must be set", r.Name)
		case seen[r.Name]:
			t.Errorf("rule %q: duplicate name", r.Name)
		}
		seen[r.Name] = true
	}
	var suites []*conformance.Suite
	for _, d := range docDirs {
		s, err := conformance.LoadSuite(d)
		if err != nil {
			t.Fatal(err)
		}
		suites = append(suites, s)
	}
	doc, err := renderDivergences(suites)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "conformance", "DIVERGENCES.md")
	if *writeDivergenceDoc {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != doc {
		t.Errorf("%s is out of date: run go test -run TestConformanceDivergenceDoc -conformance.writedoc .", path)
	}
}
