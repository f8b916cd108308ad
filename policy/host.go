package policy

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// hostMatches compares a request's Host with rule hosts: case-insensitive,
// without a trailing dot, and without the port unless the rule names one.
func hostMatches(hosts []string, requestHost string) bool {
	h := strings.ToLower(requestHost)
	name, port, err := net.SplitHostPort(h)
	if err != nil {
		name, port = h, ""
	}
	name = strings.TrimSuffix(strings.Trim(name, "[]"), ".")
	for _, want := range hosts {
		wantName, wantPort, err := net.SplitHostPort(want)
		if err != nil {
			if want == name {
				return true
			}
			continue
		}
		if strings.Trim(wantName, "[]") == name && wantPort == port {
			return true
		}
	}
	return false
}

// normalizeHost checks a rule's host and returns it in the form hostMatches
// compares: lower case, no trailing dot.
func normalizeHost(h string) (string, error) {
	h = strings.ToLower(strings.TrimSpace(h))
	name, port, err := net.SplitHostPort(h)
	if err != nil {
		name, port = h, ""
	}
	name = strings.TrimSuffix(name, ".")
	if ip := net.ParseIP(strings.Trim(name, "[]")); ip == nil && (name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "") {
		return "", fmt.Errorf("%q is not a host name (write the name, with :port if it matters)", h)
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("%q has a bad port", h)
		}
		return net.JoinHostPort(strings.Trim(name, "[]"), port), nil
	}
	return strings.Trim(name, "[]"), nil
}
