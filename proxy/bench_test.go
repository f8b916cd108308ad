package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/rs/zerolog"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/config"
)

// benchServer is authgate's handler tree with a discarded log, as it runs.
func benchServer(b *testing.B, env ...string) (http.Handler, string) {
	b.Helper()
	cfg, err := config.Load(append([]string{"AUTHGATE_JWT_SECRET=" + testSecret}, env...))
	if err != nil {
		b.Fatal(err)
	}
	keys := mustKeys(b)
	v, err := auth.NewVerifier(keys, auth.VerifierOptions{Issuer: cfg.Issuer, Leeway: cfg.ClockSkew})
	if err != nil {
		b.Fatal(err)
	}
	is, _ := auth.NewIssuer(keys, auth.IssuerOptions{Issuer: cfg.Issuer, TTL: cfg.TokenTTL})
	issued, _ := is.Issue("1", map[string]any{"username": "alice", "roles": []any{"admin"}}, 0)
	h := NewServer(Options{Config: cfg, Logger: zerolog.New(io.Discard), Current: current(&Snapshot{
		Rules: rulesFor(cfg, nil), Verifier: v, Issuer: is, JWKS: keys.PublicJWKS(),
	})})
	return h, issued.Token
}

// BenchmarkForwardAuth is one Traefik-style forward-auth decision with a
// valid token, in process.
func BenchmarkForwardAuth(b *testing.B) {
	h, tok := benchServer(b, "AUTHGATE_PUBLIC_PATHS=/public/*")
	req := httptest.NewRequest("GET", "/auth", nil)
	req.Header.Set("X-Forwarded-Method", "GET")
	req.Header.Set("X-Forwarded-Uri", "/api/items?page=2")
	req.Header.Set("X-Forwarded-Host", "app.example")
	req.Header.Set("Authorization", "Bearer "+tok)
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
// loopback in front of the same upstream; compare the two ns/op.
func BenchmarkProxy(b *testing.B) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer upstream.Close()
	target, _ := url.Parse(upstream.URL)

	h, tok := benchServer(b, "AUTHGATE_UPSTREAM="+upstream.URL)
	bare := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.SetXForwarded()
	}}
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
