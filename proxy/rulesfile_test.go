package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/config"
)

// exampleRules is the rules file of README.md: "admins only on /admin,
// reports:read on GET /reports" and friends.
const exampleRules = `rules:
  - name: admin
    paths: ["/admin/*"]
    require:
      roles: [admin]
  - name: reports-read
    paths: ["/reports/*"]
    methods: [GET]
    require:
      scopes: ["reports:read"]
  - name: reports-write
    paths: ["/reports/*"]
    methods: [POST, PUT, DELETE]
    require:
      scopes: ["reports:write"]
  - name: verified
    paths: ["/account/*"]
    require:
      claims: {email_verified: true, tier: 2}
  - name: internal-api
    paths: ["/api/*"]
    hosts: ["internal.example.com"]
    public: true
  - name: open
    paths: ["/public/*", "/healthz"]
    public: true
`

func writeRules(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRulesDecide(t *testing.T) {
	rules, err := LoadRules(writeRules(t, exampleRules))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := config.Load(nil)
	rs := NewRuleSet(cfg, rules)
	id := func(claims map[string]any) auth.Identity {
		b, _ := json.Marshal(claims)
		m, _ := auth.DecodeObject(b) // numbers as a token's: json.Number
		return auth.Identity{Subject: "1", Claims: m}
	}
	tests := []struct {
		name   string
		req    Request
		claims map[string]any
		rule   string
		public bool
		ok     bool   // requirements met
		reason string // when not
	}{
		{"admin with the role", Request{"GET", "app.example", "/admin/users"}, map[string]any{"roles": []any{"user", "admin"}}, "admin", false, true, ""},
		{"admin without it", Request{"GET", "app.example", "/admin"}, map[string]any{"roles": []any{"user"}}, "admin", false, false, reasonMissingRole},
		{"admin, roles as a string", Request{"GET", "app.example", "/admin"}, map[string]any{"roles": "user admin"}, "admin", false, true, ""},
		{"reports read with scope string", Request{"GET", "", "/reports/q3"}, map[string]any{"scope": "openid reports:read"}, "reports-read", false, true, ""},
		{"reports read with scp array", Request{"GET", "", "/reports/q3"}, map[string]any{"scp": []any{"reports:read"}}, "reports-read", false, true, ""},
		{"reports read without", Request{"GET", "", "/reports/q3"}, map[string]any{"scope": "openid"}, "reports-read", false, false, reasonMissingScope},
		{"reports write needs write", Request{"POST", "", "/reports/q3"}, map[string]any{"scope": "reports:read"}, "reports-write", false, false, reasonMissingScope},
		{"reports by another method: the default rule", Request{"PATCH", "", "/reports/q3"}, nil, "protected:/*", false, true, ""},
		{"claims equal", Request{"GET", "", "/account/me"}, map[string]any{"email_verified": true, "tier": 2.0}, "verified", false, true, ""},
		{"claim false", Request{"GET", "", "/account/me"}, map[string]any{"email_verified": false, "tier": 2}, "verified", false, false, reasonClaim},
		{"claim string is not a bool", Request{"GET", "", "/account/me"}, map[string]any{"email_verified": "true", "tier": 2}, "verified", false, false, reasonClaim},
		{"claim absent", Request{"GET", "", "/account/me"}, map[string]any{"tier": 2}, "verified", false, false, reasonClaim},
		{"host rule", Request{"GET", "Internal.Example.COM.:8443", "/api/x"}, nil, "internal-api", true, true, ""},
		{"host rule, other host", Request{"GET", "app.example", "/api/x"}, nil, "protected:/*", false, true, ""},
		{"public list", Request{"DELETE", "", "/healthz"}, nil, "open", true, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, public := rs.Decide(tt.req)
			if name := ruleNameOf(m, tt.req); name != tt.rule || public != tt.public {
				t.Fatalf("Decide = %q public=%v, want %q public=%v", name, public, tt.rule, tt.public)
			}
			if public {
				return
			}
			ok, reason, why := m.Rule.Require.check(id(tt.claims), "roles")
			if ok != tt.ok || reason != tt.reason {
				t.Errorf("check = %v %q (%s), want %v %q", ok, reason, why, tt.ok, tt.reason)
			}
		})
	}
}

func TestRulesPrecedence(t *testing.T) {
	tests := []struct {
		name  string
		rules string
		env   []string
		req   Request
		want  string
	}{
		{"longer prefix beats file order", "rules:\n  - {name: a, paths: [/x/*]}\n  - {name: b, paths: [/x/y/*], public: true}\n", nil, Request{"GET", "", "/x/y/z"}, "b"},
		{"exact beats prefix", "rules:\n  - {name: a, paths: [/x/*], public: true}\n  - {name: b, paths: [/x/y]}\n", nil, Request{"GET", "", "/x/y"}, "b"},
		{"methods beat no methods", "rules:\n  - {name: a, paths: [/x/*]}\n  - {name: b, paths: [/x/*], methods: [GET], public: true}\n", nil, Request{"GET", "", "/x/1"}, "b"},
		{"methods and hosts beat methods", "rules:\n  - {name: a, paths: [/x/*], methods: [GET]}\n  - {name: b, paths: [/x/*], methods: [GET], hosts: [h]}\n", nil, Request{"GET", "h", "/x/1"}, "b"},
		{"file order breaks the last tie", "rules:\n  - {name: a, paths: [/x/*], public: true}\n  - {name: b, paths: [/x/*]}\n", nil, Request{"GET", "", "/x/1"}, "a"},
		{"file rule over an equal env rule", "rules:\n  - {name: a, paths: [/*], public: true}\n", nil, Request{"GET", "", "/anything"}, "a"},
		{"env protected over env public", "rules: []\n", []string{"AUTHGATE_PROTECTED_PATHS=/x/*", "AUTHGATE_PUBLIC_PATHS=/x/*"}, Request{"GET", "", "/x/1"}, "protected:/x/*"},
		{"more specific env rule over a file rule", "rules:\n  - {name: a, paths: [/x/*], public: true}\n", []string{"AUTHGATE_PROTECTED_PATHS=/x/secret/*"}, Request{"GET", "", "/x/secret/1"}, "protected:/x/secret/*"},
		{"a rule of several paths uses its most specific", "rules:\n  - {name: a, paths: [/*, /x/y/*], public: true}\n  - {name: b, paths: [/x/*]}\n", nil, Request{"GET", "", "/x/y/1"}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, err := LoadRules(writeRules(t, tt.rules))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(tt.env)
			if err != nil {
				t.Fatal(err)
			}
			m, _ := NewRuleSet(cfg, rules).Decide(tt.req)
			if got := ruleNameOf(m, tt.req); got != tt.want {
				t.Errorf("decided by %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadRulesErrors(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"unknown field", "rules:\n  - paths: [/a]\n    requires: {roles: [x]}\n", ":3: field requires not found"},
		{"no paths", "rules:\n  - name: x\n    public: true\n", ":2: rule 1: paths: give at least one"},
		{"bad pattern", "rules:\n  - paths: [/a]\n  - paths:\n      - /b*\n", ":4: rule 2: paths: pattern \"/b*\""},
		{"bad method", "rules:\n  - paths: [/a]\n    methods: [GET, \"PO ST\"]\n", ":3: rule 1: methods"},
		{"bad host", "rules:\n  - paths: [/a]\n    hosts: [\"http://x\"]\n", ":3: rule 1: hosts"},
		{"public with require", "rules:\n  - paths: [/a]\n    public: true\n    require: {roles: [a]}\n", ":4: rule 1: a public rule cannot require"},
		{"empty require", "rules:\n  - paths: [/a]\n    require: {}\n", ":3: rule 1: require lists no"},
		{"claim list", "rules:\n  - paths: [/a]\n    require: {claims: {groups: [a]}}\n", ":3: rule 1: require.claims.groups"},
		{"duplicate name", "rules:\n  - {name: a, paths: [/a]}\n  - {name: a, paths: [/b]}\n", ":3: rule 2: name \"a\""},
		{"no rules key", "routes: []\n", "field routes not found"},
		{"not YAML", "rules: [\n", "yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeRules(t, tt.body)
			_, err := LoadRules(path)
			if err == nil {
				t.Fatal("LoadRules succeeded")
			}
			if !strings.HasPrefix(err.Error(), path) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("LoadRules = %q, want one line with the file and %q", err, tt.want)
			}
		})
	}
}

// TestRulesEndToEnd runs the example rules through proxy mode and
// forward-auth: 401 without a token, 403 when a requirement fails, the rule
// named in the log and the metric.
func TestRulesEndToEnd(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_RULES_FILE="+writeRules(t, exampleRules))
	admin := f.token(t, map[string]any{"roles": []any{"admin"}}, 0)
	user := f.token(t, map[string]any{"roles": []any{"user"}, "scope": "reports:read"}, 0)
	tests := []struct {
		method, path, token string
		status              int
		challenge           string
	}{
		{"GET", "/admin/x", "", 401, ""},
		{"GET", "/admin/x", user, 403, ""},
		{"GET", "/admin/x", admin, 200, ""},
		{"GET", "/reports/1", user, 200, ""},
		{"POST", "/reports/1", user, 403, `Bearer realm="authgate", error="insufficient_scope", scope="reports:write"`},
		{"GET", "/public/x", "", 200, ""},
	}
	for _, tt := range tests {
		for _, mode := range []string{"proxy", "forward-auth"} {
			req := f.request(t, tt.method, tt.path, strings.NewReader("body"))
			if mode == "forward-auth" {
				req = f.request(t, "GET", "/auth", nil)
				req.Header.Set("X-Forwarded-Method", tt.method)
				req.Header.Set("X-Forwarded-Uri", tt.path)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			addForged(req.Header)
			resp, body := f.do(t, req)
			if resp.StatusCode != tt.status {
				t.Errorf("%s %s %s: %d %s, want %d", mode, tt.method, tt.path, resp.StatusCode, body, tt.status)
				continue
			}
			if tt.status == 403 && errorBody(t, resp, body) != msgForbidden {
				t.Errorf("%s %s %s: %s", mode, tt.method, tt.path, body)
			}
			if tt.challenge != "" && resp.Header.Get("WWW-Authenticate") != tt.challenge {
				t.Errorf("%s: WWW-Authenticate = %q", mode, resp.Header.Get("WWW-Authenticate"))
			}
			if mode == "proxy" {
				got, reached := f.backend.take(t)
				if reached != (tt.status == 200) {
					t.Errorf("%s %s: upstream reached %v", tt.method, tt.path, reached)
				}
				if reached {
					assertNoForged(t, got)
				}
			}
		}
	}
	logs := f.logs.String()
	for _, want := range []string{`"decision":"denied:missing_role","rule":"admin"`, `"detail":"roles [user] has none of the roles [admin]"`, `"rule":"reports-read"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	rec := httptestMetrics(t, f)
	if !strings.Contains(rec, `authgate_decisions_total{decision="denied:missing_scope",rule="reports-write"} 2`) {
		t.Errorf("metrics lack the reports-write denials:\n%s", rec)
	}
}

func httptestMetrics(t *testing.T, f *fixture) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), "GET", "/metrics", nil)
	rec := httptest.NewRecorder()
	NewAdmin(f.metrics, func() error { return nil }).ServeHTTP(rec, req)
	return rec.Body.String()
}
