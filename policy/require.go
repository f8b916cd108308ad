package policy

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"

	"github.com/authgate/authgate/auth"
)

// check reports which requirement the identity fails, as a Reason constant
// and a sentence for logs and `authgate explain`; "" when it meets them all.
func (req *Requirements) check(id auth.Identity, rolesClaim string) (reason, why string) {
	if req == nil {
		return "", ""
	}
	if len(req.Roles) > 0 {
		v, _ := id.Claim(rolesClaim)
		have := stringList(v, ",")
		if !slices.ContainsFunc(req.Roles, func(r string) bool { return slices.Contains(have, r) }) {
			return ReasonMissingRole, fmt.Sprintf("%s %v has none of the roles %v", rolesClaim, have, req.Roles)
		}
	}
	if len(req.Scopes) > 0 {
		sc, _ := id.Claim("scope")
		scp, _ := id.Claim("scp")
		have := append(stringList(sc, ""), stringList(scp, "")...)
		for _, s := range req.Scopes {
			if !slices.Contains(have, s) {
				return ReasonMissingScope, fmt.Sprintf("scope %q is not among %v", s, have)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(req.Claims)) {
		want := req.Claims[name]
		got, found := id.Claim(name)
		if !found || !claimEqual(got, want) {
			g, _ := json.Marshal(got)
			if !found {
				g = []byte("absent")
			}
			return ReasonClaimMismatch, fmt.Sprintf("claim %s is %s, not %v", name, g, want)
		}
	}
	return "", ""
}

// stringList reads a claim holding names: an array of strings, or one
// string of names separated by spaces (and by sep, when given).
func stringList(v any, sep string) []string {
	switch x := v.(type) {
	case string:
		return strings.FieldsFunc(x, func(r rune) bool { return r == ' ' || sep != "" && strings.ContainsRune(sep, r) })
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// claimEqual compares a token's claim with a rules-file value: strings and
// booleans exactly, numbers by value (1 equals 1.0).
func claimEqual(got, want any) bool {
	switch w := want.(type) {
	case string, bool:
		return got == w
	case nil:
		return got == nil
	}
	n, ok := got.(json.Number)
	if !ok {
		return false
	}
	g, _, err := big.ParseFloat(string(n), 10, 256, big.ToNearestEven)
	if err != nil {
		return false
	}
	var wf *big.Float
	switch w := want.(type) {
	case int:
		wf = new(big.Float).SetInt64(int64(w))
	case int64:
		wf = new(big.Float).SetInt64(w)
	case uint64:
		wf = new(big.Float).SetUint64(w)
	case float64:
		wf = big.NewFloat(w)
	default:
		return false
	}
	return g.Cmp(wf) == 0
}

// Summary says what the requirements ask for, for `authgate explain`.
func (req *Requirements) Summary() string {
	var parts []string
	if len(req.Roles) > 0 {
		parts = append(parts, fmt.Sprintf("one of the roles %v", req.Roles))
	}
	if len(req.Scopes) > 0 {
		parts = append(parts, fmt.Sprintf("all of the scopes %v", req.Scopes))
	}
	if len(req.Claims) > 0 {
		keys := slices.Sorted(maps.Keys(req.Claims))
		var cs []string
		for _, k := range keys {
			cs = append(cs, fmt.Sprintf("%s=%v", k, req.Claims[k]))
		}
		parts = append(parts, "claims "+strings.Join(cs, ", "))
	}
	return strings.Join(parts, " and ")
}

// Summary says what the rule matches and what it needs, for
// `authgate explain`.
func (r *Rule) Summary() string {
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
		parts = append(parts, "needs a valid token with "+r.Require.Summary())
	}
	return strings.Join(parts, "; ")
}
