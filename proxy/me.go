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
func handleMe(cur Current, cookie string) func(http.ResponseWriter, *http.Request) verdict {
	return func(w http.ResponseWriter, r *http.Request) verdict {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return refused(ruleMe, methodNotAllowed("GET, HEAD"))
		}
		id, ref := authenticate(r.Context(), cur.Load().Verifier, ReadCredential(r.Header, cookie))
		if ref != nil {
			return refused(ruleMe, ref)
		}
		return passed(ruleMe, id.Subject, false, func(w http.ResponseWriter) {
			username, _ := id.Claim("username")
			writeJSON(w, http.StatusOK, meResponse{
				ID:             id.Subject,
				Username:       username,
				TokenIssuedAt:  unixOrNil(id.IssuedAt),
				TokenExpiresAt: id.ExpiresAt.Unix(),
				Claims:         id.Claims().Map(),
			})
		})
	}
}

func unixOrNil(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	u := t.Unix()
	return &u
}
