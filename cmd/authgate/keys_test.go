package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/auth"
)

// TestServeWithPrivateKey: an Ed25519 key signs logins and `authgate token`,
// the JWKS endpoint and `authgate jwks` publish its public half, and the kid
// in the tokens is the published one.
func TestServeWithPrivateKey(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ed)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	usersFile := filepath.Join(dir, "users.yaml")
	hash := auth.HashArgon2id("pw", auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	os.WriteFile(usersFile, []byte("users:\n  - username: bob\n    id: \"7\"\n    password: "+hash+"\n"), 0o600)
	env := []string{"AUTHGATE_JWT_PRIVATE_KEY_FILE=" + keyFile, "AUTHGATE_USERS_FILE=" + usersFile}

	in := start(t, nil, env...)
	code, body := call(t, "POST", in.addr+"/login", "", "application/json", `{"username":"bob","password":"pw"}`)
	if code != 200 {
		t.Fatalf("login = %d %s", code, body)
	}
	var login struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal([]byte(body), &login)

	code, jwks := call(t, "GET", in.addr+"/.well-known/jwks.json", "", "", "")
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal([]byte(jwks), &set); code != 200 || err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS = %d %s", code, jwks)
	}
	published := set.Keys[0]
	if published["kty"] != "OKP" || published["crv"] != "Ed25519" || published["alg"] != "EdDSA" || published["use"] != "sig" || published["d"] != "" {
		t.Errorf("published key %v", published)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"jwks"}, env, nil, &out, io.Discard); err != nil || out.String() != jwks {
		t.Errorf("authgate jwks = %q, %v; the endpoint serves %q", out.String(), err, jwks)
	}
	out.Reset()
	if err := run(context.Background(), []string{"token", "--sub", "cli"}, env, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{login.AccessToken, strings.TrimSpace(out.String())} {
		header, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		if !strings.Contains(string(header), `"kid":"`+published["kid"]+`"`) || !strings.Contains(string(header), `"alg":"EdDSA"`) {
			t.Errorf("token header %s, want the published kid", header)
		}
		if code, body := call(t, "GET", in.addr+"/me", "Bearer "+tok, "", ""); code != 200 {
			t.Errorf("GET /me = %d %s", code, body)
		}
	}
}

// TestTrustedIssuerOnly runs authgate with an external issuer and no key of
// its own: readiness waits for the issuer's keys, /login is 404, `authgate
// token` explains, forward-auth accepts the issuer's tokens, and metrics
// report the key set.
// testIdP is an OIDC identity provider on loopback: discovery and a JWKS
// with one ES256 key, answering 503 until up is set.
type testIdP struct {
	URL  string
	up   atomic.Bool
	key  *ecdsa.PrivateKey
	kid  string
	http *httptest.Server
}

func newTestIdP(t *testing.T) *testIdP {
	t.Helper()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := ec.PublicKey.Bytes()
	p := &testIdP{key: ec, kid: "idp-key-1"}
	jwks, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "kid": p.kid, "use": "sig",
		"x": base64.RawURLEncoding.EncodeToString(pub[1:33]), "y": base64.RawURLEncoding.EncodeToString(pub[33:]),
	}}})
	p.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.up.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": p.URL, "jwks_uri": p.URL + "/keys"})
		case "/keys":
			w.Write(jwks)
		}
	}))
	p.URL = p.http.URL
	t.Cleanup(p.http.Close)
	return p
}

// mint signs a token of the IdP for sub, valid for a minute.
func (p *testIdP) mint(sub string) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": p.URL, "sub": sub, "preferred_username": "svc", "exp": time.Now().Add(time.Minute).Unix(),
	})
	tok.Header["kid"] = p.kid
	signed, _ := tok.SignedString(p.key)
	return signed
}

func TestTrustedIssuerOnly(t *testing.T) {
	idp := newTestIdP(t)
	up := &idp.up
	env := []string{"AUTHGATE_TRUSTED_ISSUERS=" + idp.URL, "AUTHGATE_JWKS_MIN_REFRESH_INTERVAL=1s", "AUTHGATE_JWKS_REFRESH_INTERVAL=1s"}

	in := start(t, nil, env...)
	if code, body := call(t, "GET", in.admin+"/readyz", "", "", ""); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before the issuer's keys = %d %s, want 503", code, body)
	}
	if code, body := call(t, "POST", in.addr+"/login", "", "application/json", `{"username":"a","password":"b"}`); code != 404 {
		t.Errorf("/login without a signing key = %d %s, want 404", code, body)
	}
	err := run(context.Background(), []string{"token", "--sub", "x"}, env, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "cannot mint") || !strings.Contains(err.Error(), "AUTHGATE_TRUSTED_ISSUERS") {
		t.Errorf("authgate token = %v", err)
	}
	up.Store(true)
	waitReady(t, in)

	signed := idp.mint("svc-1")
	req, _ := http.NewRequest("GET", in.addr+"/auth/api/x", nil)
	req.Header.Set("Authorization", "Bearer "+signed)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Auth-Subject") != "svc-1" {
		t.Errorf("forward-auth with the issuer's token = %d %v", resp.StatusCode, resp.Header)
	}
	if code, _ := call(t, "GET", in.addr+"/auth/api/x", "Bearer "+signed[:len(signed)-2]+"AA", "", ""); code != 401 {
		t.Errorf("a tampered token = %d, want 401", code)
	}
	_, metrics := call(t, "GET", in.admin+"/metrics", "", "", "")
	for _, want := range []string{
		`authgate_jwks_keys{issuer="` + idp.URL + `"} 1`,
		`authgate_jwks_refreshes_total{issuer="` + idp.URL + `",result="error"}`,
		`authgate_jwks_age_seconds{issuer="` + idp.URL + `"}`,
		`authgate_token_verification_failures_total{reason="bad_signature"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
