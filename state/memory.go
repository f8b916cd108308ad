package state

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sweepEvery is how many writes pass between sweeps of expired keys.
const sweepEvery = 1024

// Memory is the embedded Store: one process's state, gone when it exits.
type Memory struct {
	now func() time.Time

	mu     sync.Mutex
	items  map[string]item
	writes int
	subs   map[string]map[chan string]struct{}
	closed bool
}

type item struct {
	value   string
	expires time.Time
}

// NewMemory returns an empty Memory whose clock is now (nil: time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, items: map[string]item{}, subs: map[string]map[chan string]struct{}{}}
}

// live returns the item at key unless it has expired. m.mu is held.
func (m *Memory) live(key string, now time.Time) (item, bool) {
	it, ok := m.items[key]
	if ok && !now.Before(it.expires) {
		delete(m.items, key)
		return item{}, false
	}
	return it, ok
}

// put stores an item and, every sweepEvery writes, drops expired ones, so
// that keys nobody reads again do not pile up. m.mu is held.
func (m *Memory) put(key string, it item, now time.Time) {
	m.items[key] = it
	if m.writes++; m.writes%sweepEvery == 0 {
		maps.DeleteFunc(m.items, func(_ string, it item) bool { return !now.Before(it.expires) })
	}
}

func (m *Memory) Incr(_ context.Context, key string, ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		return 0, ErrNoTTL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	it, ok := m.live(key, now)
	n := int64(1)
	if ok {
		v, err := strconv.ParseInt(it.value, 10, 64)
		if err != nil {
			return 0, &unavailable{"incr", err}
		}
		n = v + 1
	} else {
		it.expires = now.Add(ttl)
	}
	it.value = strconv.FormatInt(n, 10)
	m.put(key, it, now)
	return n, nil
}

func (m *Memory) Set(_ context.Context, key, value string, ttl time.Duration) error {
	if ttl <= 0 {
		return ErrNoTTL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.put(key, item{value: value, expires: now.Add(ttl)}, now)
	return nil
}

func (m *Memory) Add(_ context.Context, key, value string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, ErrNoTTL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if _, ok := m.live(key, now); ok {
		return false, nil
	}
	m.put(key, item{value: value, expires: now.Add(ttl)}, now)
	return true, nil
}

func (m *Memory) Get(_ context.Context, key string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.live(key, m.now())
	return it.value, ok, nil
}

func (m *Memory) TTL(_ context.Context, key string) (time.Duration, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	it, ok := m.live(key, now)
	if !ok {
		return 0, false, nil
	}
	return it.expires.Sub(now), true, nil
}

func (m *Memory) Swap(_ context.Context, key, old, new string, ttl time.Duration) (bool, error) {
	if ttl < 0 {
		return false, ErrNoTTL
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	it, ok := m.live(key, now)
	if !ok || it.value != old {
		return false, nil
	}
	it.value = new
	if ttl > 0 {
		it.expires = now.Add(ttl)
	}
	m.put(key, it, now)
	return true, nil
}

func (m *Memory) Delete(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.items, k)
	}
	return nil
}

func (m *Memory) Scan(_ context.Context, prefix string) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var out []Entry
	for _, k := range slices.Sorted(maps.Keys(m.items)) {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if it, ok := m.live(k, now); ok {
			out = append(out, Entry{Key: k, Value: it.value, TTL: it.expires.Sub(now)})
		}
	}
	return out, nil
}

// Publish hands msg to every subscriber of channel in this process. A
// subscriber that has fallen 64 messages behind misses it, as one cut off
// from Redis would, and resyncs.
func (m *Memory) Publish(_ context.Context, channel, msg string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for c := range m.subs[channel] {
		select {
		case c <- msg:
		default:
		}
	}
	return nil
}

func (m *Memory) Subscribe(ctx context.Context, channel string) (<-chan string, error) {
	c := make(chan string, 64)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		close(c)
		return c, nil
	}
	if m.subs[channel] == nil {
		m.subs[channel] = map[chan string]struct{}{}
	}
	m.subs[channel][c] = struct{}{}
	go func() {
		<-ctx.Done()
		m.mu.Lock()
		defer m.mu.Unlock()
		if _, ok := m.subs[channel][c]; ok {
			delete(m.subs[channel], c)
			close(c)
		}
	}()
	return c, nil
}

func (m *Memory) Ping(context.Context) error { return nil }

// Close ends every subscription.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	for _, cs := range m.subs {
		for c := range cs {
			close(c)
		}
	}
	m.subs = map[string]map[chan string]struct{}{}
	return nil
}
