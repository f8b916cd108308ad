package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/authgate/authgate/auth"
)

func TestLogin(t *testing.T) {
	f := newFixture(t, false)
	tests := []struct {
		name, contentType, body string
		status                  int
		message                 string
	}{
		{"json", "application/json", `{"username":"alice","password":"secret"}`, 200, ""},
		{"json with charset", "application/json; charset=utf-8", `{"username":"alice","password":"secret","extra":1}`, 200, ""},
		{"form", "application/x-www-form-urlencoded", "username=alice&password=secret", 200, ""},
		{"wrong password", "application/json", `{"username":"alice","password":"nope"}`, 401, msgInvalidCredentials},
		{"unknown user", "application/json", `{"username":"mallory","password":"secret"}`, 401, msgInvalidCredentials},
		{"username in another case", "application/json", `{"username":"Alice","password":"secret"}`, 401, msgInvalidCredentials},
		{"not JSON", "application/json", `username=alice`, 400, msgMalformedBody},
		{"missing password", "application/json", `{"username":"alice"}`, 400, msgMalformedBody},
		{"empty password", "application/json", `{"username":"alice","password":""}`, 400, msgMalformedBody},
		{"password not a string", "application/json", `{"username":"alice","password":123}`, 400, msgMalformedBody},
		{"regression: case-variant key is not the field", "application/json", `{"Username":"alice","Password":"secret"}`, 400, msgMalformedBody},
		{"duplicate key", "application/json", `{"username":"mallory","username":"alice","password":"secret"}`, 400, msgMalformedBody},
		{"form with two usernames", "application/x-www-form-urlencoded", "username=alice&username=bob&password=secret", 400, msgMalformedBody},
		{"no content type", "", `{"username":"alice","password":"secret"}`, 400, msgMalformedBody},
		{"text/plain", "text/plain", `{"username":"alice","password":"secret"}`, 400, msgMalformedBody},
		{"too large", "application/json", `{"username":"alice","password":"` + strings.Repeat("x", maxLoginBody) + `"}`, 413, msgBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := f.request(t, "POST", "/login", strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			resp, body := f.do(t, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("POST /login = %d %s, want %d", resp.StatusCode, body, tt.status)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", resp.Header.Get("Cache-Control"))
			}
			if tt.status != 200 {
				if msg := errorBody(t, resp, body); msg != tt.message {
					t.Errorf("error = %q, want %q", msg, tt.message)
				}
				return
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			if len(got) != 5 || got["token_type"] != "bearer" || got["expires_in"] != float64(3600) ||
				got["refresh_expires_in"] != float64(604800) || len(got["refresh_token"].(string)) < 43 {
				t.Errorf("body = %s", body)
			}
			v, _ := auth.NewVerifier(mustKeys(t), auth.VerifierOptions{Issuer: "authgate"})
			id, err := v.Verify(context.Background(), got["access_token"].(string))
			if err != nil || id.Subject != "1" || id.Claims().Map()["username"] != "alice" {
				t.Errorf("issued token: %+v, %v", id, err)
			}
		})
	}
}

func TestLoginNeverReadsTheQuery(t *testing.T) {
	f := newFixture(t, false)
	req := f.request(t, "POST", "/login?username=alice&password=secret", nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body := f.do(t, req)
	if resp.StatusCode != 400 {
		t.Errorf("credentials in the query: %d %s, want 400", resp.StatusCode, body)
	}
}

func TestLoginMethod(t *testing.T) {
	f := newFixture(t, false)
	resp, body := f.do(t, f.request(t, "GET", "/login", nil))
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" || errorBody(t, resp, body) != msgMethodNotAllowed {
		t.Errorf("GET /login = %d %v %s", resp.StatusCode, resp.Header, body)
	}
}

func TestLoginNotServedWithoutIssuer(t *testing.T) {
	f := newFixture(t, false)
	h := NewServer(Options{Config: f.cfg, Logger: zerolog.Nop(), Current: current(&Snapshot{
		Rules: rulesFor(f.cfg, nil), Verifier: mustVerifier(t), JWKS: mustKeys(t).PublicJWKS(),
	})})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/login", strings.NewReader(`{"username":"alice","password":"secret"}`)))
	if rec.Code != 404 {
		t.Errorf("POST /login without an issuer = %d, want 404", rec.Code)
	}
}

func mustVerifier(t *testing.T) *auth.Verifier {
	v, err := auth.NewVerifier(mustKeys(t), auth.VerifierOptions{Issuer: "authgate"})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMe(t *testing.T) {
	f := newFixture(t, false)
	req := f.request(t, "GET", "/me", nil)
	req.Header.Set("Authorization", "Bearer "+f.token(t, map[string]any{"email": "a@example.com"}, 0))
	resp, body := f.do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /me = %d %s", resp.StatusCode, body)
	}
	var got struct {
		ID             string         `json:"id"`
		Username       string         `json:"username"`
		TokenIssuedAt  int64          `json:"token_issued_at"`
		TokenExpiresAt int64          `json:"token_expires_at"`
		Claims         map[string]any `json:"claims"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if got.ID != "1" || got.Username != "alice" || got.TokenExpiresAt-got.TokenIssuedAt != 3600 || got.Claims["email"] != "a@example.com" {
		t.Errorf("GET /me = %s", body)
	}

	for _, tt := range []struct {
		authz, message string
	}{
		{"", msgMissingAuth},
		{"Bearer " + f.expiredToken(t), msgTokenExpired},
		{"Bearer x.y.z", msgInvalidToken},
	} {
		req := f.request(t, "GET", "/me", nil)
		if tt.authz != "" {
			req.Header.Set("Authorization", tt.authz)
		}
		resp, body := f.do(t, req)
		if resp.StatusCode != 401 || errorBody(t, resp, body) != tt.message {
			t.Errorf("GET /me with %.20q = %d %s, want 401 %q", tt.authz, resp.StatusCode, body, tt.message)
		}
	}
}

// TestLogsKeepSecrets drives every endpoint with secrets in every place a
// client puts them and checks that none appears in the log, while each
// request still gets its one access line.
func TestLogsKeepSecrets(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_PUBLIC_PATHS=/public/*")
	token := f.token(t, nil, 0)
	const password = "secret"
	const cookie = "session-cookie-value-42"
	const querySecret = "query-secret-99"
	requests := []*http.Request{
		f.request(t, "POST", "/login", strings.NewReader(`{"username":"alice","password":"`+password+`"}`)),
		f.request(t, "POST", "/login", strings.NewReader(`{"username":"alice","password":"wrong-`+password+`"}`)),
		f.request(t, "GET", "/me", nil),
		f.request(t, "GET", "/api?access_token="+querySecret, nil),
		f.request(t, "GET", "/public/x?password="+querySecret, nil),
		f.request(t, "GET", "/auth", nil),
		f.request(t, "GET", "/public/../api?token="+querySecret, nil),
		f.request(t, "GET", "/api", nil),
	}
	for i, req := range requests {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", "session="+cookie)
		if i != len(requests)-1 {
			req.Header.Set("Authorization", "Bearer "+token)
		} else {
			req.Header.Set("Authorization", "Bearer "+token[:len(token)-3]+"xyz") // invalid
		}
		resp, _ := f.do(t, req)
		resp.Body.Close()
	}
	logs := f.logs.String()
	for _, secret := range []string{token, token[strings.LastIndex(token, ".")+1:], password, cookie, querySecret, "Bearer", "Authorization", "authorization"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains %q:\n%s", secret, logs)
		}
	}
	var lines int
	for line := range strings.Lines(logs) {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if entry["message"] != "request" {
			continue
		}
		lines++
		for _, field := range []string{"time", "request_id", "method", "path", "status", "duration"} {
			if _, ok := entry[field]; !ok {
				t.Errorf("access line lacks %q: %s", field, line)
			}
		}
		if d, _ := entry["decision"].(string); d == "" {
			t.Errorf("access line lacks the decision: %s", line)
		}
	}
	if lines != len(requests) {
		t.Errorf("%d access lines for %d requests", lines, len(requests))
	}
	if !strings.Contains(logs, `"decision":"denied:`) || !strings.Contains(logs, `"sub":"1"`) {
		t.Errorf("log lacks the decisions:\n%s", logs)
	}
}

func TestAdmin(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_PUBLIC_PATHS=/public/*")
	f.do(t, f.request(t, "GET", "/public/x", nil))
	f.do(t, f.request(t, "GET", "/api", nil))
	ready := true
	admin := httptest.NewServer(NewAdmin(f.metrics, func() error {
		if !ready {
			return io.ErrUnexpectedEOF
		}
		return nil
	}))
	defer admin.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(admin.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz = %d", code)
	}
	ready = false
	if code, _ := get("/readyz"); code != 503 {
		t.Errorf("/readyz when not ready = %d, want 503", code)
	}
	_, metrics := get("/metrics")
	for _, want := range []string{
		`authgate_decisions_total{decision="public",rule="public:/public/*"} 1`,
		`authgate_decisions_total{decision="denied:missing_token",rule="protected:/*"} 1`,
		`authgate_http_requests_total{code="401",route="proxy"} 1`,
		`authgate_http_request_duration_seconds_count{route="proxy"} 2`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// blockingUsers holds every password check until release is closed, and
// records how many ran at once.
type blockingUsers struct {
	arrived chan struct{}
	release chan struct{}
	running atomic.Int32
	most    atomic.Int32
}

func (b *blockingUsers) Lookup(string) (auth.User, bool) { return auth.User{}, false }

func (b *blockingUsers) Authenticate(ctx context.Context, username, password string) (auth.User, error) {
	n := b.running.Add(1)
	defer b.running.Add(-1)
	for {
		m := b.most.Load()
		if n <= m || b.most.CompareAndSwap(m, n) {
			break
		}
	}
	b.arrived <- struct{}{}
	<-b.release
	return auth.User{Username: username, ID: "1"}, nil
}

// TestLoginHashBound: with AUTHGATE_LOGIN_CONCURRENCY=2 and two checks in
// progress, further logins wait a second for a slot and get 429 with
// Retry-After, no more than two checks ever run at once, public traffic is
// served meanwhile, and logins work again once the slots are free.
func TestLoginHashBound(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_LOGIN_CONCURRENCY=2", "AUTHGATE_PUBLIC_PATHS=/public/*")
	users := &blockingUsers{arrived: make(chan struct{}, 100), release: make(chan struct{})}
	s := *f.current.Load()
	s.Users = users
	f.current.Store(&s)
	login := func() (*http.Response, string) {
		req := f.request(t, "POST", "/login", strings.NewReader(`{"username":"alice","password":"secret"}`))
		req.Header.Set("Content-Type", "application/json")
		return f.do(t, req)
	}
	held := make(chan int, 2)
	for range 2 {
		go func() { resp, _ := login(); held <- resp.StatusCode }()
	}
	<-users.arrived
	<-users.arrived

	var wg sync.WaitGroup
	statuses := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			resp, body := login()
			statuses <- fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Header.Get("Retry-After"), strings.TrimSpace(body))
		})
	}
	if resp, body := f.do(t, f.request(t, "GET", "/public/x", nil)); resp.StatusCode != 200 {
		t.Errorf("GET /public/x while logins queue = %d %s", resp.StatusCode, body)
	}
	wg.Wait()
	close(statuses)
	for st := range statuses {
		if want := `429 1 {"error":"Too many login attempts"}`; st != want {
			t.Errorf("a login beyond the bound = %s, want %s", st, want)
		}
	}
	close(users.release)
	for range 2 {
		if code := <-held; code != 200 {
			t.Errorf("a login that held a slot = %d, want 200", code)
		}
	}
	if resp, body := login(); resp.StatusCode != 200 {
		t.Errorf("a login after the slots are free = %d %s", resp.StatusCode, body)
	}
	if most := users.most.Load(); most != 2 {
		t.Errorf("%d password checks ran at once, want at most (and here exactly) 2", most)
	}
	if !strings.Contains(httptestMetrics(t, f), `authgate_logins_total{result="busy"} 8`) {
		t.Errorf("the refused logins are not counted as busy")
	}
}
