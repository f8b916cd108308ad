package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/auth"
)

const testSecret = "cmd-tests-secret-0123456789abcdef-0123456789"

// syncBuffer collects the log of a running command.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// instance is a command started with run, as main would.
type instance struct {
	addr, admin string // http://host:port
	logs        *syncBuffer
	stop        func() error
}

// start runs `authgate <args>` with env on loopback ports picked by the
// kernel, and waits until it logs where it listens.
func start(t *testing.T, args []string, env ...string) *instance {
	t.Helper()
	env = append([]string{"AUTHGATE_ADDR=127.0.0.1:0", "AUTHGATE_ADMIN_ADDR=127.0.0.1:0"}, env...)
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	var runErr error
	exited := make(chan struct{})
	go func() {
		runErr = run(ctx, args, env, strings.NewReader(""), io.Discard, logs)
		close(exited)
	}()
	in := &instance{logs: logs, stop: func() error {
		cancel()
		<-exited
		return runErr
	}}
	t.Cleanup(func() { in.stop() })
	for range 1000 { // bounded: up to ten seconds
		select {
		case <-exited:
			t.Fatalf("run %v exited early: %v\n%s", args, runErr, logs)
		case <-time.After(10 * time.Millisecond):
		}
		for line := range strings.Lines(logs.String()) {
			var entry map[string]any
			if json.Unmarshal([]byte(line), &entry) != nil {
				continue
			}
			if a, ok := entry["addr"].(string); ok {
				in.addr = "http://" + a
			}
			if a, ok := entry["admin_addr"].(string); ok {
				in.admin = "http://" + a
			}
		}
		if in.addr != "" && in.admin != "" {
			return in
		}
	}
	t.Fatalf("run %v did not start listening:\n%s", args, logs)
	return nil
}

func call(t *testing.T, method, url, authz, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDemoWalkthrough is the SPEC's walkthrough, step by step.
func TestDemoWalkthrough(t *testing.T) {
	in := start(t, []string{"demo"})
	code, body := call(t, "POST", in.addr+"/login", "", "application/json", `{"username":"alice","password":"secret"}`)
	var login struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(body), &login); code != 200 || err != nil {
		t.Fatalf("POST /login = %d %s", code, body)
	}
	if !strings.HasPrefix(login.AccessToken, "eyJ") || login.TokenType != "bearer" || login.ExpiresIn != 3600 {
		t.Errorf("POST /login = %s", body)
	}

	code, body = call(t, "GET", in.addr+"/me", "Bearer "+login.AccessToken, "", "")
	var me map[string]any
	if err := json.Unmarshal([]byte(body), &me); code != 200 || err != nil {
		t.Fatalf("GET /me = %d %s", code, body)
	}
	if me["id"] != "1" || me["username"] != "alice" || me["token_issued_at"] == nil || me["token_expires_at"] == nil {
		t.Errorf("GET /me = %s", body)
	}

	code, body = call(t, "GET", in.addr+"/me", "", "", "")
	if code != 401 || body != `{"error":"Missing or malformed Authorization header"}`+"\n" {
		t.Errorf("GET /me without a token = %d %q", code, body)
	}
	code, body = call(t, "GET", in.addr+"/public", "", "", "")
	if code != 200 || body != `{"message":"Anyone can read this!"}`+"\n" {
		t.Errorf("GET /public = %d %q", code, body)
	}
	code, body = call(t, "GET", in.addr+"/dashboard", "Bearer "+login.AccessToken, "", "")
	if code != 200 || !strings.Contains(body, `"X-Auth-User":"alice"`) || !strings.Contains(body, `"X-Auth-Subject":"1"`) {
		t.Errorf("GET /dashboard = %d %s; the demo upstream echoes identity headers", code, body)
	}
	if !strings.Contains(in.logs.String(), "NOT FOR PRODUCTION") {
		t.Errorf("the demo does not say it is not for production:\n%s", in.logs)
	}
	if err := in.stop(); err != nil {
		t.Errorf("stopping the demo: %v", err)
	}
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	os.WriteFile(secretFile, []byte(testSecret+"\n"), 0o600)
	usersFile := filepath.Join(dir, "users.yaml")
	hash := auth.HashArgon2id("pw", auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	os.WriteFile(usersFile, []byte("users:\n  - username: bob\n    id: \"7\"\n    password: "+hash+"\n"), 0o600)

	in := start(t, nil, "AUTHGATE_JWT_SECRET_FILE="+secretFile, "AUTHGATE_USERS_FILE="+usersFile)
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := call(t, "GET", in.admin+path, "", "", ""); code != 200 {
			t.Errorf("GET %s = %d %s", path, code, body)
		}
	}
	code, body := call(t, "POST", in.addr+"/login", "", "application/x-www-form-urlencoded", "username=bob&password=pw")
	if code != 200 {
		t.Fatalf("POST /login = %d %s", code, body)
	}
	// The file's trailing newline is not part of the secret.
	v, _ := auth.NewVerifier(mustKeys(t, testSecret), auth.VerifierOptions{Issuer: "authgate"})
	var login struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal([]byte(body), &login)
	if id, err := v.Verify(context.Background(), login.AccessToken); err != nil || id.Subject != "7" {
		t.Errorf("issued token: %v, %v", id, err)
	}
	if code, _ := call(t, "GET", in.addr+"/elsewhere", "", "", ""); code != 404 {
		t.Errorf("without an upstream, GET /elsewhere = %d, want 404", code)
	}
	if err := in.stop(); err != nil {
		t.Errorf("run returned %v after a clean shutdown", err)
	}
	if !strings.Contains(in.logs.String(), `"message":"stopped"`) {
		t.Errorf("no shutdown in the log:\n%s", in.logs)
	}
}

func mustKeys(t *testing.T, secret string) *auth.KeySet {
	key, err := auth.NewHMACKey([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := auth.NewKeySet(key)
	return ks
}

func TestServeRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	badUsers := filepath.Join(dir, "users.yaml")
	os.WriteFile(badUsers, []byte("users:\n  - username: a\n    id: \"1\"\n    password: plaintext\n"), 0o600)
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{"every problem at once", []string{"AUTHGATE_TOKEN_TTL=x", "AUTHGATE_LOG_FORMAT=xml", "AUTHGATE_UPSTREAM=nope"},
			[]string{"AUTHGATE_TOKEN_TTL: ", "AUTHGATE_LOG_FORMAT: ", "AUTHGATE_UPSTREAM: "}},
		{"no secret", nil, []string{"AUTHGATE_JWT_SECRET: no keys are configured"}},
		{"short secret", []string{"AUTHGATE_JWT_SECRET=short"}, []string{"AUTHGATE_JWT_SECRET: the secret is 5 bytes; at least 32"}},
		{"missing secret file", []string{"AUTHGATE_JWT_SECRET_FILE=" + dir + "/nope"}, []string{"AUTHGATE_JWT_SECRET_FILE: reading the secret file"}},
		{"bad users file", []string{"AUTHGATE_JWT_SECRET=" + testSecret, "AUTHGATE_USERS_FILE=" + badUsers}, []string{"AUTHGATE_USERS_FILE: " + badUsers + ":2: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{"AUTHGATE_ADDR=127.0.0.1:0", "AUTHGATE_ADMIN_ADDR="}, tt.env...)
			err := run(context.Background(), []string{"serve"}, env, nil, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("serve started")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("error has %d lines, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestHashPassword(t *testing.T) {
	tests := []struct {
		args  []string
		stdin string
		ok    bool
	}{
		{nil, "correct horse\n", true},
		{nil, "correct horse\r\n", true},
		{nil, "no newline", true},
		{[]string{"--bcrypt", "--cost", "4"}, "pw\n", true},
		{nil, "", false},
		{nil, "\n", false},
		{nil, "two\nlines\n", false},
		{nil, strings.Repeat("x", 2000), false},
		{[]string{"--bcrypt", "--cost", "4"}, strings.Repeat("x", 73), false},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"hash-password"}, tt.args...), nil, strings.NewReader(tt.stdin), &out, io.Discard)
		if (err == nil) != tt.ok {
			t.Errorf("hash-password %v < %.20q = %v, want ok=%v", tt.args, tt.stdin, err, tt.ok)
			continue
		}
		if !tt.ok {
			continue
		}
		hash := strings.TrimSuffix(out.String(), "\n")
		pw := strings.TrimRight(strings.SplitN(tt.stdin, "\n", 2)[0], "\r")
		if ok, err := auth.ComparePassword(hash, pw); !ok || err != nil {
			t.Errorf("hash-password printed %q, which does not match %q: %v", hash, pw, err)
		}
		if len(tt.args) == 0 && !strings.HasPrefix(hash, "$argon2id$") {
			t.Errorf("default hash %q is not argon2id", hash)
		}
	}
}

func TestToken(t *testing.T) {
	env := []string{"AUTHGATE_JWT_SECRET=" + testSecret, "AUTHGATE_AUDIENCE=api"}
	var out bytes.Buffer
	err := run(context.Background(), []string{"token", "--sub", "42", "--ttl", "5m", "--claim", `roles=["admin"]`, "--claim", "note=hello world", "--claim", "n=7"}, env, nil, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	tok := out.String()
	if strings.Count(tok, "\n") != 1 || !strings.HasSuffix(tok, "\n") {
		t.Fatalf("token output %q, want the bare token and a newline", tok)
	}
	v, _ := auth.NewVerifier(mustKeys(t, testSecret), auth.VerifierOptions{Issuer: "authgate", Audience: "api"})
	id, err := v.Verify(context.Background(), strings.TrimSpace(tok))
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "42" || fmt.Sprint(id.Claims().Map()["roles"]) != "[admin]" || id.Claims().Map()["note"] != "hello world" ||
		fmt.Sprint(id.Claims().Map()["n"]) != "7" || id.ExpiresAt.Sub(id.IssuedAt) != 5*time.Minute {
		t.Errorf("minted claims = %v", id.Claims().Map())
	}

	for _, bad := range []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"token"}, env, "--sub is required"},
		{[]string{"token", "--sub", "1", "--claim", "exp=1"}, env, `claim "exp"`},
		{[]string{"token", "--sub", "1", "--claim", "novalue"}, env, "name=value"},
		{[]string{"token", "--sub", "1", "--claim", "a=1", "--claim", "a=2"}, env, "twice"},
		{[]string{"token", "--sub", "1"}, nil, "cannot mint"},
		{[]string{"token", "--sub", "1", "extra"}, env, "unexpected argument"},
		{[]string{"token", "--nope"}, env, "flag provided but not defined"},
	} {
		err := run(context.Background(), bad.args, bad.env, nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v = %v, want an error containing %q", bad.args, err, bad.want)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	in := start(t, nil, "AUTHGATE_JWT_SECRET="+testSecret)
	admin := strings.TrimPrefix(in.admin, "http://")
	for _, args := range [][]string{{"healthcheck"}, {"healthcheck", "--ready"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, []string{"AUTHGATE_ADMIN_ADDR=" + admin}, nil, &out, io.Discard); err != nil {
			t.Errorf("%v = %v", args, err)
		}
	}
	in.stop()
	if err := run(context.Background(), []string{"healthcheck"}, []string{"AUTHGATE_ADMIN_ADDR=" + admin}, nil, io.Discard, io.Discard); err == nil {
		t.Error("healthcheck succeeded against a stopped server")
	}
	if err := run(context.Background(), []string{"healthcheck"}, []string{"AUTHGATE_ADMIN_ADDR="}, nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "AUTHGATE_ADMIN_ADDR") {
		t.Errorf("healthcheck with the admin listener off = %v", err)
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, c := range commands() {
		var out bytes.Buffer
		if err := run(context.Background(), []string{c.name, "--help"}, nil, nil, &out, io.Discard); err != nil {
			t.Errorf("%s --help = %v", c.name, err)
		}
		if !strings.Contains(out.String(), "Usage: authgate "+c.name) {
			t.Errorf("%s --help printed %q", c.name, out.String())
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, nil, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "hash-password") {
		t.Errorf("--help = %v, %q", err, out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"version"}, nil, nil, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "authgate ") {
		t.Errorf("version = %v, %q", err, out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, nil, nil, io.Discard, io.Discard); err == nil {
		t.Error("an unknown command succeeded")
	}
}
