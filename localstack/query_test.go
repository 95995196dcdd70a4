package localstack

import (
	"net/http"
	"strings"
	"testing"
)

// SQL rendering: values only ever travel as arguments, identifiers are quoted.
func TestFilterSQL(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		sql         string
		args        []any
	}{
		{"id", "eq.5", `"t"."id" = $1`, []any{"5"}},
		{"name", "not.like.a*", `NOT ("t"."name" LIKE $1)`, []any{"a%"}},
		{"id", `in.(1,"a,b",",\"x")`, `"t"."id" IN ($1, $2, $3)`, []any{"1", "a,b", `,"x`}},
		{"a", "is.not_null", `"t"."a" IS NOT NULL`, nil},
		{"doc", "fts(french).chat", `"t"."doc" @@ to_tsquery($1::regconfig, $2)`, []any{"french", "chat"}},
		{"tags", "ov.{a,b}", `"t"."tags" && $1`, []any{"{a,b}"}},
		{"name", "like(any).{a*,b*}", `"t"."name" LIKE ANY($1)`, []any{"{a%,b%}"}},
		{"data->a->>b", "eq.1", `"t"."data"->$1::text->>$2::text = $3`, []any{"a", "b", "1"}},
		{"data->0", "eq.1", `"t"."data"->$1::int = $2`, []any{"0", "1"}},
		{`x"; drop table t; --`, "eq.1", `"t"."x""; drop table t; --" = $1`, []any{"1"}},
		{"name", "eq.'; drop table t; --", `"t"."name" = $1`, []any{"'; drop table t; --"}},
	} {
		p, err := parseParams("t", []pair{{tc.name, tc.value}}, nil)
		if err != nil {
			t.Errorf("%s=%s: %v", tc.name, tc.value, err)
			continue
		}
		var b builder
		got := strings.TrimPrefix(b.where("t", p.where), " WHERE ")
		if got != tc.sql || len(b.args) != len(tc.args) {
			t.Errorf("%s=%s: %s %v, want %s %v", tc.name, tc.value, got, b.args, tc.sql, tc.args)
			continue
		}
		for i := range b.args {
			if b.args[i] != tc.args[i] {
				t.Errorf("%s=%s: arg %d = %v, want %v", tc.name, tc.value, i, b.args[i], tc.args[i])
			}
		}
	}
}

func TestLogicTreeSQL(t *testing.T) {
	p, err := parseParams("t", []pair{{"or", `(a.eq.1,and(b.gt.2,c.not.is.null),d.in.(3,4),e.eq."x,y")`}, {"not.and", "(f.eq.1,g.eq.2)"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b builder
	want := `("t"."a" = $1 OR ("t"."b" > $2 AND NOT ("t"."c" IS NULL)) OR "t"."d" IN ($3, $4) OR "t"."e" = $5) AND NOT ("t"."f" = $6 AND "t"."g" = $7)`
	if got := strings.TrimPrefix(b.where("t", p.where), " WHERE "); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if b.args[4] != "x,y" {
		t.Errorf("quoted value = %v", b.args[4])
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, value, code string }{
		{"id", "eq", "PGRST100"},
		{"id", "nope.1", "PGRST100"},
		{"id", "in.1,2", "PGRST100"},
		{"or", "a.eq.1", "PGRST100"},
		{"select", "count()", "PGRST123"},
		{"select", "id::int; drop table t", "PGRST100"},
		{"author.name", "eq.1", "PGRST108"},
		{"limit", "x", "PGRST100"},
		{"order", "a.sideways", "PGRST100"},
	} {
		_, err := parseParams("t", []pair{{tc.name, tc.value}}, nil)
		re, ok := err.(*restError)
		if !ok || re.code != tc.code {
			t.Errorf("%s=%s: err = %v, want %s", tc.name, tc.value, err, tc.code)
		}
	}
}

func TestPreferAndAccept(t *testing.T) {
	h := http.Header{}
	h.Add("Prefer", "return=representation, count=exact")
	h.Add("Prefer", "resolution=merge-duplicates,missing=default,tx=rollback,max-affected=3,handling=strict")
	p, err := parsePrefer(h)
	if err != nil {
		t.Fatal(err)
	}
	if p.ret != "representation" || p.count != "exact" || p.resolution != "merge-duplicates" || p.missing != "default" ||
		p.tx != "rollback" || !p.strict || *p.maxAffected != 3 {
		t.Errorf("prefs = %+v", p)
	}
	h.Set("Prefer", "handling=strict, return=everything")
	if _, err := parsePrefer(h); err == nil {
		t.Error("invalid preference accepted with handling=strict")
	}
	h.Set("Prefer", "return=everything")
	if _, err := parsePrefer(h); err != nil {
		t.Errorf("invalid preference refused without handling=strict: %v", err)
	}
	for accept, want := range map[string]media{
		"":                                  {},
		"application/json":                  {},
		"application/vnd.pgrst.object+json": {single: true},
		"application/vnd.pgrst.object+json;nulls=stripped": {single: true, stripped: true},
		"text/csv":                  {csv: true},
		"application/xml, text/csv": {csv: true},
	} {
		if got, err := parseAccept(accept); err != nil || got != want {
			t.Errorf("Accept %q = %+v, %v", accept, got, err)
		}
	}
}

// The parsers and the SQL they lead to never panic, whatever the query.
func FuzzParseParams(f *testing.F) {
	for _, s := range []string{
		"select=id,a:b(c:d,...e!f!inner(*))&or=(a.eq.1,and(b.in.(1,\"2\"),c.not.is.null))",
		"id=like(any).{a*,b}&order=a.desc.nullslast,b&limit=1&offset=2",
		"data->a->>0=eq.1&doc=fts(english).x&x.y.z=eq.1&x.order=a&x.limit=1",
		"columns=\"a\",\"b\"&on_conflict=a&not.or=(a.eq.1)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		pairs, err := queryPairs(raw)
		if err != nil {
			return
		}
		p, err := parseParams("t", pairs, nil)
		if err != nil {
			return
		}
		markResolved(p.sel)
		var b builder
		_ = b.selectList("t", p.sel) + b.where("t", p.where, b.innerConds("t", p.sel)...) + b.orderBy("t", p.order)
	})
}

// markResolved gives every embed a made-up relationship, as resolveEmbeds would.
func markResolved(items []selectItem) {
	for _, it := range items {
		if it.embed != nil {
			it.embed.rel = &relationship{schema: "public", table: it.embed.name, parentCols: []string{"a"}, childCols: []string{"b"}}
			markResolved(it.embed.sel)
		}
	}
}
