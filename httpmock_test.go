package supabase_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
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
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`[]`))
	}))
	defer srv.Close()
	httpmock.Activate(t)
	c, err := supabase.NewClient(srv.URL, "anon")
	require.NoError(t, err)
	_, err = c.From("todos").Select("id").Execute(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int32(1), hits.Load(), "the request reached the real server")
	assert.Zero(t, httpmock.GetTotalCallCount(), "not the global mock")
}
