package localstack

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"
)

// TestOIDCClientID is the client id of the stack's test OIDC provider: the
// audience an ID token must name to be accepted.
const TestOIDCClientID = "localstack"

// oidcKey is the test issuer's signing key (ES256), made on first use.
type oidcKey struct {
	key *ecdsa.PrivateKey
	kid string
}

func newOIDCKey() *oidcKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err) // the system's random source failed
	}
	pub, err := k.PublicKey.Bytes()
	if err != nil {
		panic(err) // a P-256 key always encodes
	}
	sum := sha256.Sum256(pub)
	return &oidcKey{key: k, kid: base64.RawURLEncoding.EncodeToString(sum[:8])}
}

// OIDCIssuer returns the iss of the test OIDC provider's ID tokens: the
// stack's own URL (from Config.Issuer) under /localstack/oidc, where it
// serves the provider's discovery document and JWKS.
func (s *Server) OIDCIssuer() string {
	return strings.TrimSuffix(strings.TrimRight(s.cfg.Issuer, "/"), "/auth/v1") + "/localstack/oidc"
}

// SignIDToken signs claims as the test OIDC provider, for POST
// /auth/v1/token?grant_type=id_token. It fills in iss (OIDCIssuer), aud
// (TestOIDCClientID), iat and exp (an hour on, by Config.Now) when claims
// lack them. A nonce claim must be the hex SHA-256 of the nonce the
// sign-in sends, as Supabase Auth checks it.
func (s *Server) SignIDToken(claims map[string]any) (string, error) {
	c := jwt.MapClaims{}
	for k, v := range claims {
		c[k] = v
	}
	now := s.now()
	defaults := map[string]any{"iss": s.OIDCIssuer(), "aud": TestOIDCClientID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range defaults {
		if _, ok := c[k]; !ok {
			c[k] = v
		}
	}
	k := s.oidc()
	t := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	t.Header["kid"] = k.kid
	return t.SignedString(k.key)
}

// AccessTokenHash is the at_hash claim an ID token carries for an access
// token issued with it (ES256: the left half of its SHA-256).
func AccessTokenHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

func (s *Server) oidcJWKS(w http.ResponseWriter, r *http.Request) {
	k := s.oidc()
	pub, err := k.key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		s.writeAuthError(w, r, err)
		return
	}
	enc := base64.RawURLEncoding.EncodeToString
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": k.kid,
		"x": enc(pub[1:33]), "y": enc(pub[33:65]),
	}}})
}

func (s *Server) oidcDiscovery(w http.ResponseWriter, r *http.Request) {
	origin := strings.TrimSuffix(externalURL(r), "/auth/v1")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.OIDCIssuer(),
		"authorization_endpoint":                origin + "/localstack/oauth/authorize",
		"jwks_uri":                              origin + "/localstack/oidc/jwks",
		"response_types_supported":              []string{"code", "id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"claims_supported":                      []string{"sub", "email", "email_verified", "name", "picture", "nonce", "at_hash"},
	})
}

func invalidRequest(msg string) *authError {
	return &authError{status: http.StatusBadRequest, code: "invalid request", msg: msg, oauth: true}
}

// idTokenGrant signs in with an ID token from the test OIDC provider
// (grant_type=id_token): provider is one of Config.OAuthProviders, or
// issuer is OIDCIssuer() with client_id TestOIDCClientID. With
// link_identity the identity is linked to the caller instead.
func (s *Server) idTokenGrant(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var p struct {
		IDToken      string `json:"id_token"`
		AccessToken  string `json:"access_token"`
		Nonce        string `json:"nonce"`
		Provider     string `json:"provider"`
		ClientID     string `json:"client_id"`
		Issuer       string `json:"issuer"`
		LinkIdentity bool   `json:"link_identity"`
	}
	if err := decodeBody(r, &p); err != nil {
		return err
	}
	if p.IDToken == "" {
		return invalidRequest("id_token required")
	}
	if p.Provider == "" && (p.ClientID == "" || p.Issuer == "") {
		return invalidRequest("provider or client_id and issuer required")
	}
	var linkTo *authedUser
	if p.LinkIdentity {
		if r.Header.Get("Authorization") == "" {
			return invalidRequest("Linking requires a valid user access token in Authorization")
		}
		au, err := s.requireUser(ctx, r)
		if err != nil {
			return err
		}
		linkTo = au
	}
	provider := strings.ToLower(p.Provider)
	acceptable := []string{TestOIDCClientID}
	switch {
	case s.oauthProviderEnabled(provider):
	case provider == "" && p.Issuer == s.OIDCIssuer():
		provider, acceptable = p.Issuer, []string{p.ClientID}
	default:
		return authErr(http.StatusBadRequest, "validation_failed", fmt.Sprintf("Custom OIDC provider %q not allowed", p.Provider))
	}

	claims := jwt.MapClaims{}
	k := s.oidc()
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(s.OIDCIssuer()), jwt.WithTimeFunc(s.now), jwt.WithExpirationRequired())
	if _, err := parser.ParseWithClaims(p.IDToken, claims, func(*jwt.Token) (any, error) { return &k.key.PublicKey, nil }); err != nil {
		return invalidRequest("Bad ID token")
	}
	str := func(name string) string { v, _ := claims[name].(string); return v }
	if p.AccessToken != "" && str("at_hash") != "" && str("at_hash") != AccessTokenHash(p.AccessToken) {
		return invalidRequest("Bad ID token")
	}
	sub := str("sub")
	if sub == "" {
		return invalidRequest("Missing sub claim in id_token")
	}
	aud, _ := claims.GetAudience()
	if !slices.ContainsFunc(acceptable, func(c string) bool { return c != "" && slices.Contains(aud, c) }) {
		return invalidRequest(fmt.Sprintf("Unacceptable audience in id_token: %v", []string(aud)))
	}
	tokenNonce := str("nonce")
	if (tokenNonce != "") != (p.Nonce != "") {
		return invalidRequest("Passed nonce and nonce in id_token should either both exist or not.")
	}
	if tokenNonce != "" && fmt.Sprintf("%x", sha256.Sum256([]byte(p.Nonce))) != tokenNonce {
		return &authError{status: http.StatusBadRequest, code: "invalid nonce", msg: "Nonces mismatch", oauth: true}
	}

	email := strings.ToLower(str("email"))
	verified := claims["email_verified"] == true || claims["email_verified"] == "true"
	data := map[string]any{"iss": str("iss"), "sub": sub, "provider_id": sub, "email": email,
		"email_verified": verified, "phone_verified": false}
	if n := str("name"); n != "" {
		data["name"], data["full_name"] = n, n
	}
	if pic := str("picture"); pic != "" {
		data["picture"], data["avatar_url"] = pic, pic
	}
	if email == "" {
		delete(data, "email")
	}
	return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
		var u *user
		var err error
		if linkTo != nil {
			u, err = s.linkIdentityTo(ctx, tx, linkTo.user.ID, provider, sub, data, email)
		} else {
			u, err = s.accountFromIdentity(ctx, tx, provider, sub, data, email, verified)
		}
		if err != nil {
			return err
		}
		if email != "" && !verified && s.cfg.RequireEmailConfirmation && u.EmailConfirmedAt == nil {
			return authErr(http.StatusUnprocessableEntity, "provider_email_needs_verification",
				fmt.Sprintf("Unverified email with %s. Verify the email with %s in order to sign in", provider, provider))
		}
		resp, err := s.startSession(ctx, tx, u, methodOAuth)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, resp)
		return nil
	})
}
