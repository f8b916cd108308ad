package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// MinSecretBytes is the shortest HS256 secret authgate accepts (RFC 7518
// §3.2: a key of the same size as the hash output).
const MinSecretBytes = 32

// Key is one key that verifies tokens and, when it holds private material,
// signs them.
type Key struct {
	ID     string // kid; empty for a bare HS256 secret
	Alg    string // JWS algorithm, e.g. HS256
	verify any    // []byte for HMAC; a public key for the asymmetric algorithms
	sign   any    // nil for a verify-only key
}

// NewHMACKey returns an HS256 key from a shared secret of at least
// MinSecretBytes bytes.
func NewHMACKey(secret []byte) (*Key, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("the secret is %d bytes; at least %d are required (e.g. openssl rand -base64 48)", len(secret), MinSecretBytes)
	}
	s := slices.Clone(secret)
	return &Key{Alg: jwt.SigningMethodHS256.Alg(), verify: s, sign: s}, nil
}

// CanSign reports whether the key holds signing material.
func (k *Key) CanSign() bool { return k != nil && k.sign != nil }

// ReadSecret returns the HS256 secret from AUTHGATE_JWT_SECRET (value) or
// AUTHGATE_JWT_SECRET_FILE (file, with one trailing newline dropped). Both
// empty means no secret is configured: it returns nil, nil.
func ReadSecret(value, file string) ([]byte, error) {
	if value != "" {
		return []byte(value), nil
	}
	if file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading the secret file: %w", err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	return []byte(s), nil
}

// KeySet holds every key authgate trusts, at most one of which signs. Keys
// are found by kid; a token without kid is tried against the keys without one.
type KeySet struct {
	signing *Key
	byID    map[string]*Key
	noKid   []*Key
	algs    []string
}

// NewKeySet builds a key set from its signing key (nil when authgate only
// verifies) and further verify-only keys.
func NewKeySet(signing *Key, verifyOnly ...*Key) (*KeySet, error) {
	ks := &KeySet{signing: signing, byID: map[string]*Key{}}
	all := verifyOnly
	if signing != nil {
		if !signing.CanSign() {
			return nil, errors.New("the signing key holds no private material")
		}
		all = append([]*Key{signing}, verifyOnly...)
	}
	for _, k := range all {
		if k.ID == "" {
			ks.noKid = append(ks.noKid, k)
		} else {
			if _, dup := ks.byID[k.ID]; dup {
				return nil, fmt.Errorf("two keys share the kid %q", k.ID)
			}
			ks.byID[k.ID] = k
		}
		if !slices.Contains(ks.algs, k.Alg) {
			ks.algs = append(ks.algs, k.Alg)
		}
	}
	return ks, nil
}

// Signing returns the key that signs, or nil.
func (ks *KeySet) Signing() *Key { return ks.signing }

// Algorithms returns the algorithms of the configured keys: the only ones a
// token may use.
func (ks *KeySet) Algorithms() []string { return slices.Clone(ks.algs) }

// lookup returns the verification key(s) for a token's alg and kid.
func (ks *KeySet) lookup(alg, kid string) (any, error) {
	if kid != "" {
		k, ok := ks.byID[kid]
		if !ok {
			return nil, newTokenError(ErrInvalidToken, ReasonUnknownKey, fmt.Errorf("no key with kid %q", kid))
		}
		if k.Alg != alg {
			return nil, newTokenError(ErrInvalidToken, ReasonBadAlgorithm, fmt.Errorf("key %q is for %s, not %s", kid, k.Alg, alg))
		}
		return k.verify, nil
	}
	var set jwt.VerificationKeySet
	for _, k := range ks.noKid {
		if k.Alg == alg {
			set.Keys = append(set.Keys, k.verify)
		}
	}
	switch len(set.Keys) {
	case 0:
		return nil, newTokenError(ErrInvalidToken, ReasonUnknownKey, fmt.Errorf("no %s key without a kid", alg))
	case 1:
		return set.Keys[0], nil
	}
	return set, nil
}

// PublicJWKS returns the JSON Web Key Set (RFC 7517) of the set's public
// keys. Shared secrets are never published, so an HS256-only set is empty.
func (ks *KeySet) PublicJWKS() []byte {
	keys := []map[string]any{}
	for _, k := range ks.all() {
		if jwk, ok := k.publicJWK(); ok {
			keys = append(keys, jwk)
		}
	}
	b, _ := json.Marshal(map[string]any{"keys": keys}) // maps of strings always marshal
	return append(b, '\n')
}

// all returns every key: those without kid, then the others by kid.
func (ks *KeySet) all() []*Key {
	out := slices.Clone(ks.noKid)
	for _, id := range slices.Sorted(maps.Keys(ks.byID)) {
		out = append(out, ks.byID[id])
	}
	return out
}

// publicJWK returns the key's public half as a JWK with kid, alg and
// "use": "sig"; false for symmetric keys, which have no public half.
func (k *Key) publicJWK() (map[string]any, bool) {
	// HS256 secrets are the only keys so far; asymmetric keys come with
	// AUTHGATE_JWT_PRIVATE_KEY_FILE.
	return nil, false
}
