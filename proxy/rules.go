package proxy

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/authgate/authgate/config"
)

// Rule says what a matching request needs: nothing (Public), a valid token,
// or a valid token whose claims meet Require.
type Rule struct {
	Name    string           // in logs and the decision metric
	Source  string           // where it was written: "rules.yaml:12" or a variable
	Paths   []config.Pattern // any of
	Methods []string         // any of; empty: any method
	Hosts   []string         // any of, lower case, "host" or "host:port"; empty: any host
	Public  bool
	Require *Requirements // nil: a valid token is enough
}

// Requirements are the conditions on a valid token's claims: every listed
// kind must hold.
type Requirements struct {
	Roles  []string       // any one of these in the roles claim
	Scopes []string       // all of these in scope or scp
	Claims map[string]any // each claim (dotted path) equal to this value
}

// Request is what rules are matched against: the original request's method,
// host and canonical path.
type Request struct {
	Method, Host, Path string
}

// RuleSet holds every rule, from the rules file and from the two path
// lists, and picks the one that decides a request.
//
// Precedence, deterministic and independent of where rules come from:
//  1. the most specific matching path pattern (an exact pattern over a prefix
//     pattern, a longer prefix over a shorter one);
//  2. then the rule that names more of methods and hosts;
//  3. then order: rules-file rules in file order, then
//     AUTHGATE_PROTECTED_PATHS, then AUTHGATE_PUBLIC_PATHS (so between the
//     two lists a tie goes to protected).
//
// A request no rule matches is public when AUTHGATE_PROTECTED_PATHS was set,
// else protected. Overlapping rules are never an error.
type RuleSet struct {
	rules         []Rule
	defaultPublic bool
}

// Names of the decisions that no rule makes.
const (
	ruleDefault   = "default"
	ruleNoRequest = "no-original-request"
	ruleLogin     = "login"
	ruleMe        = "me"
	ruleJWKS      = "jwks"
	ruleRequest   = "request" // refused before routing: target or headers
	ruleNotFound  = "not-found"
)

// NewRuleSet combines the rules file's rules (in file order) with the path
// lists of cfg.
func NewRuleSet(cfg config.Config, fileRules []Rule) *RuleSet {
	rs := &RuleSet{defaultPublic: cfg.ProtectedPathsSet}
	rs.rules = append(rs.rules, fileRules...)
	for _, pat := range cfg.ProtectedPaths {
		rs.rules = append(rs.rules, Rule{Name: "protected:" + pat.String(), Source: "AUTHGATE_PROTECTED_PATHS", Paths: []config.Pattern{pat}})
	}
	for _, pat := range cfg.PublicPaths {
		rs.rules = append(rs.rules, Rule{Name: "public:" + pat.String(), Source: "AUTHGATE_PUBLIC_PATHS", Paths: []config.Pattern{pat}, Public: true})
	}
	return rs
}

// Match is the rule that decides a request, and the path pattern through
// which it matched; nil when no rule matches.
type Match struct {
	Rule    *Rule
	Pattern config.Pattern
	Others  []Match // other matching rules, in precedence order
}

// Decide returns the deciding rule for req (nil Rule: none matched) and
// whether the request is public.
func (rs *RuleSet) Decide(req Request) (Match, bool) {
	if req.Path == "" {
		return Match{}, false
	}
	type candidate struct {
		rule    *Rule
		pattern config.Pattern
		quals   int
	}
	var cands []candidate
	for i := range rs.rules {
		r := &rs.rules[i]
		if len(r.Methods) > 0 && !slices.Contains(r.Methods, req.Method) {
			continue
		}
		if len(r.Hosts) > 0 && !hostMatches(r.Hosts, req.Host) {
			continue
		}
		best, ok := config.Pattern{}, false
		for _, p := range r.Paths {
			if p.Match(req.Path) && (!ok || p.MoreSpecific(best)) {
				best, ok = p, true
			}
		}
		if ok {
			cands = append(cands, candidate{r, best, min(len(r.Methods), 1) + min(len(r.Hosts), 1)})
		}
	}
	if len(cands) == 0 {
		return Match{}, rs.defaultPublic
	}
	// Stable: equal candidates keep rule order, the last tie-break.
	slices.SortStableFunc(cands, func(a, b candidate) int {
		switch {
		case a.pattern.MoreSpecific(b.pattern):
			return -1
		case b.pattern.MoreSpecific(a.pattern):
			return 1
		}
		return b.quals - a.quals
	})
	m := Match{Rule: cands[0].rule, Pattern: cands[0].pattern}
	for _, c := range cands[1:] {
		m.Others = append(m.Others, Match{Rule: c.rule, Pattern: c.pattern})
	}
	return m, m.Rule.Public
}

// hostMatches compares a request's Host with rule hosts: case-insensitive,
// without a trailing dot, and without the port unless the rule names one.
func hostMatches(hosts []string, requestHost string) bool {
	h := strings.ToLower(requestHost)
	name, port, err := net.SplitHostPort(h)
	if err != nil {
		name, port = h, ""
	}
	name = strings.TrimSuffix(strings.Trim(name, "[]"), ".")
	for _, want := range hosts {
		wantName, wantPort, err := net.SplitHostPort(want)
		if err != nil {
			if want == name {
				return true
			}
			continue
		}
		if strings.Trim(wantName, "[]") == name && wantPort == port {
			return true
		}
	}
	return false
}

// normalizeHost checks a rule's host and returns it in the form hostMatches
// compares: lower case, no trailing dot.
func normalizeHost(h string) (string, error) {
	h = strings.ToLower(strings.TrimSpace(h))
	name, port, err := net.SplitHostPort(h)
	if err != nil {
		name, port = h, ""
	}
	name = strings.TrimSuffix(name, ".")
	if ip := net.ParseIP(strings.Trim(name, "[]")); ip == nil && (name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "") {
		return "", fmt.Errorf("%q is not a host name (write the name, with :port if it matters)", h)
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q has a bad port", h)
		}
		return net.JoinHostPort(strings.Trim(name, "[]"), port), nil
	}
	return strings.Trim(name, "[]"), nil
}

// describe sums a rule up for `authgate explain`.
func (r *Rule) describe() string {
	var parts []string
	pats := make([]string, len(r.Paths))
	for i, p := range r.Paths {
		pats[i] = p.String()
	}
	parts = append(parts, "paths "+strings.Join(pats, ", "))
	if len(r.Methods) > 0 {
		parts = append(parts, "methods "+strings.Join(r.Methods, ", "))
	}
	if len(r.Hosts) > 0 {
		parts = append(parts, "hosts "+strings.Join(r.Hosts, ", "))
	}
	switch {
	case r.Public:
		parts = append(parts, "public")
	case r.Require == nil:
		parts = append(parts, "needs a valid token")
	default:
		parts = append(parts, "needs a valid token with "+r.Require.describe())
	}
	return strings.Join(parts, "; ")
}
