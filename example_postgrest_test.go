package supabase_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/supabase-go/supabase"
)

func exampleClient() *supabase.Client {
	c, err := supabase.NewClient("https://example.supabase.co", "public-anon-key")
	if err != nil {
		log.Fatal(err)
	}
	return c
}

func ExampleClient_From() {
	c := exampleClient()
	q := c.From("todos").
		Select("id, title, done").
		Eq("done", false).
		Order("created_at", supabase.Descending()).
		Limit(20)

	p, err := q.Preview()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(p)
	// Output:
	// GET https://example.supabase.co/rest/v1/todos?select=id,title,done&done=eq.false&order=created_at.desc&limit=20
	// Accept-Profile: public
}

func ExampleQuery_In() {
	c := exampleClient()
	// List elements holding reserved characters are quoted and escaped, so
	// they cannot end the list or add a filter.
	q := c.From("items").Select("id").In("label", []string{"plain", "a,b", `say "hi"`})
	p, _ := q.Preview()
	fmt.Println(p.URL)
	// Output:
	// https://example.supabase.co/rest/v1/items?select=id&label=in.(plain,%22a,b%22,%22say%20%5C%22hi%5C%22%22)
}

func ExampleQuery_Insert() {
	type Todo struct {
		Title string `json:"title"`
		Done  bool   `json:"done"`
	}
	c := exampleClient()
	q := c.From("todos").
		Insert([]Todo{{Title: "Buy milk"}, {Title: "Walk the dog", Done: true}}).
		Select("id")
	p, _ := q.Preview()
	fmt.Print(p)
	// Output:
	// POST https://example.supabase.co/rest/v1/todos?columns=%22title%22,%22done%22&select=id
	// Content-Profile: public
	// Content-Type: application/json
	// Prefer: return=representation
	//
	// [{"title":"Buy milk","done":false},{"title":"Walk the dog","done":true}]
}

func ExampleQuery_Upsert() {
	c := exampleClient()
	q := c.From("profiles").Upsert(
		map[string]any{"email": "ada@example.com", "username": "ada"},
		supabase.OnConflict("email"),
	)
	p, _ := q.Preview()
	fmt.Print(p)
	// Output:
	// POST https://example.supabase.co/rest/v1/profiles?on_conflict=email
	// Content-Profile: public
	// Content-Type: application/json
	// Prefer: resolution=merge-duplicates
	//
	// {"email":"ada@example.com","username":"ada"}
}

func ExampleQuery_Update() {
	c := exampleClient()
	q := c.From("todos").
		Update(map[string]any{"done": true}).
		Eq("id", 5).
		MaxAffected(1)
	p, _ := q.Preview()
	fmt.Print(p)
	// Output:
	// PATCH https://example.supabase.co/rest/v1/todos?id=eq.5
	// Content-Profile: public
	// Content-Type: application/json
	// Prefer: handling=strict, max-affected=1
	//
	// {"done":true}
}

func ExampleQuery_Or() {
	c := exampleClient()
	name := "O'Brien, Jr."
	q := c.From("people").
		Select("id").
		Or("nickname.eq." + supabase.OrValue(name) + ",name.eq." + supabase.OrValue(name))
	p, _ := q.Preview()
	fmt.Println(p.URL)
	// Output:
	// https://example.supabase.co/rest/v1/people?select=id&or=(nickname.eq.%22O'Brien,%20Jr.%22,name.eq.%22O'Brien,%20Jr.%22)
}

func ExampleQuery_Select_count() {
	c := exampleClient()
	q := c.From("events").
		Select("*", supabase.CountExact, supabase.Head()).
		Gte("at", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	p, _ := q.Preview()
	fmt.Print(p)
	// Output:
	// HEAD https://example.supabase.co/rest/v1/events?select=*&at=gte.2026-01-01T00:00:00Z
	// Accept-Profile: public
	// Prefer: count=exact
}

func ExampleClient_RPC() {
	c := exampleClient()
	q := c.RPC("list_items", map[string]any{"category": "shoes", "ids": []int{1, 2, 3}}, supabase.RPCGet()).
		Order("name").
		Range(0, 9)
	p, _ := q.Preview()
	fmt.Print(p)
	// Output:
	// GET https://example.supabase.co/rest/v1/rpc/list_items?category=shoes&ids=%7B1,2,3%7D&order=name.asc&offset=0&limit=10
	// Accept-Profile: public
}

func ExampleQuery_Err() {
	c := exampleClient()
	q := c.From("events").Range(10, 5)
	fmt.Println(q.Err())
	// Output:
	// supabase rest invalid_query: Range(10, 5): need 0 <= from <= to
}

func ExampleAll() {
	type Todo struct {
		ID    int    `json:"id"`
		Title string `json:"title"`
	}
	c := exampleClient()
	base := c.From("todos").Select("id,title")

	// Queries are values: branch freely, even across goroutines.
	open := base.Eq("done", false).Order("id")
	todos, err := supabase.All[Todo](context.Background(), open)
	if err != nil {
		log.Print(err)
		return
	}
	for _, t := range todos {
		fmt.Println(t.ID, t.Title)
	}
}

func ExampleOne() {
	type Profile struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}
	c := exampleClient()
	p, err := supabase.One[Profile](context.Background(),
		c.From("profiles").Select("id,username").Eq("username", "ada"))
	switch {
	case errors.Is(err, supabase.ErrNotFound):
		fmt.Println("no such user")
	case err != nil:
		log.Print(err)
	default:
		fmt.Println(p.ID)
	}
}

func ExampleEscapeLike() {
	c := exampleClient()
	search := "50%_off" // user input: % and _ must not act as wildcards
	q := c.From("products").Select("id").ILike("name", "%"+supabase.EscapeLike(search)+"%")
	p, _ := q.Preview()
	fmt.Println(p.URL)
	// Output:
	// https://example.supabase.co/rest/v1/products?select=id&name=ilike.%2550%5C%25%5C_off%25
}

func ExamplePage() {
	type Todo struct {
		ID    int    `json:"id"`
		Title string `json:"title"`
	}
	c := exampleClient()
	const perPage = 20
	page := 3
	from := (page - 1) * perPage
	p, err := supabase.Page[Todo](context.Background(),
		c.From("todos").Select("id,title").Order("id").Range(from, from+perPage-1))
	if err != nil {
		log.Print(err)
		return
	}
	// Past the last page p.Rows is empty and p.Total still holds the total.
	if p.Total != nil {
		fmt.Printf("rows %d-%d of %d\n", p.From+1, p.To+1, *p.Total)
	}
}

func ExampleOne_write() {
	type Todo struct {
		ID   int  `json:"id"`
		Done bool `json:"done"`
	}
	c := exampleClient()
	// PostgREST checks that exactly one row changed and otherwise rolls the
	// update back: an error here means nothing was written.
	t, err := supabase.One[Todo](context.Background(),
		c.From("todos").Update(map[string]any{"done": true}).Eq("id", 7).Select("id,done"))
	switch {
	case errors.Is(err, supabase.ErrNotFound):
		fmt.Println("no such todo")
	case errors.Is(err, supabase.ErrTooManyRows):
		fmt.Println("ambiguous: nothing was changed")
	case err != nil:
		log.Print(err)
	default:
		fmt.Println(t.ID, t.Done)
	}
}
