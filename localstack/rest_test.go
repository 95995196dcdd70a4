package localstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// itemsSQL is a table with one column of each kind the filters work on.
const itemsSQL = `
CREATE TABLE public.items (
	id int PRIMARY KEY,
	name text,
	tags text[],
	data jsonb,
	score numeric,
	active boolean,
	period int4range,
	body text,
	doc tsvector GENERATED ALWAYS AS (to_tsvector('english', coalesce(body, ''))) STORED
);
INSERT INTO public.items (id, name, tags, data, score, active, period, body) VALUES
	(1, 'apple', '{red,fruit}', '{"color":"red","size":{"w":3}}', 1.5, true, '[1,5)', 'The quick brown fox'),
	(2, 'banana', '{yellow,fruit}', '{"color":"yellow","size":{"w":1}}', 2.5, false, '[5,10)', 'jumps over the lazy dog'),
	(3, 'cherry', '{red}', '{"color":"red"}', NULL, NULL, '[10,20)', 'foxes and dogs are friends'),
	(4, 'a,b "q"', '{}', NULL, 4, true, NULL, NULL),
	(5, 'Apple pie', '{baked}', '{"color":"brown"}', 5, false, '[20,30)', 'a quick dessert');
CREATE FUNCTION public.add(a int, b int DEFAULT 10) RETURNS int LANGUAGE sql AS 'SELECT a + b';
CREATE FUNCTION public.items_named(prefix text) RETURNS SETOF public.items LANGUAGE sql STABLE AS
	'SELECT * FROM public.items WHERE name LIKE prefix || ''%'' ORDER BY id';
CREATE FUNCTION public.first_item() RETURNS public.items LANGUAGE sql STABLE AS 'SELECT * FROM public.items ORDER BY id LIMIT 1';
CREATE FUNCTION public.names() RETURNS SETOF text LANGUAGE sql STABLE AS 'SELECT name FROM public.items ORDER BY id LIMIT 2';
CREATE FUNCTION public.noop() RETURNS void LANGUAGE sql AS '';
CREATE FUNCTION public.whoami() RETURNS json LANGUAGE sql STABLE AS
	'SELECT json_build_object(''uid'', auth.uid(), ''role'', auth.role(), ''jwt_role'', auth.jwt() ->> ''role'', ''current'', current_user)';
`

func itemsClient(t *testing.T) *client {
	c := newClient(t)
	if _, err := c.st.Server.Pool().Exec(context.Background(), itemsSQL); err != nil {
		t.Fatal(err)
	}
	return c
}

func ids(t *testing.T, r reply) string {
	t.Helper()
	if r.status != 200 && r.status != 206 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var out []string
	for _, row := range r.rows(t) {
		out = append(out, fmt.Sprint(row["id"]))
	}
	return strings.Join(out, ",")
}

func TestFilters(t *testing.T) {
	c := itemsClient(t)
	for _, tc := range []struct{ query, want string }{
		{"id=eq.2", "2"},
		{"id=neq.2", "1,3,4,5"},
		{"id=gt.3", "4,5"},
		{"id=gte.3", "3,4,5"},
		{"id=lt.2", "1"},
		{"id=lte.2", "1,2"},
		{"score=gt.2", "2,4,5"},
		{"name=like.*pp*", "1,5"},
		{"name=ilike.apple*", "1,5"},
		{"name=match.^[ab]", "1,2,4"},
		{"name=imatch.^A", "1,4,5"},
		{"active=is.true", "1,4"},
		{"active=is.false", "2,5"},
		{"active=is.null", "3"},
		{"active=not.is.null", "1,2,4,5"},
		{"score=is.not_null", "1,2,4,5"},
		{"active=is.unknown", "3"},
		{"active=isdistinct.true", "2,3,5"},
		{"id=in.(1,3,5)", "1,3,5"},
		{"id=not.in.(1,3,5)", "2,4"},
		{`name=in.("a,b \"q\"",apple)`, "1,4"},
		{"id=in.()", ""},
		{"tags=cs.{fruit}", "1,2"},
		{"tags=cd.{red,fruit,yellow}", "1,2,3,4"},
		{"tags=ov.{baked,yellow}", "2,5"},
		{`data=cs.{"color":"red"}`, "1,3"},
		{"period=sl.[30,40)", "1,2,3,5"},
		{"period=sr.[3,4)", "2,3,5"},
		{"period=nxl.[0,10)", "1,2"},
		{"period=nxr.[5,6)", "2,3,5"},
		{"period=adj.[5,10)", "1,3"},
		{"period=ov.[4,6)", "1,2"},
		{"doc=fts.fox", "1,3"},
		{"doc=fts(english).dogs", "2,3"},
		{"doc=plfts.quick fox", "1"},
		{"doc=phfts.lazy dog", "2"},
		{"doc=wfts.quick -fox", "5"},
		{"doc=not.fts.fox", "2,4,5"},
		{"name=like(any).{a*,c*}", "1,3,4"},
		{"name=like(all).{a*,*e}", "1"},
		{"id=eq(any).{2,4}", "2,4"},
		{"id=gt(all).{1,3}", "4,5"},
		{"data->>color=eq.red", "1,3"},
		{"data->size->>w=eq.3", "1"},
		{"data->size->w=gt.1", "1"},
		{"or=(id.eq.1,id.eq.5)", "1,5"},
		{"or=(id.eq.1,and(id.gt.3,active.is.true))", "1,4"},
		{`or=(name.eq."a,b \"q\"",id.in.(2,3))`, "2,3,4"},
		{"and=(id.gt.1,id.lt.4)", "2,3"},
		{"not.or=(id.eq.1,id.eq.2)", "3,4,5"},
		{"not.and=(id.gt.1,id.lt.5)", "1,5"},
		{"or=(id.not.eq.1,not.and(id.gt.0,id.lt.10))", "2,3,4,5"},
		{"or=(active.is.true,score.gt.4)&id=lt.5", "1,4"},
		{"id=gt.1&id=lt.4", "2,3"},
		{"name=eq.a,b \"q\"", "4"},
		{"name=eq.' OR 1=1 --", ""},
	} {
		t.Run(tc.query, func(t *testing.T) {
			var raw []string
			for _, kv := range strings.Split(tc.query, "&") {
				k, v, _ := strings.Cut(kv, "=")
				raw = append(raw, url.QueryEscape(k)+"="+url.QueryEscape(v))
			}
			r := c.do("GET", "/rest/v1/items?select=id&order=id&"+strings.Join(raw, "&"), "", nil)
			if got := ids(t, r); got != tc.want {
				t.Errorf("ids = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFilterErrors(t *testing.T) {
	c := itemsClient(t)
	wantError(t, c.do("GET", "/rest/v1/items?id=foo.1", "", nil), 400,
		`{"code":"PGRST100","message":"failed to parse filter (foo.1)","details":"unknown operator \"foo\"","hint":null}`)
	wantError(t, c.do("GET", "/rest/v1/items?active=is.maybe", "", nil), 400,
		`{"code":"PGRST100","message":"failed to parse filter (is.maybe)","details":"expecting null, not_null, true, false or unknown","hint":null}`)
	wantError(t, c.do("GET", "/rest/v1/items?id=eq.abc", "", nil), 400,
		`{"code":"22P02","message":"invalid input syntax for type integer: \"abc\"","details":null,"hint":null}`)
	wantError(t, c.do("GET", "/rest/v1/items?select=id,titel", "", nil), 400,
		`{"code":"42703","message":"column items.titel does not exist","details":null,"hint":null}`)
	wantError(t, c.do("GET", "/rest/v1/itemz", "", nil), 404,
		`{"code":"PGRST205","message":"Could not find the table 'public.itemz' in the schema cache","details":null,"hint":null}`)
	wantError(t, c.do("GET", "/rest/v1/items?select=id,owner(name)", "", nil), 400,
		`{"code":"PGRST200","message":"Could not find a relationship between 'items' and 'owner' in the schema cache","details":"Searched for a foreign key relationship between 'items' and 'owner' in the schema 'public', but no matches were found.","hint":null}`)
	wantError(t, c.do("GET", "/rest/v1/items", "", nil, "Accept-Profile", "private"), 406,
		`{"code":"PGRST106","message":"Invalid schema: private","details":null,"hint":"Only the following schemas are exposed: public, graphql_public"}`)
	wantError(t, c.do("GET", "/rest/v1/items", "", nil, "Accept", "application/geo+json"), 406,
		`{"code":"PGRST107","message":"None of these media types are available: application/geo+json","details":null,"hint":null}`)
	wantError(t, c.do("GET", "/rest/v1/items?limit=-1", "", nil), 416,
		`{"code":"PGRST103","message":"Requested range not satisfiable","details":"Limit should be greater than or equal to zero.","hint":null}`)
}

func TestSelectShapes(t *testing.T) {
	c := itemsClient(t)
	r := c.do("GET", "/rest/v1/items?select=id,label:name,color:data->>color,score::text&id=in.(1,3)&order=id.desc", "", nil)
	if r.status != 200 || string(r.body) != `[{"id":3,"label":"cherry","color":"red","score":null}, `+"\n"+` {"id":1,"label":"apple","color":"red","score":"1.5"}]` {
		t.Errorf("select: %d %q", r.status, r.body)
	}
	if got := r.header.Get("Content-Range"); got != "0-1/*" {
		t.Errorf("Content-Range = %q", got)
	}

	r = c.do("GET", "/rest/v1/items?select=id&order=score.desc.nullslast,id&limit=2&offset=1", "", nil, "Prefer", "count=exact")
	if got := ids(t, r); got != "4,2" || r.status != 206 || r.header.Get("Content-Range") != "1-2/5" {
		t.Errorf("page: %d %s %q", r.status, got, r.header.Get("Content-Range"))
	}
	r = c.do("GET", "/rest/v1/items?select=id&order=score.asc.nullsfirst&limit=1", "", nil)
	if got := ids(t, r); got != "3" {
		t.Errorf("nullsfirst: %s", got)
	}
	r = c.do("HEAD", "/rest/v1/items?id=gt.2", "", nil, "Prefer", "count=exact")
	if r.status != 200 || len(r.body) != 0 || r.header.Get("Content-Range") != "0-2/3" {
		t.Errorf("head: %d %q %q", r.status, r.body, r.header.Get("Content-Range"))
	}
	wantError(t, c.do("GET", "/rest/v1/items?offset=10&limit=1", "", nil, "Prefer", "count=exact"), 416,
		`{"code":"PGRST103","message":"Requested range not satisfiable","details":"An offset of 10 was requested, but there are only 5 rows.","hint":null}`)
	r = c.do("GET", "/rest/v1/items?select=id&order=id&offset=3", "", nil, "Prefer", "count=exact")
	if got := ids(t, r); got != "4,5" || r.status != 206 || r.header.Get("Content-Range") != "3-4/5" {
		t.Errorf("tail page: %d %s %q", r.status, got, r.header.Get("Content-Range"))
	}
	r = c.do("GET", "/rest/v1/items?id=gt.100", "", nil, "Prefer", "count=exact")
	if r.status != 200 || string(r.body) != "[]" || r.header.Get("Content-Range") != "*/0" {
		t.Errorf("empty: %d %q %q", r.status, r.body, r.header.Get("Content-Range"))
	}

	r = c.do("GET", "/rest/v1/items?select=id,name&id=eq.2", "", nil, "Accept", "application/vnd.pgrst.object+json")
	if r.status != 200 || string(r.body) != `{"id":2,"name":"banana"}` || r.header.Get("Content-Type") != "application/vnd.pgrst.object+json; charset=utf-8" {
		t.Errorf("single: %d %q %q", r.status, r.body, r.header.Get("Content-Type"))
	}
	wantError(t, c.do("GET", "/rest/v1/items?id=gt.100", "", nil, "Accept", "application/vnd.pgrst.object+json"), 406,
		`{"code":"PGRST116","message":"Cannot coerce the result to a single JSON object","details":"The result contains 0 rows","hint":null}`)
	wantError(t, c.do("GET", "/rest/v1/items", "", nil, "Accept", "application/vnd.pgrst.object+json"), 406,
		`{"code":"PGRST116","message":"Cannot coerce the result to a single JSON object","details":"The result contains 5 rows","hint":null}`)

	r = c.do("GET", "/rest/v1/items?select=id,name,active&id=in.(3,4)&order=id", "", nil, "Accept", "text/csv")
	if r.status != 200 || string(r.body) != "id,name,active\n3,cherry,\n4,\"a,b \"\"q\"\"\",t" || r.header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Errorf("csv: %d %q %q", r.status, r.body, r.header.Get("Content-Type"))
	}
	r = c.do("GET", "/rest/v1/items?select=id,active&id=eq.3", "", nil, "Accept", "application/vnd.pgrst.array+json;nulls=stripped")
	if r.status != 200 || string(r.body) != `[{"id":3}]` {
		t.Errorf("stripped: %d %q", r.status, r.body)
	}
}

func TestWrites(t *testing.T) {
	c := itemsClient(t)
	r := c.do("POST", "/rest/v1/items?select=id,name", "", map[string]any{"id": 10, "name": "kiwi", "tags": []string{"green"}},
		"Prefer", "return=representation")
	if r.status != 201 || string(r.body) != `[{"id":10,"name":"kiwi"}]` {
		t.Errorf("insert: %d %s", r.status, r.body)
	}
	r = c.do("POST", "/rest/v1/items", "", `{"id": 11, "name": "lime"}`)
	if r.status != 201 || len(r.body) != 0 || r.header.Get("Content-Range") != "*/*" {
		t.Errorf("insert minimal: %d %q %q", r.status, r.body, r.header.Get("Content-Range"))
	}
	// Bulk with columns and missing=default: absent keys take defaults.
	if _, err := c.st.Server.Pool().Exec(context.Background(), `ALTER TABLE public.items ALTER COLUMN name SET DEFAULT 'unnamed'`); err != nil {
		t.Fatal(err)
	}
	r = c.do("POST", `/rest/v1/items?columns="id","name"&select=id,name`, "", `[{"id":12,"name":"fig"},{"id":13}]`,
		"Prefer", "return=representation,missing=default")
	if r.status != 201 || string(r.body) != `[{"id":12,"name":"fig"}, {"id":13,"name":"unnamed"}]` {
		t.Errorf("bulk missing=default: %d %s", r.status, r.body)
	}
	r = c.do("POST", `/rest/v1/items?columns="id","name"&select=id,name`, "", `[{"id":14,"name":"date"},{"id":15}]`,
		"Prefer", "return=representation")
	if r.status != 201 || string(r.body) != `[{"id":14,"name":"date"}, `+"\n"+` {"id":15,"name":null}]` {
		t.Errorf("bulk: %d %s", r.status, r.body)
	}
	wantError(t, c.do("POST", "/rest/v1/items", "", `[{"id":16,"name":"x"},{"id":17}]`), 400,
		`{"code":"PGRST102","message":"All object keys must match","details":null,"hint":null}`)
	wantError(t, c.do("POST", "/rest/v1/items", "", `{"id":18,"nope":1}`), 400,
		`{"code":"PGRST204","message":"Could not find the 'nope' column of 'items' in the schema cache","details":null,"hint":null}`)
	wantError(t, c.do("POST", "/rest/v1/items", "", `{"id":10,"name":"again"}`), 409,
		`{"code":"23505","message":"duplicate key value violates unique constraint \"items_pkey\"","details":"Key (id)=(10) already exists.","hint":null}`)
	r = c.do("POST", "/rest/v1/items?select=id", "", `[]`, "Prefer", "return=representation")
	if r.status != 201 || string(r.body) != "[]" {
		t.Errorf("empty bulk insert: %d %s", r.status, r.body)
	}
	wantError(t, c.do("PATCH", "/rest/v1/items?id=eq.1", "", `[{"name":"x"}]`), 400,
		`{"code":"PGRST102","message":"Empty or invalid json","details":null,"hint":null}`)
	wantError(t, c.do("POST", "/rest/v1/items", "", `not json`), 400,
		`{"code":"PGRST102","message":"Empty or invalid json","details":null,"hint":null}`)

	// Upserts: merge on the primary key, or ignore.
	r = c.do("POST", "/rest/v1/items?select=id,name", "", `[{"id":10,"name":"kiwi2"},{"id":20,"name":"new"}]`,
		"Prefer", "return=representation,resolution=merge-duplicates")
	if r.status != 201 || string(r.body) != `[{"id":10,"name":"kiwi2"}, `+"\n"+` {"id":20,"name":"new"}]` {
		t.Errorf("upsert: %d %s", r.status, r.body)
	}
	r = c.do("POST", "/rest/v1/items?on_conflict=id&select=id,name", "", `{"id":10,"name":"ignored"}`,
		"Prefer", "return=representation,resolution=ignore-duplicates")
	if r.status != 201 || string(r.body) != `[]` {
		t.Errorf("upsert ignore: %d %s", r.status, r.body)
	}

	r = c.do("PATCH", "/rest/v1/items?id=in.(10,11)&select=id,name,active&order=id", "", `{"name":"citrus","active":true}`,
		"Prefer", "return=representation,count=exact")
	if r.status != 200 || string(r.body) != `[{"id":10,"name":"citrus","active":true}, `+"\n"+` {"id":11,"name":"citrus","active":true}]` ||
		r.header.Get("Content-Range") != "*/2" {
		t.Errorf("update: %d %s %q", r.status, r.body, r.header.Get("Content-Range"))
	}
	r = c.do("PATCH", "/rest/v1/items?id=eq.12", "", `{"score":7}`)
	if r.status != 204 {
		t.Errorf("update minimal: %d %s", r.status, r.body)
	}
	r = c.do("PATCH", "/rest/v1/items?id=eq.12", "", `{"name":"fig2"}`, "Prefer", "return=representation", "Accept", "application/vnd.pgrst.object+json")
	if r.status != 200 || !strings.HasPrefix(string(r.body), `{"id":12,"name":"fig2"`) {
		t.Errorf("update single: %d %s", r.status, r.body)
	}
	wantError(t, c.do("PATCH", "/rest/v1/items?id=gt.10", "", `{"score":1}`, "Prefer", "handling=strict,max-affected=2"), 400,
		`{"code":"PGRST124","message":"Query result exceeds max-affected preference constraint","details":"The query affects 6 rows","hint":null}`)
	r = c.do("GET", "/rest/v1/items?select=id&score=eq.1", "", nil)
	if got := ids(t, r); got != "" {
		t.Errorf("max-affected violation was committed: %s", got)
	}
	r = c.do("PATCH", "/rest/v1/items?id=eq.1", "", `{"score":99}`, "Prefer", "tx=rollback")
	if r.status != 204 {
		t.Errorf("tx=rollback: %d %s", r.status, r.body)
	}
	r = c.do("GET", "/rest/v1/items?select=score&id=eq.1", "", nil)
	if string(r.body) != `[{"score":1.5}]` {
		t.Errorf("tx=rollback committed: %s", r.body)
	}
	wantError(t, c.do("PATCH", "/rest/v1/items?id=eq.1", "", `{"score":1}`, "Prefer", "handling=strict,frobnicate=yes"), 400,
		`{"code":"PGRST122","message":"Invalid preferences given with handling=strict","details":"Invalid preferences: frobnicate=yes","hint":null}`)

	r = c.do("DELETE", "/rest/v1/items?id=gte.10&select=id&order=id", "", nil, "Prefer", "return=representation")
	if r.status != 200 || ids(t, r) != "10,11,12,13,14,15,20" {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	r = c.do("DELETE", "/rest/v1/items?id=eq.5", "", nil)
	if r.status != 204 {
		t.Errorf("delete minimal: %d %s", r.status, r.body)
	}
	if got := ids(t, c.do("GET", "/rest/v1/items?select=id&order=id", "", nil)); got != "1,2,3,4" {
		t.Errorf("after delete: %s", got)
	}
}

func TestRPC(t *testing.T) {
	c := itemsClient(t)
	r := c.do("POST", "/rest/v1/rpc/add", "", `{"a":1,"b":2}`)
	if r.status != 200 || string(r.body) != "3" {
		t.Errorf("add: %d %s", r.status, r.body)
	}
	r = c.do("GET", "/rest/v1/rpc/add?a=5", "", nil)
	if r.status != 200 || string(r.body) != "15" {
		t.Errorf("add GET with default: %d %s", r.status, r.body)
	}
	r = c.do("POST", "/rest/v1/rpc/items_named?select=id,name&id=gt.1", "", `{"prefix":"a"}`)
	if r.status != 200 || string(r.body) != `[{"id":4,"name":"a,b \"q\""}]` {
		t.Errorf("setof rows: %d %s", r.status, r.body)
	}
	r = c.do("GET", "/rest/v1/rpc/items_named?prefix=a&select=id", "", nil, "Prefer", "count=exact")
	if r.status != 200 || string(r.body) != `[{"id":1}, `+"\n"+` {"id":4}]` || r.header.Get("Content-Range") != "0-1/2" {
		t.Errorf("setof GET: %d %s %q", r.status, r.body, r.header.Get("Content-Range"))
	}
	r = c.do("POST", "/rest/v1/rpc/first_item?select=id,name", "", nil)
	if r.status != 200 || string(r.body) != `{"id":1,"name":"apple"}` {
		t.Errorf("single row: %d %s", r.status, r.body)
	}
	r = c.do("GET", "/rest/v1/rpc/names", "", nil)
	if r.status != 200 || string(r.body) != `["apple", "banana"]` {
		t.Errorf("setof scalar: %d %s", r.status, r.body)
	}
	r = c.do("POST", "/rest/v1/rpc/noop", "", nil)
	if r.status != 204 || len(r.body) != 0 {
		t.Errorf("void: %d %s", r.status, r.body)
	}
	wantError(t, c.do("POST", "/rest/v1/rpc/add", "", `{"x":1}`), 404,
		`{"code":"PGRST202","message":"Could not find the function public.add(x) in the schema cache","details":"Searched for the function public.add with parameter x or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.","hint":null}`)
	wantError(t, c.do("POST", "/rest/v1/rpc/nope", "", nil), 404,
		`{"code":"PGRST202","message":"Could not find the function public.nope without parameters in the schema cache","details":"Searched for the function public.nope without parameters or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.","hint":null}`)
	wantError(t, c.do("PUT", "/rest/v1/rpc/add", "", nil), 405,
		`{"code":"PGRST101","message":"Cannot use the PUT method on RPC","details":null,"hint":null}`)
	// GET runs read-only, as PostgREST does.
	if _, err := c.st.Server.Pool().Exec(context.Background(), `CREATE FUNCTION public.bump() RETURNS int LANGUAGE sql AS 'UPDATE public.items SET score = 0 RETURNING 1'`); err != nil {
		t.Fatal(err)
	}
	wantError(t, c.do("GET", "/rest/v1/rpc/bump", "", nil), 405,
		`{"code":"25006","message":"cannot execute UPDATE in a read-only transaction","details":null,"hint":null}`)
}

func TestClaimsReachPostgres(t *testing.T) {
	c := itemsClient(t)
	s := c.signUp("who@example.com", "password1")
	r := c.do("GET", "/rest/v1/rpc/whoami", s.AccessToken, nil)
	var got map[string]any
	json.Unmarshal(r.body, &got)
	if r.status != 200 || got["uid"] != s.User.ID || got["role"] != "authenticated" || got["jwt_role"] != "authenticated" || got["current"] != "authenticated" {
		t.Errorf("as user: %d %s", r.status, r.body)
	}
	r = c.do("GET", "/rest/v1/rpc/whoami", "", nil)
	json.Unmarshal(r.body, &got)
	if got["uid"] != nil || got["role"] != "anon" || got["current"] != "anon" {
		t.Errorf("as anon: %s", r.body)
	}
	r = c.do("GET", "/rest/v1/rpc/whoami", c.st.ServiceRoleKey, nil)
	json.Unmarshal(r.body, &got)
	if got["current"] != "service_role" {
		t.Errorf("as service_role: %s", r.body)
	}
}

func TestJWTErrors(t *testing.T) {
	c := newClient(t)
	s := c.signUp("exp@example.com", "password1")
	r := c.do("GET", "/rest/v1/todos", "not-a-jwt", nil)
	wantError(t, r, 401, `{"code":"PGRST301","message":"Expected 3 parts in JWT; got 1","details":null,"hint":null}`)
	if got := r.header.Get("WWW-Authenticate"); got != `Bearer error="invalid_token", error_description="Expected 3 parts in JWT; got 1"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	wantError(t, c.do("GET", "/rest/v1/todos", s.AccessToken[:len(s.AccessToken)-2]+"xx", nil), 401,
		`{"code":"PGRST301","message":"JWT cryptographic operation failed","details":null,"hint":null}`)
	// PostgREST allows 30 seconds of clock skew on exp, nbf and iat, and
	// refuses tokens issued in the future beyond that.
	now := time.Now().Unix()
	r = c.do("GET", "/rest/v1/todos", signedToken(t, c, map[string]any{"role": "anon", "exp": now - 31}), nil)
	wantError(t, r, 401, `{"code":"PGRST303","message":"JWT expired","details":null,"hint":null}`)
	if got := r.header.Get("WWW-Authenticate"); got != `Bearer error="invalid_token", error_description="JWT expired"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	wantError(t, c.do("GET", "/rest/v1/todos", signedToken(t, c, map[string]any{"role": "anon", "iat": now + 60}), nil), 401,
		`{"code":"PGRST303","message":"JWT issued at future","details":null,"hint":null}`)
	wantError(t, c.do("GET", "/rest/v1/todos", signedToken(t, c, map[string]any{"role": "anon", "nbf": now + 60}), nil), 401,
		`{"code":"PGRST303","message":"JWT not yet valid","details":null,"hint":null}`)
	for _, claims := range []map[string]any{
		{"role": "anon", "exp": now - 10},
		{"role": "anon", "iat": now + 10, "nbf": now + 10, "exp": now + 60},
	} {
		if r := c.do("GET", "/rest/v1/todos", signedToken(t, c, claims), nil); r.status != 200 {
			t.Errorf("within the leeway %v: %d %s", claims, r.status, r.body)
		}
	}
	// Auth's own endpoints allow no skew.
	exp := signedToken(t, c, map[string]any{"sub": s.User.ID, "role": "authenticated", "exp": now - 10})
	wantError(t, c.do("GET", "/auth/v1/user", exp, nil), 403,
		`{"code":"bad_jwt","message":"invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired"}`)
}

// TestRowLevelSecurity runs the demo schema's policies over HTTP.
func TestRowLevelSecurity(t *testing.T) {
	c := newClient(t)
	a := c.signUp("a@example.com", "password1")
	b := c.signUp("b@example.com", "password1")

	r := c.do("POST", "/rest/v1/todos?select=title,user_id", a.AccessToken, `{"title":"A's todo"}`, "Prefer", "return=representation")
	if r.status != 201 || string(r.body) != fmt.Sprintf(`[{"title":"A's todo","user_id":%q}]`, a.User.ID) {
		t.Fatalf("insert as a: %d %s", r.status, r.body)
	}
	if r := c.do("POST", "/rest/v1/todos", b.AccessToken, `{"title":"B's todo"}`); r.status != 201 {
		t.Fatalf("insert as b: %d %s", r.status, r.body)
	}

	r = c.do("GET", "/rest/v1/todos?select=title", a.AccessToken, nil)
	if string(r.body) != `[{"title":"A's todo"}]` {
		t.Errorf("a sees %s", r.body)
	}
	r = c.do("GET", "/rest/v1/todos?select=title", "", nil)
	if r.status != 200 || string(r.body) != `[]` {
		t.Errorf("anon sees %d %s", r.status, r.body)
	}
	r = c.do("GET", "/rest/v1/todos?select=title&order=title", c.st.ServiceRoleKey, nil)
	if string(r.body) != `[{"title":"A's todo"}, `+"\n"+` {"title":"B's todo"}]` {
		t.Errorf("service_role sees %s", r.body)
	}

	r = c.do("PATCH", "/rest/v1/todos?title=eq.B%27s%20todo", a.AccessToken, `{"done":true}`, "Prefer", "return=representation,count=exact")
	if r.status != 200 || string(r.body) != "[]" || r.header.Get("Content-Range") != "*/0" {
		t.Errorf("a updates b's row: %d %s %q", r.status, r.body, r.header.Get("Content-Range"))
	}
	wantError(t, c.do("POST", "/rest/v1/todos", a.AccessToken, fmt.Sprintf(`{"title":"forged","user_id":%q}`, b.User.ID)), 403,
		`{"code":"42501","message":"new row violates row-level security policy for table \"todos\"","details":null,"hint":null}`)
	wantError(t, c.do("POST", "/rest/v1/todos", "", `{"title":"anon"}`), 401,
		`{"code":"42501","message":"new row violates row-level security policy for table \"todos\"","details":null,"hint":null}`)
	r = c.do("DELETE", "/rest/v1/todos", a.AccessToken, nil, "Prefer", "count=exact")
	if r.status != 204 || r.header.Get("Content-Range") != "*/1" {
		t.Errorf("a deletes all: %d %q", r.status, r.header.Get("Content-Range"))
	}
	r = c.do("GET", "/rest/v1/todos?select=title", b.AccessToken, nil)
	if string(r.body) != `[{"title":"B's todo"}]` {
		t.Errorf("b's row after a's delete: %s", r.body)
	}
}

// A cast is spliced into the SQL text, so it must not be able to carry SQL.
func TestCastCannotInjectSQL(t *testing.T) {
	c := itemsClient(t)
	for _, q := range []string{
		"select=id&id::int%20is%20null%20or%20true%20or%20id=eq.1",
		"select=id::int%20is%20null%20or%20true",
		"select=id&order=id::int%20desc,%20(select%201)",
	} {
		r := c.do("GET", "/rest/v1/items?"+q, "", nil)
		if r.status != 400 || r.json(t)["code"] != "PGRST100" {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
	r := c.do("GET", "/rest/v1/items?select=id::text&id::text=eq.2", "", nil)
	if r.status != 200 || string(r.body) != `[{"id":"2"}]` {
		t.Errorf("plain cast: %d %s", r.status, r.body)
	}
}

// Requests run on authenticator's connection, as under PostgREST: neither
// a function nor a token can switch to a role outside the API roles.
func TestNoEscapeFromAPIRoles(t *testing.T) {
	c := itemsClient(t)
	if _, err := c.st.Server.Pool().Exec(context.Background(), `
		CREATE FUNCTION public.escape() RETURNS text LANGUAGE sql AS $$
			SELECT set_config('role', 'postgres', true);
			SELECT current_user::text
		$$;
		CREATE FUNCTION public.whoami_now() RETURNS text LANGUAGE sql AS 'SELECT session_user::text';`); err != nil {
		t.Fatal(err)
	}
	wantError(t, c.do("POST", "/rest/v1/rpc/escape", "", nil), 401,
		`{"code":"42501","message":"permission denied to set role \"postgres\"","details":null,"hint":null}`)
	if r := c.do("POST", "/rest/v1/rpc/whoami_now", "", nil); string(r.body) != `"authenticator"` {
		t.Errorf("session user: %d %s", r.status, r.body)
	}
	tok := signedToken(t, c, map[string]any{"role": "postgres"})
	wantError(t, c.do("GET", "/rest/v1/items", tok, nil), 403,
		`{"code":"42501","message":"permission denied to set role \"postgres\"","details":null,"hint":null}`)
}

// A call answered with PGRST116 is rolled back, as a write is.
func TestRPCSingleObjectRollsBack(t *testing.T) {
	c := itemsClient(t)
	if _, err := c.st.Server.Pool().Exec(context.Background(), `CREATE FUNCTION public.add_two() RETURNS SETOF public.items LANGUAGE sql AS
		$$INSERT INTO public.items (id, name) VALUES (100, 'x'), (101, 'y') RETURNING *$$`); err != nil {
		t.Fatal(err)
	}
	wantError(t, c.do("POST", "/rest/v1/rpc/add_two?select=id", "", nil, "Accept", "application/vnd.pgrst.object+json"), 406,
		`{"code":"PGRST116","message":"Cannot coerce the result to a single JSON object","details":"The result contains 2 rows","hint":null}`)
	if got := ids(t, c.do("GET", "/rest/v1/items?select=id&id=gte.100", "", nil)); got != "" {
		t.Errorf("the refused call's rows were kept: %s", got)
	}
}

// What a function sees of the request, and the errors it can raise, are
// PostgREST's as deployed by Supabase.
func TestRequestContextAndRaisedErrors(t *testing.T) {
	c := itemsClient(t)
	if _, err := c.st.Server.Pool().Exec(context.Background(), `
		CREATE SCHEMA extensions;
		GRANT USAGE ON SCHEMA extensions TO anon;
		CREATE FUNCTION extensions.ext_hello() RETURNS text LANGUAGE sql AS $$SELECT 'hello'$$;
		CREATE FUNCTION public.context() RETURNS json LANGUAGE plpgsql AS $$
		BEGIN
			RETURN json_build_object('path', current_setting('request.path'), 'search_path', current_setting('search_path'), 'ext', ext_hello());
		END $$;
		CREATE FUNCTION public.pay() RETURNS void LANGUAGE plpgsql AS $$
		BEGIN
			RAISE SQLSTATE 'PGRST' USING
				message = '{"code":"123","message":"Payment Required","details":"Quota exceeded","hint":"Upgrade your plan"}',
				detail = '{"status":402,"headers":{"X-Powered-By":"Nerd"}}';
		END $$;
		CREATE FUNCTION public.pay_badly() RETURNS void LANGUAGE plpgsql AS $$
		BEGIN
			RAISE SQLSTATE 'PGRST' USING message = 'not json', detail = '{"status":402}';
		END $$;`); err != nil {
		t.Fatal(err)
	}
	r := c.do("GET", "/rest/v1/rpc/context", "", nil)
	if r.status != 200 || string(r.body) != `{"path" : "/rpc/context", "search_path" : "\"public\", public, extensions", "ext" : "hello"}` {
		t.Errorf("context: %d %s", r.status, r.body)
	}
	r = c.do("POST", "/rest/v1/rpc/pay", "", nil)
	wantError(t, r, 402, `{"code":"123","message":"Payment Required","details":"Quota exceeded","hint":"Upgrade your plan"}`)
	if r.header.Get("X-Powered-By") != "Nerd" {
		t.Errorf("raised headers: %v", r.header)
	}
	wantError(t, c.do("POST", "/rest/v1/rpc/pay_badly", "", nil), 500,
		`{"code":"PGRST121","message":"Could not parse JSON in the RAISE SQLSTATE 'PGRST' error","details":"Invalid JSON value for MESSAGE: 'not json'","hint":"MESSAGE must be a JSON object with obligatory keys: 'code', 'message' and optional keys: 'details', 'hint'."}`)
}
