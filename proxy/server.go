// Package proxy is authgate's HTTP surface: the reverse proxy, the
// forward-auth endpoint, /login, /me, the JWKS document and the admin
// listener. routes.go shows the whole of it. Every request is decided once
// (Decide, with the policy package's rules) and answered through one place
// (answer, in refusal.go).
package proxy

import (
	"context"
	"net/http"
	"strings"

	"github.com/rs/zerolog"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/policy"
)

// Options are what NewServer wires together.
type Options struct {
	Config    config.Config // what the listener serves; the rules and keys are in Current
	Logger    zerolog.Logger
	Current   Current
	Throttle  Throttle          // nil: logins are not throttled
	Sessions  Sessions          // nil: no refresh tokens; /refresh is not found
	Revoker   Revoker           // nil: revocation is off; /logout is not found
	Metrics   *Metrics          // nil: a fresh set
	Transport http.RoundTripper // nil: NewTransport(Config.UpstreamTimeout)
}

// Snapshot is everything a reload replaces, as of one load: the rules, the
// keys that verify and sign, and the users. A request reads one Snapshot at
// its start, so it never sees half of a change.
type Snapshot struct {
	Rules    *policy.Rules
	Verifier Verifier
	Issuer   *auth.Issuer // nil: authgate only verifies, and /login is not served
	Users    Users        // nil: every login is refused
	JWKS     []byte       // the public JWK Set of the signing and rotation keys
}

// Current hands out the Snapshot in force. *atomic.Pointer[Snapshot], which
// the composition root swaps whole on a reload, is one.
type Current interface {
	Load() *Snapshot
}

// Users checks a username and password; *auth.Users is the one authgate
// loads. A wrong username or password is auth.ErrInvalidCredentials.
type Users interface {
	Authenticate(ctx context.Context, username, password string) (auth.User, error)
	Lookup(username string) (auth.User, bool) // a refresh re-reads its user
}

// NewServer returns the handler of authgate's main listener.
func NewServer(o Options) http.Handler {
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	if o.Transport == nil {
		o.Transport = NewTransport(o.Config.UpstreamTimeout)
	}
	rt := newRouter()
	addRoutes(rt, o)
	var h http.Handler = rt
	h = checkRequest(o.Config.MaxHeaderBytes, o.Config.VerifyPath, o.Metrics, h)
	h = observe(o.Logger, o.Metrics, o.Config.TrustedProxies, h)
	return h
}

// checkRequest refuses what no route may see: headers over the limit (431)
// and request targets that could mean another path to the upstream (400, see
// ParseTarget). On the verify path both are 403 instead, since front proxies
// take only 200, 401 and 403 from a forward-auth server. Everything after it
// sees the canonical path in r.URL.Path (RawPath cleared), which is also what
// the reverse proxy forwards.
func checkRequest(maxHeaderBytes int, verifyPath string, m *Metrics, next http.Handler) http.Handler {
	rejected, verify := m.route("rejected"), m.route("verify")
	reject := func(w http.ResponseWriter, r *http.Request, ref *Refusal) {
		route := rejected
		if isVerifyTarget(r.RequestURI, verifyPath) {
			route, ref = verify, ref.forFrontProxy()
		}
		setRoute(w, route)
		answer(m, w, r, refused(ruleRequest, ref))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if headerBytes(r) > maxHeaderBytes {
			reject(w, r, &Refusal{Status: http.StatusRequestHeaderFieldsTooLarge, Message: msgHeadersTooLarge, Reason: "headers_too_large"})
			return
		}
		path, query, err := ParseTarget(r.RequestURI)
		if err == nil && r.Method == http.MethodConnect {
			err = errNotOriginForm
		}
		if err != nil {
			reject(w, r, BadTarget(err))
			return
		}
		if r.URL.Path == path && r.URL.RawPath == "" && r.URL.RawQuery == query {
			next.ServeHTTP(w, r) // already canonical: the common case, no copy
			return
		}
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path, u.RawPath, u.RawQuery = path, "", query
		r2.URL = &u
		next.ServeHTTP(w, r2)
	})
}

// isVerifyTarget reports whether a raw request target is for the verify path
// or below it.
func isVerifyTarget(target, verifyPath string) bool {
	rest, ok := strings.CutPrefix(target, verifyPath)
	return ok && (rest == "" || rest[0] == '/' || rest[0] == '?')
}

// headerBytes approximates the size of the request line and headers as sent.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4 + len("Host: \r\n") + len(r.Host)
	for name, values := range r.Header {
		for _, v := range values {
			n += len(name) + len(v) + 4
		}
	}
	return n
}
