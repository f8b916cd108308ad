package proxy

import (
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"

	"github.com/rs/zerolog"

	"github.com/authgate/authgate/auth"
)

// maxLoginBody bounds a login request body.
const maxLoginBody = 8 << 10

var (
	errMalformedBody = errors.New("malformed body")
	errBodyTooLarge  = errors.New("body too large")
)

type loginResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// handleLogin exchanges a username and password (JSON or form body, never
// the query string) for a token.
func handleLogin(users *auth.Users, issuer *auth.Issuer, m *Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			m.record(r, "denied:method_not_allowed", ruleLogin, "")
			methodNotAllowed(w, r, http.MethodPost)
			return
		}
		username, password, err := readCredentials(w, r)
		if err != nil {
			m.logins.WithLabelValues("malformed").Inc()
			if errors.Is(err, errBodyTooLarge) {
				m.record(r, "denied:body_too_large", ruleLogin, "")
				writeError(w, r, http.StatusRequestEntityTooLarge, msgBodyTooLarge, "body_too_large", false)
				return
			}
			m.record(r, "denied:malformed_body", ruleLogin, "")
			writeError(w, r, http.StatusBadRequest, msgMalformedBody, "malformed_body", false)
			return
		}
		var user auth.User
		if users != nil {
			user, err = users.Authenticate(r.Context(), username, password)
		} else {
			err = auth.ErrInvalidCredentials
		}
		if err != nil {
			if errors.Is(err, auth.ErrInvalidCredentials) {
				m.logins.WithLabelValues("invalid_credentials").Inc()
				m.record(r, "denied:invalid_credentials", ruleLogin, "")
				writeError(w, r, http.StatusUnauthorized, msgInvalidCredentials, "invalid_credentials", false)
				return
			}
			zerolog.Ctx(r.Context()).Error().Err(err).Msg("login failed")
			writeError(w, r, http.StatusInternalServerError, "Internal error", "internal", false)
			return
		}
		extra := make(map[string]any, len(user.Claims)+1)
		maps.Copy(extra, user.Claims)
		extra["username"] = user.Username
		issued, err := issuer.Issue(user.ID, extra, 0)
		if err != nil {
			zerolog.Ctx(r.Context()).Error().Err(err).Msg("issuing a token failed")
			writeError(w, r, http.StatusInternalServerError, "Internal error", "internal", false)
			return
		}
		m.logins.WithLabelValues("ok").Inc()
		m.record(r, "allowed", ruleLogin, user.ID)
		w.Header().Set("Pragma", "no-cache")
		writeJSON(w, http.StatusOK, loginResponse{
			AccessToken: issued.Token,
			TokenType:   "bearer",
			ExpiresIn:   int64(issuer.TTL().Seconds()),
		})
	})
}

// readCredentials reads username and password from a JSON object or a form
// body. Both must be present, non-empty strings, given once.
func readCredentials(w http.ResponseWriter, r *http.Request) (username, password string, err error) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLoginBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return "", "", errBodyTooLarge
		}
		return "", "", errMalformedBody
	}
	switch mediaType {
	case "application/json":
		obj, err := auth.DecodeObject(body)
		if err != nil {
			return "", "", errMalformedBody
		}
		username, _ = obj["username"].(string)
		password, _ = obj["password"].(string)
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil || len(form["username"]) != 1 || len(form["password"]) != 1 {
			return "", "", errMalformedBody
		}
		username, password = form.Get("username"), form.Get("password")
	default:
		return "", "", errMalformedBody
	}
	if username == "" || password == "" {
		return "", "", errMalformedBody
	}
	return username, password, nil
}
