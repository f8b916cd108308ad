// Package throttle limits failed logins, per username and per client
// address, with counters in a state.Store, so that every replica that
// shares the store sees the same counts. A username or address that reaches
// its limit within the window is locked out for a while: even the right
// password is then refused, without computing a hash.
package throttle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"time"

	"github.com/authgate/authgate/state"
)

// Options are the limits (AUTHGATE_LOGIN_*).
type Options struct {
	MaxFailures      int           // per username within Window
	MaxFailuresPerIP int           // per client address within Window, across usernames
	Window           time.Duration // counting starts at the first failure
	Lockout          time.Duration // how long a username or address stays locked out
}

// Throttle counts failed logins and says who is locked out.
type Throttle struct {
	st state.Store
	o  Options
}

// New returns a Throttle that keeps its counters in st.
func New(st state.Store, o Options) *Throttle { return &Throttle{st: st, o: o} }

// Keys in the store.
const (
	failuresPrefix = "login:failures:"
	lockoutPrefix  = "login:lockout:"
)

// A username is hashed: it is any string a client sends, and a
// key must not let one username name another's counter or grow long.
func userKey(username string) string {
	sum := sha256.Sum256([]byte(username))
	return "user:" + hex.EncodeToString(sum[:16])
}

func addrKey(a netip.Addr) string { return "ip:" + a.Unmap().String() }

// counter is one of the counts a login attempt touches, with its limit.
type counter struct {
	key   string
	limit int
}

// counters are the counts of a login attempt: its username's and, when
// known, its client address's.
func (t *Throttle) counters(username string, client netip.Addr) []counter {
	out := []counter{{userKey(username), t.o.MaxFailures}}
	if client.IsValid() {
		out = append(out, counter{addrKey(client), t.o.MaxFailuresPerIP})
	}
	return out
}

// LockedOut returns how much longer the username or the client address is
// locked out (the longer of the two), 0 when neither is. client may be the
// zero Addr when unknown.
func (t *Throttle) LockedOut(ctx context.Context, username string, client netip.Addr) (time.Duration, error) {
	var longest time.Duration
	for _, s := range t.counters(username, client) {
		d, locked, err := t.st.TTL(ctx, lockoutPrefix+s.key)
		if err != nil {
			return 0, err
		}
		if locked {
			longest = max(longest, d)
		}
	}
	return longest, nil
}

// Failed counts a failed login. A counter that reaches its limit locks its
// username or address out for Lockout, and starts again from zero.
func (t *Throttle) Failed(ctx context.Context, username string, client netip.Addr) error {
	for _, s := range t.counters(username, client) {
		n, err := t.st.Incr(ctx, failuresPrefix+s.key, t.o.Window)
		if err != nil {
			return err
		}
		if n < int64(s.limit) {
			continue
		}
		if err := t.st.Set(ctx, lockoutPrefix+s.key, "1", t.o.Lockout); err != nil {
			return err
		}
		if err := t.st.Delete(ctx, failuresPrefix+s.key); err != nil {
			return err
		}
	}
	return nil
}

// Succeeded clears the username's failures. The address's stay: one good
// password does not vouch for the other usernames tried from there.
func (t *Throttle) Succeeded(ctx context.Context, username string) error {
	return t.st.Delete(ctx, failuresPrefix+userKey(username))
}
