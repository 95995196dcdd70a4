package localstack

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// samlResponseType marks the test identity provider's assertions.
const samlResponseType = "localstack_saml_response"

// SSOProviderID returns the id of the test SSO provider registered for
// domain (one of Config.SSODomains), the provider_id POST /sso takes.
func (s *Server) SSOProviderID(domain string) string {
	sum := sha256.Sum256([]byte("localstack-sso:" + strings.ToLower(domain)))
	sum[6] = sum[6]&0x0f | 0x40
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

// ssoDomain finds the registered domain of an SSO provider, by domain or
// by id.
func (s *Server) ssoDomain(domain, providerID string) (string, bool) {
	for _, d := range s.cfg.SSODomains {
		if (domain != "" && strings.EqualFold(d, domain)) || (providerID != "" && strings.EqualFold(s.SSOProviderID(d), providerID)) {
			return strings.ToLower(d), true
		}
	}
	return "", false
}

// sso is POST /sso: it starts a SAML sign-in with the test identity
// provider of a registered domain, answering its URL ({"url"} with
// skip_http_redirect, else a 303 to it). Without SSO domains it answers as
// Supabase Auth does with SAML disabled.
func (s *Server) sso(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		if len(s.cfg.SSODomains) == 0 {
			return authErr(http.StatusNotFound, "saml_provider_disabled", "SAML 2.0 is disabled")
		}
		var p struct {
			ProviderID          string `json:"provider_id"`
			Domain              string `json:"domain"`
			RedirectTo          string `json:"redirect_to"`
			SkipHTTPRedirect    *bool  `json:"skip_http_redirect"`
			CodeChallenge       string `json:"code_challenge"`
			CodeChallengeMethod string `json:"code_challenge_method"`
		}
		if err := decodeBody(r, &p); err != nil {
			return err
		}
		switch {
		case p.ProviderID != "" && p.Domain != "":
			return authErr(http.StatusBadRequest, "validation_failed", "Only one of provider_id or domain supported")
		case p.ProviderID == "" && p.Domain == "":
			return authErr(http.StatusBadRequest, "validation_failed", "A provider_id or domain needs to be provided")
		case p.ProviderID != "" && !isUUID(p.ProviderID):
			return authErr(http.StatusBadRequest, "bad_json", "Could not parse request body as JSON: invalid UUID")
		}
		domain, ok := s.ssoDomain(p.Domain, p.ProviderID)
		if !ok {
			if p.ProviderID != "" {
				return authErr(http.StatusNotFound, "sso_provider_not_found", "No such SSO provider")
			}
			return authErr(http.StatusNotFound, "sso_provider_not_found", "No SSO provider assigned for this domain")
		}
		pk := pkceParams{challenge: p.CodeChallenge, method: p.CodeChallengeMethod}
		if err := pk.validate(); err != nil {
			return err
		}
		f, err := s.createFlowState(r.Context(), s.pool, newFlow{pkce: pk, providerType: methodSSOSAML, authMethod: methodSSOSAML, referrer: p.RedirectTo})
		if err != nil {
			return err
		}
		q := url.Values{"provider_id": {s.SSOProviderID(domain)}, "RelayState": {f.ID}}
		target := strings.TrimSuffix(externalURL(r), "/auth/v1") + "/localstack/sso/saml/login?" + q.Encode()
		if p.SkipHTTPRedirect != nil && *p.SkipHTTPRedirect {
			writeJSON(w, http.StatusOK, map[string]string{"url": target})
			return nil
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return nil
	}()
	if err != nil {
		s.writeAuthError(w, r, err)
	}
}

// samlAssertion is what the test identity provider asserts.
type samlAssertion struct {
	Typ        string `json:"typ"`
	ProviderID string `json:"provider_id"`
	RelayState string `json:"relay_state"`
	NameID     string `json:"name_id"`
	Email      string `json:"email"`
	Name       string `json:"name,omitempty"`
	Exp        int64  `json:"exp"`
}

// idpLogin is the test identity provider's sign-in page: it signs in at
// once the user named by login_hint (an email; sso-user@<domain> without
// one) and sends the browser to the assertion consumer service with a
// signed response, as an IdP posts a SAMLResponse.
func (s *Server) idpLogin(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	domain, ok := s.ssoDomain("", q.Get("provider_id"))
	if !ok {
		http.Error(w, "unknown SSO provider", http.StatusBadRequest)
		return
	}
	email := strings.ToLower(strings.TrimSpace(q.Get("login_hint")))
	if email == "" {
		email = "sso-user@" + domain
	}
	resp, err := signHS256(s.cfg.JWTSecret, samlAssertion{Typ: samlResponseType, ProviderID: s.SSOProviderID(domain),
		RelayState: q.Get("RelayState"), NameID: email, Email: email, Name: q.Get("name"), Exp: s.now().Add(5 * time.Minute).Unix()})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	back := url.Values{"RelayState": {q.Get("RelayState")}, "SAMLResponse": {resp}}
	http.Redirect(w, r, externalURL(r)+"/sso/saml/acs?"+back.Encode(), http.StatusFound)
}

// samlACS is the assertion consumer service (POST, and GET for the test
// provider's redirect): it signs the SSO user in (a user of that provider
// of their own, never linked by email) and redirects to the flow's
// redirect_to with ?code= (PKCE) or the session in the fragment.
func (s *Server) samlACS(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var dest string
	err := func() error {
		relay := r.FormValue("RelayState")
		if !isUUID(relay) {
			// Supabase Auth takes this as a sign-in started at the
			// identity provider, which the test provider never does.
			return authErr(http.StatusBadRequest, "validation_failed", "RelayState must name a flow: IdP-initiated sign-ins are not emulated")
		}
		f, err := findFlowState(ctx, s.pool, "id = $1", relay)
		if err != nil {
			return err
		}
		if f == nil || f.AuthMethod != methodSSOSAML {
			return authErr(http.StatusNotFound, "saml_relay_state_not_found", "SAML RelayState does not exist, try logging in again?")
		}
		if f.expired(s.now(), s.cfg.FlowStateExpiry) {
			return authErr(http.StatusUnprocessableEntity, "saml_relay_state_expired", "SAML RelayState has expired. Try logging in again?")
		}
		raw := r.FormValue("SAMLResponse")
		if raw == "" {
			return authErr(http.StatusBadRequest, "validation_failed", "SAMLResponse is missing")
		}
		var a samlAssertion
		vt, err := verifyJWT(s.cfg.JWTSecret, raw)
		if err != nil || json.Unmarshal(vt.raw, &a) != nil || a.Typ != samlResponseType || a.RelayState != relay || a.NameID == "" {
			return authErr(http.StatusBadRequest, "validation_failed", "SAMLResponse is not a valid SAML response")
		}
		domain, ok := s.ssoDomain("", a.ProviderID)
		if !ok {
			return authErr(http.StatusNotFound, "sso_provider_not_found", "No such SSO provider")
		}
		provider := "sso:" + a.ProviderID
		data := map[string]any{"iss": strings.TrimSuffix(externalURL(r), "/auth/v1") + "/localstack/sso/saml/" + domain,
			"sub": a.NameID, "provider_id": a.NameID, "email": a.Email, "email_verified": true, "phone_verified": false,
			"custom_claims": map[string]any{}}
		if a.Name != "" {
			data["name"], data["full_name"] = a.Name, a.Name
		}
		redirectTo := s.cfg.SiteURL
		if f.Referrer != nil && s.redirectAllowed(*f.Referrer) {
			redirectTo = *f.Referrer
		}
		return s.inTx(ctx, discardWriter{}, func(tx pgx.Tx, _ http.ResponseWriter) error {
			u, err := s.accountFromIdentity(ctx, tx, provider, a.NameID, data, a.Email, true)
			if err != nil {
				return err
			}
			if f.isPKCE() {
				tag, err := tx.Exec(ctx, `UPDATE auth.flow_state SET user_id = $2, updated_at = $3 WHERE id = $1 AND user_id IS NULL`, f.ID, u.ID, s.now())
				if err != nil {
					return err
				}
				if tag.RowsAffected() != 1 {
					return authErr(http.StatusBadRequest, "flow_state_already_used", "State has already been used")
				}
				dest = withCode(redirectTo, *f.AuthCode)
				return nil
			}
			resp, err := s.startSession(ctx, tx, u, methodSSOSAML)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `DELETE FROM auth.flow_state WHERE id = $1`, f.ID); err != nil {
				return err
			}
			dest = withTokens(redirectTo, resp, nil)
			return nil
		})
	}()
	if err != nil {
		s.writeAuthError(w, r, err)
		return
	}
	http.Redirect(w, r, dest, http.StatusFound)
}
