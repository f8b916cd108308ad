package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// pair is what a login or a refresh answers.
type pair struct {
	Access           string `json:"access_token"`
	Refresh          string `json:"refresh_token"`
	ExpiresIn        int    `json:"expires_in"`
	RefreshExpiresIn int    `json:"refresh_expires_in"`
}

func loginPair(t *testing.T, addr, user string) pair {
	t.Helper()
	code, body := call(t, "POST", addr+"/login", "", "application/json", `{"username":"`+user+`","password":"pw"}`)
	var p pair
	if err := json.Unmarshal([]byte(body), &p); code != 200 || err != nil || p.Refresh == "" {
		t.Fatalf("login %s = %d %s", user, code, body)
	}
	return p
}

func refreshPair(t *testing.T, addr, refresh string) (int, pair, string) {
	t.Helper()
	code, body := call(t, "POST", addr+"/refresh", "", "application/json", `{"refresh_token":"`+refresh+`"}`)
	var p pair
	json.Unmarshal([]byte(body), &p)
	return code, p, body
}

// expectRefused checks that an access token is refused with message on
// /me, forward-auth and (when there is one) the proxy.
func expectRefused(t *testing.T, in *instance, access string, code int, message string, proxy bool) {
	t.Helper()
	paths := []string{"/me", "/auth/api/x"}
	if proxy {
		paths = append(paths, "/api/x")
	}
	for _, p := range paths {
		got, body := call(t, "GET", in.addr+p, "Bearer "+access, "", "")
		want := code
		if p == "/auth/api/x" && code == 503 {
			want = 403 // front proxies take only 200, 401 and 403
		}
		if got != want || message != "" && !strings.Contains(body, message) {
			t.Errorf("GET %s = %d %s, want %d %q", p, got, body, want, message)
		}
	}
}

func startSessions(t *testing.T, env ...string) (*instance, string) {
	t.Helper()
	users := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(users, []byte(usersYAML("bob", "carol")), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append([]string{"AUTHGATE_JWT_SECRET=" + testSecret, "AUTHGATE_USERS_FILE=" + users}, env...)
	return start(t, nil, env...), users
}

// nextSecond waits for the next whole second: token times are in seconds,
// so a token issued in the second of a subject's revocation is revoked too.
func nextSecond() { time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second))) }

func TestSessionsEndToEnd(t *testing.T) {
	in, _ := startSessions(t, "AUTHGATE_UPSTREAM="+okUpstream(t).URL)
	p := loginPair(t, in.addr, "bob")
	if p.ExpiresIn != 3600 || p.RefreshExpiresIn != 604800 || len(p.Refresh) < 43 || strings.Contains(p.Refresh, ".") {
		t.Errorf("login answered %+v", p)
	}

	// Rotation, and reuse ending the session.
	code, p2, body := refreshPair(t, in.addr, p.Refresh)
	if code != 200 || p2.Refresh == p.Refresh || p2.RefreshExpiresIn > 604800 || p2.RefreshExpiresIn < 604790 {
		t.Fatalf("refresh = %d %s", code, body)
	}
	if code, body := call(t, "GET", in.addr+"/me", "Bearer "+p2.Access, "", ""); code != 200 {
		t.Fatalf("GET /me with the refreshed token = %d %s", code, body)
	}
	if code, _, body := refreshPair(t, in.addr, p.Refresh); code != 401 || !strings.Contains(body, "Invalid refresh token") {
		t.Errorf("the spent refresh token again = %d %s", code, body)
	}
	if code, _, _ := refreshPair(t, in.addr, p2.Refresh); code != 401 {
		t.Errorf("the session's live refresh token after reuse = %d, want 401", code)
	}
	expectRefused(t, in, p2.Access, 401, "Token has been revoked", true)

	// Logout with the access token: it and its session, on every path.
	p3 := loginPair(t, in.addr, "bob")
	if code, body := call(t, "POST", in.addr+"/logout", "Bearer "+p3.Access, "", ""); code != 204 || body != "" {
		t.Errorf("logout = %d %q, want 204 and no body", code, body)
	}
	expectRefused(t, in, p3.Access, 401, "Token has been revoked", true)
	if code, _, _ := refreshPair(t, in.addr, p3.Refresh); code != 401 {
		t.Errorf("the logged-out session's refresh token = %d, want 401", code)
	}

	// A re-signed copy with another exp and a claim more is the same token
	// (the same iss and jti): revoked too.
	claims := jwt.MapClaims{}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(p3.Access, ".")[1])
	json.Unmarshal(payload, &claims)
	claims["exp"] = time.Now().Add(2 * time.Hour).Unix()
	claims["extra"] = "malleated"
	copied, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(testSecret))
	expectRefused(t, in, copied, 401, "Token has been revoked", true)
	// Without a jti an own token is invalid while revocation is on.
	delete(claims, "jti")
	nojti, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(testSecret))
	expectRefused(t, in, nojti, 401, "Invalid token", true)

	// Logout with the refresh token alone.
	p4 := loginPair(t, in.addr, "bob")
	if code, body := call(t, "POST", in.addr+"/logout", "", "application/json", `{"refresh_token":"`+p4.Refresh+`"}`); code != 204 {
		t.Errorf("logout by refresh token = %d %s", code, body)
	}
	expectRefused(t, in, p4.Access, 401, "Token has been revoked", false)

	// {"all": true} ends every session of the subject, not others'.
	a, b, other := loginPair(t, in.addr, "bob"), loginPair(t, in.addr, "bob"), loginPair(t, in.addr, "carol")
	if code, body := call(t, "POST", in.addr+"/logout", "Bearer "+a.Access, "application/json", `{"all":true}`); code != 204 {
		t.Errorf("logout all = %d %s", code, body)
	}
	expectRefused(t, in, b.Access, 401, "Token has been revoked", false)
	if code, _, _ := refreshPair(t, in.addr, b.Refresh); code != 401 {
		t.Errorf("another session's refresh token after logout all = %d, want 401", code)
	}
	if code, _ := call(t, "GET", in.addr+"/me", "Bearer "+other.Access, "", ""); code != 200 {
		t.Errorf("carol after bob's logout all = %d, want 200", code)
	}
	nextSecond()
	fresh := loginPair(t, in.addr, "bob")
	if code, _ := call(t, "GET", in.addr+"/me", "Bearer "+fresh.Access, "", ""); code != 200 {
		t.Errorf("a login after logout all = %d, want 200", code)
	}

	// Refusals.
	for _, tt := range []struct {
		authz, ctype, body string
		code               int
		message            string
	}{
		{"", "", "", 401, "Missing or malformed Authorization header"},
		{"", "application/json", `{"refresh_token":"nope"}`, 401, "Invalid refresh token"},
		{"", "application/json", `{"all":true}`, 401, "Missing or malformed Authorization header"},
		{"", "application/json", `{"refresh_token":7}`, 400, "Malformed request body"},
		{"", "application/json", `{"everything":true}`, 400, "Malformed request body"},
		{"Bearer " + p3.Access, "", "", 401, "Token has been revoked"},
	} {
		if code, body := call(t, "POST", in.addr+"/logout", tt.authz, tt.ctype, tt.body); code != tt.code || !strings.Contains(body, tt.message) {
			t.Errorf("logout (token %v) %s = %d %s, want %d %q", tt.authz != "", tt.body, code, body, tt.code, tt.message)
		}
	}
	if code, _, body := refreshPair(t, in.addr, "unknown"); code != 401 || !strings.Contains(body, "Invalid refresh token") {
		t.Errorf("an unknown refresh token = %d %s", code, body)
	}

	_, metrics := call(t, "GET", in.admin+"/metrics", "", "", "")
	for _, want := range []string{
		`authgate_refreshes_total{result="ok"} 1`, `authgate_refreshes_total{result="reused"} 1`,
		`authgate_revocations_total{kind="subject"} 1`, `authgate_revocations_total{kind="token"} 1`,
		`authgate_decisions_total{decision="denied:revoked",rule="me"}`,
		`authgate_revocation_state_age_seconds `,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if err := in.stop(); err != nil { // which writes the info lines that wait
		t.Errorf("run returned %v", err)
	}
	logs := in.logs.String()
	for _, secret := range []string{p.Refresh, p2.Refresh, p3.Refresh, p4.Refresh, p3.Access} {
		if strings.Contains(logs, secret) {
			t.Errorf("a token is in the log")
		}
	}
}

// TestConcurrentRefreshOverHTTP: of ten refreshes with one token at once,
// exactly one gets a 200.
func TestConcurrentRefreshOverHTTP(t *testing.T) {
	in, _ := startSessions(t)
	p := loginPair(t, in.addr, "bob")
	codes := make(chan int, 10)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			code, _, _ := refreshPair(t, in.addr, p.Refresh)
			codes <- code
		})
	}
	wg.Wait()
	close(codes)
	got := map[int]int{}
	for c := range codes {
		got[c]++
	}
	if got[200] != 1 || got[401] != 9 {
		t.Errorf("10 concurrent refreshes answered %v, want one 200 and nine 401", got)
	}
}

// TestMemoryStoreRestart: after a restart of a memory-store authgate, the
// access tokens of earlier sessions are refused as revoked and their
// refresh tokens are unknown, while a token without a session still works.
func TestMemoryStoreRestart(t *testing.T) {
	in, users := startSessions(t)
	p := loginPair(t, in.addr, "bob")
	var out strings.Builder
	if err := run(t.Context(), []string{"token", "--sub", "svc"}, []string{"AUTHGATE_JWT_SECRET=" + testSecret}, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	loose := strings.TrimSpace(out.String())
	in.stop()

	again := start(t, nil, "AUTHGATE_JWT_SECRET="+testSecret, "AUTHGATE_USERS_FILE="+users)
	if code, body := call(t, "GET", again.addr+"/me", "Bearer "+p.Access, "", ""); code != 401 || !strings.Contains(body, "Token has been revoked") {
		t.Errorf("a session's access token after the restart = %d %s, want 401 revoked", code, body)
	}
	if code, _, body := refreshPair(t, again.addr, p.Refresh); code != 401 || !strings.Contains(body, "Invalid refresh token") {
		t.Errorf("a refresh token after the restart = %d %s", code, body)
	}
	if code, body := call(t, "GET", again.addr+"/me", "Bearer "+loose, "", ""); code != 200 {
		t.Errorf("a token without a session after the restart = %d %s, want 200", code, body)
	}
}

// TestRefreshOff: AUTHGATE_REFRESH_TTL=0 turns refresh tokens off (and with
// them revocation, unless AUTHGATE_REVOCATION=true).
func TestRefreshOff(t *testing.T) {
	in, _ := startSessions(t, "AUTHGATE_REFRESH_TTL=0")
	code, body := call(t, "POST", in.addr+"/login", "", "application/json", `{"username":"bob","password":"pw"}`)
	if code != 200 || strings.Contains(body, "refresh_token") {
		t.Errorf("login with refresh off = %d %s, want no refresh_token", code, body)
	}
	if code, _ := call(t, "POST", in.addr+"/refresh", "", "application/json", `{"refresh_token":"x"}`); code != 404 {
		t.Errorf("/refresh with refresh off = %d, want 404", code)
	}
	if code, _ := call(t, "POST", in.addr+"/logout", "", "", ""); code != 404 {
		t.Errorf("/logout with revocation off = %d, want 404", code)
	}
	on, _ := startSessions(t, "AUTHGATE_REFRESH_TTL=0", "AUTHGATE_REVOCATION=true")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_, body = call(t, "POST", on.addr+"/login", "", "application/json", `{"username":"bob","password":"pw"}`)
	json.Unmarshal([]byte(body), &tok)
	if code, body := call(t, "POST", on.addr+"/logout", "Bearer "+tok.AccessToken, "", ""); code != http.StatusNoContent {
		t.Fatalf("logout with AUTHGATE_REVOCATION=true = %d %s", code, body)
	}
	expectRefused(t, on, tok.AccessToken, 401, "Token has been revoked", false)
}
