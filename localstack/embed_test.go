package localstack_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/supabase-go/supabase/localstack"
	"github.com/supabase-go/supabase/localstack/localstacktest"
)

const booksSQL = `
CREATE TABLE public.authors (id int PRIMARY KEY, name text);
CREATE TABLE public.books (
	id int PRIMARY KEY, title text,
	author_id int REFERENCES public.authors (id),
	editor_id int REFERENCES public.authors (id)
);
CREATE TABLE public.reviews (id int PRIMARY KEY, book_id int REFERENCES public.books (id), stars int);
CREATE TABLE public.bios (author_id int PRIMARY KEY REFERENCES public.authors (id), text text);
INSERT INTO public.authors VALUES (1, 'Le Guin'), (2, 'Pratchett'), (3, 'Nobody');
INSERT INTO public.books VALUES (1, 'Earthsea', 1, 2), (2, 'Dispossessed', 1, NULL), (3, 'Mort', 2, 1);
INSERT INTO public.reviews VALUES (1, 1, 5), (2, 1, 4), (3, 3, 5);
INSERT INTO public.bios VALUES (1, 'Ursula');
`

func TestEmbedding(t *testing.T) {
	c := newClient(t)
	if _, err := c.st.Server.Pool().Exec(context.Background(), booksSQL); err != nil {
		t.Fatal(err)
	}
	get := func(query string) reply {
		t.Helper()
		return c.do("GET", "/rest/v1/"+query, "", nil)
	}
	for _, tc := range []struct{ query, want string }{
		// many-to-one, disambiguated by the foreign key column
		{"books?select=title,author:authors!author_id(name)&order=id&limit=2",
			`[{"title":"Earthsea","author":{"name":"Le Guin"}}, ` + "\n" + ` {"title":"Dispossessed","author":{"name":"Le Guin"}}]`},
		// one-to-many, nested, with the constraint name as hint
		{"authors?select=name,books!books_author_id_fkey(title,reviews(stars))&id=lt.3&order=id&books.order=id",
			`[{"name":"Le Guin","books":[{"title":"Earthsea","reviews":[{"stars":5}, ` + "\n" + ` {"stars":4}]}, ` + "\n" + ` {"title":"Dispossessed","reviews":[]}]}, ` + "\n" + ` {"name":"Pratchett","books":[{"title":"Mort","reviews":[{"stars":5}]}]}]`},
		// filters, order and limit on the embedded resource only
		{"authors?select=name,books!author_id(title)&order=id&books.order=title.desc&books.limit=1",
			`[{"name":"Le Guin","books":[{"title":"Earthsea"}]}, ` + "\n" + ` {"name":"Pratchett","books":[{"title":"Mort"}]}, ` + "\n" + ` {"name":"Nobody","books":[]}]`},
		// !inner keeps only parents with a matching embedded row
		{"authors?select=name,books!author_id!inner(title)&books.title=eq.Mort",
			`[{"name":"Pratchett","books":[{"title":"Mort"}]}]`},
		// one-to-one from the referenced side is an object
		{"authors?select=name,bios(text)&order=id&limit=2",
			`[{"name":"Le Guin","bios":{"text":"Ursula"}}, ` + "\n" + ` {"name":"Pratchett","bios":null}]`},
		// renames inside and outside the embed
		{"books?select=t:title,a:authors!author_id(n:name)&id=eq.1",
			`[{"t":"Earthsea","a":{"n":"Le Guin"}}]`},
		// spreads bring the embedded columns up into the parent
		{"books?select=title,...authors!author_id(author:name)&order=id&limit=1",
			`[{"title":"Earthsea","author":"Le Guin"}]`},
		{"authors?select=name,...books!author_id(titles:title)&id=eq.1&books.order=id.desc",
			`[{"name":"Le Guin","titles":["Dispossessed", "Earthsea"]}]`},
		{"bios?select=text,...authors(*)",
			`[{"text":"Ursula","id":1,"name":"Le Guin"}]`},
	} {
		r := get(tc.query)
		if r.status != 200 || string(r.body) != tc.want {
			t.Errorf("%s:\n got %d %s\nwant %s", tc.query, r.status, r.body, tc.want)
		}
	}
	wantError(t, get("books?select=title,authors(name)"), 300,
		`{"code":"PGRST201","message":"Could not embed because more than one relationship was found for 'books' and 'authors'",`+
			`"details":[{"cardinality":"many-to-one","embedding":"books with authors","relationship":"books_author_id_fkey using books(author_id) and authors(id)"},`+
			`{"cardinality":"many-to-one","embedding":"books with authors","relationship":"books_editor_id_fkey using books(editor_id) and authors(id)"}],`+
			`"hint":"Try changing 'authors' to one of the following: 'authors!books_author_id_fkey', 'authors!books_editor_id_fkey'. Find the desired relationship in the 'details' key."}`)
	wantError(t, get("books?select=title,publisher(name)"), 400,
		`{"code":"PGRST200","message":"Could not find a relationship between 'books' and 'publisher' in the schema cache","details":"Searched for a foreign key relationship between 'books' and 'publisher' in the schema 'public', but no matches were found.","hint":null}`)
	wantError(t, get("books?select=title&authors.name=eq.x"), 400,
		`{"code":"PGRST108","message":"'authors' is not an embedded resource in this request","details":null,"hint":"Verify that 'authors' is included in the 'select' query parameter."}`)

	// Embedding in the representation of a write.
	r := c.do("POST", "/rest/v1/books?select=title,author:authors!author_id(name)", "", `{"id":4,"title":"Guards! Guards!","author_id":2}`,
		"Prefer", "return=representation")
	if r.status != 201 || string(r.body) != `[{"title":"Guards! Guards!","author":{"name":"Pratchett"}}]` {
		t.Errorf("insert with embed: %d %s", r.status, r.body)
	}
}

// An RPC with embeds looks its relationships up on the request's own
// connection: with a small pool, concurrent calls would otherwise each hold
// a connection while waiting for another.
func TestRPCEmbedsWithSmallPool(t *testing.T) {
	c := newClient(t, localstacktest.Configure(func(cfg *localstack.Config) { cfg.MaxConns = 2 }))
	if _, err := c.st.Server.Pool().Exec(context.Background(), booksSQL+
		`CREATE FUNCTION public.f() RETURNS SETOF public.authors LANGUAGE sql STABLE AS 'SELECT * FROM public.authors';`); err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", c.st.URL+"/rest/v1/rpc/f?select=id,books!author_id(id)&order=id", nil)
			req.Header.Set("apikey", c.st.AnonKey)
			resp, err := hc.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.HasPrefix(string(b), `[{"id":1,"books":[{"id":1}, `) {
				errs <- fmt.Errorf("%d %s", resp.StatusCode, b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
