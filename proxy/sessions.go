package proxy

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/session"
	"github.com/authgate/authgate/state"
)

// Sessions issues, rotates and ends refresh tokens; *session.Sessions is
// the one authgate wires when AUTHGATE_REFRESH_TTL is not 0.
type Sessions interface {
	Start(ctx context.Context, u auth.User, is *auth.Issuer, ttl time.Duration) (session.Tokens, error)
	Refresh(ctx context.Context, refresh string, users session.UserSource, is *auth.Issuer) (session.Tokens, error)
	End(ctx context.Context, refresh string) error
}

// Revoker revokes authgate's own tokens; *session.Revocations is the one
// authgate wires while revocation is on.
type Revoker interface {
	RevokeToken(ctx context.Context, iss, jti string, expires time.Time) error
	RevokeSession(ctx context.Context, sid string) error
	RevokeSubject(ctx context.Context, sub string, t time.Time) error
}

type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshToken     string `json:"refresh_token,omitempty"`
	RefreshExpiresIn int64  `json:"refresh_expires_in,omitempty"`
}

// answerTokens is the 200 of a login or a refresh.
func answerTokens(rule, sub string, access auth.Issued, tok *session.Tokens) verdict {
	resp := tokenResponse{AccessToken: access.Token, TokenType: "bearer", ExpiresIn: int64(access.ExpiresAt.Sub(access.IssuedAt).Seconds())}
	if tok != nil {
		resp.RefreshToken = tok.Refresh
		// Both in whole seconds, as expires_in: from the access token's iat.
		resp.RefreshExpiresIn = int64(tok.RefreshExpires.Sub(access.IssuedAt).Seconds())
	}
	return passed(rule, sub, false, func(w http.ResponseWriter) {
		w.Header().Set("Pragma", "no-cache")
		writeJSON(w, http.StatusOK, resp)
	})
}

// Decision names of the session endpoints.
const (
	ruleRefresh = "refresh"
	ruleLogout  = "logout"
)

// sessionRefusal is the answer to an error of the sessions: an invalid
// refresh token (401), or a store that cannot answer (503).
func sessionRefusal(err error) *Refusal {
	switch {
	case errors.Is(err, session.ErrInvalidRefresh):
		return &Refusal{Status: http.StatusUnauthorized, Message: msgInvalidRefresh, Reason: "invalid_refresh_token", Detail: err.Error()}
	case errors.Is(err, state.ErrUnavailable):
		return storeUnavailable(err)
	}
	return internalError(err)
}

// refresh spends a refresh token for a new access token and a new refresh
// token (POST {"refresh_token"}, JSON or form).
type refresh struct {
	current  Current
	sessions Sessions // nil: refresh tokens are off, and the path is not found
	metrics  *Metrics
}

func (h *refresh) decide(w http.ResponseWriter, r *http.Request) verdict {
	s := h.current.Load()
	if h.sessions == nil || s.Issuer == nil {
		return refused(ruleRefresh, &Refusal{Status: http.StatusNotFound, Message: msgNotFound, Reason: "refresh_off"})
	}
	if r.Method != http.MethodPost {
		return refused(ruleRefresh, methodNotAllowed(http.MethodPost))
	}
	body, ref := readBody(w, r)
	if ref != nil {
		return refused(ruleRefresh, ref)
	}
	token, _ := body["refresh_token"].(string)
	if token == "" || len(body) != 1 {
		return refused(ruleRefresh, &Refusal{Status: http.StatusBadRequest, Message: msgMalformedBody, Reason: "malformed_body"})
	}
	if s.Users == nil {
		return refused(ruleRefresh, sessionRefusal(session.ErrInvalidRefresh))
	}
	tok, err := h.sessions.Refresh(r.Context(), token, s.Users, s.Issuer)
	switch {
	case errors.Is(err, session.ErrRefreshReused):
		h.metrics.refreshes.WithLabelValues("reused").Inc()
	case errors.Is(err, session.ErrInvalidRefresh):
		h.metrics.refreshes.WithLabelValues("invalid").Inc()
	case err == nil:
		h.metrics.refreshes.WithLabelValues("ok").Inc()
	}
	if err != nil {
		return refused(ruleRefresh, sessionRefusal(err))
	}
	return answerTokens(ruleRefresh, tok.Subject, tok.Access, &tok)
}

// logout ends sessions (POST, 204): the Bearer access token's (it and its
// session are revoked), a {"refresh_token"}'s, or, with {"all": true} and
// an access token, every session of its subject.
type logout struct {
	current  Current
	sessions Sessions // nil: no refresh tokens to end
	revoker  Revoker  // nil: revocation is off, and the path is not found
	issuer   string   // AUTHGATE_ISSUER: only own tokens are revoked
	cookie   string   // AUTHGATE_COOKIE_NAME
	browser  *browser
	metrics  *Metrics
}

func (h *logout) decide(w http.ResponseWriter, r *http.Request) verdict {
	if r.Method == http.MethodPost && wantsHTML(r) {
		return h.fromBrowser(w, r)
	}
	if h.revoker == nil {
		return refused(ruleLogout, &Refusal{Status: http.StatusNotFound, Message: msgNotFound, Reason: "revocation_off"})
	}
	if r.Method != http.MethodPost {
		return refused(ruleLogout, methodNotAllowed(http.MethodPost))
	}
	var body map[string]any
	if r.ContentLength != 0 || r.Header.Get("Content-Type") != "" {
		var ref *Refusal
		if body, ref = readBody(w, r); ref != nil {
			return refused(ruleLogout, ref)
		}
	}
	refreshToken, hasRefresh := body["refresh_token"].(string)
	all, _ := body["all"].(bool)
	for k, v := range body {
		_, isString := v.(string)
		_, isBool := v.(bool)
		if k == "refresh_token" && (!isString || refreshToken == "") || k == "all" && !isBool || k != "refresh_token" && k != "all" {
			return refused(ruleLogout, &Refusal{Status: http.StatusBadRequest, Message: msgMalformedBody, Reason: "malformed_body"})
		}
	}
	ctx := r.Context()
	cred := ReadCredential(r.Header, h.cookie)
	var id *auth.Identity
	if cred.Token != "" || !hasRefresh {
		verified, ref := authenticate(ctx, h.current.Load().Verifier, cred)
		if ref != nil {
			return refused(ruleLogout, ref)
		}
		id = &verified
	}
	if all && id == nil {
		return refused(ruleLogout, &Refusal{Status: http.StatusUnauthorized, Message: msgMissingAuth, Reason: "missing_token", Detail: `{"all": true} needs the access token`})
	}
	var err error
	if hasRefresh {
		if h.sessions == nil {
			err = session.ErrInvalidRefresh
		} else {
			err = h.sessions.End(ctx, refreshToken)
		}
		if err == nil {
			h.metrics.revocations.WithLabelValues("session").Inc()
		}
	}
	if err == nil && id != nil && id.Issuer == h.issuer {
		err = h.revokeAccess(ctx, id, all)
	}
	if err != nil {
		return refused(ruleLogout, sessionRefusal(err))
	}
	sub := ""
	if id != nil {
		sub = id.Subject
	}
	return passed(ruleLogout, sub, false, func(w http.ResponseWriter) {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

// fromBrowser is the logout of a browser's form post: it ends the session
// of the cookie's token (the token and its sid are revoked), clears the
// cookie and sends the browser on, 303, to the validated rd or to the login
// page. A cookie whose token no longer works has nothing left to end: it is
// cleared all the same. When the revocation cannot be recorded the answer
// says so and the cookie stays, so that the logout can be tried again.
func (h *logout) fromBrowser(w http.ResponseWriter, r *http.Request) verdict {
	b := h.browser
	if err := b.csrf.Check(r); err != nil {
		return refused(ruleLogout, &Refusal{Status: http.StatusForbidden, Message: msgForbidden, Reason: "cross_origin", Detail: err.Error()})
	}
	rd := ""
	if r.ContentLength != 0 || r.Header.Get("Content-Type") != "" {
		body, ref := readBody(w, r)
		if ref != nil {
			return refused(ruleLogout, ref)
		}
		for k, v := range body {
			s, ok := v.(string)
			if k != "rd" || !ok {
				return refused(ruleLogout, &Refusal{Status: http.StatusBadRequest, Message: msgMalformedBody, Reason: "malformed_body"})
			}
			rd = s
		}
	}
	ctx := r.Context()
	sub := ""
	if cred := ReadCredential(r.Header, h.cookie); cred.Token != "" && h.revoker != nil {
		id, ref := authenticate(ctx, h.current.Load().Verifier, cred)
		if ref != nil && ref.Status != http.StatusUnauthorized {
			return refused(ruleLogout, ref) // revoked or not is unknown
		}
		if ref == nil && id.Issuer == h.issuer {
			if err := h.revokeAccess(ctx, &id, false); err != nil {
				return refused(ruleLogout, sessionRefusal(err))
			}
			sub = id.Subject
		}
	}
	target := b.loginPage()
	if b.redirects.ok(rd) {
		target = rd
	}
	return passed(ruleLogout, sub, false, func(w http.ResponseWriter) {
		b.clearCookie(w)
		seeOther(w, target)
	})
}

// revokeAccess revokes an access token and its session, or every token
// and session of its subject.
func (h *logout) revokeAccess(ctx context.Context, id *auth.Identity, all bool) error {
	if all {
		h.metrics.revocations.WithLabelValues("subject").Inc()
		return h.revoker.RevokeSubject(ctx, id.Subject, time.Now())
	}
	if err := h.revoker.RevokeToken(ctx, id.Issuer, id.ID, id.ExpiresAt); err != nil {
		return err
	}
	h.metrics.revocations.WithLabelValues("token").Inc()
	if id.SessionID == "" {
		return nil
	}
	h.metrics.revocations.WithLabelValues("session").Inc()
	return h.revoker.RevokeSession(ctx, id.SessionID)
}

// readBody reads a small JSON object or form body, strictly: each form
// field given once.
func readBody(w http.ResponseWriter, r *http.Request) (map[string]any, *Refusal) {
	malformed := &Refusal{Status: http.StatusBadRequest, Message: msgMalformedBody, Reason: "malformed_body"}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLoginBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &Refusal{Status: http.StatusRequestEntityTooLarge, Message: msgBodyTooLarge, Reason: "body_too_large"}
		}
		return nil, malformed
	}
	switch mediaType {
	case "application/json":
		obj, err := auth.DecodeObject(b)
		if err != nil {
			return nil, malformed
		}
		return obj, nil
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, malformed
		}
		out := map[string]any{}
		for k, vs := range form {
			if len(vs) != 1 {
				return nil, malformed
			}
			out[k] = vs[0]
			if k == "all" {
				out[k] = vs[0] == "true"
			}
		}
		return out, nil
	}
	return nil, malformed
}
