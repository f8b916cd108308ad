package auth

import "errors"

// Sentinel errors. Compare with errors.Is.
var (
	ErrTokenExpired       = errors.New("token has expired")
	ErrInvalidToken       = errors.New("invalid token")
	ErrInvalidCredentials = errors.New("invalid credentials")
	ErrTokenRevoked       = errors.New("token has been revoked")
)

// Reasons a token is refused: stable, low-cardinality names for logs and
// metrics.
const (
	ReasonMalformed    = "malformed"
	ReasonBadAlgorithm = "bad_algorithm"
	ReasonUnknownKey   = "unknown_key"
	ReasonAmbiguousKey = "ambiguous_key" // no kid, and several keys take the alg
	ReasonBadSignature = "bad_signature"
	ReasonBadIssuer    = "bad_issuer"
	ReasonBadAudience  = "bad_audience"
	ReasonBadClaims    = "bad_claims"
	ReasonNotYetValid  = "not_yet_valid"
	ReasonExpired      = "expired"
	ReasonTooLongLived = "too_long_lived"
	ReasonRevoked      = "revoked"
)

// TokenError says why a token was refused. errors.Is matches its kind
// (ErrInvalidToken, ErrTokenExpired or ErrTokenRevoked); Reason is one of
// the Reason constants.
type TokenError struct {
	Kind   error
	Reason string
	Err    error
}

// NewTokenError returns the error of a token refused for reason, of kind
// ErrInvalidToken, ErrTokenExpired or ErrTokenRevoked; err is the detail.
func NewTokenError(kind error, reason string, err error) *TokenError {
	return newTokenError(kind, reason, err)
}

func newTokenError(kind error, reason string, err error) *TokenError {
	return &TokenError{Kind: kind, Reason: reason, Err: err}
}

func (e *TokenError) Error() string { return e.Kind.Error() + " (" + e.Reason + "): " + e.Err.Error() }

// Is reports whether target is the error's kind.
func (e *TokenError) Is(target error) bool { return target == e.Kind }

func (e *TokenError) Unwrap() error { return e.Err }
