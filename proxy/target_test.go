package proxy

import (
	"net/url"
	"testing"

	"github.com/authgate/authgate/config"
)

var targetCases = []struct {
	target, path, query string
	ok                  bool
}{
	{"/", "/", "", true},
	{"/a/b?c=d", "/a/b", "c=d", true},
	{"/a/b/", "/a/b/", "", true},
	{"/%61dmin", "/admin", "", true},
	{"/a%20b", "/a b", "", true},
	{"/caf%C3%A9", "/café", "", true},
	{"/a?x=/../..", "/a", "x=/../..", true},
	{"/a%3Fb", "", "", false},
	{"", "", "", false},
	{"*", "", "", false},
	{"a/b", "", "", false},
	{"http://h/a", "", "", false},
	{"//a", "", "", false},
	{"/a//b", "", "", false},
	{"/a/./b", "", "", false},
	{"/a/../b", "", "", false},
	{"/a/..", "", "", false},
	{"/a/%2e%2e", "", "", false},
	{"/a/%2E", "", "", false},
	{"/a%2fb", "", "", false},
	{"/a%5cb", "", "", false},
	{"/a\\b", "", "", false},
	{"/a;b", "", "", false},
	{"/a%3bb", "", "", false},
	{"/a%25", "", "", false},
	{"/a%2", "", "", false},
	{"/a%zz", "", "", false},
	{"/a%00", "", "", false},
	{"/a%0a", "", "", false},
	{"/a b", "", "", false},
	{"/a#b", "", "", false},
	{"/a%23b", "", "", false},
}

func TestParseTarget(t *testing.T) {
	for _, tt := range targetCases {
		path, query, err := ParseTarget(tt.target)
		if (err == nil) != tt.ok || path != tt.path || query != tt.query {
			t.Errorf("ParseTarget(%q) = %q, %q, %v; want %q, %q, ok=%v", tt.target, path, query, err, tt.path, tt.query, tt.ok)
		}
	}
}

// FuzzParseTarget checks the promise behind "the path the rules see is the
// path the upstream gets": an accepted path is canonical, and the form that
// is forwarded (the path re-encoded) parses back to the same path.
func FuzzParseTarget(f *testing.F) {
	for _, tt := range targetCases {
		f.Add(tt.target)
	}
	f.Fuzz(func(t *testing.T, target string) {
		path, _, err := ParseTarget(target)
		if err != nil {
			return
		}
		if !config.IsCanonicalPath(path) {
			t.Fatalf("ParseTarget(%q) = %q, not canonical", target, path)
		}
		forwarded := (&url.URL{Path: path}).EscapedPath()
		again, _, err := ParseTarget(forwarded)
		if err != nil || again != path {
			t.Fatalf("ParseTarget(%q) = %q, forwarded as %q, which parses to %q, %v", target, path, forwarded, again, err)
		}
		// What the upstream decodes is what the rules saw.
		if decoded, err := url.PathUnescape(forwarded); err != nil || decoded != path {
			t.Fatalf("forwarded %q decodes to %q, %v; rules saw %q", forwarded, decoded, err, path)
		}
	})
}
