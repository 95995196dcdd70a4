package supabase_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/supabase-go/supabase"
)

// Applications test their Supabase code by handing the client a mocked
// transport; the client must work with any RoundTripper and never reach for
// http.DefaultTransport.
func TestWithHTTPMockTransport(t *testing.T) {
	mock := httpmock.NewMockTransport()
	mock.RegisterMatcherResponderWithQuery(http.MethodGet, "https://abc.supabase.co/rest/v1/todos",
		"select=id,title,done&done=eq.false",
		httpmock.HeaderIs("Apikey", "anon").
			And(httpmock.HeaderIs("Authorization", "Bearer user-jwt")).
			And(httpmock.HeaderIs("Accept-Profile", "public")),
		httpmock.NewStringResponder(200, `[{"id":1,"title":"Buy milk","done":false}]`))

	c, err := supabase.NewClient("https://abc.supabase.co", "anon", supabase.WithHTTPClient(&http.Client{Transport: mock}))
	require.NoError(t, err)
	todos, err := supabase.All[Todo](context.Background(), c.WithAccessToken("user-jwt").From("todos").Select("id,title,done").Eq("done", false))
	require.NoError(t, err)
	assert.Equal(t, []Todo{{ID: 1, Title: "Buy milk"}}, todos)
	assert.Equal(t, 1, mock.GetTotalCallCount())
}

// httpmock.Activate replaces http.DefaultTransport globally; building a
// client afterwards must neither panic nor send through the global mock.
func TestDefaultClientIgnoresReplacedDefaultTransport(t *testing.T) {
	httpmock.Activate(t)
	c, err := supabase.NewClient("https://abc.supabase.co", "anon")
	require.NoError(t, err)
	_, err = c.From("todos").Select("id").Preview()
	require.NoError(t, err)
	assert.Zero(t, httpmock.GetTotalCallCount())
}
