package supabase

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// AdminClient is the Auth admin API (/auth/v1/admin/...). It needs a client
// built with the project's service_role (or secret) key, which must never
// reach a browser or an end user's device. Get one with AuthClient.Admin.
//
// Every admin call sends the client's key as the bearer, whoever is signed
// in on the client: a service-role client never turns into a user client,
// and an admin call never acts with a user's rights. It is safe for
// concurrent use.
type AdminClient struct {
	a *AuthClient
}

// Admin returns the Auth admin API. It is cheap: call it whenever needed.
func (a *AuthClient) Admin() *AdminClient { return &AdminClient{a: a} }

// auth returns the AuthClient ad is a view of; nil for a nil or zero ad,
// whose calls then fail with ErrInvalidArgument.
func (ad *AdminClient) auth() *AuthClient {
	if ad == nil {
		return nil
	}
	return ad.a
}

// String describes ad without secrets: the Auth URL it administers. Its
// key is never shown.
func (ad *AdminClient) String() string {
	if ad == nil {
		return "<nil>"
	}
	a := ad.auth()
	if a.check() != nil {
		return "supabase.AdminClient{not made by AuthClient.Admin}"
	}
	return "supabase.AdminClient{url: " + a.co.authURL + "}"
}

// Format makes every fmt verb (%v, %+v, %#v, %s) print String. Its receiver
// is a value so that a dereferenced AdminClient prints the same: fmt would
// otherwise walk its fields and, with a verb such as %s, print what its
// unexported pointers point to. fmt prints a nil *AdminClient as <nil>.
func (ad AdminClient) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, (&ad).String()) }

// LogValue makes slog log what String shows.
func (ad *AdminClient) LogValue() slog.Value {
	a := ad.auth()
	if a.check() != nil {
		return slog.StringValue(ad.String())
	}
	return slog.GroupValue(slog.String("url", a.co.authURL))
}

// AdminUserAttributes are the fields of a user created or updated by an
// admin. Empty fields are not sent (an update leaves them unchanged).
//
// fmt (every verb) and encoding/json show it with Password and PasswordHash
// redacted, and so do slog's text and JSON handlers, which rely on them.
type AdminUserAttributes struct {
	// ID sets the new user's UUID (CreateUser only; default: generated).
	ID       string
	Email    string
	Phone    string
	Password string
	// PasswordHash is an existing bcrypt or argon2 hash to import instead of
	// Password.
	PasswordHash string
	// EmailConfirm marks the email as confirmed without sending an email.
	EmailConfirm bool
	// PhoneConfirm marks the phone as confirmed without sending an SMS.
	PhoneConfirm bool
	// UserMetadata is user_metadata (the user may change it).
	UserMetadata map[string]any
	// AppMetadata is app_metadata (only admins may change it); use it for
	// roles and authorisation data.
	AppMetadata map[string]any
	// BanDuration bans the user for a Go-style duration ("24h", "876000h");
	// "none" lifts a ban.
	BanDuration string
	// Role sets the Postgres role in the user's JWT (default authenticated).
	Role string
}

func (u AdminUserAttributes) redacted() any {
	type adminUserAttributes AdminUserAttributes
	r := adminUserAttributes(u)
	r.Password = redact(r.Password)
	r.PasswordHash = redact(r.PasswordHash)
	return r
}

// Format prints u with Password and PasswordHash redacted, whatever the
// verb.
func (u AdminUserAttributes) Format(f fmt.State, verb rune) { formatRedacted(f, verb, u.redacted()) }

// MarshalJSON encodes u with Password and PasswordHash redacted: requests
// are built from wire types of their own, never by encoding it.
func (u AdminUserAttributes) MarshalJSON() ([]byte, error) { return json.Marshal(u.redacted()) }

type adminUserBody struct {
	ID           string         `json:"id,omitempty"`
	Email        string         `json:"email,omitempty"`
	Phone        string         `json:"phone,omitempty"`
	Password     string         `json:"password,omitempty"`
	PasswordHash string         `json:"password_hash,omitempty"`
	EmailConfirm bool           `json:"email_confirm,omitempty"`
	PhoneConfirm bool           `json:"phone_confirm,omitempty"`
	UserMetadata map[string]any `json:"user_metadata,omitzero"`
	AppMetadata  map[string]any `json:"app_metadata,omitzero"`
	BanDuration  string         `json:"ban_duration,omitempty"`
	Role         string         `json:"role,omitempty"`
}

// body converts u: the same fields with their wire names, so a field added
// to one and not the other does not compile.
func (u AdminUserAttributes) body() adminUserBody { return adminUserBody(u) }

// adminCall sends an admin request with the client's key as bearer.
func (ad *AdminClient) adminCall(ctx context.Context, method, path string, query url.Values, body any) (*apiResponse, error) {
	return ad.auth().authCall(ctx, method, path, query, body, keyBearer)
}

func decodeUser(body []byte) (*User, error) {
	var u User
	if err := decodeJSON(body, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// CreateUser creates a user (POST /admin/users). No confirmation is sent;
// set EmailConfirm or PhoneConfirm to confirm the address right away.
func (ad *AdminClient) CreateUser(ctx context.Context, attrs AdminUserAttributes) (*User, error) {
	if err := ad.auth().check(); err != nil {
		return nil, err
	}
	if attrs.ID != "" {
		if err := checkUUID("Admin CreateUser", "user ID", attrs.ID); err != nil {
			return nil, err
		}
	}
	resp, err := ad.adminCall(ctx, http.MethodPost, "/admin/users", nil, attrs.body())
	if err != nil {
		return nil, err
	}
	return decodeUser(resp.body)
}

// ListUsersParams select a page of users. Zero values use the server's
// defaults (page 1, 50 per page).
type ListUsersParams struct {
	// Page is the 1-based page number.
	Page int
	// PerPage is the page size.
	PerPage int
}

// UserList is one page of users.
type UserList struct {
	Users []User
	// Aud is the audience the users belong to.
	Aud string
	// Total is the number of users across all pages (X-Total-Count).
	Total int
	// NextPage is the next page's number, 0 on the last page.
	NextPage int
	// LastPage is the number of the last page, 0 when unknown.
	LastPage int
}

// ListUsers returns one page of users (GET /admin/users), with the paging
// information the server sends in the X-Total-Count and Link headers.
func (ad *AdminClient) ListUsers(ctx context.Context, p ListUsersParams) (*UserList, error) {
	if err := ad.auth().check(); err != nil {
		return nil, err
	}
	if p.Page < 0 || p.PerPage < 0 {
		return nil, invalidArg("Admin ListUsers: negative page or page size")
	}
	q := url.Values{}
	if p.Page > 0 {
		q.Set("page", strconv.Itoa(p.Page))
	}
	if p.PerPage > 0 {
		q.Set("per_page", strconv.Itoa(p.PerPage))
	}
	resp, err := ad.adminCall(ctx, http.MethodGet, "/admin/users", q, nil)
	if err != nil {
		return nil, err
	}
	var wire struct {
		Aud   string `json:"aud"`
		Users []User `json:"users"`
	}
	if err := decodeJSON(resp.body, &wire); err != nil {
		return nil, err
	}
	out := &UserList{Users: wire.Users, Aud: wire.Aud}
	if out.Users == nil {
		out.Users = []User{}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(resp.header.Get("X-Total-Count"))); err == nil && n >= 0 {
		out.Total = n
	}
	out.NextPage, out.LastPage = parseLinkPages(resp.header.Values("Link"))
	return out, nil
}

// parseLinkPages reads the page numbers of the rel="next" and rel="last"
// links of a Link header such as
// `</admin/users?page=3&per_page=50>; rel="next", </admin/users?page=4&per_page=50>; rel="last"`.
func parseLinkPages(headers []string) (next, last int) {
	for _, h := range headers {
		for link := range strings.SplitSeq(h, ",") {
			target, params, ok := strings.Cut(link, ";")
			if !ok {
				continue
			}
			target = strings.TrimSpace(target)
			if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			u, err := url.Parse(target[1 : len(target)-1])
			if err != nil {
				continue
			}
			page, err := strconv.Atoi(u.Query().Get("page"))
			if err != nil || page < 0 {
				continue
			}
			for param := range strings.SplitSeq(params, ";") {
				name, value, _ := strings.Cut(strings.TrimSpace(param), "=")
				if !strings.EqualFold(strings.TrimSpace(name), "rel") {
					continue
				}
				for rel := range strings.FieldsSeq(strings.Trim(strings.TrimSpace(value), `"`)) {
					switch strings.ToLower(rel) {
					case "next":
						next = page
					case "last":
						last = page
					}
				}
			}
		}
	}
	return next, last
}

// AllUsers iterates over every user, perPage at a time (0: the server's
// default of 50), fetching each page of ListUsers when the previous one is
// used up. The next page is the Link header's rel="next"; without a Link,
// pages go on while X-Total-Count says users remain. It stops at an empty
// page, and after the first error, which it yields with a zero User.
// Stopping the loop early fetches no more pages. Users created or deleted
// while it runs may shift between pages (it pages by offset): it can miss
// or repeat one. supabase-js has no iterator: it is admin.listUsers page
// by page.
func (ad *AdminClient) AllUsers(ctx context.Context, perPage int) iter.Seq2[User, error] {
	return func(yield func(User, error) bool) {
		page, seen := 1, 0
		for {
			l, err := ad.ListUsers(ctx, ListUsersParams{Page: page, PerPage: perPage})
			if err != nil {
				yield(User{}, err)
				return
			}
			for _, u := range l.Users {
				if !yield(u, nil) {
					return
				}
			}
			seen += len(l.Users)
			next := l.NextPage
			if next == 0 && l.LastPage == 0 && l.Total > seen {
				next = page + 1
			}
			if len(l.Users) == 0 || next <= page {
				return
			}
			page = next
		}
	}
}

// GetUserByID fetches a user (GET /admin/users/{id}). A missing user is an
// error matching ErrNotFound.
func (ad *AdminClient) GetUserByID(ctx context.Context, id string) (*User, error) {
	if err := ad.auth().check(); err != nil {
		return nil, err
	}
	if err := checkUUID("Admin GetUserByID", "user ID", id); err != nil {
		return nil, err
	}
	resp, err := ad.adminCall(ctx, http.MethodGet, "/admin/users/"+id, nil, nil)
	if err != nil {
		return nil, err
	}
	return decodeUser(resp.body)
}

// UpdateUserByID changes a user (PUT /admin/users/{id}); only the non-empty
// fields of attrs are sent. ID must be empty.
func (ad *AdminClient) UpdateUserByID(ctx context.Context, id string, attrs AdminUserAttributes) (*User, error) {
	if err := ad.auth().check(); err != nil {
		return nil, err
	}
	if err := checkUUID("Admin UpdateUserByID", "user ID", id); err != nil {
		return nil, err
	}
	if attrs.ID != "" {
		return nil, invalidArg("Admin UpdateUserByID: a user's ID cannot be changed")
	}
	resp, err := ad.adminCall(ctx, http.MethodPut, "/admin/users/"+id, nil, attrs.body())
	if err != nil {
		return nil, err
	}
	return decodeUser(resp.body)
}

// DeleteUser deletes a user (DELETE /admin/users/{id}). With softDelete the
// user is kept, anonymised and unable to sign in; otherwise it is removed
// with its identities, factors and sessions.
func (ad *AdminClient) DeleteUser(ctx context.Context, id string, softDelete bool) error {
	if err := ad.auth().check(); err != nil {
		return err
	}
	if err := checkUUID("Admin DeleteUser", "user ID", id); err != nil {
		return err
	}
	_, err := ad.adminCall(ctx, http.MethodDelete, "/admin/users/"+id, nil, deleteUserBody{ShouldSoftDelete: softDelete})
	return err
}

type deleteUserBody struct {
	ShouldSoftDelete bool `json:"should_soft_delete"`
}

// LinkType says what a generated link does.
type LinkType string

// Link types for GenerateLink.
const (
	// LinkSignup confirms a new user; needs Password.
	LinkSignup LinkType = "signup"
	// LinkInvite invites a new user.
	LinkInvite LinkType = "invite"
	// LinkMagicLink signs an existing user in (a new one is signed up).
	LinkMagicLink LinkType = "magiclink"
	// LinkRecovery lets the user set a new password.
	LinkRecovery LinkType = "recovery"
	// LinkEmailChangeCurrent confirms an email change from the current
	// address; needs NewEmail.
	LinkEmailChangeCurrent LinkType = "email_change_current"
	// LinkEmailChangeNew confirms an email change from the new address;
	// needs NewEmail.
	LinkEmailChangeNew LinkType = "email_change_new"
)

// GenerateLinkParams describe an email action link to generate.
//
// fmt (every verb) and encoding/json show it with Password redacted, and so
// do slog's text and JSON handlers, which rely on them.
type GenerateLinkParams struct {
	Type  LinkType
	Email string
	// Password is the new user's password (LinkSignup).
	Password string
	// NewEmail is the address being changed to (LinkEmailChange*).
	NewEmail string
	// Data becomes user_metadata of a user the link creates.
	Data map[string]any
}

func (p GenerateLinkParams) redacted() any {
	type generateLinkParams GenerateLinkParams
	r := generateLinkParams(p)
	r.Password = redact(r.Password)
	return r
}

// Format prints p with Password redacted, whatever the verb.
func (p GenerateLinkParams) Format(f fmt.State, verb rune) { formatRedacted(f, verb, p.redacted()) }

// MarshalJSON encodes p with Password redacted: requests are built from wire
// types of their own, never by encoding it.
func (p GenerateLinkParams) MarshalJSON() ([]byte, error) { return json.Marshal(p.redacted()) }

type generateLinkBody struct {
	Type       LinkType       `json:"type"`
	Email      string         `json:"email"`
	Password   string         `json:"password,omitempty"`
	NewEmail   string         `json:"new_email,omitempty"`
	Data       map[string]any `json:"data,omitzero"`
	RedirectTo string         `json:"redirect_to,omitempty"`
}

// GenerateLinkResponse is a generated link and the user it is for.
//
// Like LinkProperties it is a wire type: encoding/json writes it in full,
// for a backend that passes the link on. fmt and slog print its Properties
// the way LinkProperties prints itself, secrets redacted.
type GenerateLinkResponse struct {
	User       *User
	Properties LinkProperties
}

// Format prints the response with fmt's verb, its Properties the way
// LinkProperties prints itself.
func (r GenerateLinkResponse) Format(f fmt.State, verb rune) {
	type generateLinkResponse GenerateLinkResponse // without methods
	formatRedacted(f, verb, generateLinkResponse(r))
}

// LogValue makes slog log the response field by field, Properties through
// its own LogValue (slog's JSON handler would otherwise encode it with
// encoding/json, link included).
func (r GenerateLinkResponse) LogValue() slog.Value {
	return slog.GroupValue(logPtr("User", r.User), slog.Any("Properties", r.Properties))
}

// LinkProperties describe a generated link. Send ActionLink (or EmailOTP)
// to the user through your own channel; the server sends no email.
//
// It is a wire type: encoding/json writes it in full. fmt and slog print
// it with ActionLink, EmailOTP and HashedToken redacted: each of them signs
// the user in.
type LinkProperties struct {
	ActionLink string `json:"action_link"`
	// EmailOTP is the code equivalent to the link, for VerifyOTP.
	EmailOTP string `json:"email_otp"`
	// HashedToken is the token_hash, for VerifyOTPParams.TokenHash.
	HashedToken      string `json:"hashed_token"`
	RedirectTo       string `json:"redirect_to"`
	VerificationType string `json:"verification_type"`
}

func (p LinkProperties) redacted() any {
	type linkProperties LinkProperties
	r := linkProperties(p)
	r.ActionLink = redact(r.ActionLink)
	r.EmailOTP = redact(r.EmailOTP)
	r.HashedToken = redact(r.HashedToken)
	return r
}

// Format prints p with ActionLink, EmailOTP and HashedToken redacted,
// whatever the verb.
func (p LinkProperties) Format(f fmt.State, verb rune) { formatRedacted(f, verb, p.redacted()) }

// LogValue makes slog log p with ActionLink, EmailOTP and HashedToken
// redacted.
func (p LinkProperties) LogValue() slog.Value { return slog.AnyValue(p.redacted()) }

// GenerateLink creates an email action link (sign-up, invite, magic link,
// recovery, email change) without sending it (POST /admin/generate_link).
// It takes WithRedirectTo (where the link leads after verification).
func (ad *AdminClient) GenerateLink(ctx context.Context, p GenerateLinkParams, opts ...AuthOption) (*GenerateLinkResponse, error) {
	if err := ad.auth().check(); err != nil {
		return nil, err
	}
	o, err := authOpts("Admin GenerateLink", opts, takesRedirect)
	if err != nil {
		return nil, err
	}
	if p.Type == "" {
		return nil, invalidArg("Admin GenerateLink: Type is required")
	}
	if strings.TrimSpace(p.Email) == "" {
		return nil, invalidArg("Admin GenerateLink: Email is required")
	}
	switch p.Type {
	case LinkSignup:
		if p.Password == "" {
			return nil, invalidArg("Admin GenerateLink: Password is required for a signup link")
		}
	case LinkEmailChangeCurrent, LinkEmailChangeNew:
		if strings.TrimSpace(p.NewEmail) == "" {
			return nil, invalidArg("Admin GenerateLink: NewEmail is required for an email change link")
		}
	}
	body := generateLinkBody{Type: p.Type, Email: p.Email, Password: p.Password, NewEmail: p.NewEmail, Data: p.Data,
		RedirectTo: o.redirectTo}
	resp, err := ad.adminCall(ctx, http.MethodPost, "/admin/generate_link", o.query(), body)
	if err != nil {
		return nil, err
	}
	out := &GenerateLinkResponse{}
	if err := decodeJSON(resp.body, &out.Properties); err != nil {
		return nil, err
	}
	// The answer puts the link's properties beside the user's fields.
	if out.User, err = decodeUser(resp.body); err != nil {
		return nil, err
	}
	return out, nil
}

// InviteParams are the optional parts of an invitation.
type InviteParams struct {
	// Data becomes the invited user's user_metadata.
	Data map[string]any
}

type inviteBody struct {
	Email string         `json:"email"`
	Data  map[string]any `json:"data,omitzero"`
}

// InviteUserByEmail creates a user and emails them an invitation link
// (POST /invite). It takes WithRedirectTo (where the link leads).
func (ad *AdminClient) InviteUserByEmail(ctx context.Context, email string, p InviteParams, opts ...AuthOption) (*User, error) {
	if err := ad.auth().check(); err != nil {
		return nil, err
	}
	o, err := authOpts("Admin InviteUserByEmail", opts, takesRedirect)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(email) == "" {
		return nil, invalidArg("Admin InviteUserByEmail: empty email")
	}
	body := inviteBody{Email: email, Data: p.Data}
	resp, err := ad.adminCall(ctx, http.MethodPost, "/invite", o.query(), body)
	if err != nil {
		return nil, err
	}
	return decodeUser(resp.body)
}

// SignOut ends sessions of the user whose access token is jwt (POST
// /logout, sent with jwt as the bearer): SignOutGlobal (all of them, the
// default), SignOutLocal (the one jwt belongs to) or SignOutOthers. It
// does not touch this client's own session. Errors are returned as they
// are; a 401 or 404 means the session was already gone.
func (ad *AdminClient) SignOut(ctx context.Context, jwt string, scope SignOutScope) error {
	if err := ad.auth().check(); err != nil {
		return err
	}
	switch scope {
	case "":
		scope = SignOutGlobal
	case SignOutGlobal, SignOutLocal, SignOutOthers:
	default:
		return invalidArg("Admin SignOut: unknown scope %q", scope)
	}
	if strings.TrimSpace(jwt) == "" {
		return invalidArg("Admin SignOut: empty JWT")
	}
	_, err := ad.auth().authCall(ctx, http.MethodPost, "/logout", url.Values{"scope": {string(scope)}}, nil, jwtBearer(jwt))
	return err
}

// ListFactors lists a user's MFA factors, verified or not (GET
// /admin/users/{id}/factors).
func (ad *AdminClient) ListFactors(ctx context.Context, userID string) ([]Factor, error) {
	if err := ad.auth().check(); err != nil {
		return nil, err
	}
	if err := checkUUID("Admin ListFactors", "user ID", userID); err != nil {
		return nil, err
	}
	resp, err := ad.adminCall(ctx, http.MethodGet, "/admin/users/"+userID+"/factors", nil, nil)
	if err != nil {
		return nil, err
	}
	var fs []Factor
	if err := decodeJSON(resp.body, &fs); err != nil {
		return nil, err
	}
	if fs == nil {
		fs = []Factor{}
	}
	return fs, nil
}

// DeleteFactor removes one of a user's MFA factors (DELETE
// /admin/users/{id}/factors/{factorID}); the user's aal2 sessions drop to
// aal1.
func (ad *AdminClient) DeleteFactor(ctx context.Context, userID, factorID string) error {
	if err := ad.auth().check(); err != nil {
		return err
	}
	if err := checkUUID("Admin DeleteFactor", "user ID", userID); err != nil {
		return err
	}
	if err := checkUUID("Admin DeleteFactor", "factor ID", factorID); err != nil {
		return err
	}
	_, err := ad.adminCall(ctx, http.MethodDelete, "/admin/users/"+userID+"/factors/"+factorID, nil, nil)
	return err
}

// checkUUID rejects an ID that is not a UUID before it is put in a URL
// path, so it can never change which endpoint is called.
func checkUUID(op, what, id string) error {
	if !isUUID(id) {
		// The value is left out: a misplaced token must not end up in logs.
		return invalidArg("%s: %s is not a UUID", op, what)
	}
	return nil
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
