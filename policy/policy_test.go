package policy

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/config"
)

// rulesFrom builds Rules as serve does: the rules file's rules and the path
// lists of the AUTHGATE_* variables env.
func rulesFrom(t *testing.T, env []string, file []Rule) *Rules {
	t.Helper()
	cfg, err := config.Load(env)
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{File: file, Protected: cfg.ProtectedPaths, Public: cfg.PublicPaths, UnlistedPublic: cfg.ProtectedPathsSet, RolesClaim: cfg.RolesClaim})
}

func writeRules(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// identity is a verified identity with these claims, numbers as a token's
// (json.Number).
func identity(claims map[string]any) *auth.Identity {
	b, _ := json.Marshal(claims)
	m, _ := auth.DecodeObject(b)
	id := auth.Identity{Subject: "1"}.WithClaims(m)
	return &id
}

func TestPathListPrecedence(t *testing.T) {
	tests := []struct {
		name   string
		env    []string
		path   string
		public bool
		rule   string
	}{
		{"default protects everything", nil, "/x", false, "protected:/*"},
		{"public exact", []string{"AUTHGATE_PUBLIC_PATHS=/health"}, "/health", true, "public:/health"},
		{"exact is only exact", []string{"AUTHGATE_PUBLIC_PATHS=/health"}, "/health/x", false, "protected:/*"},
		{"longer prefix wins", []string{"AUTHGATE_PROTECTED_PATHS=/api/*", "AUTHGATE_PUBLIC_PATHS=/api/docs/*"}, "/api/docs/x", true, "public:/api/docs/*"},
		{"longer prefix wins, protected", []string{"AUTHGATE_PROTECTED_PATHS=/api/docs/private/*", "AUTHGATE_PUBLIC_PATHS=/api/docs/*"}, "/api/docs/private/x", false, "protected:/api/docs/private/*"},
		{"exact beats prefix", []string{"AUTHGATE_PROTECTED_PATHS=/api/docs", "AUTHGATE_PUBLIC_PATHS=/api/*"}, "/api/docs", false, "protected:/api/docs"},
		{"exact beats a longer prefix", []string{"AUTHGATE_PROTECTED_PATHS=/a/b/c/*", "AUTHGATE_PUBLIC_PATHS=/a/b/c"}, "/a/b/c", true, "public:/a/b/c"},
		{"tie goes to protected", []string{"AUTHGATE_PROTECTED_PATHS=/x/*", "AUTHGATE_PUBLIC_PATHS=/x/*"}, "/x/y", false, "protected:/x/*"},
		{"tie goes to protected, /*", []string{"AUTHGATE_PUBLIC_PATHS=/*"}, "/y", false, "protected:/*"},
		{"unlisted is public when PROTECTED_PATHS is set", []string{"AUTHGATE_PROTECTED_PATHS=/admin/*"}, "/else", true, RuleDefault},
		{"paths are case-sensitive", []string{"AUTHGATE_PROTECTED_PATHS=/admin/*"}, "/Admin", true, RuleDefault},
		{"no original request is protected", []string{"AUTHGATE_PROTECTED_PATHS=/admin/*"}, "", false, RuleNoRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := rulesFrom(t, tt.env, nil).Match(Request{Method: "GET", Path: tt.path})
			if m.Public != tt.public || m.Name != tt.rule {
				t.Errorf("Match(%q) = %v, %q; want %v, %q", tt.path, m.Public, m.Name, tt.public, tt.rule)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	file, err := LoadRules("testdata/example-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rs := rulesFrom(t, nil, file)
	tests := []struct {
		name   string
		req    Request
		claims map[string]any
		rule   string
		public bool
		reason string // the failure with an identity of claims; "" when it passes
	}{
		{"admin with the role", Request{"GET", "app.example", "/admin/users"}, map[string]any{"roles": []any{"user", "admin"}}, "admin", false, ""},
		{"admin without it", Request{"GET", "app.example", "/admin"}, map[string]any{"roles": []any{"user"}}, "admin", false, ReasonMissingRole},
		{"admin, roles as a string", Request{"GET", "app.example", "/admin"}, map[string]any{"roles": "user admin"}, "admin", false, ""},
		{"reports read with scope string", Request{"GET", "", "/reports/q3"}, map[string]any{"scope": "openid reports:read"}, "reports-read", false, ""},
		{"reports read with scp array", Request{"GET", "", "/reports/q3"}, map[string]any{"scp": []any{"reports:read"}}, "reports-read", false, ""},
		{"reports read without", Request{"GET", "", "/reports/q3"}, map[string]any{"scope": "openid"}, "reports-read", false, ReasonMissingScope},
		{"reports write needs write", Request{"POST", "", "/reports/q3"}, map[string]any{"scope": "reports:read"}, "reports-write", false, ReasonMissingScope},
		{"reports by another method: the default rule", Request{"PATCH", "", "/reports/q3"}, nil, "protected:/*", false, ""},
		{"claims equal", Request{"GET", "", "/account/me"}, map[string]any{"email_verified": true, "tier": 2.0}, "verified", false, ""},
		{"claim false", Request{"GET", "", "/account/me"}, map[string]any{"email_verified": false, "tier": 2}, "verified", false, ReasonClaimMismatch},
		{"claim string is not a bool", Request{"GET", "", "/account/me"}, map[string]any{"email_verified": "true", "tier": 2}, "verified", false, ReasonClaimMismatch},
		{"claim absent", Request{"GET", "", "/account/me"}, map[string]any{"tier": 2}, "verified", false, ReasonClaimMismatch},
		{"host rule", Request{"GET", "Internal.Example.COM.:8443", "/api/x"}, nil, "internal-api", true, ""},
		{"host rule, other host", Request{"GET", "app.example", "/api/x"}, nil, "protected:/*", false, ""},
		{"public list", Request{"DELETE", "", "/healthz"}, nil, "open", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := rs.Decide(tt.req, identity(tt.claims))
			if d.Name != tt.rule || d.Public != tt.public {
				t.Fatalf("Decide = %q public=%v, want %q public=%v", d.Name, d.Public, tt.rule, tt.public)
			}
			if got := failureReason(d); got != tt.reason {
				t.Errorf("Decide with %v fails with %q (%v), want %q", tt.claims, got, d.Failure, tt.reason)
			}
			// Without an identity a public request still passes and a
			// protected one fails as unauthenticated, whatever it requires.
			anon := rs.Decide(tt.req, nil)
			want := ReasonUnauthenticated
			if tt.public {
				want = ""
			}
			if got := failureReason(anon); got != want || anon.Name != d.Name {
				t.Errorf("Decide without an identity = %q by %q, want %q by %q", got, anon.Name, want, d.Name)
			}
		})
	}
}

func failureReason(d Decision) string {
	if d.Failure == nil {
		return ""
	}
	return d.Failure.Reason
}

func TestDecisionSaysWhatFailed(t *testing.T) {
	file, err := LoadRules(writeRules(t, "rules:\n  - name: admin\n    paths: [/admin/*]\n    require: {roles: [admin], claims: {tier: 2}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := rulesFrom(t, nil, file).Decide(Request{Method: "GET", Path: "/admin/x"}, identity(map[string]any{"roles": []any{"user"}}))
	if d.Rule == nil || d.Rule.Require == nil || d.Rule.Require.Roles[0] != "admin" {
		t.Fatalf("Decision does not say what is required: %+v", d)
	}
	if d.Failure == nil || d.Failure.Detail != "roles [user] has none of the roles [admin]" {
		t.Errorf("Failure = %+v, want the roles sentence", d.Failure)
	}
	if got := d.Rule.Summary(); got != "paths /admin/*; needs a valid token with one of the roles [admin] and claims tier=2" {
		t.Errorf("Summary = %q", got)
	}
}

func TestRulesPrecedence(t *testing.T) {
	tests := []struct {
		name  string
		rules string
		env   []string
		req   Request
		want  string
		why   string // WinsOver the runner-up
	}{
		{"longer prefix beats file order", "rules:\n  - {name: a, paths: [/x/*]}\n  - {name: b, paths: [/x/y/*], public: true}\n", nil, Request{"GET", "", "/x/y/z"}, "b", "its path /x/* is less specific than /x/y/*"},
		{"exact beats prefix", "rules:\n  - {name: a, paths: [/x/*], public: true}\n  - {name: b, paths: [/x/y]}\n", nil, Request{"GET", "", "/x/y"}, "b", "its path /x/* is less specific than /x/y"},
		{"methods beat no methods", "rules:\n  - {name: a, paths: [/x/*]}\n  - {name: b, paths: [/x/*], methods: [GET], public: true}\n", nil, Request{"GET", "", "/x/1"}, "b", "it names fewer of methods and hosts"},
		{"methods and hosts beat methods", "rules:\n  - {name: a, paths: [/x/*], methods: [GET]}\n  - {name: b, paths: [/x/*], methods: [GET], hosts: [h]}\n", nil, Request{"GET", "h", "/x/1"}, "b", "it names fewer of methods and hosts"},
		{"file order breaks the last tie", "rules:\n  - {name: a, paths: [/x/*], public: true}\n  - {name: b, paths: [/x/*]}\n", nil, Request{"GET", "", "/x/1"}, "a", "it comes later"},
		{"file rule over an equal env rule", "rules:\n  - {name: a, paths: [/*], public: true}\n", nil, Request{"GET", "", "/anything"}, "a", "it comes later"},
		{"env protected over env public", "rules: []\n", []string{"AUTHGATE_PROTECTED_PATHS=/x/*", "AUTHGATE_PUBLIC_PATHS=/x/*"}, Request{"GET", "", "/x/1"}, "protected:/x/*", "it comes later"},
		{"more specific env rule over a file rule", "rules:\n  - {name: a, paths: [/x/*], public: true}\n", []string{"AUTHGATE_PROTECTED_PATHS=/x/secret/*"}, Request{"GET", "", "/x/secret/1"}, "protected:/x/secret/*", "less specific"},
		{"a rule of several paths uses its most specific", "rules:\n  - {name: a, paths: [/*, /x/y/*], public: true}\n  - {name: b, paths: [/x/*]}\n", nil, Request{"GET", "", "/x/y/1"}, "a", "its path /x/* is less specific than /x/y/*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file, err := LoadRules(writeRules(t, tt.rules))
			if err != nil {
				t.Fatal(err)
			}
			rs := rulesFrom(t, tt.env, file)
			m := rs.MatchAll(tt.req)
			if fast := rs.Match(tt.req); fast.Name != m.Name || fast.Pattern != m.Pattern || fast.Others != nil {
				t.Errorf("Match = %q via %s, MatchAll = %q via %s: they must agree", fast.Name, fast.Pattern, m.Name, m.Pattern)
			}
			if m.Name != tt.want {
				t.Fatalf("decided by %q, want %q", m.Name, tt.want)
			}
			if len(m.Others) == 0 {
				t.Fatal("no other matching rule")
			}
			if why := m.WinsOver(m.Others[0]); !strings.Contains(why, tt.why) {
				t.Errorf("WinsOver(%q) = %q, want it to say %q", m.Others[0].Name, why, tt.why)
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
		{"no rules list", "rules:\n", "no rules: list (write rules: [] for none)"},
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
	rules, err := LoadRules("testdata/example-rules.yaml")
	if err != nil || len(rules) != 6 || rules[1].Source != "example-rules.yaml:6" || rules[5].Name != "open" {
		t.Errorf("LoadRules(example) = %d rules, %v; rule 2 from %q", len(rules), err, rules[1].Source)
	}
}

// TestMatchAgreesWithMatchAll: the hot path's linear scan and explain's
// sort pick the same rule, through the same pattern, for random rule sets.
func TestMatchAgreesWithMatchAll(t *testing.T) {
	patterns := []string{"/*", "/a/*", "/a", "/a/b/*", "/a/b", "/c/*"}
	methods := [][]string{nil, {"GET"}, {"POST"}, {"GET", "POST"}}
	hosts := [][]string{nil, {"x.example"}, {"y.example:8443"}}
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		var rules []Rule
		for i := range 1 + r.IntN(8) {
			p, _ := config.ParsePattern(patterns[r.IntN(len(patterns))])
			rules = append(rules, Rule{Name: fmt.Sprint("r", i), Paths: []config.Pattern{p},
				Methods: methods[r.IntN(len(methods))], Hosts: hosts[r.IntN(len(hosts))], Public: r.IntN(2) == 0})
		}
		rs := New(Options{File: rules, RolesClaim: "roles"})
		for _, path := range []string{"/", "/a", "/a/b", "/a/b/c", "/c/d", "/z"} {
			for _, m := range []string{"GET", "POST", "PUT"} {
				for _, h := range []string{"", "x.example", "y.example:8443"} {
					req := Request{Method: m, Host: h, Path: path}
					fast, all := rs.Match(req), rs.MatchAll(req)
					if fast.Name != all.Name || fast.Pattern != all.Pattern || fast.Public != all.Public {
						t.Fatalf("%+v: Match = %s via %s, MatchAll = %s via %s", req, fast.Name, fast.Pattern, all.Name, all.Pattern)
					}
				}
			}
		}
	}
}
