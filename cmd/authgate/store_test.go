package main

import (
	"os"
	"path/filepath"
	"testing"

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
