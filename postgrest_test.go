package supabase

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const pgTestKey = coreTestKey

// restHeaders returns the request headers a query chose, lower-cased,
// without the transport's and Go's own.
func restHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for k, vs := range h {
		switch lk := strings.ToLower(k); lk {
		case "apikey", "authorization", "x-client-info", "user-agent", "accept-encoding", "content-length":
		default:
			out[lk] = strings.Join(vs, ", ")
		}
	}
	return out
}

type wantReq struct {
	method string
	path   string
	query  [][2]string
	header map[string]string // exact set of query-chosen headers
	body   string            // JSON; "" for none
}

func checkRequest(t *testing.T, got fakeRequest, want wantReq) {
	t.Helper()
	assert.Equal(t, want.method, got.Method, "method")
	assert.Equal(t, want.path, got.Path, "path")
	if want.query == nil {
		want.query = [][2]string{}
	}
	gq := got.Pairs
	if gq == nil {
		gq = [][2]string{}
	}
	assert.Equal(t, want.query, gq, "query pairs")
	assert.Equal(t, want.header, restHeaders(got.Header), "headers")
	if want.body == "" {
		assert.Empty(t, got.Body, "body")
	} else {
		assert.JSONEq(t, want.body, string(got.Body), "body")
	}
	assert.Equal(t, pgTestKey, got.Header.Get("apikey"))
	assert.Equal(t, "Bearer "+pgTestKey, got.Header.Get("Authorization"))
	assert.NotEmpty(t, got.Header.Get("X-Client-Info"))
}

var (
	hGet  = map[string]string{"accept-profile": "public"}
	hJSON = map[string]string{"content-profile": "public", "content-type": "application/json"}
)

func with(base map[string]string, kv ...string) map[string]string {
	m := map[string]string{}
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

type todo struct {
	ID    int    `json:"id,omitempty"`
	Title string `json:"title"`
	Done  bool   `json:"done"`
}

func TestQueryRequests(t *testing.T) {
	ts := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		build func(c *Client) Query
		want  wantReq
	}{
		{"from alone selects all", func(c *Client) Query { return c.From("todos") },
			wantReq{"GET", "/rest/v1/todos", [][2]string{{"select", "*"}}, hGet, ""}},
		{"select columns whitespace", func(c *Client) Query {
			return c.From("people").Select(` id, "Full Name" ,` + "\n\tage ")
		}, wantReq{"GET", "/rest/v1/people", [][2]string{{"select", `id,"Full Name",age`}}, hGet, ""}},
		{"table name escaped", func(c *Client) Query { return c.From("Straße daten/x?").Select("id") },
			wantReq{"GET", "/rest/v1/Straße daten/x?", [][2]string{{"select", "id"}}, hGet, ""}},
		{"count head", func(c *Client) Query {
			return c.From("events").Select("*", CountExact, Head()).Eq("kind", "click")
		}, wantReq{"HEAD", "/rest/v1/events", [][2]string{{"select", "*"}, {"kind", "eq.click"}},
			with(hGet, "prefer", "count=exact"), ""}},
		{"count planned", func(c *Client) Query { return c.From("events").Select("id", CountPlanned) },
			wantReq{"GET", "/rest/v1/events", [][2]string{{"select", "id"}}, with(hGet, "prefer", "count=planned"), ""}},
		{"comparison operators", func(c *Client) Query {
			return c.From("items").Select("id").Eq("a", "x").Neq("b", 1).Gt("c", 10).Gte("d", 0.5).
				Lt("e", ts).Lte("f", int64(-3))
		}, wantReq{"GET", "/rest/v1/items", [][2]string{{"select", "id"}, {"a", "eq.x"}, {"b", "neq.1"},
			{"c", "gt.10"}, {"d", "gte.0.5"}, {"e", "lt.2025-02-01T00:00:00Z"}, {"f", "lte.-3"}}, hGet, ""}},
		{"eq null and empty", func(c *Client) Query {
			return c.From("items").Select("id").Eq("p", nil).Eq("n", "")
		}, wantReq{"GET", "/rest/v1/items", [][2]string{{"select", "id"}, {"p", "eq.null"}, {"n", "eq."}}, hGet, ""}},
		{"eq raw reserved chars stay raw", func(c *Client) Query {
			return c.From("items").Select("id").Eq("label", `a,b (c) "q" \ &x=1`)
		}, wantReq{"GET", "/rest/v1/items", [][2]string{{"select", "id"}, {"label", `eq.a,b (c) "q" \ &x=1`}}, hGet, ""}},
		{"patterns", func(c *Client) Query {
			return c.From("items").Select("id").Like("a", "%w_t%").ILike("b", "%@X.com").
				RegexMatch("c", `^[A-Z]{3}\d+$`).RegexIMatch("d", "^p")
		}, wantReq{"GET", "/rest/v1/items", [][2]string{{"select", "id"}, {"a", "like.%w_t%"}, {"b", "ilike.%@X.com"},
			{"c", `match.^[A-Z]{3}\d+$`}, {"d", "imatch.^p"}}, hGet, ""}},
		{"like all/any", func(c *Client) Query {
			return c.From("items").Select("id").LikeAllOf("a", []string{"%a%", "%b%"}).LikeAnyOf("b", []string{"a%"}).
				ILikeAllOf("c", []string{"%A%"}).ILikeAnyOf("d", []string{"%x,y%", "Z%"})
		}, wantReq{"GET", "/rest/v1/items", [][2]string{{"select", "id"}, {"a", "like(all).{%a%,%b%}"},
			{"b", "like(any).{a%}"}, {"c", "ilike(all).{%A%}"}, {"d", `ilike(any).{"%x,y%",Z%}`}}, hGet, ""}},
		{"is and isdistinct", func(c *Client) Query {
			return c.From("items").Select("id").Is("a", nil).Is("b", true).Is("c", false).Is("d", "unknown").
				IsDistinct("e", nil).IsDistinct("f", 3)
		}, wantReq{"GET", "/rest/v1/items", [][2]string{{"select", "id"}, {"a", "is.null"}, {"b", "is.true"},
			{"c", "is.false"}, {"d", "is.unknown"}, {"e", "isdistinct.null"}, {"f", "isdistinct.3"}}, hGet, ""}},
		{"in and not in", func(c *Client) Query {
			return c.From("items").Select("id").In("id", []int{5, 5, 6}).In("e", []string{}).
				NotIn("s", []string{"x,y", "z"}).In("l", []any{"", nil, true, 0, `say "hi"`})
		}, wantReq{"GET", "/rest/v1/items", [][2]string{{"select", "id"}, {"id", "in.(5,6)"}, {"e", "in.()"},
			{"s", `not.in.("x,y",z)`}, {"l", `in.("",null,true,0,"say \"hi\"")`}}, hGet, ""}},
		{"contains family", func(c *Client) Query {
			return c.From("items").Select("id").Contains("tags", []string{"red", "blue"}).
				Contains("meta", map[string]any{"size": "L"}).Contains("during", "[2025-01-01,2025-01-31)").
				ContainedBy("t2", []string{"a b"}).ContainedBy("attrs", struct {
				Color string `json:"color"`
			}{"red"}).Overlaps("t3", []string{"sale"}).Overlaps("r", "[1,2]")
		}, wantReq{"GET", "/rest/v1/items", [][2]string{{"select", "id"}, {"tags", "cs.{red,blue}"},
			{"meta", `cs.{"size":"L"}`}, {"during", "cs.[2025-01-01,2025-01-31)"}, {"t2", `cd.{"a b"}`},
			{"attrs", `cd.{"color":"red"}`}, {"t3", "ov.{sale}"}, {"r", "ov.[1,2]"}}, hGet, ""}},
		{"range operators", func(c *Client) Query {
			return c.From("items").Select("id").RangeGt("r1", "[2,5)").RangeGte("r2", "[2,5)").
				RangeLt("r3", "(10,20]").RangeLte("r4", "[,100)").RangeAdjacent("r5", "[1,3)")
		}, wantReq{"GET", "/rest/v1/items", [][2]string{{"select", "id"}, {"r1", "sr.[2,5)"}, {"r2", "nxl.[2,5)"},
			{"r3", "sl.(10,20]"}, {"r4", "nxr.[,100)"}, {"r5", "adj.[1,3)"}}, hGet, ""}},
		{"text search", func(c *Client) Query {
			return c.From("items").Select("id").TextSearch("a", "'fat' & 'rat'").
				TextSearch("b", "fat rat", SearchType(TextSearchPlain), SearchConfig("english")).
				TextSearch("c", "the rat", SearchType(TextSearchPhrase)).
				TextSearch("d", `"fat rat" or cat`, SearchType(TextSearchWebsearch), SearchConfig("simple"))
		}, wantReq{"GET", "/rest/v1/items", [][2]string{{"select", "id"}, {"a", "fts.'fat' & 'rat'"},
			{"b", "plfts(english).fat rat"}, {"c", "phfts.the rat"}, {"d", `wfts(simple)."fat rat" or cat`}}, hGet, ""}},
		{"match sorted", func(c *Client) Query {
			return c.From("items").Select("id").Match(map[string]any{"status": "open", "priority": 2, "pinned": true})
		}, wantReq{"GET", "/rest/v1/items", [][2]string{{"select", "id"}, {"pinned", "eq.true"}, {"priority", "eq.2"},
			{"status", "eq.open"}}, hGet, ""}},
		{"not and filter", func(c *Client) Query {
			return c.From("items").Select("id").Not("a", "is", nil).Not("b", "in", "(x,y)").Not("c", "in", []string{"p", "q r"}).
				Not("d", "cs", []int{1}).Filter("e", "in", "(1,2)").Filter("f", "not.eq", "done").
				Filter("g", "like(any)", []string{"a%", "b,"}).Filter("h", "fts(english)", "cat")
		}, wantReq{"GET", "/rest/v1/items", [][2]string{{"select", "id"}, {"a", "not.is.null"}, {"b", "not.in.(x,y)"},
			{"c", `not.in.(p,"q r")`}, {"d", "not.cs.{1}"}, {"e", "in.(1,2)"}, {"f", "not.eq.done"},
			{"g", `like(any).{a%,"b,"}`}, {"h", "fts(english).cat"}}, hGet, ""}},
		{"or groups", func(c *Client) Query {
			return c.From("posts").Select("id,comments(id)").Or("a.eq.1,b.eq.2").
				Or("body.ilike.*spam*", ReferencedTable("comments")).
				Or("name.eq." + OrValue("O'Brien, Jr. (x)"))
		}, wantReq{"GET", "/rest/v1/posts", [][2]string{{"select", "id,comments(id)"}, {"or", "(a.eq.1,b.eq.2)"},
			{"comments.or", "(body.ilike.*spam*)"}, {"or", `(name.eq."O'Brien, Jr. (x)")`}}, hGet, ""}},
		{"order merging and referenced", func(c *Client) Query {
			return c.From("posts").Select("id").Order("priority", Descending()).Order("created_at").
				Order("id", NullsLast()).Order("due", Ascending(), NullsFirst()).
				Order("created_at", ReferencedTable("comments"), Descending())
		}, wantReq{"GET", "/rest/v1/posts", [][2]string{{"select", "id"},
			{"order", "priority.desc,created_at.asc,id.asc.nullslast,due.asc.nullsfirst"},
			{"comments.order", "created_at.desc"}}, hGet, ""}},
		{"limit range", func(c *Client) Query {
			return c.From("posts").Select("id").Limit(3).Range(10, 14).Limit(2, ReferencedTable("comments")).
				Range(5, 9, ReferencedTable("tags"))
		}, wantReq{"GET", "/rest/v1/posts", [][2]string{{"select", "id"}, {"limit", "5"}, {"offset", "10"},
			{"comments.limit", "2"}, {"tags.offset", "5"}, {"tags.limit", "5"}}, hGet, ""}},
		{"single", func(c *Client) Query { return c.From("events").Select("id").Eq("id", 7).Single() },
			wantReq{"GET", "/rest/v1/events", [][2]string{{"select", "id"}, {"id", "eq.7"}},
				with(hGet, "accept", "application/vnd.pgrst.object+json"), ""}},
		{"maybe single keeps the request", func(c *Client) Query { return c.From("events").Select("id").MaybeSingle() },
			wantReq{"GET", "/rest/v1/events", [][2]string{{"select", "id"}}, hGet, ""}},
		{"csv", func(c *Client) Query { return c.From("events").CSV() },
			wantReq{"GET", "/rest/v1/events", [][2]string{{"select", "*"}}, with(hGet, "accept", "text/csv"), ""}},
		{"geojson", func(c *Client) Query { return c.From("places").Select("id,geom").GeoJSON() },
			wantReq{"GET", "/rest/v1/places", [][2]string{{"select", "id,geom"}}, with(hGet, "accept", "application/geo+json"), ""}},
		{"explain default", func(c *Client) Query { return c.From("events").Select("*").Explain(ExplainOptions{}) },
			wantReq{"GET", "/rest/v1/events", [][2]string{{"select", "*"}},
				with(hGet, "accept", `application/vnd.pgrst.plan+text; for="application/json"; options=;`), ""}},
		{"explain csv json", func(c *Client) Query {
			return c.From("events").Select("id").CSV().Explain(ExplainOptions{Analyze: true, Verbose: true,
				Settings: true, Buffers: true, WAL: true, Format: "json"})
		}, wantReq{"GET", "/rest/v1/events", [][2]string{{"select", "id"}},
			with(hGet, "accept", `application/vnd.pgrst.plan+json; for="text/csv"; options=analyze|verbose|settings|buffers|wal;`), ""}},
		{"strip nulls", func(c *Client) Query { return c.From("todos").Select("id").StripNulls() },
			wantReq{"GET", "/rest/v1/todos", [][2]string{{"select", "id"}},
				with(hGet, "accept", "application/vnd.pgrst.array+json;nulls=stripped"), ""}},
		{"strip nulls single", func(c *Client) Query { return c.From("todos").Select("id").Single().StripNulls() },
			wantReq{"GET", "/rest/v1/todos", [][2]string{{"select", "id"}},
				with(hGet, "accept", "application/vnd.pgrst.object+json;nulls=stripped"), ""}},
		{"rollback and header", func(c *Client) Query {
			return c.From("todos").Select("id").Rollback().Header("x-trace-id", "t-1").Header("X-Trace-Id", "t-2")
		}, wantReq{"GET", "/rest/v1/todos", [][2]string{{"select", "id"}},
			with(hGet, "prefer", "tx=rollback", "x-trace-id", "t-2"), ""}},
		{"schema", func(c *Client) Query { return c.Schema("analytics").From("page_views").Select("id") },
			wantReq{"GET", "/rest/v1/page_views", [][2]string{{"select", "id"}}, map[string]string{"accept-profile": "analytics"}, ""}},
		{"insert one struct", func(c *Client) Query { return c.From("todos").Insert(todo{Title: "Buy milk"}) },
			wantReq{"POST", "/rest/v1/todos", nil, hJSON, `{"title":"Buy milk","done":false}`}},
		{"insert many structs with select", func(c *Client) Query {
			return c.From("todos").Insert([]todo{{Title: "a"}, {ID: 2, Title: "b", Done: true}}).Select("id")
		}, wantReq{"POST", "/rest/v1/todos", [][2]string{{"columns", `"title","done","id"`}, {"select", "id"}},
			with(hJSON, "prefer", "return=representation"), `[{"title":"a","done":false},{"id":2,"title":"b","done":true}]`}},
		{"insert raw json keeps key order, count, missing default", func(c *Client) Query {
			return c.From("todos").Insert(json.RawMessage(`[{"title":"a"},{"title":"b","done":true}]`),
				CountExact, DefaultToNull(false)).Select("")
		}, wantReq{"POST", "/rest/v1/todos", [][2]string{{"columns", `"title","done"`}, {"select", "*"}},
			with(hJSON, "prefer", "count=exact, missing=default, return=representation"),
			`[{"title":"a"},{"title":"b","done":true}]`}},
		{"insert empty object", func(c *Client) Query { return c.From("counters").Insert(map[string]any{}) },
			wantReq{"POST", "/rest/v1/counters", nil, hJSON, `{}`}},
		{"upsert", func(c *Client) Query {
			return c.From("profiles").Upsert(map[string]any{"id": "p1", "username": "ada"})
		}, wantReq{"POST", "/rest/v1/profiles", nil, with(hJSON, "prefer", "resolution=merge-duplicates"),
			`{"id":"p1","username":"ada"}`}},
		{"upsert options", func(c *Client) Query {
			return c.From("tags").Upsert([]map[string]string{{"name": "red"}, {"name": "blue"}},
				OnConflict("name"), IgnoreDuplicates(), CountExact).Select("id,name")
		}, wantReq{"POST", "/rest/v1/tags", [][2]string{{"on_conflict", "name"}, {"columns", `"name"`}, {"select", "id,name"}},
			with(hJSON, "prefer", "resolution=ignore-duplicates, count=exact, return=representation"),
			`[{"name":"red"},{"name":"blue"}]`}},
		{"update", func(c *Client) Query {
			return c.From("todos").Update(map[string]any{"done": true, "note": nil}).Eq("id", 5)
		}, wantReq{"PATCH", "/rest/v1/todos", [][2]string{{"id", "eq.5"}}, hJSON, `{"done":true,"note":null}`}},
		{"update count select max affected", func(c *Client) Query {
			return c.From("todos").Update(map[string]any{"done": true}, CountExact).In("id", []int{1, 2}).
				Select("id,done").MaxAffected(2)
		}, wantReq{"PATCH", "/rest/v1/todos", [][2]string{{"id", "in.(1,2)"}, {"select", "id,done"}},
			with(hJSON, "prefer", "count=exact, return=representation, handling=strict, max-affected=2"), `{"done":true}`}},
		{"delete has no content type", func(c *Client) Query { return c.From("todos").Delete().Eq("id", 9) },
			wantReq{"DELETE", "/rest/v1/todos", [][2]string{{"id", "eq.9"}}, map[string]string{"content-profile": "public"}, ""}},
		{"delete count select", func(c *Client) Query {
			return c.From("todos").Delete(CountExact).Lt("created_at", "2024-01-01").Select("id")
		}, wantReq{"DELETE", "/rest/v1/todos", [][2]string{{"created_at", "lt.2024-01-01"}, {"select", "id"}},
			map[string]string{"content-profile": "public", "prefer": "count=exact, return=representation"}, ""}},
		{"rpc post", func(c *Client) Query { return c.RPC("add_numbers", map[string]int{"a": 1, "b": 2}) },
			wantReq{"POST", "/rest/v1/rpc/add_numbers", nil, hJSON, `{"a":1,"b":2}`}},
		{"rpc no args", func(c *Client) Query { return c.RPC("now_utc", nil) },
			wantReq{"POST", "/rest/v1/rpc/now_utc", nil, hJSON, `{}`}},
		{"rpc name escaped", func(c *Client) Query { return c.RPC("a/b c", nil) },
			wantReq{"POST", "/rest/v1/rpc/a/b c", nil, hJSON, `{}`}},
		{"rpc get", func(c *Client) Query {
			return c.RPC("list_items", json.RawMessage(`{"category":"shoes","ids":[1,2,3],"label":"a b,c","n":null,"tags":["x,y"]}`), RPCGet())
		}, wantReq{"GET", "/rest/v1/rpc/list_items", [][2]string{{"category", "shoes"}, {"ids", "{1,2,3}"},
			{"label", "a b,c"}, {"n", "null"}, {"tags", `{"x,y"}`}}, hGet, ""}},
		{"rpc head count", func(c *Client) Query {
			return c.RPC("list_items", map[string]string{"category": "shoes"}, Head(), CountExact)
		}, wantReq{"HEAD", "/rest/v1/rpc/list_items", [][2]string{{"category", "shoes"}}, with(hGet, "prefer", "count=exact"), ""}},
		{"rpc head object falls back to post", func(c *Client) Query {
			return c.RPC("count_matching", map[string]any{"filter": map[string]string{"color": "red"}}, Head(), CountExact)
		}, wantReq{"POST", "/rest/v1/rpc/count_matching", nil, with(hJSON, "prefer", "count=exact, return=minimal"),
			`{"filter":{"color":"red"}}`}},
		{"rpc filters and select", func(c *Client) Query {
			return c.RPC("list_items", map[string]string{"category": "hats"}, CountExact).Select("id,name").
				Gte("price", 5).Order("name").Range(0, 4)
		}, wantReq{"POST", "/rest/v1/rpc/list_items", [][2]string{{"select", "id,name"}, {"price", "gte.5"},
			{"order", "name.asc"}, {"offset", "0"}, {"limit", "5"}},
			with(hJSON, "prefer", "count=exact, return=representation"), `{"category":"hats"}`}},
		{"rpc single schema", func(c *Client) Query {
			return c.Schema("billing").RPC("get_profile", map[string]string{"user_id": "u1"}).Single()
		}, wantReq{"POST", "/rest/v1/rpc/get_profile", nil, map[string]string{"content-profile": "billing",
			"content-type": "application/json", "accept": "application/vnd.pgrst.object+json"}, `{"user_id":"u1"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newFakeAPI(t, jsonReply(200, `[]`))
			q := tt.build(c)
			require.NoError(t, q.Err())
			_, err := q.Execute(context.Background())
			require.NoError(t, err)
			require.Len(t, s.requests(), 1)
			checkRequest(t, s.last(), tt.want)

			// Preview describes the same request without sending it.
			p, err := q.Preview()
			require.NoError(t, err)
			assert.Equal(t, tt.want.method, p.Method)
			assert.Len(t, s.requests(), 1)
			for k, v := range tt.want.header {
				assert.Equal(t, v, p.Header.Get(k), "preview header %s", k)
			}
		})
	}
}

func TestQueryGlobalHeadersAndCredentials(t *testing.T) {
	s, c := newFakeAPI(t, jsonReply(200, `[]`), WithHeaders(map[string]string{"X-App": "demo"}))
	q := c.From("todos").Select("id")
	_, err := q.Execute(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "demo", s.last().Header.Get("X-App"))

	p, err := q.Preview()
	require.NoError(t, err)
	assert.Equal(t, "demo", p.Header.Get("X-App"))
	assert.Empty(t, p.Header.Get("Authorization"))
	assert.Empty(t, p.Header.Get("Apikey"))
	assert.NotContains(t, p.String(), pgTestKey)

	// The token is read at send time, not when the query is built.
	uc := c.WithAccessToken("user-jwt")
	_, err = uc.From("todos").Execute(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "Bearer user-jwt", s.last().Header.Get("Authorization"))
	assert.Equal(t, pgTestKey, s.last().Header.Get("Apikey"))
}

func TestQueryPreviewDoesNotAlias(t *testing.T) {
	_, c := newFakeAPI(t, jsonReply(200, `[]`), WithHeaders(map[string]string{"X-App": "demo"}))
	q := c.From("todos").Insert(map[string]string{"title": "x"})
	p, err := q.Preview()
	require.NoError(t, err)
	p.Body[2] = 'X'
	p.Header.Set("X-App", "changed")
	p.Header["X-App"][0] = "changed"
	p2, err := q.Preview()
	require.NoError(t, err)
	assert.JSONEq(t, `{"title":"x"}`, string(p2.Body))
	assert.Equal(t, "demo", p2.Header.Get("X-App"))
}

func TestQueryEncodingEdgeCases(t *testing.T) {
	type point struct {
		X int `json:"x"`
	}
	var nilTime *time.Time
	tests := []struct {
		name string
		q    func(q Query) Query
		want [2]string
	}{
		{"in reserved", func(q Query) Query {
			return q.In("c", []string{`a"b`, `c\d`, "e f", "g.h", "i:j", "(k)", "l,m", "plain"})
		},
			[2]string{"c", `in.("a\"b","c\\d","e f","g.h","i:j","(k)","l,m",plain)`}},
		{"in break-out attempt", func(q Query) Query { return q.In("c", []string{`x"),id.gt.(0`}) },
			[2]string{"c", `in.("x\"),id.gt.(0")`}},
		{"in unicode", func(q Query) Query { return q.In("c", []string{"naïve", "東京 x"}) },
			[2]string{"c", `in.(naïve,"東京 x")`}},
		{"in times", func(q Query) Query {
			return q.In("c", []time.Time{time.Date(2025, 1, 1, 12, 0, 0, 5, time.UTC)})
		}, [2]string{"c", `in.("2025-01-01T12:00:00.000000005Z")`}},
		{"in nested", func(q Query) Query { return q.In("c", [][]int{{1, 2}, {3}}) },
			[2]string{"c", `in.("{1,2}",{3})`}},
		{"in nil", func(q Query) Query { return q.In("c", nil) }, [2]string{"c", "in.()"}},
		{"eq slice", func(q Query) Query { return q.Eq("c", []string{"a", "b c"}) }, [2]string{"c", `eq.{a,"b c"}`}},
		{"eq map", func(q Query) Query { return q.Eq("c", map[string]int{"b": 2, "a": 1}) }, [2]string{"c", `eq.{"a":1,"b":2}`}},
		{"eq struct", func(q Query) Query { return q.Eq("c", point{3}) }, [2]string{"c", `eq.{"x":3}`}},
		{"eq nil pointer", func(q Query) Query { return q.Eq("c", nilTime) }, [2]string{"c", "eq.null"}},
		{"eq valuer", func(q Query) Query { return q.Eq("c", sql.NullString{String: "v", Valid: true}) }, [2]string{"c", "eq.v"}},
		{"eq float", func(q Query) Query { return q.Eq("c", 1e21) }, [2]string{"c", "eq.1000000000000000000000"}},
		{"eq json number", func(q Query) Query { return q.Eq("c", json.Number("12.50")) }, [2]string{"c", "eq.12.50"}},
		{"contains nested", func(q Query) Query { return q.Contains("c", [][]string{{"a", ""}, {"null", "b"}}) },
			[2]string{"c", `cs.{{a,""},{"null",b}}`}},
		{"contains nil element", func(q Query) Query { return q.Contains("c", []any{"a", nil}) },
			[2]string{"c", "cs.{a,null}"}},
		{"contains quotes", func(q Query) Query { return q.Contains("c", []string{`}"{`, `\`}) },
			[2]string{"c", `cs.{"}\"{","\\"}`}},
		{"unicode column and value", func(q Query) Query { return q.Eq("città", "Zürich 🚀") },
			[2]string{"città", "eq.Zürich 🚀"}},
		{"ampersand in column", func(q Query) Query { return q.Eq("a&b=c", "1&2") }, [2]string{"a&b=c", "eq.1&2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newFakeAPI(t, jsonReply(200, `[]`))
			q := tt.q(c.From("t").Select("id"))
			require.NoError(t, q.Err())
			_, err := q.Execute(context.Background())
			require.NoError(t, err)
			assert.Equal(t, [][2]string{{"select", "id"}, tt.want}, s.last().Pairs)
		})
	}
}

func TestQueryImmutableUnderRace(t *testing.T) {
	s, c := newFakeAPI(t, jsonReply(200, `[]`))
	base := c.From("items").Select("id,name").Eq("org", 1).Order("id").Header("X-Base", "1")
	basePreview, err := base.Preview()
	require.NoError(t, err)

	const workers = 32
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := range workers {
		wg.Go(func() {
			q := base.Eq("worker", i).Order("name", Descending()).Limit(i+1).Header("X-Worker", fmt.Sprint(i))
			if i%2 == 0 {
				q = q.In("tag", []string{"a", fmt.Sprint(i)}).Range(i, i+10)
			}
			if i%3 == 0 {
				q = q.Single()
			}
			p, err := q.Preview()
			if err != nil {
				errs <- err
				return
			}
			want := fmt.Sprintf("worker=eq.%d", i)
			if !strings.Contains(p.URL, want) || p.Header.Get("X-Worker") != fmt.Sprint(i) {
				errs <- fmt.Errorf("worker %d: preview %s", i, p.URL)
				return
			}
			if _, err := q.Execute(context.Background()); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	after, err := base.Preview()
	require.NoError(t, err)
	assert.Equal(t, basePreview, after, "the base query changed")
	assert.Len(t, s.requests(), workers)
	for _, r := range s.requests() {
		var workerFilters, orders int
		for _, p := range r.Pairs {
			if p[0] == "worker" {
				workerFilters++
			}
			if p[0] == "order" {
				orders++
				assert.Equal(t, "id.asc,name.desc", p[1])
			}
		}
		assert.Equal(t, 1, workerFilters, "%v", r.Pairs)
		assert.Equal(t, 1, orders)
	}
}

func TestQueryBranchesDoNotShareParams(t *testing.T) {
	_, c := newFakeAPI(t, jsonReply(200, `[]`))
	// Give base spare capacity so a careless append would write into it.
	base := c.From("t").Eq("a", 1).Eq("b", 2).Eq("c", 3)
	x := base.Eq("x", 1)
	y := base.Eq("y", 2)
	px, _ := x.Preview()
	py, _ := y.Preview()
	assert.Contains(t, px.URL, "x=eq.1")
	assert.NotContains(t, px.URL, "y=eq.2")
	assert.Contains(t, py.URL, "y=eq.2")
	assert.NotContains(t, py.URL, "x=eq.1")
	o1 := base.Order("a")
	o2 := o1.Order("b")
	o3 := o1.Order("c")
	p2, _ := o2.Preview()
	p3, _ := o3.Preview()
	assert.Contains(t, p2.URL, "order=a.asc,b.asc")
	assert.Contains(t, p3.URL, "order=a.asc,c.asc")
}

func TestQueryStickyErrorsSendNothing(t *testing.T) {
	tests := []struct {
		name string
		q    func(c *Client) Query
		msg  string
	}{
		{"empty table", func(c *Client) Query { return c.From(" ").Select("id") }, "empty table"},
		{"empty column", func(c *Client) Query { return c.From("t").Eq("", 1) }, "empty column"},
		{"upper-case operator", func(c *Client) Query { return c.From("t").Filter("a", "EQ", 1) }, "not an operator"},
		{"operator with a value", func(c *Client) Query { return c.From("t").Filter("a", "eq.5", 1) }, "not an operator"},
		{"double not", func(c *Client) Query { return c.From("t").Not("a", "not.eq", 1) }, "already negated"},
		{"bad range", func(c *Client) Query { return c.From("t").Range(10, 5) }, "Range(10, 5)"},
		{"negative range", func(c *Client) Query { return c.From("t").Range(-1, 5) }, "Range(-1, 5)"},
		{"negative limit", func(c *Client) Query { return c.From("t").Limit(-1) }, "negative limit"},
		{"channel value", func(c *Client) Query { return c.From("t").Eq("a", make(chan int)) }, "cannot be encoded"},
		{"func in list", func(c *Client) Query { return c.From("t").In("a", []any{1, func() {}}) }, "cannot be encoded"},
		{"in not a list", func(c *Client) Query { return c.From("t").In("a", 5) }, "slice or array"},
		{"is bad value", func(c *Client) Query { return c.From("t").Is("a", 5) }, "Is"},
		{"unencodable insert", func(c *Client) Query { return c.From("t").Insert(map[string]any{"f": func() {}}) }, "cannot encode"},
		{"insert scalar", func(c *Client) Query { return c.From("t").Insert(5) }, "object or a list"},
		{"insert list of scalars", func(c *Client) Query { return c.From("t").Insert([]int{1}) }, "object or a list"},
		{"update list", func(c *Client) Query { return c.From("t").Update([]todo{{}}) }, "must be an object"},
		{"on conflict on insert", func(c *Client) Query { return c.From("t").Insert(todo{}, OnConflict("id")) }, "only to Upsert"},
		{"two writes", func(c *Client) Query { return c.From("t").Delete().Update(todo{}) }, "already a Delete"},
		{"head on write", func(c *Client) Query { return c.From("t").Insert(todo{}).Select("*", Head()) }, "Head"},
		{"bad count", func(c *Client) Query { return c.From("t").Select("*", CountMethod("all")) }, "count method"},
		{"bad explain", func(c *Client) Query { return c.From("t").Explain(ExplainOptions{Format: "yaml"}) }, "format"},
		{"strip nulls csv", func(c *Client) Query { return c.From("t").CSV().StripNulls() }, "StripNulls"},
		{"max affected on select", func(c *Client) Query { return c.From("t").MaxAffected(1) }, "MaxAffected"},
		{"bad header", func(c *Client) Query { return c.From("t").Header("X Bad", "v") }, "header name"},
		{"header injection", func(c *Client) Query { return c.From("t").Header("X-A", "v\r\nX-B: w") }, "control character"},
		{"empty rpc", func(c *Client) Query { return c.RPC("", nil) }, "empty function"},
		{"rpc get array args", func(c *Client) Query { return c.RPC("f", []int{1}, RPCGet()) }, "must be an object"},
		{"bad search config", func(c *Client) Query { return c.From("t").TextSearch("a", "b", SearchConfig("x)")) }, "config"},
		{"empty or", func(c *Client) Query { return c.From("t").Or(" ") }, "empty filter"},
		{"first error sticks", func(c *Client) Query { return c.From("t").Eq("", 1).Range(5, 1) }, "Eq: empty column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newFakeAPI(t, jsonReply(200, `[]`))
			q := tt.q(c)
			require.Error(t, q.Err())
			// Methods called after the error keep it.
			q = q.Eq("z", 1).Order("z").Limit(1)
			ctx := context.Background()
			_, err := q.Execute(ctx)
			assert.ErrorIs(t, err, ErrInvalidQuery)
			assert.ErrorContains(t, err, tt.msg)
			_, err = All[todo](ctx, q)
			assert.ErrorIs(t, err, ErrInvalidQuery)
			_, err = One[todo](ctx, q)
			assert.ErrorIs(t, err, ErrInvalidQuery)
			_, err = MaybeOne[todo](ctx, q)
			assert.ErrorIs(t, err, ErrInvalidQuery)
			_, err = q.Count(ctx)
			assert.ErrorIs(t, err, ErrInvalidQuery)
			for _, err := range Rows[todo](ctx, q) {
				assert.ErrorIs(t, err, ErrInvalidQuery)
			}
			_, err = q.Preview()
			assert.ErrorIs(t, err, ErrInvalidQuery)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Zero(t, e.Status)
			assert.Empty(t, s.requests(), "no request may be sent")
		})
	}
}

func TestQueryZeroValue(t *testing.T) {
	var q Query
	_, err := q.Execute(context.Background())
	assert.ErrorIs(t, err, ErrInvalidQuery)
	_, err = q.Eq("a", 1).Preview()
	assert.ErrorIs(t, err, ErrInvalidQuery)
}

func TestExecuteCount(t *testing.T) {
	for _, tt := range []struct {
		contentRange string
		want         *int64
	}{
		{"0-9/42", ptr[int64](42)},
		{"*/1200", ptr[int64](1200)},
		{"0-24/57", ptr[int64](57)},
		{"0-9/*", nil},
		{"", nil},
		{"garbage", nil},
	} {
		t.Run(tt.contentRange, func(t *testing.T) {
			_, c := newFakeAPI(t, jsonReply(206, `[{"id":1}]`, "Content-Range", tt.contentRange))
			resp, err := c.From("events").Select("id", CountExact).Execute(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 206, resp.Status)
			assert.Equal(t, tt.want, resp.Count)
			assert.JSONEq(t, `[{"id":1}]`, string(resp.Body))
		})
	}
	// Without Count, Content-Range is not read.
	_, c := newFakeAPI(t, jsonReply(200, `[]`, "Content-Range", "0-0/9"))
	resp, err := c.From("events").Execute(context.Background())
	require.NoError(t, err)
	assert.Nil(t, resp.Count)
}

func ptr[T any](v T) *T { return &v }

func TestQueryCountMethod(t *testing.T) {
	s, c := newFakeAPI(t, jsonReply(200, "", "Content-Range", "*/57"))
	n, err := c.From("events").Select("id").Eq("kind", "click").Single().Count(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 57, n)
	checkRequest(t, s.last(), wantReq{"HEAD", "/rest/v1/events", [][2]string{{"select", "id"}, {"kind", "eq.click"}},
		with(hGet, "prefer", "count=exact"), ""})

	n, err = c.From("events").Select("id", CountPlanned).Count(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 57, n)
	assert.Equal(t, "count=planned", s.last().Header.Get("Prefer"))

	_, c2 := newFakeAPI(t, jsonReply(200, ""))
	_, err = c2.From("events").Count(context.Background())
	assert.ErrorContains(t, err, "no row count")
}

func TestResults(t *testing.T) {
	ctx := context.Background()
	type row struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	t.Run("All", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(200, `[{"id":1,"name":"a"},{"id":2,"name":"b"}]`))
		rows, err := All[row](ctx, c.From("t"))
		require.NoError(t, err)
		assert.Equal(t, []row{{1, "a"}, {2, "b"}}, rows)
	})
	t.Run("All empty", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(200, `[]`))
		rows, err := All[row](ctx, c.From("t"))
		require.NoError(t, err)
		assert.Empty(t, rows)
	})
	t.Run("All no body", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(201, ``))
		rows, err := All[row](ctx, c.From("t").Insert(row{}))
		require.NoError(t, err)
		assert.Nil(t, rows)
	})
	t.Run("All object body", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(200, `{"id":7,"name":"x"}`))
		rows, err := All[row](ctx, c.From("t").Single())
		require.NoError(t, err)
		assert.Equal(t, []row{{7, "x"}}, rows)
	})
	t.Run("All decode error", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(200, `not json at all`))
		_, err := All[row](ctx, c.From("t"))
		assert.ErrorIs(t, err, ErrInvalidResponse)
	})
	t.Run("All maybe single too many", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(200, `[{"id":1},{"id":2}]`))
		_, err := All[row](ctx, c.From("t").MaybeSingle())
		assert.ErrorIs(t, err, ErrTooManyRows)
	})
	t.Run("One", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(200, `[{"id":1,"name":"a"}]`))
		r, err := One[row](ctx, c.From("t"))
		require.NoError(t, err)
		assert.Equal(t, row{1, "a"}, r)
	})
	t.Run("One zero rows", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(200, `[]`))
		_, err := One[row](ctx, c.From("t"))
		assert.ErrorIs(t, err, ErrNotFound)
		assert.NotErrorIs(t, err, ErrTooManyRows)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "PGRST116", e.Code)
		assert.Equal(t, 406, e.Status)
		assert.Equal(t, "GET", e.Method)
		assert.NotContains(t, e.URL, "?")
	})
	t.Run("One two rows", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(200, `[{"id":1},{"id":2}]`))
		_, err := One[row](ctx, c.From("t"))
		assert.ErrorIs(t, err, ErrTooManyRows)
		assert.NotErrorIs(t, err, ErrNotFound)
	})
	t.Run("One write with select", func(t *testing.T) {
		s, c := newFakeAPI(t, jsonReply(201, `{"id":11,"name":"n"}`))
		r, err := One[row](ctx, c.From("t").Insert(row{Name: "n"}).Select("id,name"))
		require.NoError(t, err)
		assert.Equal(t, row{11, "n"}, r)
		assert.Equal(t, mediaObject, s.last().Header.Get("Accept"), "the server checks the count of a write")
	})
	t.Run("One write without select", func(t *testing.T) {
		s, c := newFakeAPI(t, jsonReply(201, ``))
		_, err := One[row](ctx, c.From("t").Insert(row{Name: "n"}))
		assert.ErrorIs(t, err, ErrInvalidQuery)
		assert.ErrorContains(t, err, "add Select")
		assert.Empty(t, s.requests(), "nothing is sent")
	})
	t.Run("One single object", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(200, `{"id":3,"name":"s"}`))
		r, err := One[row](ctx, c.From("t").Single())
		require.NoError(t, err)
		assert.Equal(t, row{3, "s"}, r)
	})
	t.Run("One single 406 from server", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(406, `{"code":"PGRST116","details":"The result contains 0 rows","hint":null,"message":"Cannot coerce the result to a single JSON object"}`))
		_, err := One[row](ctx, c.From("t").Single())
		assert.ErrorIs(t, err, ErrNotFound)
		_, c2 := newFakeAPI(t, jsonReply(406, `{"code":"PGRST116","details":"The result contains 2 rows","hint":null,"message":"JSON object requested, multiple (or no) rows returned"}`))
		_, err = One[row](ctx, c2.From("t").Single())
		assert.ErrorIs(t, err, ErrTooManyRows)
	})
	t.Run("One scalar rpc", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(200, `3`))
		n, err := One[int](ctx, c.RPC("add", map[string]int{"a": 1, "b": 2}))
		require.NoError(t, err)
		assert.Equal(t, 3, n)
	})
	t.Run("MaybeOne", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(200, `[{"id":1,"name":"a"}]`))
		r, err := MaybeOne[row](ctx, c.From("t"))
		require.NoError(t, err)
		require.NotNil(t, r)
		assert.Equal(t, row{1, "a"}, *r)
	})
	t.Run("MaybeOne none", func(t *testing.T) {
		for _, body := range []string{`[]`, `null`, ``} {
			_, c := newFakeAPI(t, jsonReply(200, body))
			r, err := MaybeOne[row](ctx, c.From("t"))
			require.NoError(t, err, body)
			assert.Nil(t, r, body)
		}
	})
	t.Run("MaybeOne too many", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(200, `[{"id":1},{"id":2}]`))
		_, err := MaybeOne[row](ctx, c.From("t").MaybeSingle())
		assert.ErrorIs(t, err, ErrTooManyRows)
	})
	t.Run("Rows", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(200, `[{"id":1},{"id":2},{"id":3}]`))
		var ids []int
		for r, err := range Rows[row](ctx, c.From("t")) {
			require.NoError(t, err)
			ids = append(ids, r.ID)
			if r.ID == 2 {
				break
			}
		}
		assert.Equal(t, []int{1, 2}, ids)
	})
	t.Run("Rows decode error", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(200, `[{"id":1},{"id":"x"}]`))
		var n int
		var last error
		for _, err := range Rows[row](ctx, c.From("t")) {
			n++
			last = err
		}
		assert.Equal(t, 2, n)
		assert.ErrorIs(t, last, ErrInvalidResponse)
	})
}

func TestMaybeSingleExecute(t *testing.T) {
	ctx := context.Background()
	_, c := newFakeAPI(t, jsonReply(200, `[{"id":1,"name":"Kickoff"}]`))
	resp, err := c.From("events").Select("id,name").MaybeSingle().Execute(ctx)
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":1,"name":"Kickoff"}`, string(resp.Body))

	_, c = newFakeAPI(t, jsonReply(200, `[]`))
	resp, err = c.From("events").MaybeSingle().Execute(ctx)
	require.NoError(t, err)
	assert.Equal(t, "null", string(resp.Body))

	_, c = newFakeAPI(t, jsonReply(200, `[{"id":1},{"id":2}]`))
	_, err = c.From("events").MaybeSingle().Execute(ctx)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 406, e.Status)
	assert.Equal(t, "PGRST116", e.Code)
	assert.Equal(t, "Results contain 2 rows, application/vnd.pgrst.object+json requires 1 row", e.Details)
	assert.ErrorIs(t, err, ErrTooManyRows)
}

func TestQueryErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("postgrest json", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(400, `{"code":"42703","details":null,"hint":"Perhaps you meant to reference the column \"todos.title\".","message":"column todos.titel does not exist"}`))
		_, err := c.From("todos").Select("titel").Execute(ctx)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 400, e.Status)
		assert.Equal(t, "42703", e.Code)
		assert.Equal(t, "column todos.titel does not exist", e.Message)
		assert.Contains(t, e.Hint, "todos.title")
		assert.Equal(t, ServiceREST, e.Service)
		assert.NotContains(t, e.URL, "titel", "no query string in errors")
	})
	t.Run("rls", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(403, `{"code":"42501","details":null,"hint":null,"message":"new row violates row-level security policy for table \"todos\""}`))
		_, err := All[todo](ctx, c.From("todos").Insert(todo{Title: "x"}).Select(""))
		assert.ErrorIs(t, err, ErrPermissionDenied)
	})
	t.Run("conflict", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(409, `{"code":"23505","details":"Key (username)=(ada) already exists.","hint":null,"message":"duplicate key"}`))
		_, err := c.From("profiles").Insert(map[string]string{"username": "ada"}).Execute(ctx)
		assert.ErrorIs(t, err, ErrConflict)
	})
	t.Run("html 502", func(t *testing.T) {
		_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			_, _ = io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
		})
		_, err := c.From("todos").Execute(ctx)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 502, e.Status)
		assert.Contains(t, e.Message, "502 Bad Gateway")
	})
	t.Run("404 empty body is 204", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(404, ``))
		resp, err := c.From("todos").Delete().Eq("id", 1).Execute(ctx)
		require.NoError(t, err)
		assert.Equal(t, 204, resp.Status)
		assert.Empty(t, resp.Body)
	})
	t.Run("404 missing table", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(404, `{"code":"PGRST205","details":null,"hint":"Perhaps you meant the table 'public.todos'","message":"Could not find the table 'public.todoz' in the schema cache"}`))
		_, err := c.From("todoz").Execute(ctx)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "PGRST205", e.Code)
	})
	t.Run("cancelled context", func(t *testing.T) {
		_, c := newFakeAPI(t, jsonReply(200, `[]`))
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := c.From("todos").Execute(cctx)
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestQueryRetries(t *testing.T) {
	ctx := context.Background()
	flaky := func() http.HandlerFunc {
		var n atomic.Int64
		return func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 1 {
				jsonReply(503, `{"code":"PGRST002","message":"retry"}`, "Retry-After", "0")(w, r)
				return
			}
			jsonReply(200, `[{"id":1}]`)(w, r)
		}
	}
	s, c := newFakeAPI(t, flaky())
	rows, err := All[todo](ctx, c.From("todos").Select("id"))
	require.NoError(t, err)
	assert.Len(t, rows, 1)
	require.Len(t, s.requests(), 2)
	assert.Equal(t, "1", s.requests()[1].Header.Get("X-Retry-Count"))

	s, c = newFakeAPI(t, flaky())
	_, err = c.From("todos").Insert(todo{Title: "x"}).Execute(ctx)
	assert.Error(t, err, "writes are not retried")
	assert.Len(t, s.requests(), 1)

	s, c = newFakeAPI(t, flaky())
	_, err = c.From("todos").Insert(todo{Title: "x"}).Retry().Execute(ctx)
	require.NoError(t, err)
	reqs := s.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, reqs[0].Body, reqs[1].Body, "same body on retry")
}

func TestErrInvalidQueryMatching(t *testing.T) {
	q := (&Client{}).From("t").Eq("", 1)
	err := q.Err()
	assert.True(t, errors.Is(err, ErrInvalidQuery))
	assert.False(t, errors.Is(err, ErrNotFound))
}

func TestQueryMoreOptions(t *testing.T) {
	ctx := context.Background()
	s, c := newFakeAPI(t, jsonReply(204, ``, "Content-Range", "*/3"))
	resp, err := c.From("sessions").Delete(CountExact).In("user_id", []string{"u1", "u2"}).Execute(ctx)
	require.NoError(t, err)
	assert.Equal(t, 204, resp.Status)
	require.NotNil(t, resp.Count)
	assert.EqualValues(t, 3, *resp.Count)
	checkRequest(t, s.last(), wantReq{"DELETE", "/rest/v1/sessions", [][2]string{{"user_id", "in.(u1,u2)"}},
		map[string]string{"content-profile": "public", "prefer": "count=exact"}, ""})

	for name, q := range map[string]Query{
		"default to null on update": c.From("t").Update(todo{}, DefaultToNull(false)),
		"bad write count":           c.From("t").Delete(CountMethod("fast")),
		"bad rpc count":             c.RPC("f", nil, CountMethod("fast")),
		"negative max affected":     c.From("t").Delete().MaxAffected(-1),
		"is on filter with bad arg": c.From("t").Filter("a", "is", make(chan int)),
		"unknown search type":       c.From("t").TextSearch("a", "b", SearchType("fuzzy")),
		"rpc unencodable":           c.RPC("f", map[string]any{"c": make(chan int)}),
		"rpc get scalar":            c.RPC("f", 5, RPCGet()),
		"insert on rpc":             c.RPC("f", nil).Insert(todo{}),
		"bad modifier":              c.From("t").Filter("a", "fts(eng-lish)", "x"),
		"unclosed arg":              c.From("t").Filter("a", "fts(english", "x"),
	} {
		assert.ErrorIs(t, q.Err(), ErrInvalidQuery, name)
	}

	// Filter with is and any/all operators on slices.
	p, err := c.From("t").Filter("a", "is", nil).Filter("b", "not.is", true).Filter("c", "eq(any)", []int{1, 2}).
		Filter("d", "ov", []string{"x y"}).Filter("e", "gt", 5).Preview()
	require.NoError(t, err)
	assert.Contains(t, p.URL, "a=is.null&b=not.is.true&c=eq(any).%7B1,2%7D&d=ov.%7B%22x%20y%22%7D&e=gt.5")
}

func TestOrValue(t *testing.T) {
	assert.Equal(t, "plain", OrValue("plain"))
	assert.Equal(t, `"a,b"`, OrValue("a,b"))
	assert.Equal(t, `"x\")"`, OrValue(`x")`))
	assert.Equal(t, "null", OrValue(nil))
	assert.Equal(t, "3", OrValue(3))
	assert.Equal(t, "3.5", OrValue(3.5), "numbers are never quoted")
	assert.Equal(t, `"3.5"`, OrValue("3.5"))
	assert.Equal(t, `(1,"a b")`, OrValue([]any{1, "a b"}))
	for _, bad := range []any{make(chan int), []any{func() {}}} {
		q := (&Client{}).From("t").Or("a.eq." + OrValue(bad) + ",b.eq.1")
		assert.ErrorIs(t, q.Err(), ErrInvalidQuery)
	}
}

func TestRowsShapes(t *testing.T) {
	ctx := context.Background()
	_, c := newFakeAPI(t, jsonReply(200, `{"id":4,"title":"x"}`))
	var got []todo
	for r, err := range Rows[todo](ctx, c.From("t").Single()) {
		require.NoError(t, err)
		got = append(got, r)
	}
	assert.Equal(t, []todo{{ID: 4, Title: "x"}}, got)

	_, c = newFakeAPI(t, jsonReply(201, ``))
	n := 0
	for range Rows[todo](ctx, c.From("t").Insert(todo{})) {
		n++
	}
	assert.Zero(t, n)

	_, c = newFakeAPI(t, jsonReply(500, `{"code":"XX000","message":"boom"}`))
	for _, err := range Rows[todo](ctx, c.From("t")) {
		assert.ErrorContains(t, err, "boom")
	}
}
