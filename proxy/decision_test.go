package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate/auth"
)

// failingUsers is a users store whose check breaks, as a disk or a hash
// library might: every login is a 500.
type failingUsers struct{}

func (failingUsers) Authenticate(context.Context, string, string) (auth.User, error) {
	return auth.User{}, errors.New("the hash library is on fire")
}

func (failingUsers) Lookup(string) (auth.User, bool) { return auth.User{}, false }

// TestEveryRequestGetsOneDecision drives every endpoint and every way a
// request can end, 500s included, and checks that each request has exactly
// one decision on its access line and in authgate_decisions_total.
func TestEveryRequestGetsOneDecision(t *testing.T) {
	type call struct {
		fixture  string
		req      func(f *fixture) *http.Request
		raw      string // sent as written instead, when set
		status   int
		decision string
		rule     string
	}
	get := func(path, authz string, headers ...string) func(f *fixture) *http.Request {
		return func(f *fixture) *http.Request {
			req := f.request(t, "GET", path, nil)
			if authz == "valid" {
				req.Header.Set("Authorization", "Bearer "+f.token(t, nil, 0))
			}
			for i := 0; i+1 < len(headers); i += 2 {
				req.Header.Set(headers[i], headers[i+1])
			}
			return req
		}
	}
	login := func(method, body string) func(f *fixture) *http.Request {
		return func(f *fixture) *http.Request {
			req := f.request(t, method, "/login", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			return req
		}
	}
	good := `{"username":"alice","password":"secret"}`
	calls := []call{
		{fixture: "proxy", req: login("POST", good), status: 200, decision: "allowed", rule: "login"},
		{fixture: "proxy", req: login("POST", `{"username":"alice","password":"nope"}`), status: 401, decision: "denied:invalid_credentials", rule: "login"},
		{fixture: "proxy", req: login("POST", `{"username":"alice"}`), status: 400, decision: "denied:malformed_body", rule: "login"},
		{fixture: "proxy", req: login("POST", `{"password":"`+strings.Repeat("x", maxLoginBody)+`"}`), status: 413, decision: "denied:body_too_large", rule: "login"},
		{fixture: "proxy", req: login("GET", ""), status: 405, decision: "denied:method_not_allowed", rule: "login"},
		{fixture: "broken users", req: login("POST", good), status: 500, decision: "denied:internal", rule: "login"},
		{fixture: "no issuer", req: login("POST", good), status: 404, decision: "denied:no_signing_key", rule: "login"},
		{fixture: "proxy", req: get("/me", "valid"), status: 200, decision: "allowed", rule: "me"},
		{fixture: "proxy", req: get("/me", ""), status: 401, decision: "denied:missing_token", rule: "me"},
		{fixture: "proxy", req: get("/me", "", "Authorization", "Bearer x.y.z"), status: 401, decision: "denied:malformed", rule: "me"},
		{fixture: "proxy", req: func(f *fixture) *http.Request { return f.request(t, "DELETE", "/me", nil) }, status: 405, decision: "denied:method_not_allowed", rule: "me"},
		{fixture: "proxy", req: get("/auth", ""), status: 401, decision: "denied:missing_token", rule: "no-original-request"},
		{fixture: "proxy", req: get("/auth", "valid", "X-Forwarded-Uri", "/api"), status: 200, decision: "allowed", rule: "protected:/*"},
		{fixture: "proxy", req: get("/auth", "", "X-Forwarded-Uri", "/public/x"), status: 200, decision: "public", rule: "public:/public/*"},
		{fixture: "proxy", req: get("/auth", "", "X-Forwarded-Uri", "/api", "X-Original-Uri", "/public/x"), status: 403, decision: "denied:sources_disagree", rule: "no-original-request"},
		{fixture: "proxy", raw: "GET /auth/public/%2e%2e/api HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", status: 403, decision: "denied:bad_path", rule: "request"},
		{fixture: "proxy", req: get("/.well-known/jwks.json", ""), status: 200, decision: "public", rule: "jwks"},
		{fixture: "proxy", req: func(f *fixture) *http.Request { return f.request(t, "POST", "/.well-known/jwks.json", nil) }, status: 405, decision: "denied:method_not_allowed", rule: "jwks"},
		{fixture: "proxy", req: get("/public/x", ""), status: 200, decision: "public", rule: "public:/public/*"},
		{fixture: "proxy", req: get("/api", ""), status: 401, decision: "denied:missing_token", rule: "protected:/*"},
		{fixture: "proxy", req: get("/api", "valid"), status: 200, decision: "allowed", rule: "protected:/*"},
		{fixture: "proxy", req: get("/api", "valid", "Upgrade", "h2c", "Connection", "Upgrade"), status: 400, decision: "denied:bad_upgrade", rule: "request"},
		{fixture: "proxy", raw: "GET /public/../api HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", status: 400, decision: "denied:bad_path", rule: "request"},
		{fixture: "proxy", req: get("/api", "", "X-Big", strings.Repeat("a", 20000)), status: 431, decision: "denied:headers_too_large", rule: "request"},
		{fixture: "verify only", req: get("/anything", ""), status: 404, decision: "denied:not_found", rule: "not-found"},
	}
	fixtures := map[string]*fixture{
		"proxy":        newFixture(t, true, "AUTHGATE_PUBLIC_PATHS=/public/*"),
		"broken users": newFixture(t, true),
		"no issuer":    newFixture(t, true),
		"verify only":  newFixture(t, false),
	}
	broken := *fixtures["broken users"].current.Load()
	broken.Users = failingUsers{}
	fixtures["broken users"].current.Store(&broken)
	verifyOnly := *fixtures["no issuer"].current.Load()
	verifyOnly.Issuer = nil
	fixtures["no issuer"].current.Store(&verifyOnly)

	want := map[string][]call{}
	for _, c := range calls {
		f := fixtures[c.fixture]
		var resp *http.Response
		var body string
		if c.raw != "" {
			resp, body = f.raw(t, c.raw)
		} else {
			resp, body = f.do(t, c.req(f))
		}
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: status %d %s, want %d", c.fixture, c.decision, resp.StatusCode, body, c.status)
		}
		if c.status == 500 && errorBody(t, resp, body) != msgInternal {
			t.Errorf("a 500 answers %q, want %q", body, msgInternal)
		}
		want[c.fixture] = append(want[c.fixture], c)
	}
	for name, f := range fixtures {
		var lines []map[string]any
		for line := range strings.Lines(f.logs.String()) {
			var entry map[string]any
			if err := json.Unmarshal([]byte(line), &entry); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			if entry["message"] != "request" {
				continue
			}
			if n := strings.Count(line, `"decision":`); n != 1 {
				t.Errorf("%s: access line with %d decisions: %s", name, n, line)
			}
			lines = append(lines, entry)
		}
		if len(lines) != len(want[name]) {
			t.Fatalf("%s: %d access lines for %d requests:\n%s", name, len(lines), len(want[name]), f.logs)
		}
		counted := map[string]float64{}
		for i, c := range want[name] {
			if lines[i]["decision"] != c.decision || lines[i]["rule"] != c.rule {
				t.Errorf("%s request %d: decision %v by %v, want %s by %s", name, i, lines[i]["decision"], lines[i]["rule"], c.decision, c.rule)
			}
			counted[c.decision+" "+c.rule]++
		}
		families, err := f.metrics.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, fam := range families {
			if fam.GetName() != "authgate_decisions_total" {
				continue
			}
			for _, m := range fam.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				got[labels["decision"]+" "+labels["rule"]] += m.GetCounter().GetValue()
			}
		}
		for k, n := range counted {
			if got[k] != n {
				t.Errorf("%s: authgate_decisions_total{%s} = %v, want %v", name, k, got[k], n)
			}
		}
		for k, n := range got {
			if counted[k] == 0 {
				t.Errorf("%s: authgate_decisions_total{%s} = %v, for no request", name, k, n)
			}
		}
	}
	logs := fixtures["broken users"].logs.String()
	if !strings.Contains(logs, `"error":"checking the password: the hash library is on fire"`) || !strings.Contains(logs, `"message":"request failed"`) {
		t.Errorf("the 500's cause is not logged:\n%s", logs)
	}
	// The cause's line and the access line of its request share a request_id.
	ids := map[string]string{}
	for line := range strings.Lines(logs) {
		var e struct {
			Message   string `json:"message"`
			Status    int    `json:"status"`
			RequestID string `json:"request_id"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && (e.Message == "request failed" || e.Message == "request" && e.Status == 500) {
			ids[e.Message] = e.RequestID
		}
	}
	if ids["request failed"] == "" || ids["request failed"] != ids["request"] {
		t.Errorf("request_id of the cause %q, of the access line %q", ids["request failed"], ids["request"])
	}
}

func TestForFrontProxy(t *testing.T) {
	for _, tt := range []struct {
		in      *Refusal
		status  int
		message string
	}{
		{&Refusal{Status: 401, Message: msgMissingAuth}, 401, msgMissingAuth},
		{&Refusal{Status: 403, Message: msgForbidden}, 403, msgForbidden},
		{&Refusal{Status: 503, Message: msgUnavailable}, 403, msgUnavailable},
		{&Refusal{Status: 400, Message: msgBadPath}, 403, msgForbidden},
		{&Refusal{Status: 431, Message: msgHeadersTooLarge}, 403, msgForbidden},
	} {
		got := tt.in.forFrontProxy()
		if got.Status != tt.status || got.Message != tt.message || !got.frontProxy || tt.in.frontProxy {
			t.Errorf("forFrontProxy(%d %s) = %d %s (marked %v; the original changed: %v)", tt.in.Status, tt.in.Message, got.Status, got.Message, got.frontProxy, tt.in.frontProxy)
		}
	}
}

// TestCacheHitsAreDecidedAfresh: a token answered from the verified-token
// cache is still checked against revocation and decided by the rule of
// each request, never by what an earlier request was allowed
// (Oathkeeper's CVE-2021-32701 cached whole decisions).
func TestCacheHitsAreDecidedAfresh(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte("rules:\n  - name: admin\n    paths: [\"/admin/*\"]\n    require: {roles: [admin]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, true, "AUTHGATE_RULES_FILE="+rules)
	tok := f.token(t, map[string]any{"roles": []any{"user"}}, 0)
	get := func(path string) int {
		req := f.request(t, "GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, _ := f.do(t, req)
		f.backend.take(t)
		return resp.StatusCode
	}
	for range 3 {
		if code := get("/api/x"); code != 200 {
			t.Fatalf("GET /api/x = %d", code)
		}
		if code := get("/admin/x"); code != 403 {
			t.Errorf("GET /admin/x with a cached token of a user = %d, want 403", code)
		}
	}
	id, err := f.current.Load().Verifier.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.revocations.RevokeToken(context.Background(), id.Issuer, id.ID, id.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	if code := get("/api/x"); code != 401 {
		t.Errorf("a cached token after its revocation = %d, want 401", code)
	}
}
