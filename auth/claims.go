package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/golang-jwt/jwt/v5"
)

// maxUnixTime is 9999-12-31T23:59:59Z: a time claim beyond it is not a date
// anybody meant, and larger values overflow time.Time arithmetic.
const maxUnixTime = 253402300799

// reservedClaims are set by authgate when it issues a token; a user's extra
// claims and `authgate token --claim` may not override them.
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true,
	"jti": true, "username": true, "sid": true,
}

// claims is the payload of a token being verified. It implements
// jwt.Claims so that golang-jwt's validator checks exp, nbf, iat, iss and aud,
// while UnmarshalJSON decodes strictly (see DecodeObject) and checks the type
// and range of every registered claim.
type claims struct {
	all           Claims
	sub, iss      string
	jti, sid      string
	aud           jwt.ClaimStrings
	exp, nbf, iat *jwt.NumericDate
}

var errBadClaims = errors.New("bad claims")

func (c *claims) UnmarshalJSON(data []byte) error {
	all, err := decodeClaims(data)
	if err != nil {
		return err
	}
	c.all = all
	v, _ := all.field("sub")
	sub := v.Text()
	if v.Kind() != ClaimString || sub == "" {
		return fmt.Errorf("%w: sub must be a non-empty string", errBadClaims)
	}
	// The subject goes into X-Auth-Subject as it is: it must survive as a
	// header value unchanged, so no space at either end and no control
	// characters (" " would reach the upstream as an empty subject).
	if strings.TrimSpace(sub) != sub || strings.ContainsFunc(sub, unicode.IsControl) {
		return fmt.Errorf("%w: sub has whitespace at an end or a control character", errBadClaims)
	}
	c.sub = sub
	for _, f := range [...]struct {
		name string
		dst  *string
	}{{"iss", &c.iss}, {"jti", &c.jti}} {
		if v, found := all.field(f.name); found {
			if v.Kind() != ClaimString {
				return fmt.Errorf("%w: %s must be a string", errBadClaims, f.name)
			}
			*f.dst = v.Text()
		}
	}
	if v, _ := all.field("sid"); v.Kind() == ClaimString {
		c.sid = v.Text() // OIDC's session id; other types are left to the claims
	}
	if v, found := all.field("aud"); found {
		if c.aud, err = audience(v); err != nil {
			return err
		}
	}
	times := [...]struct {
		name string
		dst  **jwt.NumericDate
	}{{"exp", &c.exp}, {"nbf", &c.nbf}, {"iat", &c.iat}}
	for _, t := range times {
		if v, found := all.field(t.name); found {
			if *t.dst, err = numericDate(t.name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func audience(v ClaimValue) (jwt.ClaimStrings, error) {
	switch v.Kind() {
	case ClaimString:
		return jwt.ClaimStrings{v.Text()}, nil
	case ClaimArray:
		out := make(jwt.ClaimStrings, 0, v.Len())
		for i := range v.Len() {
			e := v.Index(i)
			if e.Kind() != ClaimString {
				return nil, fmt.Errorf("%w: aud must be a string or an array of strings", errBadClaims)
			}
			out = append(out, e.Text())
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: aud must be a string or an array of strings", errBadClaims)
}

// numericDate accepts a JSON number of seconds since the epoch between 0 and
// year 9999; strings, booleans, negative and absurd values are errors.
func numericDate(name string, v ClaimValue) (*jwt.NumericDate, error) {
	if v.Kind() != ClaimNumber {
		return nil, fmt.Errorf("%w: %s must be a number", errBadClaims, name)
	}
	f, err := json.Number(v.Text()).Float64()
	if err != nil || math.IsNaN(f) || f < 0 || f > maxUnixTime {
		return nil, fmt.Errorf("%w: %s is not a sane time", errBadClaims, name)
	}
	sec, frac := math.Modf(f)
	return jwt.NewNumericDate(time.Unix(int64(sec), int64(frac*1e9))), nil
}

func (c *claims) GetExpirationTime() (*jwt.NumericDate, error) { return c.exp, nil }
func (c *claims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.iat, nil }
func (c *claims) GetNotBefore() (*jwt.NumericDate, error)      { return c.nbf, nil }
func (c *claims) GetIssuer() (string, error)                   { return c.iss, nil }
func (c *claims) GetSubject() (string, error)                  { return c.sub, nil }
func (c *claims) GetAudience() (jwt.ClaimStrings, error)       { return c.aud, nil }
