package auth

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestIssueVerifyRoundTrip(t *testing.T) {
	key, _ := NewHMACKey([]byte(testSecret))
	ks, _ := NewKeySet(key)
	now := func() time.Time { return testNow }
	is, err := NewIssuer(ks, IssuerOptions{Issuer: "authgate", Audience: "api", TTL: time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	issued, err := is.Issue("1", map[string]any{"username": "alice", "roles": []any{"admin"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	tok := issued.Token
	if !issued.ExpiresAt.Equal(testNow.Add(time.Hour)) {
		t.Errorf("exp = %v, want %v", issued.ExpiresAt, testNow.Add(time.Hour))
	}
	v := newTestVerifier(t, VerifierOptions{Audience: "api"})
	id, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify(issued) = %v", err)
	}
	for _, name := range []string{"sub", "username", "iat", "exp", "nbf", "jti", "iss", "aud", "roles"} {
		if _, ok := id.Claims().Map()[name]; !ok {
			t.Errorf("issued token lacks %q: %v", name, id.Claims().Map())
		}
	}
	if id.Claims().Map()["sub"] != "1" || id.Claims().Map()["aud"] != "api" || id.Claims().Map()["iss"] != "authgate" {
		t.Errorf("claims = %v", id.Claims().Map())
	}
	if id.ID == "" || id.ID != issued.ID || id.Claims().Map()["jti"] != issued.ID {
		t.Errorf("Identity.ID = %q, jti claim %v, Issue returned %q", id.ID, id.Claims().Map()["jti"], issued.ID)
	}
	if id.Issuer != "authgate" || id.SessionID != "" {
		t.Errorf("Identity.Issuer = %q, SessionID = %q; want authgate and none", id.Issuer, id.SessionID)
	}
	if iat := id.Claims().Map()["iat"].(json.Number).String(); iat != "1795694400" {
		t.Errorf("iat = %s", iat)
	}
	header, _ := b64.DecodeString(strings.Split(tok, ".")[0])
	if string(header) != `{"alg":"HS256","typ":"JWT"}` {
		t.Errorf("header = %s, want no kid for a bare secret", header)
	}

	issued2, _ := is.Issue("1", nil, 0)
	id2, _ := v.Verify(context.Background(), issued2.Token)
	if id2.ID == id.ID {
		t.Error("two tokens share a jti")
	}
}

func TestIssueRefusesReservedClaims(t *testing.T) {
	key, _ := NewHMACKey([]byte(testSecret))
	ks, _ := NewKeySet(key)
	is, _ := NewIssuer(ks, IssuerOptions{Issuer: "authgate", TTL: time.Hour})
	for _, name := range []string{"sub", "iss", "exp", "nbf", "iat", "jti", "aud", "sid"} {
		if _, err := is.Issue("1", map[string]any{name: "x"}, 0); err == nil {
			t.Errorf("Issue with claim %q succeeded", name)
		}
	}
	if _, err := is.Issue("", nil, 0); err == nil {
		t.Error("Issue with an empty subject succeeded")
	}
}

func TestNoSigningKey(t *testing.T) {
	ks, _ := NewKeySet(nil)
	if _, err := NewIssuer(ks, IssuerOptions{Issuer: "authgate", TTL: time.Hour}); err == nil || !strings.Contains(err.Error(), "AUTHGATE_JWT_SECRET") {
		t.Errorf("NewIssuer without a key = %v, want an error naming the variables to set", err)
	}
	if _, err := NewVerifier(ks, VerifierOptions{Issuer: "authgate"}); err == nil {
		t.Error("NewVerifier without keys succeeded")
	}
	if got := string(ks.PublicJWKS()); got != "{\"keys\":[]}\n" {
		t.Errorf("PublicJWKS = %q", got)
	}
}

func TestIssueInSession(t *testing.T) {
	key, _ := NewHMACKey([]byte(testSecret))
	ks, _ := NewKeySet(key)
	is, _ := NewIssuer(ks, IssuerOptions{Issuer: "authgate", TTL: time.Hour, Now: func() time.Time { return testNow }})
	issued, err := is.IssueInSession("s-1", "1", map[string]any{"username": "alice"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	id, err := newTestVerifier(t, VerifierOptions{}).Verify(context.Background(), issued.Token)
	if err != nil || id.SessionID != "s-1" || id.ID != issued.ID || !issued.IssuedAt.Equal(testNow) {
		t.Errorf("a session token: %+v, %v (issued %+v)", id, err, issued)
	}
	if _, err := is.IssueInSession("", "1", nil, 0); err == nil {
		t.Error("IssueInSession without a session id succeeded")
	}
}
