package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/authgate/authgate/config"
)

func TestClientOf(t *testing.T) {
	var trusted config.Networks
	if err := trusted.UnmarshalText([]byte("10.0.0.0/8, 2001:db8::/32")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, peer string
		xff        []string
		client     string
		chain      string // joined with ", "
	}{
		{"untrusted peer: its X-Forwarded-For is ignored", "192.0.2.1:5000", []string{"6.6.6.6"}, "192.0.2.1", ""},
		{"trusted peer without X-Forwarded-For", "10.0.0.1:5000", nil, "10.0.0.1", ""},
		{"trusted peer: the right-most entry", "10.0.0.1:5000", []string{"203.0.113.9"}, "203.0.113.9", "203.0.113.9"},
		{"a spoofed entry left of the client is dropped", "10.0.0.1:5000", []string{"1.1.1.1, 203.0.113.9"}, "203.0.113.9", "203.0.113.9"},
		{"trusted hops are skipped", "10.0.0.1:5000", []string{"1.1.1.1, 203.0.113.9, 10.9.9.9"}, "203.0.113.9", "203.0.113.9, 10.9.9.9"},
		{"several headers are one list", "10.0.0.1:5000", []string{"1.1.1.1", "203.0.113.9", "10.9.9.9"}, "203.0.113.9", "203.0.113.9, 10.9.9.9"},
		{"all trusted: the left-most", "10.0.0.1:5000", []string{"10.2.2.2, 10.3.3.3"}, "10.2.2.2", "10.2.2.2, 10.3.3.3"},
		{"ports and brackets", "[2001:db8::5]:443", []string{"[2001:db8:ffff::9]:1, 198.51.100.4:4711"}, "198.51.100.4", "198.51.100.4:4711"},
		{"an IPv4-mapped peer is IPv4", "[::ffff:10.0.0.1]:80", []string{"203.0.113.9"}, "203.0.113.9", "203.0.113.9"},
		{"garbage stops the walk at the last trusted hop", "10.0.0.1:5000", []string{"203.0.113.9, evil, 10.4.4.4"}, "10.4.4.4", "10.4.4.4"},
		{"garbage right next to the peer: the peer", "10.0.0.1:5000", []string{"203.0.113.9, unknown"}, "10.0.0.1", ""},
		{"an empty entry stops the walk", "10.0.0.1:5000", []string{"203.0.113.9,"}, "10.0.0.1", ""},
	}
	for _, tt := range tests {
		r := &http.Request{RemoteAddr: tt.peer, Header: http.Header{"X-Forwarded-For": tt.xff}}
		c := clientOf(r, trusted)
		if c.addr.String() != tt.client || strings.Join(c.chain, ", ") != tt.chain {
			t.Errorf("%s: clientOf = %s, chain %q; want %s, %q", tt.name, c.addr, c.chain, tt.client, tt.chain)
		}
	}
	// Without trusted proxies nothing but the peer counts.
	r := &http.Request{RemoteAddr: "10.0.0.1:5000", Header: http.Header{"X-Forwarded-For": {"203.0.113.9"}}}
	if c := clientOf(r, nil); c.addr.String() != "10.0.0.1" || c.trusted {
		t.Errorf("without AUTHGATE_TRUSTED_PROXIES clientOf = %+v", c)
	}
}

// TestForwardedFromTrustedProxies: with the test client (127.0.0.1) a
// trusted proxy, the upstream gets the chain from the client on plus the
// peer, and the proxy's X-Forwarded-Host and -Proto; the access log names
// the client. Without trust, the same request's headers are replaced.
func TestForwardedFromTrustedProxies(t *testing.T) {
	send := func(f *fixture) recorded {
		t.Helper()
		req := f.request(t, "GET", "/x", nil)
		req.Host = "authgate.internal"
		req.Header.Set("X-Forwarded-For", "1.1.1.1, 203.0.113.9, 10.0.0.5")
		req.Header.Set("X-Forwarded-Host", "app.example.com")
		req.Header.Set("X-Forwarded-Proto", "https")
		addForged(req.Header)
		if resp, body := f.do(t, req); resp.StatusCode != 200 {
			t.Fatalf("status %d %s", resp.StatusCode, body)
		}
		got, reached := f.backend.take(t)
		if !reached {
			t.Fatal("the upstream was not reached")
		}
		assertNoForged(t, got)
		return got
	}
	tests := []struct {
		name, trusted            string
		xff, host, proto, client string
	}{
		{"trusted", "127.0.0.1,10.0.0.0/8", "203.0.113.9, 10.0.0.5, 127.0.0.1", "app.example.com", "https", "203.0.113.9"},
		{"trusted peer, untrusted hop", "127.0.0.1", "10.0.0.5, 127.0.0.1", "app.example.com", "https", "10.0.0.5"},
		{"untrusted", "", "127.0.0.1", "authgate.internal", "http", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := []string{"AUTHGATE_PROTECTED_PATHS=/private/*"}
			if tt.trusted != "" {
				env = append(env, "AUTHGATE_TRUSTED_PROXIES="+tt.trusted)
			}
			f := newFixture(t, true, env...)
			got := send(f)
			for name, want := range map[string]string{"X-Forwarded-For": tt.xff, "X-Forwarded-Host": tt.host, "X-Forwarded-Proto": tt.proto} {
				if v := got.Header.Values(name); len(v) != 1 || v[0] != want {
					t.Errorf("upstream %s = %q, want %q", name, v, want)
				}
			}
			if !strings.Contains(f.logs.String(), `"client":"`+tt.client+`"`) {
				t.Errorf("the access line does not name client %s:\n%s", tt.client, f.logs)
			}
		})
	}
}
