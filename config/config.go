// Package config reads authgate's configuration from AUTHGATE_* environment
// variables. Loading is pure: it never touches the file system or the process
// environment, so tests pass a slice of KEY=value strings.
package config

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Prefix is the common prefix of every variable authgate reads.
const Prefix = "AUTHGATE_"

// Config is the whole configuration of authgate. The env tags (without the
// prefix) are the public names; README.md documents each of them, and a test
// keeps the two in step.
type Config struct {
	// Listeners.
	Addr      string `env:"ADDR" envDefault:":8000"`
	AdminAddr string `env:"ADMIN_ADDR"` // absent: ":9091"; set but empty: disabled

	// Reverse proxy.
	Upstream           *url.URL      `env:"UPSTREAM"`
	UpstreamTimeout    time.Duration `env:"UPSTREAM_TIMEOUT" envDefault:"30s"`
	StripAuthorization bool          `env:"STRIP_AUTHORIZATION" envDefault:"false"`
	TrustedProxies     Networks      `env:"TRUSTED_PROXIES"` // whose X-Forwarded-For is believed

	// Tokens.
	JWTSecret         string         `env:"JWT_SECRET"`
	JWTSecretFile     string         `env:"JWT_SECRET_FILE"`
	JWTPrivateKeyFile string         `env:"JWT_PRIVATE_KEY_FILE"`
	JWTAlgorithm      string         `env:"JWT_ALGORITHM"`
	JWTVerifyKeysFile string         `env:"JWT_VERIFY_KEYS_FILE"`
	TrustedIssuers    TrustedIssuers `env:"TRUSTED_ISSUERS"`
	JWKSMinRefresh    time.Duration  `env:"JWKS_MIN_REFRESH_INTERVAL" envDefault:"30s"`
	JWKSRefresh       time.Duration  `env:"JWKS_REFRESH_INTERVAL" envDefault:"10m"`
	Issuer            string         `env:"ISSUER" envDefault:"authgate"`
	Audience          string         `env:"AUDIENCE"`
	TokenTTL          time.Duration  `env:"TOKEN_TTL" envDefault:"1h"`
	ClockSkew         time.Duration  `env:"CLOCK_SKEW" envDefault:"30s"`
	MaxTokenLifetime  time.Duration  `env:"MAX_TOKEN_LIFETIME"`
	TokenCacheSize    int            `env:"TOKEN_CACHE_SIZE" envDefault:"10000"` // 0: no cache
	TokenCacheTTL     time.Duration  `env:"TOKEN_CACHE_TTL" envDefault:"5m"`

	// Users and access rules.
	UsersFile         string       `env:"USERS_FILE"`
	ProtectedPaths    Patterns     `env:"PROTECTED_PATHS"` // absent: "/*"
	PublicPaths       Patterns     `env:"PUBLIC_PATHS"`
	RulesFile         string       `env:"RULES_FILE"`
	RolesClaim        string       `env:"ROLES_CLAIM" envDefault:"roles"`
	HeaderPreset      string       `env:"HEADER_PRESET" envDefault:"authgate"`
	ClaimHeaders      ClaimHeaders `env:"CLAIM_HEADERS"` // absent: the preset's mapping
	ClaimsHeader      bool         `env:"CLAIMS_HEADER" envDefault:"false"`
	ForwardAuthSource string       `env:"FORWARD_AUTH_SOURCE" envDefault:"auto"`

	// Logins.
	LoginConcurrency      int           `env:"LOGIN_CONCURRENCY" envDefault:"0"` // 0: twice the CPUs
	LoginMaxFailures      int           `env:"LOGIN_MAX_FAILURES" envDefault:"5"`
	LoginMaxFailuresPerIP int           `env:"LOGIN_MAX_FAILURES_PER_IP" envDefault:"50"`
	LoginWindow           time.Duration `env:"LOGIN_WINDOW" envDefault:"15m"`
	LoginLockout          time.Duration `env:"LOGIN_LOCKOUT" envDefault:"15m"`

	// Browsers.
	CookieName           string        `env:"COOKIE_NAME" envDefault:"authgate_session"`
	SessionTTL           time.Duration `env:"SESSION_TTL" envDefault:"12h"` // of the cookie's token
	CookieSecure         bool          `env:"COOKIE_SECURE" envDefault:"true"`
	CookieDomain         string        `env:"COOKIE_DOMAIN"`
	LoginURL             *url.URL      `env:"LOGIN_URL"`
	AllowedRedirectHosts Hosts         `env:"ALLOWED_REDIRECT_HOSTS"`

	// Sessions and revocation.
	RefreshTTL        time.Duration `env:"REFRESH_TTL" envDefault:"168h"` // 0: no refresh tokens
	Revocation        bool          `env:"REVOCATION" envDefault:"false"` // on anyway with refresh tokens
	StoreMaxStaleness time.Duration `env:"STORE_MAX_STALENESS" envDefault:"30s"`

	// State shared by replicas; unset: in memory.
	RedisURL     string `env:"REDIS_URL"`
	RedisURLFile string `env:"REDIS_URL_FILE"`
	RedisPrefix  string `env:"REDIS_PREFIX" envDefault:"authgate:"`

	// Endpoint paths.
	LoginPath   string `env:"LOGIN_PATH" envDefault:"/login"`
	MePath      string `env:"ME_PATH" envDefault:"/me"`
	RefreshPath string `env:"REFRESH_PATH" envDefault:"/refresh"`
	LogoutPath  string `env:"LOGOUT_PATH" envDefault:"/logout"`
	VerifyPath  string `env:"VERIFY_PATH" envDefault:"/auth"`
	JWKSPath    string `env:"JWKS_PATH" envDefault:"/.well-known/jwks.json"`

	// Server limits.
	MaxHeaderBytes    int           `env:"MAX_HEADER_BYTES" envDefault:"16384"`
	ReadHeaderTimeout time.Duration `env:"READ_HEADER_TIMEOUT" envDefault:"10s"`
	IdleTimeout       time.Duration `env:"IDLE_TIMEOUT" envDefault:"120s"`
	ShutdownTimeout   time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`

	// Logs.
	LogLevel  string `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat string `env:"LOG_FORMAT" envDefault:"json"`
	// LogFlushInterval is how long info and debug lines may wait in memory
	// before they are written, so that a busy authgate writes its access
	// lines in batches; 0 writes every line at once.
	LogFlushInterval time.Duration `env:"LOG_FLUSH_INTERVAL" envDefault:"100ms"`

	// ProtectedPathsSet records whether AUTHGATE_PROTECTED_PATHS was given:
	// then a path that matches no pattern is public, else protected.
	ProtectedPathsSet bool `env:"-"`
	// Preset is AUTHGATE_HEADER_PRESET resolved: its header family, and its
	// mapping unless AUTHGATE_CLAIM_HEADERS replaced it.
	Preset Preset `env:"-"`
}

// RevocationOn reports whether authgate checks its own tokens against the
// revocations: with refresh tokens always, else with AUTHGATE_REVOCATION.
func (c Config) RevocationOn() bool { return c.Revocation || c.RefreshTTL > 0 }

// RevocationHorizon is the longest a token or session of authgate's own can
// live, so the least time a revocation must last: the token lifetime, the
// session lifetime, the cookie's token lifetime or
// AUTHGATE_MAX_TOKEN_LIFETIME, whichever is longest, plus the clock skew.
func (c Config) RevocationHorizon() time.Duration {
	return max(c.TokenTTL, c.RefreshTTL, c.MaxTokenLifetime, c.SessionTTL) + c.ClockSkew
}

// Forward-auth sources, the values of AUTHGATE_FORWARD_AUTH_SOURCE.
const (
	SourceAuto      = "auto"
	SourceForwarded = "forwarded"
	SourceOriginal  = "original"
	SourcePath      = "path"
)

// DefaultAdminAddr is the admin listener's address when AUTHGATE_ADMIN_ADDR
// is absent.
const DefaultAdminAddr = ":9091"

// Load parses environ (KEY=value strings, as from os.Environ) into a Config
// and validates it. The error lists every problem, one line each, and each
// line starts with the variable it is about.
func Load(environ []string) (Config, error) {
	vars := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, Prefix) {
			vars[k] = v
		}
	}
	c, err := env.ParseAsWithOptions[Config](env.Options{Environment: vars, Prefix: Prefix})
	errs := parseErrors(err)
	if _, ok := vars[Prefix+"ADMIN_ADDR"]; !ok {
		c.AdminAddr = DefaultAdminAddr
	}
	if v, ok := vars[Prefix+"PROTECTED_PATHS"]; ok {
		c.ProtectedPathsSet = true
		if strings.TrimSpace(v) == "" {
			errs = append(errs, errors.New(Prefix+"PROTECTED_PATHS: is set but empty; unset it to protect every path, or list patterns such as /api/*"))
		}
	} else {
		c.ProtectedPaths = Patterns{{Prefix: true}}
	}
	if p, err := PresetFor(c.HeaderPreset, c.RolesClaim); err != nil {
		errs = append(errs, fmt.Errorf("%sHEADER_PRESET: %v", Prefix, err))
	} else {
		c.Preset = p
		if _, set := vars[Prefix+"CLAIM_HEADERS"]; !set {
			c.ClaimHeaders = p.Mapping
		}
	}
	// A cookie's Domain is a name; ".example.com" is the old spelling of it.
	c.CookieDomain = strings.ToLower(strings.TrimPrefix(c.CookieDomain, "."))
	errs = append(errs, unknownVariables(vars)...)
	for _, e := range c.validate() {
		// A value that did not parse is reported once, not again as zero.
		if !slices.ContainsFunc(errs, func(p error) bool { return sameVariable(p, e) }) {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// sameVariable reports whether two errors start with the same variable name.
func sameVariable(a, b error) bool {
	va, _, _ := strings.Cut(a.Error(), ":")
	vb, _, _ := strings.Cut(b.Error(), ":")
	return va == vb
}

// validate checks what the types alone cannot. It has no side effects.
func (c *Config) validate() []error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf(Prefix+name+": "+format, args...))
	}
	if c.Upstream != nil {
		u := c.Upstream
		switch {
		case u.Scheme != "http" && u.Scheme != "https":
			bad("UPSTREAM", "%q must be an http:// or https:// URL, e.g. http://127.0.0.1:8080", u.Redacted())
		case u.Host == "":
			bad("UPSTREAM", "%q has no host; give one, e.g. http://127.0.0.1:8080", u.Redacted())
		case u.User != nil:
			bad("UPSTREAM", "must not carry credentials")
		case u.RawQuery != "" || u.Fragment != "":
			bad("UPSTREAM", "must not have a query or fragment")
		}
	}
	if c.JWTSecret != "" && c.JWTSecretFile != "" {
		bad("JWT_SECRET", "is set together with AUTHGATE_JWT_SECRET_FILE; keep one")
	}
	hasSecret := c.JWTSecret != "" || c.JWTSecretFile != ""
	if hasSecret && c.JWTPrivateKeyFile != "" {
		bad("JWT_PRIVATE_KEY_FILE", "is set together with an HS256 secret (AUTHGATE_JWT_SECRET[_FILE]); sign with one or the other")
	}
	switch c.JWTAlgorithm {
	case "":
	case "HS256":
		if c.JWTPrivateKeyFile != "" {
			bad("JWT_ALGORITHM", "HS256 needs AUTHGATE_JWT_SECRET, not a private key")
		}
	case "RS256", "PS256", "ES256", "ES384", "EdDSA":
		if hasSecret {
			bad("JWT_ALGORITHM", "%s needs AUTHGATE_JWT_PRIVATE_KEY_FILE; a secret signs HS256", c.JWTAlgorithm)
		}
	default:
		bad("JWT_ALGORITHM", "%q must be one of HS256, RS256, PS256, ES256, ES384, EdDSA", c.JWTAlgorithm)
	}
	for _, ti := range c.TrustedIssuers {
		if ti.Issuer == c.Issuer {
			bad("TRUSTED_ISSUERS", "%q is also AUTHGATE_ISSUER; authgate's own issuer uses its own keys", ti.Issuer)
		}
	}
	if c.RolesClaim == "" || slices.Contains(strings.Split(c.RolesClaim, "."), "") {
		bad("ROLES_CLAIM", "%q must be a claim name or a dotted path such as realm_access.roles", c.RolesClaim)
	}
	if c.MaxTokenLifetime < 0 {
		bad("MAX_TOKEN_LIFETIME", "%v must not be negative (0 turns the check off)", c.MaxTokenLifetime)
	}
	if c.JWKSMinRefresh < time.Second || c.JWKSMinRefresh > time.Hour {
		bad("JWKS_MIN_REFRESH_INTERVAL", "%v must be between 1s and 1h", c.JWKSMinRefresh)
	}
	if c.JWKSRefresh < c.JWKSMinRefresh || c.JWKSRefresh > 24*time.Hour {
		bad("JWKS_REFRESH_INTERVAL", "%v must be between AUTHGATE_JWKS_MIN_REFRESH_INTERVAL and 24h", c.JWKSRefresh)
	}
	if strings.TrimSpace(c.Issuer) == "" {
		bad("ISSUER", "must not be blank")
	}
	positive := map[string]time.Duration{
		"TOKEN_TTL": c.TokenTTL, "UPSTREAM_TIMEOUT": c.UpstreamTimeout,
		"LOGIN_WINDOW": c.LoginWindow, "LOGIN_LOCKOUT": c.LoginLockout, "SESSION_TTL": c.SessionTTL,
		"READ_HEADER_TIMEOUT": c.ReadHeaderTimeout, "IDLE_TIMEOUT": c.IdleTimeout,
		"SHUTDOWN_TIMEOUT": c.ShutdownTimeout,
	}
	for _, name := range slices.Sorted(maps.Keys(positive)) {
		if positive[name] <= 0 {
			bad(name, "%v must be a positive duration such as 30s", positive[name])
		}
	}
	if c.LogFlushInterval < 0 || c.LogFlushInterval > 10*time.Second {
		bad("LOG_FLUSH_INTERVAL", "%v must be between 0s (every line at once) and 10s", c.LogFlushInterval)
	}
	if c.ClockSkew < 0 || c.ClockSkew > 5*time.Minute {
		bad("CLOCK_SKEW", "%v must be between 0s and 5m", c.ClockSkew)
	}
	if c.TokenCacheSize < 0 || c.TokenCacheSize > 1_000_000 {
		bad("TOKEN_CACHE_SIZE", "%d must be between 0 (no cache) and 1000000", c.TokenCacheSize)
	}
	if c.TokenCacheTTL <= 0 || c.TokenCacheTTL > time.Hour {
		bad("TOKEN_CACHE_TTL", "%v must be between 1ns and 1h", c.TokenCacheTTL)
	}
	if d := c.CookieDomain; d != "" && (!isDNSName(d) || !strings.Contains(d, ".") && d != "localhost") {
		bad("COOKIE_DOMAIN", "%q must be a DNS name such as example.com (the cookie then goes to it and every name below it)", d)
	}
	if u := c.LoginURL; u != nil {
		switch {
		case u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.User != nil || u.Fragment != "":
			bad("LOGIN_URL", "%q must be the absolute URL of authgate's login page, e.g. https://auth.example.com/login", u.Redacted())
		case u.Scheme == "http" && c.CookieSecure:
			bad("LOGIN_URL", "%q is http://, where browsers do not keep a Secure cookie; use https, or AUTHGATE_COOKIE_SECURE=false for plain-HTTP development", u.Redacted())
		}
	}
	if !isToken(c.CookieName) {
		bad("COOKIE_NAME", "%q must be a cookie name: letters, digits and !#$%%&'*+-.^_`|~", c.CookieName)
	}
	if c.RefreshTTL < 0 {
		bad("REFRESH_TTL", "%v must not be negative (0 turns refresh tokens off)", c.RefreshTTL)
	}
	if c.StoreMaxStaleness < time.Second || c.StoreMaxStaleness > time.Hour {
		bad("STORE_MAX_STALENESS", "%v must be between 1s and 1h", c.StoreMaxStaleness)
	}
	if c.LoginMaxFailures < 1 {
		bad("LOGIN_MAX_FAILURES", "%d must be at least 1", c.LoginMaxFailures)
	}
	if c.LoginMaxFailuresPerIP < 1 {
		bad("LOGIN_MAX_FAILURES_PER_IP", "%d must be at least 1", c.LoginMaxFailuresPerIP)
	}
	if c.RedisURL != "" && c.RedisURLFile != "" {
		bad("REDIS_URL", "is set together with AUTHGATE_REDIS_URL_FILE; keep one")
	}
	if c.RedisURL != "" {
		if err := checkRedisURL(c.RedisURL); err != nil {
			bad("REDIS_URL", "%v", err)
		}
	}
	if c.RedisPrefix == "" || strings.ContainsAny(c.RedisPrefix, " \t\r\n") {
		bad("REDIS_PREFIX", "%q must be a non-empty key prefix without spaces, such as authgate:", c.RedisPrefix)
	}
	if c.LoginConcurrency < 0 || c.LoginConcurrency > 10000 {
		bad("LOGIN_CONCURRENCY", "%d must be between 1 and 10000 (0, the default, is twice the CPUs)", c.LoginConcurrency)
	}
	if c.MaxHeaderBytes < 1024 || c.MaxHeaderBytes > 1<<20 {
		bad("MAX_HEADER_BYTES", "%d must be between 1024 and 1048576", c.MaxHeaderBytes)
	}
	switch c.ForwardAuthSource {
	case SourceAuto, SourceForwarded, SourceOriginal, SourcePath:
	default:
		bad("FORWARD_AUTH_SOURCE", "%q must be one of auto, forwarded, original, path", c.ForwardAuthSource)
	}
	endpoints := []struct{ name, path string }{
		{"LOGIN_PATH", c.LoginPath}, {"ME_PATH", c.MePath},
		{"REFRESH_PATH", c.RefreshPath}, {"LOGOUT_PATH", c.LogoutPath},
		{"VERIFY_PATH", c.VerifyPath}, {"JWKS_PATH", c.JWKSPath},
	}
	seen := map[string]string{}
	for _, e := range endpoints {
		if err := checkEndpointPath(e.path); err != nil {
			bad(e.name, "%q %v", e.path, err)
			continue
		}
		if other, dup := seen[e.path]; dup {
			bad(e.name, "%q is also AUTHGATE_%s; give each endpoint its own path", e.path, other)
		}
		seen[e.path] = e.name
	}
	switch c.LogLevel {
	case "trace", "debug", "info", "warn", "error":
	default:
		bad("LOG_LEVEL", "%q must be one of trace, debug, info, warn, error", c.LogLevel)
	}
	switch c.LogFormat {
	case "json", "console":
	default:
		bad("LOG_FORMAT", "%q must be json or console", c.LogFormat)
	}
	if c.AdminAddr != "" && c.AdminAddr == c.Addr && !strings.HasSuffix(c.Addr, ":0") {
		bad("ADMIN_ADDR", "%q is also AUTHGATE_ADDR; give the admin listener its own port", c.AdminAddr)
	}
	return errs
}

// checkRedisURL accepts redis:// and rediss:// URLs; the rest is for the
// Redis client to check. The password never appears in the error.
func checkRedisURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("is not a URL; give redis://[user:password@]host:port[/db]")
	}
	if (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return fmt.Errorf("%q must be redis://[user:password@]host:port[/db] or rediss:// for TLS", u.Redacted())
	}
	return nil
}

func checkEndpointPath(p string) error {
	switch {
	case !strings.HasPrefix(p, "/") || p == "/":
		return errors.New("must be an absolute path below /, e.g. /auth")
	case strings.HasSuffix(p, "/"):
		return errors.New("must not end with /")
	case strings.ContainsAny(p, "?#*{}% \t"):
		return errors.New("must be a plain path without ?, #, *, {}, % or spaces")
	case !IsCanonicalPath(p):
		return errors.New("must not contain //, . or .. segments")
	}
	return nil
}

// parseErrors rewrites caarlos0/env's errors so that each names its variable.
func parseErrors(err error) []error {
	if err == nil {
		return nil
	}
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return []error{err}
	}
	out := make([]error, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			out = append(out, fmt.Errorf("%s: %v", variableOf(pe.Name), pe.Err))
			continue
		}
		out = append(out, e)
	}
	return out
}

// variableOf returns the variable behind the Config field name.
func variableOf(field string) string {
	if f, ok := reflect.TypeFor[Config]().FieldByName(field); ok {
		if name, _, _ := strings.Cut(f.Tag.Get("env"), ","); name != "" && name != "-" {
			return Prefix + name
		}
	}
	return field
}

// Variables returns every variable authgate reads, sorted.
func Variables() []string {
	t := reflect.TypeFor[Config]()
	var names []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("env"), ","); name != "" && name != "-" {
			names = append(names, Prefix+name)
		}
	}
	slices.Sort(names)
	return names
}

// unknownVariables reports AUTHGATE_* variables that authgate does not read:
// a typo such as AUTHGATE_PROTECTED_PATH would otherwise leave every path
// protected (or public) without a word.
func unknownVariables(vars map[string]string) []error {
	known := Variables()
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		if _, found := slices.BinarySearch(known, k); !found {
			errs = append(errs, fmt.Errorf("%s: unknown variable; see README.md for the list%s", k, suggest(k, known)))
		}
	}
	return errs
}

// suggest names the known variable closest to name, when one is close.
func suggest(name string, known []string) string {
	best, bestDist := "", 4
	for _, k := range known {
		if d := distance(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// listEntries splits a comma-separated variable into its entries, trimmed,
// without empty ones.
func listEntries(text []byte) []string {
	var out []string
	for part := range strings.SplitSeq(string(text), ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
