package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// TrustedIssuer is one entry of AUTHGATE_TRUSTED_ISSUERS: an issuer whose
// key set is found by OIDC discovery (JWKSURL "") or at JWKSURL.
type TrustedIssuer struct {
	Issuer  string
	JWKSURL string
}

// TrustedIssuers is the comma-separated list "issuer" or "issuer=jwks-url".
type TrustedIssuers []TrustedIssuer

// UnmarshalText parses and checks the list.
func (ti *TrustedIssuers) UnmarshalText(text []byte) error {
	var out TrustedIssuers
	var errs []error
	seen := map[string]bool{}
	for _, part := range listEntries(text) {
		iss, jwks, explicit := strings.Cut(part, "=")
		iss, jwks = strings.TrimSpace(iss), strings.TrimSpace(jwks)
		switch {
		case iss == "":
			errs = append(errs, fmt.Errorf("%q has no issuer", part))
			continue
		case explicit:
			if err := CheckFetchURL(jwks); err != nil {
				errs = append(errs, fmt.Errorf("issuer %q: JWKS URL: %v", iss, err))
				continue
			}
		default:
			if err := CheckFetchURL(iss); err != nil {
				errs = append(errs, fmt.Errorf("issuer %q is found by OIDC discovery, so it must be a URL: %v (or give issuer=jwks-url)", iss, err))
				continue
			}
		}
		if seen[iss] {
			errs = append(errs, fmt.Errorf("issuer %q is listed twice", iss))
			continue
		}
		seen[iss] = true
		out = append(out, TrustedIssuer{Issuer: iss, JWKSURL: jwks})
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	*ti = out
	return nil
}

// CheckFetchURL accepts the URLs authgate fetches keys and discovery
// documents from: https, or http to a loopback host only.
func CheckFetchURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	switch {
	case u.Host == "" || u.Opaque != "":
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	case u.User != nil:
		return fmt.Errorf("%q must not carry credentials", u.Redacted())
	case u.Fragment != "":
		return fmt.Errorf("%q must not have a fragment", raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%q must use https (plain http only to a loopback host)", raw)
	}
	return fmt.Errorf("%q is not an http(s) URL", raw)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
