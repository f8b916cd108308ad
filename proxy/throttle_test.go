package proxy

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/authgate/authgate/auth"
)

// countingUsers counts the password checks (the hashes) of the users it
// wraps.
type countingUsers struct {
	Users
	checks atomic.Int32
}

func (c *countingUsers) Authenticate(ctx context.Context, username, password string) (auth.User, error) {
	c.checks.Add(1)
	return c.Users.Authenticate(ctx, username, password)
}

func countChecks(f *fixture) *countingUsers {
	s := *f.current.Load()
	c := &countingUsers{Users: s.Users}
	s.Users = c
	f.current.Store(&s)
	return c
}

// loginAs posts a JSON login from the client address xff (through a
// trusted proxy, when the fixture trusts one) and returns the response.
func loginAs(t *testing.T, f *fixture, username, password, xff string) (*http.Response, string) {
	t.Helper()
	req := f.request(t, "POST", "/login", strings.NewReader(`{"username":"`+username+`","password":"`+password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	return f.do(t, req)
}

// TestLoginLockout: after AUTHGATE_LOGIN_MAX_FAILURES wrong passwords a
// username is locked out, the right password included, with Retry-After,
// and a locked-out login computes no hash; other usernames are not
// affected, and unknown usernames lock out like known ones.
func TestLoginLockout(t *testing.T) {
	f := newFixture(t, false, "AUTHGATE_LOGIN_MAX_FAILURES=3", "AUTHGATE_LOGIN_LOCKOUT=10m")
	users := countChecks(f)
	for i := range 3 {
		if resp, body := loginAs(t, f, "alice", "wrong", ""); resp.StatusCode != 401 {
			t.Fatalf("wrong password %d = %d %s", i+1, resp.StatusCode, body)
		}
	}
	before := users.checks.Load()
	resp, body := loginAs(t, f, "alice", "secret", "")
	if resp.StatusCode != 429 || errorBody(t, resp, body) != msgTooManyLogins || resp.Header.Get("Retry-After") != "600" {
		t.Errorf("the right password while locked out = %d %s Retry-After %q; want 429 %q 600", resp.StatusCode, body, resp.Header.Get("Retry-After"), msgTooManyLogins)
	}
	if n := users.checks.Load() - before; n != 0 {
		t.Errorf("a locked-out login ran %d password checks, want none", n)
	}
	for range 3 {
		loginAs(t, f, "nobody", "guess", "")
	}
	if resp, _ := loginAs(t, f, "nobody", "guess", ""); resp.StatusCode != 429 {
		t.Errorf("an unknown username after 3 failures = %d, want 429 like a known one", resp.StatusCode)
	}
	if !strings.Contains(httptestMetrics(t, f), `authgate_logins_total{result="locked_out"} 2`) {
		t.Error("lockouts are not counted")
	}
	if !strings.Contains(f.logs.String(), `"decision":"denied:locked_out","rule":"login"`) {
		t.Errorf("the log lacks the lockout decision:\n%s", f.logs)
	}
}

// TestLoginLockoutPerAddress: failures across usernames from one address
// lock that address out. Behind a trusted proxy the address is the
// client's; without one, X-Forwarded-For is ignored and the peer counts.
func TestLoginLockoutPerAddress(t *testing.T) {
	for _, tt := range []struct {
		name    string
		env     []string
		otherIP int // status of alice's right password from another address
	}{
		{"trusted proxy", []string{"AUTHGATE_TRUSTED_PROXIES=127.0.0.1"}, 200},
		{"no trusted proxy", nil, 429},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{"AUTHGATE_LOGIN_MAX_FAILURES=100", "AUTHGATE_LOGIN_MAX_FAILURES_PER_IP=4"}, tt.env...)
			f := newFixture(t, false, env...)
			for _, u := range []string{"a", "b", "c", "d"} {
				if resp, _ := loginAs(t, f, u, "x", "203.0.113.9"); resp.StatusCode != 401 {
					t.Fatalf("a guess = %d", resp.StatusCode)
				}
			}
			if resp, body := loginAs(t, f, "alice", "secret", "203.0.113.9"); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "900" {
				t.Errorf("alice from the locked-out address = %d %s, want 429 with Retry-After 900", resp.StatusCode, body)
			}
			if resp, body := loginAs(t, f, "alice", "secret", "198.51.100.4"); resp.StatusCode != tt.otherIP {
				t.Errorf("alice from another client address = %d %s, want %d", resp.StatusCode, body, tt.otherIP)
			}
		})
	}
}

// TestLoginStoreDown kills the real Redis that holds the counters: a login
// is refused with 503, the right password included, and works again once
// Redis is back.
func TestLoginStoreDown(t *testing.T) {
	f, srv := newRedisFixture(t)
	if resp, body := loginAs(t, f, "alice", "secret", ""); resp.StatusCode != 200 {
		t.Fatalf("login with Redis up = %d %s", resp.StatusCode, body)
	}
	srv.Kill()
	for _, pw := range []string{"secret", "wrong"} {
		resp, body := loginAs(t, f, "alice", pw, "")
		if resp.StatusCode != 503 || errorBody(t, resp, body) != msgUnavailable {
			t.Errorf("login (%s) with Redis down = %d %s, want 503 %q", pw, resp.StatusCode, body, msgUnavailable)
		}
	}
	if !strings.Contains(f.logs.String(), `"decision":"denied:store_unavailable"`) {
		t.Errorf("the log lacks the store_unavailable decision:\n%s", f.logs)
	}
	srv.Start()
	healed := false
	for range 200 { // bounded: up to ten seconds
		if resp, _ := loginAs(t, f, "alice", "secret", ""); resp.StatusCode == 200 {
			healed = true
			break
		}
	}
	if !healed {
		t.Error("logins did not work again after Redis came back")
	}
}
