package proxy

import "github.com/authgate/authgate/config"

// Policy says whether a path is public or protected, from
// AUTHGATE_PROTECTED_PATHS and AUTHGATE_PUBLIC_PATHS.
//
// Precedence: the most specific matching pattern decides (an exact pattern
// over a prefix pattern, a longer prefix over a shorter one); a tie between a
// protected and a public pattern goes to protected. A path that matches
// nothing is public when AUTHGATE_PROTECTED_PATHS was set, else protected.
type Policy struct {
	rules         []rule
	defaultPublic bool
}

// rule is one pattern with its verdict. Later issues add methods, hosts and
// requirements here; the precedence stays in Match.
type rule struct {
	pattern config.Pattern
	public  bool
	name    string // for logs and metrics, e.g. "public:/health"
}

// Names of the decisions that no pattern makes.
const (
	ruleDefault   = "default"
	ruleNoRequest = "no-original-request"
	ruleLogin     = "login"
	ruleMe        = "me"
	ruleJWKS      = "jwks"
	ruleRequest   = "request" // refused before routing: target or headers
	ruleNotFound  = "not-found"
)

// NewPolicy builds the policy of cfg.
func NewPolicy(cfg config.Config) *Policy {
	p := &Policy{defaultPublic: cfg.ProtectedPathsSet}
	for _, pat := range cfg.ProtectedPaths {
		p.rules = append(p.rules, rule{pattern: pat, name: "protected:" + pat.String()})
	}
	for _, pat := range cfg.PublicPaths {
		p.rules = append(p.rules, rule{pattern: pat, public: true, name: "public:" + pat.String()})
	}
	return p
}

// Match returns whether the canonical path is public and the name of the
// rule that decided. An empty path (a forward-auth request that does not say
// what it asks about) is protected.
func (p *Policy) Match(path string) (public bool, name string) {
	if path == "" {
		return false, ruleNoRequest
	}
	var best *rule
	for i := range p.rules {
		r := &p.rules[i]
		if !r.pattern.Match(path) {
			continue
		}
		switch {
		case best == nil, r.pattern.MoreSpecific(best.pattern):
			best = r
		case !best.pattern.MoreSpecific(r.pattern) && !r.public:
			best = r // equally specific: protected wins
		}
	}
	if best == nil {
		return p.defaultPublic, ruleDefault
	}
	return best.public, best.name
}
