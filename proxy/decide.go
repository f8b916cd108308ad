package proxy

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/rs/zerolog"

	"github.com/authgate/authgate/auth"
)

// gate makes the one decision that proxy mode, forward-auth and /me share:
// given the original request's path and Authorization header, let it through
// (public or allowed, with an identity) or deny it with a status.
type gate struct {
	rules      *RuleSet
	rolesClaim string
	verifier   *auth.Verifier
	metrics    *Metrics
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
	reason    string   // stable, for logs and metrics
	detail    string   // for the log: which requirement failed
	presented bool     // a token was presented (RFC 6750 error="invalid_token")
	scopes    []string // the scopes a 403 for a missing scope asks for
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

// decide finds the rule for req, and, unless it is public, verifies the
// token and checks the rule's requirements.
func (g *gate) decide(ctx context.Context, req Request, authorization []string) decision {
	m, public := g.rules.Decide(req)
	d := decision{public: public, rule: ruleNameOf(m, req)}
	if public {
		return d
	}
	d.identity, d.denial = g.authenticate(ctx, authorization)
	if d.denial != nil || m.Rule == nil {
		return d
	}
	if ok, reason, why := m.Rule.Require.check(d.identity, g.rolesClaim); !ok {
		d.denial = &denial{status: http.StatusForbidden, message: msgForbidden, reason: reason, detail: why}
		if reason == reasonMissingScope {
			d.denial.scopes = m.Rule.Require.Scopes
		}
	}
	return d
}

// ruleNameOf names the rule that decided, or why none did.
func ruleNameOf(m Match, req Request) string {
	switch {
	case m.Rule != nil:
		return m.Rule.Name
	case req.Path == "":
		return ruleNoRequest
	}
	return ruleDefault
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

// deny answers a denied request. A 403 for a missing scope carries the
// RFC 6750 insufficient_scope challenge.
func deny(w http.ResponseWriter, r *http.Request, den *denial) {
	if den.detail != "" {
		zerolog.Ctx(r.Context()).UpdateContext(func(c zerolog.Context) zerolog.Context {
			return c.Str("detail", den.detail)
		})
	}
	if len(den.scopes) > 0 {
		w.Header().Set("WWW-Authenticate", realm+`, error="insufficient_scope", scope="`+strings.Join(den.scopes, " ")+`"`)
	}
	writeError(w, r, den.status, den.message, den.reason, den.presented)
}
