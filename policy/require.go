package policy

import (
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
		v, _ := id.Claims().Get(rolesClaim)
		have := stringList(v, ",")
		if !slices.ContainsFunc(req.Roles, func(r string) bool { return slices.Contains(have, r) }) {
			return ReasonMissingRole, fmt.Sprintf("%s %v has none of the roles %v", rolesClaim, have, req.Roles)
		}
	}
	if len(req.Scopes) > 0 {
		sc, _ := id.Claims().Get("scope")
		scp, _ := id.Claims().Get("scp")
		have := append(stringList(sc, ""), stringList(scp, "")...)
		for _, s := range req.Scopes {
			if !slices.Contains(have, s) {
				return ReasonMissingScope, fmt.Sprintf("scope %q is not among %v", s, have)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(req.Claims)) {
		want := req.Claims[name]
		got, found := id.Claims().Get(name)
		if !found || !claimEqual(got, want) {
			g := "absent"
			if found {
				g = got.String()
			}
			return ReasonClaimMismatch, fmt.Sprintf("claim %s is %s, not %v", name, g, want)
		}
	}
	return "", ""
}

// stringList reads a claim holding names: an array of strings, or one
// string of names separated by spaces (and by sep, when given).
// An absent claim (the zero ClaimValue) holds none.
func stringList(v auth.ClaimValue, sep string) []string {
	switch v.Kind() {
	case auth.ClaimString:
		return strings.FieldsFunc(v.Text(), func(r rune) bool { return r == ' ' || sep != "" && strings.ContainsRune(sep, r) })
	case auth.ClaimArray:
		out := make([]string, 0, v.Len())
		for i := range v.Len() {
			if e := v.Index(i); e.Kind() == auth.ClaimString {
				out = append(out, e.Text())
			}
		}
		return out
	}
	return nil
}

// claimEqual compares a token's claim with a rules-file value: strings and
// booleans exactly, numbers by value (1 equals 1.0).
func claimEqual(got auth.ClaimValue, want any) bool {
	switch w := want.(type) {
	case string:
		return got.Kind() == auth.ClaimString && got.Text() == w
	case bool:
		return got.Kind() == auth.ClaimBool && got.Bool() == w
	case nil:
		return got.Kind() == auth.ClaimNull
	}
	if got.Kind() != auth.ClaimNumber {
		return false
	}
	g, _, err := big.ParseFloat(got.Text(), 10, 256, big.ToNearestEven)
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
