package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// maxJWKSKeys bounds how many keys one JWKS document may hold.
const maxJWKSKeys = 100

var b64url = base64.RawURLEncoding

// Thumbprint returns the RFC 7638 JWK thumbprint (SHA-256, base64url) of a
// public key: authgate's kid for keys it loads from PEM.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	m, err := jwkMembers(pub)
	if err != nil {
		return "", err
	}
	// RFC 7638 §3: the required members only, in lexicographic order, no
	// whitespace. json.Marshal sorts map keys and these values need no
	// escaping.
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return b64url.EncodeToString(sum[:]), nil
}

// jwkMembers returns the required JWK members of a public key.
func jwkMembers(pub crypto.PublicKey) (map[string]string, error) {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		return map[string]string{
			"kty": "RSA",
			"n":   b64url.EncodeToString(p.N.Bytes()),
			"e":   b64url.EncodeToString(big.NewInt(int64(p.E)).Bytes()),
		}, nil
	case *ecdsa.PublicKey:
		raw, err := p.Bytes() // 0x04 || x || y, each of the field size
		if err != nil {
			return nil, err
		}
		size := (len(raw) - 1) / 2
		return map[string]string{
			"kty": "EC",
			"crv": p.Curve.Params().Name,
			"x":   b64url.EncodeToString(raw[1 : 1+size]),
			"y":   b64url.EncodeToString(raw[1+size:]),
		}, nil
	case ed25519.PublicKey:
		return map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64url.EncodeToString(p)}, nil
	}
	return nil, fmt.Errorf("no JWK form for %T", pub)
}

// publicJWK returns the key's public half as a JWK with kid, alg and
// "use": "sig"; false for shared secrets, which are never published.
func (k *Key) publicJWK() (map[string]any, bool) {
	m, err := jwkMembers(k.verify)
	if err != nil {
		return nil, false
	}
	out := map[string]any{"kid": k.ID, "use": "sig"}
	if k.Alg != "" {
		out["alg"] = k.Alg
	}
	for name, v := range m {
		out[name] = v
	}
	return out, true
}

// jwk is the subset of RFC 7517/7518/8037 members authgate reads.
type jwk struct {
	Kty    string   `json:"kty"`
	Kid    string   `json:"kid"`
	Alg    string   `json:"alg"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	Crv    string   `json:"crv"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X      string   `json:"x"`
	Y      string   `json:"y"`
}

// errSkipKey marks a JWK that is well-formed but not for authgate: a
// symmetric key, an encryption key, an algorithm it does not verify.
var errSkipKey = errors.New("not a signature verification key")

// parseJWKS reads a JWK Set. Keys that are not for verifying signatures
// (oct, "use": "enc", unsupported alg) are skipped and named in skipped;
// a malformed document, a malformed key, a duplicate kid or too many keys
// are errors.
func parseJWKS(data []byte) (keys []*Key, skipped []string, err error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("not a JWK Set: %v", err)
	}
	if doc.Keys == nil {
		return nil, nil, errors.New(`not a JWK Set: no "keys" array`)
	}
	if len(doc.Keys) > maxJWKSKeys {
		return nil, nil, fmt.Errorf("the JWK Set has %d keys, more than %d", len(doc.Keys), maxJWKSKeys)
	}
	seen := map[string]bool{}
	for i, raw := range doc.Keys {
		var j jwk
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, nil, fmt.Errorf("key %d: %v", i, err)
		}
		k, err := j.key()
		if errors.Is(err, errSkipKey) {
			skipped = append(skipped, fmt.Sprintf("key %d (kid %q): %v", i, j.Kid, err))
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("key %d (kid %q): %v", i, j.Kid, err)
		}
		if seen[k.ID] {
			return nil, nil, fmt.Errorf("key %d: kid %q appears twice", i, k.ID)
		}
		seen[k.ID] = true
		keys = append(keys, k)
	}
	return keys, skipped, nil
}

// key turns a JWK into a verify-only Key. Private members, if present, are
// ignored. Without "alg" the key accepts the algorithms of its type; without
// "kid" its kid is its thumbprint.
func (j jwk) key() (*Key, error) {
	if j.Use != "" && j.Use != "sig" {
		return nil, fmt.Errorf("%w (use %q)", errSkipKey, j.Use)
	}
	if j.KeyOps != nil && !slices.Contains(j.KeyOps, "verify") {
		return nil, fmt.Errorf("%w (key_ops %v)", errSkipKey, j.KeyOps)
	}
	if j.Alg != "" && !slices.Contains(asymmetricAlgs, j.Alg) {
		return nil, fmt.Errorf("%w (alg %q)", errSkipKey, j.Alg)
	}
	var pub crypto.PublicKey
	switch j.Kty {
	case "RSA":
		n, err1 := decodeB64(j.N)
		e, err2 := decodeB64(j.E)
		if err := errors.Join(err1, err2); err != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("malformed RSA key (n, e)")
		}
		exp := int(new(big.Int).SetBytes(e).Int64())
		if exp < 3 || exp%2 == 0 {
			return nil, errors.New("unusable RSA exponent")
		}
		pub = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}
	case "EC":
		var curve elliptic.Curve
		switch j.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("unsupported curve %q", j.Crv)
		}
		x, err1 := decodeB64(j.X)
		y, err2 := decodeB64(j.Y)
		size := (curve.Params().BitSize + 7) / 8
		if errors.Join(err1, err2) != nil || len(x) != size || len(y) != size {
			return nil, errors.New("malformed EC key (x, y)")
		}
		p, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, fmt.Errorf("EC key: %v", err)
		}
		pub = p
	case "OKP":
		if j.Crv != "Ed25519" {
			return nil, fmt.Errorf("%w (OKP curve %q)", errSkipKey, j.Crv)
		}
		x, err := decodeB64(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("malformed Ed25519 key (x)")
		}
		pub = ed25519.PublicKey(x)
	case "oct":
		return nil, fmt.Errorf("%w (symmetric)", errSkipKey)
	default:
		return nil, fmt.Errorf("%w (kty %q)", errSkipKey, j.Kty)
	}
	return verifyKey(pub, j.Alg, j.Kid)
}

func decodeB64(s string) ([]byte, error) {
	return b64url.Strict().DecodeString(s)
}
