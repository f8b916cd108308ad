package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Argon2Params are the argon2id cost parameters (RFC 9106).
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultArgon2 returns the parameters of new hashes, after OWASP's password
// storage advice for argon2id: 19 MiB, two passes, one lane.
func DefaultArgon2() Argon2Params {
	return Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Limits on the parameters of a hash read from the users file, so that one
// bad entry cannot make every login allocate gigabytes.
const (
	maxArgon2Memory = 1 << 20 // KiB: 1 GiB
	maxArgon2Time   = 64
	maxBcryptLen    = 72 // bcrypt ignores everything after 72 bytes
)

// HashArgon2id returns password's argon2id hash in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
func HashArgon2id(password string, p Argon2Params) string {
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// HashBcrypt returns password's bcrypt hash at the given cost.
func HashBcrypt(password string, cost int) (string, error) {
	if len(password) > maxBcryptLen {
		return "", fmt.Errorf("bcrypt only reads the first %d bytes of a password; use argon2id for longer ones", maxBcryptLen)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	return string(h), err
}

// CheckHash reports whether hash is a bcrypt or argon2id hash authgate can
// verify, with sane parameters.
func CheckHash(hash string) error {
	switch {
	case isBcrypt(hash):
		_, err := bcrypt.Cost([]byte(hash))
		return err
	case strings.HasPrefix(hash, "$argon2id$"):
		_, _, _, err := parseArgon2id(hash)
		return err
	}
	return errors.New("not a bcrypt ($2a$, $2b$, $2y$) or argon2id ($argon2id$) hash; create one with authgate hash-password")
}

// ComparePassword reports whether password matches hash. It takes the time
// the hash asks for whether or not they match.
func ComparePassword(hash, password string) (bool, error) {
	switch {
	case isBcrypt(hash):
		err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, nil
		}
		// A longer password would match on its first 72 bytes alone.
		return err == nil && len(password) <= maxBcryptLen, err
	case strings.HasPrefix(hash, "$argon2id$"):
		p, salt, want, err := parseArgon2id(hash)
		if err != nil {
			return false, err
		}
		got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
		return subtle.ConstantTimeCompare(got, want) == 1, nil
	}
	return false, errors.New("unknown hash format")
}

// hashLike returns a hash of a random password with the same algorithm and
// cost as hash: comparing against it costs what a real comparison costs.
func hashLike(hash string) (string, error) {
	var pw [18]byte
	_, _ = rand.Read(pw[:])
	random := base64.RawStdEncoding.EncodeToString(pw[:])
	if isBcrypt(hash) {
		cost, err := bcrypt.Cost([]byte(hash))
		if err != nil {
			return "", err
		}
		return HashBcrypt(random, cost)
	}
	p, salt, key, err := parseArgon2id(hash)
	if err != nil {
		return "", err
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return HashArgon2id(random, p), nil
}

func isBcrypt(hash string) bool {
	return strings.HasPrefix(hash, "$2a$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$")
}

func parseArgon2id(hash string) (p Argon2Params, salt, key []byte, err error) {
	fail := func(what string) (Argon2Params, []byte, []byte, error) {
		return Argon2Params{}, nil, nil, fmt.Errorf("malformed argon2id hash: %s", what)
	}
	parts := strings.Split(hash, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
	if len(parts) != 6 || parts[1] != "argon2id" {
		return fail("want $argon2id$v=19$m=…,t=…,p=…$salt$hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return fail("unsupported version " + parts[2])
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || n != 3 {
		return fail("parameters " + parts[3])
	}
	if p.Memory < 8 || p.Memory > maxArgon2Memory || p.Time < 1 || p.Time > maxArgon2Time || threads < 1 || threads > 255 {
		return fail("parameters out of range " + parts[3])
	}
	p.Threads = uint8(threads)
	b64 := base64.RawStdEncoding.Strict()
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return fail("salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 128 {
		return fail("hash")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
