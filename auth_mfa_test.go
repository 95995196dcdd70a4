package supabase

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	axTOTPFactorID  = "f1a2b3c4-d5e6-4f7a-8b9c-0d1e2f3a4b5c"
	axPhoneFactorID = "a9b8c7d6-e5f4-4a3b-9c2d-1e0f9a8b7c6d"
)

func TestMFAEnrollTOTP(t *testing.T) {
	// mfa_enroll_totp
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/factors", 200, axTestdata(t, "mfa_enroll_totp.json"))
	c := f.client(t, axAnonKey)
	s := axSignInAda(t, f, c, "session_password.json")

	got, err := c.Auth.MFA().Enroll(context.Background(), MFAEnrollParams{
		FactorType: FactorTypeTOTP, FriendlyName: "Work phone", Issuer: "Example App",
	})
	require.NoError(t, err)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/factors", key: axAnonKey, bearer: s.AccessToken,
		body: `{"friendly_name":"Work phone","factor_type":"totp","issuer":"Example App"}`,
	})
	assert.Equal(t, &MFAEnrollResponse{
		ID: axTOTPFactorID, Type: "totp", FriendlyName: "Work phone",
		TOTP: &TOTPEnrollment{
			QRCode: `data:image/svg+xml;utf-8,<svg xmlns="http://www.w3.org/2000/svg"></svg>`,
			Secret: "JBSWY3DPEHPK3PXP",
			URI:    "otpauth://totp/Example%20App:ada@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example%20App",
		},
	}, got)

	// Optional fields are left out.
	_, err = c.Auth.MFA().Enroll(context.Background(), MFAEnrollParams{FactorType: FactorTypeTOTP})
	require.NoError(t, err)
	assert.JSONEq(t, `{"factor_type":"totp"}`, string(f.last().Body))
}

func TestMFAEnrollPhone(t *testing.T) {
	// mfa_enroll_phone
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/factors", 200, axTestdata(t, "mfa_enroll_phone.json"))
	c := f.client(t, axAnonKey)
	s := axSignInAda(t, f, c, "session_password.json")

	got, err := c.Auth.MFA().Enroll(context.Background(), MFAEnrollParams{
		FactorType: FactorTypePhone, FriendlyName: "SMS", Phone: "+64211234567",
	})
	require.NoError(t, err)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/factors", key: axAnonKey, bearer: s.AccessToken,
		body: `{"friendly_name":"SMS","factor_type":"phone","phone":"+64211234567"}`,
	})
	assert.Equal(t, &MFAEnrollResponse{ID: axPhoneFactorID, Type: "phone", FriendlyName: "SMS", Phone: "64211234567"}, got)
}

func TestMFANeedsSessionAndValidInput(t *testing.T) {
	f, _ := newFakeAPI(t, nil)
	c := f.client(t, axAnonKey)
	ctx := context.Background()
	m := c.Auth.MFA()

	_, err := m.Enroll(ctx, MFAEnrollParams{FactorType: FactorTypeTOTP})
	assert.ErrorIs(t, err, ErrSessionMissing)
	_, err = m.Challenge(ctx, axTOTPFactorID)
	assert.ErrorIs(t, err, ErrSessionMissing)
	_, err = m.Verify(ctx, axTOTPFactorID, "c0ffee00-1234-4abc-8def-0123456789ab", "123456")
	assert.ErrorIs(t, err, ErrSessionMissing)
	_, err = m.ChallengeAndVerify(ctx, axTOTPFactorID, "123456")
	assert.ErrorIs(t, err, ErrSessionMissing)
	assert.ErrorIs(t, m.Unenroll(ctx, axTOTPFactorID), ErrSessionMissing)
	_, err = m.ListFactors(ctx)
	assert.ErrorIs(t, err, ErrSessionMissing)

	axSignInAda(t, f, c, "session_password.json")
	n := len(f.requests())
	_, err = m.Enroll(ctx, MFAEnrollParams{FactorType: "webauthn"})
	assert.Error(t, err)
	_, err = m.Enroll(ctx, MFAEnrollParams{FactorType: FactorTypePhone})
	assert.Error(t, err)
	// IDs go into the URL path: anything but a UUID is refused.
	for _, id := range []string{"", "../user", axTOTPFactorID + "/verify", "f1a2b3c4-d5e6-4f7a-8b9c-0d1e2f3a4b5"} {
		_, err = m.Challenge(ctx, id)
		assert.Error(t, err, id)
		_, err = m.Verify(ctx, id, "c", "1")
		assert.Error(t, err, id)
		assert.Error(t, m.Unenroll(ctx, id), id)
	}
	_, err = m.Verify(ctx, axTOTPFactorID, "", "1")
	assert.Error(t, err)
	_, err = m.ChallengeAndVerify(ctx, axTOTPFactorID, "")
	assert.Error(t, err)
	assert.Len(t, f.requests(), n, "nothing sent")
}

func TestMFAChallenge(t *testing.T) {
	// mfa_challenge. Divergence: supabase-js sends {"factorId": ...} as
	// the body; Auth reads only "channel", so an empty object is sent.
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/factors/"+axTOTPFactorID+"/challenge", 200, axTestdata(t, "mfa_challenge_totp.json"))
	c := f.client(t, axAnonKey)
	s := axSignInAda(t, f, c, "session_password.json")

	ch, err := c.Auth.MFA().Challenge(context.Background(), axTOTPFactorID)
	require.NoError(t, err)
	assert.Equal(t, &MFAChallenge{ID: "c0ffee00-1234-4abc-8def-0123456789ab", Type: "totp", ExpiresAt: 4102444800}, ch)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/factors/" + axTOTPFactorID + "/challenge",
		key: axAnonKey, bearer: s.AccessToken, body: `{}`,
	})
}

func TestMFAChallengePhoneChannel(t *testing.T) {
	// mfa_challenge_phone_channel (same divergence as TestMFAChallenge).
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/factors/"+axPhoneFactorID+"/challenge", 200, axTestdata(t, "mfa_challenge_phone.json"))
	c := f.client(t, axAnonKey)
	s := axSignInAda(t, f, c, "session_password.json")

	ch, err := c.Auth.MFA().Challenge(context.Background(), axPhoneFactorID, WithMFAChannel("whatsapp"))
	require.NoError(t, err)
	assert.Equal(t, "phone", ch.Type)
	assert.Equal(t, "c0ffee00-aaaa-4bbb-8ccc-0123456789ab", ch.ID)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/factors/" + axPhoneFactorID + "/challenge",
		key: axAnonKey, bearer: s.AccessToken, body: `{"channel":"whatsapp"}`,
	})
}

func TestMFAVerify(t *testing.T) {
	// mfa_verify and seq_mfa_verify_then_query
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/factors/"+axTOTPFactorID+"/verify", 200, axTestdata(t, "mfa_verify_session.json"))
	f.on("GET", "/auth/v1/reauthenticate", 200, []byte(`{}`))
	c := f.client(t, axAnonKey)
	s1 := axSignInAda(t, f, c, "session_password.json")
	ev := axWatchEvents(t, c)

	s2, err := c.Auth.MFA().Verify(context.Background(), axTOTPFactorID, "c0ffee00-1234-4abc-8def-0123456789ab", "123456")
	require.NoError(t, err)
	axAssertRequest(t, f.last(), axWant{
		method: "POST", path: "/auth/v1/factors/" + axTOTPFactorID + "/verify",
		key: axAnonKey, bearer: s1.AccessToken,
		body: `{"challenge_id":"c0ffee00-1234-4abc-8def-0123456789ab","code":"123456"}`,
	})
	assert.NotEqual(t, s1.AccessToken, s2.AccessToken)
	assert.Equal(t, "m4f4v3r1f13d", s2.RefreshToken)
	claims, err := s2.Claims()
	require.NoError(t, err)
	assert.Equal(t, AAL2, claims.AAL)
	assert.Equal(t, s2.AccessToken, ev.next(t, EventMFAChallengeVerified).AccessToken)

	cur, err := c.Auth.Session(context.Background())
	require.NoError(t, err)
	assert.Equal(t, s2.AccessToken, cur.AccessToken, "the aal2 session replaced the stored one")
	require.NoError(t, c.Auth.Reauthenticate(context.Background()))
	assert.Equal(t, "Bearer "+s2.AccessToken, f.last().Header.Get("Authorization"))

	aal, err := c.Auth.MFA().AuthenticatorAssuranceLevel(context.Background())
	require.NoError(t, err)
	assert.Equal(t, AAL2, aal.Current)
	assert.Equal(t, AAL2, aal.Next)
	assert.Equal(t, []AMREntry{{Method: "totp", Timestamp: 1767225060}, {Method: "password", Timestamp: 1767225000}},
		aal.CurrentAuthenticationMethods)
}

func TestMFAVerifyFailed(t *testing.T) {
	// auth_err_mfa_verification_failed
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/factors/"+axTOTPFactorID+"/verify", 422,
		[]byte(`{"code":"mfa_verification_failed","message":"Invalid TOTP code entered"}`))
	c := f.client(t, axAnonKey)
	s1 := axSignInAda(t, f, c, "session_password.json")
	ev := axWatchEvents(t, c)

	s, err := c.Auth.MFA().Verify(context.Background(), axTOTPFactorID, "c0ffee00-1234-4abc-8def-0123456789ab", "000000")
	assert.Nil(t, s)
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, 422, e.Status)
	assert.Equal(t, "mfa_verification_failed", e.Code)
	assert.Equal(t, "Invalid TOTP code entered", e.Message)
	ev.none(t)
	cur, err := c.Auth.Session(context.Background())
	require.NoError(t, err)
	assert.Equal(t, s1.AccessToken, cur.AccessToken, "the aal1 session is kept")
}

func TestMFAChallengeAndVerify(t *testing.T) {
	// mfa_challenge_and_verify
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/factors/"+axTOTPFactorID+"/challenge", 200,
		[]byte(`{"id":"c0ffee00-5678-4abc-8def-0123456789ab","type":"totp","expires_at":4102444800}`))
	f.on("POST", "/auth/v1/factors/"+axTOTPFactorID+"/verify", 200, axTestdata(t, "mfa_verify_session.json"))
	c := f.client(t, axAnonKey)
	s1 := axSignInAda(t, f, c, "session_password.json")
	ev := axWatchEvents(t, c)

	s2, err := c.Auth.MFA().ChallengeAndVerify(context.Background(), axTOTPFactorID, "987654")
	require.NoError(t, err)
	reqs := f.requests()
	require.Len(t, reqs, 3)
	axAssertRequest(t, reqs[1], axWant{
		method: "POST", path: "/auth/v1/factors/" + axTOTPFactorID + "/challenge",
		key: axAnonKey, bearer: s1.AccessToken, body: `{}`,
	})
	axAssertRequest(t, reqs[2], axWant{
		method: "POST", path: "/auth/v1/factors/" + axTOTPFactorID + "/verify",
		key: axAnonKey, bearer: s1.AccessToken,
		body: `{"challenge_id":"c0ffee00-5678-4abc-8def-0123456789ab","code":"987654"}`,
	})
	assert.Equal(t, s2.AccessToken, ev.next(t, EventMFAChallengeVerified).AccessToken)
}

func TestMFAChallengeAndVerifyChallengeFails(t *testing.T) {
	f, _ := newFakeAPI(t, nil)
	f.on("POST", "/auth/v1/factors/"+axTOTPFactorID+"/challenge", 404,
		[]byte(`{"code":"mfa_factor_not_found","message":"Factor not found"}`))
	c := f.client(t, axAnonKey)
	axSignInAda(t, f, c, "session_password.json")
	_, err := c.Auth.MFA().ChallengeAndVerify(context.Background(), axTOTPFactorID, "987654")
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Len(t, f.requests(), 2, "no verify after a failed challenge")
}

func TestMFAUnenroll(t *testing.T) {
	// mfa_unenroll. Divergence: supabase-js sends Content-Type on this
	// body-less DELETE; none is sent here.
	f, _ := newFakeAPI(t, nil)
	f.on("DELETE", "/auth/v1/factors/"+axPhoneFactorID, 200, []byte(`{"id":"`+axPhoneFactorID+`"}`))
	c := f.client(t, axAnonKey)
	s := axSignInAda(t, f, c, "session_password.json")
	require.NoError(t, c.Auth.MFA().Unenroll(context.Background(), axPhoneFactorID))
	axAssertRequest(t, f.last(), axWant{
		method: "DELETE", path: "/auth/v1/factors/" + axPhoneFactorID, key: axAnonKey, bearer: s.AccessToken,
	})
}

func TestMFAListFactors(t *testing.T) {
	// mfa_list_factors
	f, _ := newFakeAPI(t, nil)
	f.on("GET", "/auth/v1/user", 200, axTestdata(t, "user_with_factors.json"))
	c := f.client(t, axAnonKey)
	s := axSignInAda(t, f, c, "session_password.json")

	got, err := c.Auth.MFA().ListFactors(context.Background())
	require.NoError(t, err)
	axAssertRequest(t, f.last(), axWant{method: "GET", path: "/auth/v1/user", key: axAnonKey, bearer: s.AccessToken})
	require.Len(t, got.All, 2)
	assert.Equal(t, axTOTPFactorID, got.All[0].ID)
	assert.Equal(t, "Work phone", got.All[0].FriendlyName)
	assert.Equal(t, "verified", got.All[0].Status)
	assert.Equal(t, axPhoneFactorID, got.All[1].ID)
	assert.Equal(t, "64211234567", got.All[1].Phone)
	require.Len(t, got.TOTP, 1)
	assert.Equal(t, axTOTPFactorID, got.TOTP[0].ID)
	assert.Empty(t, got.Phone, "the phone factor is unverified")
	assert.NotNil(t, got.Phone)
	assert.Empty(t, got.WebAuthn)
}

func TestMFAAuthenticatorAssuranceLevel(t *testing.T) {
	// mfa_get_authenticator_assurance_level: no request.
	f, _ := newFakeAPI(t, nil)
	c := f.client(t, axAnonKey)
	m := c.Auth.MFA()

	aal, err := m.AuthenticatorAssuranceLevel(context.Background())
	require.NoError(t, err, "no session is not an error, as in supabase-js")
	assert.Equal(t, &AAL{CurrentAuthenticationMethods: []AMREntry{}}, aal)

	axSignInAda(t, f, c, "session_password.json")
	n := len(f.requests())
	aal, err = m.AuthenticatorAssuranceLevel(context.Background())
	require.NoError(t, err)
	assert.Equal(t, &AAL{Current: AAL1, Next: AAL1,
		CurrentAuthenticationMethods: []AMREntry{{Method: "password", Timestamp: 1767225000}}}, aal)

	// A user with a verified factor can reach aal2.
	axSignInAda(t, f, c, "session_with_factors.json")
	n++
	aal, err = m.AuthenticatorAssuranceLevel(context.Background())
	require.NoError(t, err)
	assert.Equal(t, AAL1, aal.Current)
	assert.Equal(t, AAL2, aal.Next)
	assert.Len(t, f.requests(), n, "no request")
}

func TestMFAAuthenticatorAssuranceLevelOf(t *testing.T) {
	f, _ := newFakeAPI(t, nil)
	f.on("GET", "/auth/v1/user", 200, axTestdata(t, "user_with_factors.json"))
	c := f.client(t, axAnonKey)
	var sess Session
	require.NoError(t, decodeJSON(axTestdata(t, "session_password.json"), &sess))

	aal, err := c.Auth.MFA().AuthenticatorAssuranceLevelOf(context.Background(), sess.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, AAL1, aal.Current)
	assert.Equal(t, AAL2, aal.Next)
	axAssertRequest(t, f.last(), axWant{method: "GET", path: "/auth/v1/user", key: axAnonKey, bearer: sess.AccessToken})

	_, err = c.Auth.MFA().AuthenticatorAssuranceLevelOf(context.Background(), "not-a-jwt")
	assert.ErrorIs(t, err, ErrMalformedToken)
	assert.Len(t, f.requests(), 1)
}
