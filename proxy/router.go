package proxy

import (
	"net/http"
	"slices"
	"strings"
)

// router routes the main listener by path, as an http.ServeMux with only
// literal patterns does: a pattern without a trailing slash matches its
// path exactly, one with a trailing slash ("/auth/", "/") the paths below
// it, and the longest pattern wins. It needs neither the mux's path
// cleaning nor its redirects, since it runs after checkRequest, which
// leaves only canonical paths in r.URL.Path, and authgate's endpoint paths
// are plain (config's checkEndpointPath). ServeMux's pattern matching cost
// three allocations and about 0.4 µs a request; a map lookup costs neither.
// TestRouterIsServeMux holds the two to the same choices.
type router struct {
	exact    map[string]http.Handler
	subtrees []subtree // longest pattern first
}

type subtree struct {
	prefix string // ends with "/"
	h      http.Handler
}

func newRouter() *router { return &router{exact: map[string]http.Handler{}} }

// Handle registers h for pattern, a literal path; like ServeMux, it panics
// when pattern is registered twice.
func (rt *router) Handle(pattern string, h http.Handler) {
	if !strings.HasPrefix(pattern, "/") || strings.ContainsAny(pattern, "{} \t") {
		panic("proxy: route " + pattern + " is not a literal path")
	}
	if !strings.HasSuffix(pattern, "/") {
		if _, dup := rt.exact[pattern]; dup {
			panic("proxy: route " + pattern + " registered twice")
		}
		rt.exact[pattern] = h
		return
	}
	if slices.ContainsFunc(rt.subtrees, func(st subtree) bool { return st.prefix == pattern }) {
		panic("proxy: route " + pattern + " registered twice")
	}
	rt.subtrees = append(rt.subtrees, subtree{pattern, h})
	slices.SortStableFunc(rt.subtrees, func(a, b subtree) int { return len(b.prefix) - len(a.prefix) })
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := rt.exact[r.URL.Path]; ok {
		h.ServeHTTP(w, r)
		return
	}
	for _, st := range rt.subtrees {
		if strings.HasPrefix(r.URL.Path, st.prefix) {
			st.h.ServeHTTP(w, r)
			return
		}
	}
	http.NotFound(w, r) // no "/" route: not authgate's (addRoutes always has one)
}
