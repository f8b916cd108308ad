package proxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/internal/redistest"
	"github.com/authgate/authgate/session"
	"github.com/authgate/authgate/state"
)

// benchServer is authgate's handler tree with a discarded log, as it runs.
func benchServer(b testing.TB, env ...string) (http.Handler, string) {
	return benchServerVia(b, nil, env...)
}

// benchServerVia is benchServer with transport to the upstream (nil: its
// own).
func benchServerVia(b testing.TB, transport http.RoundTripper, env ...string) (http.Handler, string) {
	b.Helper()
	cfg, err := config.Load(append([]string{"AUTHGATE_JWT_SECRET=" + testSecret}, env...))
	if err != nil {
		b.Fatal(err)
	}
	keys := mustKeys(b)
	tc, _ := auth.NewTokenCache(cfg.TokenCacheSize, cfg.TokenCacheTTL) // as the binary: on unless the env says 0
	v, err := auth.NewVerifier(keys, auth.VerifierOptions{Issuer: cfg.Issuer, Leeway: cfg.ClockSkew, Cache: tc})
	if err != nil {
		b.Fatal(err)
	}
	is, _ := auth.NewIssuer(keys, auth.IssuerOptions{Issuer: cfg.Issuer, TTL: cfg.TokenTTL})
	issued, _ := is.Issue("1", map[string]any{"username": "alice", "roles": []any{"admin"}}, 0)
	h := NewServer(Options{Config: cfg, Logger: zerolog.New(io.Discard), Transport: transport, Current: current(&Snapshot{
		Rules: rulesFor(cfg, nil), Verifier: v, Issuer: is, JWKS: keys.PublicJWKS(),
	})})
	return h, issued.Token
}

// BenchmarkForwardAuth is one Traefik-style forward-auth decision with a
// valid token that comes back (the token cache answers), in process.
func BenchmarkForwardAuth(b *testing.B) {
	h, tok := benchServer(b, "AUTHGATE_PUBLIC_PATHS=/public/*")
	benchForwardAuth(b, h, tok)
}

// BenchmarkForwardAuthUncached is the same decision verifying the token in
// full every time (AUTHGATE_TOKEN_CACHE_SIZE=0).
func BenchmarkForwardAuthUncached(b *testing.B) {
	h, tok := benchServer(b, "AUTHGATE_PUBLIC_PATHS=/public/*", "AUTHGATE_TOKEN_CACHE_SIZE=0")
	benchForwardAuth(b, h, tok)
}

// BenchmarkForwardAuthRevocation is the same decision with the revocation
// check on (the token has a jti, and a revocation of another token is in
// the copy), the state in memory or in a real Redis: compare with
// BenchmarkForwardAuth. The check reads the local copy only, so Redis adds
// no round trip.
func BenchmarkForwardAuthRevocation(b *testing.B) {
	for _, backend := range []string{"memory", "redis"} {
		b.Run(backend, func(b *testing.B) {
			var st state.Store = state.NewMemory(nil)
			if backend == "redis" {
				r, err := state.OpenRedis(redistest.Start(b).URL(), "authgate:")
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { r.Close() })
				st = r
			}
			cfg, _ := config.Load([]string{"AUTHGATE_JWT_SECRET=" + testSecret})
			keys := mustKeys(b)
			tc, _ := auth.NewTokenCache(cfg.TokenCacheSize, cfg.TokenCacheTTL) // as the binary
			v, _ := auth.NewVerifier(keys, auth.VerifierOptions{Issuer: cfg.Issuer, Leeway: cfg.ClockSkew, Cache: tc})
			is, _ := auth.NewIssuer(keys, auth.IssuerOptions{Issuer: cfg.Issuer, TTL: cfg.TokenTTL})
			rev := session.NewRevocations(st, session.RevocationOptions{Issuer: cfg.Issuer, Horizon: time.Hour, MaxStaleness: time.Hour})
			if err := rev.Sync(context.Background()); err != nil {
				b.Fatal(err)
			}
			rev.RevokeToken(context.Background(), cfg.Issuer, "someone-else", time.Now().Add(time.Hour))
			issued, _ := is.Issue("1", map[string]any{"username": "alice", "roles": []any{"admin"}}, 0)
			h := NewServer(Options{Config: cfg, Logger: zerolog.New(io.Discard), Current: current(&Snapshot{
				Rules: rulesFor(cfg, nil), Verifier: session.NewCheckingVerifier(v, rev), Issuer: is, JWKS: keys.PublicJWKS(),
			})})
			benchForwardAuth(b, h, issued.Token)
		})
	}
}

// forwardAuthRequest is a Traefik-style auth subrequest for GET
// app.example/api/items?page=2 with tok.
func forwardAuthRequest(tok string) *http.Request {
	req := httptest.NewRequest("GET", "/auth", nil)
	req.Header.Set("X-Forwarded-Method", "GET")
	req.Header.Set("X-Forwarded-Uri", "/api/items?page=2")
	req.Header.Set("X-Forwarded-Host", "app.example")
	req.Header.Set("Authorization", "Bearer "+tok)
	return req
}

func benchForwardAuth(b *testing.B, h http.Handler, tok string) {
	req := forwardAuthRequest(tok)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkProxy sends the same request through authgate (token checked,
// identity headers set) and through a bare httputil.ReverseProxy, both on
// loopback in front of the same upstream, with the same transport and buffer
// pool; compare the two ns/op.
func BenchmarkProxy(b *testing.B) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer upstream.Close()
	target, _ := url.Parse(upstream.URL)

	h, tok := benchServer(b, "AUTHGATE_UPSTREAM="+upstream.URL)
	bare := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport:  NewTransport(30 * time.Second),
		BufferPool: &bufferPool{},
	}
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"authgate", h}} {
		b.Run(bc.name, func(b *testing.B) {
			front := httptest.NewServer(bc.h)
			defer front.Close()
			client := front.Client()
			req, _ := http.NewRequest("GET", front.URL+"/api/items?page=2", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}

// cannedUpstream is a RoundTripper that answers every request at once with a
// two-byte 200, so that a benchmark measures the proxy's own work alone.
type cannedUpstream struct{}

func (cannedUpstream) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"2"}},
		Body:          io.NopCloser(strings.NewReader("ok")),
		ContentLength: 2,
		Request:       r,
	}, nil
}

// bareProxy is a bare httputil.ReverseProxy in front of target, the
// baseline authgate's own work is measured against.
func bareProxy(target *url.URL) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport:  cannedUpstream{},
		BufferPool: &bufferPool{},
	}
}

// proxiedRequest is GET path?page=2 as a client sends it (origin form,
// from a loopback peer) with tok and two more headers.
func proxiedRequest(path, tok string) *http.Request {
	req := httptest.NewRequest("GET", "http://authgate.test"+path+"?page=2", nil)
	req.RequestURI = path + "?page=2"
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("User-Agent", "bench")
	req.Header.Set("Accept", "*/*")
	return req
}

// discardWriter is a ResponseWriter that keeps nothing but a header map,
// cleared for every request.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkProxyOverhead is authgate's own work on a proxied request, network
// excluded: the same request through a bare httputil.ReverseProxy and
// through authgate (on a public path, and with a token whose verification
// the cache answers), both in front of an upstream that answers at once.
// The differences of ns/op and allocs/op are what authgate adds.
func BenchmarkProxyOverhead(b *testing.B) {
	target, _ := url.Parse("http://upstream.test")
	bare := bareProxy(target)
	h, tok := benchServerVia(b, cannedUpstream{}, "AUTHGATE_UPSTREAM="+target.String(), "AUTHGATE_PUBLIC_PATHS=/public/*")
	for _, bc := range []struct {
		name, path string
		h          http.Handler
	}{{"bare", "/api/items", bare}, {"authgate-public", "/public/items", h}, {"authgate-token", "/api/items", h}} {
		b.Run(bc.name, func(b *testing.B) {
			req := proxiedRequest(bc.path, tok)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.code = 0
				bc.h.ServeHTTP(w, req)
				if w.code != 200 {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}
