package proxy

import (
	"errors"
	"net/http"
	"strings"

	"github.com/authgate/authgate/config"
)

// Why a request target is refused. authgate matches rules against the
// decoded path and forwards exactly that path, re-encoded; anything that a
// server behind it could read as another path is refused instead of guessed.
var (
	errNotOriginForm = errors.New("the request target must be a path starting with /")
	errBadEscape     = errors.New("bad percent-encoding")
	errAmbiguousByte = errors.New("encoded /, \\, %, ;, ? or # or a control character")
	errNotCanonical  = errors.New("//, . or .. segment")
)

// ParseTarget reads a request target in origin form (path and optional
// query, as in the request line or X-Forwarded-Uri) and returns its decoded
// path, which config.IsCanonicalPath accepts, and its raw query.
//
// Refused: absolute-form (http://host/x), authority-form and *; a fragment;
// backslashes, semicolons (path parameters that Tomcat and Spring strip),
// raw spaces, and control characters raw or percent-encoded; encoded slashes and
// percent signs (double encoding); and, after decoding, empty, "." and ".."
// segments. %2e%2e is a ".." segment. Other percent-escapes are decoded, so
// /%61dmin is /admin to the rules and reaches the upstream as /admin.
func ParseTarget(target string) (path, rawQuery string, err error) {
	rawPath, rawQuery, _ := strings.Cut(target, "?")
	if !strings.HasPrefix(rawPath, "/") {
		return "", "", errNotOriginForm
	}
	if !strings.ContainsAny(rawPath, "%;\\#") && !hasControlOrSpace(rawPath) {
		path = rawPath // the common case: nothing to decode
	} else {
		var b strings.Builder
		b.Grow(len(rawPath))
		for i := 0; i < len(rawPath); i++ {
			c, escaped := rawPath[i], false
			if c == '%' {
				if i+2 >= len(rawPath) || !isHex(rawPath[i+1]) || !isHex(rawPath[i+2]) {
					return "", "", errBadEscape
				}
				c = unhex(rawPath[i+1])<<4 | unhex(rawPath[i+2])
				i += 2
				escaped = true
				if c == '/' || c == '%' || c == '?' {
					return "", "", errAmbiguousByte
				}
			}
			// An encoded space (%20) is a plain character; a raw one is not.
			if c == '\\' || c == ';' || c == '#' || c < ' ' || c == ' ' && !escaped || c == 0x7f {
				return "", "", errAmbiguousByte
			}
			b.WriteByte(c)
		}
		path = b.String()
	}
	if !config.IsCanonicalPath(path) {
		return "", "", errNotCanonical
	}
	return path, rawQuery, nil
}

// BadTarget is the refusal of a request target that ParseTarget refused
// with err.
func BadTarget(err error) *Refusal {
	return &Refusal{Status: http.StatusBadRequest, Message: msgBadPath, Reason: "bad_path", Detail: err.Error()}
}

func hasControlOrSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return true
		}
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
