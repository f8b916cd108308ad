package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cheapArgon2 keeps the tests fast; production hashes use DefaultArgon2.
var cheapArgon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestComparePassword(t *testing.T) {
	bc, err := HashBcrypt("hunter2", 4)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("p", 72)
	bcLong, err := HashBcrypt(long, 4)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, hash, password string
		want                 bool
	}{
		{"argon2id match", HashArgon2id("hunter2", cheapArgon2), "hunter2", true},
		{"argon2id mismatch", HashArgon2id("hunter2", cheapArgon2), "hunter3", false},
		{"argon2id default params", HashArgon2id("pw", DefaultArgon2()), "pw", true},
		{"bcrypt match", bc, "hunter2", true},
		{"bcrypt mismatch", bc, "hunter3", false},
		{"regression: bcrypt ignores bytes past 72", bcLong, long + "extra", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ComparePassword(tt.hash, tt.password)
			if err != nil {
				t.Fatalf("ComparePassword = %v", err)
			}
			if got != tt.want {
				t.Errorf("ComparePassword(%q) = %v, want %v", tt.password, got, tt.want)
			}
		})
	}
}

func TestCheckHash(t *testing.T) {
	bad := []string{
		"hunter2",
		"",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
		"$2b$04$short",
	}
	for _, h := range bad {
		if err := CheckHash(h); err == nil {
			t.Errorf("CheckHash(%q) = nil, want an error", h)
		}
	}
	if err := CheckHash(HashArgon2id("x", cheapArgon2)); err != nil {
		t.Errorf("CheckHash(argon2id) = %v", err)
	}
}

func newTestUsers(t *testing.T) *Users {
	t.Helper()
	u, err := NewUsers([]User{
		{Username: "alice", ID: "1", Password: HashArgon2id("secret", cheapArgon2), Claims: map[string]any{"roles": []any{"admin"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestAuthenticate(t *testing.T) {
	u := newTestUsers(t)
	var compared []string
	u.cmp = func(hash, pw string) (bool, error) {
		compared = append(compared, hash)
		return ComparePassword(hash, pw)
	}
	ctx := context.Background()

	usr, err := u.Authenticate(ctx, "alice", "secret")
	if err != nil || usr.ID != "1" {
		t.Fatalf("Authenticate(alice, secret) = %+v, %v", usr, err)
	}
	if _, err := u.Authenticate(ctx, "alice", "wrong"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("wrong password: %v, want ErrInvalidCredentials", err)
	}
	compared = nil
	if _, err := u.Authenticate(ctx, "mallory", "secret"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("unknown user: %v, want ErrInvalidCredentials", err)
	}
	// Timing parity: the unknown user costs a real comparison, against a
	// dummy hash with the first user's algorithm and parameters.
	if len(compared) != 1 {
		t.Fatalf("unknown user ran %d hash comparisons, want 1", len(compared))
	}
	if compared[0] != u.dummy || !strings.HasPrefix(u.dummy, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("unknown user compared against %q, want the dummy with the users' parameters", compared[0])
	}
	if ok, _ := ComparePassword(u.dummy, "secret"); ok {
		t.Error("the dummy hash matches a user's password")
	}
}

func TestLoadUsers(t *testing.T) {
	write := func(t *testing.T, body string) string {
		p := filepath.Join(t.TempDir(), "users.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hash := HashArgon2id("secret", cheapArgon2)
	good := "users:\n  - username: alice\n    id: \"1\"\n    password: " + hash + "\n    claims:\n      roles: [admin]\n      email: alice@example.com\n"
	u, err := LoadUsers(write(t, good))
	if err != nil {
		t.Fatalf("LoadUsers = %v", err)
	}
	usr, err := u.Authenticate(context.Background(), "alice", "secret")
	if err != nil || usr.Claims["email"] != "alice@example.com" {
		t.Fatalf("Authenticate = %+v, %v", usr, err)
	}

	tests := []struct {
		name, body, want string
	}{
		{"plain text password", "users:\n  - username: a\n    id: \"1\"\n    password: hunter2\n", ":2: "},
		{"unknown field", "users:\n  - username: a\n    id: \"1\"\n    pasword: x\n", "pasword"},
		{"duplicate user", "users:\n  - username: a\n    id: \"1\"\n    password: " + hash + "\n  - username: a\n    id: \"2\"\n    password: " + hash + "\n", ":5: "},
		{"reserved claim", "users:\n  - username: a\n    id: \"1\"\n    password: " + hash + "\n    claims: {sub: admin}\n", `claim "sub"`},
		{"missing id", "users:\n  - username: a\n    password: " + hash + "\n", "id is missing"},
		{"no users list", "users:\n", "no users"},
		{"regression: a claim JSON cannot carry", "users:\n  - username: a\n    id: \"1\"\n    password: " + hash + "\n    claims: {score: .nan}\n", ":2: \"a\": claims cannot go into a token"},
		{"regression: a claim map with a number key", "users:\n  - username: a\n    id: \"1\"\n    password: " + hash + "\n    claims: {org: {1: x}}\n", "claims cannot go into a token"},
		{"unknown top-level key", "people: []\n", ":1: field people not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write(t, tt.body)
			_, err := LoadUsers(path)
			if err == nil {
				t.Fatal("LoadUsers succeeded")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadUsers = %q, want the file and %q", err, tt.want)
			}
		})
	}
}
