package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
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

// MinRSABits is the smallest RSA modulus authgate signs or verifies with.
const MinRSABits = 2048

// Key is one key that verifies tokens and, when it holds private material,
// signs them.
type Key struct {
	ID  string // kid; empty for a bare HS256 secret
	Alg string // the one JWS algorithm the key is for; "" accepts its family (remote keys without alg)
	// verify is []byte for HMAC, or *rsa.PublicKey, *ecdsa.PublicKey or
	// ed25519.PublicKey.
	verify any
	sign   any // nil for a verify-only key; []byte or a crypto.Signer
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

// newPublicKey returns a verify-only key for pub. alg "" picks the default
// algorithm of the key type (RS256, ES256/ES384/ES512 by curve, EdDSA); kid
// "" picks the RFC 7638 thumbprint.
func newPublicKey(pub crypto.PublicKey, alg, kid string) (*Key, error) {
	if alg == "" {
		alg = defaultAlg(pub)
	}
	return verifyKey(pub, alg, kid)
}

// verifyKey returns a verify-only key for pub. alg "" leaves the key
// accepting the algorithms of its type (remote keys without alg); kid ""
// picks the RFC 7638 thumbprint.
func verifyKey(pub crypto.PublicKey, alg, kid string) (*Key, error) {
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	k := &Key{ID: kid, Alg: alg, verify: pub}
	if alg != "" && !k.accepts(alg) {
		return nil, fmt.Errorf("alg %s does not fit a %s key", alg, keyType(pub))
	}
	if k.ID == "" {
		tp, err := Thumbprint(pub)
		if err != nil {
			return nil, err
		}
		k.ID = tp
	}
	return k, nil
}

// checkPublicKey refuses weak or unsupported keys.
func checkPublicKey(pub crypto.PublicKey) error {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() < MinRSABits {
			return fmt.Errorf("the RSA key has %d bits; at least %d are required", p.N.BitLen(), MinRSABits)
		}
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return errors.New("unsupported elliptic curve")
		}
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return errors.New("malformed Ed25519 key")
		}
	default:
		return fmt.Errorf("unsupported key type %T", pub)
	}
	return nil
}

func defaultAlg(pub crypto.PublicKey) string {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return "RS256"
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P384():
			return "ES384"
		case elliptic.P521():
			return "ES512"
		}
		return "ES256"
	case ed25519.PublicKey:
		return "EdDSA"
	}
	return ""
}

func keyType(pub any) string {
	switch pub.(type) {
	case []byte:
		return "shared secret"
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "EC"
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", pub)
}

// asymmetricAlgs are the algorithms a public key can verify.
var asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// accepts reports whether a token signed with alg may be checked with this
// key: the key's own algorithm when it has one, else any algorithm of its
// type and curve. An HMAC algorithm is never accepted for a public key.
func (k *Key) accepts(alg string) bool {
	if k.Alg != "" && k.Alg != alg {
		return false
	}
	switch p := k.verify.(type) {
	case []byte:
		return alg == "HS256"
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		return alg == defaultAlg(p)
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// algorithms returns the algorithms the key accepts.
func (k *Key) algorithms() []string {
	if k.Alg != "" {
		return []string{k.Alg}
	}
	return slices.DeleteFunc(slices.Clone(asymmetricAlgs), func(a string) bool { return !k.accepts(a) })
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

// KeySet holds the keys of authgate's own issuer, at most one of which
// signs. Keys are found by kid; a token without kid is tried against the keys
// without one.
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
		for _, a := range k.algorithms() {
			if !slices.Contains(ks.algs, a) {
				ks.algs = append(ks.algs, a)
			}
		}
	}
	return ks, nil
}

// Signing returns the key that signs, or nil.
func (ks *KeySet) Signing() *Key { return ks.signing }

// Algorithms returns the algorithms of the configured keys: the only ones a
// token of this issuer may use.
func (ks *KeySet) Algorithms() []string { return slices.Clone(ks.algs) }

// Len returns the number of keys.
func (ks *KeySet) Len() int { return len(ks.byID) + len(ks.noKid) }

// generation is always 0: a KeySet never changes (a reload builds another,
// and another Verifier).
func (ks *KeySet) generation() uint64 { return 0 }

// lookup returns the verification key for a token's alg and kid.
func (ks *KeySet) lookup(_ context.Context, alg, kid string) (any, error) {
	return findKey(ks.byID, ks.noKid, alg, kid)
}

// findKey picks the key for a token: by kid, which must accept alg; without
// a kid, the one key without one (or, failing that, the one key of all)
// that accepts alg. A kid-less token that more than one key could verify is
// refused rather than tried against each: one forged token must not cost a
// signature check per key of a set (up to 100 in a remote one).
func findKey(byID map[string]*Key, noKid []*Key, alg, kid string) (any, error) {
	if kid != "" {
		k, ok := byID[kid]
		if !ok {
			return nil, newTokenError(ErrInvalidToken, ReasonUnknownKey, fmt.Errorf("no key with kid %q", kid))
		}
		if !k.accepts(alg) {
			return nil, newTokenError(ErrInvalidToken, ReasonBadAlgorithm, fmt.Errorf("key %q (%s) does not take %s", kid, keyType(k.verify), alg))
		}
		return k.verify, nil
	}
	candidates := noKid
	if len(candidates) == 0 {
		candidates = slices.Collect(maps.Values(byID))
	}
	var found []any
	for _, k := range candidates {
		if k.accepts(alg) {
			found = append(found, k.verify)
		}
	}
	switch len(found) {
	case 0:
		return nil, newTokenError(ErrInvalidToken, ReasonUnknownKey, fmt.Errorf("no %s key for a token without kid", alg))
	case 1:
		return found[0], nil
	}
	return nil, newTokenError(ErrInvalidToken, ReasonAmbiguousKey, fmt.Errorf("%d keys take %s and the token names no kid", len(found), alg))
}

// PublicJWKS returns the JSON Web Key Set (RFC 7517) of the set's public
// keys, each with kid, alg and "use": "sig". Shared secrets are never
// published, so an HS256-only set is empty.
func (ks *KeySet) PublicJWKS() []byte {
	keys := []map[string]any{}
	for _, k := range ks.all() {
		if jwk, ok := k.publicJWK(); ok {
			keys = append(keys, jwk)
		}
	}
	b, _ := json.Marshal(map[string]any{"keys": keys}) // strings only: cannot fail
	return append(b, '\n')
}

// all returns every key: the signing key first, then by kid.
func (ks *KeySet) all() []*Key {
	var out []*Key
	if ks.signing != nil {
		out = append(out, ks.signing)
	}
	for _, k := range ks.noKid {
		if k != ks.signing {
			out = append(out, k)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(ks.byID)) {
		if k := ks.byID[id]; k != ks.signing {
			out = append(out, k)
		}
	}
	return out
}
