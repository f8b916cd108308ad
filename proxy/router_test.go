package proxy

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/authgate/authgate/config"
)

// TestRouterIsServeMux: for every canonical path (what checkRequest lets
// through), the router picks the handler http.ServeMux picks for the same
// literal patterns, also with endpoint paths nested in each other.
func TestRouterIsServeMux(t *testing.T) {
	for _, endpoints := range [][]string{
		{"/login", "/refresh", "/logout", "/me", "/auth", "/.well-known/jwks.json"}, // the defaults
		{"/a", "/a/b", "/a/b/c", "/ab", "/b"},                                       // nested
		{"/x/auth", "/x", "/x/authz"},
	} {
		rt, mux := newRouter(), http.NewServeMux()
		named := func(name string) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Header().Set("Route", name) })
		}
		// The endpoints, and subtrees like the verify path's.
		patterns := append(append([]string(nil), endpoints...), endpoints[0]+"/", endpoints[1]+"/", "/")
		for _, p := range patterns {
			rt.Handle(p, named(p))
			mux.Handle(p, named(p))
		}
		segments := []string{"", "a", "b", "c", "ab", "x", "auth", "authz", "login", "me", ".well-known", "jwks.json",
			"%2F", "a%2Fb", "a?b", "a#b", "a b", "ä", "%", "a;b", "{a}", "*"}
		var paths []string
		for _, s1 := range segments {
			paths = append(paths, "/"+s1)
			for _, s2 := range segments {
				paths = append(paths, "/"+s1+"/"+s2)
				for _, s3 := range []string{"", "b", "c", "me", "jwks.json"} {
					paths = append(paths, "/"+s1+"/"+s2+"/"+s3)
				}
			}
		}
		for _, e := range endpoints {
			paths = append(paths, e, e+"/", e+"/x", e+"x")
		}
		n := 0
		for _, p := range paths {
			if !config.IsCanonicalPath(p) {
				continue
			}
			n++
			r := &http.Request{Method: "GET", Host: "app.example", URL: &url.URL{Path: p}, Header: http.Header{}}
			got, want := httptest.NewRecorder(), httptest.NewRecorder()
			rt.ServeHTTP(got, r)
			mux.ServeHTTP(want, r)
			if got.Code != want.Code || got.Header().Get("Route") != want.Header().Get("Route") {
				t.Errorf("endpoints %v, path %q: router %d %q, ServeMux %d %q", endpoints, p,
					got.Code, got.Header().Get("Route"), want.Code, want.Header().Get("Route"))
			}
		}
		if n < 1000 {
			t.Fatalf("only %d paths", n)
		}
	}
}

func TestRouterRefusesWhatServeMuxRefuses(t *testing.T) {
	for _, tc := range []struct {
		name     string
		patterns []string
	}{
		{"twice", []string{"/me", "/me"}},
		{"subtree twice", []string{"/auth/", "/auth/"}},
		{"a wildcard", []string{"/{x}"}},
		{"relative", []string{"me"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Handle(%q) did not panic", tc.patterns)
				}
			}()
			rt := newRouter()
			for _, p := range tc.patterns {
				rt.Handle(p, http.NotFoundHandler())
			}
		})
	}
}
