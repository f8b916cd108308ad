package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/internal/redistest"
	"github.com/authgate/authgate/policy"
	"github.com/authgate/authgate/session"
	"github.com/authgate/authgate/state"
	"github.com/authgate/authgate/throttle"
)

const testSecret = "proxy-tests-secret-0123456789abcdef-0123456789"

// forged are identity headers a client sends in every spelling that servers
// and frameworks may fold into X-Auth-User and friends. No test may ever see
// one of these values arrive upstream.
var forged = [][2]string{
	{"X-Auth-User", "mallory"},
	{"X-Auth_User", "mallory"},
	{"X-Auth.User", "mallory"},
	{"x-auth-subject", "forged-sub"},
	{"X-AUTH-ROLES", "forged-admin"},
	{"X-Auth-Anything-Else", "forged-extra"},
}

func addForged(h http.Header) {
	for _, f := range forged {
		h[f[0]] = append(h[f[0]], f[1]) // raw keys: keep the odd spellings
	}
}

// assertNoForged fails if any forged value reached the upstream, as a header
// or a trailer, under any name.
func assertNoForged(t *testing.T, got recorded) {
	t.Helper()
	for _, h := range []http.Header{got.Header, got.Trailer} {
		for name, values := range h {
			for _, v := range values {
				for _, f := range forged {
					if v == f[1] {
						t.Errorf("upstream received forged %s: %s", name, v)
					}
				}
			}
		}
	}
}

// recorded is what the test upstream saw of one request.
type recorded struct {
	Method, Host, RequestURI, Path, Body string
	Header, Trailer                      http.Header
}

// backend is a recording upstream.
type backend struct {
	mu     sync.Mutex
	reqs   []recorded
	server *httptest.Server
}

func newBackend(t *testing.T, h http.HandlerFunc) *backend {
	t.Helper()
	b := &backend{}
	b.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // to the end, so trailers arrive
		b.mu.Lock()
		b.reqs = append(b.reqs, recorded{
			Method: r.Method, Host: r.Host, RequestURI: r.RequestURI, Path: r.URL.Path, Body: string(body),
			Header: r.Header.Clone(), Trailer: r.Trailer.Clone(),
		})
		b.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "upstream ok")
	}))
	t.Cleanup(b.server.Close)
	return b
}

// take returns the one request the upstream got since the last call.
func (b *backend) take(t *testing.T) (recorded, bool) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	switch len(b.reqs) {
	case 0:
		return recorded{}, false
	case 1:
		r := b.reqs[0]
		b.reqs = nil
		return r, true
	}
	t.Fatalf("upstream got %d requests, want at most 1", len(b.reqs))
	return recorded{}, false
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// fixture is authgate's real handler tree behind a loopback server.
type fixture struct {
	cfg         config.Config
	front       *httptest.Server
	backend     *backend // nil without AUTHGATE_UPSTREAM
	issuer      *auth.Issuer
	current     *atomic.Pointer[Snapshot] // what a reload would swap
	revocations *session.Revocations      // nil while revocation is off
	metrics     *Metrics
	logs        *syncBuffer
}

// cheapHash keeps tests fast; the parameters do not matter to what they test.
var cheapHash = auth.HashArgon2id("secret", auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})

// newFixture starts authgate with env added to a test secret. With upstream
// set it runs in proxy mode in front of a recording backend. Logins are
// throttled in a memory store, as the binary does by default.
func newFixture(t *testing.T, upstream bool, env ...string) *fixture {
	t.Helper()
	return newFixtureStore(t, state.NewMemory(nil), upstream, env...)
}

// newFixtureStore is newFixture with st as the state store.
func newFixtureStore(t *testing.T, st state.Store, upstream bool, env ...string) *fixture {
	t.Helper()
	f := &fixture{logs: &syncBuffer{}}
	base := []string{"AUTHGATE_JWT_SECRET=" + testSecret}
	if upstream {
		f.backend = newBackend(t, nil)
		base = append(base, "AUTHGATE_UPSTREAM="+f.backend.server.URL)
	}
	cfg, err := config.Load(append(base, env...))
	if err != nil {
		t.Fatal(err)
	}
	f.cfg = cfg
	key, _ := auth.NewHMACKey([]byte(testSecret))
	keys, _ := auth.NewKeySet(key)
	// The token cache is on, as in the binary: every test runs through it.
	tc, err := auth.NewTokenCache(cfg.TokenCacheSize, cfg.TokenCacheTTL)
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(keys, auth.VerifierOptions{Issuer: cfg.Issuer, Audience: cfg.Audience, Leeway: cfg.ClockSkew, Cache: tc})
	if err != nil {
		t.Fatal(err)
	}
	f.issuer, err = auth.NewIssuer(keys, auth.IssuerOptions{Issuer: cfg.Issuer, Audience: cfg.Audience, TTL: cfg.TokenTTL})
	if err != nil {
		t.Fatal(err)
	}
	users, err := auth.NewUsers([]auth.User{{Username: "alice", ID: "1", Password: cheapHash, Claims: map[string]any{"roles": []any{"admin", "user"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var rules []policy.Rule
	if cfg.RulesFile != "" {
		if rules, err = policy.LoadRules(cfg.RulesFile); err != nil {
			t.Fatal(err)
		}
	}
	f.metrics = NewMetrics()
	o := Options{Config: cfg, Logger: zerolog.New(f.logs).With().Timestamp().Logger(), Metrics: f.metrics}
	o.Throttle = throttle.New(st, throttle.Options{MaxFailures: cfg.LoginMaxFailures, MaxFailuresPerIP: cfg.LoginMaxFailuresPerIP, Window: cfg.LoginWindow, Lockout: cfg.LoginLockout})
	var verifier Verifier = v
	if cfg.RevocationOn() {
		_, shared := st.(*state.Redis)
		f.revocations = session.NewRevocations(st, session.RevocationOptions{Issuer: cfg.Issuer, Horizon: cfg.RevocationHorizon(), MaxStaleness: cfg.StoreMaxStaleness, Shared: shared})
		if err := f.revocations.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		verifier, o.Revoker = session.NewCheckingVerifier(v, f.revocations), f.revocations
		if cfg.RefreshTTL > 0 {
			o.Sessions = session.NewSessions(st, f.revocations, cfg.RefreshTTL, nil)
		}
	}
	f.current = &atomic.Pointer[Snapshot]{}
	f.current.Store(&Snapshot{Rules: rulesFor(cfg, rules), Verifier: verifier, Issuer: f.issuer, Users: users, JWKS: keys.PublicJWKS()})
	o.Current = f.current
	h := NewServer(o)
	f.front = httptest.NewServer(h)
	t.Cleanup(f.front.Close)
	return f
}

// newRedisFixture is newFixture (without an upstream) on a real Redis,
// which the test may kill and start again.
func newRedisFixture(t *testing.T, env ...string) (*fixture, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	st, err := state.OpenRedis(srv.URL(), "authgate:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newFixtureStore(t, st, false, env...), srv
}

// rulesFor builds the rules as serve does, from the rules file's rules and
// the path lists of cfg.
func rulesFor(cfg config.Config, file []policy.Rule) *policy.Rules {
	return policy.New(policy.Options{File: file, Protected: cfg.ProtectedPaths, Public: cfg.PublicPaths, UnlistedPublic: cfg.ProtectedPathsSet, RolesClaim: cfg.RolesClaim})
}

// current returns a Current that always hands out s.
func current(s *Snapshot) Current {
	p := &atomic.Pointer[Snapshot]{}
	p.Store(s)
	return p
}

// token mints a token for alice (sub 1) with extra claims.
func (f *fixture) token(t *testing.T, extra map[string]any, ttl time.Duration) string {
	t.Helper()
	claims := map[string]any{"username": "alice", "roles": []any{"admin", "user"}}
	for k, v := range extra {
		claims[k] = v
	}
	issued, err := f.issuer.Issue("1", claims, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return issued.Token
}

// expiredToken is signed with the test secret and expired an hour ago.
func (f *fixture) expiredToken(t *testing.T) string {
	t.Helper()
	is, err := auth.NewIssuer(mustKeys(t), auth.IssuerOptions{
		Issuer: f.cfg.Issuer, TTL: time.Minute,
		Now: func() time.Time { return time.Now().Add(-2 * time.Hour) },
	})
	if err != nil {
		t.Fatal(err)
	}
	issued, err := is.Issue("1", map[string]any{"username": "alice"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return issued.Token
}

func mustKeys(t testing.TB) *auth.KeySet {
	key, err := auth.NewHMACKey([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	ks, err := auth.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// do sends req to the front server and returns the response with its body.
func (f *fixture) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := f.front.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func (f *fixture) request(t *testing.T, method, path string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, f.front.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// raw sends bytes exactly as written (no client normalises the target) and
// returns the response.
func (f *fixture) raw(t *testing.T, request string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", f.front.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response to %q: %v", strings.SplitN(request, "\r\n", 2)[0], err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// errorBody returns the error message of a JSON error response.
func errorBody(t *testing.T, resp *http.Response, body string) string {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json (body %q)", ct, body)
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e.Error
}
