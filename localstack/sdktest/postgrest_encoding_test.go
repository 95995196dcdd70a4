package sdktest

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/supabase-go/supabase"
	"github.com/supabase-go/supabase/localstack/localstacktest"
)

// TestPostgrestEncodingAgainstDatabase sends values full of the characters
// PostgREST's grammar reserves through the local stack to a real PostgreSQL
// and checks that each filter matches exactly the row holding that value.
func TestPostgrestEncodingAgainstDatabase(t *testing.T) {
	st := localstacktest.New(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, st.DatabaseURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		CREATE TABLE public.pg_items (
			id bigserial PRIMARY KEY,
			label text NOT NULL,
			tags text[] NOT NULL DEFAULT '{}',
			meta jsonb NOT NULL DEFAULT '{}'
		);
		GRANT ALL ON public.pg_items TO anon, authenticated, service_role;
		GRANT ALL ON SEQUENCE public.pg_items_id_seq TO anon, authenticated, service_role;`)
	require.NoError(t, err)

	c, err := supabase.NewClient(st.URL, st.ServiceRoleKey)
	require.NoError(t, err)

	type item struct {
		ID    int64          `json:"id,omitempty"`
		Label string         `json:"label"`
		Tags  []string       `json:"tags"`
		Meta  map[string]any `json:"meta"`
	}
	labels := []string{
		"plain", "a,b", "(x)", "open)", `say "hi"`, `back\slash`, "two words", "naïve ✓",
		"ada@example.com", "12:00", `x"),label.neq.(`, `"quoted"`, `\"`, "null", "", " padded ",
		"a&b=c#d%e+f?g/h",
	}
	rows := make([]item, len(labels))
	for i, l := range labels {
		rows[i] = item{Label: l, Tags: []string{l, "common"}, Meta: map[string]any{"label": l}}
	}
	inserted, err := supabase.All[item](ctx, c.From("pg_items").Insert(rows).Select("*"))
	require.NoError(t, err)
	require.Len(t, inserted, len(labels))

	for _, l := range labels {
		t.Run(l, func(t *testing.T) {
			got, err := supabase.All[item](ctx, c.From("pg_items").Select("*").Eq("label", l))
			require.NoError(t, err)
			require.Len(t, got, 1, "eq")
			assert.Equal(t, l, got[0].Label)

			got, err = supabase.All[item](ctx, c.From("pg_items").Select("*").In("label", []string{l, "no such label"}))
			require.NoError(t, err)
			require.Len(t, got, 1, "in")
			assert.Equal(t, l, got[0].Label)

			n, err := c.From("pg_items").NotIn("label", []string{l}).Count(ctx)
			require.NoError(t, err)
			assert.EqualValues(t, len(labels)-1, n, "not in")

			got, err = supabase.All[item](ctx, c.From("pg_items").Select("*").Contains("tags", []string{l}))
			require.NoError(t, err)
			require.Len(t, got, 1, "contains")
			assert.Equal(t, l, got[0].Label)

			got, err = supabase.All[item](ctx, c.From("pg_items").Select("*").Contains("meta", map[string]string{"label": l}))
			require.NoError(t, err)
			require.Len(t, got, 1, "contains jsonb")

			got, err = supabase.All[item](ctx, c.From("pg_items").Select("*").Overlaps("tags", []string{l, "no, such"}))
			require.NoError(t, err)
			require.Len(t, got, 1, "overlaps")

			if !strings.ContainsAny(l, `\%_`) {
				got, err = supabase.All[item](ctx, c.From("pg_items").Select("*").LikeAnyOf("label", []string{l, "no,such%"}))
				require.NoError(t, err)
				require.Len(t, got, 1, "like any")
				assert.Equal(t, l, got[0].Label)
			}

			got, err = supabase.All[item](ctx, c.From("pg_items").Select("*").
				Or("label.eq."+supabase.OrValue(l)+",label.eq.no-such"))
			require.NoError(t, err)
			require.Len(t, got, 1, "or")
			assert.Equal(t, l, got[0].Label)
		})
	}
}
