package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Networks is a comma-separated list of CIDRs ("10.0.0.0/8, fd00::/8");
// a bare address is a network of one ("192.0.2.7" is 192.0.2.7/32).
type Networks []netip.Prefix

// UnmarshalText parses and checks the list. A network of every address
// (0.0.0.0/0, ::/0) is refused: trust is never "everyone".
func (ns *Networks) UnmarshalText(text []byte) error {
	var out Networks
	var errs []error
	for _, part := range listEntries(text) {
		var p netip.Prefix
		var err error
		if strings.Contains(part, "/") {
			p, err = netip.ParsePrefix(part)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(part); err == nil && a.Zone() != "" {
				errs = append(errs, fmt.Errorf("%q: give the address without a zone", part))
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an address", part))
			continue
		case p.Bits() == 0:
			errs = append(errs, fmt.Errorf("%q trusts every address; list the networks of your proxies and load balancers", part))
			continue
		}
		out = append(out, p.Masked())
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	*ns = out
	return nil
}

// Contains reports whether a is in one of the networks. An IPv4 address
// written as IPv6 (::ffff:192.0.2.7) is the IPv4 address.
func (ns Networks) Contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ns {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
