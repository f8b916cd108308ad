package policy

import (
	"fmt"
	"slices"

	"github.com/authgate/authgate/config"
)

// Match is the rule that decides a request, and the path pattern through
// which it matched.
type Match struct {
	Rule    *Rule          // nil when no rule matches
	Pattern config.Pattern // of Rule that matched the path
	Name    string         // Rule.Name, or RuleDefault or RuleNoRequest
	Public  bool           // the request passes without a token
	Others  []Match        // the other matching rules, in precedence order

	rolesClaim string
}

// Match finds the rule that decides req. Precedence is deterministic and
// does not depend on where rules come from:
//  1. the most specific matching path pattern (an exact pattern over a prefix
//     pattern, a longer prefix over a shorter one; a rule with several
//     patterns competes with its most specific matching one);
//  2. then the rule that names more of methods and hosts;
//  3. then order: rules-file rules in file order, then
//     AUTHGATE_PROTECTED_PATHS, then AUTHGATE_PUBLIC_PATHS (so between the
//     two lists a tie goes to protected).
//
// A rule whose methods or hosts do not match req takes no part. A request
// that no rule matches is public when Options.UnlistedPublic is set, else
// protected; one without a path is protected. Overlapping rules are never an
// error.
func (rs *Rules) Match(req Request) Match {
	none := Match{Name: RuleDefault, Public: rs.unlistedPublic, rolesClaim: rs.rolesClaim}
	if req.Path == "" {
		none.Name, none.Public = RuleNoRequest, false
		return none
	}
	var cands []Match
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
			cands = append(cands, Match{Rule: r, Pattern: best, Name: r.Name, Public: r.Public, rolesClaim: rs.rolesClaim})
		}
	}
	if len(cands) == 0 {
		return none
	}
	// Stable: candidates that no criterion tells apart keep rule order, the
	// last criterion.
	slices.SortStableFunc(cands, func(a, b Match) int {
		n, _ := precedence(a, b)
		return n
	})
	m := cands[0]
	m.Others = cands[1:]
	return m
}

// The criteria of precedence, in order.
type criterion int

const (
	byPath criterion = iota
	byQualifiers
	byOrder
)

// precedence compares two matches of one request: negative when a decides
// before b, positive when b does, 0 when only rule order tells them apart;
// and the criterion that told them apart.
func precedence(a, b Match) (int, criterion) {
	switch {
	case a.Pattern.MoreSpecific(b.Pattern):
		return -1, byPath
	case b.Pattern.MoreSpecific(a.Pattern):
		return 1, byPath
	}
	if n := qualifiers(b.Rule) - qualifiers(a.Rule); n != 0 {
		return n, byQualifiers
	}
	return 0, byOrder
}

// qualifiers counts which of methods and hosts a rule names.
func qualifiers(r *Rule) int { return min(len(r.Methods), 1) + min(len(r.Hosts), 1) }

// WinsOver says why m decides rather than other, another matching rule of
// m.Others, by the criterion of precedence that told them apart.
func (m Match) WinsOver(other Match) string {
	switch _, c := precedence(m, other); c {
	case byPath:
		return fmt.Sprintf("its path %s is less specific than %s", other.Pattern, m.Pattern)
	case byQualifiers:
		return "it names fewer of methods and hosts"
	}
	return "it comes later (rules file order, then AUTHGATE_PROTECTED_PATHS, then AUTHGATE_PUBLIC_PATHS)"
}
