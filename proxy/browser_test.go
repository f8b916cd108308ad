package proxy

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// formLogin posts the login page's form as a browser would.
func formLogin(t *testing.T, f *fixture, username, password, rd string, headers ...string) (*http.Response, string) {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}, "rd": {rd}}
	req := f.request(t, "POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", browserAccept)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return f.do(t, req)
}

// noRedirects makes the fixture's client show redirects instead of following them.
func noRedirects(f *fixture) {
	f.front.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
}

func TestLoginPage(t *testing.T) {
	f := newFixture(t, false)
	req := f.request(t, "GET", "/login?rd="+url.QueryEscape(`/x"><script>alert(1)</script>`), nil)
	req.Header.Set("Accept", browserAccept)
	resp, body := f.do(t, req)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /login from a browser = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for name, want := range map[string]string{"X-Frame-Options": "DENY", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// The policy allows nothing but the page's own style, by its hash.
	csp := resp.Header.Get("Content-Security-Policy")
	style := regexp.MustCompile(`(?s)<style>(.*)</style>`).FindStringSubmatch(body)
	sum := sha256.Sum256([]byte(style[1]))
	if !strings.HasPrefix(csp, "default-src 'none'; ") || !strings.Contains(csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") ||
		!strings.Contains(csp, "form-action 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if strings.Contains(body, "<script") || strings.Contains(body, " src=") || strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Errorf("the page loads or runs something:\n%s", body)
	}
	if !strings.Contains(body, `name="rd" value="/x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`) {
		t.Errorf("the rd is not escaped in the form:\n%s", body)
	}
	for _, want := range []string{`<form method="post" action="/login"`, `autocomplete="username"`, `autocomplete="current-password"`, `<label for="password">`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	// API clients still get the 405 of a POST-only endpoint.
	if resp, _ := f.do(t, f.request(t, "GET", "/login", nil)); resp.StatusCode != 405 {
		t.Errorf("GET /login without text/html = %d, want 405", resp.StatusCode)
	}
}

func TestLoginForm(t *testing.T) {
	f := newFixture(t, false)
	noRedirects(f)
	resp, body := formLogin(t, f, "alice", "secret", "/dashboard?tab=1")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/dashboard?tab=1" {
		t.Fatalf("a good form login = %d, Location %q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	var c *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == "authgate_session" {
			c = k
		}
	}
	if c == nil {
		t.Fatalf("no session cookie: %v", resp.Header.Values("Set-Cookie"))
	}
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.MaxAge != 12*3600 {
		t.Errorf("cookie attributes: %+v", c)
	}
	id, err := f.current.Load().Verifier.Verify(context.Background(), c.Value)
	if err != nil || id.Subject != "1" || id.SessionID == "" || id.ExpiresAt.Sub(id.IssuedAt) != 12*time.Hour {
		t.Errorf("the cookie's token: %+v, %v; want a session token of 12h", id, err)
	}
	if logs := f.logs.String(); strings.Contains(logs, c.Value) || strings.Contains(logs, "secret") {
		t.Errorf("the cookie or the password is in the log:\n%s", logs)
	}
	// The cookie is the credential of the browser's next requests.
	req := f.request(t, "GET", "/me", nil)
	req.AddCookie(c)
	if resp, body := f.do(t, req); resp.StatusCode != 200 {
		t.Errorf("GET /me with the cookie = %d %s", resp.StatusCode, body)
	}

	for _, tt := range []struct{ rd, want string }{{"//evil.example/", "/"}, {"https://evil.example/", "/"}, {"", "/"}, {"/a\\b", "/"}} {
		if resp, _ := formLogin(t, f, "alice", "secret", tt.rd); resp.Header.Get("Location") != tt.want {
			t.Errorf("rd %q: Location %q, want %q", tt.rd, resp.Header.Get("Location"), tt.want)
		}
	}
	// A wrong password shows the form again, with the message and the
	// username, and sets no cookie.
	resp, body = formLogin(t, f, "alice", "nope", "/dashboard")
	if resp.StatusCode != 401 || !strings.Contains(body, `role="alert" id="error">Invalid credentials<`) ||
		!strings.Contains(body, `value="alice"`) || !strings.Contains(body, `name="rd" value="/dashboard"`) || len(resp.Cookies()) != 0 {
		t.Errorf("a wrong password = %d, cookies %v:\n%s", resp.StatusCode, resp.Cookies(), body)
	}
	// JSON logins are unchanged.
	req = f.request(t, "POST", "/login", strings.NewReader(`{"username":"alice","password":"secret"}`))
	req.Header.Set("Content-Type", "application/json")
	if resp, body := f.do(t, req); resp.StatusCode != 200 || !strings.Contains(body, "access_token") || len(resp.Cookies()) != 0 {
		t.Errorf("a JSON login = %d %s, cookies %v", resp.StatusCode, body, resp.Cookies())
	}
}

// TestLoginFormThrottled: the page shares the JSON login's throttle.
func TestLoginFormThrottled(t *testing.T) {
	f := newFixture(t, false, "AUTHGATE_LOGIN_MAX_FAILURES=2")
	noRedirects(f)
	formLogin(t, f, "alice", "a", "/")
	loginAs(t, f, "alice", "b", "")
	resp, body := formLogin(t, f, "alice", "secret", "/")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Too many login attempts") || len(resp.Cookies()) != 0 {
		t.Errorf("the right password on the page after two failures = %d %q:\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}

// TestLoginFormAcrossSites: a form posted from another site is refused
// (as http.CrossOriginProtection decides), and sets no cookie.
func TestLoginFormAcrossSites(t *testing.T) {
	f := newFixture(t, false)
	noRedirects(f)
	for _, h := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
		resp, body := formLogin(t, f, "alice", "secret", "/", h...)
		if resp.StatusCode != 403 || len(resp.Cookies()) != 0 {
			t.Errorf("a cross-site post (%s: %s) = %d %s, cookies %v", h[0], h[1], resp.StatusCode, body, resp.Cookies())
		}
	}
	if resp, _ := formLogin(t, f, "alice", "secret", "/", "Sec-Fetch-Site", "same-origin"); resp.StatusCode != 303 {
		t.Errorf("a same-origin post = %d, want 303", resp.StatusCode)
	}
}

func TestCookieSettings(t *testing.T) {
	f := newFixture(t, false, "AUTHGATE_COOKIE_SECURE=false", "AUTHGATE_COOKIE_DOMAIN=example.com", "AUTHGATE_SESSION_TTL=1h",
		"AUTHGATE_COOKIE_NAME=sso")
	noRedirects(f)
	resp, _ := formLogin(t, f, "alice", "secret", "https://app.example.com/x")
	cs := resp.Cookies()
	if len(cs) != 1 || cs[0].Name != "sso" || cs[0].Secure || cs[0].Domain != "example.com" || cs[0].MaxAge != 3600 {
		t.Errorf("cookies = %+v", cs)
	}
	if loc := resp.Header.Get("Location"); loc != "https://app.example.com/x" {
		t.Errorf("an rd below the cookie domain: Location %q", loc)
	}
}

const loginURL = "https://auth.example.com/login"

// adminRules writes a rules file that asks for the admin role under /admin/.
func adminRules(t *testing.T) string {
	t.Helper()
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte("rules:\n  - name: admin\n    paths: [\"/admin/*\"]\n    require: {roles: [admin]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return rules
}

// wantLogin asserts a 302 to the login page with rd, and nothing of a 401.
func wantLogin(t *testing.T, what string, resp *http.Response, rd string) {
	t.Helper()
	want := loginURL + "?rd=" + url.QueryEscape(rd)
	if resp.StatusCode != 302 || resp.Header.Get("Location") != want {
		t.Errorf("%s = %d, Location %q; want 302 to %q", what, resp.StatusCode, resp.Header.Get("Location"), want)
	}
	if resp.Header.Get("WWW-Authenticate") != "" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: WWW-Authenticate %q, Cache-Control %q", what, resp.Header.Get("WWW-Authenticate"), resp.Header.Get("Cache-Control"))
	}
}

// TestRedirectToLoginProxy: in proxy mode a browser without a token is sent
// to AUTHGATE_LOGIN_URL with the URL it asked for; everyone else gets the
// 401 or 403 of before, and none of it reaches the upstream.
func TestRedirectToLoginProxy(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_LOGIN_URL="+loginURL, "AUTHGATE_RULES_FILE="+adminRules(t))
	noRedirects(f)
	origin := f.front.URL
	send := func(method, path string, h ...string) *http.Response {
		req := f.request(t, method, path, nil)
		for i := 0; i+1 < len(h); i += 2 {
			req.Header.Add(h[i], h[i+1])
		}
		resp, _ := f.do(t, req)
		if _, got := f.backend.take(t); got {
			t.Errorf("%s %s %v reached the upstream", method, path, h)
		}
		return resp
	}
	wantLogin(t, "GET from a browser", send("GET", "/app/x?tab=2", "Accept", browserAccept), origin+"/app/x?tab=2")
	wantLogin(t, "HEAD from a browser", send("HEAD", "/app", "Accept", "text/html"), origin+"/app")
	// A session cookie that no longer works is a browser session that ended.
	wantLogin(t, "an expired cookie", send("GET", "/app", "Accept", browserAccept, "Cookie", "authgate_session="+f.expiredToken(t)), origin+"/app")
	// The Location is always the login URL, whatever the client claims;
	// an untrusted client's X-Forwarded-Host does not change the rd.
	wantLogin(t, "spoofed forwarding headers", send("GET", "/app", "Accept", browserAccept, "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https", "Host", "evil.example"), origin+"/app")

	for _, tt := range []struct {
		name, method, path string
		h                  []string
		status             int
	}{
		{"an API client", "GET", "/app", []string{"Accept", "application/json"}, 401},
		{"no Accept", "GET", "/app", nil, 401},
		{"a form post", "POST", "/app", []string{"Accept", browserAccept}, 401},
		{"a bad Bearer token", "GET", "/app", []string{"Accept", browserAccept, "Authorization", "Bearer " + f.expiredToken(t)}, 401},
		{"a Basic header", "GET", "/app", []string{"Accept", browserAccept, "Authorization", "Basic YWxpY2U6c2VjcmV0"}, 401},
		{"a cookie without the role", "GET", "/admin/x", []string{"Accept", browserAccept, "Cookie", "authgate_session=" + f.token(t, map[string]any{"roles": []any{"user"}}, 0)}, 403},
	} {
		resp := send(tt.method, tt.path, tt.h...)
		if resp.StatusCode != tt.status || resp.Header.Get("Location") != "" || resp.Header.Get("X-Auth-Redirect") != "" {
			t.Errorf("%s: %d, Location %q, X-Auth-Redirect %q; want a plain %d", tt.name, resp.StatusCode,
				resp.Header.Get("Location"), resp.Header.Get("X-Auth-Redirect"), tt.status)
		}
	}

	// Behind a trusted proxy the rd is the URL the person saw.
	g := newFixture(t, true, "AUTHGATE_LOGIN_URL="+loginURL, "AUTHGATE_TRUSTED_PROXIES=127.0.0.1/32")
	noRedirects(g)
	req := g.request(t, "GET", "/app?x=1", nil)
	req.Header.Set("Accept", browserAccept)
	req.Header.Set("X-Forwarded-Host", "app.example.com")
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, _ := g.do(t, req)
	wantLogin(t, "behind a trusted proxy", resp, "https://app.example.com/app?x=1")
	// On the login page's own origin the rd is the path alone.
	req.Header.Set("X-Forwarded-Host", "AUTH.example.com")
	resp, _ = g.do(t, req)
	wantLogin(t, "on the login page's origin", resp, "/app?x=1")
	req.Header.Set("X-Forwarded-Proto", "http")
	resp, _ = g.do(t, req)
	wantLogin(t, "on the login page's host over http", resp, "http://AUTH.example.com/app?x=1")

	// Without AUTHGATE_LOGIN_URL nothing redirects.
	h := newFixture(t, true)
	noRedirects(h)
	req = h.request(t, "GET", "/app", nil)
	req.Header.Set("Accept", browserAccept)
	if resp, _ := h.do(t, req); resp.StatusCode != 401 || resp.Header.Get("Location") != "" {
		t.Errorf("without AUTHGATE_LOGIN_URL: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestRedirectToLoginForwardAuth: Traefik and Caddy (the forwarded dialect)
// get the 302; nginx and Envoy (original, path) only ever get 200, 401 or
// 403, the 401 with X-Auth-Redirect for the nginx snippet to follow.
func TestRedirectToLoginForwardAuth(t *testing.T) {
	f := newFixture(t, false, "AUTHGATE_LOGIN_URL="+loginURL, "AUTHGATE_RULES_FILE="+adminRules(t))
	noRedirects(f)
	host := f.front.Listener.Addr().String()
	verify := func(path string, h ...string) *http.Response {
		req := f.request(t, "GET", path, nil)
		for i := 0; i+1 < len(h); i += 2 {
			req.Header.Add(h[i], h[i+1])
		}
		resp, _ := f.do(t, req)
		return resp
	}
	traefik := []string{"Accept", browserAccept, "X-Forwarded-Method", "GET", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "app.example.com", "X-Forwarded-Uri", "/x?y=1"}
	wantLogin(t, "Traefik's auth request", verify("/auth", traefik...), "https://app.example.com/x?y=1")
	if resp := verify("/auth", "Accept", browserAccept, "X-Forwarded-Method", "POST", "X-Forwarded-Host", "app.example.com", "X-Forwarded-Uri", "/x"); resp.StatusCode != 401 || resp.Header.Get("Location") != "" {
		t.Errorf("a forwarded POST: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	for _, tt := range []struct {
		name   string
		path   string
		h      []string
		status int
		rd     string // "": no X-Auth-Redirect
	}{
		{"nginx", "/auth", []string{"Accept", browserAccept, "X-Original-Method", "GET", "X-Original-URI", "/x?y=1", "X-Forwarded-Proto", "https"}, 401, "https://" + host + "/x?y=1"},
		{"Envoy, full URL", "/auth", []string{"Accept", browserAccept, "X-Original-Method", "GET", "X-Original-URL", "https://app.example.com/x"}, 401, "https://app.example.com/x"},
		{"path dialect", "/auth/x?y=1", []string{"Accept", browserAccept}, 401, "https://" + host + "/x?y=1"},
		{"forwarded and original", "/auth", []string{"Accept", browserAccept, "X-Forwarded-Method", "GET", "X-Forwarded-Host", "app.example.com", "X-Forwarded-Uri", "/x", "X-Original-Method", "GET", "X-Original-URI", "/x"}, 401, "https://app.example.com/x"},
		{"nginx, an API client", "/auth", []string{"Accept", "application/json", "X-Original-Method", "GET", "X-Original-URI", "/x"}, 401, ""},
		{"nginx, a token without the role", "/auth", []string{"Accept", browserAccept, "X-Original-Method", "GET", "X-Original-URI", "/admin/x", "Cookie", "authgate_session=" + f.token(t, map[string]any{"roles": []any{"user"}}, 0)}, 403, ""},
		{"Traefik, sources disagree", "/auth", append(append([]string{}, traefik...), "X-Original-URI", "/other"), 403, ""},
		{"Traefik, a token without the role", "/auth", []string{"Accept", browserAccept, "X-Forwarded-Method", "GET", "X-Forwarded-Host", "app.example.com", "X-Forwarded-Uri", "/admin/x", "Cookie", "authgate_session=" + f.token(t, map[string]any{"roles": []any{"user"}}, 0)}, 403, ""},
	} {
		resp := verify(tt.path, tt.h...)
		want := ""
		if tt.rd != "" {
			want = loginURL + "?rd=" + url.QueryEscape(tt.rd)
		}
		if resp.StatusCode != tt.status || resp.Header.Get("X-Auth-Redirect") != want || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d, X-Auth-Redirect %q, Location %q; want %d with X-Auth-Redirect %q", tt.name, resp.StatusCode,
				resp.Header.Get("X-Auth-Redirect"), resp.Header.Get("Location"), tt.status, want)
		}
	}
}

// browserLogout posts the logout button's form with the cookie c.
func browserLogout(t *testing.T, f *fixture, c *http.Cookie, rd string, headers ...string) (*http.Response, string) {
	t.Helper()
	form := url.Values{}
	if rd != "" {
		form.Set("rd", rd)
	}
	req := f.request(t, "POST", "/logout", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", browserAccept)
	if c != nil {
		req.AddCookie(c)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return f.do(t, req)
}

// sessionCookie logs in on the page and returns the cookie it set.
func sessionCookie(t *testing.T, f *fixture) *http.Cookie {
	t.Helper()
	resp, body := formLogin(t, f, "alice", "secret", "/")
	for _, c := range resp.Cookies() {
		if c.Name == f.cfg.CookieName {
			return c
		}
	}
	t.Fatalf("the form login set no cookie: %d %s", resp.StatusCode, body)
	return nil
}

// wantCleared asserts that resp clears the session cookie: the same name,
// path and domain, expired.
func wantCleared(t *testing.T, what string, resp *http.Response, name, domain string) {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == name && c.Value == "" && c.MaxAge < 0 && c.Path == "/" && c.Domain == domain && c.HttpOnly {
			return
		}
	}
	t.Errorf("%s: the cookie is not cleared: %q", what, resp.Header.Values("Set-Cookie"))
}

func TestBrowserLogout(t *testing.T) {
	f := newFixture(t, false, "AUTHGATE_COOKIE_DOMAIN=example.com")
	noRedirects(f)
	me := func(c *http.Cookie) (int, string) {
		req := f.request(t, "GET", "/me", nil)
		req.AddCookie(c)
		resp, body := f.do(t, req)
		return resp.StatusCode, body
	}
	c := sessionCookie(t, f)
	if code, body := me(c); code != 200 {
		t.Fatalf("GET /me with the cookie = %d %s", code, body)
	}
	resp, body := browserLogout(t, f, c, "https://app.example.com/bye")
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "https://app.example.com/bye" {
		t.Fatalf("logout = %d, Location %q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	wantCleared(t, "logout", resp, "authgate_session", "example.com")
	// The session is over, not only the cookie gone: its token is revoked.
	if code, body := me(c); code != 401 || !strings.Contains(body, msgRevoked) {
		t.Errorf("the logged-out cookie's token on /me = %d %s, want 401 %q", code, body, msgRevoked)
	}
	id, err := f.current.Load().Verifier.Verify(context.Background(), c.Value)
	if err == nil {
		t.Errorf("the logged-out token still verifies: %+v", id)
	}
	// Logging out again, without rd or with a refused one, or with no
	// cookie at all, clears the cookie and shows the login page.
	for _, tt := range []struct {
		name string
		c    *http.Cookie
		rd   string
	}{{"again", c, ""}, {"a refused rd", c, "//evil.example/"}, {"another site", c, "https://evil.example/"}, {"no cookie", nil, ""}} {
		resp, body := browserLogout(t, f, tt.c, tt.rd)
		if resp.StatusCode != 303 || resp.Header.Get("Location") != "/login" {
			t.Errorf("logout %s = %d, Location %q: %s", tt.name, resp.StatusCode, resp.Header.Get("Location"), body)
		}
		wantCleared(t, "logout "+tt.name, resp, "authgate_session", "example.com")
	}
	// A cross-site post ends nothing and clears nothing.
	c = sessionCookie(t, f)
	resp, _ = browserLogout(t, f, c, "", "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != 403 || len(resp.Cookies()) != 0 {
		t.Errorf("a cross-site logout = %d, cookies %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	if code, _ := me(c); code != 200 {
		t.Errorf("after a cross-site logout the session ended: /me = %d", code)
	}
	if resp, _ := browserLogout(t, f, c, "", "Content-Type", "application/json"); resp.StatusCode != 400 {
		t.Errorf("a browser logout with a JSON content type = %d, want 400", resp.StatusCode)
	}
	// With AUTHGATE_LOGIN_URL the login page is there.
	g := newFixture(t, false, "AUTHGATE_LOGIN_URL="+loginURL)
	noRedirects(g)
	if resp, _ := browserLogout(t, g, sessionCookie(t, g), ""); resp.StatusCode != 303 || resp.Header.Get("Location") != loginURL {
		t.Errorf("logout with AUTHGATE_LOGIN_URL = %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Without revocation there is no session to end: a browser's logout
	// still clears the cookie; an API client's logout path is not there.
	h := newFixture(t, false, "AUTHGATE_REFRESH_TTL=0")
	noRedirects(h)
	resp, _ = browserLogout(t, h, sessionCookie(t, h), "")
	if resp.StatusCode != 303 {
		t.Errorf("a browser logout without revocation = %d, want 303", resp.StatusCode)
	}
	wantCleared(t, "logout without revocation", resp, "authgate_session", "")
	req := h.request(t, "POST", "/logout", nil)
	if resp, _ := h.do(t, req); resp.StatusCode != 404 {
		t.Errorf("an API logout without revocation = %d, want 404", resp.StatusCode)
	}
	if strings.Contains(f.logs.String(), c.Value) {
		t.Error("a cookie's token is in the log")
	}
}

// TestBrowserLogoutStoreDown kills the real Redis that records
// revocations: the logout says it failed and keeps the cookie, so the
// person can try again; once Redis is back it works.
func TestBrowserLogoutStoreDown(t *testing.T) {
	f, srv := newRedisFixture(t)
	noRedirects(f)
	c := sessionCookie(t, f)
	srv.Kill()
	resp, body := browserLogout(t, f, c, "")
	if resp.StatusCode != 503 || len(resp.Cookies()) != 0 {
		t.Errorf("logout with Redis down = %d %s, cookies %q; want 503 and the cookie kept", resp.StatusCode, body, resp.Header.Values("Set-Cookie"))
	}
	srv.Start()
	for range 200 { // bounded: up to ten seconds
		if resp, _ = browserLogout(t, f, c, ""); resp.StatusCode == 303 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp.StatusCode != 303 {
		t.Fatalf("logout after Redis came back = %d", resp.StatusCode)
	}
	wantCleared(t, "logout after Redis came back", resp, "authgate_session", "")
	req := f.request(t, "GET", "/me", nil)
	req.AddCookie(c)
	if resp, _ := f.do(t, req); resp.StatusCode != 401 {
		t.Errorf("the logged-out token after Redis came back: /me = %d, want 401", resp.StatusCode)
	}
}

// TestForwardAuthStatusesForNginx: with the login page on, whatever a
// client sends through the original dialect, authgate answers nginx only
// 200, 401 or 403 (nginx turns anything else into a 500), and a 302 never.
func TestForwardAuthStatusesForNginx(t *testing.T) {
	f := newFixture(t, false, "AUTHGATE_LOGIN_URL="+loginURL, "AUTHGATE_RULES_FILE="+adminRules(t), "AUTHGATE_PUBLIC_PATHS=/public/*")
	noRedirects(f)
	user := "authgate_session=" + f.token(t, map[string]any{"roles": []any{"user"}}, 0)
	for _, method := range []string{"GET", "HEAD", "POST", "DELETE"} {
		for _, accept := range []string{browserAccept, "application/json", ""} {
			for _, extra := range [][]string{
				nil,
				{"Cookie", user},
				{"Cookie", "authgate_session=" + f.expiredToken(t)},
				{"Cookie", "authgate_session=x.y.z"},
				{"Authorization", "Bearer " + f.expiredToken(t)},
				{"X-Forwarded-Uri", "/other"},
			} {
				for _, uri := range []string{"/app", "/admin/x", "/public/x", "/a/../admin", "//evil.example/"} {
					req := f.request(t, method, "/auth", nil)
					req.Header.Set("X-Original-Method", method)
					req.Header.Set("X-Original-URI", uri)
					req.Header.Set("X-Original-URL", "https://app.example.com"+uri)
					if accept != "" {
						req.Header.Set("Accept", accept)
					}
					for i := 0; i+1 < len(extra); i += 2 {
						req.Header.Set(extra[i], extra[i+1])
					}
					resp, _ := f.do(t, req)
					if s := resp.StatusCode; s != 200 && s != 401 && s != 403 || resp.Header.Get("Location") != "" {
						t.Errorf("%s %s (Accept %q, %v) = %d, Location %q; nginx takes only 200, 401 and 403", method, uri, accept, extra, s, resp.Header.Get("Location"))
					}
				}
			}
		}
	}
}

// TestLoginPageEscapes fills every value of the login page with markup and
// with the page's own placeholders: each arrives as text, escaped, and a
// placeholder in a value is not filled in.
func TestLoginPageEscapes(t *testing.T) {
	hostile := `"><script>alert(1)</script>{{error}}{{rd}}'`
	escaped := `&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;{{error}}{{rd}}&#39;`
	body := loginPage{Site: hostile, Action: "/login", RD: hostile, Username: hostile, Message: hostile}.html()
	for _, want := range []string{
		"to continue to " + escaped + "</p>",
		`<p class="error" role="alert" id="error">` + escaped + "</p>",
		`<form method="post" action="/login" aria-describedby="error">`,
		`name="rd" value="` + escaped + `"`,
		`value="` + escaped + `">`, // the username, and so no autofocus on it
		`required autofocus>`,      // but on the password
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script") || strings.Count(body, `role="alert"`) != 1 {
		t.Errorf("a value became markup:\n%s", body)
	}
	// Without a message or a username: no alert, the username field focused.
	body = loginPage{Site: "app.example", Action: "/sign-in"}.html()
	if strings.Contains(body, "{{") || strings.Contains(body, `role="alert"`) || strings.Contains(body, "aria-describedby") ||
		!strings.Contains(body, `value="" autofocus>`) || !strings.Contains(body, `action="/sign-in">`) {
		t.Errorf("the empty page:\n%s", body)
	}
}
