package sdktest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/supabase-go/supabase"
	"github.com/supabase-go/supabase/localstack/localstacktest"
)

// A write through One that matches several rows is refused by the server
// and rolled back: the rows stay as they were.
func TestOneWriteRollsBack(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	ada, _ := user(t, ctx, st, "ada@example.com")

	inserted, err := supabase.All[Todo](ctx, ada.From("todos").
		Insert([]Todo{{Title: "one"}, {Title: "two"}, {Title: "three"}}).Select("*"))
	require.NoError(t, err)
	require.Len(t, inserted, 3)
	unchanged := func(t *testing.T) {
		t.Helper()
		rows, err := supabase.All[Todo](ctx, ada.From("todos").Select("*").Order("id"))
		require.NoError(t, err)
		assert.Equal(t, inserted, rows, "the rows must be unchanged")
	}

	_, err = supabase.One[Todo](ctx, ada.From("todos").Update(map[string]any{"done": true}).Gte("id", 0).Select("id"))
	require.ErrorIs(t, err, supabase.ErrTooManyRows)
	var e *supabase.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 406, e.Status)
	assert.Equal(t, "PGRST116", e.Code)
	assert.Equal(t, "The result contains 3 rows", e.Details, "the server's count")
	unchanged(t)

	_, err = supabase.MaybeOne[Todo](ctx, ada.From("todos").Delete().Gte("id", 0).Select("id"))
	require.ErrorIs(t, err, supabase.ErrTooManyRows)
	unchanged(t)

	// Without Select nothing is sent.
	_, err = supabase.One[Todo](ctx, ada.From("todos").Delete().Gte("id", 0))
	require.ErrorIs(t, err, supabase.ErrInvalidQuery)
	unchanged(t)

	// The single-object answer with return=minimal is checked too.
	_, err = ada.From("todos").Update(map[string]any{"done": true}).Gte("id", 0).Single().Execute(ctx)
	require.ErrorIs(t, err, supabase.ErrTooManyRows)
	unchanged(t)

	// No row: One reports it, MaybeOne returns nil; nothing changes either way.
	_, err = supabase.One[Todo](ctx, ada.From("todos").Update(map[string]any{"done": true}).Eq("id", -1).Select("id"))
	require.ErrorIs(t, err, supabase.ErrNotFound)
	m, err := supabase.MaybeOne[Todo](ctx, ada.From("todos").Update(map[string]any{"done": true}).Eq("id", -1).Select("id"))
	require.NoError(t, err)
	assert.Nil(t, m)
	unchanged(t)

	// Exactly one row: written and returned.
	got, err := supabase.One[Todo](ctx, ada.From("todos").Update(map[string]any{"done": true}).Eq("id", inserted[1].ID).Select("*"))
	require.NoError(t, err)
	assert.True(t, got.Done)
	assert.Equal(t, inserted[1].ID, got.ID)
	m, err = supabase.MaybeOne[Todo](ctx, ada.From("todos").Delete().Eq("id", inserted[2].ID).Select("id"))
	require.NoError(t, err)
	require.NotNil(t, m)
	rows, err := supabase.All[Todo](ctx, ada.From("todos").Select("*").Order("id"))
	require.NoError(t, err)
	require.Len(t, rows, 2)
	assert.True(t, rows[1].Done)
}

func TestPageAgainstDatabase(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	ada, _ := user(t, ctx, st, "ada@example.com")
	var todos []Todo
	for i := range 7 {
		todos = append(todos, Todo{Title: fmt.Sprintf("todo %d", i)})
	}
	_, err := ada.From("todos").Insert(todos).Execute(ctx)
	require.NoError(t, err)
	base := ada.From("todos").Select("id,title").Order("id")

	p, err := supabase.Page[Todo](ctx, base.Range(2, 4))
	require.NoError(t, err)
	require.Len(t, p.Rows, 3)
	assert.Equal(t, "todo 2", p.Rows[0].Title)
	require.NotNil(t, p.Total)
	assert.EqualValues(t, 7, *p.Total)
	assert.EqualValues(t, 2, p.From)
	assert.EqualValues(t, 4, p.To)

	p, err = supabase.Page[Todo](ctx, base.Range(10, 19))
	require.NoError(t, err, "past the end is an empty page")
	assert.Empty(t, p.Rows)
	require.NotNil(t, p.Total)
	assert.EqualValues(t, 7, *p.Total)
	assert.EqualValues(t, 10, p.From)

	_, err = base.Range(10, 19).Select("id", supabase.CountExact).Execute(ctx)
	assert.ErrorIs(t, err, supabase.ErrRangeNotSatisfiable)
	n, err := base.Range(10, 19).Count(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 7, n)
}

// User input in like patterns matches itself; numbers in lists and
// operators the SDK does not know reach PostgreSQL as written.
func TestFiltersAgainstDatabase(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, st.DatabaseURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		CREATE TABLE public.pg_results_items (id bigserial PRIMARY KEY, label text NOT NULL, price numeric NOT NULL);
		GRANT ALL ON public.pg_results_items TO service_role;
		GRANT ALL ON SEQUENCE public.pg_results_items_id_seq TO service_role;`)
	require.NoError(t, err)
	c, err := supabase.NewClient(st.URL, st.ServiceRoleKey)
	require.NoError(t, err)
	type item struct {
		ID    int64   `json:"id,omitempty"`
		Label string  `json:"label"`
		Price float64 `json:"price"`
	}
	labels := []string{"100% done", "100 done", "snake_case", "snakeXcase", `C:\temp`, `C:temp`, "a*b", "axb", "plain"}
	var rows []item
	for i, l := range labels {
		rows = append(rows, item{Label: l, Price: float64(i) + 0.5})
	}
	_, err = c.From("pg_results_items").Insert(rows).Execute(ctx)
	require.NoError(t, err)

	search := func(q string) []string {
		t.Helper()
		got, err := supabase.All[item](ctx, c.From("pg_results_items").Select("label").
			ILike("label", "%"+supabase.EscapeLike(q)+"%").Order("id"))
		require.NoError(t, err)
		var out []string
		for _, r := range got {
			out = append(out, r.Label)
		}
		return out
	}
	assert.Equal(t, []string{"100% done"}, search("100%"))
	assert.Equal(t, []string{"100% done"}, search("%"))
	assert.Equal(t, []string{"snake_case"}, search("snake_case"))
	assert.Equal(t, []string{`C:\temp`}, search(`C:\temp`))
	// * cannot be matched literally through PostgREST: it stands for one
	// character, a superset of the literal match but never every row.
	assert.Equal(t, []string{"a*b", "axb"}, search("a*b"))
	assert.Equal(t, []string{"100 done"}, search("100*done"), "* is one character, not any run")

	got, err := supabase.All[item](ctx, c.From("pg_results_items").Select("label").In("price", []float64{0.5, 2.5}).Order("id"))
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "100% done", got[0].Label)
	assert.Equal(t, "snake_case", got[1].Label)

	got, err = supabase.All[item](ctx, c.From("pg_results_items").Select("label").Filter("price", "gt(any)", []float64{7.5}))
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "plain", got[0].Label)

	// An operator the server does not know: the server says so.
	_, err = supabase.All[item](ctx, c.From("pg_results_items").Filter("label", "equals", "plain"))
	var e *supabase.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 400, e.Status)
	assert.Equal(t, "PGRST100", e.Code)

	// A body that does not fit the type: a *Error with the 2xx status.
	_, err = supabase.One[int](ctx, c.From("pg_results_items").Select("label").Eq("label", "plain"))
	require.ErrorIs(t, err, supabase.ErrInvalidResponse)
	require.True(t, errors.As(err, &e))
	assert.Equal(t, 200, e.Status)
}
