// Package policy is authgate's authorization policy, with no HTTP in it:
// the rules (from the rules file and the two path lists), which of them
// decides a request, the requirements a token's claims must meet, and the
// Decision for one request. The proxy package turns a Decision into an
// answer; `authgate explain` prints the same Decision.
package policy

import (
	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/config"
)

// Request is what rules are matched against: the original request's
// method, host and canonical path. Path is "" when a forward-auth request
// names no original request.
type Request struct {
	Method, Host, Path string
}

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

// Names of the decisions that no rule makes.
const (
	RuleDefault   = "default"             // no rule matches the path
	RuleNoRequest = "no-original-request" // a forward-auth request that names no path
)

// Options are what the rules are built from.
type Options struct {
	File      []Rule           // from the rules file, in file order
	Protected []config.Pattern // AUTHGATE_PROTECTED_PATHS
	Public    []config.Pattern // AUTHGATE_PUBLIC_PATHS
	// UnlistedPublic makes a path that no rule matches public; it is set
	// when AUTHGATE_PROTECTED_PATHS was given.
	UnlistedPublic bool
	RolesClaim     string // AUTHGATE_ROLES_CLAIM, a dotted path
}

// Rules holds every rule, from the rules file and from the two path lists,
// and decides requests. It never changes once built: a reload builds new
// Rules.
type Rules struct {
	rules          []Rule
	unlistedPublic bool
	rolesClaim     string
}

// New combines the rules file's rules (in file order) with the two path
// lists: first the protected, then the public patterns, each a rule of its
// own without requirements.
func New(o Options) *Rules {
	rs := &Rules{unlistedPublic: o.UnlistedPublic, rolesClaim: o.RolesClaim}
	rs.rules = append(rs.rules, o.File...)
	for _, pat := range o.Protected {
		rs.rules = append(rs.rules, Rule{Name: "protected:" + pat.String(), Source: "AUTHGATE_PROTECTED_PATHS", Paths: []config.Pattern{pat}})
	}
	for _, pat := range o.Public {
		rs.rules = append(rs.rules, Rule{Name: "public:" + pat.String(), Source: "AUTHGATE_PUBLIC_PATHS", Paths: []config.Pattern{pat}, Public: true})
	}
	return rs
}

// Decision is what the rules say about one request: which rule decides (or
// why none does), whether it is public, and, when it may not pass, what
// failed. It has no status codes: proxy chooses the answer.
type Decision struct {
	Match
	Failure *Failure // nil: the request may pass
}

// Failure is why a request may not pass.
type Failure struct {
	Reason string // one of the Reason constants: stable, for logs and metrics
	Detail string // a sentence for the log and `authgate explain`
}

// Reasons a request fails the rules.
const (
	ReasonUnauthenticated = "unauthenticated" // protected, and no verified identity
	ReasonMissingRole     = "missing_role"
	ReasonMissingScope    = "missing_scope"
	ReasonClaimMismatch   = "claim_mismatch"
)

// Decide returns the decision on req for the identity of its verified
// token, nil when it presented none or one that did not verify.
func (rs *Rules) Decide(req Request, id *auth.Identity) Decision {
	return rs.Match(req).Decide(id)
}

// Decide returns the decision of the matched rule for the identity id (nil:
// none). A public match passes whatever id is; a protected one needs an
// identity that meets the rule's requirements.
func (m Match) Decide(id *auth.Identity) Decision {
	d := Decision{Match: m}
	switch {
	case m.Public:
	case id == nil:
		d.Failure = &Failure{Reason: ReasonUnauthenticated, Detail: "a valid token is required"}
	case m.Rule != nil:
		if reason, why := m.Rule.Require.check(*id, m.rolesClaim); reason != "" {
			d.Failure = &Failure{Reason: reason, Detail: why}
		}
	}
	return d
}
