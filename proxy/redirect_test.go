package proxy

import (
	"net/url"
	"strings"
	"testing"
)

var testRedirects = redirects{cookieDomain: "example.com", allowed: []string{"partner.example.net", "admin.example.org:8443"}}

// redirectCases are rd values and whether they are honoured (with the
// cookie Secure, so https only). Each refused one is a way an open
// redirect has been made somewhere.
var redirectCases = []struct {
	rd string
	ok bool
}{
	// Same origin.
	{"/", true},
	{"/dashboard", true},
	{"/dashboard?tab=1#top", true},
	{"/a/b/../c", true},
	{"/@evil.example", true}, // a path, on the login page's origin
	{"/path?next=//evil.example", true},
	{"//evil.example", false},
	{"///evil.example", false},
	{"//evil.example/%2f..", false},
	{"/\\evil.example", false},
	{"\\/evil.example", false},
	{"\\\\evil.example", false},
	{"/%2fevil.example", false},
	{"/%2Fevil.example", false},
	{"/%5cevil.example", false},
	{"/%5Cevil.example", false},
	{"/\t/evil.example", false},
	{"/\n/evil.example", false},
	{"/\r\n/evil.example", false},
	{"\t//evil.example", false},
	{" /dashboard", false},
	{"/dash board", false},
	{"/\x00", false},
	{"/\x7f", false},
	{"/dashboard\r\nSet-Cookie: x=1", false},
	{"/caf\u00e9", false}, // non-ASCII: percent-encode it
	{"/caf%C3%A9", true},
	{"/0%0X000", false}, // found by FuzzRedirect: a malformed escape
	{"/100%", false},
	{"", false},
	{"dashboard", false},
	{"?next=/x", false},
	{"#/x", false},
	{".", false},
	{"../x", false},
	// Absolute, allowed.
	{"https://example.com/", true},
	{"https://app.example.com/dashboard", true},
	{"https://a.b.example.com/x?y=1", true},
	{"HTTPS://App.Example.COM/x", true},
	{"https://app.example.com:8443/x", true},
	{"https://partner.example.net/cb", true},
	{"https://admin.example.org:8443/", true},
	{"https://AdmiN.eXAmple.org:8443", true}, // host names are case-insensitive; FuzzRedirect found the oracle's case-sensitive check
	// Absolute, refused.
	{"https://evil.example/", false},
	{"https://app.example.com.evil.example/", false},
	{"https://evilexample.com/", false},
	{"https://example.com.evil.example/", false},
	{"https://example.com@evil.example/", false},
	{"https://user:pw@app.example.com/", false},
	{"https://evil.example\\@app.example.com/", false},
	{"https://evil.example#@app.example.com/", false},
	{"https://evil.example?@app.example.com/", false},
	{"https://evil.example%2f@app.example.com/", false},
	{"https://app%2eexample.com/", false},
	{"https://app.example%2ecom/", false},
	{"https://app.example.com%2f@evil.example/", false},
	{"https://app.example.com./", false},
	{"https://app..example.com/", false},
	{"https://.example.com/", false},
	{"https://app.example\u3002com/", false}, // full-width ideographic full stop
	{"https://app.example\uff0ecom/", false}, // full-width full stop
	{"https://xn--exmple-cua.com/", false},
	{"https://ex\u0430mple.com/", false}, // Cyrillic а
	{"https:app.example.com/", false},
	{"https:/app.example.com/", false},
	{"https:\\\\app.example.com/", false},
	{"https:/\\app.example.com/", false},
	{"http://app.example.com/", false}, // the cookie is Secure
	{"admin.example.org:8443/", false},
	{"https://admin.example.org/", false}, // allowed only on port 8443
	{"https://admin.example.org:9443/", false},
	{"https://partner.example.net.evil.example/", false},
	{"https://127.0.0.1/", false},
	{"https://2130706433/", false},
	{"https://0x7f.1/", false},
	{"https://0177.0.0.1/", false},
	{"https://[::1]/", false},
	{"https://[::ffff:127.0.0.1]/", false},
	{"https://example.com\t.evil.example/", false},
	{"https://exam\nple.com/", false},
	{"ftp://app.example.com/", false},
	{"javascript:alert(1)", false},
	{"JavaScript:alert(1)", false},
	{"java\tscript:alert(1)", false},
	{"javascript://app.example.com/%0aalert(1)", false},
	{"data:text/html,<script>alert(1)</script>", false},
	{"vbscript:msgbox(1)", false},
	{"file:///etc/passwd", false},
	{"//app.example.com/", false}, // protocol-relative, even to an allowed host
	{"https://" + strings.Repeat("a", 2100) + ".example.com/", false},
}

func TestRedirectValidation(t *testing.T) {
	for _, tt := range redirectCases {
		want := tt.rd
		if !tt.ok {
			want = "/"
		}
		if got := testRedirects.safe(tt.rd); got != want {
			t.Errorf("safe(%q) = %q, want %q", tt.rd, got, want)
		}
	}
	// With a cookie that is not Secure, http:// targets are honoured too;
	// without a cookie domain, only the allowed hosts.
	plain := redirects{cookieDomain: "example.com", allowHTTP: true}
	for rd, ok := range map[string]bool{"http://app.example.com/": true, "https://app.example.com/": true, "http://evil.example/": false} {
		if plain.ok(rd) != ok {
			t.Errorf("allowHTTP: ok(%q) = %v, want %v", rd, !ok, ok)
		}
	}
	none := redirects{allowed: []string{"only.example"}}
	for rd, ok := range map[string]bool{"https://only.example/": true, "https://example.com/": false, "https://x.only.example/": false, "/x": true} {
		if none.ok(rd) != ok {
			t.Errorf("no cookie domain: ok(%q) = %v, want %v", rd, !ok, ok)
		}
	}
}

// FuzzRedirect: whatever is honoured, resolved by a URL parser against the
// login page as a browser would, lands on the login page's origin or on an
// allowed host, over https.
func FuzzRedirect(f *testing.F) {
	for _, tt := range redirectCases {
		f.Add(tt.rd)
	}
	login, _ := url.Parse("https://auth.login.test/login")
	f.Fuzz(func(t *testing.T, rd string) {
		got := testRedirects.safe(rd)
		if got != rd && got != "/" {
			t.Fatalf("safe(%q) = %q: it returns rd or /", rd, got)
		}
		ref, err := url.Parse(got)
		if err != nil {
			t.Fatalf("safe(%q) = %q, which does not parse: %v", rd, got, err)
		}
		dest := login.ResolveReference(ref)
		if dest.Host == login.Host {
			return
		}
		if dest.Scheme != "https" || dest.User != nil {
			t.Fatalf("safe(%q) sends the browser to %s", rd, dest)
		}
		host := strings.ToLower(dest.Hostname())
		if !(host == "example.com" || strings.HasSuffix(host, ".example.com") || host == "partner.example.net" || host == "admin.example.org" && dest.Port() == "8443") {
			t.Fatalf("safe(%q) sends the browser to %s, not an allowed host", rd, dest)
		}
		for _, c := range got {
			if c < ' ' || c == 0x7f || c > 0x7e || c == '\\' {
				t.Fatalf("safe(%q) kept %q", rd, c)
			}
		}
	})
}
