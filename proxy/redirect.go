package proxy

import (
	"net"
	"net/url"
	"strings"

	"github.com/authgate/authgate/config"
)

// redirects decides where a browser may be sent back to after a login or
// a logout: the rd parameter, which anyone can craft.
type redirects struct {
	cookieDomain string   // AUTHGATE_COOKIE_DOMAIN, lower case, no leading dot; "" for none
	allowed      []string // AUTHGATE_ALLOWED_REDIRECT_HOSTS: "host" or "host:port", lower case
	allowHTTP    bool     // the cookie is not Secure: http:// targets too
}

// safe returns rd when it is a target the browser may be sent to, else
// "/" (the login page's own origin). Honoured are only:
//
//   - a path on the login page's origin: one "/" and then not "/" (a
//     "//host" is another origin to a browser);
//   - an absolute https URL (http too when the cookie is not Secure) whose
//     host is the cookie domain, below it, or an allowed host.
//
// Anything a browser or a server might read differently from this function
// is refused rather than understood: control characters and whitespace
// (browsers drop tabs and newlines, so "/\t/evil.example" is "//evil.example"
// to them), backslashes (read as "/"), non-ASCII (full-width dots and other
// IDN tricks), percent-encoded slashes, backslashes and dots, userinfo, and
// every other scheme.
func (rp redirects) safe(rd string) string {
	if rp.ok(rd) {
		return rd
	}
	return "/"
}

func (rp redirects) ok(rd string) bool {
	if rd == "" || len(rd) > 2048 {
		return false
	}
	for i := 0; i < len(rd); i++ {
		if c := rd[i]; c <= ' ' || c == 0x7f || c >= 0x80 || c == '\\' {
			return false
		}
	}
	lower := strings.ToLower(rd)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
		return false
	}
	u, err := url.Parse(rd)
	if err != nil {
		return false // a malformed escape is read one way here, another there
	}
	if rd[0] == '/' {
		return len(rd) == 1 || rd[1] != '/'
	}
	if u.Opaque != "" || u.User != nil || u.Host == "" {
		return false
	}
	if !strings.HasPrefix(lower, u.Scheme+"://") {
		return false // "https:host" or "https:/host": not the form browsers agree on
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !rp.allowHTTP {
			return false
		}
	default:
		return false
	}
	return rp.hostAllowed(u.Host)
}

// hostAllowed reports whether an absolute target's host (with its port,
// if any) is the cookie domain, a name below it, or an allowed host.
func (rp redirects) hostAllowed(hostport string) bool {
	host, port := hostport, ""
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	}
	host = strings.ToLower(host)
	if !config.IsDNSName(host) {
		return false // IP literals and encodings, trailing dots, empty labels, %-escapes
	}
	for _, a := range rp.allowed {
		aHost, aPort := a, ""
		if h, p, err := net.SplitHostPort(a); err == nil {
			aHost, aPort = h, p
		}
		if host == aHost && (aPort == "" || aPort == port) {
			return true
		}
	}
	d := rp.cookieDomain
	return d != "" && (host == d || strings.HasSuffix(host, "."+d))
}
