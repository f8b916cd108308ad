package proxy

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/authgate/authgate/config"
)

// TestHeaderPresets: each preset sets its own header names and strips its
// whole family (and X-Auth-*) from client requests, in any spelling.
func TestHeaderPresets(t *testing.T) {
	tests := []struct {
		preset string
		forged []string          // client headers of the preset's family
		want   map[string]string // what the upstream must get
	}{
		{"authgate", []string{"X-Auth-User", "x_auth_roles"},
			map[string]string{"X-Auth-Subject": "1", "X-Auth-User": "alice", "X-Auth-Roles": "admin,user"}},
		{"remote", []string{"Remote-User", "remote_groups", "Remote.Email", "REMOTE-NAME"},
			map[string]string{"Remote-User": "alice", "Remote-Groups": "admin,user", "Remote-Email": "alice@example.com", "Remote-Name": "Alice A."}},
		{"forwarded", []string{"X-Forwarded-User", "x_forwarded_email", "X-Forwarded-Groups", "X-Forwarded-Preferred-Username"},
			map[string]string{"X-Forwarded-User": "1", "X-Forwarded-Email": "alice@example.com", "X-Forwarded-Groups": "admin,user", "X-Forwarded-Preferred-Username": "al"}},
		{"auth-request", []string{"X-Auth-Request-User", "x_auth_request_groups"},
			map[string]string{"X-Auth-Request-User": "1", "X-Auth-Request-Email": "alice@example.com", "X-Auth-Request-Groups": "admin,user"}},
	}
	claims := map[string]any{"email": "alice@example.com", "name": "Alice A.", "preferred_username": "al"}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			f := newFixture(t, true, "AUTHGATE_HEADER_PRESET="+tt.preset, "AUTHGATE_PUBLIC_PATHS=/public/*")
			for _, path := range []string{"/app", "/public/x"} {
				req := f.request(t, "GET", path, nil)
				req.Header.Set("Authorization", "Bearer "+f.token(t, claims, 0))
				for _, h := range tt.forged {
					req.Header[h] = []string{"mallory"}
				}
				addForged(req.Header)
				if resp, body := f.do(t, req); resp.StatusCode != 200 {
					t.Fatalf("GET %s = %d %s", path, resp.StatusCode, body)
				}
				got, _ := f.backend.take(t)
				assertNoForged(t, got)
				for name, v := range tt.want {
					want := v
					if path == "/public/x" {
						want = ""
					}
					if g := got.Header.Get(name); g != want {
						t.Errorf("%s: upstream %s = %q, want %q", path, name, g, want)
					}
				}
			}
			// Forward-auth answers with the same headers.
			req := f.request(t, "GET", "/auth", nil)
			req.Header.Set("Authorization", "Bearer "+f.token(t, claims, 0))
			resp, _ := f.do(t, req)
			for name, v := range tt.want {
				if g := resp.Header.Get(name); g != v {
					t.Errorf("forward-auth %s = %q, want %q", name, g, v)
				}
			}
		})
	}
}

func TestClaimsHeader(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_CLAIMS_HEADER=true")
	req := f.request(t, "GET", "/x", nil)
	req.Header.Set("Authorization", "Bearer "+f.token(t, map[string]any{"org": map[string]any{"id": 7}}, 0))
	req.Header.Set("X-Auth-Claims", base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)))
	f.do(t, req)
	got, _ := f.backend.take(t)
	if len(got.Header.Values("X-Auth-Claims")) != 1 {
		t.Fatalf("X-Auth-Claims = %q, want exactly authgate's", got.Header.Values("X-Auth-Claims"))
	}
	raw, err := base64.RawURLEncoding.DecodeString(got.Header.Get("X-Auth-Claims"))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if c["sub"] != "1" || c["username"] != "alice" || c["org"].(map[string]any)["id"] != float64(7) {
		t.Errorf("X-Auth-Claims = %s", raw)
	}
	// Off by default.
	g := newFixture(t, true)
	req = g.request(t, "GET", "/x", http.NoBody)
	req.Header.Set("Authorization", "Bearer "+g.token(t, nil, 0))
	g.do(t, req)
	if got, _ := g.backend.take(t); got.Header.Get("X-Auth-Claims") != "" {
		t.Error("X-Auth-Claims sent without AUTHGATE_CLAIMS_HEADER")
	}
}

// TestClaimsThatAreNoHeaderValues: a claim that would not arrive unchanged
// as a header value is omitted (and the log says which), never sent blank
// or trimmed; the client's copy of the header is stripped all the same.
func TestClaimsThatAreNoHeaderValues(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_CLAIM_HEADERS=sub=X-Auth-Subject,email=X-Auth-Email,name=X-Auth-Name,team=X-Auth-Team,ok=X-Auth-Ok")
	req := f.request(t, "GET", "/x", nil)
	req.Header.Set("Authorization", "Bearer "+f.token(t, map[string]any{
		"email": "", "name": " bob ", "team": "a\r\nX-Evil: 1", "ok": "fine value",
	}, 0))
	req.Header.Set("X-Auth-Email", "mallory@example.com")
	if resp, body := f.do(t, req); resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, body)
	}
	got, _ := f.backend.take(t)
	for _, name := range []string{"X-Auth-Email", "X-Auth-Name", "X-Auth-Team", "X-Evil"} {
		if v, ok := got.Header[name]; ok {
			t.Errorf("the upstream got %s: %q, want it omitted", name, v)
		}
	}
	if got.Header.Get("X-Auth-Ok") != "fine value" || got.Header.Get("X-Auth-Subject") != "1" {
		t.Errorf("the good claims: %v", got.Header)
	}
	if logs := f.logs.String(); !strings.Contains(logs, `"claims":["email","name","team"]`) {
		t.Errorf("the log does not name the omitted claims:\n%s", logs)
	}
}

// TestStripSpellings: strip removes every identity and method-override
// header whatever the case and separators of its name, first byte included
// (strip skips names by their first byte), and keeps every other header.
func TestStripSpellings(t *testing.T) {
	ih := NewIdentityHeaders(config.ClaimHeaders{{Claim: "email", Header: "Email"}, {Claim: "org", Header: "-Org"}}, []string{"remote-user"}, false)
	gone := []string{
		"X-Auth-User", "x-auth-user", "X_AUTH_USER", "x.auth.roles", "X-Auth-Anything",
		"Email", "email", "EMAIL", "-Org", "_org", ".ORG",
		"Remote-User", "remote_user", "REMOTE.USER",
		"X-HTTP-Method-Override", "x_http_method", "X.Method.Override",
	}
	kept := []string{"Accept", "Authorization", "Cookie", "User-Agent", "X-Forwarded-For", "X-Request-Id", "Emails", "Remote-Users", "Org", "_Orgs", ""}
	h := http.Header{}
	for _, n := range slices.Concat(gone, kept) {
		h[n] = []string{"v"}
	}
	ih.strip(h)
	for _, n := range gone {
		if _, ok := h[n]; ok {
			t.Errorf("strip kept %q", n)
		}
	}
	for _, n := range kept {
		if _, ok := h[n]; !ok {
			t.Errorf("strip removed %q", n)
		}
	}
}
