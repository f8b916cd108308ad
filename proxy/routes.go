package proxy

import (
	"net/http"

	"github.com/authgate/authgate/policy"
)

// Names of the decisions that an endpoint makes rather than a rule.
const (
	ruleLogin    = "login"
	ruleMe       = "me"
	ruleJWKS     = "jwks"
	ruleRequest  = "request" // refused before routing: target or headers
	ruleNotFound = "not-found"
)

// addRoutes is the whole surface of the main listener. authgate's own
// endpoints come first; every other path goes to the upstream (proxy mode)
// or is not found. Each handler returns its verdict, and answer records and
// writes it.
func addRoutes(mux *router, o Options) {
	cfg, m, cur := o.Config, o.Metrics, o.Current
	headers := NewIdentityHeaders(cfg.ClaimHeaders, cfg.Preset.Family, cfg.ClaimsHeader)

	b := newBrowser(cfg)
	l := &login{current: cur, slots: newHashSlots(cfg.LoginConcurrency), throttle: o.Throttle, sessions: o.Sessions, browser: b, trusted: cfg.TrustedProxies, metrics: m}
	mux.Handle(cfg.LoginPath, m.instrument("login", decided(m, l.decide)))
	rf := &refresh{current: cur, sessions: o.Sessions, metrics: m}
	mux.Handle(cfg.RefreshPath, m.instrument("refresh", decided(m, rf.decide)))
	lo := &logout{current: cur, sessions: o.Sessions, revoker: o.Revoker, issuer: cfg.Issuer, cookie: cfg.CookieName, browser: b, metrics: m}
	mux.Handle(cfg.LogoutPath, m.instrument("logout", decided(m, lo.decide)))
	mux.Handle(cfg.MePath, m.instrument("me", decided(m, handleMe(cur, cfg.CookieName))))
	fa := &forwardAuth{current: cur, headers: headers, verifyPath: cfg.VerifyPath, source: cfg.ForwardAuthSource,
		cookie: cfg.CookieName, insecure: !cfg.CookieSecure, browser: b}
	verify := m.instrument("verify", decided(m, fa.decide))
	mux.Handle(cfg.VerifyPath, verify)
	mux.Handle(cfg.VerifyPath+"/", verify)
	mux.Handle(cfg.JWKSPath, m.instrument("jwks", decided(m, handleJWKS(cur))))

	if cfg.Upstream == nil {
		mux.Handle("/", m.instrument("not_found", decided(m, func(w http.ResponseWriter, r *http.Request) verdict {
			return refused(ruleNotFound, &Refusal{Status: http.StatusNotFound, Message: msgNotFound, Reason: "not_found"})
		})))
		return
	}
	rp := &reverseProxy{target: cfg.Upstream, transport: o.Transport, headers: headers, stripAuthz: cfg.StripAuthorization, cookie: cfg.CookieName, trusted: cfg.TrustedProxies}
	mux.Handle("/", m.instrument("proxy", decided(m, handleProxy(cur, rp, b))))
}

// handleProxy decides a request and forwards it when it may pass. Client
// identity headers are stripped on every path, public ones included.
func handleProxy(cur Current, rp *reverseProxy, b *browser) func(http.ResponseWriter, *http.Request) verdict {
	return func(w http.ResponseWriter, r *http.Request) verdict {
		if !upgradeAllowed(r.Header) {
			return refused(ruleRequest, &Refusal{Status: http.StatusBadRequest, Message: msgBadUpgrade, Reason: "bad_upgrade"})
		}
		s := cur.Load()
		cred := ReadCredential(r.Header, rp.cookie)
		o := Decide(r.Context(), s.Rules, s.Verifier, policy.Request{Method: r.Method, Host: r.Host, Path: r.URL.Path}, cred)
		if o.Refusal != nil {
			b.toLogin(r, r.Method, cred, o.Refusal, originalURL(r, rp.trusted), false)
		}
		id := o.Identity // the closure holds the identity, not all of o
		return o.verdict(func(w http.ResponseWriter) { rp.serve(w, r, id) })
	}
}
