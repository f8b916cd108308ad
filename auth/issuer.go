package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// IssuerOptions are the claims every issued token carries.
type IssuerOptions struct {
	Issuer   string
	Audience string // optional
	TTL      time.Duration
	Now      func() time.Time
}

// Issuer signs tokens with a key set's signing key.
type Issuer struct {
	key    *Key
	method jwt.SigningMethod
	opts   IssuerOptions
}

// NewIssuer returns an Issuer that signs with ks's signing key.
func NewIssuer(ks *KeySet, o IssuerOptions) (*Issuer, error) {
	k := ks.Signing()
	if !k.CanSign() {
		return nil, errors.New("no signing key is configured (set AUTHGATE_JWT_SECRET[_FILE] or AUTHGATE_JWT_PRIVATE_KEY_FILE)")
	}
	m := jwt.GetSigningMethod(k.Alg)
	if m == nil {
		return nil, fmt.Errorf("no signing method for %s", k.Alg)
	}
	if o.Issuer == "" || o.TTL <= 0 {
		return nil, errors.New("the issuer needs an issuer name and a positive TTL")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Issuer{key: k, method: m, opts: o}, nil
}

// TTL is the default lifetime of issued tokens.
func (is *Issuer) TTL() time.Duration { return is.opts.TTL }

// Issued is a token authgate signed, with what a caller keeps of it: its
// jti (the key of a revocation) and its times.
type Issued struct {
	Token     string // the compact JWS
	ID        string // jti
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Issue signs a token for subject sub with the extra claims (which may not
// name a reserved claim) and lifetime ttl (the default when zero).
func (is *Issuer) Issue(sub string, extra map[string]any, ttl time.Duration) (Issued, error) {
	return is.issue("", sub, extra, ttl)
}

// IssueInSession is Issue for a token of the session sid, which it carries
// as its sid claim.
func (is *Issuer) IssueInSession(sid, sub string, extra map[string]any, ttl time.Duration) (Issued, error) {
	if sid == "" {
		return Issued{}, errors.New("the session id must not be empty")
	}
	return is.issue(sid, sub, extra, ttl)
}

func (is *Issuer) issue(sid, sub string, extra map[string]any, ttl time.Duration) (Issued, error) {
	if sub == "" {
		return Issued{}, errors.New("the subject must not be empty")
	}
	if ttl == 0 {
		ttl = is.opts.TTL
	}
	if ttl < 0 {
		return Issued{}, errors.New("the lifetime must be positive")
	}
	for name := range extra {
		if reservedClaims[name] && name != "username" {
			return Issued{}, fmt.Errorf("claim %q is set by authgate and cannot be given", name)
		}
	}
	now := is.opts.Now().Truncate(time.Second)
	exp := now.Add(ttl)
	c := make(jwt.MapClaims, len(extra)+8)
	maps.Copy(c, extra)
	c["sub"] = sub
	c["iss"] = is.opts.Issuer
	c["iat"] = now.Unix()
	c["nbf"] = now.Unix()
	c["exp"] = exp.Unix()
	jti := newJTI()
	c["jti"] = jti
	if sid != "" {
		c["sid"] = sid
	}
	if is.opts.Audience != "" {
		c["aud"] = is.opts.Audience
	}
	t := jwt.NewWithClaims(is.method, c)
	if is.key.ID != "" {
		t.Header["kid"] = is.key.ID
	}
	s, err := t.SignedString(is.key.sign)
	if err != nil {
		return Issued{}, fmt.Errorf("signing the token: %w", err)
	}
	return Issued{Token: s, ID: jti, IssuedAt: now, ExpiresAt: exp}, nil
}

func newJTI() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}
