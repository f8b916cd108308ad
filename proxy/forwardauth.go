package proxy

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/policy"
)

// original is the request a front proxy asks about, as one source tells it.
type original struct {
	method   string // "" when the source does not name one
	host     string // "" when the source does not name one
	path     string // canonical
	url      string // the original URL as the source tells it, for a login page's rd
	dialects uint8  // of the sources present: dialectForwarded, dialectOriginal, dialectPath
}

// The dialects of forward-auth, as bits.
const (
	dialectForwarded uint8 = 1 << iota
	dialectOriginal
	dialectPath
)

var (
	errSourcesDisagree = errors.New("original-request sources disagree")
	errBadOriginal     = errors.New("malformed original-request headers")
)

// forwardAuth answers "may this request through?" for Traefik, nginx, Caddy
// and Envoy: always exactly 200 (allow, with identity headers when a token
// was checked), 401 or 403.
type forwardAuth struct {
	current    Current
	headers    *IdentityHeaders
	verifyPath string
	source     string // config.Source*
	cookie     string // AUTHGATE_COOKIE_NAME
	insecure   bool   // AUTHGATE_COOKIE_SECURE=false: original URLs default to http
	browser    *browser
}

// decide answers one auth request: 200 with the identity headers of a
// verified token (none on a public path), or the refusal as a front proxy
// takes it.
func (fa *forwardAuth) decide(w http.ResponseWriter, r *http.Request) verdict {
	orig, err := fa.originalRequest(r)
	if err != nil {
		ref := &Refusal{Status: http.StatusForbidden, Message: msgForbidden, Reason: reasonFor(err)}
		return refused(policy.RuleNoRequest, ref.forFrontProxy())
	}
	s := fa.current.Load()
	cred := ReadCredential(r.Header, fa.cookie)
	o := Decide(r.Context(), s.Rules, s.Verifier, policy.Request{Method: orig.method, Host: orig.host, Path: orig.path}, cred)
	if o.Refusal != nil {
		o.Refusal = o.Refusal.forFrontProxy()
		// Traefik and Caddy pass any answer on to the browser, so theirs is
		// sent to the login page; nginx and Envoy take only 401 and 403, so
		// theirs gets X-Auth-Redirect, which the nginx snippet turns into
		// the redirect.
		fa.browser.toLogin(r, orig.method, cred, o.Refusal, orig.url, orig.dialects != dialectForwarded)
	}
	id := o.Identity // the closure holds the identity, not all of o
	return o.verdict(func(w http.ResponseWriter) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		if id != nil {
			fa.headers.Set(h, *id)
		}
		w.WriteHeader(http.StatusOK)
	})
}

func reasonFor(err error) string {
	if errors.Is(err, errSourcesDisagree) {
		return "sources_disagree"
	}
	return "bad_original_request"
}

// originalRequest reads the original request from the trusted source
// (the others are not even read), or, in auto mode, from every source
// present, which must then agree on method, host (where named) and path. No
// source at all gives an empty path, which the rules treat as protected.
func (fa *forwardAuth) originalRequest(r *http.Request) (original, error) {
	var buf [3]original
	found := buf[:0]
	sources := [...]struct {
		name string
		read func(*http.Request) (original, bool, error)
	}{{config.SourceForwarded, fa.fromForwarded}, {config.SourceOriginal, fa.fromOriginal}, {config.SourcePath, fa.fromPath}}
	for _, src := range sources {
		if fa.source != config.SourceAuto && fa.source != src.name {
			continue
		}
		o, present, err := src.read(r)
		if err != nil {
			return original{}, err
		}
		if present {
			found = append(found, o)
		}
	}
	var out original
	for i, o := range found {
		if i > 0 && o.path != out.path {
			return original{}, errSourcesDisagree
		}
		out.path, out.dialects = o.path, out.dialects|o.dialects
		if out.url == "" {
			out.url = o.url
		}
		if o.method != "" {
			if out.method != "" && out.method != o.method {
				return original{}, errSourcesDisagree
			}
			out.method = o.method
		}
		if o.host != "" {
			if out.host != "" && !strings.EqualFold(out.host, o.host) {
				return original{}, errSourcesDisagree
			}
			out.host = o.host
		}
	}
	if out.method == "" {
		out.method = r.Method
	}
	if out.host == "" {
		out.host = r.Host
	}
	return out, nil
}

// fromForwarded reads X-Forwarded-Method, -Uri and -Host (Traefik, Caddy).
func (fa *forwardAuth) fromForwarded(r *http.Request) (original, bool, error) {
	uri, hasURI, err1 := single(r.Header, "X-Forwarded-Uri")
	method, hasMethod, err2 := single(r.Header, "X-Forwarded-Method")
	host, _, err3 := single(r.Header, "X-Forwarded-Host")
	if err := errors.Join(err1, err2, err3); err != nil {
		return original{}, false, errBadOriginal
	}
	if !hasURI && !hasMethod {
		return original{}, false, nil
	}
	if !hasURI || uri == "" || !validMethod(method, hasMethod) {
		return original{}, false, errBadOriginal
	}
	path, _, err := ParseTarget(uri)
	if err != nil {
		return original{}, false, errBadOriginal
	}
	proto, _, _ := single(r.Header, "X-Forwarded-Proto")
	site := host
	if site == "" {
		site = r.Host
	}
	return original{method: method, host: host, path: path, url: fa.scheme(proto) + "://" + site + uri, dialects: dialectForwarded}, true, nil
}

// scheme is proto when it is http or https, else the scheme the session
// cookie implies (https unless AUTHGATE_COOKIE_SECURE=false).
func (fa *forwardAuth) scheme(proto string) string {
	if proto == "http" || proto == "https" {
		return proto
	}
	if fa.insecure {
		return "http"
	}
	return "https"
}

// fromOriginal reads X-Original-Method with X-Original-URI (nginx) or
// X-Original-URL (ingress-nginx, a full URL); when both are sent they must
// name the same path.
func (fa *forwardAuth) fromOriginal(r *http.Request) (original, bool, error) {
	uri, hasURI, err1 := single(r.Header, "X-Original-Uri")
	full, hasURL, err2 := single(r.Header, "X-Original-Url")
	method, hasMethod, err3 := single(r.Header, "X-Original-Method")
	if err := errors.Join(err1, err2, err3); err != nil {
		return original{}, false, errBadOriginal
	}
	if !hasURI && !hasURL && !hasMethod {
		return original{}, false, nil
	}
	if !hasURI && !hasURL || !validMethod(method, hasMethod) {
		return original{}, false, errBadOriginal
	}
	o := original{method: method, dialects: dialectOriginal}
	if hasURL {
		host, path, err := splitFullURL(full)
		if err != nil {
			return original{}, false, errBadOriginal
		}
		o.host, o.path, o.url = host, path, full
	}
	if hasURI {
		path, _, err := ParseTarget(uri)
		if err != nil {
			return original{}, false, errBadOriginal
		}
		if hasURL && path != o.path {
			return original{}, false, errSourcesDisagree
		}
		o.path = path
		if !hasURL {
			proto, _, _ := single(r.Header, "X-Forwarded-Proto")
			o.url = fa.scheme(proto) + "://" + r.Host + uri
		}
	}
	return o, true, nil
}

// splitFullURL reads an absolute http(s) URL (ingress-nginx's
// X-Original-URL) as its host and canonical path. Everything after the
// authority is held to the rules of a request target (ParseTarget): a
// fragment, a backslash, an encoded slash or a dot segment is refused
// here as on the request line, rather than dropped or cleaned by a URL
// parser and then decided as some other path.
func splitFullURL(full string) (host, path string, err error) {
	scheme, rest, ok := strings.Cut(full, "://")
	if !ok || !strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") {
		return "", "", errBadOriginal
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, target := rest[:end], rest[end:]
	u, err := url.Parse(scheme + "://" + authority)
	if err != nil || u.Host == "" || u.User != nil || u.Host != authority {
		return "", "", errBadOriginal
	}
	switch {
	case target == "":
		target = "/"
	case target[0] == '?':
		target = "/" + target
	}
	if path, _, err = ParseTarget(target); err != nil {
		return "", "", errBadOriginal
	}
	return u.Host, path, nil
}

// fromPath reads the path after the verify path: /auth/admin/x asks about
// /admin/x (Envoy ext_authz path_prefix, nginx proxy_pass …/auth$request_uri).
// It names no method: the request's own method is used.
func (fa *forwardAuth) fromPath(r *http.Request) (original, bool, error) {
	rest, ok := strings.CutPrefix(r.URL.Path, fa.verifyPath)
	if !ok || rest == "" {
		return original{}, false, nil
	}
	u := fa.scheme("") + "://" + r.Host + rest
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	return original{path: rest, url: u, dialects: dialectPath}, true, nil
}

// single returns the one value of a header and whether it was sent; a header
// sent more than once is an error, not a choice between its values.
func single(h http.Header, name string) (v string, present bool, err error) {
	switch vs := h.Values(name); len(vs) {
	case 0:
		return "", false, nil
	case 1:
		return vs[0], true, nil
	}
	return "", true, errBadOriginal
}

func validMethod(m string, present bool) bool {
	if !present {
		return true
	}
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; (c < 'A' || c > 'Z') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}
