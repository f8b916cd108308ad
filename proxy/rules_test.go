package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRulesEndToEnd runs the example rules through proxy mode and
// forward-auth: 401 without a token, 403 when a requirement fails, the rule
// named in the log and the metric.
func TestRulesEndToEnd(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_RULES_FILE=../policy/testdata/example-rules.yaml")
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
