package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const interopDir = "../../interop"

// node returns the node binary for the interop tests, or skips them when
// node or interop/node_modules is missing, unless AUTHGATE_REQUIRE_INTEROP
// is set (as .ci/run does), in which case they fail.
func node(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(interopDir, "node_modules", "jose", "package.json"))
	}
	if err != nil {
		if os.Getenv("AUTHGATE_REQUIRE_INTEROP") != "" {
			t.Fatalf("interop: %v (run npm ci in interop/)", err)
		}
		t.Skipf("interop needs node and `npm ci` in interop/: %v", err)
	}
	return bin
}

func runNode(t *testing.T, stdin []byte, script string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(node(t), append([]string{script}, args...)...)
	cmd.Dir = interopDir
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	return out
}

// waitReady polls the admin listener's /readyz (bounded: ten seconds).
func waitReady(t *testing.T, in *instance) {
	t.Helper()
	for range 1000 {
		if code, _ := call(t, "GET", in.admin+"/readyz", "", "", ""); code == 200 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("/readyz never answered 200:\n%s", in.logs)
}

// TestInteropJoseTokens: tokens that jose (an independent implementation)
// signs with RS256, PS256, ES256, ES384 and EdDSA verify in authgate, from a
// trusted issuer's JWKS and from a verify keys file.
func TestInteropJoseTokens(t *testing.T) {
	const issuer = "https://jose.example"
	var minted struct {
		JWKS   json.RawMessage   `json:"jwks"`
		Tokens map[string]string `json:"tokens"`
	}
	if err := json.Unmarshal(runNode(t, nil, "mint.mjs", issuer, "api"), &minted); err != nil {
		t.Fatal(err)
	}
	if len(minted.Tokens) != 5 {
		t.Fatalf("jose minted %d tokens, want 5", len(minted.Tokens))
	}
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(minted.JWKS)
	}))
	defer idp.Close()
	keysFile := filepath.Join(t.TempDir(), "jwks.json")
	os.WriteFile(keysFile, minted.JWKS, 0o600)

	setups := map[string][]string{
		"trusted issuer":   {"AUTHGATE_TRUSTED_ISSUERS=" + issuer + "=" + idp.URL + "/jwks", "AUTHGATE_AUDIENCE=api"},
		"verify keys file": {"AUTHGATE_ISSUER=" + issuer, "AUTHGATE_JWT_VERIFY_KEYS_FILE=" + keysFile, "AUTHGATE_AUDIENCE=api"},
	}
	for name, env := range setups {
		t.Run(name, func(t *testing.T) {
			in := start(t, nil, env...)
			waitReady(t, in)
			for alg, tok := range minted.Tokens {
				req, _ := http.NewRequest("GET", in.addr+"/auth", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("X-Forwarded-Uri", "/api")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || resp.Header.Get("X-Auth-Subject") != "jose-"+alg || resp.Header.Get("X-Auth-User") != "jose-"+alg {
					t.Errorf("%s: %d %s %v", alg, resp.StatusCode, body, resp.Header)
				}
			}
		})
	}
}

// TestInteropAuthgateTokens: tokens authgate signs with each algorithm
// verify in jose against authgate's own JWKS endpoint.
func TestInteropAuthgateTokens(t *testing.T) {
	node(t)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(p256)
	pkcs8 := func(k crypto.Signer) *pem.Block {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	cases := []struct {
		alg   string
		block *pem.Block
	}{
		{"RS256", &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}},
		{"PS256", pkcs8(rsaKey)},
		{"ES256", &pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}},
		{"ES384", pkcs8(p384)},
		{"EdDSA", pkcs8(ed)},
	}
	for _, c := range cases {
		t.Run(c.alg, func(t *testing.T) {
			keyFile := filepath.Join(t.TempDir(), "key.pem")
			os.WriteFile(keyFile, pem.EncodeToMemory(c.block), 0o600)
			env := []string{"AUTHGATE_JWT_PRIVATE_KEY_FILE=" + keyFile, "AUTHGATE_JWT_ALGORITHM=" + c.alg, "AUTHGATE_AUDIENCE=api"}
			in := start(t, nil, env...)
			var out bytes.Buffer
			if err := run(context.Background(), []string{"token", "--sub", "s-" + c.alg}, env, nil, &out, io.Discard); err != nil {
				t.Fatal(err)
			}
			tokens, _ := json.Marshal(map[string]string{c.alg: strings.TrimSpace(out.String())})
			var results map[string]struct {
				OK    bool   `json:"ok"`
				Sub   string `json:"sub"`
				Kid   string `json:"kid"`
				Error string `json:"error"`
			}
			if err := json.Unmarshal(runNode(t, tokens, "verify.mjs", in.addr+"/.well-known/jwks.json", "authgate", "api"), &results); err != nil {
				t.Fatal(err)
			}
			r := results[c.alg]
			if !r.OK || r.Sub != "s-"+c.alg || r.Kid == "" {
				t.Errorf("jose: %+v", r)
			}
		})
	}
}
