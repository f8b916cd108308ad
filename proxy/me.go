package proxy

import (
	"net/http"
	"time"
)

type meResponse struct {
	ID             string         `json:"id"`
	Username       any            `json:"username"`
	TokenIssuedAt  *int64         `json:"token_issued_at"`
	TokenExpiresAt int64          `json:"token_expires_at"`
	Claims         map[string]any `json:"claims"`
}

// handleMe returns the caller's profile from its token. The path policy does
// not apply: /me always needs a valid token.
func handleMe(g *gate) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			g.metrics.record(r, "denied:method_not_allowed", ruleMe, "")
			methodNotAllowed(w, r, "GET, HEAD")
			return
		}
		id, den := g.authenticate(r.Context(), r.Header.Values("Authorization"))
		d := decision{rule: ruleMe, identity: id, denial: den}
		g.record(r, d)
		if den != nil {
			deny(w, r, den)
			return
		}
		writeJSON(w, http.StatusOK, meResponse{
			ID:             id.Subject,
			Username:       id.Claims["username"],
			TokenIssuedAt:  unixOrNil(id.IssuedAt),
			TokenExpiresAt: id.ExpiresAt.Unix(),
			Claims:         id.Claims,
		})
	})
}

func unixOrNil(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	u := t.Unix()
	return &u
}
