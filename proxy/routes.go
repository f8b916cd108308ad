package proxy

import (
	"net/http"

	"github.com/authgate/authgate/auth"
)

// addRoutes is the whole surface of the main listener. authgate's own
// endpoints come first; every other path goes to the upstream (proxy mode)
// or is not found.
func addRoutes(mux *http.ServeMux, o Options) {
	cfg, m := o.Config, o.Metrics
	g := &gate{rules: NewRuleSet(cfg, o.Rules), rolesClaim: cfg.RolesClaim, verifier: o.Verifier, metrics: m}
	headers := newIdentityHeaders(cfg)

	if o.Issuer != nil {
		mux.Handle(cfg.LoginPath, m.instrument("login", handleLogin(o.Users, o.Issuer, m)))
	} else {
		// Verification only: no key to sign with, so no logins; answered here
		// rather than passed to the upstream.
		mux.Handle(cfg.LoginPath, m.instrument("login", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.record(r, "denied:not_found", ruleLogin, "")
			writeError(w, r, http.StatusNotFound, msgNotFound, "no_signing_key", false)
		})))
	}
	mux.Handle(cfg.MePath, m.instrument("me", handleMe(g)))
	verify := m.instrument("verify", &forwardAuth{gate: g, headers: headers, verifyPath: cfg.VerifyPath, source: cfg.ForwardAuthSource})
	mux.Handle(cfg.VerifyPath, verify)
	mux.Handle(cfg.VerifyPath+"/", verify)
	mux.Handle(cfg.JWKSPath, m.instrument("jwks", handleJWKS(o.Keys.PublicJWKS(), m)))

	if cfg.Upstream == nil {
		mux.Handle("/", m.instrument("not_found", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.record(r, "denied:not_found", ruleNotFound, "")
			writeError(w, r, http.StatusNotFound, msgNotFound, "not_found", false)
		})))
		return
	}
	rp := &reverseProxy{target: cfg.Upstream, transport: o.Transport, headers: headers, stripAuthz: cfg.StripAuthorization}
	mux.Handle("/", m.instrument("proxy", handleProxy(g, rp)))
}

// handleProxy decides a request and forwards it when it may pass. Client
// identity headers are stripped on every path, public ones included.
func handleProxy(g *gate, rp *reverseProxy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !upgradeAllowed(r.Header) {
			g.metrics.record(r, "denied:bad_upgrade", ruleRequest, "")
			writeError(w, r, http.StatusBadRequest, msgBadUpgrade, "bad_upgrade", false)
			return
		}
		d := g.decide(r.Context(), Request{Method: r.Method, Host: r.Host, Path: r.URL.Path}, r.Header.Values("Authorization"))
		g.record(r, d)
		if d.denial != nil {
			deny(w, r, d.denial)
			return
		}
		var id *auth.Identity
		if !d.public {
			id = &d.identity
		}
		rp.serve(w, r, id)
	})
}
