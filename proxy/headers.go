package proxy

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/config"
)

// claimsHeader carries every verified claim as base64url JSON when
// AUTHGATE_CLAIMS_HEADER is on.
const claimsHeader = "X-Auth-Claims"

// IdentityHeaders knows which headers carry identity: it strips them from
// what the client sent and fills them from a verified token.
type IdentityHeaders struct {
	mapping   config.ClaimHeaders
	names     map[string]bool // normalised: the mapped headers and the preset's family
	allClaims bool            // set X-Auth-Claims
	// first holds the first bytes, in both cases, of every name strip
	// removes: a header name that starts with any other byte is none of
	// them, and strip need not normalise it.
	first [256]bool
}

// NewIdentityHeaders returns the identity headers of a claim mapping
// (AUTHGATE_CLAIM_HEADERS or the preset's), the header family the preset
// owns besides X-Auth-*, and whether X-Auth-Claims carries every claim.
func NewIdentityHeaders(mapping config.ClaimHeaders, family []string, allClaims bool) *IdentityHeaders {
	ih := &IdentityHeaders{mapping: mapping, names: map[string]bool{}, allClaims: allClaims}
	for _, m := range mapping {
		ih.names[config.NormalizeHeaderName(m.Header)] = true
	}
	for _, n := range family {
		ih.names[n] = true
	}
	for n := range ih.names {
		ih.markFirst(n)
	}
	for n := range methodOverrides {
		ih.markFirst(n)
	}
	ih.markFirst(config.IdentityPrefix)
	return ih
}

// markFirst records the first byte of a normalised name in every spelling
// that normalises to it.
func (ih *IdentityHeaders) markFirst(n string) {
	if n == "" {
		return
	}
	switch c := n[0]; {
	case c >= 'a' && c <= 'z':
		ih.first[c], ih.first[c-('a'-'A')] = true, true
	case c == '-':
		ih.first['-'], ih.first['_'], ih.first['.'] = true, true, true
	default:
		ih.first[c] = true
	}
}

// Owned returns the normalised names of the identity headers beyond
// X-Auth-*, sorted: the mapped headers and the preset's family.
func (ih *IdentityHeaders) Owned() []string {
	var out []string
	for n := range ih.names {
		if !strings.HasPrefix(n, config.IdentityPrefix) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// stripCookie removes the cookie called name from the Cookie header lines
// of h and keeps the others as they were; a line left empty goes.
func stripCookie(h http.Header, name string) {
	lines, changed := h["Cookie"], false
	kept := lines[:0:0]
	for _, line := range lines {
		if !strings.Contains(line, name) {
			kept = append(kept, line)
			continue
		}
		var pairs []string
		for pair := range strings.SplitSeq(line, ";") {
			pair = strings.TrimSpace(pair)
			if k, _, _ := strings.Cut(pair, "="); k == name {
				changed = true
				continue
			}
			if pair != "" {
				pairs = append(pairs, pair)
			}
		}
		if len(pairs) > 0 {
			kept = append(kept, strings.Join(pairs, "; "))
		}
	}
	switch {
	case !changed:
	case len(kept) == 0:
		delete(h, "Cookie")
	default:
		h["Cookie"] = kept
	}
}

// methodOverrides are the headers with which frameworks (Rails, Symfony,
// Express's method-override, some Java stacks) let a request claim another
// method: a rule that allows GET but not DELETE would not hold against them.
var methodOverrides = map[string]bool{"x-http-method-override": true, "x-http-method": true, "x-method-override": true}

// strip deletes every identity header (X-Auth-*, a mapped header, one of
// the preset's family) and method-override header from h (request headers
// or trailers), in any case and in their "_" and "." spellings.
func (ih *IdentityHeaders) strip(h http.Header) {
	for name := range h {
		if name != "" && !ih.first[name[0]] {
			continue // Accept, Authorization, Cookie, User-Agent …: most
		}
		n := config.NormalizeHeaderName(name)
		if strings.HasPrefix(n, config.IdentityPrefix) || ih.names[n] || methodOverrides[n] {
			delete(h, name)
		}
	}
}

// Set writes the identity headers of id into h. A claim that is absent or
// null sets nothing. A claim whose value would not arrive unchanged as a
// header value (empty, whitespace at an end, control characters) sets
// nothing either, and its name is returned.
func (ih *IdentityHeaders) Set(h http.Header, id auth.Identity) (skipped []string) {
	// One array backs every value: one allocation, not one per header. Each
	// header gets a slice of it with no room to grow into its neighbour.
	values := make([]string, len(ih.mapping))
	claims := id.Claims()
	for i, m := range ih.mapping {
		v, ok := claims.Get(m.Claim)
		if !ok || v.Kind() == auth.ClaimNull {
			continue
		}
		s, ok := headerValue(v)
		if !ok {
			skipped = append(skipped, m.Claim)
			continue
		}
		values[i] = s
		h[m.Header] = values[i : i+1 : i+1]
	}
	if ih.allClaims {
		// Both buffers on the stack for the usual token: one allocation,
		// the value itself.
		var js [1024]byte
		var enc [1368]byte
		h[claimsHeader] = []string{string(base64.RawURLEncoding.AppendEncode(enc[:0], claims.AppendJSON(js[:0])))}
	}
	return skipped
}

// headerValue renders a claim as a header value: strings as they are,
// arrays comma-joined, numbers and booleans as JSON, objects as JSON.
func headerValue(v auth.ClaimValue) (string, bool) {
	var s string
	switch v.Kind() {
	case auth.ClaimString, auth.ClaimNumber:
		s = v.Text()
	case auth.ClaimArray:
		if v.Len() == 1 {
			return headerValue(v.Index(0)) // the usual one role: no join
		}
		parts := make([]string, 0, v.Len())
		for i := range v.Len() {
			p, ok := headerValue(v.Index(i))
			if !ok {
				return "", false
			}
			parts = append(parts, p)
		}
		s = strings.Join(parts, ",")
	case auth.ClaimBool:
		s = strconv.FormatBool(v.Bool())
	default: // objects, and null inside an array
		s = v.String()
	}
	// A header value must arrive as it is: an empty one or one with
	// whitespace at an end would be read as something else (parsers trim
	// it), and control characters are not allowed at all.
	if s == "" || strings.TrimSpace(s) != s {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return "", false
		}
	}
	return s, true
}
