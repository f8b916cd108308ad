package proxy

import (
	"net/http"
	"net/url"
	"testing"
)

// The decision and proxy paths' allocations are a budget, checked on every
// test run rather than only in a benchmark someone must remember to run:
// allocations, unlike time, count the same on every machine. authgate's
// own are counted over a bare httputil.ReverseProxy's for the same request,
// which absorbs what a Go release changes in net/http. Behind a trusted
// proxy the client is read from X-Forwarded-For once, for the access line
// and the upstream's X-Forwarded-For both.
func TestHotPathAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own, and sync.Pool drops items on purpose")
	}
	target, _ := url.Parse("http://upstream.test")
	bare := bareProxy(target)
	h, tok := benchServerVia(t, cannedUpstream{}, "AUTHGATE_UPSTREAM="+target.String(), "AUTHGATE_PUBLIC_PATHS=/public/*")
	fa, _ := benchServer(t, "AUTHGATE_PUBLIC_PATHS=/public/*") // the same secret, so tok verifies
	// Behind a trusted front proxy, which says who the client is.
	behind, _ := benchServerVia(t, cannedUpstream{}, "AUTHGATE_UPSTREAM="+target.String(), "AUTHGATE_TRUSTED_PROXIES=127.0.0.0/8")
	// Every claim as X-Auth-Claims, written from the flat claims.
	withClaims, _ := benchServerVia(t, cannedUpstream{}, "AUTHGATE_UPSTREAM="+target.String(), "AUTHGATE_CLAIMS_HEADER=true")
	allocs := func(h http.Handler, req *http.Request) float64 {
		t.Helper()
		w := &discardWriter{h: http.Header{}}
		serve := func() {
			clear(w.h)
			w.code = 0
			h.ServeHTTP(w, req)
		}
		serve() // the token cache fills, pools fill
		if w.code != 200 {
			t.Fatalf("%s %s: status %d", req.Method, req.URL, w.code)
		}
		return testing.AllocsPerRun(200, serve)
	}
	forwarded := proxiedRequest("/api/items", tok)
	forwarded.Header.Set("X-Forwarded-For", "203.0.113.7, 198.51.100.2")
	for _, tc := range []struct {
		name   string
		h      http.Handler
		req    *http.Request
		budget float64 // over the bare proxy's, or in all for forward-auth
		over   bool
	}{
		{"proxy mode, public path", h, proxiedRequest("/public/items", tok), 3, true},
		{"proxy mode, cached token", h, proxiedRequest("/api/items", tok), 8, true},
		{"proxy mode behind a trusted proxy, cached token", behind, forwarded, 14, true},
		{"proxy mode with X-Auth-Claims, cached token", withClaims, proxiedRequest("/api/items", tok), 10, true},
		{"forward-auth, cached token", fa, forwardAuthRequest(tok), 7, false},
	} {
		n, base := allocs(tc.h, tc.req), 0.0
		if tc.over {
			base = allocs(bare, tc.req) // the same request, bare
		}
		switch {
		case tc.over && n-base > tc.budget:
			t.Errorf("%s: %v allocations a request, %v over the bare proxy's %v; the budget is %v over", tc.name, n, n-base, base, tc.budget)
		case !tc.over && n > tc.budget:
			t.Errorf("%s: %v allocations a request; the budget is %v", tc.name, n, tc.budget)
		}
	}
}
