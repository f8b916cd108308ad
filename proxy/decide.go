package proxy

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/policy"
	"github.com/authgate/authgate/state"
)

// Verifier checks a token and returns the identity it carries; *auth.Verifier
// is the one authgate builds. Errors match auth.ErrTokenExpired or
// auth.ErrInvalidToken with errors.Is, and an *auth.TokenError names the
// reason.
type Verifier interface {
	Verify(ctx context.Context, token string) (auth.Identity, error)
}

// Credential is what a request presents to prove who it is: the token of
// its one Authorization: Bearer header or, for a browser, of the session
// cookie. Token is "" when the request presents none, or nothing that could
// be a token.
type Credential struct {
	Token  string
	Cookie bool // the token came from the session cookie
}

// ReadCredential reads the credential that request headers h present: the
// Bearer token of the Authorization header, or, only when there is no
// Authorization header at all, the value of the session cookie named
// cookie ("" for none). A cookie sent twice is no credential, like two
// Authorization headers. A token is never read from the query string.
func ReadCredential(h http.Header, cookie string) Credential {
	if authz := h.Values("Authorization"); len(authz) > 0 || cookie == "" {
		token, _ := bearerToken(authz)
		return Credential{Token: token}
	}
	if token, ok := cookieValue(h, cookie); ok && isB64Token(token) {
		return Credential{Token: token, Cookie: true}
	}
	return Credential{}
}

// cookieValue returns the value of the cookie called name, when the
// request sends it exactly once.
func cookieValue(h http.Header, name string) (string, bool) {
	var value string
	n := 0
	for _, line := range h["Cookie"] {
		if !strings.Contains(line, name) {
			continue
		}
		for pair := range strings.SplitSeq(line, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(pair), "="); ok && k == name {
				value, n = v, n+1
			}
		}
	}
	return value, n == 1
}

// Outcome is the whole decision on one request: what the rules say, the
// identity of its verified token (nil when none was checked, or it failed),
// and, when the request may not pass, its answer.
type Outcome struct {
	Decision policy.Decision
	Identity *auth.Identity
	Refusal  *Refusal // nil: the request may pass
}

// Decide is the one decision that proxy mode, forward-auth and
// `authgate explain` share: the rule for req, and, unless that rule is
// public, the credential verified and the rule's requirements checked. A
// public request's credential is not even verified.
func Decide(ctx context.Context, rules *policy.Rules, v Verifier, req policy.Request, cred Credential) Outcome {
	m := rules.Match(req)
	if m.Public {
		return Outcome{Decision: m.Decide(nil)}
	}
	id, ref := authenticate(ctx, v, cred)
	if ref != nil {
		return Outcome{Decision: m.Decide(nil), Refusal: ref}
	}
	o := Outcome{Decision: m.Decide(&id), Identity: &id}
	if f := o.Decision.Failure; f != nil {
		o.Refusal = &Refusal{Status: http.StatusForbidden, Message: msgForbidden, Reason: f.Reason, Detail: f.Detail}
		if f.Reason == policy.ReasonMissingScope {
			o.Refusal.scopes = m.Rule.Require.Scopes
		}
	}
	return o
}

// verdict is the outcome as the handler of a request hands it to answer;
// respond answers it when it passes.
func (o Outcome) verdict(respond func(http.ResponseWriter)) verdict {
	v := verdict{rule: o.Decision.Name, public: o.Decision.Public, refusal: o.Refusal, respond: respond}
	if o.Identity != nil {
		v.sub = o.Identity.Subject
	}
	return v
}

// authenticate verifies the credential's token: a 401 without one, or when
// it fails.
func authenticate(ctx context.Context, v Verifier, cred Credential) (auth.Identity, *Refusal) {
	if cred.Token == "" {
		return auth.Identity{}, &Refusal{Status: http.StatusUnauthorized, Message: msgMissingAuth, Reason: "missing_token"}
	}
	id, err := v.Verify(ctx, cred.Token)
	if err == nil {
		return id, nil
	}
	if errors.Is(err, state.ErrUnavailable) {
		// The token may be good, but whether it was revoked is not known.
		return auth.Identity{}, storeUnavailable(err)
	}
	reason := auth.ReasonMalformed
	var te *auth.TokenError
	if errors.As(err, &te) {
		reason = te.Reason
	}
	msg := msgInvalidToken
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		msg = msgTokenExpired
	case errors.Is(err, auth.ErrTokenRevoked):
		msg = msgRevoked
	}
	return auth.Identity{}, &Refusal{Status: http.StatusUnauthorized, Message: msg, Reason: reason, invalidToken: true}
}
