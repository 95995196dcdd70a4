package supabase

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertAuthRequest checks the parts every Auth request shares.
func assertAuthRequest(t *testing.T, r fakeRequest, method, path string, query url.Values, bearer string) {
	t.Helper()
	assert.Equal(t, method, r.Method)
	assert.Equal(t, path, r.Path)
	if query == nil {
		query = url.Values{}
	}
	assert.Equal(t, query, r.Query)
	assert.Equal(t, "2024-01-01", r.Header.Get("X-Supabase-Api-Version"))
	assert.Equal(t, coreTestKey, r.Header.Get("Apikey"))
	assert.Equal(t, "Bearer "+bearer, r.Header.Get("Authorization"))
	if len(r.Body) > 0 {
		assert.Equal(t, "application/json;charset=UTF-8", r.Header.Get("Content-Type"))
	} else {
		assert.Empty(t, r.Header.Get("Content-Type"), "no body, no Content-Type")
	}
}

func assertJSONBody(t *testing.T, r fakeRequest, want string) {
	t.Helper()
	assert.JSONEq(t, want, string(r.Body))
}

func TestSignInWithPassword(t *testing.T) {
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, readTestdata(t, "session.json"))
	})
	s, err := c.Auth.SignInWithPassword(context.Background(), "ada@example.com", "correct horse", WithCaptchaToken("cap"))
	require.NoError(t, err)
	r := srv.requests()[0]
	assertAuthRequest(t, r, "POST", "/auth/v1/token", url.Values{"grant_type": {"password"}}, coreTestKey)
	assertJSONBody(t, r, `{"email":"ada@example.com","password":"correct horse","gotrue_meta_security":{"captcha_token":"cap"}}`)

	assert.Equal(t, "ycxk4mq5w2ab", s.RefreshToken)
	assert.Equal(t, int64(4102444800), s.ExpiresAt)
	assert.Equal(t, "bearer", s.TokenType)
	require.NotNil(t, s.User)
	assert.Equal(t, "6a1d5b2e-3f4c-4d8e-9a7b-2c1e0f9d8b7a", s.User.ID)
	assert.Equal(t, "Ada Lovelace", s.User.UserMetadata["full_name"])
	require.Len(t, s.User.Identities, 1)
	assert.Equal(t, "email", s.User.Identities[0].Provider)
	assert.Equal(t, time.Date(2025, 12, 1, 10, 0, 0, 0, time.UTC), s.User.EmailConfirmedAt.UTC())

	cur, err := c.Auth.Session(context.Background())
	require.NoError(t, err)
	assert.Same(t, s, cur)
	claims, err := cur.Claims()
	require.NoError(t, err)
	assert.Equal(t, "6a1d5b2e-3f4c-4d8e-9a7b-2c1e0f9d8b7a", claims.Subject)
	assert.Equal(t, "authenticated", claims.Role)
	assert.Equal(t, "0f3e2d1c-4b5a-4c6d-8e7f-9a0b1c2d3e4f", claims.SessionID)
	assert.Len(t, srv.requests(), 1, "Session needs no request while the token is valid")
}

func TestSignInWithPhonePassword(t *testing.T) {
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, readTestdata(t, "session.json"))
	})
	_, err := c.Auth.SignInWithPhonePassword(context.Background(), "64211234567", "pa55word")
	require.NoError(t, err)
	assertJSONBody(t, srv.requests()[0], `{"phone":"64211234567","password":"pa55word","gotrue_meta_security":{}}`)
}

func TestSignInRejectsEmptyInput(t *testing.T) {
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {})
	_, err := c.Auth.SignInWithPassword(context.Background(), "", "pw")
	assert.Error(t, err)
	_, err = c.Auth.SignInWithPassword(context.Background(), "a@b.c", "")
	assert.Error(t, err)
	_, err = c.Auth.SignUp(context.Background(), SignUpParams{Email: "a@b.c", Phone: "1", Password: "x"})
	assert.Error(t, err)
	assert.Empty(t, srv.requests())
}

func TestSignUpConfirmationRequired(t *testing.T) {
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, readTestdata(t, "signup_confirm.json"))
	})
	res, err := c.Auth.SignUp(context.Background(), SignUpParams{
		Email: "new.user@example.org", Password: "S3cure-Passw0rd!",
		Data: map[string]any{"full_name": "New User", "plan": "free"},
	}, WithRedirectTo("https://app.example.com/welcome?from=signup"))
	require.NoError(t, err)
	r := srv.requests()[0]
	assertAuthRequest(t, r, "POST", "/auth/v1/signup", url.Values{"redirect_to": {"https://app.example.com/welcome?from=signup"}}, coreTestKey)
	assertJSONBody(t, r, `{"email":"new.user@example.org","password":"S3cure-Passw0rd!","data":{"full_name":"New User","plan":"free"},
		"gotrue_meta_security":{},"code_challenge":null,"code_challenge_method":null}`)
	assert.Nil(t, res.Session)
	require.NotNil(t, res.User)
	assert.Equal(t, "new.user@example.org", res.User.Email)
	_, err = c.Auth.Session(context.Background())
	assert.ErrorIs(t, err, ErrSessionMissing)
}

func TestSignUpAutoConfirmSignsIn(t *testing.T) {
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, readTestdata(t, "session.json"))
	})
	res, err := c.Auth.SignUp(context.Background(), SignUpParams{Phone: "+64 21 123 4567", Password: "pw", Channel: "whatsapp"})
	require.NoError(t, err)
	assertJSONBody(t, srv.requests()[0], `{"phone":"+64 21 123 4567","password":"pw","data":{},"channel":"whatsapp","gotrue_meta_security":{}}`)
	require.NotNil(t, res.Session)
	assert.Equal(t, res.Session.User, res.User)
	s, err := c.Auth.Session(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "ycxk4mq5w2ab", s.RefreshToken)
}

func TestSignUpWeakPassword(t *testing.T) {
	_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 422, []byte(`{"code":"weak_password","message":"Password should be at least 8 characters.","weak_password":{"reasons":["length","characters"]}}`))
	})
	_, err := c.Auth.SignUp(context.Background(), SignUpParams{Email: "a@b.c", Password: "x"})
	require.ErrorIs(t, err, ErrWeakPassword)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, []string{"length", "characters"}, e.Reasons)
	assert.Equal(t, 422, e.Status)
	assert.Equal(t, "weak_password", e.Code)
}

func TestRefreshSessionRotates(t *testing.T) {
	var mu sync.Mutex
	refreshes := 0
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("grant_type") {
		case "password":
			writeJSON(w, 200, coreSessionJSON(t, "u1", 4102444800, "r1"))
		case "refresh_token":
			mu.Lock()
			refreshes++
			mu.Unlock()
			writeJSON(w, 200, coreSessionJSON(t, "u1", 4102444801, "r2"))
		}
	})
	ctx := context.Background()
	_, err := c.Auth.RefreshSession(ctx)
	assert.ErrorIs(t, err, ErrSessionMissing)
	assert.Empty(t, srv.requests())

	_, err = c.Auth.SignInWithPassword(ctx, "a@b.c", "pw")
	require.NoError(t, err)
	s, err := c.Auth.RefreshSession(ctx)
	require.NoError(t, err)
	assert.Equal(t, "r2", s.RefreshToken)
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	assertAuthRequest(t, reqs[1], "POST", "/auth/v1/token", url.Values{"grant_type": {"refresh_token"}}, coreTestKey)
	assertJSONBody(t, reqs[1], `{"refresh_token":"r1"}`)
	cur, _ := c.Auth.Session(ctx)
	assert.Same(t, s, cur)
}

func TestSessionRefreshesNearExpiry(t *testing.T) {
	soon := time.Now().Add(60 * time.Second).Unix() // inside the 90 s margin
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, coreSessionJSON(t, "u1", 4102444800, "r2"))
	})
	c = c.WithSession(&Session{AccessToken: coreJWT(t, jwt.MapClaims{"exp": soon}), RefreshToken: "r1", ExpiresAt: soon})
	s, err := c.Auth.Session(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "r2", s.RefreshToken)
	require.Len(t, srv.requests(), 1)
	assertJSONBody(t, srv.requests()[0], `{"refresh_token":"r1"}`)
}

func TestSetSession(t *testing.T) {
	valid := coreJWT(t, jwt.MapClaims{"sub": "u1", "exp": 4102444800})
	expired := coreJWT(t, jwt.MapClaims{"sub": "u1", "exp": 1700003600})
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/auth/v1/user" {
			writeJSON(w, 200, readTestdata(t, "user.json"))
			return
		}
		writeJSON(w, 200, coreSessionJSON(t, "u1", 4102444800, "r-new"))
	})
	ctx := context.Background()
	s, err := c.Auth.SetSession(ctx, valid, "r-valid")
	require.NoError(t, err)
	assertAuthRequest(t, srv.requests()[0], "GET", "/auth/v1/user", nil, valid)
	assert.Equal(t, valid, s.AccessToken)
	assert.Equal(t, "r-valid", s.RefreshToken)
	assert.Equal(t, int64(4102444800), s.ExpiresAt)
	assert.Equal(t, "ada@example.com", s.User.Email)

	s, err = c.Auth.SetSession(ctx, expired, "r-old")
	require.NoError(t, err)
	r := srv.requests()[1]
	assertAuthRequest(t, r, "POST", "/auth/v1/token", url.Values{"grant_type": {"refresh_token"}}, coreTestKey)
	assertJSONBody(t, r, `{"refresh_token":"r-old"}`)
	assert.Equal(t, "r-new", s.RefreshToken)

	_, err = c.Auth.SetSession(ctx, "not-a-jwt", "r")
	assert.ErrorIs(t, err, ErrMalformedToken)
	assert.Len(t, srv.requests(), 2)
}

func TestUserAndUpdateUser(t *testing.T) {
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/auth/v1/token":
			writeJSON(w, 200, readTestdata(t, "session.json"))
		default:
			writeJSON(w, 200, readTestdata(t, "user.json"))
		}
	})
	ctx := context.Background()
	_, err := c.Auth.User(ctx)
	require.ErrorIs(t, err, ErrSessionMissing)
	_, err = c.Auth.UpdateUser(ctx, UserAttributes{Password: "x"})
	require.ErrorIs(t, err, ErrSessionMissing)
	assert.Empty(t, srv.requests(), "no request without a session")

	s, err := c.Auth.SignInWithPassword(ctx, "ada@example.com", "pw")
	require.NoError(t, err)
	events := make(chan AuthChangeEvent, 8)
	unsub := c.Auth.OnAuthStateChange(func(e AuthChangeEvent, _ *Session) { events <- e })
	defer unsub()

	u, err := c.Auth.User(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ada@example.com", u.Email)
	assertAuthRequest(t, srv.requests()[1], "GET", "/auth/v1/user", nil, s.AccessToken)

	_, err = c.Auth.UpdateUser(ctx, UserAttributes{Email: "ada.new@example.com", Data: map[string]any{"full_name": "Ada King"}},
		WithRedirectTo("https://app.example.com/email-changed"))
	require.NoError(t, err)
	r := srv.requests()[2]
	assertAuthRequest(t, r, "PUT", "/auth/v1/user", url.Values{"redirect_to": {"https://app.example.com/email-changed"}}, s.AccessToken)
	assertJSONBody(t, r, `{"email":"ada.new@example.com","data":{"full_name":"Ada King"},"code_challenge":null,"code_challenge_method":null}`)
	assert.Equal(t, EventInitialSession, <-events)
	assert.Equal(t, EventUserUpdated, <-events)
}

func TestSignOutScopes(t *testing.T) {
	for _, tt := range []struct {
		scope     SignOutScope
		status    int
		wantErr   bool
		keepLocal bool
	}{
		{SignOutGlobal, 204, false, false},
		{SignOutLocal, 204, false, false},
		{SignOutOthers, 204, false, true},
		{SignOutGlobal, 401, false, false}, // session already gone server-side
		{SignOutGlobal, 403, false, false},
		{SignOutGlobal, 404, false, false},
		{SignOutGlobal, 500, true, true}, // keep the session: the server may not have ended it
	} {
		srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/auth/v1/token" {
				writeJSON(w, 200, readTestdata(t, "session.json"))
				return
			}
			if tt.status == 204 {
				w.WriteHeader(204)
				return
			}
			writeJSON(w, tt.status, []byte(`{"code":"session_not_found","message":"Session from session_id claim in JWT does not exist"}`))
		})
		ctx := context.Background()
		s, err := c.Auth.SignInWithPassword(ctx, "ada@example.com", "pw")
		require.NoError(t, err)
		err = c.Auth.SignOut(ctx, tt.scope)
		assert.Equal(t, tt.wantErr, err != nil, "%s %d: %v", tt.scope, tt.status, err)
		r := srv.requests()[1]
		assertAuthRequest(t, r, "POST", "/auth/v1/logout", url.Values{"scope": {string(tt.scope)}}, s.AccessToken)
		assert.Empty(t, r.Body)
		_, err = c.Auth.Session(ctx)
		if tt.keepLocal {
			assert.NoError(t, err, "%s %d keeps the session", tt.scope, tt.status)
		} else {
			assert.ErrorIs(t, err, ErrSessionMissing, "%s %d clears the session", tt.scope, tt.status)
		}
	}
}

func TestSignOutWithoutSessionSendsNothing(t *testing.T) {
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {})
	require.NoError(t, c.Auth.SignOut(context.Background(), ""))
	assert.Error(t, c.Auth.SignOut(context.Background(), "everywhere"))
	assert.Empty(t, srv.requests())
}

func TestResetPasswordForEmail(t *testing.T) {
	srv, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, []byte(`{}`)) })
	err := c.Auth.ResetPasswordForEmail(context.Background(), "ada@example.com",
		WithRedirectTo("https://app.example.com/reset?step=2"), WithCaptchaToken("cap-123"))
	require.NoError(t, err)
	r := srv.requests()[0]
	assertAuthRequest(t, r, "POST", "/auth/v1/recover", url.Values{"redirect_to": {"https://app.example.com/reset?step=2"}}, coreTestKey)
	assertJSONBody(t, r, `{"email":"ada@example.com","code_challenge":null,"code_challenge_method":null,"gotrue_meta_security":{"captcha_token":"cap-123"}}`)
}

func TestAuthEventsOrderAndPanickingSubscriber(t *testing.T) {
	_, c := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/auth/v1/logout" {
			w.WriteHeader(204)
			return
		}
		writeJSON(w, 200, readTestdata(t, "session.json"))
	})
	ctx := context.Background()
	unsubPanic := c.Auth.OnAuthStateChange(func(AuthChangeEvent, *Session) { panic("subscriber bug") })
	defer unsubPanic()
	got := make(chan AuthChangeEvent, 8)
	unsub := c.Auth.OnAuthStateChange(func(e AuthChangeEvent, s *Session) { got <- e })

	_, err := c.Auth.SignInWithPassword(ctx, "ada@example.com", "pw")
	require.NoError(t, err)
	_, err = c.Auth.RefreshSession(ctx)
	require.NoError(t, err)
	require.NoError(t, c.Auth.SignOut(ctx, SignOutGlobal))
	want := []AuthChangeEvent{EventInitialSession, EventSignedIn, EventTokenRefreshed, EventSignedOut}
	for _, w := range want {
		select {
		case e := <-got:
			assert.Equal(t, w, e)
		case <-time.After(5 * time.Second):
			t.Fatalf("missing event %s", w)
		}
	}
	unsub()
}

func TestSessionJSONRoundTrip(t *testing.T) {
	var s Session
	require.NoError(t, json.Unmarshal(readTestdata(t, "session.json"), &s))
	b, err := json.Marshal(&s)
	require.NoError(t, err)
	var back Session
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, s.AccessToken, back.AccessToken, "stores persist the tokens")
	assert.Equal(t, s.RefreshToken, back.RefreshToken)
	assert.Equal(t, s.User.ID, back.User.ID)
}
