package supabase

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Filter sends any operator that is one syntactically valid token and lets
// PostgREST judge it.
func TestFilterAnyOperator(t *testing.T) {
	valid := []struct {
		op   string
		v    any
		want string
	}{
		{"eq", 1, "eq.1"},
		{"equals", 1, "equals.1"},
		{"not.equals", "x", "not.equals.x"},
		{"is(any)", []int{1}, "is(any).{1}"},
		{"eq(english)", "x", "eq(english).x"},
		{"wfts(english)", "cat & dog", "wfts(english).cat & dog"},
		{"fts(simple_2$)", "x", "fts(simple_2$).x"},
		{"fts(français)", "chat", "fts(français).chat"},
		{"fts(my config)", "x", "fts(my config).x"},
		{"match(any)", []string{"^a", "b$"}, "match(any).{^a,b$}"},
		{"not.in", []float64{1.5, 2}, "not.in.(1.5,2)"},
		{"in", "(1,2)", "in.(1,2)"},
		{"newop", map[string]int{"a": 1}, `newop.{"a":1}`},
	}
	for _, tt := range valid {
		t.Run(tt.op, func(t *testing.T) {
			s, c := newFakeAPI(t, jsonReply(200, `[]`))
			q := c.From("t").Select("id").Filter("c", tt.op, tt.v)
			require.NoError(t, q.Err())
			_, err := q.Execute(context.Background())
			require.NoError(t, err)
			assert.Equal(t, [][2]string{{"select", "id"}, {"c", tt.want}}, s.last().Pairs)
		})
	}

	// What cannot be one operator token is refused before any I/O.
	for _, op := range []string{
		"", "not", "not.", "not.not.eq", "EQ", "Eq", "eq.5", "eq.", "e q", "eq,or", "eq&x", "eq()", "eq(any", "eq(a)b",
		"eq(any)(all)", "eq(a.b)", "eq(a,b)", "eq(a\tb)", "(any)", "1eq", "eq\n", "not.EQ", "fts(٣)", "fts( )",
	} {
		t.Run("refused "+op, func(t *testing.T) {
			s, c := newFakeAPI(t, jsonReply(200, `[]`))
			q := c.From("t").Filter("c", op, 1)
			assert.ErrorIs(t, q.Err(), ErrInvalidQuery)
			assert.ErrorContains(t, q.Err(), "is not an operator")
			_, err := q.Execute(context.Background())
			assert.ErrorIs(t, err, ErrInvalidQuery)
			assert.Empty(t, s.requests())
		})
	}

	// Not accepts the same operators and refuses a double negation.
	_, c := newFakeAPI(t, jsonReply(200, `[]`))
	p, err := c.From("t").Not("c", "newop", 1).Preview()
	require.NoError(t, err)
	assert.Contains(t, p.URL, "c=not.newop.1")
	assert.ErrorIs(t, c.From("t").Not("c", "not.eq", 1).Err(), ErrInvalidQuery)
	assert.ErrorIs(t, c.From("t").Not("c", "not", 1).Err(), ErrInvalidQuery)

	// The named filters keep their own checks.
	assert.ErrorIs(t, c.From("t").TextSearch("c", "x", SearchConfig("a)b")).Err(), ErrInvalidQuery)
	assert.ErrorIs(t, c.From("t").Is("c", 5).Err(), ErrInvalidQuery)
}

// Numbers in lists and arrays are never quoted; strings keep their quoting.
func TestNumbersUnquotedInListsAndArrays(t *testing.T) {
	tests := []struct {
		name string
		q    func(q Query) Query
		want [2]string
	}{
		{"in floats", func(q Query) Query { return q.In("c", []float64{1.5, 2}) }, [2]string{"c", "in.(1.5,2)"}},
		{"not in mixed", func(q Query) Query { return q.NotIn("c", []any{1.5, json.Number("2.25"), -3}) },
			[2]string{"c", "not.in.(1.5,2.25,-3)"}},
		{"in strings that look like numbers", func(q Query) Query { return q.In("c", []string{"1.5", "2"}) },
			[2]string{"c", `in.("1.5",2)`}},
		{"contains floats", func(q Query) Query { return q.Contains("c", []float64{1.5, 2}) }, [2]string{"c", "cs.{1.5,2}"}},
		{"overlaps nested", func(q Query) Query { return q.Overlaps("c", [][]float64{{0.5}, {1.25}}) },
			[2]string{"c", "ov.{{0.5},{1.25}}"}},
		{"eq slice", func(q Query) Query { return q.Eq("c", []any{1.5, "a.b"}) }, [2]string{"c", `eq.{1.5,"a.b"}`}},
		{"filter quantified", func(q Query) Query { return q.Filter("c", "gt(any)", []float32{0.5, 1.5}) },
			[2]string{"c", "gt(any).{0.5,1.5}"}},
		{"or value", func(q Query) Query { return q.Or("a.eq." + OrValue(2.5) + ",b.in." + OrValue([]float64{1.5, 3})) },
			[2]string{"or", "(a.eq.2.5,b.in.(1.5,3))"}},
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

	// RPC arguments in the query string: JSON numbers stay numbers.
	s, c := newFakeAPI(t, jsonReply(200, `[]`))
	_, err := c.RPC("f", map[string]any{"xs": []float64{1.5, 2}}, RPCGet()).Execute(context.Background())
	require.NoError(t, err)
	assert.Equal(t, [][2]string{{"xs", "{1.5,2}"}}, s.last().Pairs)
}

func TestEscapeLike(t *testing.T) {
	for in, want := range map[string]string{
		"":           "",
		"plain text": "plain text",
		"100%":       `100\%`,
		"snake_case": `snake\_case`,
		`C:\temp`:    `C:\\temp`,
		"*":          "_",
		"a*b":        "a_b",
		`%_*\`:       `\%\__\\`,
		"naïve 東京 %": `naïve 東京 \%`,
	} {
		assert.Equal(t, want, EscapeLike(in), "%q", in)
	}

	// The pattern reaches the wire as written, in a plain like and inside
	// an array for like(any).
	s, c := newFakeAPI(t, jsonReply(200, `[]`))
	search := `50%_off*`
	_, err := c.From("t").Select("id").ILike("title", "%"+EscapeLike(search)+"%").
		LikeAnyOf("tag", []string{EscapeLike(search) + "%"}).Execute(context.Background())
	require.NoError(t, err)
	assert.Equal(t, [][2]string{{"select", "id"}, {"title", `ilike.%50\%\_off_%`}, {"tag", `like(any).{"50\\%\\_off_%"}`}},
		s.last().Pairs)
}
