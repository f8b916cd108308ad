package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKeys are generated once per test binary: RSA generation is slow.
var (
	testKeysOnce sync.Once
	testKeysAll  map[string]crypto.Signer
)

// newTestKeys returns a private key per key kind: "rsa", "rsa2" (a second
// RSA key), "p256", "p384", "p521", "ed25519", "rsa1024" (too weak).
func newTestKeys(t testing.TB) map[string]crypto.Signer {
	t.Helper()
	testKeysOnce.Do(func() {
		m := map[string]crypto.Signer{}
		for _, bits := range []struct {
			name string
			bits int
		}{{"rsa", 2048}, {"rsa2", 2048}, {"rsa1024", 1024}} {
			k, err := rsa.GenerateKey(rand.Reader, bits.bits)
			if err != nil {
				panic(err)
			}
			m[bits.name] = k
		}
		for name, c := range map[string]elliptic.Curve{"p256": elliptic.P256(), "p384": elliptic.P384(), "p521": elliptic.P521()} {
			k, _ := ecdsa.GenerateKey(c, rand.Reader)
			m[name] = k
		}
		_, ed, _ := ed25519.GenerateKey(rand.Reader)
		m["ed25519"] = ed
		testKeysAll = m
	})
	return testKeysAll
}

// writePEM writes blocks to a file in t's temporary directory.
func writePEM(t *testing.T, blocks ...*pem.Block) string {
	t.Helper()
	var b strings.Builder
	for _, bl := range blocks {
		b.Write(pem.EncodeToMemory(bl))
	}
	p := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pkcs8(t *testing.T, k crypto.Signer) *pem.Block {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return &pem.Block{Type: "PRIVATE KEY", Bytes: der}
}

func pkix(t *testing.T, k crypto.Signer) *pem.Block {
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &pem.Block{Type: "PUBLIC KEY", Bytes: der}
}

func TestLoadPrivateKey(t *testing.T) {
	keys := newTestKeys(t)
	ecDER, _ := x509.MarshalECPrivateKey(keys["p256"].(*ecdsa.PrivateKey))
	tests := []struct {
		name  string
		block *pem.Block
		alg   string
		want  string // the alg, or an error fragment after "error: "
	}{
		{"RSA PKCS#8", pkcs8(t, keys["rsa"]), "", "RS256"},
		{"RSA PKCS#1", &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(keys["rsa"].(*rsa.PrivateKey))}, "", "RS256"},
		{"RSA as PS256", pkcs8(t, keys["rsa"]), "PS256", "PS256"},
		{"P-256 SEC1", &pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}, "", "ES256"},
		{"P-256 PKCS#8", pkcs8(t, keys["p256"]), "ES256", "ES256"},
		{"P-384", pkcs8(t, keys["p384"]), "", "ES384"},
		{"Ed25519", pkcs8(t, keys["ed25519"]), "", "EdDSA"},
		{"P-256 asked for ES384", pkcs8(t, keys["p256"]), "ES384", "error: signs with ES256, not ES384"},
		{"RSA asked for ES256", pkcs8(t, keys["rsa"]), "ES256", "error: RS256 or PS256"},
		{"P-521", pkcs8(t, keys["p521"]), "", "error: unsupported curve"},
		{"weak RSA", pkcs8(t, keys["rsa1024"]), "", "error: at least 2048"},
		{"a public key", pkix(t, keys["rsa"]), "", "error: not a private key"},
		{"encrypted", &pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}, "", "error: encrypted"},
		{"garbage", &pem.Block{Type: "PRIVATE KEY", Bytes: []byte("nope")}, "", "error: parsing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := LoadPrivateKey(writePEM(t, tt.block), tt.alg)
			if want, isErr := strings.CutPrefix(tt.want, "error: "); isErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("LoadPrivateKey = %v, want an error containing %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Alg != tt.want || !k.CanSign() {
				t.Errorf("alg %q, can sign %v; want %s", k.Alg, k.CanSign(), tt.want)
			}
			if tp, _ := Thumbprint(k.verify); k.ID != tp {
				t.Errorf("kid %q, want the thumbprint %q", k.ID, tp)
			}
		})
	}
	t.Run("two blocks", func(t *testing.T) {
		if _, err := LoadPrivateKey(writePEM(t, pkcs8(t, keys["rsa"]), pkcs8(t, keys["p256"])), ""); err == nil {
			t.Error("two keys in one file were accepted")
		}
	})
}

// TestSignVerifyEveryAlgorithm issues and verifies a token with each kind of
// signing key, and checks the JWKS publishes it with kid, alg and use.
func TestSignVerifyEveryAlgorithm(t *testing.T) {
	keys := newTestKeys(t)
	for _, tt := range []struct{ key, alg string }{
		{"rsa", "RS256"}, {"rsa", "PS256"}, {"p256", "ES256"}, {"p384", "ES384"}, {"ed25519", "EdDSA"},
	} {
		t.Run(tt.alg, func(t *testing.T) {
			k, err := newSigningKey(keys[tt.key], tt.alg)
			if err != nil {
				t.Fatal(err)
			}
			ks, _ := NewKeySet(k)
			is, err := NewIssuer(ks, IssuerOptions{Issuer: "authgate", TTL: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			issued, err := is.Issue("1", nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			tok := issued.Token
			v, _ := NewVerifier(ks, VerifierOptions{Issuer: "authgate"})
			if id, err := v.Verify(context.Background(), tok); err != nil || id.Subject != "1" {
				t.Fatalf("Verify = %v, %v", id, err)
			}
			jwks := string(ks.PublicJWKS())
			for _, want := range []string{`"kid":"` + k.ID + `"`, `"alg":"` + tt.alg + `"`, `"use":"sig"`} {
				if !strings.Contains(jwks, want) {
					t.Errorf("JWKS %s lacks %s", jwks, want)
				}
			}
			if strings.Contains(jwks, `"d"`) {
				t.Errorf("JWKS %s publishes private material", jwks)
			}
		})
	}
}

func TestLoadVerifyKeys(t *testing.T) {
	keys := newTestKeys(t)
	write := func(t *testing.T, s string) string {
		p := filepath.Join(t.TempDir(), "keys")
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	t.Run("PEM", func(t *testing.T) {
		got, err := LoadVerifyKeys(writePEM(t, pkix(t, keys["rsa"]), pkix(t, keys["p256"]), pkix(t, keys["ed25519"])), "PS256")
		if err != nil || len(got) != 3 {
			t.Fatalf("LoadVerifyKeys = %v, %v", got, err)
		}
		if got[0].Alg != "PS256" || got[1].Alg != "ES256" || got[2].Alg != "EdDSA" || got[0].CanSign() {
			t.Errorf("algs %s %s %s", got[0].Alg, got[1].Alg, got[2].Alg)
		}
	})
	t.Run("JWKS", func(t *testing.T) {
		k, _ := newSigningKey(keys["p384"], "")
		ks, _ := NewKeySet(k)
		got, err := LoadVerifyKeys(write(t, string(ks.PublicJWKS())), "")
		if err != nil || len(got) != 1 || got[0].ID != k.ID || got[0].Alg != "ES384" {
			t.Fatalf("LoadVerifyKeys = %+v, %v", got, err)
		}
	})
	for name, content := range map[string]string{
		"oct in a JWKS":  `{"keys":[{"kty":"oct","k":"` + rfc7515A1Key + `"}]}`,
		"empty JWKS":     `{"keys":[]}`,
		"not JSON":       `{"keys":`,
		"a private key":  string(pem.EncodeToMemory(pkcs8(t, keys["rsa"]))),
		"nothing":        "hello",
		"weak RSA":       string(pem.EncodeToMemory(pkix(t, keys["rsa1024"]))),
		"duplicate kids": `{"keys":[` + rfc7515A3JWK[:len(rfc7515A3JWK)-1] + `,"kid":"a"},` + rfc7515A3JWK[:len(rfc7515A3JWK)-1] + `,"kid":"a"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadVerifyKeys(write(t, content), ""); err == nil {
				t.Errorf("LoadVerifyKeys(%s) succeeded", name)
			}
		})
	}
}

// TestRotation: tokens of the retired key still verify while it is listed
// as a verify key; new tokens are signed with the new key.
func TestRotation(t *testing.T) {
	keys := newTestKeys(t)
	old, _ := newSigningKey(keys["rsa"], "")
	cur, _ := newSigningKey(keys["rsa2"], "")
	oldSet, _ := NewKeySet(old)
	oldIssuer, _ := NewIssuer(oldSet, IssuerOptions{Issuer: "authgate", TTL: time.Hour})
	oldIssued, _ := oldIssuer.Issue("1", nil, 0)
	oldTok := oldIssued.Token

	retired, _ := newPublicKey(old.verify, "RS256", "")
	ks, err := NewKeySet(cur, retired)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := NewVerifier(ks, VerifierOptions{Issuer: "authgate"})
	if _, err := v.Verify(context.Background(), oldTok); err != nil {
		t.Errorf("a token of the retired key: %v", err)
	}
	is, _ := NewIssuer(ks, IssuerOptions{Issuer: "authgate", TTL: time.Hour})
	newIssued, _ := is.Issue("1", nil, 0)
	newTok := newIssued.Token
	if !strings.Contains(string(ks.PublicJWKS()), retired.ID) || retired.ID == cur.ID {
		t.Error("the JWKS does not publish the retired key")
	}
	header, _ := b64url.DecodeString(strings.Split(newTok, ".")[0])
	if !strings.Contains(string(header), cur.ID) {
		t.Errorf("new tokens are signed with %s, want the current key %s", header, cur.ID)
	}
	// Without the retired key the old token is refused.
	only, _ := NewKeySet(cur)
	v2, _ := NewVerifier(only, VerifierOptions{Issuer: "authgate"})
	if _, err := v2.Verify(context.Background(), oldTok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("old token without the retired key: %v", err)
	}
}
