package proxy

import (
	"testing"

	"github.com/authgate/authgate/config"
)

func TestPolicyPrecedence(t *testing.T) {
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
		{"unlisted is public when PROTECTED_PATHS is set", []string{"AUTHGATE_PROTECTED_PATHS=/admin/*"}, "/else", true, "default"},
		{"paths are case-sensitive", []string{"AUTHGATE_PROTECTED_PATHS=/admin/*"}, "/Admin", true, "default"},
		{"no original request is protected", []string{"AUTHGATE_PROTECTED_PATHS=/admin/*"}, "", false, "no-original-request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(tt.env)
			if err != nil {
				t.Fatal(err)
			}
			m, public := NewRuleSet(cfg, nil).Decide(Request{Method: "GET", Path: tt.path})
			if rule := ruleNameOf(m, Request{Path: tt.path}); public != tt.public || rule != tt.rule {
				t.Errorf("Decide(%q) = %v, %q; want %v, %q", tt.path, public, rule, tt.public, tt.rule)
			}
		})
	}
}
