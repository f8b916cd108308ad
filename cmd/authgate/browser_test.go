package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// browserClient is an HTTP client with a cookie jar that shows redirects
// instead of following them, and sends what a browser's navigation sends.
type browserClient struct {
	t      *testing.T
	c      *http.Client
	origin string // http://localhost:port, for Origin on posts
}

func newBrowserClient(t *testing.T, origin string) *browserClient {
	jar, _ := cookiejar.New(nil)
	return &browserClient{t: t, origin: origin, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browserClient) send(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// get navigates to u (accept: "" for a browser's Accept).
func (b *browserClient) get(u, accept string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if accept == "" {
		accept = browserAccept
	}
	req.Header.Set("Accept", accept)
	return b.send(req)
}

// post submits a form from a page of the origin.
func (b *browserClient) post(u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Accept", browserAccept)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.origin)
	return b.send(req)
}

// TestNginxBrowserFlow runs the browser flow through the real nginx with
// the shipped snippets: authgate's X-Auth-Redirect becomes the 302 to the
// login page, which nginx serves from authgate along with the logout; an
// API client still gets the JSON 401; a 403 stays a 403.
func TestNginxBrowserFlow(t *testing.T) {
	frontProxyBinary(t, "nginx")
	port := freePort(t)
	origin := fmt.Sprintf("http://localhost:%d", port)
	dir := t.TempDir()
	users, rules := filepath.Join(dir, "users.yaml"), filepath.Join(dir, "rules.yaml")
	os.WriteFile(users, []byte(usersYAML("alice")), 0o600)
	os.WriteFile(rules, []byte(rulesV1), 0o600)
	ag := start(t, nil, "AUTHGATE_JWT_SECRET="+testSecret, "AUTHGATE_USERS_FILE="+users, "AUTHGATE_RULES_FILE="+rules,
		"AUTHGATE_LOGIN_URL="+origin+"/login", "AUTHGATE_COOKIE_SECURE=false")
	a := newApp(t)
	startNginxAt(t, fmt.Sprintf("127.0.0.1:%d", port), strings.TrimPrefix(ag.addr, "http://"), strings.TrimPrefix(a.srv.URL, "http://"))
	b := newBrowserClient(t, origin)

	// An API client: the JSON 401 of before, with its challenge.
	resp, body := b.get(origin+"/app?x=1", "application/json")
	if resp.StatusCode != 401 || body != `{"error":"Missing or malformed Authorization header"}`+"\n" || resp.Header.Get("WWW-Authenticate") == "" || resp.Header.Get("Location") != "" {
		t.Fatalf("an API client without a token = %d %q, Location %q", resp.StatusCode, body, resp.Header.Get("Location"))
	}
	// A browser: sent to the login page, the rd a path on its origin.
	resp, _ = b.get(origin+"/app?x=1", "")
	loginAt := origin + "/login?rd=" + url.QueryEscape("/app?x=1")
	if resp.StatusCode != 302 || resp.Header.Get("Location") != loginAt {
		t.Fatalf("a browser without a token = %d, Location %q; want 302 to %s", resp.StatusCode, resp.Header.Get("Location"), loginAt)
	}
	if got, _ := a.take(); len(got) != 0 {
		t.Fatalf("the app was reached without a token")
	}
	resp, body = b.get(loginAt, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `<form method="post" action="/login"`) || !strings.Contains(body, `name="rd" value="/app?x=1"`) {
		t.Fatalf("the login page through nginx = %d:\n%s", resp.StatusCode, body)
	}
	resp, body = b.post(origin+"/login", url.Values{"username": {"alice"}, "password": {"wrong"}, "rd": {"/app?x=1"}})
	if resp.StatusCode != 401 || !strings.Contains(body, "Invalid credentials") {
		t.Fatalf("a wrong password = %d:\n%s", resp.StatusCode, body)
	}
	resp, body = b.post(origin+"/login", url.Values{"username": {"alice"}, "password": {"pw"}, "rd": {"/app?x=1"}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/app?x=1" {
		t.Fatalf("the right password = %d, Location %q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, body = b.get(origin+"/app?x=1", "")
	got, _ := a.take()
	if resp.StatusCode != 200 || body != "app ok" || len(got) != 1 || got[0].Header.Get("X-Auth-Subject") != "1" || got[0].Header.Get("X-Auth-User") != "alice" {
		t.Fatalf("back at the app with the cookie = %d %q, the app got %d requests", resp.StatusCode, body, len(got))
	}
	// A missing role is a 403, never a trip to the login page.
	if resp, _ := b.get(origin+"/admin/x", ""); resp.StatusCode != 403 || resp.Header.Get("Location") != "" {
		t.Errorf("/admin/x without the role = %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Logout ends the session: the browser is sent to the login page again.
	resp, _ = b.post(origin+"/logout", nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != origin+"/login" {
		t.Fatalf("logout = %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := b.get(origin+"/app?x=1", ""); resp.StatusCode != 302 || resp.Header.Get("Location") != loginAt {
		t.Errorf("after logout = %d, Location %q; want the login page again", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got, _ := a.take(); len(got) != 0 {
		t.Errorf("the app was reached after logout")
	}
}
