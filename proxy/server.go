// Package proxy is authgate's HTTP surface: the reverse proxy, the
// forward-auth endpoint, /login, /me, the JWKS document and the admin
// listener, all deciding access through one gate.
package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/rs/zerolog/hlog"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/config"
)

// Options are what NewServer wires together.
type Options struct {
	Config    config.Config
	Logger    zerolog.Logger
	Rules     []Rule // from the rules file; the path lists are added from Config
	Keys      *auth.KeySet
	Verifier  *auth.Verifier
	Issuer    *auth.Issuer      // nil: authgate only verifies; /login is not served
	Users     *auth.Users       // nil: every login is refused
	Metrics   *Metrics          // nil: a fresh set
	Transport http.RoundTripper // nil: NewTransport(Config)
}

// NewServer returns the handler of authgate's main listener.
func NewServer(o Options) http.Handler {
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	if o.Transport == nil {
		o.Transport = NewTransport(o.Config)
	}
	mux := http.NewServeMux()
	addRoutes(mux, o)
	var h http.Handler = mux
	h = checkRequest(o.Config.MaxHeaderBytes, o.Config.VerifyPath, o.Metrics, h)
	h = hlog.AccessHandler(accessLog)(h)
	h = hlog.RequestIDHandler("request_id", "X-Request-Id")(h)
	h = hlog.NewHandler(o.Logger)(h)
	return h
}

// accessLog writes the one line per request. Handlers add decision, rule,
// sub and reason to it; the query string, tokens and credentials never
// appear.
func accessLog(r *http.Request, status, size int, d time.Duration) {
	hlog.FromRequest(r).Info().
		Str("method", r.Method).
		Str("path", r.URL.EscapedPath()).
		Int("status", status).
		Int("size", size).
		Dur("duration", d).
		Str("remote", r.RemoteAddr).
		Msg("request")
}

// checkRequest refuses what no route may see: headers over the limit (431)
// and request targets that could mean another path to the upstream (400, see
// parseTarget). On the verify path both are 403 instead, since front proxies
// take only 200, 401 and 403 from a forward-auth server. Everything after it
// sees the canonical path in r.URL.Path (RawPath cleared), which is also what
// the reverse proxy forwards.
func checkRequest(maxHeaderBytes int, verifyPath string, m *Metrics, next http.Handler) http.Handler {
	reject := func(w http.ResponseWriter, r *http.Request, status int, msg, reason string) {
		route := "rejected"
		if isVerifyTarget(r.RequestURI, verifyPath) {
			route, status, msg = "verify", http.StatusForbidden, msgForbidden
			w.Header().Set(errorHeader, msg)
		}
		m.record(r, "denied:"+reason, ruleRequest, "")
		writeError(w, r, status, msg, reason, false)
		m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if headerBytes(r) > maxHeaderBytes {
			reject(w, r, http.StatusRequestHeaderFieldsTooLarge, msgHeadersTooLarge, "headers_too_large")
			return
		}
		path, query, err := parseTarget(r.RequestURI)
		if err != nil || r.Method == http.MethodConnect {
			reject(w, r, http.StatusBadRequest, msgBadPath, "bad_path")
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
