package auth

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"
)

// idp is a test identity provider on loopback: OIDC discovery and a JWKS
// document it can change, break or take down, counting fetches.
type idp struct {
	srv          *httptest.Server
	mu           sync.Mutex
	jwks         []byte
	status       int
	cacheControl string
	issuer       string // what discovery claims; the server URL unless set
	fetches      atomic.Int64
	discoveries  atomic.Int64
}

func newIdP(t *testing.T, keys ...*Key) *idp {
	t.Helper()
	p := &idp{status: 200}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			p.discoveries.Add(1)
			iss := p.issuer
			if iss == "" {
				iss = p.srv.URL
			}
			json.NewEncoder(w).Encode(map[string]string{"issuer": iss, "jwks_uri": p.srv.URL + "/jwks"})
		case "/jwks":
			p.fetches.Add(1)
			if p.cacheControl != "" {
				w.Header().Set("Cache-Control", p.cacheControl)
			}
			w.WriteHeader(p.status)
			w.Write(p.jwks)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(p.srv.Close)
	p.serve(keys...)
	return p
}

// serve publishes the public halves of keys.
func (p *idp) serve(keys ...*Key) {
	ks, _ := NewKeySet(nil, keys...)
	p.set(200, ks.PublicJWKS())
}

func (p *idp) set(status int, body []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status, p.jwks = status, body
}

// clock is a settable time for rate limits.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Now().UnixNano())
	return c
}
func (c *clock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d)) }
func remoteOpts(c *clock) RemoteOptions {
	return RemoteOptions{MinRefresh: 30 * time.Second, MaxRefresh: 10 * time.Minute, Now: c.now, Logger: zerolog.Nop()}
}

// signingKey makes a Key (kid = thumbprint) from one of the test keys.
func signingKey(t *testing.T, name, alg string) *Key {
	t.Helper()
	k, err := newSigningKey(newTestKeys(t)[name], alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// mint signs a token for iss with key material signer under alg, with the
// given header members (kid among them) and claims over the defaults.
func mint(t *testing.T, signer any, alg string, header map[string]any, claims map[string]any) string {
	t.Helper()
	c := jwt.MapClaims{"sub": "ext-user", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range claims {
		c[k] = v
	}
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(alg), c)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(signer)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func remoteVerifier(t *testing.T, o VerifierOptions, sets ...*RemoteKeySet) *Verifier {
	t.Helper()
	o.Remote = sets
	v, err := NewVerifier(nil, o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func reasonOf(err error) string {
	var te *TokenError
	if errors.As(err, &te) {
		return te.Reason
	}
	return fmt.Sprint(err)
}

func TestRemoteDiscovery(t *testing.T) {
	k := signingKey(t, "rsa", "")
	p := newIdP(t, k)
	r, err := NewRemoteKeySet(p.srv.URL, "", remoteOpts(newClock()))
	if err != nil {
		t.Fatal(err)
	}
	if r.Ready() == nil {
		t.Error("ready before loading")
	}
	v := remoteVerifier(t, VerifierOptions{}, r)
	tok := mint(t, k.sign, "RS256", map[string]any{"kid": k.ID}, map[string]any{"iss": p.srv.URL})
	if id, err := v.Verify(context.Background(), tok); err != nil || id.Subject != "ext-user" {
		t.Fatalf("Verify = %v, %v", id, err)
	}
	if err := r.Ready(); err != nil {
		t.Errorf("Ready after a load = %v", err)
	}
	if p.discoveries.Load() != 1 || p.fetches.Load() != 1 {
		t.Errorf("discoveries %d, fetches %d; want 1, 1", p.discoveries.Load(), p.fetches.Load())
	}

	t.Run("discovery naming another issuer", func(t *testing.T) {
		q := newIdP(t, k)
		q.issuer = "https://evil.example"
		r, _ := NewRemoteKeySet(q.srv.URL, "", remoteOpts(newClock()))
		if err := r.refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "evil.example") {
			t.Errorf("refresh = %v", err)
		}
		if q.fetches.Load() != 0 {
			t.Error("fetched the JWKS of a discovery document for another issuer")
		}
		if r.Ready() == nil {
			t.Error("ready without keys")
		}
	})
}

func TestRemoteURLsMustBeHTTPS(t *testing.T) {
	for _, tt := range []struct {
		iss, jwks string
		ok        bool
	}{
		{"https://idp.example", "", true},
		{"http://idp.example", "", false},
		{"http://127.0.0.1:8080", "", true},
		{"http://localhost:8080/realms/x", "", true},
		{"anything", "https://idp.example/jwks", true},
		{"anything", "http://idp.example/jwks", false},
		{"anything", "http://[::1]:9000/jwks", true},
		{"anything", "file:///etc/passwd", false},
	} {
		_, err := NewRemoteKeySet(tt.iss, tt.jwks, RemoteOptions{})
		if (err == nil) != tt.ok {
			t.Errorf("NewRemoteKeySet(%q, %q) = %v, want ok=%v", tt.iss, tt.jwks, err, tt.ok)
		}
	}
}

func TestRemoteRotation(t *testing.T) {
	a, b := signingKey(t, "rsa", ""), signingKey(t, "p256", "")
	p := newIdP(t, a)
	clk := newClock()
	r, _ := NewRemoteKeySet("https://idp.example", p.srv.URL+"/jwks", remoteOpts(clk))
	v := remoteVerifier(t, VerifierOptions{}, r)
	ctx := context.Background()
	claims := map[string]any{"iss": "https://idp.example"}
	tokA := mint(t, a.sign, "RS256", map[string]any{"kid": a.ID}, claims)
	tokB := mint(t, b.sign, "ES256", map[string]any{"kid": b.ID}, claims)
	if _, err := v.Verify(ctx, tokA); err != nil {
		t.Fatal(err)
	}

	// The IdP publishes B next to A before signing with it; the scheduled
	// refresh picks it up, and both verify: no request fails.
	p.serve(a, b)
	clk.advance(time.Minute)
	if err := r.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{tokA, tokB} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Errorf("during rotation: %v", err)
		}
	}

	// A is retired; B arrives unannounced at another IdP: the unknown kid
	// is fetched once the rate limit allows.
	p.serve(b)
	c := signingKey(t, "ed25519", "")
	tokC := mint(t, c.sign, "EdDSA", map[string]any{"kid": c.ID}, claims)
	p.serve(b, c)
	before := p.fetches.Load()
	if _, err := v.Verify(ctx, tokC); reasonOf(err) != ReasonUnknownKey {
		t.Errorf("unknown kid inside the rate limit: %v, want unknown_key", err)
	}
	if p.fetches.Load() != before {
		t.Error("fetched inside the rate limit")
	}
	clk.advance(31 * time.Second)
	if _, err := v.Verify(ctx, tokC); err != nil {
		t.Errorf("unknown kid after the rate limit: %v", err)
	}
	if _, err := v.Verify(ctx, tokA); reasonOf(err) != ReasonUnknownKey {
		t.Errorf("a retired key still verifies: %v", err)
	}
}

// TestRemoteUnknownKidFlood: a burst of random kids costs at most one fetch
// per MinRefresh.
func TestRemoteUnknownKidFlood(t *testing.T) {
	a := signingKey(t, "rsa", "")
	p := newIdP(t, a)
	clk := newClock()
	r, _ := NewRemoteKeySet("https://idp.example", p.srv.URL+"/jwks", remoteOpts(clk))
	v := remoteVerifier(t, VerifierOptions{}, r)
	ctx := context.Background()
	if err := r.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for round, wantMax := range []int64{1, 0, 1} {
		if round != 1 {
			clk.advance(time.Minute)
		}
		before := p.fetches.Load()
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok := mint(t, a.sign, "RS256", map[string]any{"kid": fmt.Sprintf("random-%d-%d", round, i)}, map[string]any{"iss": "https://idp.example"})
				if _, err := v.Verify(ctx, tok); err == nil {
					t.Error("a random kid verified")
				}
			}()
		}
		wg.Wait()
		if got := p.fetches.Load() - before; got > wantMax {
			t.Errorf("round %d: 200 random kids caused %d fetches, want at most %d", round, got, wantMax)
		}
	}
}

// TestRemoteStaleIfError: when the IdP fails, is down, or serves a broken or
// oversized set, the keys already held keep working and readiness stays.
func TestRemoteStaleIfError(t *testing.T) {
	a := signingKey(t, "rsa", "")
	p := newIdP(t, a)
	clk := newClock()
	o := remoteOpts(clk)
	o.MaxBytes = 8 << 10
	r, _ := NewRemoteKeySet("https://idp.example", p.srv.URL+"/jwks", o)
	v := remoteVerifier(t, VerifierOptions{}, r)
	ctx := context.Background()
	tok := mint(t, a.sign, "RS256", map[string]any{"kid": a.ID}, map[string]any{"iss": "https://idp.example"})
	if err := r.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	breakages := []struct {
		name  string
		apply func()
	}{
		{"500", func() { p.set(500, []byte("oops")) }},
		{"malformed", func() { p.set(200, []byte(`{"keys":[{"kty":"RSA","n":"!!"`)) }},
		{"not a set", func() { p.set(200, []byte(`{"nokeys":true}`)) }},
		{"no signature keys", func() { p.set(200, []byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`)) }},
		{"oversized", func() { p.set(200, []byte(`{"keys":[],"pad":"`+strings.Repeat("x", 9<<10)+`"}`)) }},
		{"down", func() { p.srv.Close() }},
	}
	for i, b := range breakages {
		b.apply()
		clk.advance(time.Minute)
		if err := r.refresh(ctx); err == nil {
			t.Errorf("%s: refresh succeeded", b.name)
		}
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Errorf("%s: a token of a known key: %v", b.name, err)
		}
		if err := r.Ready(); err != nil {
			t.Errorf("%s: Ready = %v", b.name, err)
		}
		if st := r.Stats(); st.Failures != uint64(i+1) || st.Keys != 1 || st.Refreshes != 1 {
			t.Errorf("%s: stats %+v", b.name, st)
		}
	}
}

// TestKeysAreBoundToTheirIssuer: a key of issuer A never verifies a token
// that claims issuer B.
func TestKeysAreBoundToTheirIssuer(t *testing.T) {
	a, b := signingKey(t, "rsa", ""), signingKey(t, "rsa2", "")
	pa, pb := newIdP(t, a), newIdP(t, b)
	clk := newClock()
	ra, _ := NewRemoteKeySet("https://a.example", pa.srv.URL+"/jwks", remoteOpts(clk))
	rb, _ := NewRemoteKeySet("https://b.example", pb.srv.URL+"/jwks", remoteOpts(clk))
	v := remoteVerifier(t, VerifierOptions{}, ra, rb)
	ctx := context.Background()
	if _, err := v.Verify(ctx, mint(t, a.sign, "RS256", map[string]any{"kid": a.ID}, map[string]any{"iss": "https://a.example"})); err != nil {
		t.Fatalf("A's token: %v", err)
	}
	forged := mint(t, a.sign, "RS256", map[string]any{"kid": a.ID}, map[string]any{"iss": "https://b.example"})
	if _, err := v.Verify(ctx, forged); reasonOf(err) != ReasonUnknownKey {
		t.Errorf("A's key on a token claiming B: %v, want unknown_key", err)
	}
	forgedNoKid := mint(t, a.sign, "RS256", nil, map[string]any{"iss": "https://b.example"})
	if _, err := v.Verify(ctx, forgedNoKid); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("A's key on a token claiming B, no kid: %v", err)
	}
	if _, err := v.Verify(ctx, mint(t, a.sign, "RS256", map[string]any{"kid": a.ID}, map[string]any{"iss": "https://c.example"})); reasonOf(err) != ReasonBadIssuer {
		t.Errorf("an untrusted issuer: %v, want bad_issuer", err)
	}
}

// TestAlgorithmConfusion tries the known tricks against an external issuer.
func TestAlgorithmConfusion(t *testing.T) {
	keys := newTestKeys(t)
	rsaKey := signingKey(t, "rsa", "")
	attacker := signingKey(t, "rsa2", "")
	p := newIdP(t, rsaKey)
	var attackerFetches atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attackerFetches.Add(1)
		ks, _ := NewKeySet(nil, attacker)
		w.Write(ks.PublicJWKS())
	}))
	defer evil.Close()
	clk := newClock()
	r, _ := NewRemoteKeySet("https://idp.example", p.srv.URL+"/jwks", remoteOpts(clk))
	v := remoteVerifier(t, VerifierOptions{}, r)
	ctx := context.Background()
	if err := r.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	iss := map[string]any{"iss": "https://idp.example"}
	pubDER, _ := x509.MarshalPKIXPublicKey(rsaKey.verify)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	attackerJWK, _ := attacker.publicJWK()
	claims := jwt.MapClaims{"sub": "admin", "iss": "https://idp.example", "exp": time.Now().Add(time.Hour).Unix()}
	noneTok, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)

	tests := []struct {
		name, token, reason string
	}{
		{"HS256 signed with the RSA public key PEM", mint(t, pubPEM, "HS256", map[string]any{"kid": rsaKey.ID}, iss), ReasonBadAlgorithm},
		{"HS256 signed with the RSA public key DER", mint(t, pubDER, "HS256", map[string]any{"kid": rsaKey.ID}, iss), ReasonBadAlgorithm},
		{"alg none", noneTok, ReasonBadAlgorithm},
		{"ES256 against an RSA kid", mint(t, keys["p256"], "ES256", map[string]any{"kid": rsaKey.ID}, iss), ReasonBadAlgorithm},
		{"PS256 under the RS256 kid", mint(t, attacker.sign, "PS256", map[string]any{"kid": rsaKey.ID}, iss), ReasonBadAlgorithm},
		{"another key under the RSA kid", mint(t, attacker.sign, "RS256", map[string]any{"kid": rsaKey.ID}, iss), ReasonBadSignature},
		{"embedded jwk of the attacker", mint(t, attacker.sign, "RS256", map[string]any{"kid": attacker.ID, "jwk": attackerJWK}, iss), ReasonUnknownKey},
		{"embedded jwk with the real kid", mint(t, attacker.sign, "RS256", map[string]any{"kid": rsaKey.ID, "jwk": attackerJWK}, iss), ReasonBadSignature},
		{"jku to the attacker", mint(t, attacker.sign, "RS256", map[string]any{"kid": attacker.ID, "jku": evil.URL}, iss), ReasonUnknownKey},
		{"x5u to the attacker", mint(t, attacker.sign, "RS256", map[string]any{"x5u": evil.URL}, iss), ReasonBadSignature},
		{"crit header", mint(t, rsaKey.sign, "RS256", map[string]any{"kid": rsaKey.ID, "crit": []string{"exp"}, "exp": 1}, iss), ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk.advance(time.Minute) // let an unknown kid fetch, to show it does not help
			_, err := v.Verify(ctx, tt.token)
			if err == nil {
				t.Fatal("verified")
			}
			if got := reasonOf(err); got != tt.reason {
				t.Errorf("reason = %s (%v), want %s", got, err, tt.reason)
			}
		})
	}
	if n := attackerFetches.Load(); n != 0 {
		t.Errorf("the attacker's server was fetched %d times", n)
	}
	// Only the real key signs: the same claims verify with it.
	if _, err := v.Verify(ctx, mint(t, rsaKey.sign, "RS256", map[string]any{"kid": rsaKey.ID}, iss)); err != nil {
		t.Errorf("the genuine token: %v", err)
	}
}

func TestRemoteSkipsSymmetricKeys(t *testing.T) {
	a := signingKey(t, "rsa", "")
	p := newIdP(t)
	octSecret := []byte("0123456789abcdef0123456789abcdef")
	ks, _ := NewKeySet(nil, a)
	var doc map[string][]map[string]any
	json.Unmarshal(ks.PublicJWKS(), &doc)
	doc["keys"] = append(doc["keys"], map[string]any{"kty": "oct", "kid": "shared", "k": b64url.EncodeToString(octSecret)})
	body, _ := json.Marshal(doc)
	p.set(200, body)
	r, _ := NewRemoteKeySet("https://idp.example", p.srv.URL+"/jwks", remoteOpts(newClock()))
	v := remoteVerifier(t, VerifierOptions{}, r)
	if err := r.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r.Stats().Keys != 1 {
		t.Errorf("keys = %d, want the RSA key alone", r.Stats().Keys)
	}
	tok := mint(t, octSecret, "HS256", map[string]any{"kid": "shared"}, map[string]any{"iss": "https://idp.example"})
	if _, err := v.Verify(context.Background(), tok); reasonOf(err) != ReasonBadAlgorithm {
		t.Errorf("HS256 with the oct key: %v, want bad_algorithm", err)
	}
}

// TestRunRefreshesInTheBackground: Run loads, retries a failing first load,
// and refreshes after max-age.
func TestRunRefreshesInTheBackground(t *testing.T) {
	a := signingKey(t, "rsa", "")
	p := newIdP(t, a)
	p.set(503, nil)
	p.cacheControl = "public, max-age=0"
	r, _ := NewRemoteKeySet("https://idp.example", p.srv.URL+"/jwks",
		RemoteOptions{MinRefresh: 10 * time.Millisecond, MaxRefresh: 40 * time.Millisecond, Logger: zerolog.Nop()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor := func(what string, cond func() bool) {
		for range 500 { // bounded: five seconds
			if cond() {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("gave up waiting for %s", what)
	}
	waitFor("a failed first load", func() bool { return r.Stats().Failures >= 1 })
	if r.Ready() == nil {
		t.Fatal("ready after failures only")
	}
	p.serve(a)
	waitFor("the retried load", func() bool { return r.Ready() == nil })
	n := p.fetches.Load()
	waitFor("refreshes after max-age", func() bool { return p.fetches.Load() >= n+3 })
}

func TestMaxAge(t *testing.T) {
	forever := time.Duration(1<<63 - 1)
	for in, want := range map[string]time.Duration{
		"":                                forever,
		"public, max-age=300":             300 * time.Second,
		"max-age=\"60\", must-revalidate": time.Minute,
		"no-store":                        0,
		"private, no-cache":               0,
		"max-age=-5":                      forever,
		"max-age=abc":                     forever,
	} {
		if got := maxAge(in); got != want {
			t.Errorf("maxAge(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestVerifierIssuersAndLifetime(t *testing.T) {
	ext := signingKey(t, "p256", "")
	p := newIdP(t, ext)
	r, _ := NewRemoteKeySet("https://idp.example", p.srv.URL+"/jwks", remoteOpts(newClock()))
	local, _ := NewHMACKey([]byte(testSecret))
	ks, _ := NewKeySet(local)
	v, err := NewVerifier(ks, VerifierOptions{Issuer: "authgate", Remote: []*RemoteKeySet{r}, Audience: "api", MaxLifetime: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	tests := []struct {
		name   string
		signer crypto.PrivateKey
		alg    string
		claims map[string]any
		reason string
	}{
		{"local", []byte(testSecret), "HS256", map[string]any{"iss": "authgate", "aud": "api"}, ""},
		{"external", ext.sign, "ES256", map[string]any{"iss": "https://idp.example", "aud": []string{"x", "api"}}, ""},
		{"external without the audience", ext.sign, "ES256", map[string]any{"iss": "https://idp.example", "aud": "x"}, ReasonBadAudience},
		{"local secret on an external issuer", []byte(testSecret), "HS256", map[string]any{"iss": "https://idp.example", "aud": "api"}, ReasonBadAlgorithm},
		{"external key claiming authgate", ext.sign, "ES256", map[string]any{"iss": "authgate", "aud": "api"}, ReasonBadAlgorithm},
		{"lifetime over the limit", ext.sign, "ES256", map[string]any{"iss": "https://idp.example", "aud": "api", "iat": now.Unix(), "exp": now.Add(3 * time.Hour).Unix()}, ReasonTooLongLived},
		{"lifetime unknown", ext.sign, "ES256", map[string]any{"iss": "https://idp.example", "aud": "api", "iat": nil}, ReasonBadClaims},
		{"no iss", []byte(testSecret), "HS256", map[string]any{"aud": "api"}, ReasonBadIssuer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := map[string]any{}
			if tt.alg == "ES256" {
				header["kid"] = ext.ID
			}
			claims := tt.claims
			if iat, ok := claims["iat"]; ok && iat == nil {
				delete(claims, "iat")
				tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"sub": "x", "iss": claims["iss"], "aud": claims["aud"], "exp": now.Add(time.Hour).Unix()})
				tok.Header["kid"] = ext.ID
				s, _ := tok.SignedString(ext.sign)
				_, err := v.Verify(ctx, s)
				if reasonOf(err) != tt.reason {
					t.Errorf("reason %s (%v), want %s", reasonOf(err), err, tt.reason)
				}
				return
			}
			_, err := v.Verify(ctx, mint(t, tt.signer, tt.alg, header, claims))
			if tt.reason == "" {
				if err != nil {
					t.Errorf("Verify = %v", err)
				}
				return
			}
			if reasonOf(err) != tt.reason {
				t.Errorf("reason %s (%v), want %s", reasonOf(err), err, tt.reason)
			}
		})
	}
}

// TestKidlessTokensAreNotTriedAgainstEveryKey: a token without kid that
// more than one key of its issuer takes is refused, not verified against
// each of them; with one such key it still verifies.
func TestKidlessTokensAreNotTriedAgainstEveryKey(t *testing.T) {
	a, b := signingKey(t, "rsa", ""), signingKey(t, "rsa2", "")
	two, one := newIdP(t, a, b), newIdP(t, a)
	clk := newClock()
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		idp    *idp
		reason string
	}{
		{"two RSA keys", two, ReasonAmbiguousKey},
		{"one RSA key", one, ""},
	} {
		r, _ := NewRemoteKeySet(tt.idp.srv.URL, tt.idp.srv.URL+"/jwks", remoteOpts(clk))
		if err := r.refresh(ctx); err != nil {
			t.Fatal(err)
		}
		v := remoteVerifier(t, VerifierOptions{}, r)
		_, err := v.Verify(ctx, mint(t, a.sign, "RS256", nil, map[string]any{"iss": tt.idp.srv.URL}))
		if tt.reason == "" && err != nil || tt.reason != "" && reasonOf(err) != tt.reason {
			t.Errorf("%s: a token without kid = %v, want reason %q", tt.name, err, tt.reason)
		}
		if _, err := v.Verify(ctx, mint(t, a.sign, "RS256", map[string]any{"kid": a.ID}, map[string]any{"iss": tt.idp.srv.URL})); err != nil {
			t.Errorf("%s: the same token with its kid = %v", tt.name, err)
		}
	}
	// authgate's own secret, beside rotation keys that have kids, still
	// verifies the kid-less tokens it signs.
	secret, _ := NewHMACKey([]byte(testSecret))
	ks, err := NewKeySet(secret, mustPublic(t, a), mustPublic(t, b))
	if err != nil {
		t.Fatal(err)
	}
	is, _ := NewIssuer(ks, IssuerOptions{Issuer: "authgate", TTL: time.Hour})
	issued, _ := is.Issue("1", nil, 0)
	own, _ := NewVerifier(ks, VerifierOptions{Issuer: "authgate"})
	if _, err := own.Verify(ctx, issued.Token); err != nil {
		t.Errorf("the own secret's kid-less token beside rotation keys: %v", err)
	}
}

func mustPublic(t *testing.T, k *Key) *Key {
	t.Helper()
	pub, err := newPublicKey(k.verify, k.Alg, "")
	if err != nil {
		t.Fatal(err)
	}
	return pub
}
