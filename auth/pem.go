package auth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// LoadPrivateKey reads the signing key from a PEM file: PKCS#8 ("PRIVATE
// KEY": RSA, EC or Ed25519), PKCS#1 ("RSA PRIVATE KEY") or SEC1 ("EC PRIVATE
// KEY"). alg picks the algorithm where the key allows a choice (RS256 or
// PS256 for RSA); "" takes the key's default, and an alg that does not fit
// the key is an error. The kid is the RFC 7638 thumbprint of the public key.
func LoadPrivateKey(path, alg string) (*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, rest := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if b, _ := pem.Decode(rest); b != nil {
		return nil, errors.New("more than one PEM block; give the signing key alone")
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted || block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, errors.New("the key is encrypted; give it unencrypted (the file itself is the secret)")
	}
	var priv any
	switch block.Type {
	case "PRIVATE KEY":
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		priv, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key (want PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing the %s: %v", block.Type, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", priv)
	}
	return newSigningKey(signer, alg)
}

// newSigningKey checks the private key against alg and returns it as a Key.
func newSigningKey(signer crypto.Signer, alg string) (*Key, error) {
	pub := signer.Public()
	if p, ok := pub.(*ecdsa.PublicKey); ok && p.Curve != elliptic.P256() && p.Curve != elliptic.P384() {
		return nil, fmt.Errorf("unsupported curve %s; use P-256 (ES256) or P-384 (ES384)", p.Curve.Params().Name)
	}
	want := defaultAlg(pub)
	switch {
	case alg == "":
		alg = want
	case alg == "PS256" && want == "RS256":
	case alg != want:
		choices := want
		if want == "RS256" {
			choices = "RS256 or PS256"
		}
		return nil, fmt.Errorf("a %s key signs with %s, not %s", keyType(pub), choices, alg)
	}
	k, err := newPublicKey(pub, alg, "")
	if err != nil {
		return nil, err
	}
	k.sign = signer // *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey, as golang-jwt wants
	return k, nil
}

// LoadVerifyKeys reads rotation keys, still accepted but never used to sign:
// PEM public keys ("PUBLIC KEY", "RSA PUBLIC KEY") or certificates, or a
// JWK Set. PEM RSA keys take rsaAlg (RS256 when ""); a JWK's own alg is kept.
func LoadVerifyKeys(path, rsaAlg string) ([]*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		keys, skipped, err := parseJWKS(trimmed)
		if err != nil {
			return nil, err
		}
		if len(skipped) > 0 {
			return nil, fmt.Errorf("%s; only public signature keys belong here", skipped[0])
		}
		if len(keys) == 0 {
			return nil, errors.New("the JWK Set holds no keys")
		}
		return keys, nil
	}
	var keys []*Key
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var pub any
		switch block.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				pub = cert.PublicKey
			}
		default:
			return nil, fmt.Errorf("PEM block %d is %q; want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE (private keys do not belong here)", len(keys)+1, block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %v", len(keys)+1, err)
		}
		alg := ""
		if _, isRSA := pub.(*rsa.PublicKey); isRSA {
			alg = rsaAlg
		}
		k, err := newPublicKey(pub, alg, "")
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %v", len(keys)+1, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM public keys and not a JWK Set")
	}
	return keys, nil
}
