// Package state is the little state authgate keeps (refresh-token
// sessions, revocations, failed-login counters) behind one small Store
// interface, with two backends: Memory, embedded, for one replica, and
// Redis, which every replica shares. Every key has a TTL, so nothing grows
// without bound. The code that keeps sessions, revocations and throttles is
// written once, against Store.
package state

import (
	"context"
	"errors"
	"time"
)

// Store is a key/value store whose keys all expire.
type Store interface {
	// Incr adds one to the counter at key and returns its new value. A
	// counter that did not exist starts at 1 and lives for ttl; later
	// increments keep its expiry (a fixed window).
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// Set stores value at key for ttl.
	Set(ctx context.Context, key, value string, ttl time.Duration) error
	// Add stores value at key for ttl unless the key exists, and reports
	// whether it did.
	Add(ctx context.Context, key, value string, ttl time.Duration) (bool, error)
	// Get returns the value at key; false when there is none.
	Get(ctx context.Context, key string) (string, bool, error)
	// TTL returns how much longer key lives; false when there is no key.
	TTL(ctx context.Context, key string) (time.Duration, bool, error)
	// Swap replaces the value at key with new if the value is old, and
	// reports whether it did: with ttl 0 the key keeps its expiry, else it
	// lives for ttl from now. Of concurrent Swaps from the same old value
	// exactly one succeeds: a refresh token is spent once.
	Swap(ctx context.Context, key, old, new string, ttl time.Duration) (bool, error)
	// Delete removes keys; absent ones are no error.
	Delete(ctx context.Context, keys ...string) error
	// Scan returns every live key that starts with prefix, with its value
	// and remaining TTL, in no particular order.
	Scan(ctx context.Context, prefix string) ([]Entry, error)
	// Publish sends msg to the subscribers of channel, on every replica.
	Publish(ctx context.Context, channel, msg string) error
	// Subscribe delivers the messages published to channel until ctx is
	// done, then closes the channel it returned. Messages published while a
	// subscriber is cut off from the store are lost: subscribers resync
	// from Scan.
	Subscribe(ctx context.Context, channel string) (<-chan string, error)
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	// Close releases the store's connections.
	Close() error
}

// Entry is one key of a Scan.
type Entry struct {
	Key, Value string
	TTL        time.Duration
}

// ErrUnavailable is the kind of every error of a Store that could not do
// what was asked (unreachable, timed out, or answering an error): callers
// fail closed on it. Compare with errors.Is.
var ErrUnavailable = errors.New("the state store is unavailable")

// ErrNoTTL refuses a key without a positive TTL: nothing may live forever.
var ErrNoTTL = errors.New("every key needs a positive TTL")

// unavailable wraps the cause of a failed operation.
type unavailable struct {
	op  string
	err error
}

func (e *unavailable) Error() string {
	return ErrUnavailable.Error() + ": " + e.op + ": " + e.err.Error()
}
func (e *unavailable) Is(target error) bool { return target == ErrUnavailable }
func (e *unavailable) Unwrap() error        { return e.err }
