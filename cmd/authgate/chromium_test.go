package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// These tests drive a real headless Chromium (Debian's chromium package)
// through the browser flow: protected page, login page, wrong password,
// right password, back at the page with the identity, logout, and the
// login page again.

// chromiumPath returns Chromium's path, or skips the test when it is not
// installed, unless AUTHGATE_REQUIRE_BROWSER=1 (as .ci/run sets), in which
// case it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("AUTHGATE_REQUIRE_BROWSER") == "1" {
		t.Fatal("Chromium is required (AUTHGATE_REQUIRE_BROWSER=1) but neither chromium nor chromium-browser is on PATH")
	}
	t.Skip("Chromium is not installed (apt-get install -y chromium): the browser tests need it")
	return ""
}

// newChromium starts a headless Chromium with a fresh profile, for the
// test only, and returns its context, bounded to a minute.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // CI runs as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(960, 720),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-proxy-server", true),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	// The first Run starts the browser; it lives as long as ctx.
	if err := chromedp.Do(ctx); err != nil {
		cancelAlloc()
		t.Fatalf("starting Chromium: %v", err)
	}
	bounded, cancel := context.WithTimeout(ctx, time.Minute)
	t.Cleanup(func() { cancel(); cancelCtx(); cancelAlloc() })
	return bounded
}

// browserFlow runs the whole flow in Chromium against origin (with
// http://localhost:port, which the login page's rd validation accepts),
// where path is protected and user/password is a user. It returns PNG
// screenshots of the login page and of the page after the login.
func browserFlow(t *testing.T, ctx context.Context, origin, path, user, password string) (login, after []byte) {
	t.Helper()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	location := func() string {
		t.Helper()
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	text := func(id string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("reading #%s: %v", id, err)
		}
		return s
	}
	loginAt := origin + "/login?rd=" + url.QueryEscape(path)

	// 1. The protected page sends the browser to the login page.
	do("opening "+path, chromedp.Navigate(origin+path), chromedp.WaitVisible(chromedp.ID("username")))
	if loc := location(); loc != loginAt {
		t.Fatalf("opening %s landed on %s, want %s", path, loc, loginAt)
	}
	login, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}

	// 2. A wrong password: the form again, with the message, the username kept.
	do("a wrong password",
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), "wrong"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("error")))
	if msg := text("error"); msg != "Invalid credentials" {
		t.Errorf("after a wrong password the page says %q", msg)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("username"))); v != user {
		t.Errorf("after a wrong password the username field holds %q", v)
	}
	if cs := cookies(t, ctx, origin); len(cs) != 0 {
		t.Errorf("a wrong password set cookies: %+v", cs)
	}

	// 3. The right password: back at the page, which got the identity.
	do("the right password",
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("greeting")))
	if loc := location(); loc != origin+path {
		t.Errorf("after the login the browser is at %s, want %s", loc, origin+path)
	}
	if g := text("greeting"); g != "Hello, "+user {
		t.Errorf("the page greets %q", g)
	}
	if id := text("identity"); !strings.Contains(id, "X-Auth-Subject") || !strings.Contains(id, "X-Auth-User\t"+user) {
		t.Errorf("the page shows the identity headers:\n%s", id)
	}
	cs := cookies(t, ctx, origin)
	if len(cs) != 1 {
		t.Fatalf("after the login the browser has %d cookies, want the session cookie: %+v", len(cs), cs)
	}
	c := cs[0]
	if c.Name != "authgate_session" || !c.HTTPOnly || c.Secure || c.SameSite != network.CookieSameSiteLax || c.Path != "/" || c.Domain != "localhost" || c.Session {
		t.Errorf("the session cookie: %+v", c)
	}
	if life := time.Until(time.Unix(int64(c.Expires), 0)); life < 11*time.Hour || life > 12*time.Hour+time.Minute {
		t.Errorf("the session cookie expires in %s, want 12h", life)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`)); strings.Contains(v, "authgate_session") {
		t.Errorf("page scripts can read the session cookie: %q", v)
	}
	after, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}

	// 4. Logout: the login page, and no cookie.
	do("logging out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("username")))
	if loc := location(); loc != origin+"/login" {
		t.Errorf("after logout the browser is at %s, want %s/login", loc, origin)
	}
	if cs := cookies(t, ctx, origin); len(cs) != 0 {
		t.Errorf("after logout the browser still has cookies: %+v", cs)
	}

	// 5. The protected page sends the browser to the login page again.
	do("opening "+path+" again", chromedp.Navigate(origin+path), chromedp.WaitVisible(chromedp.ID("username")))
	if loc := location(); loc != loginAt {
		t.Errorf("after logout %s landed on %s, want %s", path, loc, loginAt)
	}
	return login, after
}

// cookies returns the browser's cookies for origin.
func cookies(t *testing.T, ctx context.Context, origin string) []*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{origin}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Cookies
}

// checkScreenshot checks that shot is a PNG of the window and saves it in
// the test's temporary directory, or as docs/name with
// AUTHGATE_UPDATE_DOCS=1 (how the README's screenshots are made).
func checkScreenshot(t *testing.T, shot []byte, name string) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot %s is no PNG: %v", name, err)
	}
	if b := img.Bounds(); b.Dx() < 900 || b.Dy() < 500 {
		t.Errorf("the screenshot %s is %dx%d", name, b.Dx(), b.Dy())
	}
	dir := t.TempDir()
	if os.Getenv("AUTHGATE_UPDATE_DOCS") == "1" {
		dir = filepath.Join("..", "..", "docs")
	}
	if err := os.WriteFile(filepath.Join(dir, name), shot, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserDemo runs the flow against `authgate demo` in proxy mode, as
// the README's walkthrough does, and takes the README's screenshots.
func TestBrowserDemo(t *testing.T) {
	ctx := newChromium(t)
	port := freePort(t)
	if os.Getenv("AUTHGATE_UPDATE_DOCS") == "1" {
		port = 8000 // the README's screenshots show the walkthrough's port
	}
	in := start(t, []string{"demo"}, fmt.Sprintf("AUTHGATE_ADDR=127.0.0.1:%d", port))
	origin := fmt.Sprintf("http://localhost:%d", port)
	login, after := browserFlow(t, ctx, origin, "/dashboard", demoUsername, demoPassword)
	checkScreenshot(t, login, "login.png")
	checkScreenshot(t, after, "dashboard.png")
	if err := in.stop(); err != nil { // which writes the info lines that wait
		t.Errorf("run returned %v", err)
	}
	for line := range strings.Lines(in.logs.String()) {
		if strings.Contains(line, `"message":"request"`) && (strings.Contains(line, demoPassword) || strings.Contains(line, "eyJ")) {
			t.Errorf("a password or a token is in the log: %s", line)
		}
	}
}

// TestBrowserCaddy runs the flow through the real Caddy with the shipped
// Caddyfile, in front of authgate in forward-auth mode.
func TestBrowserCaddy(t *testing.T) {
	ctx := newChromium(t)
	port := freePort(t)
	origin := fmt.Sprintf("http://localhost:%d", port)
	users := filepath.Join(t.TempDir(), "users.yaml")
	os.WriteFile(users, []byte(usersYAML("alice")), 0o600)
	ag := start(t, nil, "AUTHGATE_JWT_SECRET="+testSecret, "AUTHGATE_USERS_FILE="+users,
		"AUTHGATE_LOGIN_URL="+origin+"/login", "AUTHGATE_COOKIE_SECURE=false")
	app := httptest.NewServer(demoUpstream(nil, "/logout"))
	t.Cleanup(app.Close)
	startCaddyAt(t, origin, fmt.Sprintf("127.0.0.1:%d", port), strings.TrimPrefix(ag.addr, "http://"), strings.TrimPrefix(app.URL, "http://"))
	// Caddy passes authgate's 302 on as it is.
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(func() *http.Request {
		req, _ := http.NewRequest("GET", "http://"+fmt.Sprintf("127.0.0.1:%d", port)+"/app", nil)
		req.Host = fmt.Sprintf("localhost:%d", port)
		req.Header.Set("Accept", browserAccept)
		return req
	}())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || resp.Header.Get("Location") != origin+"/login?rd=%2Fapp" {
		t.Fatalf("a browser through Caddy = %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	browserFlow(t, ctx, origin, "/app/page?tab=2", "alice", "pw")
}
