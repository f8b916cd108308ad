package proxy

import (
	"context"
	"errors"
	"net/http"

	"github.com/authgate/authgate/auth"
)

// gate makes the one decision that proxy mode, forward-auth and /me share:
// given the original request's path and Authorization header, let it through
// (public or allowed, with an identity) or deny it with a status.
type gate struct {
	policy   *Policy
	verifier *auth.Verifier
	metrics  *Metrics
}

// decision is the outcome of gate.decide.
type decision struct {
	public   bool
	rule     string
	identity auth.Identity
	denial   *denial // nil when the request may pass
}

// denial is why a request may not pass and what to answer.
type denial struct {
	status    int
	message   string
	reason    string // stable, for logs and metrics
	presented bool   // a token was presented (RFC 6750 error="invalid_token")
}

// label is the decision as logs and metrics name it.
func (d decision) label() string {
	switch {
	case d.denial != nil:
		return "denied:" + d.denial.reason
	case d.public:
		return "public"
	}
	return "allowed"
}

func (g *gate) decide(ctx context.Context, path string, authorization []string) decision {
	public, rule := g.policy.Match(path)
	if public {
		return decision{public: true, rule: rule}
	}
	id, den := g.authenticate(ctx, authorization)
	return decision{rule: rule, identity: id, denial: den}
}

// authenticate verifies the bearer token of an Authorization header.
func (g *gate) authenticate(ctx context.Context, authorization []string) (auth.Identity, *denial) {
	token, ok := bearerToken(authorization)
	if !ok {
		return auth.Identity{}, &denial{status: http.StatusUnauthorized, message: msgMissingAuth, reason: "missing_token"}
	}
	id, err := g.verifier.Verify(ctx, token)
	if err == nil {
		return id, nil
	}
	reason := auth.ReasonMalformed
	var te *auth.TokenError
	if errors.As(err, &te) {
		reason = te.Reason
	}
	g.metrics.failures.WithLabelValues(reason).Inc()
	msg := msgInvalidToken
	if errors.Is(err, auth.ErrTokenExpired) {
		msg = msgTokenExpired
	}
	return auth.Identity{}, &denial{status: http.StatusUnauthorized, message: msg, reason: reason, presented: true}
}

// record puts the decision on the request's access log line and counts it.
func (g *gate) record(r *http.Request, d decision) {
	g.metrics.record(r, d.label(), d.rule, d.identity.Subject)
}

// deny answers a denied request.
func deny(w http.ResponseWriter, r *http.Request, den *denial) {
	writeError(w, r, den.status, den.message, den.reason, den.presented)
}
