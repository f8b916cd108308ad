package proxy

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// Explain writes, for `authgate explain`, which rule decides a request, why,
// what the answer is, and which identity headers the upstream (or the front
// proxy) would receive: the same decision the server makes, without a
// server. token is the bearer token, "" for none.
func Explain(ctx context.Context, w io.Writer, o Options, method, target, host, token string) error {
	cfg := o.Config
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	path, _, err := parseTarget(target)
	p("request:   %s %s%s", method, target, hostNote(host))
	if err != nil {
		p("decision:  refused before any rule: 400 %s (%v)", msgBadPath, err)
		return nil
	}
	if path != target && !strings.HasPrefix(target, path+"?") {
		p("path:      %s (decoded; rules and the upstream see this)", path)
	}
	req := Request{Method: method, Host: host, Path: path}
	rs := NewRuleSet(cfg, o.Rules)
	m, _ := rs.Decide(req)
	switch {
	case m.Rule != nil:
		p("rule:      %q from %s", m.Rule.Name, m.Rule.Source)
		p("           %s", m.Rule.describe())
		why := fmt.Sprintf("path matches %s", m.Pattern)
		if len(m.Rule.Methods) > 0 {
			why += fmt.Sprintf(", method %s is listed", method)
		}
		if len(m.Rule.Hosts) > 0 {
			why += fmt.Sprintf(", host %s is listed", host)
		}
		p("why:       %s", why)
		for _, o := range m.Others {
			p("also:      %q from %s matches too, but %s", o.Rule.Name, o.Rule.Source, lostBecause(m, o))
		}
	case cfg.ProtectedPathsSet:
		p("rule:      none matches; AUTHGATE_PROTECTED_PATHS is set, so the path is public")
	default:
		p("rule:      none matches, so the path is protected")
	}

	authz := []string(nil)
	if token != "" {
		if !strings.HasPrefix(strings.ToLower(token), "bearer ") {
			token = "Bearer " + token
		}
		authz = []string{token}
	}
	g := &gate{rules: rs, rolesClaim: cfg.RolesClaim, verifier: o.Verifier, metrics: o.Metrics}
	if g.metrics == nil {
		g.metrics = NewMetrics()
	}
	d := g.decide(ctx, req, authz)
	headers := newIdentityHeaders(cfg)
	switch {
	case d.public:
		p("decision:  public: passes without a token")
		p("upstream:  no identity headers")
	case d.denial != nil:
		if d.identity.Subject != "" {
			p("token:     valid, sub %q, expires %s", d.identity.Subject, d.identity.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z"))
		}
		p("decision:  denied: %d %s (%s)", d.denial.status, d.denial.message, d.denial.reason)
		if d.denial.detail != "" {
			p("           %s", d.denial.detail)
		}
		p("upstream:  nothing; the request does not pass")
	default:
		p("token:     valid, sub %q, expires %s", d.identity.Subject, d.identity.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z"))
		p("decision:  allowed")
		h := http.Header{}
		headers.set(h, d.identity)
		p("upstream:  these identity headers:")
		for _, name := range slices.Sorted(maps.Keys(h)) {
			p("             %s: %s", name, strings.Join(h[name], ", "))
		}
	}
	p("stripped:  client-sent X-Auth-*%s, in any case and _ or . spelling", familyNote(headers))
	return nil
}

// lostBecause says why a matching rule did not decide.
func lostBecause(winner, other Match) string {
	quals := func(r *Rule) int { return min(len(r.Methods), 1) + min(len(r.Hosts), 1) }
	switch {
	case winner.Pattern.MoreSpecific(other.Pattern):
		return fmt.Sprintf("its path %s is less specific than %s", other.Pattern, winner.Pattern)
	case quals(other.Rule) < quals(winner.Rule):
		return "it names fewer of methods and hosts"
	}
	return "it comes later (rules file order, then AUTHGATE_PROTECTED_PATHS, then AUTHGATE_PUBLIC_PATHS)"
}

func hostNote(host string) string {
	if host == "" {
		return ""
	}
	return " (host " + host + ")"
}

func familyNote(ih *identityHeaders) string {
	var extra []string
	for n := range ih.names {
		if !strings.HasPrefix(n, "x-auth-") {
			extra = append(extra, n)
		}
	}
	if len(extra) == 0 {
		return ""
	}
	slices.Sort(extra)
	return ", " + strings.Join(extra, ", ")
}
