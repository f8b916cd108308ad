// Package session keeps what authgate remembers about the tokens it
// issued: refresh-token sessions and revocations, in a state.Store (memory
// or Redis). Every replica holds a local copy of the revocation state, so
// that checking a token never waits on the network.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/state"
)

// Keys and the channel in the store.
const (
	revPrefix   = "rev:"          // one key per revocation
	revisionKey = "meta:revision" // bumped by every revocation
	epochKey    = "meta:epoch"    // "<id> <unix seconds>": the store's data since
	channel     = "revocations"
)

// epochTTL is the life of the epoch marker, which the replicas extend long
// before it ends: gone, it means the store lost its data.
const epochTTL = 30 * 24 * time.Hour

var (
	// ErrRevoked is a token of authgate's own that was revoked.
	ErrRevoked = errors.New("token has been revoked")
	// errStale is a local copy that could not be confirmed for too long.
	errStale = fmt.Errorf("%w: the revocation state could not be confirmed", state.ErrUnavailable)
)

// RevocationOptions configure Revocations.
type RevocationOptions struct {
	Issuer string // authgate's own iss; other issuers' tokens are never checked
	// Horizon is the longest any token or session of authgate's own lives:
	// a revocation lasts that long, so it always outlives what it revokes.
	Horizon time.Duration
	// MaxStaleness is how long the local copy may go unconfirmed before
	// authgate's own tokens are refused (AUTHGATE_STORE_MAX_STALENESS).
	MaxStaleness time.Duration
	// Shared says the store outlives the process (Redis): then a new epoch
	// also refuses own tokens without a session issued before it.
	Shared bool
	Poll   time.Duration // between confirmations; default 500ms
	Logger zerolog.Logger
	Now    func() time.Time
}

// Revocations is the revocation state of authgate's own tokens: revoked
// (iss, jti) pairs, revoked sessions, subjects revoked as of a time, and the
// store's epoch. The local copy is loaded by Scan, kept current by the
// store's publish/subscribe, and confirmed every Poll by the revision
// counter, which also heals messages missed while cut off.
type Revocations struct {
	st state.Store
	o  RevocationOptions

	mu        sync.RWMutex
	entries   map[string]entry // by key
	epoch     string           // the id in the epoch marker
	epochRaw  string           // the marker's value as read
	since     int64            // unix seconds the epoch began
	revision  string           // of the store when entries were loaded; "" forces a load
	confirmed time.Time        // of the last successful confirmation
	extended  time.Time        // when the marker's TTL was last extended
	failures  uint64           // confirmations that failed
}

type entry struct {
	value string
	until time.Time
}

// NewRevocations returns the revocation state in st. Nothing is read until
// Sync or Run.
func NewRevocations(st state.Store, o RevocationOptions) *Revocations {
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Revocations{st: st, o: o, entries: map[string]entry{}}
}

// appendKey appends the store key of a revocation of kind: the prefix, the
// kind and the first half of the SHA-256 of parts (each ended by a NUL).
// Check builds its keys in a buffer on the stack with it: no allocation per
// request.
func appendKey(dst []byte, kind string, parts ...string) []byte {
	var buf [256]byte
	in := buf[:0]
	for _, p := range parts {
		in = append(append(in, p...), 0)
	}
	sum := sha256.Sum256(in)
	dst = append(append(append(dst, revPrefix...), kind...), ':')
	return hex.AppendEncode(dst, sum[:16])
}

func jtiKey(iss, jti string) string { return string(appendKey(nil, "jti", iss, jti)) }
func sidKey(sid string) string      { return string(appendKey(nil, "sid", sid)) }
func subKey(sub string) string      { return string(appendKey(nil, "sub", sub)) }

// Epoch returns the id of the store's current epoch, which starts every
// session id; "" before the first Sync.
func (r *Revocations) Epoch() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.epoch
}

// Check reports whether id, a verified token, may be used: nil, or
// ErrRevoked, or an error that matches state.ErrUnavailable when the local
// copy is stale. Tokens of other issuers are never refused. It reads only
// the local copy.
func (r *Revocations) Check(id auth.Identity) error {
	if id.Issuer != r.o.Issuer {
		return nil
	}
	now := r.o.Now()
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.confirmed.IsZero() || now.Sub(r.confirmed) > r.o.MaxStaleness {
		return errStale
	}
	if id.ID == "" {
		return auth.NewTokenError(auth.ErrInvalidToken, auth.ReasonBadClaims, errors.New("a token of authgate's own needs a jti while revocation is on"))
	}
	if id.IssuedAt.IsZero() {
		return auth.NewTokenError(auth.ErrInvalidToken, auth.ReasonBadClaims, errors.New("a token of authgate's own needs an iat while revocation is on"))
	}
	if id.SessionID != "" {
		// A session of an earlier epoch began before a restart of the memory
		// store, or before Redis lost its data: what revoked it may be lost.
		if ep, _, _ := strings.Cut(id.SessionID, "."); ep != r.epoch {
			return ErrRevoked
		}
	} else if r.o.Shared && id.IssuedAt.Unix() <= r.since {
		return ErrRevoked
	}
	if len(r.entries) == 0 {
		return nil // nothing is revoked: no key to hash
	}
	var key [64]byte // revPrefix, a kind, ":" and 32 hex digits
	if id.SessionID != "" && r.live(appendKey(key[:0], "sid", id.SessionID), now) {
		return ErrRevoked
	}
	if r.live(appendKey(key[:0], "jti", id.Issuer, id.ID), now) {
		return ErrRevoked
	}
	if e, ok := r.entries[string(appendKey(key[:0], "sub", id.Subject))]; ok && now.Before(e.until) {
		// Token times have a resolution of one second: a token issued in the
		// second of the revocation is revoked too.
		if t, err := strconv.ParseInt(e.value, 10, 64); err != nil || id.IssuedAt.Unix() <= t {
			return ErrRevoked
		}
	}
	return nil
}

// SessionRevoked reports whether a session (by its id, its subject and
// when it began) was revoked, for a refresh. It reads only the local copy.
func (r *Revocations) SessionRevoked(sid, sub string, started time.Time) error {
	return r.Check(auth.Identity{Issuer: r.o.Issuer, ID: "session", Subject: sub, SessionID: sid, IssuedAt: started})
}

func (r *Revocations) live(key []byte, now time.Time) bool {
	e, ok := r.entries[string(key)]
	return ok && now.Before(e.until)
}

// RevokeToken revokes one token, by its issuer and jti, until it expires.
func (r *Revocations) RevokeToken(ctx context.Context, iss, jti string, expires time.Time) error {
	ttl := expires.Sub(r.o.Now())
	if ttl <= 0 {
		return nil // already dead
	}
	return r.revoke(ctx, jtiKey(iss, jti), "1", ttl+time.Minute)
}

// RevokeSession revokes a session: its refresh token and every access
// token issued in it.
func (r *Revocations) RevokeSession(ctx context.Context, sid string) error {
	return r.revoke(ctx, sidKey(sid), "1", r.o.Horizon)
}

// RevokeSubject revokes every token and session of sub issued at or before
// t.
func (r *Revocations) RevokeSubject(ctx context.Context, sub string, t time.Time) error {
	return r.revoke(ctx, subKey(sub), strconv.FormatInt(t.Unix(), 10), r.o.Horizon)
}

// revoke writes one revocation, puts it in force here at once, and tells
// the other replicas.
func (r *Revocations) revoke(ctx context.Context, key, value string, ttl time.Duration) error {
	if err := r.st.Set(ctx, key, value, ttl); err != nil {
		return err
	}
	if _, err := r.st.Incr(ctx, revisionKey, epochTTL); err != nil {
		return err
	}
	until := r.o.Now().Add(ttl)
	r.mu.Lock()
	r.entries[key] = entry{value, until}
	r.mu.Unlock()
	// A lost message is healed by the next confirmation's revision check.
	_ = r.st.Publish(ctx, channel, key+"\t"+value+"\t"+strconv.FormatInt(until.UnixMilli(), 10))
	return nil
}

// apply puts a published revocation into the local copy.
func (r *Revocations) apply(msg string) {
	parts := strings.Split(msg, "\t")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], revPrefix) {
		return
	}
	ms, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return
	}
	r.mu.Lock()
	r.entries[parts[0]] = entry{parts[1], time.UnixMilli(ms)}
	r.mu.Unlock()
}

// Sync confirms the local copy against the store: the epoch (starting a
// new one when the marker is gone), and, when the revision changed, every
// revocation. Only a Sync that reached the store confirms the copy.
func (r *Revocations) Sync(ctx context.Context) error {
	now := r.o.Now()
	raw, ok, err := r.st.Get(ctx, epochKey)
	if err != nil {
		return err
	}
	if !ok {
		// A new store, or one that lost its data: a new epoch begins. Of
		// replicas that find the marker gone at once, one writes it.
		fresh := newEpochID() + " " + strconv.FormatInt(now.Unix(), 10)
		if _, err := r.st.Add(ctx, epochKey, fresh, epochTTL); err != nil {
			return err
		}
		if raw, ok, err = r.st.Get(ctx, epochKey); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("%w: the epoch marker vanished as it was written", state.ErrUnavailable)
		}
	}
	id, since, err := parseEpoch(raw)
	if err != nil {
		return fmt.Errorf("%w: the epoch marker %q: %v", state.ErrUnavailable, raw, err)
	}
	revision, _, err := r.st.Get(ctx, revisionKey)
	if err != nil {
		return err
	}
	r.mu.RLock()
	first, changedEpoch, changedRevision, extend := r.confirmed.IsZero(), raw != r.epochRaw, revision != r.revision, now.Sub(r.extended) > time.Hour
	r.mu.RUnlock()
	var entries map[string]entry
	if first || changedEpoch || changedRevision {
		list, err := r.st.Scan(ctx, revPrefix)
		if err != nil {
			return err
		}
		entries = make(map[string]entry, len(list))
		for _, e := range list {
			entries[e.Key] = entry{e.Value, now.Add(e.TTL)}
		}
	}
	if extend {
		if _, err := r.st.Swap(ctx, epochKey, raw, raw, epochTTL); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if changedEpoch && r.epochRaw != "" {
		r.o.Logger.Warn().Str("epoch", id).Time("since", time.Unix(since, 0)).
			Msg("the state store lost its data (its epoch marker is gone): sessions begun before, and revocations made before, are void; their tokens are refused")
	}
	if entries != nil {
		// Published revocations that arrived during the scan are kept.
		for k, e := range r.entries {
			if _, ok := entries[k]; !ok && now.Before(e.until) && !changedEpoch {
				entries[k] = e
			}
		}
		r.entries = entries
	} else {
		for k, e := range r.entries {
			if !now.Before(e.until) {
				delete(r.entries, k)
			}
		}
	}
	r.epoch, r.epochRaw, r.since, r.revision, r.confirmed = id, raw, since, revision, now
	if extend {
		r.extended = now
	}
	return nil
}

func parseEpoch(raw string) (string, int64, error) {
	id, sec, ok := strings.Cut(raw, " ")
	if !ok || id == "" {
		return "", 0, errors.New("want \"<id> <unix seconds>\"")
	}
	since, err := strconv.ParseInt(sec, 10, 64)
	return id, since, err
}

func newEpochID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Ready reports whether the local copy is confirmed and fresh.
func (r *Revocations) Ready() error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.confirmed.IsZero() || r.o.Now().Sub(r.confirmed) > r.o.MaxStaleness {
		return errStale
	}
	return nil
}

// Age is how long ago the local copy was last confirmed (0 before the
// first time), for metrics.
func (r *Revocations) Age() time.Duration {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.confirmed.IsZero() {
		return 0
	}
	return r.o.Now().Sub(r.confirmed)
}

// Failures counts the confirmations that failed, for metrics.
func (r *Revocations) Failures() uint64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.failures
}

// Run keeps the local copy current until ctx is done: it subscribes to the
// store's revocations (again after each failure) and confirms the copy
// every Poll. A failed confirmation is logged once per outage.
func (r *Revocations) Run(ctx context.Context) {
	go r.subscribe(ctx)
	t := time.NewTicker(r.o.Poll)
	defer t.Stop()
	var failing error
	for {
		err := r.Sync(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && failing == nil:
			r.o.Logger.Error().Err(err).Dur("max_staleness", r.o.MaxStaleness).
				Msg("cannot confirm the revocation state; authgate's own tokens are refused once it is older than the max staleness")
		case err == nil && failing != nil:
			r.o.Logger.Info().Msg("the revocation state is confirmed again")
		}
		if err != nil {
			r.mu.Lock()
			r.failures++
			r.mu.Unlock()
		}
		failing = err
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Revocations) subscribe(ctx context.Context) {
	for ctx.Err() == nil {
		msgs, err := r.st.Subscribe(ctx, channel)
		if err == nil {
			for m := range msgs {
				r.apply(m)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(r.o.Poll):
		}
	}
}
