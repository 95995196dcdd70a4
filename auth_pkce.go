package supabase

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// ErrCodeVerifierMissing is matched (with ErrInvalidArgument) by the error
// of ExchangeCodeForSession when no code verifier is kept: no PKCE flow
// was started with this client's store, or its code was already exchanged
// (or refused). No request is sent. supabase-js:
// AuthPKCECodeVerifierMissingError.
var ErrCodeVerifierMissing = errors.New("supabase: PKCE code verifier missing")

// codeChallengeMethod is the method auth-js sends, lower case; Auth reads
// it case-insensitively.
const codeChallengeMethod = "s256"

// recoverySuffix marks, after the verifier kept for it, a flow started by
// ResetPasswordForEmail, as auth-js marks it: the exchange then emits
// PASSWORD_RECOVERY.
const recoverySuffix = "/recovery"

// pkceState is a client's hold on its PKCE code verifier.
type pkceState struct {
	// sem (one slot) serialises this client's verifier changes and
	// exchanges; a channel so that waiting watches ctx.
	sem chan struct{}
	// verifier is kept here when the store does not implement
	// CodeVerifierStore.
	verifier string
}

func newPKCEState() *pkceState { return &pkceState{sem: make(chan struct{}, 1)} }

// newCodeVerifier returns a verifier of the shape auth-js makes: 56 random
// bytes in lower-case hex (112 characters, within RFC 7636's 43 to 128
// unreserved characters).
func newCodeVerifier() string {
	b := make([]byte, 56)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// codeChallenge is the S256 challenge of verifier: base64url (no padding)
// of its SHA-256.
func codeChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// lockPKCE takes the client's verifier slot while ctx allows.
func (a *AuthClient) lockPKCE(ctx context.Context) (func(), error) {
	select {
	case a.pkce.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("supabase: waiting for the PKCE code verifier: %w", ctx.Err())
	}
	return func() { <-a.pkce.sem }, nil
}

func (a *AuthClient) verifierStore() CodeVerifierStore {
	vs, _ := a.sessions.store.(CodeVerifierStore)
	return vs
}

// Verifier access; the caller holds the slot.
func (a *AuthClient) saveVerifierLocked(ctx context.Context, v string) error {
	if vs := a.verifierStore(); vs != nil {
		return vs.SaveCodeVerifier(ctx, v)
	}
	a.pkce.verifier = v
	return nil
}

func (a *AuthClient) loadVerifierLocked(ctx context.Context) (string, error) {
	if vs := a.verifierStore(); vs != nil {
		return vs.LoadCodeVerifier(ctx)
	}
	return a.pkce.verifier, nil
}

// dropVerifierLocked deletes the kept verifier if it is still v: a flow
// started meanwhile keeps its own.
func (a *AuthClient) dropVerifierLocked(ctx context.Context, v string) error {
	cur, err := a.loadVerifierLocked(ctx)
	if err != nil || cur != v {
		return err
	}
	if vs := a.verifierStore(); vs != nil {
		return vs.DeleteCodeVerifier(ctx)
	}
	a.pkce.verifier = ""
	return nil
}

// pkceFlow is the PKCE part of a request that may start a flow: the
// challenge fields, sent as null in the implicit flow as supabase-js sends
// them.
type pkceFlow struct {
	CodeChallenge       *string `json:"code_challenge"`
	CodeChallengeMethod *string `json:"code_challenge_method"`
	// stored is the verifier kept for this flow ("" in the implicit flow).
	stored string
}

// startFlow starts a PKCE flow when the client uses FlowPKCE: a new
// verifier is kept (with recoverySuffix for a password recovery) and its
// challenge returned. In the implicit flow it returns the null fields.
// Call endFlow with the outcome of the request that carried it.
func (a *AuthClient) startFlow(ctx context.Context, recovery bool) (*pkceFlow, error) {
	f := &pkceFlow{}
	if a.co.flow != FlowPKCE {
		return f, nil
	}
	v := newCodeVerifier()
	f.stored = v
	if recovery {
		f.stored += recoverySuffix
	}
	unlock, err := a.lockPKCE(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := a.saveVerifierLocked(ctx, f.stored); err != nil {
		return nil, fmt.Errorf("supabase: keeping the PKCE code verifier: %w", err)
	}
	ch, m := codeChallenge(v), codeChallengeMethod
	f.CodeChallenge, f.CodeChallengeMethod = &ch, &m
	return f, nil
}

// endFlow drops the flow's verifier when its request failed for good (see
// flowSpent): no email was sent, no redirect will bring a code. After a
// failure that may not be final (network, 5xx) it is kept, since the
// server may have sent the email all the same.
func (a *AuthClient) endFlow(ctx context.Context, f *pkceFlow, err error) {
	if f == nil || f.stored == "" || !flowSpent(err) {
		return
	}
	// Detached from ctx: the caller's request failing must not leave a
	// dead verifier behind because its ctx ended too.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.co.session.refreshTimeout)
	defer cancel()
	unlock, lerr := a.lockPKCE(dctx)
	if lerr != nil {
		return
	}
	defer unlock()
	if derr := a.dropVerifierLocked(dctx, f.stored); derr != nil {
		a.co.logger.LogAttrs(ctx, slog.LevelError, "supabase: dropping the PKCE code verifier of a refused flow failed", slog.Any("error", derr))
	}
}

// flowSpent reports whether err says the server answered a PKCE request for
// good: a 2xx (the code was used, whatever the body) or a 4xx other than
// 408 and 429 (the request or code was refused). Network errors, 5xx, 408
// and 429 say nothing final.
func flowSpent(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch {
	case e.Status >= 200 && e.Status < 300:
		return true
	case e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests:
		return false
	}
	return e.Status >= 400 && e.Status < 500
}

type pkceGrantBody struct {
	AuthCode     string `json:"auth_code"`
	CodeVerifier string `json:"code_verifier"`
}

// ExchangeCodeForSession completes a PKCE flow (see FlowPKCE): it trades
// authCode, the code parameter of the redirect or email link, together
// with the kept code verifier for a session (POST /token?grant_type=pkce)
// and signs the user in, emitting SIGNED_IN, or PASSWORD_RECOVERY with
// RedirectType "recovery" for a flow started by ResetPasswordForEmail.
// supabase-js: exchangeCodeForSession.
//
// Without a kept verifier it fails with ErrCodeVerifierMissing before any
// request. The verifier is single-use: it is deleted once the server has
// answered (success or refusal), so a second exchange fails the same way;
// after a network error or a 5xx it is kept for another try. Concurrent
// exchanges on one client run one at a time.
func (a *AuthClient) ExchangeCodeForSession(ctx context.Context, authCode string) (*AuthResponse, error) {
	if err := a.unavailable(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(authCode) == "" {
		return nil, invalidArg("ExchangeCodeForSession: empty auth code")
	}
	unlock, err := a.lockPKCE(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	stored, err := a.loadVerifierLocked(ctx)
	if err != nil {
		return nil, fmt.Errorf("supabase: reading the PKCE code verifier: %w", err)
	}
	verifier, redirectType, _ := strings.Cut(stored, "/")
	if verifier == "" {
		return nil, &argError{msg: "ExchangeCodeForSession: no PKCE code verifier is kept (no flow was started with this client's store, or its code was already exchanged)",
			also: ErrCodeVerifierMissing}
	}
	resp, err := a.authCall(ctx, http.MethodPost, "/token", url.Values{"grant_type": {"pkce"}},
		pkceGrantBody{AuthCode: authCode, CodeVerifier: verifier}, keyBearer)
	if err != nil {
		if flowSpent(err) {
			err = errors.Join(err, a.dropVerifier(ctx, stored))
		}
		return nil, err
	}
	// The code is spent whatever the body says.
	dropErr := a.dropVerifier(ctx, stored)
	s, err := a.sessions.decodeSession(resp.body)
	if err != nil {
		return nil, errors.Join(err, dropErr)
	}
	event := EventSignedIn
	if redirectType == "recovery" {
		event = EventPasswordRecovery
	}
	keepWeakPassword(s)
	res := &AuthResponse{User: s.User, Session: s, WeakPassword: s.WeakPassword, RedirectType: redirectType}
	return res, errors.Join(a.sessions.set(ctx, s, event), dropErr)
}

// dropVerifier deletes the verifier stored, the caller holding the slot;
// detached from ctx, the server having answered already.
func (a *AuthClient) dropVerifier(ctx context.Context, stored string) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.co.session.refreshTimeout)
	defer cancel()
	if err := a.dropVerifierLocked(dctx, stored); err != nil {
		return fmt.Errorf("supabase: deleting the used PKCE code verifier: %w", err)
	}
	return nil
}
