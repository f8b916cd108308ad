package proxy

import (
	"net/http"
	"testing"
)

func TestForwardAuth(t *testing.T) {
	type hdrs map[string][]string
	tests := []struct {
		name    string
		source  string // AUTHGATE_FORWARD_AUTH_SOURCE; "" for auto
		method  string
		path    string // of the forward-auth request
		headers hdrs
		token   string // "valid", "expired", "" (none)
		status  int
		message string
		ident   bool
	}{
		// forwarded (Traefik, Caddy)
		{name: "forwarded public", path: "/auth", headers: hdrs{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {"/public/x?y=1"}, "X-Forwarded-Host": {"app.example"}}, status: 200},
		{name: "forwarded protected, no token", path: "/auth", headers: hdrs{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {"/admin"}}, status: 401, message: msgMissingAuth},
		{name: "forwarded protected, valid", path: "/auth", headers: hdrs{"X-Forwarded-Method": {"POST"}, "X-Forwarded-Uri": {"/admin"}}, token: "valid", status: 200, ident: true},
		{name: "forwarded protected, expired", path: "/auth", headers: hdrs{"X-Forwarded-Uri": {"/admin"}}, token: "expired", status: 401, message: msgTokenExpired},
		{name: "query never matches", path: "/auth", headers: hdrs{"X-Forwarded-Uri": {"/admin?p=/public/x"}}, status: 401, message: msgMissingAuth},
		{name: "Caddy keeps the client's query on the auth request", path: "/auth?x=1", headers: hdrs{"X-Forwarded-Uri": {"/public/x?x=1"}}, status: 200},
		// original (nginx, ingress-nginx)
		{name: "original URI public", path: "/auth", headers: hdrs{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/public/a"}}, status: 200},
		{name: "original URI protected", path: "/auth", headers: hdrs{"X-Original-Uri": {"/admin"}}, status: 401, message: msgMissingAuth},
		{name: "original URL public", path: "/auth", headers: hdrs{"X-Original-Url": {"https://app.example/public/a?b=c"}}, status: 200},
		{name: "original URL protected, valid", path: "/auth", headers: hdrs{"X-Original-Url": {"https://app.example/admin"}}, token: "valid", status: 200, ident: true},
		{name: "original URI and URL disagree", path: "/auth", headers: hdrs{"X-Original-Uri": {"/public/a"}, "X-Original-Url": {"https://app.example/admin"}}, status: 403, message: msgForbidden},
		// path (Envoy, nginx proxy_pass …/auth$request_uri)
		{name: "path public", method: "POST", path: "/auth/public/a?q=1", status: 200},
		{name: "path protected", method: "DELETE", path: "/auth/admin/x", status: 401, message: msgMissingAuth},
		{name: "path protected, valid", path: "/auth/admin/x", token: "valid", status: 200, ident: true},
		{name: "path dot segments refused", path: "/auth/public/%2e%2e/admin", status: 403, message: msgForbidden},
		{name: "path encoded slash refused", path: "/auth/public%2f..%2fadmin", status: 403, message: msgForbidden},
		// no original request: protected
		{name: "no information, no token", path: "/auth", status: 401, message: msgMissingAuth},
		{name: "no information, valid", method: "HEAD", path: "/auth", token: "valid", status: 200, ident: true},
		// smuggling in auto mode: every source present must agree
		{name: "nginx request with a client X-Forwarded-Uri", path: "/auth", headers: hdrs{"X-Original-Uri": {"/admin"}, "X-Forwarded-Uri": {"/public/x"}}, status: 403, message: msgForbidden},
		{name: "Traefik request with a client X-Original-Uri", path: "/auth", headers: hdrs{"X-Forwarded-Uri": {"/admin"}, "X-Original-Uri": {"/public/x"}}, status: 403, message: msgForbidden},
		{name: "path request with a client X-Forwarded-Uri", path: "/auth/admin", headers: hdrs{"X-Forwarded-Uri": {"/public/x"}}, status: 403, message: msgForbidden},
		{name: "sources agree", path: "/auth/public/x", headers: hdrs{"X-Forwarded-Uri": {"/public/x"}, "X-Original-Uri": {"/public/x?other"}}, status: 200},
		{name: "methods disagree", path: "/auth", headers: hdrs{"X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {"/public/x"}, "X-Original-Method": {"POST"}, "X-Original-Uri": {"/public/x"}}, status: 403, message: msgForbidden},
		{name: "hosts disagree", path: "/auth", headers: hdrs{"X-Forwarded-Host": {"a.example"}, "X-Forwarded-Uri": {"/public/x"}, "X-Original-Url": {"http://b.example/public/x"}}, status: 403, message: msgForbidden},
		{name: "two X-Forwarded-Uri", path: "/auth", headers: hdrs{"X-Forwarded-Uri": {"/admin", "/public/x"}}, status: 403, message: msgForbidden},
		{name: "method without URI", path: "/auth", headers: hdrs{"X-Forwarded-Method": {"GET"}}, status: 403, message: msgForbidden},
		{name: "bad method", path: "/auth", headers: hdrs{"X-Forwarded-Method": {"get me"}, "X-Forwarded-Uri": {"/public/x"}}, status: 403, message: msgForbidden},
		{name: "original URI with dot segments", path: "/auth", headers: hdrs{"X-Original-Uri": {"/public/../admin"}}, status: 403, message: msgForbidden},
		{name: "forwarded URI absolute-form", path: "/auth", headers: hdrs{"X-Forwarded-Uri": {"http://x/public/a"}}, status: 403, message: msgForbidden},
		{name: "original URL not http", path: "/auth", headers: hdrs{"X-Original-Url": {"javascript:alert(1)"}}, status: 403, message: msgForbidden},
		{name: "regression: a fragment in the original URL is not cut off", path: "/auth", headers: hdrs{"X-Original-Url": {"http://app.example/public#/../admin/x"}}, status: 403, message: msgForbidden},
		{name: "a fragment right after the host", path: "/auth", headers: hdrs{"X-Original-Url": {"http://app.example#/admin"}}, status: 403, message: msgForbidden},
		{name: "dot segments in the original URL", path: "/auth", headers: hdrs{"X-Original-Url": {"https://app.example/public/../admin"}}, status: 403, message: msgForbidden},
		{name: "an encoded slash in the original URL", path: "/auth", headers: hdrs{"X-Original-Url": {"https://app.example/public%2f..%2fadmin"}}, status: 403, message: msgForbidden},
		{name: "a backslash in the original URL", path: "/auth", headers: hdrs{"X-Original-Url": {"https://app.example/public\\..\\admin"}}, status: 403, message: msgForbidden},
		{name: "userinfo in the original URL", path: "/auth", headers: hdrs{"X-Original-Url": {"https://mallory@app.example/public/a"}}, status: 403, message: msgForbidden},
		{name: "original URL with a query and no path", path: "/auth", headers: hdrs{"X-Original-Url": {"https://app.example?x=/admin"}}, status: 401, message: msgMissingAuth},
		{name: "original URL with an escape decoded as on the request line", path: "/auth", headers: hdrs{"X-Original-Url": {"HTTPS://app.example/public/%61"}}, status: 200},
		// a trusted source: the others are ignored, not compared
		{name: "source=forwarded ignores X-Original-Uri", source: "forwarded", path: "/auth", headers: hdrs{"X-Forwarded-Uri": {"/admin"}, "X-Original-Uri": {"/public/x"}}, status: 401, message: msgMissingAuth},
		{name: "source=forwarded without it is protected", source: "forwarded", path: "/auth", headers: hdrs{"X-Original-Uri": {"/public/x"}}, status: 401, message: msgMissingAuth},
		{name: "source=original ignores X-Forwarded-Uri", source: "original", path: "/auth", headers: hdrs{"X-Original-Uri": {"/admin"}, "X-Forwarded-Uri": {"/public/x"}}, status: 401, message: msgMissingAuth},
		{name: "source=original public", source: "original", path: "/auth", headers: hdrs{"X-Original-Uri": {"/public/x"}, "X-Forwarded-Uri": {"/admin"}}, status: 200},
		{name: "source=path ignores headers", source: "path", path: "/auth/admin", headers: hdrs{"X-Forwarded-Uri": {"/public/x"}, "X-Original-Uri": {"/public/x"}}, status: 401, message: msgMissingAuth},
		{name: "source=path public", source: "path", path: "/auth/public/x", headers: hdrs{"X-Forwarded-Uri": {"/admin"}}, status: 200},
		{name: "source=forwarded does not read a malformed X-Original-Uri", source: "forwarded", path: "/auth", headers: hdrs{"X-Forwarded-Uri": {"/public/x"}, "X-Original-Uri": {"/public/../admin", "/x"}}, status: 200},
	}
	fixtures := map[string]*fixture{}
	for _, tt := range tests {
		if fixtures[tt.source] == nil {
			env := []string{"AUTHGATE_PUBLIC_PATHS=/public/*"}
			if tt.source != "" {
				env = append(env, "AUTHGATE_FORWARD_AUTH_SOURCE="+tt.source)
			}
			fixtures[tt.source] = newFixture(t, false, env...)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fixtures[tt.source]
			method := tt.method
			if method == "" {
				method = "GET"
			}
			req := f.request(t, method, "", nil)
			req.URL.Opaque = tt.path // sent as written
			for k, v := range tt.headers {
				req.Header[http.CanonicalHeaderKey(k)] = v
			}
			addForged(req.Header)
			switch tt.token {
			case "valid":
				req.Header.Set("Authorization", "Bearer "+f.token(t, nil, 0))
			case "expired":
				req.Header.Set("Authorization", "Bearer "+f.expiredToken(t))
			}
			resp, body := f.do(t, req)
			if resp.StatusCode != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", method, tt.path, resp.StatusCode, body, tt.status)
			}
			if tt.message != "" && method != "HEAD" {
				if msg := errorBody(t, resp, body); msg != tt.message {
					t.Errorf("error = %q, want %q", msg, tt.message)
				}
			}
			if tt.message != "" && resp.Header.Get("X-Auth-Error") != tt.message {
				t.Errorf("X-Auth-Error = %q, want %q (for nginx, which drops the body)", resp.Header.Get("X-Auth-Error"), tt.message)
			}
			// The front proxy copies these headers onto the request it
			// forwards: a client's forged identity must never be among them.
			assertNoForged(t, recorded{Header: resp.Header})
			if got := resp.Header.Get("X-Auth-User"); (got == "alice") != tt.ident || (got != "" && got != "alice") {
				t.Errorf("X-Auth-User = %q, want identity %v", got, tt.ident)
			}
			if tt.ident && (resp.Header.Get("X-Auth-Subject") != "1" || resp.Header.Get("X-Auth-Roles") != "admin,user") {
				t.Errorf("identity headers = %v", resp.Header)
			}
		})
	}
}

// TestForwardAuthStatuses checks the promise front proxies rely on: allow is
// exactly 200, and denial only 401 or 403, whatever the request.
func TestForwardAuthStatuses(t *testing.T) {
	f := newFixture(t, false, "AUTHGATE_PUBLIC_PATHS=/public/*")
	valid := f.token(t, nil, 0)
	uris := []string{"", "/public/x", "/admin", "/public/../x", "x", "http://h/x", "/%2f", "/a;b", "/\x01"}
	authz := []string{"", "Bearer " + valid, "Bearer x", "Basic x"}
	for _, fu := range uris {
		for _, ou := range uris {
			for _, a := range authz {
				req := f.request(t, "GET", "/auth", nil)
				if fu != "" {
					req.Header["X-Forwarded-Uri"] = []string{fu}
				}
				if ou != "" {
					req.Header["X-Original-Uri"] = []string{ou}
				}
				if a != "" {
					req.Header.Set("Authorization", a)
				}
				resp, err := f.front.Client().Do(req)
				if err != nil {
					continue // the client refuses to send some of these bytes
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case 200, 401, 403:
				default:
					t.Errorf("X-Forwarded-Uri %q, X-Original-Uri %q, %q: status %d", fu, ou, a, resp.StatusCode)
				}
			}
		}
	}
}
