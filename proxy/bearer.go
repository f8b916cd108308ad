package proxy

import "strings"

// bearerToken returns the token of the request's one Authorization header,
// "Bearer <token>" with the scheme in any case (RFC 6750 §2.1). It reports
// false when there is no such header, more than one, another scheme, or a
// credential that is not a b64token. The token is never read from the query.
func bearerToken(values []string) (string, bool) {
	if len(values) != 1 {
		return "", false
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	if !isB64Token(token) {
		return "", false
	}
	return token, true
}

// isB64Token reports whether s matches RFC 6750's
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
// It reads every request's token: one table lookup a byte, eight at a time
// and without a branch each.
func isB64Token(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	var bad byte
	for ; len(body) >= 8; body = body[8:] {
		bad |= notB64Token[body[0]] | notB64Token[body[1]] | notB64Token[body[2]] | notB64Token[body[3]] |
			notB64Token[body[4]] | notB64Token[body[5]] | notB64Token[body[6]] | notB64Token[body[7]]
	}
	for i := 0; i < len(body); i++ {
		bad |= notB64Token[body[i]]
	}
	return bad == 0
}

// notB64Token is 1 for the bytes a b64token is not made of, before its "=".
var notB64Token = func() (t [256]byte) {
	for c := range 256 {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", byte(c)) >= 0) {
			t[c] = 1
		}
	}
	return t
}()
