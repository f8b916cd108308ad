package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

const testSecret = "0123456789abcdef0123456789abcdef-test-secret"

// testNow is the verifier's clock in these tests.
var testNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func newTestVerifier(t testing.TB, o VerifierOptions) *Verifier {
	t.Helper()
	key, err := NewHMACKey([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	if o.Issuer == "" {
		o.Issuer = "authgate"
	}
	if o.Now == nil {
		o.Now = func() time.Time { return testNow }
	}
	if o.Leeway == 0 {
		o.Leeway = 30 * time.Second
	}
	v, err := NewVerifier(ks, o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var b64 = base64.RawURLEncoding

// hs256 signs header and payload, given as raw JSON text so that tests can
// write duplicate or odd members, with secret.
func hs256(header, payload, secret string) string {
	signing := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + b64.EncodeToString(mac.Sum(nil))
}

const stdHeader = `{"alg":"HS256","typ":"JWT"}`

// claimsAt returns a valid payload with extra members appended.
func claimsAt(now time.Time, extra string) string {
	s := fmt.Sprintf(`{"sub":"alice","iss":"authgate","iat":%d,"nbf":%d,"exp":%d`, now.Unix(), now.Unix(), now.Add(time.Hour).Unix())
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

type verifyCase struct {
	name   string
	token  string
	reason string // "" for a valid token
	kind   error
	sub    string
}

func verifyCases() []verifyCase {
	now := testNow.Unix()
	valid := hs256(stdHeader, claimsAt(testNow, ""), testSecret)
	parts := strings.Split(valid, ".")
	tampered := parts[0] + "." + parts[1] + "." + b64.EncodeToString([]byte("not the signature at all, 32 by"))
	flipped := []byte(parts[1])
	flipped[3] ^= 1
	payloadTampered := parts[0] + "." + string(flipped) + "." + parts[2]
	body := func(s string) string { return hs256(stdHeader, s, testSecret) }
	return []verifyCase{
		{name: "valid", token: valid, sub: "alice"},
		{name: "valid at+jwt typ", token: hs256(`{"alg":"HS256","typ":"application/AT+JWT"}`, claimsAt(testNow, ""), testSecret), sub: "alice"},
		{name: "valid without typ", token: hs256(`{"alg":"HS256"}`, claimsAt(testNow, ""), testSecret), sub: "alice"},
		{name: "valid within leeway after exp", token: body(fmt.Sprintf(`{"sub":"alice","iss":"authgate","exp":%d}`, now-20)), sub: "alice"},
		{name: "valid aud array when no audience is required", token: body(claimsAt(testNow, `"aud":["x","y"]`)), sub: "alice"},
		{name: "empty", token: "", reason: ReasonMalformed, kind: ErrInvalidToken},
		{name: "two segments", token: parts[0] + "." + parts[1], reason: ReasonMalformed, kind: ErrInvalidToken},
		{name: "four segments", token: valid + ".x", reason: ReasonMalformed, kind: ErrInvalidToken},
		{name: "padded base64", token: parts[0] + "=." + parts[1] + "." + parts[2], reason: ReasonMalformed, kind: ErrInvalidToken},
		{name: "header not JSON", token: b64.EncodeToString([]byte("nope")) + "." + parts[1] + "." + parts[2], reason: ReasonMalformed, kind: ErrInvalidToken},
		{name: "too large", token: hs256(stdHeader, claimsAt(testNow, `"pad":"`+strings.Repeat("a", MaxTokenBytes)+`"`), testSecret), reason: ReasonMalformed, kind: ErrInvalidToken},
		{name: "expired", token: body(fmt.Sprintf(`{"sub":"alice","iss":"authgate","exp":%d}`, now-31)), reason: ReasonExpired, kind: ErrTokenExpired},
		{name: "expired and wrong issuer is invalid, not expired", token: body(fmt.Sprintf(`{"sub":"alice","iss":"evil","exp":%d}`, now-3600)), reason: ReasonBadIssuer, kind: ErrInvalidToken},
		{name: "no exp", token: body(`{"sub":"alice","iss":"authgate"}`), reason: ReasonBadClaims, kind: ErrInvalidToken},
		{name: "nbf in the future", token: body(fmt.Sprintf(`{"sub":"alice","iss":"authgate","nbf":%d,"exp":%d}`, now+60, now+3600)), reason: ReasonNotYetValid, kind: ErrInvalidToken},
		{name: "iat in the future", token: body(fmt.Sprintf(`{"sub":"alice","iss":"authgate","iat":%d,"exp":%d}`, now+60, now+3600)), reason: ReasonNotYetValid, kind: ErrInvalidToken},
		{name: "wrong issuer", token: body(strings.Replace(claimsAt(testNow, ""), `"iss":"authgate"`, `"iss":"evil"`, 1)), reason: ReasonBadIssuer, kind: ErrInvalidToken},
		{name: "no issuer", token: body(fmt.Sprintf(`{"sub":"alice","exp":%d}`, now+60)), reason: ReasonBadClaims, kind: ErrInvalidToken},
		{name: "alg none", token: b64.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".", reason: ReasonBadAlgorithm, kind: ErrInvalidToken},
		{name: "alg None", token: b64.EncodeToString([]byte(`{"alg":"None"}`)) + "." + parts[1] + ".", reason: ReasonBadAlgorithm, kind: ErrInvalidToken},
		{name: "HS512", token: hsOther(`{"alg":"HS512"}`, claimsAt(testNow, "")), reason: ReasonBadAlgorithm, kind: ErrInvalidToken},
		{name: "RS256 header over an HMAC signature", token: hs256(`{"alg":"RS256"}`, claimsAt(testNow, ""), testSecret), reason: ReasonBadAlgorithm, kind: ErrInvalidToken},
		{name: "no alg", token: hs256(`{"typ":"JWT"}`, claimsAt(testNow, ""), testSecret), reason: ReasonBadAlgorithm, kind: ErrInvalidToken},
		{name: "tampered signature", token: tampered, reason: ReasonBadSignature, kind: ErrInvalidToken},
		{name: "tampered payload", token: payloadTampered, kind: ErrInvalidToken},
		{name: "wrong secret", token: hs256(stdHeader, claimsAt(testNow, ""), testSecret+"x"), reason: ReasonBadSignature, kind: ErrInvalidToken},
		{name: "regression: duplicate sub, last would win", token: body(claimsAt(testNow, `"sub":"admin"`)), reason: ReasonMalformed, kind: ErrInvalidToken},
		{name: "regression: escaped duplicate sub", token: body(claimsAt(testNow, `"s\u0075b":"admin"`)), reason: ReasonMalformed, kind: ErrInvalidToken},
		{name: "regression: case-variant SUB is another claim", token: body(claimsAt(testNow, `"SUB":"admin"`)), sub: "alice"},
		{name: "regression: a blank sub", token: body(fmt.Sprintf(`{"sub":"   ","iss":"authgate","exp":%d}`, now+60)), reason: ReasonBadClaims, kind: ErrInvalidToken},
		{name: "a sub with a trailing space", token: body(fmt.Sprintf(`{"sub":"alice ","iss":"authgate","exp":%d}`, now+60)), reason: ReasonBadClaims, kind: ErrInvalidToken},
		{name: "a sub with a tab inside", token: body(fmt.Sprintf(`{"sub":"al\tice","iss":"authgate","exp":%d}`, now+60)), reason: ReasonBadClaims, kind: ErrInvalidToken},
		{name: "a sub with a newline", token: body(fmt.Sprintf(`{"sub":"alice\nX-Auth-User: admin","iss":"authgate","exp":%d}`, now+60)), reason: ReasonBadClaims, kind: ErrInvalidToken},
		{name: "a sub with a space inside is fine", token: body(fmt.Sprintf(`{"sub":"alice smith","iss":"authgate","exp":%d}`, now+60)), sub: "alice smith"},
		{name: "regression: only SUB is no sub", token: body(fmt.Sprintf(`{"SUB":"admin","iss":"authgate","exp":%d}`, now+60)), reason: ReasonBadClaims, kind: ErrInvalidToken},
		{name: "duplicate nested member", token: body(claimsAt(testNow, `"o":{"a":1,"a":2}`)), reason: ReasonMalformed, kind: ErrInvalidToken},
		{name: "duplicate header member", token: hs256(`{"alg":"HS256","alg":"none"}`, claimsAt(testNow, ""), testSecret), reason: ReasonMalformed, kind: ErrInvalidToken},
		{name: "regression: header members that differ only in case", token: hs256(`{"alg":"HS256","ALG":"none"}`, claimsAt(testNow, ""), testSecret), reason: ReasonMalformed, kind: ErrInvalidToken},
		{name: "a case variant of kid", token: hs256(`{"alg":"HS256","Kid":"x"}`, claimsAt(testNow, ""), testSecret), sub: "alice"},
		{name: "kid and KID", token: hs256(`{"alg":"HS256","kid":"a","KID":"b"}`, claimsAt(testNow, ""), testSecret), reason: ReasonMalformed, kind: ErrInvalidToken},
		{name: "typ JOSE", token: hs256(`{"alg":"HS256","typ":"JOSE"}`, claimsAt(testNow, ""), testSecret), reason: ReasonMalformed, kind: ErrInvalidToken},
		{name: "crit", token: hs256(`{"alg":"HS256","crit":["exp"],"exp":1}`, claimsAt(testNow, ""), testSecret), reason: ReasonMalformed, kind: ErrInvalidToken},
		{name: "unknown kid", token: hs256(`{"alg":"HS256","kid":"other"}`, claimsAt(testNow, ""), testSecret), reason: ReasonUnknownKey, kind: ErrInvalidToken},
		{name: "numeric kid", token: hs256(`{"alg":"HS256","kid":7}`, claimsAt(testNow, ""), testSecret), reason: ReasonMalformed, kind: ErrInvalidToken},
		{name: "embedded jwk header is ignored, not trusted", token: hs256(`{"alg":"HS256","jwk":{"kty":"oct","k":"YQ"}}`, claimsAt(testNow, ""), "a"), reason: ReasonBadSignature, kind: ErrInvalidToken},
		{name: "exp as string", token: body(fmt.Sprintf(`{"sub":"alice","iss":"authgate","exp":"%d"}`, now+60)), reason: ReasonBadClaims, kind: ErrInvalidToken},
		{name: "exp 1e19", token: body(`{"sub":"alice","iss":"authgate","exp":1e19}`), reason: ReasonBadClaims, kind: ErrInvalidToken},
		{name: "negative nbf", token: body(fmt.Sprintf(`{"sub":"alice","iss":"authgate","nbf":-1,"exp":%d}`, now+60)), reason: ReasonBadClaims, kind: ErrInvalidToken},
		{name: "sub number", token: body(fmt.Sprintf(`{"sub":1,"iss":"authgate","exp":%d}`, now+60)), reason: ReasonBadClaims, kind: ErrInvalidToken},
		{name: "sub empty", token: body(fmt.Sprintf(`{"sub":"","iss":"authgate","exp":%d}`, now+60)), reason: ReasonBadClaims, kind: ErrInvalidToken},
		{name: "payload array", token: body(`["sub"]`), reason: ReasonMalformed, kind: ErrInvalidToken},
		{name: "aud not strings", token: body(claimsAt(testNow, `"aud":[1]`)), reason: ReasonBadClaims, kind: ErrInvalidToken},
	}
}

// hsOther signs with HMAC-SHA512 under the test secret.
func hsOther(header, payload string) string {
	signing := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
	return signing + "." + b64.EncodeToString(make([]byte, 64))
}

func TestVerify(t *testing.T) {
	v := newTestVerifier(t, VerifierOptions{})
	for _, tt := range verifyCases() {
		t.Run(tt.name, func(t *testing.T) {
			id, err := v.Verify(context.Background(), tt.token)
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want success", err)
				}
				if id.Subject != tt.sub {
					t.Errorf("Subject = %q, want %q", id.Subject, tt.sub)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify succeeded with subject %q, want %v", id.Subject, tt.kind)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("Verify = %v, want errors.Is %v", err, tt.kind)
			}
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("Verify = %T, want *TokenError", err)
			}
			if tt.reason != "" && te.Reason != tt.reason {
				t.Errorf("reason = %q, want %q (%v)", te.Reason, tt.reason, err)
			}
			if id.Subject != "" || id.Claims().Len() != 0 {
				t.Errorf("a refused token returned identity %+v", id)
			}
		})
	}
}

func TestVerifyAudience(t *testing.T) {
	v := newTestVerifier(t, VerifierOptions{Audience: "api"})
	tests := []struct {
		name  string
		extra string
		ok    bool
	}{
		{"string", `"aud":"api"`, true},
		{"array any-of", `"aud":["other","api"]`, true},
		{"wrong", `"aud":"other"`, false},
		{"missing", ``, false},
		{"empty array", `"aud":[]`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), hs256(stdHeader, claimsAt(testNow, tt.extra), testSecret))
			if (err == nil) != tt.ok {
				t.Fatalf("Verify(aud %s) = %v, want ok=%v", tt.extra, err, tt.ok)
			}
		})
	}
}

func TestIdentityClaim(t *testing.T) {
	v := newTestVerifier(t, VerifierOptions{})
	tok := hs256(stdHeader, claimsAt(testNow, `"realm_access":{"roles":["admin"]},"a.b":"dotted","n":12345678901234567890,"kubernetes.io":{"namespace":"prod"}`), testSecret)
	id, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := id.Claim("realm_access.roles"); !ok || fmt.Sprint(got) != "[admin]" {
		t.Errorf(`Claim("realm_access.roles") = %v, %v`, got, ok)
	}
	if got, _ := id.Claim("a.b"); got != "dotted" {
		t.Errorf(`Claim("a.b") = %v, want "dotted"`, got)
	}
	if got, _ := id.Claim("n"); fmt.Sprint(got) != "12345678901234567890" {
		t.Errorf(`Claim("n") = %v: large numbers must keep their digits`, got)
	}
	if got, _ := id.Claim("kubernetes.io.namespace"); got != "prod" {
		t.Errorf(`Claim("kubernetes.io.namespace") = %v, want "prod"`, got)
	}
	if _, ok := id.Claim("realm_access.missing"); ok {
		t.Error(`Claim("realm_access.missing") found something`)
	}
	if !id.IssuedAt.Equal(testNow) || !id.ExpiresAt.Equal(testNow.Add(time.Hour)) {
		t.Errorf("times = %v, %v", id.IssuedAt, id.ExpiresAt)
	}
}

func TestShortSecretRefused(t *testing.T) {
	if _, err := NewHMACKey([]byte(strings.Repeat("x", MinSecretBytes-1))); err == nil {
		t.Fatal("NewHMACKey accepted a 31-byte secret")
	}
	if _, err := NewHMACKey([]byte(strings.Repeat("x", MinSecretBytes))); err != nil {
		t.Fatalf("NewHMACKey(32 bytes) = %v", err)
	}
}

func FuzzVerify(f *testing.F) {
	for _, tt := range verifyCases() {
		f.Add(tt.token)
	}
	v := newTestVerifier(f, VerifierOptions{})
	f.Fuzz(func(t *testing.T, token string) {
		id, err := v.Verify(context.Background(), token)
		if err == nil && id.Subject == "" {
			t.Fatalf("Verify(%q) succeeded with an empty subject", token)
		}
		if err != nil && !errors.Is(err, ErrInvalidToken) && !errors.Is(err, ErrTokenExpired) {
			t.Fatalf("Verify(%q) = %v, not one of the sentinels", token, err)
		}
	})
}

func BenchmarkVerifyHS256(b *testing.B) { benchVerifyHS256(b, VerifierOptions{}) }

// benchVerifyHS256 measures verifying one HS256 token again and again.
func benchVerifyHS256(b *testing.B, o VerifierOptions) {
	v := newTestVerifier(b, o)
	tok := hs256(stdHeader, claimsAt(testNow, `"username":"alice","roles":["admin","user"],"jti":"abc"`), testSecret)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// benchVerify measures verifying a token signed by one of the test keys.
func benchVerify(b *testing.B, keyName, alg string) {
	k, err := newSigningKey(newTestKeys(b)[keyName], alg)
	if err != nil {
		b.Fatal(err)
	}
	ks, _ := NewKeySet(k)
	is, _ := NewIssuer(ks, IssuerOptions{Issuer: "authgate", TTL: time.Hour})
	issued, _ := is.Issue("1", map[string]any{"username": "alice", "roles": []any{"admin", "user"}}, 0)
	tok := issued.Token
	v, _ := NewVerifier(ks, VerifierOptions{Issuer: "authgate"})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRS256(b *testing.B) { benchVerify(b, "rsa", "RS256") }
func BenchmarkVerifyPS256(b *testing.B) { benchVerify(b, "rsa", "PS256") }
func BenchmarkVerifyES256(b *testing.B) { benchVerify(b, "p256", "ES256") }
func BenchmarkVerifyES384(b *testing.B) { benchVerify(b, "p384", "ES384") }
func BenchmarkVerifyEdDSA(b *testing.B) { benchVerify(b, "ed25519", "EdDSA") }

// TestIdentityNamesTheToken checks the fields revocation keys on: the jti,
// the issuer and the session id, read from the verified claims only.
func TestIdentityNamesTheToken(t *testing.T) {
	v := newTestVerifier(t, VerifierOptions{})
	tests := []struct {
		name, extra string
		id, sid     string
		reason      string
	}{
		{name: "jti and sid", extra: `"jti":"j-1","sid":"s-1"`, id: "j-1", sid: "s-1"},
		{name: "neither", extra: "", id: "", sid: ""},
		{name: "a sid that is not a string is no session", extra: `"jti":"j-2","sid":7`, id: "j-2", sid: ""},
		{name: "a jti that is not a string is invalid", extra: `"jti":7`, reason: ReasonBadClaims},
	}
	for _, tt := range tests {
		got, err := v.Verify(context.Background(), hs256(stdHeader, claimsAt(testNow, tt.extra), testSecret))
		if tt.reason != "" {
			var te *TokenError
			if !errors.As(err, &te) || te.Reason != tt.reason {
				t.Errorf("%s: Verify = %v, want reason %s", tt.name, err, tt.reason)
			}
			continue
		}
		if err != nil || got.ID != tt.id || got.SessionID != tt.sid || got.Issuer != "authgate" {
			t.Errorf("%s: Verify = {ID %q, SessionID %q, Issuer %q}, %v; want {%q, %q, authgate}", tt.name, got.ID, got.SessionID, got.Issuer, err, tt.id, tt.sid)
		}
	}
}
