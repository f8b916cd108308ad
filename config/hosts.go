package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Hosts is a comma-separated list of host names, each with an optional
// port ("partner.example.net, admin.example.org:8443"), lower case.
type Hosts []string

// UnmarshalText parses and checks the list.
func (hs *Hosts) UnmarshalText(text []byte) error {
	var out Hosts
	var errs []error
	for _, part := range listEntries(text) {
		h := strings.ToLower(part)
		name, port := h, ""
		if n, p, err := net.SplitHostPort(h); err == nil {
			name, port = n, p
		}
		if port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				errs = append(errs, fmt.Errorf("%q has a bad port", part))
				continue
			}
		}
		if !isDNSName(name) {
			errs = append(errs, fmt.Errorf("%q must be a host name (with :port if it matters), not a URL or an address", part))
			continue
		}
		out = append(out, h)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	*hs = out
	return nil
}

// isDNSName reports whether h is a plain DNS name: labels of letters,
// digits and inner hyphens, separated by single dots, with no trailing dot
// and a last label that is not all digits (no IPv4 in any encoding).
func isDNSName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

// IsDNSName reports whether h is a plain lower-case DNS name (see Hosts).
func IsDNSName(h string) bool { return isDNSName(h) }
