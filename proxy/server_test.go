package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/authgate/authgate/config"
)

func TestProxyDecisions(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_PUBLIC_PATHS=/public/*,/health")
	valid := f.token(t, nil, 0)
	tests := []struct {
		name      string
		path      string
		authz     []string
		status    int
		message   string // error message, for denials
		challenge string // WWW-Authenticate, for 401
		identity  bool   // upstream must get alice's identity headers
	}{
		{name: "public, no token", path: "/public/page", status: 200},
		{name: "public exact", path: "/health", status: 200},
		{name: "public with a token gets no identity", path: "/public", authz: []string{"Bearer " + valid}, status: 200},
		{name: "protected, no token", path: "/api", status: 401, message: msgMissingAuth, challenge: `Bearer realm="authgate"`},
		{name: "protected, valid token", path: "/api/items?x=1", authz: []string{"Bearer " + valid}, status: 200, identity: true},
		{name: "scheme in any case", path: "/api", authz: []string{"bEaReR " + valid}, status: 200, identity: true},
		{name: "expired", path: "/api", authz: []string{"Bearer " + f.expiredToken(t)}, status: 401, message: msgTokenExpired, challenge: `Bearer realm="authgate", error="invalid_token"`},
		{name: "garbage token", path: "/api", authz: []string{"Bearer abc.def.ghi"}, status: 401, message: msgInvalidToken, challenge: `Bearer realm="authgate", error="invalid_token"`},
		{name: "token of another secret", path: "/api", authz: []string{"Bearer " + valid[:len(valid)-4] + "AAAA"}, status: 401, message: msgInvalidToken},
		{name: "Basic scheme", path: "/api", authz: []string{"Basic YWxpY2U6c2VjcmV0"}, status: 401, message: msgMissingAuth},
		{name: "Bearer without token", path: "/api", authz: []string{"Bearer"}, status: 401, message: msgMissingAuth},
		{name: "two Authorization headers", path: "/api", authz: []string{"Bearer " + valid, "Bearer " + valid}, status: 401, message: msgMissingAuth},
		{name: "token in the query is never read", path: "/api?access_token=" + valid, status: 401, message: msgMissingAuth},
		{name: "the path below the public prefix only", path: "/publicity", status: 401, message: msgMissingAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := f.request(t, "GET", tt.path, nil)
			req.Header["Authorization"] = tt.authz
			addForged(req.Header)
			resp, body := f.do(t, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("GET %s = %d %s, want %d", tt.path, resp.StatusCode, body, tt.status)
			}
			got, reached := f.backend.take(t)
			if reached != (tt.status == 200) {
				t.Fatalf("upstream reached = %v, want %v", reached, tt.status == 200)
			}
			if tt.status != 200 {
				if msg := errorBody(t, resp, body); msg != tt.message {
					t.Errorf("error = %q, want %q", msg, tt.message)
				}
				if tt.challenge != "" && resp.Header.Get("WWW-Authenticate") != tt.challenge {
					t.Errorf("WWW-Authenticate = %q, want %q", resp.Header.Get("WWW-Authenticate"), tt.challenge)
				}
				return
			}
			assertNoForged(t, got)
			want := map[string]string{"X-Auth-Subject": "1", "X-Auth-User": "alice", "X-Auth-Roles": "admin,user"}
			for name, v := range want {
				if tt.identity && fmt.Sprint(got.Header[name]) != "["+v+"]" {
					t.Errorf("upstream %s = %q, want [%s]", name, got.Header[name], v)
				}
				if !tt.identity && got.Header[name] != nil {
					t.Errorf("upstream got %s = %q on a public path", name, got.Header[name])
				}
			}
		})
	}
}

// TestPathBypass sends request targets as raw bytes, so that no client
// cleans them, and checks that none reaches a protected path unauthenticated.
func TestPathBypass(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_PROTECTED_PATHS=/admin/*", "AUTHGATE_PUBLIC_PATHS=/public/*")
	tests := []struct {
		target string
		status int
	}{
		{"/public/../admin", 400},
		{"/public/%2e%2e/admin", 400},
		{"/public/%2E%2E/admin", 400},
		{"/public/.%2e/admin", 400},
		{"/public/./../admin", 400},
		{"/admin/.", 400},
		{"/./admin", 400},
		{"//admin", 400},
		{"/public//../admin", 400},
		{"/admin%2fsecret", 400},
		{"/admin%2Fsecret", 400},
		{"/public%2f..%2fadmin", 400},
		{"/public/%252e%252e/admin", 400},
		{"/public\\..\\admin", 400},
		{"/public/%5c..%5cadmin", 400},
		{"/admin;jsessionid=x", 400},
		{"/public;/../admin", 400},
		{"/public/%3b/admin", 400},
		{"/ad%00min", 400},
		{"/public/%0d%0aX-Auth-User:%20mallory", 400},
		{"/public/#/../admin", 400},
		{"http://evil.example/admin", 400},
		{"HTTP://127.0.0.1/public/../admin", 400},
		{"*", 400},
		{"/%61dmin", 401},           // decoded before matching: /admin
		{"/admin/", 401},            // the prefix covers the trailing slash
		{"/admin?/public", 401},     // the query never matches
		{"/public/ok", 200},         // still public
		{"/public/a%20b", 200},      // an encoded space is a plain character
		{"/elsewhere", 200},         // not listed: public, as PROTECTED_PATHS is set
		{"/public/%61dmin/..", 400}, // dot segments after decoding too
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			req := "GET " + tt.target + " HTTP/1.1\r\nHost: app.example\r\nX-Auth-User: mallory\r\nConnection: close\r\n\r\n"
			resp, body := f.raw(t, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("GET %s = %d %s, want %d", tt.target, resp.StatusCode, body, tt.status)
			}
			got, reached := f.backend.take(t)
			if reached != (tt.status == 200) {
				t.Fatalf("upstream reached = %v for %s", reached, tt.target)
			}
			if tt.status == 400 {
				if msg := errorBody(t, resp, body); msg != msgBadPath {
					t.Errorf("error = %q, want %q", msg, msgBadPath)
				}
			}
			if reached {
				assertNoForged(t, got)
			}
		})
	}
}

// TestUpstreamGetsTheMatchedPath checks that the path rules saw is the path
// the upstream receives: decoded escapes arrive decoded (re-encoded only
// where a path needs it) and the query is passed on untouched.
func TestUpstreamGetsTheMatchedPath(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_PROTECTED_PATHS=/private/*")
	for _, tt := range []struct{ target, want string }{
		{"/%61dmin", "/admin"},
		{"/x/a%20b?q=%2F&r=1", "/x/a%20b?q=%2F&r=1"},
		{"/caf%C3%A9", "/caf%C3%A9"},
		{"/a/b/", "/a/b/"},
	} {
		resp, body := f.raw(t, "GET "+tt.target+" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d %s", tt.target, resp.StatusCode, body)
		}
		got, _ := f.backend.take(t)
		if got.RequestURI != tt.want {
			t.Errorf("GET %s reached the upstream as %s, want %s", tt.target, got.RequestURI, tt.want)
		}
	}
}

func TestConnectionHeaderCannotDropIdentity(t *testing.T) {
	f := newFixture(t, true)
	req := f.request(t, "GET", "/api", nil)
	req.Header.Set("Authorization", "Bearer "+f.token(t, nil, 0))
	req.Header.Set("Connection", "X-Auth-User, X-Auth-Subject, X-Auth-Roles, Authorization")
	resp, body := f.do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	got, _ := f.backend.take(t)
	if got.Header.Get("X-Auth-User") != "alice" || got.Header.Get("X-Auth-Subject") != "1" {
		t.Errorf("upstream identity = %v; a client Connection header removed it", got.Header)
	}
}

func TestTrailersCannotCarryIdentity(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_PROTECTED_PATHS=/private/*")
	req := "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-Auth-User, X-Auth_Roles\r\nConnection: close\r\n\r\n" +
		"5\r\nhello\r\n0\r\nX-Auth-User: mallory\r\nX-Auth_Roles: forged-admin\r\n\r\n"
	resp, body := f.raw(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	got, _ := f.backend.take(t)
	if got.Body != "hello" {
		t.Errorf("upstream body = %q, want hello", got.Body)
	}
	assertNoForged(t, got)
}

func TestForwardedHeadersAndHost(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_PROTECTED_PATHS=/private/*")
	req := f.request(t, "POST", "/form", strings.NewReader("a=1"))
	req.Host = "app.example"
	req.Header.Set("X-Forwarded-For", "6.6.6.6")
	req.Header.Set("X-Forwarded-Host", "evil.example")
	req.Header.Set("Forwarded", "for=6.6.6.6")
	req.Header["X-Request-Id"] = []string{"forged-1", "forged-2"} // replaced, never passed on
	resp, _ := f.do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got, _ := f.backend.take(t)
	checks := map[string]string{
		"X-Forwarded-For":   "127.0.0.1",
		"X-Forwarded-Host":  "app.example",
		"X-Forwarded-Proto": "http",
		"Forwarded":         "",
	}
	for name, want := range checks {
		if v := got.Header.Get(name); v != want {
			t.Errorf("upstream %s = %q, want %q", name, v, want)
		}
	}
	if got.Host != "app.example" || got.Body != "a=1" || got.Method != "POST" {
		t.Errorf("upstream got Host %q, body %q, method %s", got.Host, got.Body, got.Method)
	}
	if ids := got.Header.Values("X-Request-Id"); len(ids) != 1 || len(ids[0]) != 20 || ids[0] != resp.Header.Get("X-Request-Id") {
		t.Errorf("X-Request-Id upstream %q, to the client %q", got.Header.Get("X-Request-Id"), resp.Header.Get("X-Request-Id"))
	}
}

func TestStripAuthorization(t *testing.T) {
	for _, strip := range []bool{false, true} {
		f := newFixture(t, true, fmt.Sprintf("AUTHGATE_STRIP_AUTHORIZATION=%v", strip))
		req := f.request(t, "GET", "/x", nil)
		authz := "Bearer " + f.token(t, nil, 0)
		req.Header.Set("Authorization", authz)
		if resp, body := f.do(t, req); resp.StatusCode != 200 {
			t.Fatalf("STRIP_AUTHORIZATION=%v: status %d %s", strip, resp.StatusCode, body)
		}
		got, reached := f.backend.take(t)
		if !reached {
			t.Fatalf("STRIP_AUTHORIZATION=%v: the request did not reach the upstream", strip)
		}
		if got.Header.Get("X-Auth-Subject") != "1" {
			t.Errorf("STRIP_AUTHORIZATION=%v: upstream identity = %v", strip, got.Header)
		}
		want := []string{authz}
		if strip {
			want = nil
		}
		if v := got.Header.Values("Authorization"); len(v) != len(want) || len(v) == 1 && v[0] != want[0] {
			t.Errorf("STRIP_AUTHORIZATION=%v: upstream Authorization = %q, want %q", strip, v, want)
		}
	}
}

func TestClaimHeadersMapping(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_CLAIM_HEADERS=sub=X-User-Id,realm_access.roles=X-Roles,email=X-Email,missing=X-Missing")
	req := f.request(t, "GET", "/x", nil)
	req.Header.Set("Authorization", "Bearer "+f.token(t, map[string]any{
		"realm_access": map[string]any{"roles": []any{"a", "b"}},
		"email":        "alice@example.com",
	}, 0))
	req.Header["X-User_Id"] = []string{"mallory"} // a configured header in another spelling
	req.Header["X-Missing"] = []string{"mallory"}
	addForged(req.Header)
	resp, body := f.do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	got, _ := f.backend.take(t)
	assertNoForged(t, got)
	for name, want := range map[string]string{"X-User-Id": "1", "X-Roles": "a,b", "X-Email": "alice@example.com", "X-Missing": ""} {
		if v := got.Header.Get(name); v != want {
			t.Errorf("upstream %s = %q, want %q", name, v, want)
		}
	}
	for name := range got.Header {
		if strings.EqualFold(name, "X-User_Id") {
			t.Errorf("upstream got the client's %s", name)
		}
	}
}

func TestUpstreamErrors(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		f := newFixture(t, true, "AUTHGATE_PROTECTED_PATHS=/private/*")
		f.backend.server.Close()
		resp, body := f.do(t, f.request(t, "GET", "/x", nil))
		if resp.StatusCode != 502 || errorBody(t, resp, body) != msgUpstreamDown {
			t.Errorf("= %d %s, want 502 %q", resp.StatusCode, body, msgUpstreamDown)
		}
		// The access line says why, under the id the client got.
		var line struct {
			RequestID     string `json:"request_id"`
			UpstreamError string `json:"upstream_error"`
			Reason        string `json:"reason"`
		}
		logs := f.logs.String()
		if err := json.Unmarshal([]byte(logs[strings.LastIndex(strings.TrimSpace(logs), "\n")+1:]), &line); err != nil {
			t.Fatalf("access line: %v\n%s", err, logs)
		}
		if id := resp.Header.Get("X-Request-Id"); len(id) != 20 || line.RequestID != id ||
			!strings.HasPrefix(line.UpstreamError, "dial tcp") || line.Reason != "upstream_unavailable" {
			t.Errorf("access line %+v for X-Request-Id %q", line, id)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		slow := newBackend(t, func(w http.ResponseWriter, r *http.Request) { <-release })
		t.Cleanup(func() { close(release) })
		f := newFixture(t, false, "AUTHGATE_UPSTREAM="+slow.server.URL, "AUTHGATE_PROTECTED_PATHS=/private/*", "AUTHGATE_UPSTREAM_TIMEOUT=100ms")
		resp, body := f.do(t, f.request(t, "GET", "/x", nil))
		if resp.StatusCode != 504 || errorBody(t, resp, body) != msgUpstreamTimeout {
			t.Errorf("= %d %s, want 504 %q", resp.StatusCode, body, msgUpstreamTimeout)
		}
	})
}

func TestHeaderLimit(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_PROTECTED_PATHS=/private/*", "AUTHGATE_MAX_HEADER_BYTES=2048")
	req := f.request(t, "GET", "/x", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 3000))
	resp, body := f.do(t, req)
	if resp.StatusCode != 431 || errorBody(t, resp, body) != msgHeadersTooLarge {
		t.Errorf("= %d %s, want 431 %q", resp.StatusCode, body, msgHeadersTooLarge)
	}
	if _, reached := f.backend.take(t); reached {
		t.Error("upstream reached")
	}
	req.Header.Set("X-Big", strings.Repeat("a", 1000))
	if resp, _ := f.do(t, req); resp.StatusCode != 200 {
		t.Errorf("a request under the limit got %d", resp.StatusCode)
	}
}

func TestNotFoundWithoutUpstream(t *testing.T) {
	f := newFixture(t, false)
	resp, body := f.do(t, f.request(t, "GET", "/anything", nil))
	if resp.StatusCode != 404 || errorBody(t, resp, body) != msgNotFound {
		t.Errorf("= %d %s, want 404", resp.StatusCode, body)
	}
}

func TestJWKS(t *testing.T) {
	f := newFixture(t, false)
	resp, body := f.do(t, f.request(t, "GET", "/.well-known/jwks.json", nil))
	if resp.StatusCode != 200 || body != "{\"keys\":[]}\n" || !strings.HasPrefix(resp.Header.Get("Cache-Control"), "public, max-age=") {
		t.Errorf("= %d %q %v", resp.StatusCode, body, resp.Header)
	}
}

func TestUpstreamResponseHeadersPassThrough(t *testing.T) {
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-From-App", "yes")
		w.WriteHeader(418)
	})
	f := newFixture(t, false, "AUTHGATE_UPSTREAM="+b.server.URL, "AUTHGATE_PROTECTED_PATHS=/private/*")
	resp, _ := f.do(t, f.request(t, "GET", "/teapot", nil))
	if resp.StatusCode != 418 || resp.Header.Get("X-From-App") != "yes" {
		t.Errorf("= %d %v", resp.StatusCode, resp.Header)
	}
}

// TestMethodOverridesNeverReachTheUpstream: a rule that allows GET cannot be
// turned into a DELETE by a header the upstream's framework honours, on a
// protected path or a public one, in any spelling, as a trailer too.
func TestMethodOverridesNeverReachTheUpstream(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_PUBLIC_PATHS=/public/*")
	spellings := []string{"X-HTTP-Method-Override", "x-http-method", "X-Method-Override", "X_HTTP_Method_Override", "X.Http.Method"}
	for _, path := range []string{"/api/items", "/public/items"} {
		req := f.request(t, "GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+f.token(t, nil, 0))
		for _, name := range spellings {
			req.Header[name] = []string{"DELETE"}
		}
		if resp, body := f.do(t, req); resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d %s", path, resp.StatusCode, body)
		}
		got, _ := f.backend.take(t)
		for name, v := range got.Header {
			if methodOverrides[config.NormalizeHeaderName(name)] || slices.Contains(v, "DELETE") {
				t.Errorf("GET %s: the upstream got %s: %v", path, name, v)
			}
		}
	}
	resp, body := f.raw(t, "POST /public/upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-HTTP-Method-Override\r\nConnection: close\r\n\r\n"+
		"2\r\nhi\r\n0\r\nX-HTTP-Method-Override: DELETE\r\n\r\n")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	if got, _ := f.backend.take(t); got.Trailer.Get("X-HTTP-Method-Override") != "" {
		t.Errorf("a method override arrived as a trailer: %v", got.Trailer)
	}
}

// TestSessionCookie: the session cookie is a credential on every path that
// reads a token, only without an Authorization header; it is revoked like
// a Bearer token, never forwarded upstream (other cookies are), and never
// logged.
func TestSessionCookie(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_PUBLIC_PATHS=/public/*")
	tok := f.token(t, nil, 0)
	send := func(method, path string, headers ...string) (*http.Response, string, recorded) {
		t.Helper()
		req := f.request(t, method, path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Add(headers[i], headers[i+1])
		}
		resp, body := f.do(t, req)
		got, _ := f.backend.take(t)
		return resp, body, got
	}
	cookie := "theme=dark; authgate_session=" + tok + "; lang=fr"
	for _, path := range []string{"/api/x", "/me", "/auth/api/x"} {
		if resp, body, _ := send("GET", path, "Cookie", cookie); resp.StatusCode != 200 {
			t.Errorf("GET %s with the session cookie = %d %s", path, resp.StatusCode, body)
		}
	}
	_, _, got := send("GET", "/api/x", "Cookie", cookie)
	if c := got.Header.Values("Cookie"); len(c) != 1 || c[0] != "theme=dark; lang=fr" || got.Header.Get("X-Auth-Subject") != "1" {
		t.Errorf("upstream Cookie = %q (identity %q), want the other cookies only", c, got.Header.Get("X-Auth-Subject"))
	}
	_, _, got = send("GET", "/public/x", "Cookie", "authgate_session="+tok)
	if c := got.Header.Values("Cookie"); len(c) != 0 {
		t.Errorf("on a public path the upstream got Cookie %q", c)
	}
	_, _, got = send("GET", "/api/x", "Cookie", "a=1", "Cookie", "authgate_session="+tok)
	if c := got.Header.Values("Cookie"); len(c) != 1 || c[0] != "a=1" {
		t.Errorf("two Cookie lines: the upstream got %q", c)
	}
	for _, tt := range []struct {
		name    string
		headers []string
		status  int
		message string
	}{
		{"an Authorization header wins, even a bad one", []string{"Authorization", "Basic x", "Cookie", cookie}, 401, msgMissingAuth},
		{"an invalid Bearer token is not rescued by the cookie", []string{"Authorization", "Bearer x.y.z", "Cookie", cookie}, 401, msgInvalidToken},
		{"the cookie twice", []string{"Cookie", "authgate_session=" + tok + "; authgate_session=" + tok}, 401, msgMissingAuth},
		{"a cookie of another name", []string{"Cookie", "session=" + tok}, 401, msgMissingAuth},
		{"a cookie that is no token", []string{"Cookie", `authgate_session="x y"`}, 401, msgMissingAuth},
		{"a bad token in the cookie", []string{"Cookie", "authgate_session=x.y.z"}, 401, msgInvalidToken},
	} {
		resp, body, _ := send("GET", "/api/x", tt.headers...)
		if resp.StatusCode != tt.status || errorBody(t, resp, body) != tt.message {
			t.Errorf("%s: %d %s, want %d %q", tt.name, resp.StatusCode, body, tt.status, tt.message)
		}
	}
	// Revoked like a Bearer token: log out with the cookie itself.
	if resp, body, _ := send("POST", "/logout", "Cookie", cookie); resp.StatusCode != 204 {
		t.Fatalf("logout with the cookie = %d %s", resp.StatusCode, body)
	}
	if resp, body, _ := send("GET", "/api/x", "Cookie", cookie); resp.StatusCode != 401 || errorBody(t, resp, body) != msgRevoked {
		t.Errorf("the logged-out cookie = %d %s, want 401 %q", resp.StatusCode, body, msgRevoked)
	}
	if strings.Contains(f.logs.String(), tok) {
		t.Error("the cookie's token is in the log")
	}
}

func TestStripCookie(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want []string
	}{
		{[]string{"authgate_session=x"}, nil},
		{[]string{"a=1; authgate_session=x; b=2"}, []string{"a=1; b=2"}},
		{[]string{"a=1;authgate_session=x"}, []string{"a=1"}},
		{[]string{"authgate_session_extra=1; xauthgate_session=2"}, []string{"authgate_session_extra=1; xauthgate_session=2"}},
		{[]string{"a=1", "authgate_session=x", "b=2"}, []string{"a=1", "b=2"}},
		{[]string{"a=authgate_session"}, []string{"a=authgate_session"}},
	} {
		h := http.Header{"Cookie": slices.Clone(tt.in)}
		stripCookie(h, "authgate_session")
		if got := h["Cookie"]; !slices.Equal(got, tt.want) {
			t.Errorf("stripCookie(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// The reverse proxy recycles its per-request state: a request forwarded
// after one with a token gets no identity of its own (a public path), and
// every upstream request carries its own request id, never an earlier
// one's.
func TestProxyRecyclesNothingOfARequest(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_PUBLIC_PATHS=/public/*")
	valid := f.token(t, nil, 0)
	for i := range 20 {
		path, authz := "/public/page", ""
		if i%2 == 0 {
			path, authz = "/api/items", "Bearer "+valid
		}
		req := f.request(t, "GET", path, nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp, body := f.do(t, req)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: GET %s = %d %s", i, path, resp.StatusCode, body)
		}
		got, reached := f.backend.take(t)
		if !reached {
			t.Fatalf("request %d: upstream not reached", i)
		}
		if id := resp.Header.Get("X-Request-Id"); id == "" || got.Header.Get("X-Request-Id") != id {
			t.Errorf("request %d: upstream X-Request-Id %q, response's %q", i, got.Header.Get("X-Request-Id"), id)
		}
		if sub, want := got.Header.Get("X-Auth-Subject"), map[bool]string{true: "1", false: ""}[authz != ""]; sub != want {
			t.Errorf("request %d (%s): upstream X-Auth-Subject %q, want %q", i, path, sub, want)
		}
	}
}
