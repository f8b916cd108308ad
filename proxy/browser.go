package proxy

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/authgate/authgate/config"
)

//go:embed login.html
var loginHTML string

// browser is the flow for people in a browser: the login page, the session
// cookie a login from it sets, and where they are sent afterwards.
type browser struct {
	csp       string
	cookie    string        // AUTHGATE_COOKIE_NAME
	domain    string        // AUTHGATE_COOKIE_DOMAIN; "" for a host-only cookie
	secure    bool          // AUTHGATE_COOKIE_SECURE
	ttl       time.Duration // AUTHGATE_SESSION_TTL: of the cookie and its token
	redirects redirects
	loginPath string
	loginURL  *url.URL // AUTHGATE_LOGIN_URL; nil: nothing redirects to the login page
	csrf      *http.CrossOriginProtection
}

func newBrowser(cfg config.Config) *browser {
	return &browser{
		csp:       contentSecurityPolicy(loginHTML),
		cookie:    cfg.CookieName,
		domain:    cfg.CookieDomain,
		secure:    cfg.CookieSecure,
		ttl:       cfg.SessionTTL,
		redirects: redirects{cookieDomain: cfg.CookieDomain, allowed: cfg.AllowedRedirectHosts, allowHTTP: !cfg.CookieSecure},
		loginPath: cfg.LoginPath,
		loginURL:  cfg.LoginURL,
		csrf:      http.NewCrossOriginProtection(),
	}
}

// contentSecurityPolicy allows the page nothing but its own one style
// element (by its hash) and posting its form to its own origin.
func contentSecurityPolicy(page string) string {
	_, rest, _ := strings.Cut(page, "<style>")
	style, _, _ := strings.Cut(rest, "</style>")
	sum := sha256.Sum256([]byte(style))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}

// wantsHTML reports whether a request is a browser's: a navigation or a
// form post, whose Accept names text/html.
func wantsHTML(r *http.Request) bool {
	for _, a := range r.Header.Values("Accept") {
		if strings.Contains(a, "text/html") {
			return true
		}
	}
	return false
}

// loginPage is what the login page shows.
type loginPage struct {
	Site     string // where the person is going, for "to continue to …"
	Action   string
	RD       string
	Username string
	Message  string
}

// page returns the login page for a request and its rd: the form, with
// message when there is one.
func (b *browser) pageFor(r *http.Request, rd, username, message string) loginPage {
	site := r.Host
	if u, err := url.Parse(b.redirects.safe(rd)); err == nil && u.Host != "" {
		site = u.Host
	}
	return loginPage{Site: site, Action: b.loginPath, RD: rd, Username: username, Message: message}
}

// render writes the login page with status, not cached, in no frame, and
// with a policy that lets it load nothing.
func (b *browser) render(w http.ResponseWriter, status int, p loginPage) {
	body := p.html()
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", b.csp)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// html is the login page filled in: every value HTML-escaped (which is
// enough for text and for double-quoted attribute values, the only places
// values go; the form's action is authgate's own login path, never a
// client's value), in one pass, so that a value that looks like a
// placeholder stays text. Not html/template: text/template's calls of methods by name
// keep the linker from dropping any exported method of the binary, and
// made it 8 MB larger (go-redis's hundreds of commands, mostly).
func (p loginPage) html() string {
	e := html.EscapeString
	var errorLine, describedBy, userFocus, passFocus string
	if p.Message != "" {
		errorLine = `<p class="error" role="alert" id="error">` + e(p.Message) + `</p>`
		describedBy = ` aria-describedby="error"`
	}
	if p.Username == "" {
		userFocus = " autofocus"
	} else {
		passFocus = " autofocus"
	}
	return strings.NewReplacer(
		"{{site}}", e(p.Site), "{{error}}", errorLine, "{{action}}", e(p.Action),
		"{{describedby}}", describedBy, "{{rd}}", e(p.RD), "{{username}}", e(p.Username),
		"{{userfocus}}", userFocus, "{{passfocus}}", passFocus,
	).Replace(loginHTML)
}

// setCookie sets the session cookie to token.
func (b *browser) setCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: b.cookie, Value: token, Path: "/", Domain: b.domain, MaxAge: int(b.ttl.Seconds()),
		HttpOnly: true, Secure: b.secure, SameSite: http.SameSiteLaxMode,
	})
}

// clearCookie removes the session cookie: the same name, path and domain.
func (b *browser) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: b.cookie, Value: "", Path: "/", Domain: b.domain, MaxAge: -1,
		HttpOnly: true, Secure: b.secure, SameSite: http.SameSiteLaxMode,
	})
}

// loginPage is where a browser goes to log in: AUTHGATE_LOGIN_URL, or the
// login path on this origin.
func (b *browser) loginPage() string {
	if b.loginURL != nil {
		return b.loginURL.String()
	}
	return b.loginPath
}

// seeFound sends a browser to the login page: 302.
func seeFound(w http.ResponseWriter, target string) {
	w.Header().Set("Location", target)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// seeOther answers a form post with 303 to target.
func seeOther(w http.ResponseWriter, target string) {
	w.Header().Set("Location", target)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
}

// toLogin turns a 401 for a browser into the way to the login page, when
// AUTHGATE_LOGIN_URL is set: the request wants HTML (GET or HEAD, Accept
// names text/html) and presented no token, or a session cookie that no
// longer works (an expired browser session). A request with an
// Authorization header is an API client's, whatever it accepts: its 401,
// like every 403, is left alone. The answer is a 302 to the login page, or,
// byHeader, the 401 with X-Auth-Redirect. The Location is always
// AUTHGATE_LOGIN_URL, with the original URL as its rd (only its path and
// query when it is on the login page's origin), which the login validates
// when it completes.
func (b *browser) toLogin(r *http.Request, method string, cred Credential, ref *Refusal, original string, byHeader bool) {
	if b.loginURL == nil || ref.Status != http.StatusUnauthorized || cred.Token != "" && !cred.Cookie ||
		len(r.Header.Values("Authorization")) > 0 || method != http.MethodGet && method != http.MethodHead || !wantsHTML(r) {
		return
	}
	u := *b.loginURL
	// On the login page's own origin the rd is a path, which needs no
	// allowed host to be honoured.
	if origin := u.Scheme + "://" + u.Host; len(original) > len(origin) && strings.EqualFold(original[:len(origin)], origin) && original[len(origin)] == '/' {
		original = original[len(origin):]
	}
	q := u.Query()
	q.Set("rd", original)
	u.RawQuery = q.Encode()
	ref.loginRedirect, ref.redirectByHeader = u.String(), byHeader
}

// originalURL is the URL a browser asked proxy mode for: the scheme and host
// a trusted proxy says, else authgate's own view.
func originalURL(r *http.Request, trusted config.Networks) string {
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if clientOf(r, trusted).trusted {
		if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
			scheme = p
		}
		if h := r.Header.Get("X-Forwarded-Host"); h != "" {
			host = h
		}
	}
	return scheme + "://" + host + r.URL.RequestURI()
}
