package session

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/internal/redistest"
	"github.com/authgate/authgate/state"
)

const testSecret = "session-tests-secret-0123456789abcdef-012345"

var cheap = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type fixture struct {
	clock    *clock
	st       state.Store
	rev      *Revocations
	sessions *Sessions
	issuer   *auth.Issuer
	verifier *CheckingVerifier
	users    *auth.Users
}

func users(t *testing.T, roles ...any) *auth.Users {
	t.Helper()
	u, err := auth.NewUsers([]auth.User{{Username: "alice", ID: "1", Password: auth.HashArgon2id("pw", cheap), Claims: map[string]any{"roles": roles}}})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// newFixture builds sessions on st (a memory store on the fixture's clock
// when nil).
func newFixture(t *testing.T, st state.Store) *fixture {
	t.Helper()
	f := &fixture{clock: &clock{now: time.Now().Truncate(time.Second)}}
	now, shared := f.clock.Now, true
	if st == nil {
		st, shared = state.NewMemory(f.clock.Now), false
	} else {
		now = time.Now // Redis keeps real time
	}
	f.st = st
	f.rev = NewRevocations(st, RevocationOptions{Issuer: "authgate", Horizon: 200 * time.Hour, MaxStaleness: time.Hour, Shared: shared, Now: now})
	if err := f.rev.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	f.sessions = NewSessions(st, f.rev, 168*time.Hour, now)
	key, _ := auth.NewHMACKey([]byte(testSecret))
	ks, _ := auth.NewKeySet(key)
	f.issuer, _ = auth.NewIssuer(ks, auth.IssuerOptions{Issuer: "authgate", TTL: time.Hour, Now: now})
	v, _ := auth.NewVerifier(ks, auth.VerifierOptions{Issuer: "authgate", Now: now, Leeway: 30 * time.Second})
	f.verifier = NewCheckingVerifier(v, f.rev)
	f.users = users(t, "user")
	return f
}

func (f *fixture) login(t *testing.T) Tokens {
	t.Helper()
	u, _ := f.users.Lookup("alice")
	tok, err := f.sessions.Start(ctx, u, f.issuer, 0)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *fixture) verify(tok Tokens) (auth.Identity, error) {
	return f.verifier.Verify(context.Background(), tok.Access.Token)
}

func forEachStore(t *testing.T, test func(t *testing.T, f *fixture)) {
	t.Run("memory", func(t *testing.T) { test(t, newFixture(t, nil)) })
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		st, err := state.OpenRedis(srv.URL(), "authgate:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		test(t, newFixture(t, st))
	})
}

func TestRotationAndReuse(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		first := f.login(t)
		id, err := f.verify(first)
		if err != nil || !strings.HasPrefix(id.SessionID, f.rev.Epoch()+".") || id.Claims().Map()["username"] != "alice" {
			t.Fatalf("the login's access token: %+v, %v", id, err)
		}
		if len(first.Refresh) < 43 || strings.Count(first.Refresh, ".") != 0 {
			t.Errorf("refresh token %q: want at least 256 bits, base64url, not a JWT", first.Refresh)
		}
		second, err := f.sessions.Refresh(ctx, first.Refresh, f.users, f.issuer)
		if err != nil {
			t.Fatal(err)
		}
		id2, err := f.verify(second)
		if err != nil || id2.SessionID != id.SessionID || second.Refresh == first.Refresh || !second.RefreshExpires.Equal(first.RefreshExpires) {
			t.Fatalf("the refresh: %+v %v; the session and its end must stay, the refresh token change", id2, err)
		}
		// Reuse: the spent token again ends the whole session.
		if _, err := f.sessions.Refresh(ctx, first.Refresh, f.users, f.issuer); !errors.Is(err, ErrRefreshReused) || !errors.Is(err, ErrInvalidRefresh) {
			t.Fatalf("a spent refresh token again = %v, want reuse", err)
		}
		if _, err := f.sessions.Refresh(ctx, second.Refresh, f.users, f.issuer); !errors.Is(err, ErrInvalidRefresh) {
			t.Errorf("the session's live refresh token after reuse = %v, want invalid", err)
		}
		for name, tok := range map[string]Tokens{"first": first, "second": second} {
			if _, err := f.verify(tok); !errors.Is(err, auth.ErrTokenRevoked) {
				t.Errorf("the %s access token of the session after reuse = %v, want revoked", name, err)
			}
		}
		if _, err := f.sessions.Refresh(ctx, "no-such-token", f.users, f.issuer); !errors.Is(err, ErrInvalidRefresh) {
			t.Errorf("an unknown refresh token = %v", err)
		}
		other := f.login(t)
		if _, err := f.verify(other); err != nil {
			t.Errorf("another session of the user after the reuse: %v", err)
		}
	})
}

func TestConcurrentRefresh(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		tok := f.login(t)
		var wins, reused atomic.Int32
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				_, err := f.sessions.Refresh(ctx, tok.Refresh, f.users, f.issuer)
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, ErrInvalidRefresh):
					reused.Add(1)
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || reused.Load() != 19 {
			t.Errorf("of 20 concurrent refreshes %d won and %d lost, want exactly 1 and 19", wins.Load(), reused.Load())
		}
	})
}

func TestSessionEnds(t *testing.T) {
	t.Run("absolute lifetime", func(t *testing.T) {
		f := newFixture(t, nil)
		tok := f.login(t)
		f.clock.Add(167 * time.Hour)
		f.rev.Sync(ctx) // as the running replica does every half second
		tok, err := f.sessions.Refresh(ctx, tok.Refresh, f.users, f.issuer)
		if err != nil {
			t.Fatalf("a refresh an hour before the session ends: %v", err)
		}
		if got := tok.RefreshExpires.Sub(f.clock.Now()); got != time.Hour {
			t.Errorf("refresh_expires_in after 167h = %v, want 1h: the session ends 168h after the login", got)
		}
		f.clock.Add(time.Hour)
		f.rev.Sync(ctx)
		if _, err := f.sessions.Refresh(ctx, tok.Refresh, f.users, f.issuer); !errors.Is(err, ErrInvalidRefresh) {
			t.Errorf("a refresh at the session's end = %v, want invalid", err)
		}
	})
	t.Run("user removed", func(t *testing.T) {
		f := newFixture(t, nil)
		tok := f.login(t)
		none, _ := auth.NewUsers(nil)
		if _, err := f.sessions.Refresh(ctx, tok.Refresh, none, f.issuer); !errors.Is(err, ErrInvalidRefresh) {
			t.Errorf("a refresh of a removed user = %v", err)
		}
		if _, err := f.verify(tok); !errors.Is(err, auth.ErrTokenRevoked) {
			t.Errorf("the removed user's access token = %v, want revoked: the session ended", err)
		}
	})
	t.Run("password changed", func(t *testing.T) {
		f := newFixture(t, nil)
		tok := f.login(t)
		if _, err := f.sessions.Refresh(ctx, tok.Refresh, users(t, "user"), f.issuer); !errors.Is(err, ErrInvalidRefresh) {
			t.Errorf("a refresh after a new password hash = %v", err)
		}
	})
	t.Run("fresh claims", func(t *testing.T) {
		f := newFixture(t, nil)
		tok := f.login(t)
		promoted := users(t, "admin")
		p, _ := promoted.Lookup("alice")
		u, _ := f.users.Lookup("alice")
		u.Claims = p.Claims // the same password hash, new roles
		same, _ := auth.NewUsers([]auth.User{u})
		next, err := f.sessions.Refresh(ctx, tok.Refresh, same, f.issuer)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := f.verify(next)
		if roles, _ := id.Claims().Map()["roles"].([]any); len(roles) != 1 || roles[0] != "admin" {
			t.Errorf("roles after a refresh = %v, want the file's new [admin]", id.Claims().Map()["roles"])
		}
	})
	t.Run("logout by refresh token", func(t *testing.T) {
		f := newFixture(t, nil)
		tok := f.login(t)
		if err := f.sessions.End(ctx, tok.Refresh); err != nil {
			t.Fatal(err)
		}
		if _, err := f.verify(tok); !errors.Is(err, auth.ErrTokenRevoked) {
			t.Errorf("the access token after the session ended = %v", err)
		}
		if err := f.sessions.End(ctx, tok.Refresh); !errors.Is(err, ErrInvalidRefresh) {
			t.Errorf("ending it again = %v", err)
		}
	})
}

// TestOnlyHashesAreStored: no refresh token appears in the store.
func TestOnlyHashesAreStored(t *testing.T) {
	forEachStore(t, func(t *testing.T, f *fixture) {
		tok := f.login(t)
		entries, err := f.st.Scan(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.Contains(e.Key, tok.Refresh) || strings.Contains(e.Value, tok.Refresh) {
				t.Errorf("the refresh token is stored in %s", e.Key)
			}
			if strings.HasPrefix(e.Key, refreshPrefix) && (e.TTL <= 167*time.Hour || e.TTL > 168*time.Hour) {
				t.Errorf("the refresh record lives %v, want the session's 168h", e.TTL)
			}
		}
	})
}
