package main

import (
	"fmt"

	"github.com/rs/zerolog"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/config"
)

// loadKeys reads authgate's own keys: the signing key (an HS256 secret or a
// PEM private key; config.Load has made sure there is at most one) and the
// rotation keys. Errors name the variable. No key at all gives an empty set.
func loadKeys(cfg config.Config) (*auth.KeySet, error) {
	var signing *auth.Key
	switch {
	case cfg.JWTPrivateKeyFile != "":
		k, err := auth.LoadPrivateKey(cfg.JWTPrivateKeyFile, cfg.JWTAlgorithm)
		if err != nil {
			return nil, fmt.Errorf("AUTHGATE_JWT_PRIVATE_KEY_FILE: %s: %w", cfg.JWTPrivateKeyFile, err)
		}
		signing = k
	case cfg.JWTSecret != "" || cfg.JWTSecretFile != "":
		name := "AUTHGATE_JWT_SECRET"
		if cfg.JWTSecretFile != "" {
			name = "AUTHGATE_JWT_SECRET_FILE"
		}
		secret, err := auth.ReadSecret(cfg.JWTSecret, cfg.JWTSecretFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if signing, err = auth.NewHMACKey(secret); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	var verifyOnly []*auth.Key
	if cfg.JWTVerifyKeysFile != "" {
		rsaAlg := ""
		if cfg.JWTAlgorithm == "RS256" || cfg.JWTAlgorithm == "PS256" {
			rsaAlg = cfg.JWTAlgorithm
		}
		keys, err := auth.LoadVerifyKeys(cfg.JWTVerifyKeysFile, rsaAlg)
		if err != nil {
			return nil, fmt.Errorf("AUTHGATE_JWT_VERIFY_KEYS_FILE: %s: %w", cfg.JWTVerifyKeysFile, err)
		}
		verifyOnly = keys
	}
	ks, err := auth.NewKeySet(signing, verifyOnly...)
	if err != nil {
		return nil, fmt.Errorf("AUTHGATE_JWT_VERIFY_KEYS_FILE: %w", err)
	}
	return ks, nil
}

// remoteKeySets prepares the key sets of AUTHGATE_TRUSTED_ISSUERS; serve
// runs them.
func remoteKeySets(cfg config.Config, logger zerolog.Logger) ([]*auth.RemoteKeySet, error) {
	var sets []*auth.RemoteKeySet
	for _, ti := range cfg.TrustedIssuers {
		r, err := auth.NewRemoteKeySet(ti.Issuer, ti.JWKSURL, auth.RemoteOptions{
			MinRefresh: cfg.JWKSMinRefresh,
			MaxRefresh: cfg.JWKSRefresh,
			Logger:     logger,
		})
		if err != nil {
			return nil, fmt.Errorf("AUTHGATE_TRUSTED_ISSUERS: %w", err)
		}
		sets = append(sets, r)
	}
	return sets, nil
}
