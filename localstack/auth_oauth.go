package localstack

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestOAuthProvider is the name of the stack's built-in OAuth provider.
// Every name in Config.OAuthProviders (by default this one, github and
// google) is served by it: its authorization page approves at once.
const TestOAuthProvider = "local"

// DefaultOAuthUser is the email the test provider signs in when the
// authorization request carries no login_hint.
const DefaultOAuthUser = "oauth-user@example.com"

// oauthCodeType marks the test provider's authorization codes, so no other
// token signed with the project secret passes for one.
const oauthCodeType = "localstack_oauth_code"

// providerUser is who the test provider says signed in.
type providerUser struct {
	Subject string `json:"sub"`
	Email   string `json:"email"`
	Name    string `json:"name,omitempty"`
	Picture string `json:"picture,omitempty"`
}

// identityData is the identity_data Supabase Auth stores for a provider's
// user (and merges into user_metadata).
func (p providerUser) identityData(iss string) map[string]any {
	d := map[string]any{
		"iss": iss, "sub": p.Subject, "provider_id": p.Subject,
		"email": p.Email, "email_verified": true, "phone_verified": false,
	}
	if p.Name != "" {
		d["name"], d["full_name"] = p.Name, p.Name
	}
	if p.Picture != "" {
		d["avatar_url"], d["picture"] = p.Picture, p.Picture
	}
	return d
}

// subjectFor is the test provider's stable numeric subject for an email.
func subjectFor(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	return strconv.FormatUint(binary.BigEndian.Uint64(sum[:8])>>1, 10)
}

func (s *Server) oauthProviderEnabled(name string) bool {
	return name != "" && slices.Contains(s.cfg.OAuthProviders, name)
}

// reservedOAuthParams are the authorization parameters Supabase Auth sets
// itself; a client cannot pass them on to the provider.
var reservedOAuthParams = []string{"provider", "scopes", "redirect_to", "code_challenge", "code_challenge_method",
	"client_id", "redirect_uri", "response_type", "state", "scope", "skip_http_redirect", "apikey"}

// providerRedirect starts an OAuth flow: it records the flow state and
// returns the provider's authorization URL, whose state is the flow
// state's id. linkTo is the user an identity is being linked to, if any.
func (s *Server) providerRedirect(ctx context.Context, r *http.Request, linkTo *user) (string, error) {
	q := r.URL.Query()
	provider := strings.ToLower(q.Get("provider"))
	if !s.oauthProviderEnabled(provider) {
		return "", authErr(http.StatusBadRequest, "validation_failed", fmt.Sprintf("Unsupported provider: Provider %s could not be found", provider))
	}
	pk := pkceParams{challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method")}
	redirectTo := s.referrer(r, "")
	if err := pk.validate(); err != nil {
		return "", err
	}
	n := newFlow{pkce: pk, providerType: provider, authMethod: methodOAuth, referrer: redirectTo}
	if linkTo != nil {
		n.linkTarget = linkTo.ID
	}
	f, err := s.createFlowState(ctx, s.pool, n)
	if err != nil {
		return "", err
	}
	pq := url.Values{}
	for k, v := range q {
		if !slices.Contains(reservedOAuthParams, strings.ToLower(k)) && len(v) > 0 {
			pq.Set(k, v[0])
		}
	}
	pq.Set("client_id", TestOIDCClientID)
	pq.Set("redirect_uri", externalURL(r)+"/callback")
	pq.Set("response_type", "code")
	pq.Set("state", f.ID)
	if sc := q.Get("scopes"); sc != "" {
		pq.Set("scope", sc)
	}
	return strings.TrimSuffix(externalURL(r), "/auth/v1") + "/localstack/oauth/authorize?" + pq.Encode(), nil
}

// authorize is GET /authorize: it sends the browser to the provider.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	target, err := s.providerRedirect(r.Context(), r, nil)
	if err != nil {
		s.writeAuthError(w, r, err)
		return
	}
	http.Redirect(w, r, target, http.StatusFound)
}

// providerAuthorize is the test provider's authorization page. It asks
// nothing: it sends the browser straight back to redirect_uri with a code
// for the user named by login_hint (an email; DefaultOAuthUser without
// one), or with error=access_denied when the request says deny=true.
// Optional: sub (the provider's user id; by default derived from the
// email), name and picture.
func (s *Server) providerAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirectURI := q.Get("redirect_uri")
	u, err := url.Parse(redirectURI)
	if err != nil || !strings.HasSuffix(u.Path, "/auth/v1/callback") || q.Get("response_type") != "code" || q.Get("client_id") != TestOIDCClientID {
		http.Error(w, "invalid authorization request: unknown client, redirect_uri or response_type", http.StatusBadRequest)
		return
	}
	back := u.Query()
	back.Set("state", q.Get("state"))
	if d, _ := strconv.ParseBool(q.Get("deny")); d {
		back.Set("error", "access_denied")
		back.Set("error_description", "The user denied the request")
	} else {
		email := strings.ToLower(strings.TrimSpace(q.Get("login_hint")))
		if email == "" {
			email = DefaultOAuthUser
		}
		pu := providerUser{Subject: q.Get("sub"), Email: email, Name: q.Get("name"), Picture: q.Get("picture")}
		if pu.Subject == "" {
			pu.Subject = subjectFor(email)
		}
		code, err := signHS256(s.cfg.JWTSecret, struct {
			Typ string `json:"typ"`
			providerUser
			Exp int64 `json:"exp"`
		}{oauthCodeType, pu, s.now().Add(5 * time.Minute).Unix()})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		back.Set("code", code)
	}
	u.RawQuery = back.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// callback is GET and POST /callback, where the provider sends the browser
// back. A failure to find the flow is answered as JSON; any later one
// redirects to the flow's redirect_to with the error.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var q url.Values
	if err := r.ParseForm(); r.Method == http.MethodPost && err == nil {
		q = r.Form
	} else {
		q = r.URL.Query()
	}
	f, err := s.loadOAuthState(ctx, q.Get("state"))
	if err != nil {
		s.writeAuthError(w, r, err)
		return
	}
	target := s.cfg.SiteURL
	if f.Referrer != nil && *f.Referrer != "" {
		target = *f.Referrer
	}
	dest, err := s.finishOAuth(ctx, r, q, f, target)
	if err != nil {
		var ae *authError
		if !errors.As(err, &ae) {
			s.cfg.Logger.Error("oauth callback failed", "err", err)
			ae = &authError{status: http.StatusInternalServerError, code: "server_error", msg: "Internal Server Error", oauth: true}
		}
		dest = withError(target, ae)
	}
	http.Redirect(w, r, dest, http.StatusFound)
}

func (s *Server) loadOAuthState(ctx context.Context, state string) (*flowState, error) {
	if state == "" {
		return nil, authErr(http.StatusBadRequest, "bad_oauth_callback", "OAuth state parameter missing")
	}
	if !isUUID(state) {
		return nil, authErr(http.StatusBadRequest, "bad_oauth_state", "OAuth state parameter is invalid")
	}
	f, err := findFlowState(ctx, s.pool, "id = $1", state)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, authErr(http.StatusBadRequest, "bad_oauth_state", "OAuth state not found or expired")
	}
	if f.expired(s.now(), s.cfg.FlowStateExpiry) {
		return nil, authErr(http.StatusBadRequest, "bad_oauth_state", "OAuth state has expired")
	}
	if f.isPKCE() && f.UserID != nil {
		return nil, authErr(http.StatusBadRequest, "flow_state_already_used", "State has already been used")
	}
	return f, nil
}

// finishOAuth turns the provider's answer into a user and either an auth
// code (PKCE) or a session (implicit), and returns where to send the
// browser.
func (s *Server) finishOAuth(ctx context.Context, r *http.Request, q url.Values, f *flowState, target string) (string, error) {
	if e := q.Get("error"); e != "" {
		return "", &authError{status: http.StatusBadRequest, code: e, msg: q.Get("error_description"), oauth: true}
	}
	code := q.Get("code")
	if code == "" {
		return "", authErr(http.StatusBadRequest, "bad_oauth_callback", "OAuth callback with missing authorization code missing")
	}
	pu, err := s.exchangeProviderCode(code)
	if err != nil {
		return "", err
	}
	providerToken := "local-" + newRefreshToken()
	var dest string
	err = s.inTx(ctx, discardWriter{}, func(tx pgx.Tx, _ http.ResponseWriter) error {
		var u *user
		var err error
		if f.LinkingTargetID != nil {
			u, err = s.linkIdentityTo(ctx, tx, *f.LinkingTargetID, f.ProviderType, pu.Subject, pu.identityData(providerIssuer(r)), pu.Email)
		} else {
			u, err = s.accountFromIdentity(ctx, tx, f.ProviderType, pu.Subject, pu.identityData(providerIssuer(r)), pu.Email, true)
		}
		if err != nil {
			return err
		}
		if f.isPKCE() {
			var used *string
			if err := tx.QueryRow(ctx, `SELECT user_id::text FROM auth.flow_state WHERE id = $1 FOR UPDATE`, f.ID).Scan(&used); err != nil {
				if errors.Is(err, pgx.ErrNoRows) {
					return authErr(http.StatusBadRequest, "bad_oauth_state", "OAuth state not found or expired")
				}
				return err
			}
			if used != nil {
				return authErr(http.StatusBadRequest, "flow_state_already_used", "State has already been used")
			}
			now := s.now()
			if _, err := tx.Exec(ctx, `UPDATE auth.flow_state SET user_id = $2, provider_access_token = $3, auth_code_issued_at = $4, updated_at = $4
				WHERE id = $1`, f.ID, u.ID, providerToken, now); err != nil {
				return err
			}
			dest = withCode(target, *f.AuthCode)
			return nil
		}
		resp, err := s.startSession(ctx, tx, u, methodOAuth)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM auth.flow_state WHERE id = $1`, f.ID); err != nil {
			return err
		}
		dest = withTokens(target, resp, url.Values{"provider_token": {providerToken}})
		return nil
	})
	return dest, err
}

// discardWriter is the writer for inTx when the answer is not JSON.
type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) WriteHeader(int)             {}

// providerIssuer is the iss the test provider's identities carry.
func providerIssuer(r *http.Request) string {
	return strings.TrimSuffix(externalURL(r), "/auth/v1") + "/localstack/oauth"
}

// exchangeProviderCode checks one of the test provider's authorization
// codes and returns the user it names, as a token and userinfo request to
// a real provider would.
func (s *Server) exchangeProviderCode(code string) (providerUser, error) {
	bad := &authError{status: http.StatusBadRequest, code: "invalid_grant", msg: "The authorization code is invalid or has expired", oauth: true}
	vt, err := verifyJWT(s.cfg.JWTSecret, code)
	if err != nil || vt.str("typ") != oauthCodeType {
		return providerUser{}, bad
	}
	var pu providerUser
	if json.Unmarshal(vt.raw, &pu) != nil || pu.Subject == "" || pu.Email == "" {
		return providerUser{}, bad
	}
	return pu, nil
}

// accountFromIdentity is Supabase Auth's account linking decision for a
// sign-in through a provider: the identity's user when the identity is
// known; else the user with the same (verified) email, given this identity
// too; else a new user. Emails from the test provider are verified.
func (s *Server) accountFromIdentity(ctx context.Context, tx pgx.Tx, provider, subject string, data map[string]any, email string, verified bool) (*user, error) {
	dataJSON, _ := json.Marshal(data)
	var userID string
	err := tx.QueryRow(ctx, `UPDATE auth.identities SET identity_data = $3, last_sign_in_at = now(), updated_at = now()
		WHERE provider = $1 AND provider_id = $2 RETURNING user_id::text`, provider, subject, dataJSON).Scan(&userID)
	switch {
	case err == nil:
	case errors.Is(err, pgx.ErrNoRows):
		// SSO users are never linked by email: each provider's are
		// accounts of their own.
		sso := strings.HasPrefix(provider, "sso:")
		var existing *user
		if verified && email != "" && !sso {
			if existing, err = findUser(ctx, tx, emailCond, strings.ToLower(email)); err != nil {
				return nil, err
			}
		}
		if existing == nil {
			u, err := s.createUser(ctx, tx, newUser{email: strings.ToLower(email), emailConfirmed: email != "" && (verified || !s.cfg.RequireEmailConfirmation),
				provider: provider, providerID: subject, identityData: data, userMeta: dataJSON, sso: sso},
				authErr(http.StatusUnprocessableEntity, "email_exists", "A user with this email address has already been registered"))
			if err != nil {
				return nil, err
			}
			return u, s.checkBanned(u)
		}
		userID = existing.ID
		if _, err := tx.Exec(ctx, `INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at)
			VALUES ($1, $2, $3, $4, now())`, subject, userID, dataJSON, provider); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	if err := mergeMeta(ctx, tx, userID, "raw_user_meta_data", dataJSON); err != nil {
		return nil, err
	}
	if err := syncProviders(ctx, tx, userID); err != nil {
		return nil, err
	}
	// A verified email from the provider confirms an unconfirmed account.
	if verified {
		if _, err := tx.Exec(ctx, `UPDATE auth.users SET email_confirmed_at = coalesce(email_confirmed_at, now()) WHERE id = $1 AND email IS NOT NULL`, userID); err != nil {
			return nil, err
		}
	}
	u, err := findUser(ctx, tx, "id = $1", userID)
	if err != nil {
		return nil, err
	}
	return u, s.checkBanned(u)
}

func (s *Server) checkBanned(u *user) error {
	if u.banned(s.now()) {
		return authErr(http.StatusForbidden, "user_banned", "User is banned")
	}
	return nil
}

// linkIdentityTo links a provider identity to the signed-in user who
// asked for it (manual linking). An identity already linked anywhere is
// refused.
func (s *Server) linkIdentityTo(ctx context.Context, tx pgx.Tx, userID, provider, subject string, data map[string]any, email string) (*user, error) {
	var owner string
	err := tx.QueryRow(ctx, `SELECT user_id::text FROM auth.identities WHERE provider = $1 AND provider_id = $2`, provider, subject).Scan(&owner)
	switch {
	case err == nil && owner == userID:
		return nil, authErr(http.StatusUnprocessableEntity, "identity_already_exists", "Identity is already linked")
	case err == nil:
		return nil, authErr(http.StatusUnprocessableEntity, "identity_already_exists", "Identity is already linked to another user")
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, err
	}
	target, err := findUser(ctx, tx, "id = $1", userID)
	if err != nil {
		return nil, err
	}
	if target == nil {
		return nil, authErr(http.StatusUnprocessableEntity, "user_not_found", "Linking target user not found")
	}
	dataJSON, _ := json.Marshal(data)
	if _, err := tx.Exec(ctx, `INSERT INTO auth.identities (provider_id, user_id, identity_data, provider) VALUES ($1, $2, $3, $4)`,
		subject, userID, dataJSON, provider); err != nil {
		return nil, err
	}
	if target.Email == "" && email != "" {
		// A user without an email (anonymous, or phone only) takes the
		// identity's verified one and becomes a permanent user.
		if _, err := tx.Exec(ctx, `UPDATE auth.users SET email = $2, email_confirmed_at = coalesce(email_confirmed_at, now()), is_anonymous = false,
			updated_at = now() WHERE id = $1`, userID, strings.ToLower(email)); err != nil {
			if isUniqueViolation(err) {
				return nil, authErr(http.StatusBadRequest, "email_exists", "A user with this email address has already been registered")
			}
			return nil, err
		}
	}
	if err := syncProviders(ctx, tx, userID); err != nil {
		return nil, err
	}
	return findUser(ctx, tx, "id = $1", userID)
}

// syncProviders sets app_metadata.providers from the user's identities
// and app_metadata.provider to the first of them, as Supabase Auth does
// whenever identities change.
func syncProviders(ctx context.Context, tx pgx.Tx, userID string) error {
	_, err := tx.Exec(ctx, `UPDATE auth.users u SET updated_at = now(), raw_app_meta_data = u.raw_app_meta_data || coalesce((
			SELECT jsonb_build_object('provider', (array_agg(p ORDER BY first))[1], 'providers', jsonb_agg(p ORDER BY first))
			FROM (SELECT provider AS p, min(created_at) AS first FROM auth.identities WHERE user_id = u.id GROUP BY provider) ps
		), '{"providers": []}'::jsonb)
		WHERE u.id = $1`, userID)
	return err
}

// linkIdentity is GET /user/identities/authorize: the OAuth flow that
// links a provider identity to the caller. With skip_http_redirect=true it
// answers {"url"} instead of redirecting.
func (s *Server) linkIdentityAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := func() error {
		au, err := s.requireUser(ctx, r)
		if err != nil {
			return err
		}
		if !s.cfg.ManualLinking {
			return authErr(http.StatusNotFound, "manual_linking_disabled", "Manual linking is disabled")
		}
		target, err := s.providerRedirect(ctx, r, au.user)
		if err != nil {
			return err
		}
		if r.URL.Query().Get("skip_http_redirect") == "true" {
			writeJSON(w, http.StatusOK, map[string]string{"url": target})
			return nil
		}
		http.Redirect(w, r, target, http.StatusFound)
		return nil
	}()
	if err != nil {
		s.writeAuthError(w, r, err)
	}
}

// unlinkIdentity is DELETE /user/identities/{id}: it removes one of the
// caller's identities, never the last one. The user's email follows the
// identities that remain.
func (s *Server) unlinkIdentity(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := func() error {
		au, err := s.requireUser(ctx, r)
		if err != nil {
			return err
		}
		if !s.cfg.ManualLinking {
			return authErr(http.StatusNotFound, "manual_linking_disabled", "Manual linking is disabled")
		}
		id := r.PathValue("id")
		if !isUUID(id) {
			return authErr(http.StatusNotFound, "validation_failed", "identity_id must be an UUID")
		}
		u := au.user
		if len(u.Identities) <= 1 {
			return authErr(http.StatusUnprocessableEntity, "single_identity_not_deletable", "User must have at least 1 identity after unlinking")
		}
		var gone *identity
		for i := range u.Identities {
			if strings.EqualFold(u.Identities[i].IdentityID, id) {
				gone = &u.Identities[i]
			}
		}
		if gone == nil {
			return authErr(http.StatusUnprocessableEntity, "identity_not_found", "Identity doesn't exist")
		}
		return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
			if _, err := tx.Exec(ctx, `DELETE FROM auth.identities WHERE id = $1`, gone.IdentityID); err != nil {
				return err
			}
			if gone.Provider == "phone" {
				if _, err := tx.Exec(ctx, `UPDATE auth.users SET phone = NULL, phone_confirmed_at = NULL, updated_at = now() WHERE id = $1`, u.ID); err != nil {
					return err
				}
			} else {
				// Keep the email while an identity has it; else take the
				// best remaining one: verified first, then unverified.
				_, err := tx.Exec(ctx, `UPDATE auth.users u SET email = (
						SELECT i.email FROM auth.identities i WHERE i.user_id = u.id AND i.email IS NOT NULL
						ORDER BY (i.identity_data ->> 'email_verified') = 'true' DESC, i.created_at LIMIT 1), updated_at = now()
					WHERE u.id = $1 AND u.email IS NOT NULL
						AND NOT EXISTS (SELECT FROM auth.identities i WHERE i.user_id = u.id AND i.email = lower(u.email))`, u.ID)
				if err != nil {
					if isUniqueViolation(err) {
						return authErr(http.StatusUnprocessableEntity, "email_conflict_identity_not_deletable", "Unable to unlink identity due to email conflict")
					}
					return err
				}
			}
			if err := syncProviders(ctx, tx, u.ID); err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, map[string]any{})
			return nil
		})
	}()
	if err != nil {
		s.writeAuthError(w, r, err)
	}
}
