package proxy

import "net/http"

// handleJWKS serves the public keys of the key set (an empty set for HS256)
// so that other services can verify authgate's tokens.
func handleJWKS(doc []byte, m *Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			m.record(r, "denied:method_not_allowed", ruleJWKS, "")
			methodNotAllowed(w, r, "GET, HEAD")
			return
		}
		m.record(r, "public", ruleJWKS, "")
		h := w.Header()
		h.Set("Content-Type", "application/jwk-set+json")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(doc)
	})
}
