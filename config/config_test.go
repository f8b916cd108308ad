package config

import (
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoadDefaults(t *testing.T) {
	c, err := Load(nil)
	if err != nil {
		t.Fatalf("Load(nil) = %v", err)
	}
	want := Config{
		Addr: ":8000", AdminAddr: ":9091", UpstreamTimeout: 30 * time.Second,
		JWKSMinRefresh: 30 * time.Second, JWKSRefresh: 10 * time.Minute,
		Issuer: "authgate", TokenTTL: time.Hour, ClockSkew: 30 * time.Second,
		ProtectedPaths: Patterns{{Prefix: true}},
		ClaimHeaders: ClaimHeaders{
			{"sub", "X-Auth-Subject"}, {"username", "X-Auth-User"}, {"roles", "X-Auth-Roles"},
		},
		ForwardAuthSource: "auto",
		LoginMaxFailures:  5, LoginMaxFailuresPerIP: 50, LoginWindow: 15 * time.Minute, LoginLockout: 15 * time.Minute,
		RedisPrefix: "authgate:", RefreshTTL: 168 * time.Hour, StoreMaxStaleness: 30 * time.Second,
		RefreshPath: "/refresh", LogoutPath: "/logout", TokenCacheSize: 10000, TokenCacheTTL: 5 * time.Minute,
		CookieName: "authgate_session", SessionTTL: 12 * time.Hour, CookieSecure: true,
		RolesClaim: "roles", HeaderPreset: "authgate",
		LoginPath: "/login", MePath: "/me", VerifyPath: "/auth", JWKSPath: "/.well-known/jwks.json",
		MaxHeaderBytes: 16384, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ShutdownTimeout: 20 * time.Second, LogLevel: "info", LogFormat: "json", LogFlushInterval: 100 * time.Millisecond,
	}
	want.Preset.Mapping = want.ClaimHeaders
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("Load(nil) mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadValues(t *testing.T) {
	c, err := Load([]string{
		"AUTHGATE_ADMIN_ADDR=",
		"AUTHGATE_UPSTREAM=http://127.0.0.1:8080/base",
		"AUTHGATE_PROTECTED_PATHS=/api/*, /admin",
		"AUTHGATE_PUBLIC_PATHS=/api/health",
		"AUTHGATE_CLAIM_HEADERS=sub=X-User-Id,realm_access.roles=x-roles",
		"AUTHGATE_STRIP_AUTHORIZATION=true",
		"AUTHGATE_FORWARD_AUTH_SOURCE=original",
		"AUTHGATE_TRUSTED_ISSUERS=https://kc.example/realms/a, k8s=https://127.0.0.1:6443/openid/v1/jwks",
		"PATH=/usr/bin", // not ours: ignored
	})
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if c.AdminAddr != "" {
		t.Errorf("AdminAddr = %q; set but empty must disable the admin listener", c.AdminAddr)
	}
	if c.Upstream.String() != "http://127.0.0.1:8080/base" || !c.StripAuthorization || c.ForwardAuthSource != "original" {
		t.Errorf("Load = %+v", c)
	}
	if diff := cmp.Diff(TrustedIssuers{{"https://kc.example/realms/a", ""}, {"k8s", "https://127.0.0.1:6443/openid/v1/jwks"}}, c.TrustedIssuers); diff != "" {
		t.Errorf("TrustedIssuers (-want +got):\n%s", diff)
	}
	if !c.ProtectedPathsSet || len(c.ProtectedPaths) != 2 || c.ProtectedPaths[0] != (Pattern{"/api", true}) || c.ProtectedPaths[1] != (Pattern{"/admin", false}) {
		t.Errorf("ProtectedPaths = %v (set %v)", c.ProtectedPaths, c.ProtectedPathsSet)
	}
	if diff := cmp.Diff(ClaimHeaders{{"sub", "X-User-Id"}, {"realm_access.roles", "X-Roles"}}, c.ClaimHeaders); diff != "" {
		t.Errorf("ClaimHeaders (-want +got):\n%s", diff)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		env  string
		want string // the line must start with the variable
	}{
		{"AUTHGATE_TOKEN_TTL=forever", "AUTHGATE_TOKEN_TTL: "},
		{"AUTHGATE_TOKEN_TTL=-1h", "AUTHGATE_TOKEN_TTL: "},
		{"AUTHGATE_CLOCK_SKEW=1h", "AUTHGATE_CLOCK_SKEW: "},
		{"AUTHGATE_UPSTREAM=ftp://x", "AUTHGATE_UPSTREAM: "},
		{"AUTHGATE_UPSTREAM=127.0.0.1:8080", "AUTHGATE_UPSTREAM: "},
		{"AUTHGATE_PROTECTED_PATHS=", "AUTHGATE_PROTECTED_PATHS: "},
		{"AUTHGATE_PROTECTED_PATHS=admin", "AUTHGATE_PROTECTED_PATHS: "},
		{"AUTHGATE_PUBLIC_PATHS=/a/*/b", "AUTHGATE_PUBLIC_PATHS: "},
		{"AUTHGATE_PUBLIC_PATHS=/a/../b", "AUTHGATE_PUBLIC_PATHS: "},
		{"AUTHGATE_CLAIM_HEADERS=sub", "AUTHGATE_CLAIM_HEADERS: "},
		{"AUTHGATE_CLAIM_HEADERS=sub=Authorization", "AUTHGATE_CLAIM_HEADERS: "},
		{"AUTHGATE_CLAIM_HEADERS=sub=X-A,username=x-a", "AUTHGATE_CLAIM_HEADERS: "},
		{"AUTHGATE_CLAIM_HEADERS=sub=X A", "AUTHGATE_CLAIM_HEADERS: "},
		{"AUTHGATE_STRIP_AUTHORIZATION=maybe", "AUTHGATE_STRIP_AUTHORIZATION: "},
		{"AUTHGATE_FORWARD_AUTH_SOURCE=header", "AUTHGATE_FORWARD_AUTH_SOURCE: "},
		{"AUTHGATE_MAX_HEADER_BYTES=10", "AUTHGATE_MAX_HEADER_BYTES: "},
		{"AUTHGATE_LOGIN_PATH=login", "AUTHGATE_LOGIN_PATH: "},
		{"AUTHGATE_JWKS_PATH=/me", "AUTHGATE_JWKS_PATH: "},
		{"AUTHGATE_LOG_LEVEL=loud", "AUTHGATE_LOG_LEVEL: "},
		{"AUTHGATE_LOG_FORMAT=xml", "AUTHGATE_LOG_FORMAT: "},
		{"AUTHGATE_LOG_FLUSH_INTERVAL=-1s", "AUTHGATE_LOG_FLUSH_INTERVAL: "},
		{"AUTHGATE_LOG_FLUSH_INTERVAL=11s", "AUTHGATE_LOG_FLUSH_INTERVAL: "},
		{"AUTHGATE_ISSUER=", "AUTHGATE_ISSUER: "},
		{"AUTHGATE_ADMIN_ADDR=:8000", "AUTHGATE_ADMIN_ADDR: "},
		{"AUTHGATE_JWT_PRIVATE_KEY_FILE=/k.pem\x00AUTHGATE_JWT_SECRET=s", "AUTHGATE_JWT_PRIVATE_KEY_FILE: "},
		{"AUTHGATE_JWT_ALGORITHM=RS512", "AUTHGATE_JWT_ALGORITHM: "},
		{"AUTHGATE_JWT_ALGORITHM=RS256\x00AUTHGATE_JWT_SECRET=s", "AUTHGATE_JWT_ALGORITHM: "},
		{"AUTHGATE_TRUSTED_ISSUERS=http://idp.example", "AUTHGATE_TRUSTED_ISSUERS: "},
		{"AUTHGATE_TRUSTED_ISSUERS=not-a-url", "AUTHGATE_TRUSTED_ISSUERS: "},
		{"AUTHGATE_TRUSTED_ISSUERS=x=http://idp.example/jwks", "AUTHGATE_TRUSTED_ISSUERS: "},
		{"AUTHGATE_TRUSTED_ISSUERS=https://a.example,https://a.example", "AUTHGATE_TRUSTED_ISSUERS: "},
		{"AUTHGATE_TRUSTED_ISSUERS=authgate=https://a.example/jwks", "AUTHGATE_TRUSTED_ISSUERS: "},
		{"AUTHGATE_MAX_TOKEN_LIFETIME=-1h", "AUTHGATE_MAX_TOKEN_LIFETIME: "},
		{"AUTHGATE_JWKS_MIN_REFRESH_INTERVAL=1ms", "AUTHGATE_JWKS_MIN_REFRESH_INTERVAL: "},
		{"AUTHGATE_JWKS_REFRESH_INTERVAL=1s", "AUTHGATE_JWKS_REFRESH_INTERVAL: "},
		{"AUTHGATE_HEADER_PRESET=authelia", "AUTHGATE_HEADER_PRESET: "},
		{"AUTHGATE_ROLES_CLAIM=realm_access..roles", "AUTHGATE_ROLES_CLAIM: "},
		{"AUTHGATE_CLAIMS_HEADER=yes please", "AUTHGATE_CLAIMS_HEADER: "},
		{"AUTHGATE_LOGIN_CONCURRENCY=-1", "AUTHGATE_LOGIN_CONCURRENCY: "},
		{"AUTHGATE_LOGIN_MAX_FAILURES=0", "AUTHGATE_LOGIN_MAX_FAILURES: "},
		{"AUTHGATE_REFRESH_TTL=-1h", "AUTHGATE_REFRESH_TTL: "},
		{"AUTHGATE_TOKEN_CACHE_SIZE=-1", "AUTHGATE_TOKEN_CACHE_SIZE: "},
		{"AUTHGATE_COOKIE_NAME=my cookie", "AUTHGATE_COOKIE_NAME: "},
		{"AUTHGATE_COOKIE_DOMAIN=http://example.com", "AUTHGATE_COOKIE_DOMAIN: "},
		{"AUTHGATE_COOKIE_DOMAIN=com", "AUTHGATE_COOKIE_DOMAIN: "},
		{"AUTHGATE_COOKIE_DOMAIN=10.0.0.1", "AUTHGATE_COOKIE_DOMAIN: "},
		{"AUTHGATE_LOGIN_URL=/login", "AUTHGATE_LOGIN_URL: "},
		{"AUTHGATE_LOGIN_URL=http://auth.example.com/login", "AUTHGATE_LOGIN_URL: \"http://auth.example.com/login\" is http://"},
		{"AUTHGATE_ALLOWED_REDIRECT_HOSTS=https://partner.example", "AUTHGATE_ALLOWED_REDIRECT_HOSTS: "},
		{"AUTHGATE_ALLOWED_REDIRECT_HOSTS=10.0.0.1", "AUTHGATE_ALLOWED_REDIRECT_HOSTS: "},
		{"AUTHGATE_SESSION_TTL=0s", "AUTHGATE_SESSION_TTL: "},
		{"AUTHGATE_COOKIE_NAME=a;b", "AUTHGATE_COOKIE_NAME: "},
		{"AUTHGATE_TOKEN_CACHE_TTL=2h", "AUTHGATE_TOKEN_CACHE_TTL: "},
		{"AUTHGATE_STORE_MAX_STALENESS=10ms", "AUTHGATE_STORE_MAX_STALENESS: "},
		{"AUTHGATE_REVOCATION=sometimes", "AUTHGATE_REVOCATION: "},
		{"AUTHGATE_LOGOUT_PATH=/login", "AUTHGATE_LOGOUT_PATH: "},
		{"AUTHGATE_LOGIN_MAX_FAILURES_PER_IP=0", "AUTHGATE_LOGIN_MAX_FAILURES_PER_IP: "},
		{"AUTHGATE_LOGIN_WINDOW=0s", "AUTHGATE_LOGIN_WINDOW: "},
		{"AUTHGATE_LOGIN_LOCKOUT=-1m", "AUTHGATE_LOGIN_LOCKOUT: "},
		{"AUTHGATE_REDIS_URL=localhost:6379", "AUTHGATE_REDIS_URL: "},
		{"AUTHGATE_REDIS_URL=http://:hunter2@localhost:6379", "AUTHGATE_REDIS_URL: \"http://:xxxxx@localhost:6379\" must be"},
		{"AUTHGATE_REDIS_URL=redis://r:6379\x00AUTHGATE_REDIS_URL_FILE=/f", "AUTHGATE_REDIS_URL: "},
		{"AUTHGATE_REDIS_PREFIX=auth gate:", "AUTHGATE_REDIS_PREFIX: "},
		{"AUTHGATE_LOGIN_CONCURRENCY=many", "AUTHGATE_LOGIN_CONCURRENCY: "},
		{"AUTHGATE_TRUSTED_PROXIES=0.0.0.0/0", "AUTHGATE_TRUSTED_PROXIES: \"0.0.0.0/0\" trusts every address"},
		{"AUTHGATE_TRUSTED_PROXIES=10.0.0.0/8,::/0", "AUTHGATE_TRUSTED_PROXIES: \"::/0\" trusts every address"},
		{"AUTHGATE_TRUSTED_PROXIES=10.0.0.0/33", "AUTHGATE_TRUSTED_PROXIES: "},
		{"AUTHGATE_TRUSTED_PROXIES=lb.internal", "AUTHGATE_TRUSTED_PROXIES: "},
		{"AUTHGATE_TRUSTED_PROXIES=fe80::1%eth0", "AUTHGATE_TRUSTED_PROXIES: "},
		{"AUTHGATE_PROTECTED_PATH=/x", "AUTHGATE_PROTECTED_PATH: unknown variable; see README.md for the list (did you mean AUTHGATE_PROTECTED_PATHS?)"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			env := strings.Split(tt.env, "\x00")
			if strings.HasPrefix(tt.env, "AUTHGATE_ISSUER=") {
				env = []string{"AUTHGATE_ISSUER= "} // empty uses the default; a blank is wrong
			}
			_, err := Load(env)
			if err == nil {
				t.Fatalf("Load(%s) succeeded", tt.env)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], tt.want) {
				t.Errorf("Load(%s) = %q, want one line starting %q", tt.env, err, tt.want)
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load([]string{"AUTHGATE_TOKEN_TTL=x", "AUTHGATE_LOG_LEVEL=loud", "AUTHGATE_JWT_SECRET=a", "AUTHGATE_JWT_SECRET_FILE=/f", "AUTHGATE_NOPE=1"})
	if err == nil {
		t.Fatal("Load succeeded")
	}
	for _, v := range []string{"AUTHGATE_TOKEN_TTL:", "AUTHGATE_LOG_LEVEL:", "AUTHGATE_JWT_SECRET:", "AUTHGATE_NOPE:"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error %q does not name %s", err, v)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 4 {
		t.Errorf("got %d lines, want 4:\n%v", n, err)
	}
}

func TestPresetMapping(t *testing.T) {
	c, err := Load([]string{"AUTHGATE_HEADER_PRESET=remote", "AUTHGATE_ROLES_CLAIM=realm_access.roles"})
	if err != nil {
		t.Fatal(err)
	}
	want := ClaimHeaders{{"username", "Remote-User"}, {"realm_access.roles", "Remote-Groups"}, {"email", "Remote-Email"}, {"name", "Remote-Name"}}
	if diff := cmp.Diff(want, c.ClaimHeaders); diff != "" {
		t.Errorf("remote preset mapping (-want +got):\n%s", diff)
	}
	c, _ = Load([]string{"AUTHGATE_HEADER_PRESET=remote", "AUTHGATE_CLAIM_HEADERS=sub=Remote-User"})
	if len(c.ClaimHeaders) != 1 || len(c.Preset.Family) != 4 {
		t.Errorf("AUTHGATE_CLAIM_HEADERS replaces the mapping but not the family: %v, %v", c.ClaimHeaders, c.Preset.Family)
	}
}

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/*", "/", true},
		{"/*", "/anything/at/all", true},
		{"/api/*", "/api", true},
		{"/api/*", "/api/", true},
		{"/api/*", "/api/v1", true},
		{"/api/*", "/apiv1", false},
		{"/api/*", "/API/v1", false},
		{"/exact", "/exact", true},
		{"/exact", "/exact/", false},
		{"/exact", "/exact/x", false},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Match(tt.path); got != tt.want {
			t.Errorf("%s.Match(%q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
	for _, bad := range []string{"", "api", "/a*", "/a/*/b", "/a/", "/a//b", "/a/./b", "/a?x", "/a%2f", "/a;b", "/a b"} {
		if _, err := ParsePattern(bad); err == nil {
			t.Errorf("ParsePattern(%q) succeeded", bad)
		}
	}
}

func TestNormalizeHeaderName(t *testing.T) {
	for _, in := range []string{"X-Auth-User", "x-auth-user", "X-AUTH-USER", "X-Auth_User", "X.Auth.User", "x_auth.user"} {
		if got := NormalizeHeaderName(in); got != "x-auth-user" {
			t.Errorf("NormalizeHeaderName(%q) = %q", in, got)
		}
	}
}

// TestREADMEDocumentsEveryVariable keeps the README's configuration table
// true to the Config struct, both ways.
func TestREADMEDocumentsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(AUTHGATE_[A-Z_]+)`").FindAllStringSubmatch(string(readme), -1) {
		documented[m[1]] = true
	}
	known := map[string]bool{}
	for _, v := range Variables() {
		known[v] = true
		if !documented[v] {
			t.Errorf("%s is not in README.md's configuration table", v)
		}
	}
	for v := range documented {
		if !known[v] {
			t.Errorf("README.md documents %s, which Config does not read", v)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := Load([]string{"AUTHGATE_TRUSTED_PROXIES=10.1.2.3/8, 192.0.2.7 ,fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "fd00::/8"}
	if len(c.TrustedProxies) != len(want) {
		t.Fatalf("TrustedProxies = %v, want %v", c.TrustedProxies, want)
	}
	for i, p := range c.TrustedProxies {
		if p.String() != want[i] {
			t.Errorf("TrustedProxies[%d] = %s, want %s (masked)", i, p, want[i])
		}
	}
	for addr, trusted := range map[string]bool{
		"10.200.0.1": true, "192.0.2.7": true, "192.0.2.8": false, "::ffff:10.0.0.1": true,
		"fd12::1": true, "fe80::1": false, "11.0.0.1": false,
	} {
		if got := c.TrustedProxies.Contains(netip.MustParseAddr(addr)); got != trusted {
			t.Errorf("Contains(%s) = %v, want %v", addr, got, trusted)
		}
	}
	if c, _ := Load(nil); len(c.TrustedProxies) != 0 || c.TrustedProxies.Contains(netip.MustParseAddr("127.0.0.1")) {
		t.Errorf("by default nothing is trusted: %v", c.TrustedProxies)
	}
}

func TestRevocationOn(t *testing.T) {
	for _, tt := range []struct {
		env  []string
		want bool
	}{
		{nil, true},
		{[]string{"AUTHGATE_REFRESH_TTL=0"}, false},
		{[]string{"AUTHGATE_REFRESH_TTL=0", "AUTHGATE_REVOCATION=true"}, true},
	} {
		c, err := Load(tt.env)
		if err != nil {
			t.Fatal(err)
		}
		if c.RevocationOn() != tt.want {
			t.Errorf("%v: RevocationOn = %v", tt.env, c.RevocationOn())
		}
	}
	c, _ := Load([]string{"AUTHGATE_MAX_TOKEN_LIFETIME=400h"})
	if h := c.RevocationHorizon(); h != 400*time.Hour+30*time.Second {
		t.Errorf("RevocationHorizon = %v", h)
	}
}

func TestBrowserSettings(t *testing.T) {
	c, err := Load([]string{"AUTHGATE_COOKIE_DOMAIN=.Example.COM", "AUTHGATE_LOGIN_URL=http://localhost:8000/login", "AUTHGATE_COOKIE_SECURE=false",
		"AUTHGATE_ALLOWED_REDIRECT_HOSTS=Partner.example.net, admin.example.org:8443"})
	if err != nil {
		t.Fatal(err)
	}
	if c.CookieDomain != "example.com" || c.LoginURL.String() != "http://localhost:8000/login" || c.CookieSecure ||
		len(c.AllowedRedirectHosts) != 2 || c.AllowedRedirectHosts[0] != "partner.example.net" || c.AllowedRedirectHosts[1] != "admin.example.org:8443" {
		t.Errorf("browser settings = %q %v %v %q", c.CookieDomain, c.LoginURL, c.CookieSecure, c.AllowedRedirectHosts)
	}
}
