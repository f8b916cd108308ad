package proxy

import "net/http"

// handleJWKS serves the public keys of the key set (an empty set for HS256)
// so that other services can verify authgate's tokens.
func handleJWKS(cur Current) func(http.ResponseWriter, *http.Request) verdict {
	return func(w http.ResponseWriter, r *http.Request) verdict {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return refused(ruleJWKS, methodNotAllowed("GET, HEAD"))
		}
		doc := cur.Load().JWKS
		return passed(ruleJWKS, "", true, func(w http.ResponseWriter) {
			h := w.Header()
			h.Set("Content-Type", "application/jwk-set+json")
			h.Set("Cache-Control", "public, max-age=300")
			h.Set("X-Content-Type-Options", "nosniff")
			_, _ = w.Write(doc)
		})
	}
}
