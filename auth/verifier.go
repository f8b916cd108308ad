// Package auth verifies and issues authgate's tokens and checks user
// credentials: the Verifier, the Issuer, the Identity a verified token
// yields, key sets, the users file and password hashes.
package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
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
	ID        string    // jti; "" when the token has none
	Issuer    string    // iss; "" when the token has none
	SessionID string    // sid, when it is a string; "" otherwise
	IssuedAt  time.Time // zero when the token has no iat
	ExpiresAt time.Time
	claims    Claims
}

// Claims are every claim of the token.
func (id Identity) Claims() Claims { return id.claims }

// Claim returns the claim at a dotted path (see Claims.Get) as encoding/json
// would decode it, numbers as json.Number.
func (id Identity) Claim(path string) (any, bool) {
	v, ok := id.claims.Get(path)
	if !ok {
		return nil, false
	}
	return v.Any(), true
}

// WithClaims returns id carrying the claims m: a JSON object as
// DecodeObject returns it, or any value encoding/json makes an object of
// (as tests build them). A map it cannot encode leaves id with none.
func (id Identity) WithClaims(m map[string]any) Identity {
	id.claims = Claims{}
	if data, err := json.Marshal(m); err == nil {
		id.claims, _ = decodeClaims(data)
	}
	return id
}

// VerifierOptions are the issuers a Verifier trusts and the claim checks
// every token must pass.
type VerifierOptions struct {
	Issuer      string          // authgate's own issuer, whose keys are the KeySet
	Remote      []*RemoteKeySet // trusted external issuers
	Audience    string          // when set, aud must contain it, whatever the issuer
	Leeway      time.Duration   // clock skew allowed on exp, nbf and iat
	MaxLifetime time.Duration   // when set, exp - iat may not exceed it (and iat is required)
	Cache       *TokenCache     // nil: every token is verified in full
	Now         func() time.Time
}

// keySource finds the key for a token of one issuer. Its generation
// changes whenever its keys do, which voids the cache entries it verified.
type keySource interface {
	lookup(ctx context.Context, alg, kid string) (any, error)
	generation() uint64
}

// trusted is one issuer of a Verifier (its owner): where its keys come from
// and the golang-jwt parser that checks its tokens (WithIssuer set to it).
type trusted struct {
	owner  *Verifier
	keys   keySource
	algs   []string
	parser *jwt.Parser
}

// Verifier checks tokens. Keys are chosen by (iss, kid): a key of one issuer
// never verifies a token claiming another. The algorithm allowlist comes from
// the keys (authgate's own) or is the asymmetric algorithms (external
// issuers), and cannot be switched off.
type Verifier struct {
	issuers     map[string]*trusted
	only        *trusted // the one issuer, when there is one: no need to peek at iss
	algs        []string // every algorithm any issuer accepts
	maxLifetime time.Duration
	leeway      time.Duration
	now         func() time.Time
	cache       *TokenCache // nil: none
}

// NewVerifier returns a Verifier for authgate's own keys (ks, may be nil or
// empty when authgate only verifies external tokens) and o.Remote.
func NewVerifier(ks *KeySet, o VerifierOptions) (*Verifier, error) {
	v := &Verifier{issuers: map[string]*trusted{}, maxLifetime: o.MaxLifetime, leeway: o.Leeway, now: o.Now, cache: o.Cache}
	if v.now == nil {
		v.now = time.Now
	}
	add := func(iss string, keys keySource, algs []string) {
		v.issuers[iss] = &trusted{owner: v, keys: keys, algs: algs, parser: jwt.NewParser(parserOptions(iss, algs, o)...)}
		for _, a := range algs {
			if !slices.Contains(v.algs, a) {
				v.algs = append(v.algs, a)
			}
		}
	}
	if ks != nil && ks.Len() > 0 {
		if o.Issuer == "" {
			return nil, errors.New("the verifier needs an issuer for its own keys")
		}
		add(o.Issuer, ks, ks.Algorithms())
	}
	for _, r := range o.Remote {
		if _, dup := v.issuers[r.Issuer()]; dup {
			return nil, fmt.Errorf("issuer %q is configured twice", r.Issuer())
		}
		add(r.Issuer(), r, slices.Clone(asymmetricAlgs))
	}
	if len(v.issuers) == 0 {
		return nil, errors.New("no verification keys and no trusted issuers are configured")
	}
	if len(v.issuers) == 1 {
		for _, t := range v.issuers {
			v.only = t
		}
	}
	return v, nil
}

// parserOptions are the golang-jwt checks for tokens of issuer iss.
func parserOptions(iss string, algs []string, o VerifierOptions) []jwt.ParserOption {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(algs),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(iss),
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
	return opts
}

// Verify checks raw and returns the identity it carries. Errors match
// ErrTokenExpired or ErrInvalidToken with errors.Is; a *TokenError gives the
// reason. With a TokenCache, a token verified before and still valid is
// answered from it; the Identity's Claims are shared and read-only.
func (v *Verifier) Verify(ctx context.Context, raw string) (Identity, error) {
	if len(raw) > MaxTokenBytes {
		return Identity{}, newTokenError(ErrInvalidToken, ReasonMalformed, fmt.Errorf("token is %d bytes, over %d", len(raw), MaxTokenBytes))
	}
	if v.cache == nil {
		id, _, _, _, err := v.verify(ctx, raw)
		return id, err
	}
	now := v.now()
	if id, ok := v.cache.lookup(v, raw, now); ok {
		return id, nil
	}
	id, iss, gen, nbf, err := v.verify(ctx, raw)
	if err == nil {
		v.cache.store(raw, iss, gen, id, nbf, now)
	}
	return id, err
}

// verify is the full verification of raw. Besides the identity it returns
// what the cache keeps: the issuer whose keys verified it, their
// generation before the lookup, and the token's nbf.
func (v *Verifier) verify(ctx context.Context, raw string) (Identity, *trusted, uint64, time.Time, error) {
	fail := func(err error) (Identity, *trusted, uint64, time.Time, error) {
		return Identity{}, nil, 0, time.Time{}, err
	}
	alg, kid, err := v.checkHeader(raw)
	if err != nil {
		return fail(err)
	}
	iss := v.only
	if iss == nil {
		if iss, err = v.issuerOf(raw); err != nil {
			return fail(err)
		}
	}
	if !slices.Contains(iss.algs, alg) {
		return fail(newTokenError(ErrInvalidToken, ReasonBadAlgorithm, fmt.Errorf("alg %q is not one of the issuer's %v", alg, iss.algs)))
	}
	// Read before the lookup: a refresh during it makes the entry stale,
	// never the other way round.
	gen := iss.keys.generation()
	key, err := iss.keys.lookup(ctx, alg, kid)
	if err != nil {
		return fail(err)
	}
	var c claims
	tok, err := iss.parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		if t.Method.Alg() != alg {
			return nil, newTokenError(ErrInvalidToken, ReasonBadAlgorithm, errors.New("alg changed between reads"))
		}
		return key, nil
	})
	if err != nil {
		return fail(classify(err))
	}
	if !tok.Valid {
		return fail(newTokenError(ErrInvalidToken, ReasonMalformed, errors.New("token not valid")))
	}
	if v.maxLifetime > 0 {
		if c.iat == nil {
			return fail(newTokenError(ErrInvalidToken, ReasonBadClaims, errors.New("no iat, so the token's lifetime is unknown")))
		}
		if life := c.exp.Sub(c.iat.Time); life > v.maxLifetime {
			return fail(newTokenError(ErrInvalidToken, ReasonTooLongLived, fmt.Errorf("lifetime %v is over %v", life, v.maxLifetime)))
		}
	}
	// The strings are slices of the claims' text: one copy of the payload.
	id := Identity{Subject: c.sub, ID: c.jti, Issuer: c.iss, SessionID: c.sid, ExpiresAt: c.exp.Time, claims: c.all}
	if c.iat != nil {
		id.IssuedAt = c.iat.Time
	}
	var nbf time.Time
	if c.nbf != nil {
		nbf = c.nbf.Time
	}
	return id, iss, gen, nbf, nil
}

// issuerOf reads the unverified iss of a token to pick the issuer whose keys
// and checks apply; the signature and every claim are verified after.
func (v *Verifier) issuerOf(raw string) (*trusted, error) {
	_, rest, _ := strings.Cut(raw, ".")
	seg, _, _ := strings.Cut(rest, ".")
	b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		return nil, newTokenError(ErrInvalidToken, ReasonMalformed, fmt.Errorf("payload is not strict base64url: %v", err))
	}
	c, err := decodeClaims(b)
	if err != nil {
		return nil, newTokenError(ErrInvalidToken, ReasonMalformed, fmt.Errorf("payload: %v", err))
	}
	var name string
	if iss, _ := c.field("iss"); iss.Kind() == ClaimString {
		name = iss.Text()
	}
	t, ok := v.issuers[name]
	if !ok {
		return nil, newTokenError(ErrInvalidToken, ReasonBadIssuer, fmt.Errorf("issuer %q is not trusted", name))
	}
	return t, nil
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
	// {"alg":"HS256","ALG":"none"}: authgate and golang-jwt read "alg", but
	// a parser that folds case (encoding/json into a struct) may read the
	// other. The header is small and fixed: no two members may fold alike.
	seen := make(map[string]string, len(h))
	for name := range h {
		folded := strings.ToLower(name)
		if other, dup := seen[folded]; dup {
			return bad(ReasonMalformed, "header members %q and %q differ only in case", other, name)
		}
		seen[folded] = name
	}
	alg, _ = h["alg"].(string)
	if !slices.Contains(v.algs, alg) {
		return bad(ReasonBadAlgorithm, "alg %q is not one of %v", alg, v.algs)
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
