package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExplain(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	os.WriteFile(rules, []byte(`rules:
  - name: admin
    paths: ["/admin/*"]
    require: {roles: [admin]}
  - name: docs
    paths: ["/docs/*"]
    hosts: ["docs.example.com"]
    public: true
`), 0o600)
	env := []string{"AUTHGATE_JWT_SECRET=" + testSecret, "AUTHGATE_RULES_FILE=" + rules}
	mint := func(roles string) string {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"token", "--sub", "1", "--claim", "username=alice", "--claim", "roles=" + roles}, env, nil, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out.String())
	}
	admin, user := mint(`["admin"]`), mint(`["user"]`)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"GET", "/admin/users", "--token", admin}, []string{`rule:      "admin" from rules.yaml:2`, "decision:  allowed", "X-Auth-User: alice", "X-Auth-Roles: admin"}},
		{[]string{"--token", user, "GET", "/admin/users"}, []string{"decision:  denied: 403 Forbidden (missing_role)", "roles [user] has none of the roles [admin]"}},
		{[]string{"GET", "/admin/users"}, []string{"decision:  denied: 401 Missing or malformed Authorization header"}},
		{[]string{"GET", "/admin/users", "--token", "Bearer x.y.z"}, []string{"decision:  denied: 401 Invalid token"}},
		{[]string{"GET", "/docs/a", "--host", "Docs.Example.com"}, []string{`rule:      "docs"`, "decision:  public", "its path /* is less specific than /docs/*"}},
		{[]string{"GET", "/docs/a", "--host", "other.example"}, []string{`rule:      "protected:/*"`, "decision:  denied: 401"}},
		{[]string{"GET", "/docs/../admin"}, []string{"refused before any rule: 400 Malformed request path"}},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if err := run(context.Background(), append([]string{"explain"}, tt.args...), env, nil, &out, io.Discard); err != nil {
			t.Errorf("explain %v = %v", tt.args, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("explain %v lacks %q:\n%s", tt.args, w, out.String())
			}
		}
	}
	if err := run(context.Background(), []string{"explain", "GET"}, env, nil, io.Discard, io.Discard); err == nil {
		t.Error("explain without a path succeeded")
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("rules:\n  - paths: [admin]\n"), 0o600)
	err := run(context.Background(), []string{"serve"}, []string{"AUTHGATE_JWT_SECRET=" + testSecret, "AUTHGATE_RULES_FILE=" + bad, "AUTHGATE_ADDR=127.0.0.1:0"}, nil, io.Discard, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "AUTHGATE_RULES_FILE: "+bad+":2: rule 1: paths") {
		t.Errorf("serve with a bad rules file = %v", err)
	}
}
