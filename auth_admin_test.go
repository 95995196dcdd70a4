package supabase

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const axBobID = "d4c3b2a1-0f9e-4d8c-b7a6-5e4d3c2b1a09"

func TestAdminCreateUser(t *testing.T) {
	// admin_create_user
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/admin/users", 200, axTestdata(t, "admin_user.json"))
	c := f.client(t, axServiceKey)
	u, err := c.Auth.Admin().CreateUser(context.Background(), AdminUserAttributes{
		Email: "bob@example.net", Password: "Adm1n-Set!", EmailConfirm: true,
		UserMetadata: map[string]any{"name": "Bob"},
		AppMetadata:  map[string]any{"roles": []string{"editor"}},
	})
	require.NoError(t, err)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/admin/users", key: axServiceKey, bearer: axServiceKey,
		body: `{"email":"bob@example.net","password":"Adm1n-Set!","email_confirm":true,"user_metadata":{"name":"Bob"},"app_metadata":{"roles":["editor"]}}`,
	})
	assert.Equal(t, axBobID, u.ID)
	assert.Equal(t, "bob@example.net", u.Email)
	assert.Equal(t, map[string]any{"name": "Bob"}, u.UserMetadata)
	assert.Equal(t, []any{"editor"}, u.AppMetadata["roles"])
	require.Len(t, u.Identities, 1)

	// Every field, and a bad ID refused before any request.
	_, err = c.Auth.Admin().CreateUser(context.Background(), AdminUserAttributes{
		ID: axBobID, Phone: "+15555550123", PasswordHash: "$2a$10$x", PhoneConfirm: true, BanDuration: "1h", Role: "support",
		UserMetadata: map[string]any{}, AppMetadata: map[string]any{},
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"`+axBobID+`","phone":"+15555550123","password_hash":"$2a$10$x","phone_confirm":true,"ban_duration":"1h","role":"support","user_metadata":{},"app_metadata":{}}`,
		string(f.last().Body))
	_, err = c.Auth.Admin().CreateUser(context.Background(), AdminUserAttributes{ID: "42"})
	assert.Error(t, err)
	assert.Len(t, f.requests(), 2)
}

func TestAdminListUsersDefault(t *testing.T) {
	// admin_list_users_default. Divergences: supabase-js sends "page=" and
	// "per_page=" when not given (the server treats empty as absent), and
	// reports total 0 because it reads X-Total-Count only with a Link header.
	f, _ := newFakeAPI(t, nil)
	f.on("GET", "/auth/v1/admin/users", 200, axTestdata(t, "admin_users_default.json"), "X-Total-Count", "2")
	c := f.client(t, axServiceKey)
	l, err := c.Auth.Admin().ListUsers(context.Background(), ListUsersParams{})
	require.NoError(t, err)
	axAssertRequest(t, f.last(), axWant{method: "GET", path: "/auth/v1/admin/users", key: axServiceKey, bearer: axServiceKey})
	require.Len(t, l.Users, 2)
	assert.Equal(t, "ada@example.com", l.Users[0].Email)
	assert.Equal(t, "bob@example.net", l.Users[1].Email)
	assert.Equal(t, "authenticated", l.Aud)
	assert.Equal(t, 2, l.Total)
	assert.Equal(t, 0, l.NextPage)
	assert.Equal(t, 0, l.LastPage)
}

func TestAdminListUsersPaged(t *testing.T) {
	// admin_list_users_paged
	f, _ := newFakeAPI(t, nil)
	f.on("GET", "/auth/v1/admin/users", 200, axTestdata(t, "admin_users_page2.json"),
		"X-Total-Count", "180",
		"Link", `</admin/users?page=3&per_page=50>; rel="next", </admin/users?page=4&per_page=50>; rel="last"`)
	c := f.client(t, axServiceKey)
	l, err := c.Auth.Admin().ListUsers(context.Background(), ListUsersParams{Page: 2, PerPage: 50})
	require.NoError(t, err)
	axAssertRequest(t, f.last(), axWant{
		method: "GET", path: "/auth/v1/admin/users", query: url.Values{"page": {"2"}, "per_page": {"50"}},
		key: axServiceKey, bearer: axServiceKey,
	})
	require.Len(t, l.Users, 1)
	assert.Equal(t, axBobID, l.Users[0].ID)
	assert.Equal(t, 180, l.Total)
	assert.Equal(t, 3, l.NextPage)
	assert.Equal(t, 4, l.LastPage)

	_, err = c.Auth.Admin().ListUsers(context.Background(), ListUsersParams{Page: -1})
	assert.Error(t, err)
	assert.Len(t, f.requests(), 1)
}

func TestParseLinkPages(t *testing.T) {
	// supabase-js reads one digit of the page number; all of it counts here.
	tests := []struct {
		name       string
		headers    []string
		next, last int
	}{
		{"none", nil, 0, 0},
		{"next and last", []string{`</admin/users?page=3&per_page=50>; rel="next", </admin/users?page=4&per_page=50>; rel="last"`}, 3, 4},
		{"multi-digit", []string{`</admin/users?page=12&per_page=10>; rel="next", </admin/users?page=137&per_page=10>; rel="last"`}, 12, 137},
		{"page not first", []string{`</admin/users?per_page=10&page=21>; rel="next",</admin/users?per_page=10&page=250>;rel="last"`}, 21, 250},
		{"last only", []string{`</admin/users?page=4&per_page=50>; rel="last"`}, 0, 4},
		{"absolute URL, unquoted rel", []string{`<https://x.supabase.co/auth/v1/admin/users?page=10&per_page=5>; rel=next`}, 10, 0},
		{"two header lines", []string{`</admin/users?page=2>; rel="next"`, `</admin/users?page=9>; rel="last"`}, 2, 9},
		{"garbage ignored", []string{`nonsense, <>; rel="next", </admin/users?page=x>; rel="last", </admin/users?page=5>; rel="prev"`}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, last := parseLinkPages(tt.headers)
			assert.Equal(t, tt.next, next, "next")
			assert.Equal(t, tt.last, last, "last")
		})
	}
}

func TestAdminUsersIterator(t *testing.T) {
	const per, total = 2, 5
	var mu sync.Mutex
	var queries []url.Values
	srv, _ := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/auth/v1/admin/users" {
			t.Errorf("unexpected path %s", r.URL.Path)
		}
		mu.Lock()
		queries = append(queries, r.URL.Query())
		mu.Unlock()
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		last := (total + per - 1) / per
		var users []string
		for i := (page - 1) * per; i < min(page*per, total); i++ {
			users = append(users, fmt.Sprintf(`{"id":"00000000-0000-4000-8000-%012d","email":"u%d@example.com"}`, i, i))
		}
		link := ""
		if page < last {
			link = fmt.Sprintf(`</admin/users?page=%d&per_page=%d>; rel="next", `, page+1, per)
		}
		link += fmt.Sprintf(`</admin/users?page=%d&per_page=%d>; rel="last"`, last, per)
		w.Header().Set("Link", link)
		w.Header().Set("X-Total-Count", strconv.Itoa(total))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"aud":"authenticated","users":[`+strings.Join(users, ",")+`]}`)
	})
	c := srv.client(t, axServiceKey)

	var emails []string
	for u, err := range c.Auth.Admin().AllUsers(context.Background(), per) {
		require.NoError(t, err)
		emails = append(emails, u.Email)
	}
	assert.Equal(t, []string{"u0@example.com", "u1@example.com", "u2@example.com", "u3@example.com", "u4@example.com"}, emails)
	mu.Lock()
	assert.Equal(t, []url.Values{
		{"page": {"1"}, "per_page": {"2"}}, {"page": {"2"}, "per_page": {"2"}}, {"page": {"3"}, "per_page": {"2"}},
	}, queries)
	mu.Unlock()

	// Stopping early fetches no more pages.
	for range c.Auth.Admin().AllUsers(context.Background(), per) {
		break
	}
	mu.Lock()
	assert.Len(t, queries, 4)
	mu.Unlock()
}

func TestAdminUsersIteratorError(t *testing.T) {
	f, _ := newFakeAPI(t, nil)
	f.on("GET", "/auth/v1/admin/users", 403, []byte(`{"code":"not_admin","message":"User not allowed"}`))
	c := f.client(t, axAnonKey)
	n := 0
	for u, err := range c.Auth.Admin().AllUsers(context.Background(), 0) {
		n++
		assert.Zero(t, u)
		assert.ErrorIs(t, err, ErrPermissionDenied)
	}
	assert.Equal(t, 1, n)
}

func TestAdminNotAdmin(t *testing.T) {
	// auth_err_admin_not_admin
	f, _ := newFakeAPI(t, nil)
	f.on("GET", "/auth/v1/admin/users", 403, []byte(`{"code":"not_admin","message":"User not allowed"}`))
	c := f.client(t, axAnonKey)
	l, err := c.Auth.Admin().ListUsers(context.Background(), ListUsersParams{Page: 1, PerPage: 10})
	assert.Nil(t, l)
	assert.ErrorIs(t, err, ErrPermissionDenied)
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, 403, e.Status)
	assert.Equal(t, "not_admin", e.Code)
	assert.Equal(t, "User not allowed", e.Message)
	axAssertRequest(t, f.last(), axWant{
		method: "GET", path: "/auth/v1/admin/users", query: url.Values{"page": {"1"}, "per_page": {"10"}},
		key: axAnonKey, bearer: axAnonKey,
	})
}

func TestAdminGetUserByID(t *testing.T) {
	// admin_get_user_by_id
	f, _ := newFakeAPI(t, nil)
	f.on("GET", "/auth/v1/admin/users/"+axBobID, 200, axTestdata(t, "admin_user.json"))
	c := f.client(t, axServiceKey)
	u, err := c.Auth.Admin().GetUserByID(context.Background(), axBobID)
	require.NoError(t, err)
	assert.Equal(t, "bob@example.net", u.Email)
	axAssertRequest(t, f.last(), axWant{method: "GET", path: "/auth/v1/admin/users/" + axBobID, key: axServiceKey, bearer: axServiceKey})

	_, err = c.Auth.Admin().GetUserByID(context.Background(), "00000000-0000-4000-8000-000000000000")
	assert.ErrorIs(t, err, ErrNotFound)
}

func TestAdminInvalidUUIDSendsNothing(t *testing.T) {
	// admin_get_user_by_id_invalid_uuid
	f, _ := newFakeAPI(t, nil)
	c := f.client(t, axServiceKey)
	ad := c.Auth.Admin()
	ctx := context.Background()
	for _, id := range []string{"not-a-uuid", "", "../../user", axBobID + "/factors", "d4c3b2a1-0f9e-4d8c-b7a6-5e4d3c2b1a0g"} {
		_, err := ad.GetUserByID(ctx, id)
		assert.Error(t, err, id)
		_, err = ad.UpdateUserByID(ctx, id, AdminUserAttributes{Email: "x@example.com"})
		assert.Error(t, err, id)
		assert.Error(t, ad.DeleteUser(ctx, id, false), id)
		_, err = ad.ListFactors(ctx, id)
		assert.Error(t, err, id)
		assert.Error(t, ad.DeleteFactor(ctx, id, axTOTPFactorID), id)
		assert.Error(t, ad.DeleteFactor(ctx, axAdaUserID, id), id)
	}
	_, err := ad.UpdateUserByID(ctx, axBobID, AdminUserAttributes{ID: axBobID})
	assert.Error(t, err, "an ID cannot be changed")
	_, err = ad.GetUserByID(ctx, "eyJhbGciOiJIUzI1NiJ9.secret")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret")
	assert.Empty(t, f.requests())
}

func TestAdminUpdateUserByID(t *testing.T) {
	// admin_update_user_by_id
	f, _ := newFakeAPI(t, nil)
	f.on("PUT", "/auth/v1/admin/users/"+axBobID, 200, axTestdata(t, "admin_user_updated.json"))
	c := f.client(t, axServiceKey)
	u, err := c.Auth.Admin().UpdateUserByID(context.Background(), axBobID, AdminUserAttributes{
		BanDuration: "24h", AppMetadata: map[string]any{"roles": []any{}}, Email: "bob2@example.net",
	})
	require.NoError(t, err)
	assert.Equal(t, "bob2@example.net", u.Email)
	assert.Equal(t, []any{}, u.AppMetadata["roles"])
	axAssertRequest(t, f.last(), axWant{
		method: "PUT", path: "/auth/v1/admin/users/" + axBobID, key: axServiceKey, bearer: axServiceKey,
		body: `{"ban_duration":"24h","app_metadata":{"roles":[]},"email":"bob2@example.net"}`,
	})
}

func TestAdminDeleteUser(t *testing.T) {
	// admin_delete_user and admin_delete_user_soft. Divergence: supabase-js
	// GETs the user first to return it; only the DELETE is sent here.
	for _, soft := range []bool{false, true} {
		t.Run(fmt.Sprint("soft=", soft), func(t *testing.T) {
			f, _ := newFakeAPI(t, nil)
			f.on("DELETE", "/auth/v1/admin/users/"+axBobID, 200, []byte(`{}`))
			c := f.client(t, axServiceKey)
			require.NoError(t, c.Auth.Admin().DeleteUser(context.Background(), axBobID, soft))
			require.Len(t, f.requests(), 1)
			axAssertRequest(t, f.last(), axWant{
				method: "DELETE", path: "/auth/v1/admin/users/" + axBobID, key: axServiceKey, bearer: axServiceKey,
				body: fmt.Sprintf(`{"should_soft_delete":%v}`, soft),
			})
		})
	}
	f, _ := newFakeAPI(t, nil)
	f.on("DELETE", "/auth/v1/admin/users/"+axBobID, 404, []byte(`{"code":"user_not_found","message":"User not found"}`))
	c := f.client(t, axServiceKey)
	assert.ErrorIs(t, c.Auth.Admin().DeleteUser(context.Background(), axBobID, false), ErrNotFound)
}

func TestAdminGenerateLinkSignup(t *testing.T) {
	// admin_generate_link_signup. Divergence: supabase-js spreads its
	// options into the body ("redirectTo", camelCase, which Auth ignores);
	// here data and redirect_to are sent as Auth reads them (redirect_to in
	// the query too, as supabase-js does).
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/admin/generate_link", 200, axTestdata(t, "generate_link_signup.json"))
	c := f.client(t, axServiceKey)
	got, err := c.Auth.Admin().GenerateLink(context.Background(), GenerateLinkParams{
		Type: LinkSignup, Email: "carol@example.com", Password: "Gen3rated!",
		Data: map[string]any{"invited_by": "bob"},
	}, WithRedirectTo("https://app.example.com/onboard"))
	require.NoError(t, err)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/admin/generate_link",
		query: url.Values{"redirect_to": {"https://app.example.com/onboard"}},
		key:   axServiceKey, bearer: axServiceKey,
		body: `{"type":"signup","email":"carol@example.com","password":"Gen3rated!","data":{"invited_by":"bob"},"redirect_to":"https://app.example.com/onboard"}`,
	})
	assert.Equal(t, LinkProperties{
		ActionLink:       "https://project-ref.supabase.co/auth/v1/verify?token=abc123&type=signup&redirect_to=https://app.example.com/onboard",
		EmailOTP:         "123456",
		HashedToken:      "abc123",
		RedirectTo:       "https://app.example.com/onboard",
		VerificationType: "signup",
	}, got.Properties)
	require.NotNil(t, got.User)
	assert.Equal(t, "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", got.User.ID)
	assert.Equal(t, "carol@example.com", got.User.Email)
	assert.Equal(t, map[string]any{"invited_by": "bob"}, got.User.UserMetadata)
}

func TestAdminGenerateLinkMagicLink(t *testing.T) {
	// admin_generate_link_magiclink
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/admin/generate_link", 200, axTestdata(t, "generate_link_signup.json"))
	c := f.client(t, axServiceKey)
	_, err := c.Auth.Admin().GenerateLink(context.Background(), GenerateLinkParams{Type: LinkMagicLink, Email: "ada@example.com"})
	require.NoError(t, err)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/admin/generate_link", key: axServiceKey, bearer: axServiceKey,
		body: `{"type":"magiclink","email":"ada@example.com"}`,
	})
}

func TestAdminGenerateLinkEmailChange(t *testing.T) {
	// admin_generate_link_email_change (same divergence as the signup case).
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/admin/generate_link", 200, axTestdata(t, "generate_link_email_change.json"))
	c := f.client(t, axServiceKey)
	got, err := c.Auth.Admin().GenerateLink(context.Background(), GenerateLinkParams{
		Type: LinkEmailChangeNew, Email: "ada@example.com", NewEmail: "ada@new.example.com",
	}, WithRedirectTo("https://app.example.com/changed"))
	require.NoError(t, err)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/admin/generate_link",
		query: url.Values{"redirect_to": {"https://app.example.com/changed"}},
		key:   axServiceKey, bearer: axServiceKey,
		body: `{"type":"email_change_new","email":"ada@example.com","new_email":"ada@new.example.com","redirect_to":"https://app.example.com/changed"}`,
	})
	assert.Equal(t, "email_change_new", got.Properties.VerificationType)
	assert.Equal(t, "111222", got.Properties.EmailOTP)
	assert.Equal(t, axAdaUserID, got.User.ID)
}

func TestAdminGenerateLinkValidation(t *testing.T) {
	f, _ := newFakeAPI(t, nil)
	c := f.client(t, axServiceKey)
	for _, p := range []GenerateLinkParams{
		{Email: "a@example.com"},
		{Type: LinkRecovery},
		{Type: LinkSignup, Email: "a@example.com"},
		{Type: LinkEmailChangeCurrent, Email: "a@example.com"},
	} {
		_, err := c.Auth.Admin().GenerateLink(context.Background(), p)
		assert.Error(t, err, "%+v", p)
	}
	assert.Empty(t, f.requests())
}

func TestAdminInviteUserByEmail(t *testing.T) {
	// admin_invite_user_by_email
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/invite", 200, axTestdata(t, "invite_user.json"))
	c := f.client(t, axServiceKey)
	u, err := c.Auth.Admin().InviteUserByEmail(context.Background(), "dave@example.com", InviteParams{
		Data: map[string]any{"team": "blue"},
	}, WithRedirectTo("https://app.example.com/accept-invite"))
	require.NoError(t, err)
	assert.Equal(t, "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a", u.ID)
	assert.Equal(t, "dave@example.com", u.Email)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/invite",
		query: url.Values{"redirect_to": {"https://app.example.com/accept-invite"}},
		key:   axServiceKey, bearer: axServiceKey,
		body: `{"email":"dave@example.com","data":{"team":"blue"}}`,
	})

	_, err = c.Auth.Admin().InviteUserByEmail(context.Background(), "erin@example.com", InviteParams{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"email":"erin@example.com"}`, string(f.last().Body))
	assert.Empty(t, f.last().Query)
	_, err = c.Auth.Admin().InviteUserByEmail(context.Background(), " ", InviteParams{})
	assert.Error(t, err)
}

func TestAdminSignOut(t *testing.T) {
	// admin_sign_out_user_jwt. Divergence: supabase-js sends Content-Type
	// on this body-less POST; none is sent here.
	var sess Session
	require.NoError(t, decodeJSON(axTestdata(t, "session_password.json"), &sess))
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/logout", 204, nil)
	c := f.client(t, axServiceKey)
	require.NoError(t, c.Auth.Admin().SignOut(context.Background(), sess.AccessToken, SignOutOthers))
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/logout", query: url.Values{"scope": {"others"}},
		key: axServiceKey, bearer: sess.AccessToken,
	})
	require.NoError(t, c.Auth.Admin().SignOut(context.Background(), sess.AccessToken, ""))
	assert.Equal(t, url.Values{"scope": {"global"}}, f.last().Query)

	assert.Error(t, c.Auth.Admin().SignOut(context.Background(), sess.AccessToken, "everyone"))
	assert.Error(t, c.Auth.Admin().SignOut(context.Background(), "", SignOutLocal))
	assert.Len(t, f.requests(), 2)
}

func TestAdminFactors(t *testing.T) {
	// admin_mfa_list_and_delete_factor. Divergence: supabase-js sends
	// Content-Type on the body-less DELETE; none is sent here.
	f, _ := newFakeAPI(t, nil)
	f.on("GET", "/auth/v1/admin/users/"+axAdaUserID+"/factors", 200, axTestdata(t, "admin_factors.json"))
	f.on("DELETE", "/auth/v1/admin/users/"+axAdaUserID+"/factors/"+axTOTPFactorID, 200, []byte(`{"id":"`+axTOTPFactorID+`"}`))
	c := f.client(t, axServiceKey)

	fs, err := c.Auth.Admin().ListFactors(context.Background(), axAdaUserID)
	require.NoError(t, err)
	axAssertRequest(t, f.last(), axWant{
		method: "GET", path: "/auth/v1/admin/users/" + axAdaUserID + "/factors", key: axServiceKey, bearer: axServiceKey,
	})
	require.Len(t, fs, 2)
	assert.Equal(t, axTOTPFactorID, fs[0].ID)
	assert.Equal(t, "totp", fs[0].FactorType)
	assert.Equal(t, "unverified", fs[1].Status)

	require.NoError(t, c.Auth.Admin().DeleteFactor(context.Background(), axAdaUserID, axTOTPFactorID))
	axAssertRequest(t, f.last(), axWant{
		method: "DELETE", path: "/auth/v1/admin/users/" + axAdaUserID + "/factors/" + axTOTPFactorID,
		key: axServiceKey, bearer: axServiceKey,
	})
}

func TestAdminAlwaysSendsTheKey(t *testing.T) {
	// A service-role client with a signed-in user still sends its key on
	// admin calls, and the user session is left alone.
	f, _ := newFakeAPI(t, nil)
	f.on("GET", "/auth/v1/admin/users/"+axBobID, 200, axTestdata(t, "admin_user.json"))
	c := f.client(t, axServiceKey)
	s := axSignInAda(t, f, c, "session_password.json")

	_, err := c.Auth.Admin().GetUserByID(context.Background(), axBobID)
	require.NoError(t, err)
	axAssertRequest(t, f.last(), axWant{method: "GET", path: "/auth/v1/admin/users/" + axBobID, key: axServiceKey, bearer: axServiceKey})
	cur, err := c.Auth.Session(context.Background())
	require.NoError(t, err)
	assert.Equal(t, s.AccessToken, cur.AccessToken)

	// The same on a derived user client.
	u := c.WithAccessToken(s.AccessToken)
	_, err = u.Auth.Admin().GetUserByID(context.Background(), axBobID)
	require.NoError(t, err)
	assert.Equal(t, "Bearer "+axServiceKey, f.last().Header.Get("Authorization"))
}

// Without a Link header the iterator goes on while X-Total-Count says
// users remain, and stops at an empty page whatever the headers say.
func TestAdminAllUsersWithoutLink(t *testing.T) {
	const total = 3
	var mu sync.Mutex
	var pages []string
	srv, _ := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		mu.Lock()
		pages = append(pages, r.URL.Query().Get("page"))
		mu.Unlock()
		var users []string
		if page <= 2 {
			for i := (page - 1) * 2; i < min(page*2, total); i++ {
				users = append(users, fmt.Sprintf(`{"id":"00000000-0000-4000-8000-%012d","email":"u%d@example.com"}`, i, i))
			}
		}
		w.Header().Set("X-Total-Count", "99") // wrong on purpose: the empty page ends it
		if page == 1 {
			w.Header().Set("X-Total-Count", strconv.Itoa(total))
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"aud":"authenticated","users":[`+strings.Join(users, ",")+`]}`)
	})
	c := srv.client(t, axServiceKey)
	var got []User
	for u, err := range c.Auth.Admin().AllUsers(context.Background(), 2) {
		require.NoError(t, err)
		got = append(got, u)
	}
	require.Len(t, got, total)
	assert.Equal(t, "u2@example.com", got[2].Email)
	assert.Equal(t, []string{"1", "2", "3"}, pages, "page 3 is empty: the end")
}
