package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/state"
)

// refreshPrefix keys a session's refresh token, by its hash.
const refreshPrefix = "refresh:"

var (
	// ErrInvalidRefresh is a refresh token that is unknown, spent, expired,
	// or of a session that ended.
	ErrInvalidRefresh = errors.New("invalid refresh token")
	// ErrRefreshReused is a spent refresh token presented again: its
	// session has been ended. It matches ErrInvalidRefresh.
	ErrRefreshReused = fmt.Errorf("%w: reused; the session has been ended", ErrInvalidRefresh)
)

// Sessions issues and rotates refresh tokens. A login starts a session,
// whose id (sid, beginning with the store's epoch) every access token of it
// carries; a refresh spends the refresh token and returns a new pair; a
// session ends its TTL after the login, however often it is refreshed. The
// store keeps only a hash of each refresh token.
type Sessions struct {
	st  state.Store
	rev *Revocations
	ttl time.Duration // AUTHGATE_REFRESH_TTL
	now func() time.Time
}

// NewSessions returns the sessions in st, revoked through rev.
func NewSessions(st state.Store, rev *Revocations, ttl time.Duration, now func() time.Time) *Sessions {
	if now == nil {
		now = time.Now
	}
	return &Sessions{st: st, rev: rev, ttl: ttl, now: now}
}

// record is what the store keeps of one refresh token.
type record struct {
	SID      string `json:"sid"`
	Sub      string `json:"sub"`
	Username string `json:"username"`
	Password string `json:"pw"`    // a digest of the user's password hash: a changed password ends the session
	Start    int64  `json:"start"` // unix seconds of the login
	End      int64  `json:"end"`   // unix seconds the session ends
	Spent    bool   `json:"spent,omitempty"`
}

// Tokens are what a login or a refresh answers.
type Tokens struct {
	Subject        string // the user's id
	Access         auth.Issued
	Refresh        string
	RefreshExpires time.Time
}

// UserSource is where a refresh re-reads its user: the users file as it is
// now (*auth.Users).
type UserSource interface {
	Lookup(username string) (auth.User, bool)
}

// Start starts a session for u, who just logged in, and issues its first
// access token (of lifetime ttl; 0: the issuer's default) and refresh token
// with is.
func (s *Sessions) Start(ctx context.Context, u auth.User, is *auth.Issuer, ttl time.Duration) (Tokens, error) {
	// A token issued while the copy is stale would be refused at once.
	if err := s.rev.Ready(); err != nil {
		return Tokens{}, err
	}
	epoch := s.rev.Epoch()
	now := s.now()
	rec := record{
		SID: epoch + "." + random(16), Sub: u.ID, Username: u.Username, Password: digest(u.Password),
		Start: now.Unix(), End: now.Add(s.ttl).Unix(),
	}
	return s.issue(ctx, rec, u, is, ttl)
}

// issue stores a new refresh token for the session of rec and signs an
// access token in it.
func (s *Sessions) issue(ctx context.Context, rec record, u auth.User, is *auth.Issuer, accessTTL time.Duration) (Tokens, error) {
	end := time.Unix(rec.End, 0)
	ttl := end.Sub(s.now())
	if ttl <= 0 {
		return Tokens{}, ErrInvalidRefresh
	}
	refresh := random(32)
	b, _ := json.Marshal(rec) // strings and numbers: cannot fail
	if err := s.st.Set(ctx, refreshKey(refresh), string(b), ttl); err != nil {
		return Tokens{}, err
	}
	access, err := is.IssueInSession(rec.SID, u.ID, u.TokenClaims(), accessTTL)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{Subject: u.ID, Access: access, Refresh: refresh, RefreshExpires: end}, nil
}

// Refresh spends a refresh token and returns the session's next pair, with
// the user's claims as users has them now. A spent token presented again
// (reuse, RFC 9700 §4.14.2) ends its session, as does a lost race to spend
// it: of concurrent refreshes exactly one succeeds. A user no longer in
// users, or whose password hash changed, ends the session too. Errors
// match ErrInvalidRefresh, or state.ErrUnavailable.
func (s *Sessions) Refresh(ctx context.Context, refresh string, users UserSource, is *auth.Issuer) (Tokens, error) {
	key := refreshKey(refresh)
	raw, ok, err := s.st.Get(ctx, key)
	if err != nil {
		return Tokens{}, err
	}
	if !ok {
		return Tokens{}, ErrInvalidRefresh
	}
	var rec record
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		return Tokens{}, fmt.Errorf("%w: a refresh record that does not decode", ErrInvalidRefresh)
	}
	if rec.Spent {
		return Tokens{}, s.end(ctx, rec.SID, ErrRefreshReused)
	}
	if err := s.rev.SessionRevoked(rec.SID, rec.Sub, time.Unix(rec.Start, 0)); err != nil {
		if errors.Is(err, ErrRevoked) {
			return Tokens{}, ErrInvalidRefresh
		}
		return Tokens{}, err
	}
	spent := rec
	spent.Spent = true
	b, _ := json.Marshal(spent)
	won, err := s.st.Swap(ctx, key, raw, string(b), 0)
	if err != nil {
		return Tokens{}, err
	}
	if !won {
		return Tokens{}, s.end(ctx, rec.SID, ErrRefreshReused)
	}
	u, ok := users.Lookup(rec.Username)
	if !ok || u.ID != rec.Sub || digest(u.Password) != rec.Password {
		return Tokens{}, s.end(ctx, rec.SID, fmt.Errorf("%w: the user was removed or their password changed", ErrInvalidRefresh))
	}
	return s.issue(ctx, rec, u, is, 0)
}

// End ends the session of a refresh token (a logout).
func (s *Sessions) End(ctx context.Context, refresh string) error {
	raw, ok, err := s.st.Get(ctx, refreshKey(refresh))
	if err != nil {
		return err
	}
	if !ok {
		return ErrInvalidRefresh
	}
	var rec record
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		return ErrInvalidRefresh
	}
	if err := s.rev.RevokeSession(ctx, rec.SID); err != nil {
		return err
	}
	return s.st.Delete(ctx, refreshKey(refresh))
}

// end revokes a session and returns why, or the store's error.
func (s *Sessions) end(ctx context.Context, sid string, why error) error {
	if err := s.rev.RevokeSession(ctx, sid); err != nil {
		return err
	}
	return why
}

func refreshKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return refreshPrefix + hex.EncodeToString(sum[:])
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// random returns n random bytes, base64url: a refresh token (32 bytes, 256
// bits) or a session id.
func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}
