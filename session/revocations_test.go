package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/internal/redistest"
	"github.com/authgate/authgate/state"
)

var ctx = context.Background()

// clock is a settable time for the memory store and the revocations.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newMemoryRevocations(t *testing.T, c *clock) (*Revocations, *state.Memory) {
	t.Helper()
	st := state.NewMemory(c.Now)
	r := NewRevocations(st, RevocationOptions{Issuer: "authgate", Horizon: 24 * time.Hour, MaxStaleness: 30 * time.Second, Now: c.Now})
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	return r, st
}

func own(r *Revocations, jti, sid, sub string, iat time.Time) auth.Identity {
	if sid != "" {
		sid = r.Epoch() + "." + sid
	}
	return auth.Identity{Issuer: "authgate", ID: jti, SessionID: sid, Subject: sub, IssuedAt: iat}
}

func TestCheck(t *testing.T) {
	c := &clock{now: time.Unix(1_800_000_000, 0)}
	r, _ := newMemoryRevocations(t, c)
	t0 := c.Now()
	fresh := own(r, "j1", "s1", "alice", t0)
	if err := r.Check(fresh); err != nil {
		t.Fatalf("a fresh token: %v", err)
	}
	if err := r.RevokeToken(ctx, "authgate", "j1", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		id   auth.Identity
		want error // nil, ErrRevoked, or a kind
	}{
		{"the revoked jti", own(r, "j1", "", "alice", t0), ErrRevoked},
		{"the revoked jti, another session: re-signing keeps jti", own(r, "j1", "s9", "bob", t0), ErrRevoked},
		{"another jti", own(r, "j2", "s1", "alice", t0), nil},
		{"another issuer is never checked", auth.Identity{Issuer: "https://idp.example", ID: "j1", Subject: "alice"}, nil},
		{"another issuer without jti", auth.Identity{Issuer: "https://idp.example", Subject: "alice"}, nil},
		{"own token without jti", own(r, "", "", "alice", t0), auth.ErrInvalidToken},
		{"own token without iat", auth.Identity{Issuer: "authgate", ID: "j3", Subject: "alice"}, auth.ErrInvalidToken},
		{"a session of another epoch", auth.Identity{Issuer: "authgate", ID: "j4", SessionID: "oldepoch.s1", Subject: "alice", IssuedAt: t0}, ErrRevoked},
	}
	for _, tt := range tests {
		err := r.Check(tt.id)
		if (tt.want == nil) != (err == nil) || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: Check = %v, want %v", tt.name, err, tt.want)
		}
	}

	if err := r.RevokeSession(ctx, r.Epoch()+".s1"); err != nil {
		t.Fatal(err)
	}
	if err := r.Check(own(r, "j5", "s1", "alice", t0)); !errors.Is(err, ErrRevoked) {
		t.Errorf("a token of the revoked session: %v", err)
	}
	if err := r.SessionRevoked(r.Epoch()+".s1", "alice", t0); !errors.Is(err, ErrRevoked) {
		t.Errorf("SessionRevoked of the revoked session: %v", err)
	}
	if err := r.Check(own(r, "j6", "s2", "alice", t0)); err != nil {
		t.Errorf("a token of another session: %v", err)
	}

	c.Add(10 * time.Second)
	if err := r.RevokeSubject(ctx, "alice", c.Now()); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		iat  time.Time
		want bool
	}{{t0, true}, {c.Now(), true}, {c.Now().Add(time.Second), false}} {
		err := r.Check(own(r, "j7", "s3", "alice", tt.iat))
		if errors.Is(err, ErrRevoked) != tt.want {
			t.Errorf("alice's token of %v after revoking her as of %v: %v, revoked want %v", tt.iat, c.Now(), err, tt.want)
		}
	}
	if err := r.Check(own(r, "j8", "s3", "bob", t0)); err != nil {
		t.Errorf("bob's token after revoking alice: %v", err)
	}

	// Revocations end with what they revoke: the jti one after the token's
	// expiry (plus a minute).
	c.Add(time.Hour + 2*time.Minute)
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Check(own(r, "j1", "", "carol", t0)); err != nil {
		t.Errorf("the jti revocation outlived its token: %v", err)
	}
}

func TestStale(t *testing.T) {
	c := &clock{now: time.Unix(1_800_000_000, 0)}
	st := state.NewMemory(c.Now)
	r := NewRevocations(st, RevocationOptions{Issuer: "authgate", Horizon: time.Hour, MaxStaleness: 30 * time.Second, Now: c.Now})
	id := auth.Identity{Issuer: "authgate", ID: "j", Subject: "alice", IssuedAt: c.Now()}
	if err := r.Check(id); !errors.Is(err, state.ErrUnavailable) {
		t.Errorf("before the first sync: %v, want ErrUnavailable (fail closed)", err)
	}
	if err := r.Check(auth.Identity{Issuer: "https://idp.example", Subject: "x"}); err != nil {
		t.Errorf("another issuer's token before the first sync: %v", err)
	}
	if err := r.Ready(); err == nil {
		t.Error("Ready before the first sync")
	}
	r.Sync(ctx)
	if err := r.Check(id); err != nil || r.Ready() != nil {
		t.Fatalf("after a sync: %v, ready %v", err, r.Ready())
	}
	c.Add(31 * time.Second)
	if err := r.Check(id); !errors.Is(err, state.ErrUnavailable) {
		t.Errorf("31s after the last confirmation: %v, want ErrUnavailable", err)
	}
	if r.Age() != 31*time.Second {
		t.Errorf("Age = %v", r.Age())
	}
}

// TestMemoryRestart: a new process has a new memory store, and so a new
// epoch: sessions of the old one are refused, tokens without one are not.
func TestMemoryRestart(t *testing.T) {
	c := &clock{now: time.Unix(1_800_000_000, 0)}
	before, _ := newMemoryRevocations(t, c)
	session := own(before, "j1", "s1", "alice", c.Now())
	loose := own(before, "j2", "", "alice", c.Now())
	c.Add(time.Minute)
	after, _ := newMemoryRevocations(t, c)
	if after.Epoch() == before.Epoch() || after.Epoch() == "" {
		t.Fatalf("epochs %q and %q", before.Epoch(), after.Epoch())
	}
	if err := after.Check(session); !errors.Is(err, ErrRevoked) {
		t.Errorf("a session token from before the restart: %v, want revoked", err)
	}
	if err := after.Check(loose); err != nil {
		t.Errorf("a token without a session from before the restart: %v, want valid", err)
	}
}

// redisReplicas starts a real Redis and n replicas' revocation states on
// it, each running.
func redisReplicas(t *testing.T, n int, staleness time.Duration) (*redistest.Server, []*Revocations) {
	t.Helper()
	srv := redistest.Start(t)
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	var out []*Revocations
	for range n {
		st, err := state.OpenRedis(srv.URL(), "authgate:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		r := NewRevocations(st, RevocationOptions{Issuer: "authgate", Horizon: time.Hour, MaxStaleness: staleness, Shared: true, Poll: 100 * time.Millisecond})
		wg.Go(func() { r.Run(rctx) })
		out = append(out, r)
	}
	for _, r := range out {
		waitFor(t, "a replica syncs", func() bool { return r.Ready() == nil })
	}
	return srv, out
}

func waitFor(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 10*time.Second {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("after 10s: %s", what)
	return 0
}

func TestReplicas(t *testing.T) {
	_, rs := redisReplicas(t, 3, 5*time.Second)
	if rs[0].Epoch() != rs[1].Epoch() || rs[1].Epoch() != rs[2].Epoch() {
		t.Fatalf("the replicas disagree on the epoch: %s %s %s", rs[0].Epoch(), rs[1].Epoch(), rs[2].Epoch())
	}
	past := time.Now().Add(-time.Hour) // before the epoch began
	id := own(rs[0], "j1", "s1", "alice", time.Now())
	if err := rs[2].Check(id); err != nil {
		t.Fatal(err)
	}
	if err := rs[2].Check(own(rs[0], "j0", "", "alice", past)); !errors.Is(err, ErrRevoked) {
		t.Errorf("with a shared store, an own token from before the epoch: %v, want revoked", err)
	}
	if err := rs[0].RevokeToken(ctx, "authgate", "j1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := rs[0].Check(id); !errors.Is(err, ErrRevoked) {
		t.Errorf("on the replica that revoked: %v", err)
	}
	for i, r := range rs[1:] {
		d := waitFor(t, "the revocation reaches the other replicas", func() bool { return errors.Is(r.Check(id), ErrRevoked) })
		t.Logf("replica %d refused the revoked token %v after the revocation", i+2, d.Round(time.Microsecond))
		if d > time.Second {
			t.Errorf("replica %d took %v, over the 1s bound", i+2, d)
		}
	}

	// A revocation whose message is lost (written behind authgate's back,
	// as if published while a replica was cut off) arrives by the revision.
	st := rs[0].st
	st.Set(ctx, sidKey(rs[0].Epoch()+".s2"), "1", time.Hour)
	st.Incr(ctx, revisionKey, epochTTL)
	lost := own(rs[0], "j9", "s2", "bob", time.Now())
	d := waitFor(t, "a revocation without its message heals", func() bool { return errors.Is(rs[2].Check(lost), ErrRevoked) })
	t.Logf("a revocation without a message arrived after %v", d.Round(time.Millisecond))
}

// TestRedisLosesItsData flushes the real Redis: the replicas start a new
// epoch together, and every own token from before it is refused, so that a
// lost revocation cannot revive one.
func TestRedisLosesItsData(t *testing.T) {
	srv, rs := redisReplicas(t, 2, 5*time.Second)
	old := rs[0].Epoch()
	// Wait for a clean second, so that tokens issued before the flush are
	// in an earlier second than the new epoch (token times are seconds).
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	session := own(rs[0], "j1", "s1", "alice", time.Now())
	loose := own(rs[0], "j2", "", "alice", time.Now())
	if err := rs[1].Check(session); err != nil {
		t.Fatal(err)
	}
	if err := rs[0].RevokeToken(ctx, "authgate", "j3", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	if got := srv.Do("FLUSHALL"); got != "+OK" {
		t.Fatalf("FLUSHALL = %q", got)
	}
	for i, r := range rs {
		waitFor(t, "a new epoch", func() bool { return r.Epoch() != old && r.Ready() == nil })
		if err := r.Check(session); !errors.Is(err, ErrRevoked) {
			t.Errorf("replica %d: a session token from before the flush: %v", i+1, err)
		}
		if err := r.Check(loose); !errors.Is(err, ErrRevoked) {
			t.Errorf("replica %d: a token without a session from before the flush: %v", i+1, err)
		}
	}
	if rs[0].Epoch() != rs[1].Epoch() {
		t.Errorf("the replicas began different epochs: %s, %s", rs[0].Epoch(), rs[1].Epoch())
	}
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	if err := rs[1].Check(own(rs[0], "j4", "s4", "alice", time.Now())); err != nil {
		t.Errorf("a token of the new epoch: %v", err)
	}
}

// TestRedisDown kills the real Redis: once the copy is older than the max
// staleness, own tokens are refused as unavailable and others' are not;
// with Redis back, the replica confirms its copy again by itself.
func TestRedisDown(t *testing.T) {
	srv, rs := redisReplicas(t, 1, 500*time.Millisecond)
	r := rs[0]
	id := own(r, "j1", "", "alice", time.Now())
	srv.Kill()
	d := waitFor(t, "own tokens are refused", func() bool { return errors.Is(r.Check(id), state.ErrUnavailable) })
	t.Logf("own tokens refused %v after Redis died (max staleness 500ms)", d.Round(time.Millisecond))
	if err := r.Check(auth.Identity{Issuer: "https://idp.example", Subject: "x"}); err != nil {
		t.Errorf("another issuer's token with Redis down: %v", err)
	}
	if r.Ready() == nil {
		t.Error("Ready with a stale copy")
	}
	srv.Start()
	waitFor(t, "the copy is confirmed again", func() bool { return r.Ready() == nil })
	// Redis came back empty: a new epoch, and the token from before it is
	// refused as revoked now, not as unavailable.
	if err := r.Check(id); !errors.Is(err, ErrRevoked) {
		t.Errorf("a token from before Redis came back empty: %v, want revoked", err)
	}
}

// TestKeys pins the store keys (a revocation written by an older authgate
// into Redis must still be found) and proves Check hashes them without
// allocating, also for parts longer than its stack buffer.
func TestKeys(t *testing.T) {
	sum := sha256.Sum256([]byte("authgate\x00j1\x00"))
	if got, want := jtiKey("authgate", "j1"), "rev:jti:"+hex.EncodeToString(sum[:16]); got != want {
		t.Errorf("jtiKey = %q, want %q", got, want)
	}
	sum = sha256.Sum256([]byte("alice\x00"))
	if got, want := subKey("alice"), "rev:sub:"+hex.EncodeToString(sum[:16]); got != want {
		t.Errorf("subKey = %q, want %q", got, want)
	}

	c := &clock{now: time.Unix(1_800_000_000, 0)}
	r, _ := newMemoryRevocations(t, c)
	long := strings.Repeat("j", 300)
	if err := r.RevokeToken(ctx, "authgate", long, c.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := r.Check(own(r, long, "s1", "alice", c.Now())); !errors.Is(err, ErrRevoked) {
		t.Errorf("a revoked jti of 300 bytes: %v", err)
	}
	id := own(r, "j2", "s1", "alice", c.Now())
	if n := testing.AllocsPerRun(100, func() {
		if err := r.Check(id); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Check allocates %v times", n)
	}
}
