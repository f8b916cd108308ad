package config

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// ClaimHeader maps one claim (a dotted path into the claims, such as
// realm_access.roles) to the request header that carries it upstream.
type ClaimHeader struct {
	Claim  string
	Header string // canonical form, e.g. X-Auth-User
}

// ClaimHeaders is the AUTHGATE_CLAIM_HEADERS list: claim=Header,claim=Header.
type ClaimHeaders []ClaimHeader

// reservedHeaders may not carry claims: they are hop-by-hop, framing or
// credentials, and a claim in them would confuse the upstream or the proxy.
var reservedHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true, "set-cookie": true,
	"host": true, "content-length": true, "content-type": true, "transfer-encoding": true,
	"connection": true, "keep-alive": true, "te": true, "trailer": true, "upgrade": true,
	"proxy-connection": true, "forwarded": true, "x-forwarded-for": true,
	"x-forwarded-host": true, "x-forwarded-proto": true, "x-request-id": true,
}

// UnmarshalText parses "sub=X-Auth-Subject,email=X-Auth-Email".
func (ch *ClaimHeaders) UnmarshalText(text []byte) error {
	var out ClaimHeaders
	var errs []error
	seen := map[string]bool{}
	for _, part := range listEntries(text) {
		claim, header, ok := strings.Cut(part, "=")
		claim, header = strings.TrimSpace(claim), strings.TrimSpace(header)
		switch {
		case !ok || claim == "" || header == "":
			errs = append(errs, fmt.Errorf("%q must be claim=Header-Name", part))
			continue
		case slices.Contains(strings.Split(claim, "."), ""):
			errs = append(errs, fmt.Errorf("claim path %q has an empty segment", claim))
			continue
		case !isToken(header):
			errs = append(errs, fmt.Errorf("%q is not a valid header name", header))
			continue
		}
		norm := NormalizeHeaderName(header)
		if reservedHeaders[norm] {
			errs = append(errs, fmt.Errorf("header %q cannot carry a claim", header))
			continue
		}
		if seen[norm] {
			errs = append(errs, fmt.Errorf("header %q is listed twice", header))
			continue
		}
		seen[norm] = true
		out = append(out, ClaimHeader{Claim: claim, Header: http.CanonicalHeaderKey(header)})
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	*ch = out
	return nil
}

// NormalizeHeaderName folds the spellings that servers and frameworks treat
// as one header into one key: lower case, with "_" and "." read as "-".
// X-Auth_User, x-auth.user and X-AUTH-USER all become x-auth-user.
func NormalizeHeaderName(name string) string {
	b := []byte(name)
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
			b[i] = c + ('a' - 'A')
		case c == '_' || c == '.':
			b[i] = '-'
		}
	}
	return string(b)
}

// isToken reports whether s is an RFC 9110 token (a valid header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
