package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/internal/redistest"
)

// TestReplicasShareTheThrottle runs two replicas on one real Redis: guesses
// spread over both lock the username out on both, and /readyz follows
// Redis down and back.
func TestReplicasShareTheThrottle(t *testing.T) {
	srv := redistest.Start(t)
	users := filepath.Join(t.TempDir(), "users.yaml")
	if err := os.WriteFile(users, []byte(usersYAML("bob")), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"AUTHGATE_JWT_SECRET=" + testSecret, "AUTHGATE_USERS_FILE=" + users,
		"AUTHGATE_REDIS_URL=" + srv.URL(), "AUTHGATE_LOGIN_MAX_FAILURES=4"}
	a, b := start(t, nil, env...), start(t, nil, env...)
	for i, in := range []*instance{a, b, a, b} {
		if code, _ := call(t, "POST", in.addr+"/login", "", "application/json", `{"username":"bob","password":"guess"}`); code != 401 {
			t.Fatalf("guess %d = %d, want 401", i+1, code)
		}
	}
	for name, in := range map[string]*instance{"a": a, "b": b} {
		if code, body := login(t, in.addr, "bob"); code != 429 {
			t.Errorf("replica %s: bob's right password after 4 guesses across both = %d %s, want 429", name, code, body)
		}
		if code, body := call(t, "GET", in.admin+"/readyz", "", "", ""); code != 200 {
			t.Errorf("replica %s: /readyz = %d %s with Redis up", name, code, body)
		}
	}
	srv.Kill()
	if code, body := call(t, "GET", a.admin+"/readyz", "", "", ""); code != 503 {
		t.Errorf("/readyz with Redis down = %d %s, want 503", code, body)
	}
	if code, body := call(t, "POST", a.addr+"/login", "", "application/json", `{"username":"carol","password":"pw"}`); code != 503 {
		t.Errorf("a login with Redis down = %d %s, want 503", code, body)
	}
	srv.Start()
	waitUntil(t, "/readyz recovers once Redis is back", func() bool {
		code, _ := call(t, "GET", a.admin+"/readyz", "", "", "")
		return code == 200
	})
}

// TestReplicaProcessesShareRevocations runs three authgate processes on one
// real Redis: a session started on one refreshes on another, and a logout
// on one is in force on the others within the documented second (asserted
// with headroom; the delays measured are logged).
func TestReplicaProcessesShareRevocations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	srv := redistest.Start(t)
	users := filepath.Join(t.TempDir(), "users.yaml")
	os.WriteFile(users, []byte(usersYAML("bob")), 0o600)
	var replicas []string
	for range 3 {
		p := startBinary(t, "AUTHGATE_ADDR=127.0.0.1:0", "AUTHGATE_ADMIN_ADDR=", "AUTHGATE_JWT_SECRET="+testSecret,
			"AUTHGATE_USERS_FILE="+users, "AUTHGATE_REDIS_URL="+srv.URL())
		replicas = append(replicas, "http://"+p.waitFor("listening")["addr"].(string))
		go func() {
			for range p.logs { // drain, so the process never blocks on its log
			}
		}()
	}
	first := loginPair(t, replicas[0], "bob")
	code, p, body := refreshPair(t, replicas[1], first.Refresh)
	if code != 200 {
		t.Fatalf("refreshing on replica 2 a session begun on replica 1 = %d %s", code, body)
	}
	for i, r := range replicas {
		if code, body := call(t, "GET", r+"/me", "Bearer "+p.Access, "", ""); code != 200 {
			t.Fatalf("replica %d: GET /me = %d %s", i+1, code, body)
		}
	}
	if code, body := call(t, "POST", replicas[2]+"/logout", "Bearer "+p.Access, "", ""); code != 204 {
		t.Fatalf("logout on replica 3 = %d %s", code, body)
	}
	loggedOut := time.Now()
	for i, r := range replicas[:2] {
		d := waitUntilRefused(t, r, p.Access)
		t.Logf("replica %d refused the logged-out token %v after the logout answered", i+1, d.Round(time.Millisecond))
		if since := time.Since(loggedOut); since > 3*time.Second {
			t.Errorf("replica %d took %v, far over the documented 1s", i+1, since)
		}
	}
	if code, _, _ := refreshPair(t, replicas[0], p.Refresh); code != 401 {
		t.Errorf("the session's refresh token on replica 1 after the logout on replica 3 = %d", code)
	}
}

// waitUntilRefused polls GET /me with token until it is 401 (bounded).
func waitUntilRefused(t *testing.T, addr, token string) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 10*time.Second {
		if code, _ := call(t, "GET", addr+"/me", "Bearer "+token, "", ""); code == 401 {
			return time.Since(start)
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s still accepts the token after 10s", addr)
	return 0
}

// TestRedisFaults kills the real Redis under a running authgate, brings it
// back empty, and then breaks one of authgate's keys: every time, what
// depends on the store fails closed, other issuers' tokens keep working,
// and authgate heals by itself.
func TestRedisFaults(t *testing.T) {
	srv := redistest.Start(t)
	idp := newTestIdP(t)
	idp.up.Store(true)
	in, _ := startSessions(t, "AUTHGATE_REDIS_URL="+srv.URL(), "AUTHGATE_STORE_MAX_STALENESS=1s",
		"AUTHGATE_TRUSTED_ISSUERS="+idp.URL, "AUTHGATE_JWKS_MIN_REFRESH_INTERVAL=1s", "AUTHGATE_JWKS_REFRESH_INTERVAL=1s")
	waitReady(t, in)
	p := loginPair(t, in.addr, "bob")
	external := idp.mint("svc-1")

	srv.Kill()
	killed := time.Now()
	for _, tt := range []struct{ name, path, authz, body string }{
		{"login", "/login", "", `{"username":"bob","password":"pw"}`},
		{"refresh", "/refresh", "", `{"refresh_token":"` + p.Refresh + `"}`},
		{"logout", "/logout", "Bearer " + p.Access, ""},
	} {
		ctype := "application/json"
		if tt.body == "" {
			ctype = ""
		}
		if code, body := call(t, "POST", in.addr+tt.path, tt.authz, ctype, tt.body); code != 503 || !strings.Contains(body, "Service unavailable") {
			t.Errorf("%s with Redis down = %d %s, want 503", tt.name, code, body)
		}
	}
	if code, _ := call(t, "GET", in.admin+"/readyz", "", "", ""); code != 503 {
		t.Errorf("/readyz with Redis down = %d, want 503", code)
	}
	waitUntil(t, "own tokens are refused once the copy is stale", func() bool {
		code, _ := call(t, "GET", in.addr+"/me", "Bearer "+p.Access, "", "")
		return code == 503
	})
	t.Logf("own tokens refused %v after Redis was killed (max staleness 1s)", time.Since(killed).Round(time.Millisecond))
	expectRefused(t, in, p.Access, 503, "Service unavailable", false)
	if code, body := call(t, "GET", in.addr+"/auth/api/x", "Bearer "+external, "", ""); code != 200 {
		t.Errorf("another issuer's token with Redis down = %d %s, want 200", code, body)
	}

	_, metrics := call(t, "GET", in.admin+"/metrics", "", "", "")
	if !regexp.MustCompile(`(?m)^authgate_store_sync_errors_total [1-9]`).MatchString(metrics) ||
		!strings.Contains(metrics, `authgate_decisions_total{decision="denied:store_unavailable",rule="login"} 1`) {
		t.Errorf("/metrics does not count the store's errors")
	}
	srv.Start() // empty: no persistence
	waitReady(t, in)
	expectRefused(t, in, p.Access, 401, "Token has been revoked", false)
	nextSecond()
	fresh := loginPair(t, in.addr, "bob")
	if code, _ := call(t, "GET", in.addr+"/me", "Bearer "+fresh.Access, "", ""); code != 200 {
		t.Errorf("a login after Redis came back = %d", code)
	}

	// A key of authgate's holding the wrong type (WRONGTYPE) is an error,
	// and fails closed like an outage.
	srv.Do("DEL authgate:meta:epoch")
	srv.Do("LPUSH authgate:meta:epoch broken")
	waitUntil(t, "a WRONGTYPE key makes own tokens refused", func() bool {
		code, _ := call(t, "GET", in.addr+"/me", "Bearer "+fresh.Access, "", "")
		return code == 503
	})
	if code, _ := call(t, "POST", in.addr+"/login", "", "application/json", `{"username":"bob","password":"pw"}`); code != 503 {
		t.Errorf("login with a WRONGTYPE epoch key = %d, want 503", code)
	}
	srv.Do("DEL authgate:meta:epoch")
	waitReady(t, in)
	nextSecond()
	again := loginPair(t, in.addr, "bob")
	if code, _ := call(t, "GET", in.addr+"/me", "Bearer "+again.Access, "", ""); code != 200 {
		t.Errorf("after the key is repaired, a login = %d", code)
	}
}

// TestRevokeCommand revokes through the shared store with authgate revoke,
// as an operator would, while a replica serves.
func TestRevokeCommand(t *testing.T) {
	srv := redistest.Start(t)
	env := []string{"AUTHGATE_JWT_SECRET=" + testSecret, "AUTHGATE_REDIS_URL=" + srv.URL()}
	in, _ := startSessions(t, "AUTHGATE_REDIS_URL="+srv.URL())
	revoke := func(args ...string) (string, error) {
		var out strings.Builder
		err := run(t.Context(), append([]string{"revoke"}, args...), env, nil, &out, &out)
		return out.String(), err
	}
	claim := func(token, name string) string {
		var c map[string]any
		b, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		dec.Decode(&c)
		return fmt.Sprint(c[name])
	}

	byJTI := loginPair(t, in.addr, "bob")
	if out, err := revoke("--jti", claim(byJTI.Access, "jti"), "--until", claim(byJTI.Access, "exp")); err != nil || !strings.HasPrefix(out, "revoked the token with jti") {
		t.Fatalf("revoke --jti = %v %s", err, out)
	}
	waitUntilRefused(t, in.addr, byJTI.Access)
	if code, _ := call(t, "GET", in.addr+"/me", "Bearer "+loginPair(t, in.addr, "bob").Access, "", ""); code != 200 {
		t.Error("revoking one jti refused another token")
	}

	bySID := loginPair(t, in.addr, "bob")
	if _, err := revoke("--sid", claim(bySID.Access, "sid")); err != nil {
		t.Fatal(err)
	}
	waitUntilRefused(t, in.addr, bySID.Access)
	if code, _, _ := refreshPair(t, in.addr, bySID.Refresh); code != 401 {
		t.Errorf("the revoked session's refresh token = %d", code)
	}

	bySub := loginPair(t, in.addr, "carol")
	if _, err := revoke("--sub", claim(bySub.Access, "sub")); err != nil {
		t.Fatal(err)
	}
	waitUntilRefused(t, in.addr, bySub.Access)

	for _, bad := range []struct {
		args []string
		env  []string
		want string
	}{
		{nil, env, "exactly one of --sub, --sid and --jti"},
		{[]string{"--sub", "a", "--sid", "b"}, env, "exactly one"},
		{[]string{"--jti", "j"}, env, "--until: is required"},
		{[]string{"--jti", "j", "--until", "soon"}, env, "neither RFC 3339"},
		{[]string{"--sub", "a", "--until", "1"}, env, "--until goes with --jti"},
		{[]string{"--sub", "a"}, []string{"AUTHGATE_JWT_SECRET=" + testSecret}, "AUTHGATE_REDIS_URL is not set"},
	} {
		err := run(t.Context(), append([]string{"revoke"}, bad.args...), bad.env, nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("revoke %v = %v, want %q", bad.args, err, bad.want)
		}
	}
	srv.Kill()
	if _, err := revoke("--sub", "x"); err == nil || !strings.Contains(err.Error(), "nothing was revoked") {
		t.Errorf("revoke with Redis down = %v", err)
	}
}
