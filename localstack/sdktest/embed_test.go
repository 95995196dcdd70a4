package sdktest

import (
	"testing"

	"github.com/supabase-go/supabase"
	"github.com/supabase-go/supabase/localstack/localstacktest"
)

// Embedded resources decode straight into nested structs, and RLS applies
// inside the embedding too.
func TestEmbeddingWithRLS(t *testing.T) {
	t.Parallel()
	st := localstacktest.New(t)
	ctx := ctxFor(t)
	_, err := st.Server.Pool().Exec(ctx, `
		CREATE TABLE public.lists (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL,
			owner uuid NOT NULL DEFAULT auth.uid());
		CREATE TABLE public.items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
			list_id bigint NOT NULL REFERENCES public.lists (id), label text NOT NULL,
			owner uuid NOT NULL DEFAULT auth.uid());
		ALTER TABLE public.lists ENABLE ROW LEVEL SECURITY;
		ALTER TABLE public.items ENABLE ROW LEVEL SECURITY;
		CREATE POLICY own ON public.lists TO authenticated USING (owner = auth.uid()) WITH CHECK (owner = auth.uid());
		CREATE POLICY own ON public.items TO authenticated USING (owner = auth.uid()) WITH CHECK (owner = auth.uid());
		-- anyone signed in may add items to any list, but sees only their own
		CREATE POLICY add ON public.items FOR INSERT TO authenticated WITH CHECK (true);`)
	if err != nil {
		t.Fatal(err)
	}
	ada, _ := user(t, ctx, st, "ada@example.com")
	bob, _ := user(t, ctx, st, "bob@example.com")

	type item struct {
		Label string `json:"label"`
	}
	type list struct {
		ID    int64  `json:"id"`
		Name  string `json:"name"`
		Items []item `json:"items"`
	}
	l, err := supabase.One[list](ctx, ada.From("lists").Insert(map[string]any{"name": "groceries"}).Select("id,name"))
	if err != nil {
		t.Fatal(err)
	}
	for c, label := range map[*supabase.Client]string{ada: "milk", bob: "bob's beer"} {
		if _, err := c.From("items").Insert(map[string]any{"list_id": l.ID, "label": label}).Execute(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got, err := supabase.All[list](ctx, ada.From("lists").Select("id,name,items(label)"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "groceries" || len(got[0].Items) != 1 || got[0].Items[0].Label != "milk" {
		t.Errorf("ada's lists = %+v", got)
	}
	type labelled struct {
		Label string `json:"label"`
		List  *struct {
			Name string `json:"name"`
		} `json:"list"`
	}
	// Bob sees his item; the list it belongs to is not his, so it embeds as null.
	bobs, err := supabase.All[labelled](ctx, bob.From("items").Select("label,list:lists(name)"))
	if err != nil {
		t.Fatal(err)
	}
	if len(bobs) != 1 || bobs[0].Label != "bob's beer" || bobs[0].List != nil {
		t.Errorf("bob's items = %+v", bobs)
	}
}
