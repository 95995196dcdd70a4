package localstack

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Email is a message Supabase Auth would have sent. The stack sends no
// email: it keeps each one for tests and developers to follow, see
// [Server.Emails].
type Email struct {
	// To is the recipient.
	To string `json:"to"`
	// Type is the email's verification type: signup, invite, magiclink or
	// recovery.
	Type string `json:"type"`
	// ActionLink is the link in the email: GET /auth/v1/verify, which
	// redirects to RedirectTo with a session in the fragment, or with
	// ?code= when the email was asked for with a PKCE code challenge.
	ActionLink string `json:"action_link"`
	// OTP is the code the email shows, for POST /auth/v1/verify with the
	// email address.
	OTP string `json:"email_otp"`
	// TokenHash is the token of ActionLink ("pkce_"-prefixed in a PKCE
	// flow), what email templates call {{ .TokenHash }}.
	TokenHash string `json:"token_hash"`
	// RedirectTo is where the link leads once verified.
	RedirectTo string `json:"redirect_to"`
	// SentAt is when it was sent, by the server's clock.
	SentAt time.Time `json:"sent_at"`
}

// maxEmailsPerAddress bounds the outbox of one address.
const maxEmailsPerAddress = 50

// Emails returns the emails sent to address (case-insensitive), oldest
// first.
func (s *Server) Emails(address string) []Email {
	s.mailMu.Lock()
	defer s.mailMu.Unlock()
	return append([]Email(nil), s.mail[strings.ToLower(address)]...)
}

func (s *Server) deliver(e Email) {
	s.mailMu.Lock()
	defer s.mailMu.Unlock()
	k := strings.ToLower(e.To)
	box := append(s.mail[k], e)
	if len(box) > maxEmailsPerAddress {
		box = box[len(box)-maxEmailsPerAddress:]
	}
	s.mail[k] = box
}

// serveMail answers GET /localstack/mail?email=ADDRESS with the emails
// sent to ADDRESS, for developers and tests that are not in Go. It wants
// the service_role key, as the outbox holds sign-in links.
func (s *Server) serveMail(w http.ResponseWriter, r *http.Request) {
	tok, _ := bearer(r)
	if r.Header.Get("apikey") != s.cfg.ServiceRoleKey && tok != s.cfg.ServiceRoleKey {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "the service_role key is required"})
		return
	}
	msgs := s.Emails(r.URL.Query().Get("email"))
	if msgs == nil {
		msgs = []Email{}
	}
	writeJSON(w, http.StatusOK, msgs)
}

// otpCode returns a 6-digit code, the Supabase CLI's otp_length.
func otpCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
	return fmt.Sprintf("%06d", n.Int64())
}

// tokenHash is how Supabase Auth stores an email OTP: the hex SHA-224 of
// the address followed by the code.
func tokenHash(address, otp string) string {
	return fmt.Sprintf("%x", sha256.Sum224([]byte(address+otp)))
}

// externalURL is the Auth API's URL as the client reached it, the base of
// the links it hands out.
func externalURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host + "/auth/v1"
}

// actionLink is an email's link, as Supabase Auth's mailer writes it.
func actionLink(r *http.Request, token, typ, redirectTo string) string {
	if strings.ContainsAny(redirectTo, "&=#") {
		redirectTo = url.QueryEscape(redirectTo)
	}
	return externalURL(r) + "/verify?token=" + url.QueryEscape(token) + "&type=" + url.QueryEscape(typ) + "&redirect_to=" + redirectTo
}

// emailToken gives user u a fresh email token of kind typ (signup and
// invite set the confirmation token, magiclink and recovery the recovery
// token) and returns the email carrying it. pkce prefixes the stored token
// so the link ends in a code.
func (s *Server) emailToken(ctx context.Context, tx pgx.Tx, r *http.Request, u *user, typ string, pkce bool, redirectTo string) (Email, error) {
	otp := otpCode()
	token := tokenHash(u.Email, otp)
	if pkce {
		token = "pkce_" + token
	}
	now := s.now()
	var sql string
	switch typ {
	case "signup":
		sql = `UPDATE auth.users SET confirmation_token = $2, confirmation_sent_at = $3 WHERE id = $1`
	case "invite":
		sql = `UPDATE auth.users SET confirmation_token = $2, confirmation_sent_at = $3, invited_at = $3 WHERE id = $1`
	default:
		sql = `UPDATE auth.users SET recovery_token = $2, recovery_sent_at = $3 WHERE id = $1`
	}
	if _, err := tx.Exec(ctx, sql, u.ID, token, now); err != nil {
		return Email{}, err
	}
	return Email{To: u.Email, Type: typ, ActionLink: actionLink(r, token, typ, redirectTo), OTP: otp,
		TokenHash: token, RedirectTo: redirectTo, SentAt: now.UTC()}, nil
}

// sendEmail gives u a token of kind typ and delivers its email once the
// transaction commits. With a PKCE challenge the link is a PKCE one and the
// flow state that the code exchange will find is created with it.
func (s *Server) sendEmail(ctx context.Context, tx pgx.Tx, w http.ResponseWriter, r *http.Request, u *user, typ string, pk pkceParams, redirectTo string) error {
	if pk.isPKCE() {
		// A magic link's and a recovery's flow are named as their email
		// types (methodMagicLink, methodRecovery).
		flow := newFlow{pkce: pk, providerType: typ, authMethod: typ, userID: u.ID}
		if typ == "signup" {
			flow.providerType, flow.authMethod = "email", methodEmailSignup
		}
		if _, err := s.createFlowState(ctx, tx, flow); err != nil {
			return err
		}
	}
	e, err := s.emailToken(ctx, tx, r, u, typ, pk.isPKCE(), redirectTo)
	if err != nil {
		return err
	}
	onCommit(w, func() { s.deliver(e) })
	return nil
}

func (s *Server) validEmail(e string) (string, error) {
	if strings.TrimSpace(e) == "" {
		return "", authErr(http.StatusBadRequest, "validation_failed", "An email address is required")
	}
	return normalizeEmail(e)
}

type otpParams struct {
	Email               string          `json:"email"`
	Phone               string          `json:"phone"`
	CreateUser          *bool           `json:"create_user"`
	Data                json.RawMessage `json:"data"`
	Channel             string          `json:"channel"`
	CodeChallenge       string          `json:"code_challenge"`
	CodeChallengeMethod string          `json:"code_challenge_method"`
}

// otp sends a magic link (POST /otp with an email, and the older POST
// /magiclink). A user who does not exist yet is signed up first, unless
// create_user is false.
func (s *Server) otp(w http.ResponseWriter, r *http.Request) {
	if err := s.doOTP(w, r); err != nil {
		s.writeAuthError(w, r, err)
	}
}

func (s *Server) doOTP(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var p otpParams
	if err := decodeBody(r, &p); err != nil {
		return err
	}
	if p.Email != "" && p.Phone != "" {
		return authErr(http.StatusBadRequest, "validation_failed", "Only an email address or phone number should be provided")
	}
	if p.Email != "" && p.Channel != "" {
		return authErr(http.StatusBadRequest, "validation_failed", "Channel should only be specified with Phone OTP")
	}
	pk := pkceParams{challenge: p.CodeChallenge, method: p.CodeChallengeMethod}
	if err := pk.validate(); err != nil {
		return err
	}
	if p.Phone != "" {
		// There is no SMS provider to send a code with.
		return authErr(http.StatusBadRequest, "phone_provider_disabled", "Unsupported phone provider")
	}
	if strings.HasSuffix(r.URL.Path, "/magiclink") && p.Email == "" {
		return authErr(http.StatusUnprocessableEntity, "validation_failed", "Password recovery requires an email")
	}
	if p.Email == "" {
		return authErr(http.StatusBadRequest, "validation_failed", "One of email or phone must be set")
	}
	email, err := s.validEmail(p.Email)
	if err != nil {
		return err
	}
	redirectTo := s.referrer(r, "")
	return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
		u, err := findUser(ctx, tx, emailCond, email)
		if err != nil {
			return err
		}
		if u == nil && p.CreateUser != nil && !*p.CreateUser {
			return authErr(http.StatusUnprocessableEntity, "otp_disabled", "Signups not allowed for otp")
		}
		if u == nil || u.ConfirmedAt == nil {
			// Signed up without a password they know; with
			// auto-confirmation the magic link follows, else the
			// confirmation email is the link.
			if u == nil {
				if u, err = s.createUser(ctx, tx, newUser{email: email, userMeta: p.Data, emailConfirmed: !s.cfg.RequireEmailConfirmation}, nil); err != nil {
					return err
				}
			}
			if s.cfg.RequireEmailConfirmation {
				if err := s.sendEmail(ctx, tx, w, r, u, "signup", pk, redirectTo); err != nil {
					return err
				}
				writeJSON(w, http.StatusOK, map[string]string{})
				return nil
			}
		}
		if err := s.sendEmail(ctx, tx, w, r, u, "magiclink", pk, redirectTo); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]string{})
		return nil
	})
}

// recover sends a password recovery email (POST /recover). An unknown
// address gets the same empty answer, so the endpoint does not tell which
// accounts exist.
func (s *Server) recover(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := func() error {
		var p struct {
			Email               string `json:"email"`
			CodeChallenge       string `json:"code_challenge"`
			CodeChallengeMethod string `json:"code_challenge_method"`
		}
		if err := decodeBody(r, &p); err != nil {
			return err
		}
		if p.Email == "" {
			return authErr(http.StatusBadRequest, "validation_failed", "Password recovery requires an email")
		}
		email, err := s.validEmail(p.Email)
		if err != nil {
			return err
		}
		pk := pkceParams{challenge: p.CodeChallenge, method: p.CodeChallengeMethod}
		if err := pk.validate(); err != nil {
			return err
		}
		redirectTo := s.referrer(r, "")
		return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
			u, err := findUser(ctx, tx, emailCond, email)
			if err != nil {
				return err
			}
			if u != nil {
				if err := s.sendEmail(ctx, tx, w, r, u, "recovery", pk, redirectTo); err != nil {
					return err
				}
			}
			writeJSON(w, http.StatusOK, map[string]string{})
			return nil
		})
	}()
	if err != nil {
		s.writeAuthError(w, r, err)
	}
}

// invite creates a user and sends them an invitation (POST /invite, an
// admin endpoint).
func (s *Server) invite(w http.ResponseWriter, r *http.Request) {
	s.admin(w, r, func(ctx context.Context) error {
		var p struct {
			Email string          `json:"email"`
			Data  json.RawMessage `json:"data"`
		}
		if err := decodeBody(r, &p); err != nil {
			return err
		}
		email, err := s.validEmail(p.Email)
		if err != nil {
			return err
		}
		redirectTo := s.referrer(r, "")
		return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
			u, err := findUser(ctx, tx, emailCond, email)
			if err != nil {
				return err
			}
			if u != nil && u.ConfirmedAt != nil {
				return authErr(http.StatusUnprocessableEntity, "email_exists", "A user with this email address has already been registered")
			}
			if u == nil {
				if u, err = s.createUser(ctx, tx, newUser{email: email, userMeta: p.Data}, nil); err != nil {
					return err
				}
			}
			if err := s.sendEmail(ctx, tx, w, r, u, "invite", pkceParams{}, redirectTo); err != nil {
				return err
			}
			if u, err = findUser(ctx, tx, "id = $1", u.ID); err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, u)
			return nil
		})
	})
}

// generateLink makes an email's link without sending it (POST
// /admin/generate_link). Such links are never PKCE links.
func (s *Server) generateLink(w http.ResponseWriter, r *http.Request) {
	s.admin(w, r, func(ctx context.Context) error {
		var p struct {
			Type       string          `json:"type"`
			Email      string          `json:"email"`
			NewEmail   string          `json:"new_email"`
			Password   string          `json:"password"`
			Data       json.RawMessage `json:"data"`
			RedirectTo string          `json:"redirect_to"`
		}
		if err := decodeBody(r, &p); err != nil {
			return err
		}
		email, err := s.validEmail(p.Email)
		if err != nil {
			return err
		}
		redirectTo := s.referrer(r, "")
		if s.redirectAllowed(p.RedirectTo) {
			redirectTo = p.RedirectTo
		}
		switch p.Type {
		case "signup", "invite", "magiclink", "recovery":
		case "email_change_current":
			return authErr(http.StatusBadRequest, "validation_failed", "Enable secure email change to generate link for current email")
		default:
			return authErr(http.StatusBadRequest, "validation_failed", "Invalid email action link type requested: "+p.Type)
		}
		hash := ""
		if p.Type == "signup" && p.Password != "" {
			if err := s.checkPassword(p.Password); err != nil {
				return err
			}
		}
		return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
			u, err := findUser(ctx, tx, emailCond, email)
			if err != nil {
				return err
			}
			typ := p.Type
			if u == nil {
				switch typ {
				case "magiclink":
					typ = "signup"
				case "recovery":
					return authErr(http.StatusNotFound, "user_not_found", "User with this email not found")
				}
				n := newUser{email: email, userMeta: p.Data}
				if typ == "signup" {
					n.password = p.Password
				}
				if u, err = s.createUser(ctx, tx, n, nil); err != nil {
					return err
				}
			} else if (typ == "signup" || typ == "invite") && u.ConfirmedAt != nil {
				return authErr(http.StatusUnprocessableEntity, "email_exists", "A user with this email address has already been registered")
			} else if typ == "signup" {
				if err := mergeMeta(ctx, tx, u.ID, "raw_user_meta_data", p.Data); err != nil {
					return err
				}
			}
			e, err := s.emailToken(ctx, tx, r, u, typ, false, redirectTo)
			if err != nil {
				return err
			}
			hash = e.TokenHash
			if u, err = findUser(ctx, tx, "id = $1", u.ID); err != nil {
				return err
			}
			body, err := json.Marshal(u)
			if err != nil {
				return err
			}
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				return err
			}
			m["action_link"] = e.ActionLink
			m["email_otp"] = e.OTP
			m["hashed_token"] = hash
			m["verification_type"] = typ
			m["redirect_to"] = redirectTo
			writeJSON(w, http.StatusOK, m)
			return nil
		})
	})
}

// verifyParams are what GET and POST /verify take.
type verifyParams struct {
	Type       string `json:"type"`
	Token      string `json:"token"`
	TokenHash  string `json:"token_hash"`
	Email      string `json:"email"`
	Phone      string `json:"phone"`
	RedirectTo string `json:"redirect_to"`
}

var otpInvalid = authErr(http.StatusForbidden, "otp_expired", "Token has expired or is invalid")

// verify confirms an email token. GET (the link in the email) redirects:
// to redirect_to with the session in the fragment, or with ?code= when
// the token is a PKCE one; errors go into the redirect too. POST (a code
// typed in, or a token hash) answers the session.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	var p verifyParams
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		p = verifyParams{Type: q.Get("type"), Token: q.Get("token")}
		if p.Type == "" {
			s.writeAuthError(w, r, authErr(http.StatusBadRequest, "validation_failed", "Verify requires a verification type"))
			return
		}
		if p.Token == "" {
			s.writeAuthError(w, r, authErr(http.StatusBadRequest, "validation_failed", "Verify requires a token or a token hash"))
			return
		}
		s.verifyGet(w, r, p)
		return
	}
	if err := decodeBody(r, &p); err != nil {
		s.writeAuthError(w, r, err)
		return
	}
	if err := s.verifyPost(w, r, p); err != nil {
		s.writeAuthError(w, r, err)
	}
}

// tokenColumn is the users column holding a verification type's token.
func tokenColumn(typ string) (string, bool) {
	switch typ {
	case "signup", "invite":
		return "confirmation_token", true
	case "magiclink", "recovery":
		return "recovery_token", true
	}
	return "", false
}

// checkToken loads the user holding token hash for typ (email: either
// kind, resolved to signup or magiclink) and checks it has not expired.
func (s *Server) checkToken(ctx context.Context, tx pgx.Tx, typ, hash string, notFound *authError) (*user, string, error) {
	var u *user
	var err error
	switch typ {
	case "email":
		u, err = findUser(ctx, tx, "(confirmation_token = $1 OR recovery_token = $1) AND $1 <> ''", hash)
	default:
		col, ok := tokenColumn(typ)
		if !ok {
			return nil, "", authErr(http.StatusBadRequest, "validation_failed", "Invalid email verification type")
		}
		u, err = findUser(ctx, tx, col+" = $1 AND $1 <> ''", hash)
	}
	if err != nil {
		return nil, "", err
	}
	if u == nil {
		return nil, "", notFound
	}
	if u.banned(s.now()) {
		return nil, "", authErr(http.StatusForbidden, "user_banned", "User is banned")
	}
	var confirmTok, recoveryTok string
	if err := tx.QueryRow(ctx, `SELECT confirmation_token, recovery_token FROM auth.users WHERE id = $1`, u.ID).Scan(&confirmTok, &recoveryTok); err != nil {
		return nil, "", err
	}
	sent := u.ConfirmationSentAt
	if typ == "email" {
		typ = "signup"
		if recoveryTok == hash {
			typ = "magiclink"
		}
	}
	if typ == "magiclink" || typ == "recovery" {
		sent = u.RecoverySentAt
	}
	if sent == nil || s.now().After(sent.Add(s.cfg.OTPExpiry)) {
		return nil, "", notFound
	}
	return u, typ, nil
}

// consumeToken does what verifying typ does to u: confirm a sign-up or
// invitation, spend a magic link or recovery token (confirming the email
// too).
func (s *Server) consumeToken(ctx context.Context, tx pgx.Tx, u *user, typ string) error {
	var sql string
	switch typ {
	case "signup", "invite":
		sql = `UPDATE auth.users SET confirmation_token = '', email_confirmed_at = coalesce(email_confirmed_at, $2), updated_at = $2 WHERE id = $1`
	default:
		sql = `UPDATE auth.users SET recovery_token = '', email_confirmed_at = coalesce(email_confirmed_at, $2), updated_at = $2 WHERE id = $1`
	}
	if _, err := tx.Exec(ctx, sql, u.ID, s.now()); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE auth.identities SET identity_data = identity_data || '{"email_verified": true}', updated_at = now()
		WHERE user_id = $1 AND provider = 'email' AND email = lower($2)`, u.ID, u.Email)
	return err
}

// authMethodOf is the flow state's authentication method for a
// verification type.
func authMethodOf(typ string) string {
	if strings.HasSuffix(typ, "signup") {
		return methodEmailSignup
	}
	return typ
}

func (s *Server) verifyGet(w http.ResponseWriter, r *http.Request, p verifyParams) {
	ctx := r.Context()
	redirectTo := s.referrer(r, "")
	pkce := strings.HasPrefix(p.Token, "pkce_")
	var target string
	err := s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
		if _, ok := tokenColumn(p.Type); !ok && p.Type != "email" {
			if p.Type == "email_change" {
				return authErr(http.StatusForbidden, "otp_expired", "Email link is invalid or has expired")
			}
			return authErr(http.StatusBadRequest, "validation_failed", "Unsupported verification type")
		}
		u, typ, err := s.checkToken(ctx, tx, p.Type, p.Token, authErr(http.StatusForbidden, "otp_expired", "Email link is invalid or has expired"))
		if err != nil {
			return err
		}
		if err := s.consumeToken(ctx, tx, u, typ); err != nil {
			return err
		}
		if pkce {
			code, err := s.issueAuthCode(ctx, tx, u.ID, authMethodOf(p.Type))
			if err != nil {
				return err
			}
			target = withCode(redirectTo, code)
		} else {
			if u, err = findUser(ctx, tx, "id = $1", u.ID); err != nil {
				return err
			}
			resp, err := s.startSession(ctx, tx, u, "otp")
			if err != nil {
				return err
			}
			target = withTokens(redirectTo, resp, url.Values{"type": {p.Type}})
		}
		return nil
	})
	if err != nil {
		ae, ok := err.(*authError)
		if !ok {
			s.writeAuthError(w, r, err)
			return
		}
		target = verifyErrorRedirect(redirectTo, ae, pkce)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// verifyErrorRedirect is how GET /verify reports a failure: in the
// fragment, and in the query too in a PKCE flow.
func verifyErrorRedirect(target string, ae *authError, pkce bool) string {
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	hq := url.Values{}
	q := u.Query()
	if name, ok := oauthErrorName[ae.status]; ok {
		hq.Set("error", name)
		q.Set("error", name)
	}
	hq.Set("error_code", ae.code)
	hq.Set("error_description", ae.msg)
	q.Set("error_code", ae.code)
	q.Set("error_description", ae.msg)
	if pkce {
		u.RawQuery = q.Encode()
	}
	hq.Set("sb", "")
	u.Fragment = ""
	return u.String() + "#" + hq.Encode()
}

func (s *Server) verifyPost(w http.ResponseWriter, r *http.Request, p verifyParams) error {
	ctx := r.Context()
	if p.Type == "" {
		return authErr(http.StatusBadRequest, "validation_failed", "Verify requires a verification type")
	}
	if (p.Token == "") == (p.TokenHash == "") {
		return authErr(http.StatusBadRequest, "validation_failed", "Verify requires either a token or a token hash")
	}
	byEmail := p.Token != ""
	var email string
	if byEmail {
		switch {
		case p.Phone != "" && p.Email == "":
			// Phone codes are never sent: none can be right.
			return otpInvalid
		case p.Email != "" && p.Phone == "":
			e, err := normalizeEmail(p.Email)
			if err != nil || e == "" {
				return authErr(http.StatusUnprocessableEntity, "validation_failed", "Invalid email format")
			}
			email = e
		default:
			return authErr(http.StatusBadRequest, "validation_failed", "Only an email address or phone number should be provided on verify")
		}
	} else if p.Email != "" || p.Phone != "" || p.RedirectTo != "" {
		return authErr(http.StatusBadRequest, "validation_failed", "Only the token_hash and type should be provided")
	}
	switch p.Type {
	case "signup", "invite", "magiclink", "recovery", "email":
	case "sms", "phone_change", "email_change":
		return otpInvalid
	default:
		return authErr(http.StatusBadRequest, "validation_failed", "Unsupported verification type")
	}
	return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
		var u *user
		typ := p.Type
		var err error
		if byEmail {
			// The stored token may carry the pkce_ prefix: a code typed
			// in matches it either way.
			hash := tokenHash(email, p.Token)
			found, err := findUser(ctx, tx, emailCond, email)
			if err != nil {
				return err
			}
			if found == nil {
				return otpInvalid
			}
			var confirmTok, recoveryTok string
			if err := tx.QueryRow(ctx, `SELECT confirmation_token, recovery_token FROM auth.users WHERE id = $1`, found.ID).Scan(&confirmTok, &recoveryTok); err != nil {
				return err
			}
			match := func(stored string) bool { return stored != "" && (stored == hash || stored == "pkce_"+hash) }
			switch {
			case (typ == "email" || typ == "signup" || typ == "invite") && match(confirmTok):
				if typ == "email" {
					typ = "signup"
				}
				hash = confirmTok
			case (typ == "email" || typ == "magiclink" || typ == "recovery") && match(recoveryTok):
				if typ == "email" {
					typ = "magiclink"
				}
				hash = recoveryTok
			default:
				return otpInvalid
			}
			if u, typ, err = s.checkToken(ctx, tx, typ, hash, otpInvalid); err != nil {
				return err
			}
		} else if u, typ, err = s.checkToken(ctx, tx, typ, p.TokenHash, authErr(http.StatusForbidden, "otp_expired", "Email link is invalid or has expired")); err != nil {
			return err
		}
		if err := s.consumeToken(ctx, tx, u, typ); err != nil {
			return err
		}
		if u, err = findUser(ctx, tx, "id = $1", u.ID); err != nil {
			return err
		}
		resp, err := s.startSession(ctx, tx, u, "otp")
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, resp)
		return nil
	})
}
