// Package auth verifies and issues authgate's tokens and checks user
// credentials: the Verifier, the Issuer, the Identity a verified token
// yields, key sets, the users file and password hashes.
package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MaxTokenBytes is the longest token authgate reads; a longer one is invalid.
const MaxTokenBytes = 8 << 10

// Identity is what a verified token says about its bearer.
type Identity struct {
	Subject   string
	IssuedAt  time.Time // zero when the token has no iat
	ExpiresAt time.Time
	Claims    map[string]any // every claim of the token, numbers as json.Number
}

// Claim returns the claim at a dotted path such as "realm_access.roles".
// A claim whose own name contains the dot is found too.
func (id Identity) Claim(path string) (any, bool) {
	if v, ok := id.Claims[path]; ok {
		return v, true
	}
	var cur any = id.Claims
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// VerifierOptions are the claim checks every token must pass.
type VerifierOptions struct {
	Issuer   string        // required value of iss
	Audience string        // when set, aud must contain it
	Leeway   time.Duration // clock skew allowed on exp, nbf and iat
	Now      func() time.Time
}

// Verifier checks tokens against a key set. Its algorithm allowlist comes
// from the keys and cannot be switched off.
type Verifier struct {
	keys   *KeySet
	parser *jwt.Parser
}

// NewVerifier returns a Verifier for the keys in ks.
func NewVerifier(ks *KeySet, o VerifierOptions) (*Verifier, error) {
	if o.Issuer == "" {
		return nil, errors.New("the verifier needs an issuer")
	}
	algs := ks.Algorithms()
	if len(algs) == 0 {
		return nil, errors.New("no verification keys are configured")
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(algs),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(o.Issuer),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(o.Leeway),
		jwt.WithStrictDecoding(),
	}
	if o.Audience != "" {
		opts = append(opts, jwt.WithAudience(o.Audience))
	}
	if o.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(o.Now))
	}
	return &Verifier{keys: ks, parser: jwt.NewParser(opts...)}, nil
}

// Verify checks raw and returns the identity it carries. Errors match
// ErrTokenExpired or ErrInvalidToken with errors.Is; a *TokenError gives the
// reason.
func (v *Verifier) Verify(ctx context.Context, raw string) (Identity, error) {
	if len(raw) > MaxTokenBytes {
		return Identity{}, newTokenError(ErrInvalidToken, ReasonMalformed, fmt.Errorf("token is %d bytes, over %d", len(raw), MaxTokenBytes))
	}
	alg, kid, err := v.checkHeader(raw)
	if err != nil {
		return Identity{}, err
	}
	key, err := v.keys.lookup(alg, kid)
	if err != nil {
		return Identity{}, err
	}
	var c claims
	tok, err := v.parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		if t.Method.Alg() != alg {
			return nil, newTokenError(ErrInvalidToken, ReasonBadAlgorithm, errors.New("alg changed between reads"))
		}
		return key, nil
	})
	if err != nil {
		return Identity{}, classify(err)
	}
	if !tok.Valid {
		return Identity{}, newTokenError(ErrInvalidToken, ReasonMalformed, errors.New("token not valid"))
	}
	id := Identity{Subject: c.sub, Claims: c.all, ExpiresAt: c.exp.Time}
	if c.iat != nil {
		id.IssuedAt = c.iat.Time
	}
	return id, nil
}

// checkHeader decodes the JOSE header strictly and applies the checks that
// golang-jwt leaves to us: unique member names, an allowed alg, a known typ,
// no crit extension, and a string kid. jku, x5u, jwk and x5c are never read.
func (v *Verifier) checkHeader(raw string) (alg, kid string, err error) {
	bad := func(reason string, format string, args ...any) (string, string, error) {
		return "", "", newTokenError(ErrInvalidToken, reason, fmt.Errorf(format, args...))
	}
	seg, _, ok := strings.Cut(raw, ".")
	if !ok {
		return bad(ReasonMalformed, "token has no header segment")
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		return bad(ReasonMalformed, "header is not strict base64url: %v", err)
	}
	h, err := DecodeObject(b)
	if err != nil {
		return bad(ReasonMalformed, "header: %v", err)
	}
	alg, _ = h["alg"].(string)
	if !slices.Contains(v.keys.algs, alg) {
		return bad(ReasonBadAlgorithm, "alg %q is not one of %v", alg, v.keys.algs)
	}
	if t, found := h["typ"]; found {
		s, _ := t.(string)
		s = strings.ToLower(s)
		s = strings.TrimPrefix(s, "application/")
		if s != "jwt" && s != "at+jwt" {
			return bad(ReasonMalformed, "typ %v is not JWT or at+jwt", t)
		}
	}
	if _, found := h["crit"]; found {
		return bad(ReasonMalformed, "crit header names extensions authgate does not understand")
	}
	if k, found := h["kid"]; found {
		if kid, ok = k.(string); !ok {
			return bad(ReasonMalformed, "kid must be a string")
		}
	}
	return alg, kid, nil
}

// classify maps golang-jwt's errors to ours, by errors.Is on its sentinels.
func classify(err error) error {
	var te *TokenError
	if errors.As(err, &te) {
		return te
	}
	switch {
	case errors.Is(err, errBadClaims):
		return newTokenError(ErrInvalidToken, ReasonBadClaims, err)
	case errors.Is(err, jwt.ErrTokenMalformed):
		return newTokenError(ErrInvalidToken, ReasonMalformed, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return newTokenError(ErrInvalidToken, ReasonBadSignature, err)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return newTokenError(ErrInvalidToken, ReasonBadIssuer, err)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return newTokenError(ErrInvalidToken, ReasonBadAudience, err)
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return newTokenError(ErrInvalidToken, ReasonBadClaims, err)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return newTokenError(ErrInvalidToken, ReasonNotYetValid, err)
	case errors.Is(err, jwt.ErrTokenExpired):
		// Checked last: "expired" is only the answer when nothing else failed.
		return newTokenError(ErrTokenExpired, ReasonExpired, err)
	}
	return newTokenError(ErrInvalidToken, ReasonMalformed, err)
}
