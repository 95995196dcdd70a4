package localstack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/crypto/bcrypt"
)

// dbtx is what the auth queries need from a pool or a transaction.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// user is a row of auth.users in Supabase Auth's JSON shape.
type user struct {
	ID                 string          `json:"id"`
	Aud                string          `json:"aud"`
	Role               string          `json:"role"`
	Email              string          `json:"email"`
	EmailConfirmedAt   *time.Time      `json:"email_confirmed_at,omitempty"`
	Phone              string          `json:"phone"`
	PhoneConfirmedAt   *time.Time      `json:"phone_confirmed_at,omitempty"`
	ConfirmationSentAt *time.Time      `json:"confirmation_sent_at,omitempty"`
	ConfirmedAt        *time.Time      `json:"confirmed_at,omitempty"`
	NewEmail           string          `json:"new_email,omitempty"`
	LastSignInAt       *time.Time      `json:"last_sign_in_at,omitempty"`
	AppMetadata        json.RawMessage `json:"app_metadata"`
	UserMetadata       json.RawMessage `json:"user_metadata"`
	Identities         []identity      `json:"identities"`
	CreatedAt          time.Time       `json:"created_at"`
	UpdatedAt          time.Time       `json:"updated_at"`
	BannedUntil        *time.Time      `json:"banned_until,omitempty"`
	IsAnonymous        bool            `json:"is_anonymous"`
	RecoverySentAt     *time.Time      `json:"recovery_sent_at,omitempty"`
	InvitedAt          *time.Time      `json:"invited_at,omitempty"`

	password string // bcrypt hash, never encoded
}

type identity struct {
	IdentityID   string          `json:"identity_id"`
	ID           string          `json:"id"`
	UserID       string          `json:"user_id"`
	IdentityData json.RawMessage `json:"identity_data"`
	Provider     string          `json:"provider"`
	LastSignInAt *time.Time      `json:"last_sign_in_at,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
	Email        string          `json:"email,omitempty"`
}

const userColumns = `id, aud, role, coalesce(email, ''), email_confirmed_at, coalesce(phone, ''),
	phone_confirmed_at, confirmation_sent_at, confirmed_at, coalesce(new_email, ''), last_sign_in_at,
	raw_app_meta_data, raw_user_meta_data, created_at, updated_at, banned_until, is_anonymous, encrypted_password,
	recovery_sent_at, invited_at`

func scanUser(row pgx.Row) (*user, error) {
	u := &user{}
	err := row.Scan(&u.ID, &u.Aud, &u.Role, &u.Email, &u.EmailConfirmedAt, &u.Phone,
		&u.PhoneConfirmedAt, &u.ConfirmationSentAt, &u.ConfirmedAt, &u.NewEmail, &u.LastSignInAt,
		&u.AppMetadata, &u.UserMetadata, &u.CreatedAt, &u.UpdatedAt, &u.BannedUntil, &u.IsAnonymous, &u.password,
		&u.RecoverySentAt, &u.InvitedAt)
	if err != nil {
		return nil, err
	}
	for _, t := range []**time.Time{&u.EmailConfirmedAt, &u.PhoneConfirmedAt, &u.ConfirmationSentAt, &u.ConfirmedAt, &u.LastSignInAt, &u.BannedUntil, &u.RecoverySentAt, &u.InvitedAt} {
		if *t != nil {
			v := (*t).UTC()
			*t = &v
		}
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u, nil
}

// emailCond finds the user signing in with an email: SSO users, who may
// share it, never do.
const emailCond = "lower(email) = $1 AND NOT is_sso_user"

// findUser loads the live user matching cond (a fixed SQL condition on
// auth.users with $1 as its one argument) with its identities. It returns
// nil, nil when there is none.
func findUser(ctx context.Context, db dbtx, cond string, arg any) (*user, error) {
	u, err := scanUser(db.QueryRow(ctx, `SELECT `+userColumns+` FROM auth.users WHERE deleted_at IS NULL AND `+cond, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := loadIdentities(ctx, db, u); err != nil {
		return nil, err
	}
	return u, nil
}

func loadIdentities(ctx context.Context, db dbtx, u *user) error {
	rows, err := db.Query(ctx, `SELECT id, provider_id, user_id, identity_data, provider, last_sign_in_at,
		created_at, updated_at, coalesce(email, '') FROM auth.identities WHERE user_id = $1 ORDER BY created_at`, u.ID)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (identity, error) {
		var i identity
		err := row.Scan(&i.IdentityID, &i.ID, &i.UserID, &i.IdentityData, &i.Provider, &i.LastSignInAt, &i.CreatedAt, &i.UpdatedAt, &i.Email)
		if i.LastSignInAt != nil {
			t := i.LastSignInAt.UTC()
			i.LastSignInAt = &t
		}
		i.CreatedAt, i.UpdatedAt = i.CreatedAt.UTC(), i.UpdatedAt.UTC()
		return i, err
	})
	if err != nil {
		return err
	}
	u.Identities = ids
	if u.Identities == nil {
		u.Identities = []identity{}
	}
	return nil
}

func (u *user) banned(now time.Time) bool {
	return u.BannedUntil != nil && u.BannedUntil.After(now)
}

// sessionResponse is Supabase Auth's AccessTokenResponse.
type sessionResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	ExpiresAt    int64  `json:"expires_at"`
	RefreshToken string `json:"refresh_token"`
	User         *user  `json:"user"`
}

type amrEntry struct {
	Method    string `json:"method"`
	Timestamp int64  `json:"timestamp"`
}

// accessClaims are the claims of the access tokens Supabase Auth issues, in
// its order.
type accessClaims struct {
	Iss          string          `json:"iss"`
	Sub          string          `json:"sub"`
	Aud          string          `json:"aud"`
	Exp          int64           `json:"exp"`
	Iat          int64           `json:"iat"`
	Email        string          `json:"email"`
	Phone        string          `json:"phone"`
	AppMetadata  json.RawMessage `json:"app_metadata"`
	UserMetadata json.RawMessage `json:"user_metadata"`
	Role         string          `json:"role"`
	Aal          string          `json:"aal"`
	Amr          []amrEntry      `json:"amr"`
	SessionID    string          `json:"session_id"`
	IsAnonymous  bool            `json:"is_anonymous"`
}

func (s *Server) issue(u *user, sessionID, aal string, amr []amrEntry, refreshToken string) (*sessionResponse, error) {
	now := time.Now()
	exp := now.Add(s.cfg.AccessTokenTTL)
	role := u.Role
	if role == "" {
		role = "authenticated"
	}
	tok, err := signHS256(s.cfg.JWTSecret, accessClaims{
		Iss: s.cfg.Issuer, Sub: u.ID, Aud: u.Aud, Exp: exp.Unix(), Iat: now.Unix(),
		Email: u.Email, Phone: u.Phone, AppMetadata: u.AppMetadata, UserMetadata: u.UserMetadata,
		Role: role, Aal: aal, Amr: amr, SessionID: sessionID, IsAnonymous: u.IsAnonymous,
	})
	if err != nil {
		return nil, err
	}
	return &sessionResponse{
		AccessToken: tok, TokenType: "bearer", ExpiresIn: int64(s.cfg.AccessTokenTTL / time.Second),
		ExpiresAt: exp.Unix(), RefreshToken: refreshToken, User: u,
	}, nil
}

// newRefreshToken returns an opaque random refresh token.
func newRefreshToken() string {
	b := make([]byte, 10)
	rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// startSession creates a session with its first refresh token for u, records
// the sign-in, and returns the session response.
func (s *Server) startSession(ctx context.Context, tx pgx.Tx, u *user, method string) (*sessionResponse, error) {
	amr := []amrEntry{{Method: method, Timestamp: time.Now().Unix()}}
	amrJSON, _ := json.Marshal(amr)
	var sid string
	if err := tx.QueryRow(ctx, `INSERT INTO auth.sessions (user_id, amr) VALUES ($1, $2) RETURNING id`, u.ID, amrJSON).Scan(&sid); err != nil {
		return nil, err
	}
	rt := newRefreshToken()
	if _, err := tx.Exec(ctx, `INSERT INTO auth.refresh_tokens (token, user_id, session_id) VALUES ($1, $2, $3)`, rt, u.ID, sid); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE auth.users SET last_sign_in_at = now() WHERE id = $1`, u.ID); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE auth.identities SET last_sign_in_at = now() WHERE user_id = $1`, u.ID); err != nil {
		return nil, err
	}
	fresh, err := findUser(ctx, tx, "id = $1", u.ID)
	if err != nil {
		return nil, err
	}
	return s.issue(fresh, sid, "aal1", amr, rt)
}

func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return authErr(http.StatusBadRequest, "bad_json", "Could not read request body")
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return authErr(http.StatusBadRequest, "bad_json", "Could not parse request body as JSON: "+err.Error())
	}
	return nil
}

func (s *Server) checkPassword(pw string) error {
	if len([]rune(pw)) < s.cfg.PasswordMinLength {
		return &authError{status: http.StatusUnprocessableEntity, code: "weak_password",
			msg:     fmt.Sprintf("Password should be at least %d characters.", s.cfg.PasswordMinLength),
			reasons: []string{"length"}}
	}
	if len(pw) > 72 {
		return authErr(http.StatusUnprocessableEntity, "validation_failed", "Password cannot be longer than 72 characters")
	}
	return nil
}

func (s *Server) hash(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), s.cfg.BcryptCost)
	return string(h), err
}

func normalizeEmail(e string) (string, error) {
	e = strings.ToLower(strings.TrimSpace(e))
	if e == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || !strings.Contains(e[strings.IndexByte(e, '@'):], ".") {
		return "", authErr(http.StatusBadRequest, "email_address_invalid", fmt.Sprintf("Email address %q is invalid", e))
	}
	return e, nil
}

// normalizePhone keeps the digits of an E.164 number, as Supabase Auth stores it.
func normalizePhone(p string) (string, error) {
	if strings.TrimSpace(p) == "" {
		return "", nil
	}
	var b strings.Builder
	for _, r := range p {
		if unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) < 8 || len(d) > 15 || d[0] == '0' {
		return "", authErr(http.StatusBadRequest, "validation_failed", "Invalid phone number format (E.164 required)")
	}
	return d, nil
}

type newUser struct {
	email, phone, password string
	emailConfirmed         bool
	phoneConfirmed         bool
	confirmationSent       bool
	anonymous              bool
	role                   string
	userMeta, appMeta      json.RawMessage
	// provider, providerID and identityData describe a provider identity
	// (an OAuth or ID token sign-in); by default the identity is the
	// email's or the phone's.
	provider, providerID string
	identityData         map[string]any
	sso                  bool
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// createUser inserts a user with its identity. It answers the
// already-registered errors itself.
func (s *Server) createUser(ctx context.Context, tx pgx.Tx, n newUser, existsErr *authError) (*user, error) {
	provider := "email"
	switch {
	case n.provider != "":
		provider = n.provider
	case n.anonymous:
		provider = ""
	case n.email == "":
		provider = "phone"
	}
	app := map[string]any{}
	if len(n.appMeta) > 0 && string(n.appMeta) != "null" {
		if err := json.Unmarshal(n.appMeta, &app); err != nil {
			return nil, authErr(http.StatusBadRequest, "validation_failed", "app_metadata must be an object")
		}
	}
	if provider != "" {
		app["provider"] = provider
		app["providers"] = []string{provider}
	}
	appJSON, _ := json.Marshal(app)
	userMeta := n.userMeta
	if len(userMeta) == 0 || string(userMeta) == "null" {
		userMeta = json.RawMessage(`{}`)
	} else if !json.Valid(userMeta) || strings.TrimSpace(string(userMeta))[0] != '{' {
		return nil, authErr(http.StatusBadRequest, "validation_failed", "user_metadata must be an object")
	}
	hash := ""
	if n.password != "" {
		var err error
		if hash, err = s.hash(n.password); err != nil {
			return nil, err
		}
	}
	role := n.role
	if role == "" {
		role = "authenticated"
	}
	var id string
	err := tx.QueryRow(ctx, `INSERT INTO auth.users (email, phone, encrypted_password, role, raw_app_meta_data, raw_user_meta_data,
			email_confirmed_at, phone_confirmed_at, confirmation_sent_at, is_anonymous, is_sso_user)
		VALUES (nullif($1, ''), nullif($2, ''), $3, $4, $5, $6,
			CASE WHEN $7 THEN now() END, CASE WHEN $8 THEN now() END, CASE WHEN $9 THEN now() END, $10, $11)
		RETURNING id`,
		n.email, n.phone, hash, role, appJSON, userMeta, n.emailConfirmed, n.phoneConfirmed, n.confirmationSent, n.anonymous, n.sso).Scan(&id)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" && existsErr != nil {
			return nil, existsErr
		}
		return nil, err
	}
	if provider != "" {
		data, providerID := n.identityData, n.providerID
		if n.provider == "" {
			data, providerID = map[string]any{"sub": id, "email_verified": n.emailConfirmed, "phone_verified": n.phoneConfirmed}, id
			if n.email != "" {
				data["email"] = n.email
			}
			if n.phone != "" {
				data["phone"] = n.phone
			}
		}
		dataJSON, _ := json.Marshal(data)
		if _, err := tx.Exec(ctx, `INSERT INTO auth.identities (provider_id, user_id, identity_data, provider) VALUES ($1, $2, $3, $4)`,
			providerID, id, dataJSON, provider); err != nil {
			return nil, err
		}
	}
	return findUser(ctx, tx, "id = $1", id)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{
		"version": "localstack", "name": "GoTrue",
		"description": "GoTrue is a user registration and authentication API",
	})
}

func (s *Server) settings(w http.ResponseWriter, r *http.Request) {
	external := map[string]bool{"email": true, "phone": true, "anonymous_users": s.cfg.AllowAnonymousSignIns}
	for _, p := range s.cfg.OAuthProviders {
		external[p] = true
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"external":           external,
		"disable_signup":     false,
		"mailer_autoconfirm": !s.cfg.RequireEmailConfirmation,
		"phone_autoconfirm":  true,
		"sms_provider":       "",
		"saml_enabled":       len(s.cfg.SSODomains) > 0,
	})
}

// jwks publishes no keys: HS256 secrets are never published.
func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"keys": []any{}})
}

func (s *Server) authNotFound(w http.ResponseWriter, r *http.Request) {
	s.writeAuthError(w, r, authErr(http.StatusNotFound, "not_found", "Not Found"))
}

type signupParams struct {
	Email               string          `json:"email"`
	Phone               string          `json:"phone"`
	Password            string          `json:"password"`
	Data                json.RawMessage `json:"data"`
	CodeChallenge       string          `json:"code_challenge"`
	CodeChallengeMethod string          `json:"code_challenge_method"`
}

func (s *Server) signup(w http.ResponseWriter, r *http.Request) {
	if err := s.doSignup(w, r); err != nil {
		s.writeAuthError(w, r, err)
	}
}

func (s *Server) doSignup(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var p signupParams
	if err := decodeBody(r, &p); err != nil {
		return err
	}
	email, err := normalizeEmail(p.Email)
	if err != nil {
		return err
	}
	phone, err := normalizePhone(p.Phone)
	if err != nil {
		return err
	}
	if email == "" && phone == "" {
		if p.Password != "" {
			return authErr(http.StatusBadRequest, "validation_failed", "To signup, please provide your email")
		}
		if !s.cfg.AllowAnonymousSignIns {
			return authErr(http.StatusUnprocessableEntity, "anonymous_provider_disabled", "Anonymous sign-ins are disabled")
		}
		return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
			u, err := s.createUser(ctx, tx, newUser{anonymous: true, userMeta: p.Data}, nil)
			if err != nil {
				return err
			}
			resp, err := s.startSession(ctx, tx, u, "anonymous")
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, resp)
			return nil
		})
	}
	if p.Password == "" {
		return authErr(http.StatusUnprocessableEntity, "validation_failed", "Signup requires a valid password")
	}
	if err := s.checkPassword(p.Password); err != nil {
		return err
	}
	pk := pkceParams{challenge: p.CodeChallenge, method: p.CodeChallengeMethod}
	if err := pk.validate(); err != nil {
		return err
	}
	redirectTo := s.referrer(r, "")
	// An email sign-up waiting for confirmation is sent the confirmation
	// email, a PKCE one when the client sent a code challenge.
	confirmation := func(tx pgx.Tx, w http.ResponseWriter, u *user) error {
		if email == "" || !s.cfg.RequireEmailConfirmation {
			return nil
		}
		return s.sendEmail(ctx, tx, w, r, u, "signup", pk, redirectTo)
	}
	confirm := !s.cfg.RequireEmailConfirmation
	n := newUser{email: email, phone: phone, password: p.Password, userMeta: p.Data,
		emailConfirmed: confirm && email != "", phoneConfirmed: phone != "" && email == "",
		confirmationSent: !confirm && email != ""}
	return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
		cond, arg := emailCond, email
		if email == "" {
			cond, arg = "phone = $1", phone
		}
		existing, err := findUser(ctx, tx, cond, arg)
		if err != nil {
			return err
		}
		exists := authErr(http.StatusUnprocessableEntity, "user_already_exists", "User already registered")
		if existing != nil {
			if existing.ConfirmedAt != nil {
				return exists
			}
			// An unconfirmed sign-up is repeated: Supabase Auth sends the
			// confirmation again and answers with the same user.
			if err := confirmation(tx, w, existing); err != nil {
				return err
			}
			u, err := findUser(ctx, tx, "id = $1", existing.ID)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, u)
			return nil
		}
		u, err := s.createUser(ctx, tx, n, exists)
		if err != nil {
			return err
		}
		if u.ConfirmedAt == nil {
			if err := confirmation(tx, w, u); err != nil {
				return err
			}
			if u, err = findUser(ctx, tx, "id = $1", u.ID); err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, u)
			return nil
		}
		resp, err := s.startSession(ctx, tx, u, "password")
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, resp)
		return nil
	})
}

// inTx runs f in a transaction. What f writes to its ResponseWriter is
// sent only once the transaction has committed, so a client never holds a
// token the database does not have yet. An error returned by f rolls back,
// unless it is wrapped in commitWithError.
func (s *Server) inTx(ctx context.Context, w http.ResponseWriter, f func(tx pgx.Tx, w http.ResponseWriter) error) error {
	var kept error
	buf := &bufferedWriter{header: http.Header{}}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := f(tx, buf)
		var c commitWithError
		if errors.As(err, &c) {
			kept = c.err
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	if kept != nil {
		return kept
	}
	for _, f := range buf.committed {
		f()
	}
	buf.flush(w)
	return nil
}

// bufferedWriter holds a response until it may be sent.
type bufferedWriter struct {
	header    http.Header
	status    int
	body      bytes.Buffer
	committed []func() // run once the transaction committed, before the answer
}

// onCommit runs f once the transaction of inTx's writer w has committed
// (at once for any other writer): what must not happen for a rolled-back
// request, e.g. delivering an email.
func onCommit(w http.ResponseWriter, f func()) {
	if b, ok := w.(*bufferedWriter); ok {
		b.committed = append(b.committed, f)
		return
	}
	f()
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

func (b *bufferedWriter) flush(w http.ResponseWriter) {
	if b.status == 0 {
		return
	}
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	w.Write(b.body.Bytes())
}

// commitWithError commits the transaction and still answers err.
type commitWithError struct{ err error }

func (c commitWithError) Error() string { return c.err.Error() }

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	var err error
	switch gt := r.URL.Query().Get("grant_type"); gt {
	case "password":
		err = s.passwordGrant(w, r)
	case "refresh_token":
		err = s.refreshGrant(w, r)
	case "pkce":
		err = s.pkceGrant(w, r)
	case "id_token":
		err = s.idTokenGrant(w, r)
	default:
		err = authErr(http.StatusBadRequest, "invalid_credentials", "unsupported_grant_type")
	}
	if err != nil {
		s.writeAuthError(w, r, err)
	}
}

func (s *Server) passwordGrant(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var p struct {
		Email    string `json:"email"`
		Phone    string `json:"phone"`
		Password string `json:"password"`
	}
	if err := decodeBody(r, &p); err != nil {
		return err
	}
	invalid := authErr(http.StatusBadRequest, "invalid_credentials", "Invalid login credentials")
	email := strings.ToLower(strings.TrimSpace(p.Email))
	phone, _ := normalizePhone(p.Phone)
	if email == "" && phone == "" {
		return authErr(http.StatusBadRequest, "validation_failed", "missing email or phone")
	}
	return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
		cond, arg := emailCond, email
		if email == "" {
			cond, arg = "phone = $1", phone
		}
		u, err := findUser(ctx, tx, cond, arg)
		if err != nil {
			return err
		}
		// Without a user or a password a dummy hash is compared, so the
		// answer takes as long and does not tell which accounts exist.
		hash := s.dummyHash()
		if u != nil && u.password != "" {
			hash = []byte(u.password)
		}
		valid := (*s.compareHash.Load())(hash, []byte(p.Password)) == nil
		if u == nil || u.password == "" {
			return invalid
		}
		// Supabase Auth tells a banned user so before looking at the
		// password.
		if u.banned(s.now()) {
			return authErr(http.StatusBadRequest, "user_banned", "User is banned")
		}
		if !valid {
			return invalid
		}
		if email != "" && u.EmailConfirmedAt == nil {
			return authErr(http.StatusBadRequest, "email_not_confirmed", "Email not confirmed")
		}
		if email == "" && u.PhoneConfirmedAt == nil {
			return authErr(http.StatusBadRequest, "phone_not_confirmed", "Phone not confirmed")
		}
		resp, err := s.startSession(ctx, tx, u, "password")
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, resp)
		return nil
	})
}

// refreshGrant rotates a refresh token. A rotated token presented again
// gets the session's active token back when it is that token's parent (the
// client lost the previous answer) or within the reuse interval; otherwise
// it is taken as theft: every token of the session is revoked and
// refresh_token_already_used answered.
func (s *Server) refreshGrant(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var p struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := decodeBody(r, &p); err != nil {
		return err
	}
	if p.RefreshToken == "" {
		return &authError{status: http.StatusBadRequest, code: "invalid_request", msg: "refresh_token required", oauth: true}
	}
	notFound := authErr(http.StatusBadRequest, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
	return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
		// Lock the session first: every change to a session's tokens takes
		// this lock, so concurrent refreshes and sign-outs serialise here.
		var sid string
		err := tx.QueryRow(ctx, `SELECT session_id FROM auth.refresh_tokens WHERE token = $1`, p.RefreshToken).Scan(&sid)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound
		}
		if err != nil {
			return err
		}
		var amrJSON []byte
		var aal string
		err = tx.QueryRow(ctx, `SELECT aal, amr FROM auth.sessions WHERE id = $1 FOR UPDATE`, sid).Scan(&aal, &amrJSON)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound
		}
		if err != nil {
			return err
		}
		var (
			id      int64
			userID  string
			revoked bool
			updated time.Time
		)
		err = tx.QueryRow(ctx, `SELECT id, user_id, revoked, updated_at FROM auth.refresh_tokens WHERE token = $1`, p.RefreshToken).
			Scan(&id, &userID, &revoked, &updated)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound
		}
		if err != nil {
			return err
		}
		u, err := findUser(ctx, tx, "id = $1", userID)
		if err != nil {
			return err
		}
		if u == nil {
			return notFound
		}
		if u.banned(time.Now()) {
			return authErr(http.StatusBadRequest, "user_banned", "Invalid Refresh Token: User Banned")
		}
		issued := ""
		if revoked {
			var active, parent string
			err := tx.QueryRow(ctx, `SELECT token, coalesce(parent, '') FROM auth.refresh_tokens WHERE session_id = $1 AND NOT revoked ORDER BY id DESC LIMIT 1`, sid).
				Scan(&active, &parent)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			// The active token's direct parent always gets it back: the
			// client lost the answer to its last refresh. Older tokens only
			// within the reuse interval.
			if active == "" || (parent != p.RefreshToken && time.Since(updated) > s.cfg.RefreshReuseInterval) {
				if _, err := tx.Exec(ctx, `UPDATE auth.refresh_tokens SET revoked = true, updated_at = now() WHERE session_id = $1 AND NOT revoked`, sid); err != nil {
					return err
				}
				return commitWithError{authErr(http.StatusBadRequest, "refresh_token_already_used", "Invalid Refresh Token: Already Used")}
			}
			issued = active
		} else {
			if _, err := tx.Exec(ctx, `UPDATE auth.refresh_tokens SET revoked = true, updated_at = now() WHERE id = $1`, id); err != nil {
				return err
			}
			issued = newRefreshToken()
			if _, err := tx.Exec(ctx, `INSERT INTO auth.refresh_tokens (token, user_id, session_id, parent) VALUES ($1, $2, $3, $4)`,
				issued, userID, sid, p.RefreshToken); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE auth.sessions SET refreshed_at = now(), updated_at = now() WHERE id = $1`, sid); err != nil {
			return err
		}
		var amr []amrEntry
		if err := json.Unmarshal(amrJSON, &amr); err != nil {
			return err
		}
		resp, err := s.issue(u, sid, aal, amr, issued)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, resp)
		return nil
	})
}

// authedUser is the caller of a user endpoint, from a verified access token.
type authedUser struct {
	user      *user
	sessionID string
}

// requireUser authenticates the bearer token the way Supabase Auth does for
// /user and /logout.
func (s *Server) requireUser(ctx context.Context, r *http.Request) (*authedUser, error) {
	tok, ok := bearer(r)
	if !ok || tok == "" {
		return nil, authErr(http.StatusUnauthorized, "no_authorization", "This endpoint requires a Bearer token")
	}
	vt, err := verifyJWT(s.cfg.JWTSecret, tok)
	if err != nil {
		return nil, authErr(http.StatusForbidden, "bad_jwt", "invalid JWT: unable to parse or verify signature, "+jwtLibMessage(err))
	}
	sub := vt.str("sub")
	if sub == "" {
		return nil, authErr(http.StatusForbidden, "bad_jwt", "invalid claim: missing sub claim")
	}
	if !isUUID(sub) {
		return nil, authErr(http.StatusBadRequest, "bad_jwt", "invalid claim: sub claim must be a UUID")
	}
	u, err := findUser(ctx, s.pool, "id = $1", sub)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, authErr(http.StatusForbidden, "user_not_found", "User from sub claim in JWT does not exist")
	}
	sid := vt.str("session_id")
	if sid != "" {
		if !isUUID(sid) {
			return nil, authErr(http.StatusForbidden, "bad_jwt", "invalid claim: session_id claim must be a UUID")
		}
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM auth.sessions WHERE id = $1)`, sid).Scan(&exists); err != nil {
			return nil, err
		}
		if !exists {
			return nil, authErr(http.StatusForbidden, "session_not_found", "Session from session_id claim in JWT does not exist")
		}
	}
	return &authedUser{user: u, sessionID: sid}, nil
}

// jwtLibMessage is the text the JWT library Supabase Auth uses gives for err.
func jwtLibMessage(err error) string {
	switch err {
	case errJWTExpired:
		return "token has invalid claims: token is expired"
	case errJWTParts:
		return "token is malformed: token contains an invalid number of segments"
	case errJWTAlgorithm:
		return "token is unverifiable: error while executing keyfunc: missing kid"
	case errJWTNotYet:
		return "token has invalid claims: token is not valid yet"
	case errJWTFuture:
		return "token has invalid claims: token used before issued"
	case errJWTClaims:
		return "token has invalid claims"
	}
	return "token signature is invalid: signature is invalid"
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	au, err := s.requireUser(r.Context(), r)
	if err != nil {
		s.writeAuthError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, au.user)
}

type userUpdate struct {
	Email    *string         `json:"email"`
	Phone    *string         `json:"phone"`
	Password *string         `json:"password"`
	Data     json.RawMessage `json:"data"`
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := func() error {
		au, err := s.requireUser(ctx, r)
		if err != nil {
			return err
		}
		var p userUpdate
		if err := decodeBody(r, &p); err != nil {
			return err
		}
		if au.user.IsAnonymous && deref(p.Password) != "" && deref(p.Email) == "" && deref(p.Phone) == "" {
			return authErr(http.StatusUnprocessableEntity, "validation_failed", "Updating password of an anonymous user without an email or phone is not allowed")
		}
		if p.Password != nil && au.user.password != "" &&
			bcrypt.CompareHashAndPassword([]byte(au.user.password), []byte(*p.Password)) == nil {
			return authErr(http.StatusUnprocessableEntity, "same_password", "New password should be different from the old password.")
		}
		return s.inTx(ctx, w, func(tx pgx.Tx, w http.ResponseWriter) error {
			if err := s.applyUserChanges(ctx, tx, au.user, p.Email, p.Phone, p.Password, p.Data, nil, !s.cfg.RequireEmailConfirmation); err != nil {
				return err
			}
			if p.Password != nil {
				// As Supabase Auth: a new password signs every other session out.
				if _, err := tx.Exec(ctx, `DELETE FROM auth.sessions WHERE user_id = $1 AND id::text <> $2`, au.user.ID, au.sessionID); err != nil {
					return err
				}
			}
			u, err := findUser(ctx, tx, "id = $1", au.user.ID)
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, u)
			return nil
		})
	}()
	if err != nil {
		s.writeAuthError(w, r, err)
	}
}

// mergeMeta merges patch into the JSON object in column col of user id;
// null values remove keys, as Supabase Auth does.
func mergeMeta(ctx context.Context, tx pgx.Tx, id, col string, patch json.RawMessage) error {
	if len(patch) == 0 || string(patch) == "null" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(patch, &m); err != nil {
		return authErr(http.StatusBadRequest, "validation_failed", "metadata must be a JSON object")
	}
	// col is one of two fixed column names.
	_, err := tx.Exec(ctx, `UPDATE auth.users SET `+col+` = jsonb_strip_nulls(`+col+` || $2::jsonb), updated_at = now() WHERE id = $1`, id, patch)
	return err
}

// applyUserChanges applies the changes a user or an admin asked for.
// confirmEmail applies an email change at once instead of waiting for a
// confirmation that this stack never sends.
func (s *Server) applyUserChanges(ctx context.Context, tx pgx.Tx, u *user, email, phone, password *string, userMeta, appMeta json.RawMessage, confirmEmail bool) error {
	if password != nil {
		if err := s.checkPassword(*password); err != nil {
			return err
		}
		h, err := s.hash(*password)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE auth.users SET encrypted_password = $2, updated_at = now() WHERE id = $1`, u.ID, h); err != nil {
			return err
		}
	}
	exists := authErr(http.StatusUnprocessableEntity, "email_exists", "A user with this email address has already been registered")
	if email != nil {
		e, err := normalizeEmail(*email)
		if err != nil {
			return err
		}
		if e != "" && e != u.Email {
			sql := `UPDATE auth.users SET new_email = $2, updated_at = now() WHERE id = $1`
			if confirmEmail {
				sql = `UPDATE auth.users SET email = $2, new_email = NULL, email_confirmed_at = coalesce(email_confirmed_at, now()), updated_at = now() WHERE id = $1`
			}
			if _, err := tx.Exec(ctx, sql, u.ID, e); err != nil {
				var pe *pgconn.PgError
				if errors.As(err, &pe) && pe.Code == "23505" {
					return exists
				}
				return err
			}
			if confirmEmail {
				if _, err := tx.Exec(ctx, `UPDATE auth.identities SET identity_data = identity_data || jsonb_build_object('email', $2::text), updated_at = now()
					WHERE user_id = $1 AND provider = 'email'`, u.ID, e); err != nil {
					return err
				}
				if err := linkIdentity(ctx, tx, u.ID, "email", map[string]any{"sub": u.ID, "email": e, "email_verified": true, "phone_verified": false}); err != nil {
					return err
				}
			}
		}
	}
	if phone != nil {
		p, err := normalizePhone(*phone)
		if err != nil {
			return err
		}
		if p != u.Phone {
			if _, err := tx.Exec(ctx, `UPDATE auth.users SET phone = nullif($2, ''), phone_confirmed_at = CASE WHEN $2 = '' THEN NULL ELSE now() END, updated_at = now() WHERE id = $1`, u.ID, p); err != nil {
				var pe *pgconn.PgError
				if errors.As(err, &pe) && pe.Code == "23505" {
					return authErr(http.StatusUnprocessableEntity, "phone_exists", "A user with this phone number has already been registered")
				}
				return err
			}
			if p != "" {
				if err := linkIdentity(ctx, tx, u.ID, "phone", map[string]any{"sub": u.ID, "phone": p, "email_verified": false, "phone_verified": true}); err != nil {
					return err
				}
			}
		}
	}
	if err := mergeMeta(ctx, tx, u.ID, "raw_user_meta_data", userMeta); err != nil {
		return err
	}
	return mergeMeta(ctx, tx, u.ID, "raw_app_meta_data", appMeta)
}

// linkIdentity gives user id an identity for provider when it has none, as
// a confirmed email or phone change does in Supabase Auth: the providers in
// its app metadata follow, and an anonymous user becomes a permanent one.
func linkIdentity(ctx context.Context, tx pgx.Tx, id, provider string, data map[string]any) error {
	dataJSON, _ := json.Marshal(data)
	_, err := tx.Exec(ctx, `INSERT INTO auth.identities (provider_id, user_id, identity_data, provider)
		SELECT $1::text, $1::text::uuid, $2, $3
		WHERE NOT EXISTS (SELECT FROM auth.identities WHERE user_id = $1::text::uuid AND provider = $3)`, id, dataJSON, provider)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE auth.users SET is_anonymous = false, updated_at = now(),
		raw_app_meta_data = raw_app_meta_data || jsonb_build_object('provider', coalesce(raw_app_meta_data ->> 'provider', $2),
			'providers', (SELECT jsonb_agg(provider ORDER BY created_at, id) FROM auth.identities WHERE user_id = $1))
		WHERE id = $1`, id, provider)
	return err
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := func() error {
		scope := r.URL.Query().Get("scope")
		switch scope {
		case "", "global", "local", "others":
		default:
			return authErr(http.StatusBadRequest, "validation_failed", fmt.Sprintf("Unsupported logout scope %q", scope))
		}
		au, err := s.requireUser(ctx, r)
		if err != nil {
			return err
		}
		switch {
		case au.sessionID == "" || scope == "" || scope == "global":
			_, err = s.pool.Exec(ctx, `DELETE FROM auth.sessions WHERE user_id = $1`, au.user.ID)
		case scope == "local":
			_, err = s.pool.Exec(ctx, `DELETE FROM auth.sessions WHERE id = $1`, au.sessionID)
		default:
			_, err = s.pool.Exec(ctx, `DELETE FROM auth.sessions WHERE user_id = $1 AND id <> $2`, au.user.ID, au.sessionID)
		}
		return err
	}()
	if err != nil {
		s.writeAuthError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
