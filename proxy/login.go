package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"time"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/session"
)

// maxLoginBody bounds a login request body.
const maxLoginBody = 8 << 10

var (
	errMalformedBody = errors.New("malformed body")
	errBodyTooLarge  = errors.New("body too large")
)

// hashSlots bounds the password hashes that run at once. An argon2id hash
// of the default cost takes 19 MiB and tens of milliseconds of a CPU, so a
// flood of logins queues, briefly, and is then refused, rather than
// exhausting memory or starving other traffic. The slots live in the
// handler, not in the users, so that a reload cannot double them.
type hashSlots struct {
	slots chan struct{}
	wait  time.Duration // the most a login queues for a slot
}

// newHashSlots returns n slots (AUTHGATE_LOGIN_CONCURRENCY; 0: twice the
// CPUs) and a wait of one second.
func newHashSlots(n int) *hashSlots {
	if n <= 0 {
		n = 2 * runtime.GOMAXPROCS(0)
	}
	return &hashSlots{slots: make(chan struct{}, n), wait: time.Second}
}

// acquire takes a slot, waiting at most hs.wait, and returns the function
// that gives it back; false when none came free in time or ctx ended.
func (hs *hashSlots) acquire(ctx context.Context) (release func(), ok bool) {
	select {
	case hs.slots <- struct{}{}:
		return func() { <-hs.slots }, true
	default:
	}
	t := time.NewTimer(hs.wait)
	defer t.Stop()
	select {
	case hs.slots <- struct{}{}:
		return func() { <-hs.slots }, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

// Throttle limits failed logins per username and client address;
// *throttle.Throttle, on the state store, is the one authgate wires.
type Throttle interface {
	LockedOut(ctx context.Context, username string, client netip.Addr) (time.Duration, error)
	Failed(ctx context.Context, username string, client netip.Addr) error
	Succeeded(ctx context.Context, username string) error
}

// login exchanges a username and password (JSON or form body, never the
// query string) for a token. Without a signing key there are no logins: the
// path is not found, rather than passed to the upstream.
type login struct {
	current  Current
	slots    *hashSlots
	throttle Throttle // nil: not throttled
	sessions Sessions // nil: no refresh tokens
	browser  *browser
	trusted  config.Networks
	metrics  *Metrics
}

func (l *login) decide(w http.ResponseWriter, r *http.Request) verdict {
	s := l.current.Load()
	if s.Issuer == nil {
		return refused(ruleLogin, &Refusal{Status: http.StatusNotFound, Message: msgNotFound, Reason: "no_signing_key"})
	}
	b := l.browser
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && wantsHTML(r) {
		rd := r.URL.Query().Get("rd") // not a credential: validated when the login completes
		return passed(ruleLogin, "", true, func(w http.ResponseWriter) {
			b.render(w, http.StatusOK, b.pageFor(r, rd, "", ""))
		})
	}
	if r.Method != http.MethodPost {
		return refused(ruleLogin, methodNotAllowed(http.MethodPost))
	}
	// A browser's form post: refused across sites, answered with the page.
	browserPost := wantsHTML(r)
	if browserPost {
		if err := b.csrf.Check(r); err != nil {
			return refused(ruleLogin, &Refusal{Status: http.StatusForbidden, Message: msgForbidden, Reason: "cross_origin", Detail: err.Error()})
		}
	}
	m := l.metrics
	username, password, rd, err := readCredentials(w, r)
	refuse := func(ref *Refusal) verdict {
		if browserPost {
			page := b.pageFor(r, rd, username, ref.Message)
			ref.page = func(w http.ResponseWriter, status int) { b.render(w, status, page) }
		}
		return refused(ruleLogin, ref)
	}
	if err != nil {
		m.logins.WithLabelValues("malformed").Inc()
		if errors.Is(err, errBodyTooLarge) {
			return refuse(&Refusal{Status: http.StatusRequestEntityTooLarge, Message: msgBodyTooLarge, Reason: "body_too_large"})
		}
		return refuse(&Refusal{Status: http.StatusBadRequest, Message: msgMalformedBody, Reason: "malformed_body"})
	}
	client := clientOf(r, l.trusted).addr
	if l.throttle != nil {
		locked, err := l.throttle.LockedOut(r.Context(), username, client)
		if err != nil {
			return refuse(storeUnavailable(err))
		}
		if locked > 0 {
			// Refused before any hash: a locked-out guess costs nothing.
			m.logins.WithLabelValues("locked_out").Inc()
			return refuse(&Refusal{Status: http.StatusTooManyRequests, Message: msgTooManyLogins, Reason: "locked_out",
				retryAfter: int((locked + time.Second - 1) / time.Second)})
		}
	}
	var user auth.User
	err = auth.ErrInvalidCredentials
	if s.Users != nil {
		release, ok := l.slots.acquire(r.Context())
		if !ok {
			m.logins.WithLabelValues("busy").Inc()
			return refuse(&Refusal{Status: http.StatusTooManyRequests, Message: msgTooManyLogins, Reason: "login_busy", retryAfter: 1})
		}
		user, err = s.Users.Authenticate(r.Context(), username, password)
		release()
	}
	if errors.Is(err, auth.ErrInvalidCredentials) {
		if l.throttle != nil {
			if err := l.throttle.Failed(r.Context(), username, client); err != nil {
				return refuse(storeUnavailable(err))
			}
		}
		m.logins.WithLabelValues("invalid_credentials").Inc()
		return refuse(&Refusal{Status: http.StatusUnauthorized, Message: msgInvalidCredentials, Reason: "invalid_credentials"})
	}
	if err != nil {
		return refuse(internalError(fmt.Errorf("checking the password: %w", err)))
	}
	if l.throttle != nil {
		if err := l.throttle.Succeeded(r.Context(), username); err != nil {
			return refuse(storeUnavailable(err))
		}
	}
	ttl := time.Duration(0)
	if browserPost {
		ttl = b.ttl // the cookie's token lives as long as the cookie
	}
	var tok *session.Tokens
	var issued auth.Issued
	if l.sessions != nil {
		t, err := l.sessions.Start(r.Context(), user, s.Issuer, ttl)
		if err != nil {
			return refuse(sessionRefusal(err))
		}
		tok, issued = &t, t.Access
	} else if issued, err = s.Issuer.Issue(user.ID, user.TokenClaims(), ttl); err != nil {
		return refuse(internalError(fmt.Errorf("issuing a token: %w", err)))
	}
	m.logins.WithLabelValues("ok").Inc()
	if browserPost {
		return passed(ruleLogin, user.ID, false, func(w http.ResponseWriter) {
			b.setCookie(w, issued.Token)
			seeOther(w, b.redirects.safe(rd))
		})
	}
	return answerTokens(ruleLogin, user.ID, issued, tok)
}

// readCredentials reads username and password from a JSON object or a form
// body. Both must be present, non-empty strings, given once. A form (the
// login page's) may carry the rd to send the browser to afterwards.
func readCredentials(w http.ResponseWriter, r *http.Request) (username, password, rd string, err error) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLoginBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return "", "", "", errBodyTooLarge
		}
		return "", "", "", errMalformedBody
	}
	switch mediaType {
	case "application/json":
		obj, err := auth.DecodeObject(body)
		if err != nil {
			return "", "", "", errMalformedBody
		}
		username, _ = obj["username"].(string)
		password, _ = obj["password"].(string)
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil || len(form["username"]) != 1 || len(form["password"]) != 1 || len(form["rd"]) > 1 {
			return "", "", "", errMalformedBody
		}
		username, password, rd = form.Get("username"), form.Get("password"), form.Get("rd")
	default:
		return "", "", "", errMalformedBody
	}
	if username == "" || password == "" {
		return "", "", rd, errMalformedBody
	}
	return username, password, rd, nil
}
