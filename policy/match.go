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
// error. Match leaves Others empty; MatchAll fills it.
func (rs *Rules) Match(req Request) Match {
	best, found := rs.none(req), false
	rs.candidates(req, func(c Match) {
		// Rule order is the last criterion: a later rule wins only when it
		// is strictly better.
		if n, _ := precedence(c, best); !found || n < 0 {
			best, found = c, true
		}
	})
	return best
}

// MatchAll is Match with the other matching rules in Others, in precedence
// order, for `authgate explain`.
func (rs *Rules) MatchAll(req Request) Match {
	var cands []Match
	rs.candidates(req, func(c Match) { cands = append(cands, c) })
	if len(cands) == 0 {
		return rs.none(req)
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

// none is the match of a request that no rule matches.
func (rs *Rules) none(req Request) Match {
	if req.Path == "" {
		return Match{Name: RuleNoRequest, rolesClaim: rs.rolesClaim}
	}
	return Match{Name: RuleDefault, Public: rs.unlistedPublic, rolesClaim: rs.rolesClaim}
}

// candidates calls f with each rule that matches req, in rule order, through
// its most specific matching pattern.
func (rs *Rules) candidates(req Request, f func(Match)) {
	if req.Path == "" {
		return
	}
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
			f(Match{Rule: r, Pattern: best, Name: r.Name, Public: r.Public, rolesClaim: rs.rolesClaim})
		}
	}
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
