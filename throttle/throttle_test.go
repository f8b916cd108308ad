package throttle

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/internal/redistest"
	"github.com/authgate/authgate/state"
)

var (
	ctx     = context.Background()
	mallory = netip.MustParseAddr("203.0.113.9")
	other   = netip.MustParseAddr("198.51.100.4")
)

func lockedFor(t *testing.T, th *Throttle, user string, addr netip.Addr) time.Duration {
	t.Helper()
	d, err := th.LockedOut(ctx, user, addr)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func fail(t *testing.T, th *Throttle, user string, addr netip.Addr, times int) {
	t.Helper()
	for range times {
		if err := th.Failed(ctx, user, addr); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPerUsername(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	th := New(state.NewMemory(func() time.Time { return now }), Options{MaxFailures: 5, MaxFailuresPerIP: 50, Window: 15 * time.Minute, Lockout: 15 * time.Minute})

	fail(t, th, "alice", mallory, 4)
	if d := lockedFor(t, th, "alice", mallory); d != 0 {
		t.Fatalf("locked out after 4 failures: %v", d)
	}
	fail(t, th, "alice", mallory, 1)
	if d := lockedFor(t, th, "alice", other); d != 15*time.Minute {
		t.Errorf("after 5 failures alice is locked out for %v from another address, want 15m", d)
	}
	if d := lockedFor(t, th, "bob", other); d != 0 {
		t.Errorf("bob is locked out too: %v", d)
	}
	now = now.Add(10 * time.Minute)
	if d := lockedFor(t, th, "alice", other); d != 5*time.Minute {
		t.Errorf("10 minutes in, Retry-After would be %v, want 5m", d)
	}
	now = now.Add(5 * time.Minute)
	if d := lockedFor(t, th, "alice", other); d != 0 {
		t.Errorf("the lockout outlived itself: %v", d)
	}
	fail(t, th, "alice", other, 4)
	if d := lockedFor(t, th, "alice", other); d != 0 {
		t.Error("after a lockout the count starts again from zero")
	}
}

func TestWindowAndSuccess(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	th := New(state.NewMemory(func() time.Time { return now }), Options{MaxFailures: 3, MaxFailuresPerIP: 100, Window: time.Minute, Lockout: time.Hour})
	fail(t, th, "alice", mallory, 2)
	now = now.Add(61 * time.Second)
	fail(t, th, "alice", mallory, 2)
	if d := lockedFor(t, th, "alice", mallory); d != 0 {
		t.Error("failures of an expired window still count")
	}
	if err := th.Succeeded(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	fail(t, th, "alice", mallory, 2)
	if d := lockedFor(t, th, "alice", mallory); d != 0 {
		t.Error("a successful login did not clear the username's failures")
	}
	fail(t, th, "alice", mallory, 1)
	if d := lockedFor(t, th, "alice", mallory); d != time.Hour {
		t.Errorf("3 failures after the success: locked out %v, want 1h", d)
	}
}

// TestPerAddress: an address that tries many usernames is locked out for
// all of them, the unknown ones counted like the others; a successful login
// does not clear the address.
func TestPerAddress(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	th := New(state.NewMemory(func() time.Time { return now }), Options{MaxFailures: 5, MaxFailuresPerIP: 10, Window: time.Hour, Lockout: time.Hour})
	for i := range 9 {
		fail(t, th, "nobody-"+strings.Repeat("x", i), mallory, 1)
	}
	if err := th.Succeeded(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if d := lockedFor(t, th, "carol", mallory); d != 0 {
		t.Fatal("locked out after 9 failures of the address")
	}
	fail(t, th, "never-existed", mallory, 1)
	if d := lockedFor(t, th, "alice", mallory); d != time.Hour {
		t.Errorf("after 10 failures from one address alice is locked out there for %v, want 1h", d)
	}
	if d := lockedFor(t, th, "alice", other); d != 0 {
		t.Errorf("alice is locked out from another address: %v", d)
	}
	if d := lockedFor(t, th, "alice", netip.Addr{}); d != 0 {
		t.Errorf("an unknown address shares the lockout: %v", d)
	}
	if d := lockedFor(t, th, "x", netip.MustParseAddr("::ffff:203.0.113.9")); d != time.Hour {
		t.Error("the IPv4-mapped form of the address escapes its lockout")
	}
}

func TestUsernamesAreHashed(t *testing.T) {
	st := state.NewMemory(nil)
	th := New(st, Options{MaxFailures: 5, MaxFailuresPerIP: 50, Window: time.Hour, Lockout: time.Hour})
	fail(t, th, "ip:203.0.113.9", other, 1)
	entries, _ := st.Scan(ctx, "")
	for _, e := range entries {
		if strings.Contains(e.Key, "203.0.113.9") && !strings.HasSuffix(e.Key, "ip:198.51.100.4") {
			t.Errorf("a username reached a key unhashed: %s", e.Key)
		}
	}
}

// TestSharedByReplicas: two throttles on one real Redis count together, and
// a Redis that is down is an error, never "not locked out".
func TestSharedByReplicas(t *testing.T) {
	srv := redistest.Start(t)
	open := func() *Throttle {
		st, err := state.OpenRedis(srv.URL(), "authgate:")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return New(st, Options{MaxFailures: 4, MaxFailuresPerIP: 50, Window: time.Minute, Lockout: 400 * time.Millisecond})
	}
	a, b := open(), open()
	fail(t, a, "alice", mallory, 2)
	fail(t, b, "alice", other, 2)
	if d := lockedFor(t, a, "alice", other); d <= 0 || d > 400*time.Millisecond {
		t.Errorf("2+2 failures on two replicas: locked out %v, want up to 400ms", d)
	}
	time.Sleep(450 * time.Millisecond)
	if d := lockedFor(t, b, "alice", other); d != 0 {
		t.Errorf("the lockout outlived its TTL in Redis: %v", d)
	}
	srv.Kill()
	if _, err := a.LockedOut(ctx, "alice", mallory); !errors.Is(err, state.ErrUnavailable) {
		t.Errorf("LockedOut with Redis down = %v, want ErrUnavailable", err)
	}
	if err := a.Failed(ctx, "alice", mallory); !errors.Is(err, state.ErrUnavailable) {
		t.Errorf("Failed with Redis down = %v, want ErrUnavailable", err)
	}
}
