package proxy

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/authgate/authgate/config"
)

// client is who sent a request, as far as authgate can tell: the peer's
// address, or, when the peer is a trusted proxy, the right-most address of
// X-Forwarded-For that is not itself trusted. The throttle keys on it and
// the access log names it.
type client struct {
	addr    netip.Addr
	chain   []string // the X-Forwarded-For entries from addr up to, not including, the peer
	trusted bool     // the peer is a trusted proxy
}

// clientOf reads the client of r. Entries of X-Forwarded-For left of the
// client were written by the client itself and are dropped; so is the
// whole header of an untrusted peer. An entry that is not an address stops
// the walk: the client is then the last trusted hop read.
func clientOf(r *http.Request, trusted config.Networks) client {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return client{} // not from a network listener (tests with httptest.NewRequest)
	}
	c := client{addr: peer.Addr().Unmap()}
	if len(trusted) == 0 || !trusted.Contains(c.addr) {
		return c
	}
	c.trusted = true
	var entries []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for e := range strings.SplitSeq(v, ",") {
			entries = append(entries, strings.TrimSpace(e))
		}
	}
	for i := len(entries) - 1; i >= 0; i-- {
		a, ok := parseForwardedAddr(entries[i])
		if !ok {
			break
		}
		c.addr, c.chain = a, entries[i:]
		if !trusted.Contains(a) {
			break
		}
	}
	return c
}

// parseForwardedAddr reads one X-Forwarded-For entry: an address, with or
// without a port ("192.0.2.7", "192.0.2.7:4711", "2001:db8::1",
// "[2001:db8::1]:4711").
func parseForwardedAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}
