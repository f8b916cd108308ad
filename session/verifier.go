package session

import (
	"context"
	"errors"

	"github.com/authgate/authgate/auth"
)

// tokenVerifier is what checks a token's signature and claims
// (*auth.Verifier).
type tokenVerifier interface {
	Verify(ctx context.Context, token string) (auth.Identity, error)
}

// CheckingVerifier verifies tokens with v and then checks authgate's own
// against the revocations: a revoked one is an *auth.TokenError of kind
// auth.ErrTokenRevoked, and a stale revocation copy an error matching
// state.ErrUnavailable. It reads no store: a verification never waits on
// the network.
type CheckingVerifier struct {
	v   tokenVerifier
	rev *Revocations
}

// NewCheckingVerifier returns v with the revocation check of rev.
func NewCheckingVerifier(v tokenVerifier, rev *Revocations) *CheckingVerifier {
	return &CheckingVerifier{v: v, rev: rev}
}

// Verify verifies token and checks it against the revocations.
func (c *CheckingVerifier) Verify(ctx context.Context, token string) (auth.Identity, error) {
	id, err := c.v.Verify(ctx, token)
	if err != nil {
		return auth.Identity{}, err
	}
	if err := c.rev.Check(id); err != nil {
		if errors.Is(err, ErrRevoked) {
			return auth.Identity{}, auth.NewTokenError(auth.ErrTokenRevoked, auth.ReasonRevoked, err)
		}
		return auth.Identity{}, err
	}
	return id, nil
}
