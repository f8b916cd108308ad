package proxy

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Error messages of the public contract (SPEC.md, "Errors").
const (
	msgMissingAuth        = "Missing or malformed Authorization header"
	msgTokenExpired       = "Token has expired"
	msgInvalidToken       = "Invalid token"
	msgForbidden          = "Forbidden"
	msgInvalidCredentials = "Invalid credentials"
	msgMalformedBody      = "Malformed request body"
	msgBodyTooLarge       = "Request body too large"
	msgHeadersTooLarge    = "Request headers too large"
	msgBadPath            = "Malformed request path"
	msgBadUpgrade         = "Unsupported protocol upgrade"
	msgUpstreamDown       = "Upstream unavailable"
	msgUpstreamTimeout    = "Upstream timeout"
	msgNotFound           = "Not found"
	msgMethodNotAllowed   = "Method not allowed"
	msgInternal           = "Internal error"
	msgTooManyLogins      = "Too many login attempts"
	msgUnavailable        = "Service unavailable"
	msgRevoked            = "Token has been revoked"
	msgInvalidRefresh     = "Invalid refresh token"
)

// realm is the WWW-Authenticate challenge of every 401.
const realm = `Bearer realm="authgate"`

// errorHeader repeats a forward-auth denial's message for front proxies
// that drop the auth response's body (nginx's auth_request).
const errorHeader = "X-Auth-Error"

// Refusal is a request authgate answers with an error, as one value: the
// status and public message of SPEC.md's error table, a stable reason for
// logs and metrics, and a detail and cause for the log only. A handler hands
// one back in its verdict and answer records and writes it, as a Tailscale
// tsweb handler returns an HTTPError.
type Refusal struct {
	Status  int
	Message string // sent as {"error": Message}
	Reason  string // the decision is "denied:" + Reason
	Detail  string // for the log: which requirement failed
	Err     error  // the cause of a 5xx, logged; never sent

	invalidToken     bool                                    // a presented token failed: error="invalid_token", and counted
	scopes           []string                                // a 403 for missing scopes: the insufficient_scope challenge
	allow            string                                  // a 405: the methods the endpoint takes
	retryAfter       int                                     // a 429: seconds until a retry may succeed
	page             func(w http.ResponseWriter, status int) // a browser's: an HTML page instead of JSON
	loginRedirect    string                                  // a browser's 401: the login page to send it to
	redirectByHeader bool                                    // as X-Auth-Redirect on the 401, not as a 302
	frontProxy       bool                                    // an answer to a front proxy's auth request
}

// internalError is the refusal of a request that failed on authgate's side.
func internalError(err error) *Refusal {
	return &Refusal{Status: http.StatusInternalServerError, Message: msgInternal, Reason: "internal", Err: err}
}

// storeUnavailable is the refusal of a request whose answer depends on the
// state store when the store cannot answer: fail closed.
func storeUnavailable(err error) *Refusal {
	return &Refusal{Status: http.StatusServiceUnavailable, Message: msgUnavailable, Reason: "store_unavailable", Err: err}
}

// methodNotAllowed refuses a method the endpoint does not take.
func methodNotAllowed(allow string) *Refusal {
	return &Refusal{Status: http.StatusMethodNotAllowed, Message: msgMethodNotAllowed, Reason: "method_not_allowed", allow: allow}
}

// forFrontProxy returns the refusal as a forward-auth answer: front proxies
// take only 200, 401 and 403 from an auth request (nginx turns anything else
// into a 500), so any other status becomes 403 Forbidden (a 503 keeps its
// "Service unavailable"); and X-Auth-Error repeats the message for those
// that drop the body.
func (ref *Refusal) forFrontProxy() *Refusal {
	out := *ref
	switch out.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
	case http.StatusServiceUnavailable:
		out.Status = http.StatusForbidden // the message still says why
	default:
		out.Status, out.Message = http.StatusForbidden, msgForbidden
	}
	out.frontProxy = true
	return &out
}

// verdict is what a handler decided about one request: a pass (public or
// allowed), which respond answers, or a refusal, which answer writes.
type verdict struct {
	rule    string // the rule or endpoint that decided
	sub     string // the subject, when a token was verified
	public  bool
	refusal *Refusal
	respond func(w http.ResponseWriter) // answers a pass
}

func refused(rule string, ref *Refusal) verdict { return verdict{rule: rule, refusal: ref} }

func passed(rule, sub string, public bool, respond func(http.ResponseWriter)) verdict {
	return verdict{rule: rule, sub: sub, public: public, respond: respond}
}

// decision is the verdict as logs and metrics name it.
func (v verdict) decision() string {
	switch {
	case v.refusal != nil:
		return "denied:" + v.refusal.Reason
	case v.public:
		return "public"
	}
	return "allowed"
}

// decided serves a handler that returns its verdict instead of writing:
// answer records the decision and writes the answer.
func decided(m *Metrics, h func(w http.ResponseWriter, r *http.Request) verdict) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer(m, w, r, h(w, r))
	})
}

// answer is the one place a request's decision is recorded and its answer
// begun: the decision, rule and subject go on the access log line and into
// authgate_decisions_total, exactly once per request, then the refusal is
// written or the pass responds.
func answer(m *Metrics, w http.ResponseWriter, r *http.Request, v verdict) {
	m.record(w, v.decision(), v.rule, v.sub)
	if v.refusal == nil {
		v.respond(w)
		return
	}
	if v.refusal.invalidToken {
		m.failures.WithLabelValues(v.refusal.Reason).Inc()
	}
	writeRefusal(w, r, v.refusal)
}

// writeRefusal writes the one error shape authgate uses: {"error": msg} as
// JSON, not cached, with a Bearer challenge on 401 (error="invalid_token"
// when a token was presented) and insufficient_scope on a 403 for scopes.
// The reason and detail go on the access line; the cause of a 5xx gets a
// line of its own. Only answer calls it, and the reverse proxy for an
// upstream that fails after the request was allowed.
func writeRefusal(w http.ResponseWriter, r *http.Request, ref *Refusal) {
	if ex, ok := w.(*exchange); ok {
		ex.reason, ex.detail = ref.Reason, ref.Detail
	}
	if ref.Status >= 500 && ref.Err != nil {
		requestLogger(w, r).Error().Err(ref.Err).Str("reason", ref.Reason).Int("status", ref.Status).Msg("request failed")
	}
	h := w.Header()
	switch {
	case ref.Status == http.StatusUnauthorized && ref.invalidToken:
		h.Set("WWW-Authenticate", realm+`, error="invalid_token"`)
	case ref.Status == http.StatusUnauthorized:
		h.Set("WWW-Authenticate", realm)
	case len(ref.scopes) > 0:
		h.Set("WWW-Authenticate", realm+`, error="insufficient_scope", scope="`+strings.Join(ref.scopes, " ")+`"`)
	}
	if ref.allow != "" {
		h.Set("Allow", ref.allow)
	}
	if ref.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(ref.retryAfter))
	}
	if ref.frontProxy {
		h.Set(errorHeader, ref.Message)
	}
	if ref.loginRedirect != "" {
		if !ref.redirectByHeader {
			h.Del("WWW-Authenticate")
			h.Del(errorHeader)
			seeFound(w, ref.loginRedirect)
			return
		}
		h.Set("X-Auth-Redirect", ref.loginRedirect)
	}
	if ref.page != nil {
		ref.page(w, ref.Status)
		return
	}
	writeJSON(w, ref.Status, struct {
		Error string `json:"error"`
	}{ref.Message})
}

// writeJSON writes v as a JSON response that no cache keeps.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"`+msgInternal+`"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
