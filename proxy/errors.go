package proxy

import (
	"encoding/json"
	"net/http"

	"github.com/rs/zerolog"
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
)

// realm is the WWW-Authenticate challenge of every 401.
const realm = `Bearer realm="authgate"`

// writeError writes the one error shape authgate uses: {"error": msg} as
// JSON, not cached, with a Bearer challenge on 401 (error="invalid_token"
// when a token was presented). reason is logged on the request's access line.
func writeError(w http.ResponseWriter, r *http.Request, status int, msg, reason string, tokenPresented bool) {
	if reason != "" {
		zerolog.Ctx(r.Context()).UpdateContext(func(c zerolog.Context) zerolog.Context {
			return c.Str("reason", reason)
		})
	}
	h := w.Header()
	if status == http.StatusUnauthorized {
		if tokenPresented {
			h.Set("WWW-Authenticate", realm+`, error="invalid_token"`)
		} else {
			h.Set("WWW-Authenticate", realm)
		}
	}
	writeJSON(w, status, struct {
		Error string `json:"error"`
	}{msg})
}

// writeJSON writes v as a JSON response that no cache keeps.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":"Internal error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// methodNotAllowed answers a method the endpoint does not take.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, r, http.StatusMethodNotAllowed, msgMethodNotAllowed, "method_not_allowed", false)
}
