package state

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/internal/redistest"
)

// backend is a Store under test and a way to let time pass for it: the
// memory store's injected clock, or real time for Redis (kept short).
type backend struct {
	name  string
	store Store
	pass  func(time.Duration)
}

func backends(t *testing.T) []backend {
	t.Helper()
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	mem := NewMemory(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	t.Cleanup(func() { mem.Close() })
	out := []backend{{"memory", mem, func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }}}
	srv := redistest.Start(t)
	r, err := OpenRedis(srv.URL(), "authgate-test:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return append(out, backend{"redis", r, time.Sleep})
}

func TestStore(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { conformance(t, b) })
	}
}

// conformance is what sessions, revocation and throttling rely on, for
// every backend alike.
func conformance(t *testing.T, b backend) {
	ctx := context.Background()
	st := b.store
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	const short = 300 * time.Millisecond

	t.Run("incr is a fixed window", func(t *testing.T) {
		for want := int64(1); want <= 3; want++ {
			n, err := st.Incr(ctx, "incr:a", short)
			if err != nil || n != want {
				t.Fatalf("Incr = %d, %v; want %d", n, err, want)
			}
		}
		d, ok, err := st.TTL(ctx, "incr:a")
		if err != nil || !ok || d <= 0 || d > short {
			t.Errorf("TTL of a counter = %v, %v, %v; want (0, %v]", d, ok, err, short)
		}
		b.pass(short + 50*time.Millisecond)
		if n, err := st.Incr(ctx, "incr:a", short); err != nil || n != 1 {
			t.Errorf("Incr after the window = %d, %v; want a new window at 1", n, err)
		}
		must(st.Set(ctx, "incr:text", "abc", time.Minute))
		if _, err := st.Incr(ctx, "incr:text", time.Minute); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Incr of a value that is no number = %v, want ErrUnavailable", err)
		}
	})

	t.Run("set, get, ttl and expiry", func(t *testing.T) {
		must(st.Set(ctx, "kv:a", "1", short))
		if v, ok, err := st.Get(ctx, "kv:a"); v != "1" || !ok || err != nil {
			t.Errorf("Get = %q, %v, %v", v, ok, err)
		}
		if _, ok, err := st.Get(ctx, "kv:none"); ok || err != nil {
			t.Errorf("Get of no key = %v, %v", ok, err)
		}
		if _, ok, err := st.TTL(ctx, "kv:none"); ok || err != nil {
			t.Errorf("TTL of no key = %v, %v", ok, err)
		}
		b.pass(short + 50*time.Millisecond)
		if _, ok, _ := st.Get(ctx, "kv:a"); ok {
			t.Error("a key outlived its TTL")
		}
		for name, err := range map[string]error{
			"Set":  st.Set(ctx, "kv:forever", "x", 0),
			"Incr": func() error { _, err := st.Incr(ctx, "kv:forever", -time.Second); return err }(),
			"Add":  func() error { _, err := st.Add(ctx, "kv:forever", "x", 0); return err }(),
		} {
			if !errors.Is(err, ErrNoTTL) {
				t.Errorf("%s without a TTL = %v, want ErrNoTTL", name, err)
			}
		}
		if _, ok, _ := st.Get(ctx, "kv:forever"); ok {
			t.Error("a key without a TTL was stored")
		}
	})

	t.Run("add only once", func(t *testing.T) {
		if ok, err := st.Add(ctx, "add:a", "first", short); !ok || err != nil {
			t.Fatalf("Add = %v, %v", ok, err)
		}
		if ok, err := st.Add(ctx, "add:a", "second", short); ok || err != nil {
			t.Errorf("a second Add = %v, %v; want false", ok, err)
		}
		if v, _, _ := st.Get(ctx, "add:a"); v != "first" {
			t.Errorf("the second Add changed the value to %q", v)
		}
		b.pass(short + 50*time.Millisecond)
		if ok, _ := st.Add(ctx, "add:a", "third", short); !ok {
			t.Error("Add after expiry = false")
		}
	})

	t.Run("swap has one winner and keeps the TTL", func(t *testing.T) {
		must(st.Set(ctx, "swap:a", "live", time.Minute))
		if ok, err := st.Swap(ctx, "swap:a", "other", "spent", 0); ok || err != nil {
			t.Errorf("Swap from a wrong value = %v, %v", ok, err)
		}
		if ok, err := st.Swap(ctx, "swap:none", "", "x", 0); ok || err != nil {
			t.Errorf("Swap of no key = %v, %v", ok, err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				if ok, err := st.Swap(ctx, "swap:a", "live", "spent", 0); err != nil {
					t.Error(err)
				} else if ok {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("%d of 50 concurrent swaps won, want exactly 1", wins.Load())
		}
		if v, _, _ := st.Get(ctx, "swap:a"); v != "spent" {
			t.Errorf("after the swap the value is %q", v)
		}
		if d, ok, _ := st.TTL(ctx, "swap:a"); !ok || d <= 50*time.Second || d > time.Minute {
			t.Errorf("TTL after a swap = %v, %v; want the minute kept", d, ok)
		}
		if ok, err := st.Swap(ctx, "swap:a", "spent", "spent", time.Hour); !ok || err != nil {
			t.Fatalf("Swap with a TTL = %v, %v", ok, err)
		}
		if d, _, _ := st.TTL(ctx, "swap:a"); d <= 59*time.Minute || d > time.Hour {
			t.Errorf("TTL after a swap with a new TTL of 1h = %v", d)
		}
		if ok, _ := st.Swap(ctx, "swap:a", "other", "x", time.Hour*2); ok {
			t.Error("a swap from a wrong value set a TTL")
		}
	})

	t.Run("delete", func(t *testing.T) {
		must(st.Set(ctx, "del:a", "1", time.Minute))
		must(st.Set(ctx, "del:b", "1", time.Minute))
		must(st.Delete(ctx, "del:a", "del:b", "del:none"))
		must(st.Delete(ctx))
		for _, k := range []string{"del:a", "del:b"} {
			if _, ok, _ := st.Get(ctx, k); ok {
				t.Errorf("%s survived Delete", k)
			}
		}
	})

	t.Run("scan a prefix", func(t *testing.T) {
		for _, k := range []string{"scan:x*y:1", "scan:x*y:2", "scan:xzy:3", "scan:other"} {
			must(st.Set(ctx, k, "v-"+k, time.Minute))
		}
		must(st.Set(ctx, "scan:x*y:gone", "v", short))
		b.pass(short + 50*time.Millisecond)
		got, err := st.Scan(ctx, "scan:x*y:")
		if err != nil {
			t.Fatal(err)
		}
		sort.Slice(got, func(i, j int) bool { return got[i].Key < got[j].Key })
		var keys []string
		for _, e := range got {
			keys = append(keys, e.Key)
			if e.Value != "v-"+e.Key || e.TTL <= 0 || e.TTL > time.Minute {
				t.Errorf("Scan entry %+v", e)
			}
		}
		if strings.Join(keys, " ") != "scan:x*y:1 scan:x*y:2" {
			t.Errorf("Scan(scan:x*y:) = %v; a * in the prefix is a plain character, and expired keys are gone", keys)
		}
	})

	t.Run("publish and subscribe", func(t *testing.T) {
		sctx, cancel := context.WithCancel(ctx)
		msgs, err := st.Subscribe(sctx, "changes")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			must(st.Publish(ctx, "changes", fmt.Sprint("m", i)))
		}
		must(st.Publish(ctx, "elsewhere", "not for us"))
		for i := range 3 {
			select {
			case m := <-msgs:
				if m != fmt.Sprint("m", i) {
					t.Errorf("message %d = %q", i, m)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("message %d did not arrive", i)
			}
		}
		cancel()
		for range msgs { // closed once the subscription ends; nothing else comes
		}
	})
}

func TestRedisPrefixesAndErrors(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	a, _ := OpenRedis(srv.URL(), "a:")
	b, _ := OpenRedis(srv.URL(), "b:")
	defer a.Close()
	defer b.Close()
	if err := a.Set(ctx, "k", "from a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := b.Get(ctx, "k"); ok {
		t.Error("a key of prefix a: is visible under b:")
	}
	if got := srv.Do("GET a:k"); got != "$6" {
		t.Errorf("the key is not stored as a:k: GET a:k answered %q", got)
	}
	// A key of the wrong type (a mistake, or another program's key under
	// the prefix) is an error, never a miss.
	srv.Do("LPUSH a:list x")
	if _, _, err := a.Get(ctx, "list"); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Errorf("Get of a list = %v, want ErrUnavailable with WRONGTYPE", err)
	}
	if _, err := a.Swap(ctx, "list", "x", "y", 0); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Swap of a list = %v, want ErrUnavailable", err)
	}
	if _, err := a.Incr(ctx, "list", time.Minute); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Incr of a list = %v, want ErrUnavailable", err)
	}
	if _, err := a.Scan(ctx, ""); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Scan over a list = %v, want ErrUnavailable", err)
	}
}

// TestRedisDownAndBack kills the real redis-server: every operation fails
// with ErrUnavailable, and the same Store works again once it is back.
func TestRedisDownAndBack(t *testing.T) {
	srv := redistest.Start(t)
	st, err := OpenRedis(srv.URL(), "authgate:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs, err := st.Subscribe(sctx, "changes")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Set(ctx, "k", "v", time.Minute); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	checks := map[string]error{
		"Ping": st.Ping(ctx),
		"Set":  st.Set(ctx, "k", "v", time.Minute),
		"Get":  func() error { _, _, err := st.Get(ctx, "k"); return err }(),
		"Incr": func() error { _, err := st.Incr(ctx, "n", time.Minute); return err }(),
		"Swap": func() error { _, err := st.Swap(ctx, "k", "v", "w", 0); return err }(),
		"Scan": func() error { _, err := st.Scan(ctx, ""); return err }(),
	}
	for name, err := range checks {
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s with Redis down = %v, want ErrUnavailable", name, err)
		}
	}
	if _, err := st.Subscribe(ctx, "other"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Subscribe with Redis down = %v, want ErrUnavailable", err)
	}

	srv.Start() // empty: no persistence
	// After failed dials go-redis dials again in the background about once a
	// second: the same Store heals without anything being reopened.
	healed := time.Now()
	for err := st.Ping(ctx); err != nil; err = st.Ping(ctx) {
		if time.Since(healed) > 10*time.Second {
			t.Fatalf("Ping 10s after Redis came back = %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the store answered %v after Redis came back", time.Since(healed).Round(time.Millisecond))
	if _, ok, err := st.Get(ctx, "k"); ok || err != nil {
		t.Errorf("Get after an empty restart = %v, %v; want a miss", ok, err)
	}
	// The subscription from before comes back by itself: publish until a
	// message arrives (bounded).
	for i := 0; ; i++ {
		if i == 100 {
			t.Fatal("the subscription did not resume within 10s of Redis coming back")
		}
		st.Publish(ctx, "changes", "hello again")
		select {
		case m := <-msgs:
			if m != "hello again" {
				t.Fatalf("message %q", m)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func TestOpenRedisURLs(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"http://localhost:6379", "must be a redis:// or rediss:// URL"},
		{"localhost:6379", "must be a redis:// or rediss:// URL"},
		{"redis://a:6379?addr=b:6379", "Redis Cluster"},
		{"redis://:hunter2@localhost:6379?bogus=1", "bogus"},
		{"redis://localhost:6379/x", "database"},
	} {
		_, err := OpenRedis(tt.url, "p:")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("OpenRedis(%q) = %v, want an error about %q", tt.url, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("OpenRedis(%q) error shows the password: %v", tt.url, err)
		}
	}
	for _, ok := range []string{"redis://localhost:6379/2", "rediss://user:pw@localhost:6380/0?dial_timeout=3s", "redis://s1:26379?master_name=mymaster&addr=s2:26379"} {
		st, err := OpenRedis(ok, "p:")
		if err != nil {
			t.Errorf("OpenRedis(%q) = %v", ok, err)
			continue
		}
		st.Close()
	}
}

// TestMemorySweeps: keys that nobody reads again do not pile up.
func TestMemorySweeps(t *testing.T) {
	now := time.Unix(0, 0)
	m := NewMemory(func() time.Time { return now })
	ctx := context.Background()
	for i := range 5000 {
		m.Set(ctx, fmt.Sprint("old:", i), "x", time.Second)
	}
	now = now.Add(2 * time.Second)
	for i := range sweepEvery {
		m.Set(ctx, fmt.Sprint("new:", i), "x", time.Minute)
	}
	m.mu.Lock()
	n := len(m.items)
	m.mu.Unlock()
	if n > 2*sweepEvery {
		t.Errorf("%d keys held after the old ones expired, want at most %d", n, 2*sweepEvery)
	}
}

// TestRedisFailsFast: authgate's own timeouts and retries apply unless the
// URL sets them, so that a request waiting on a dead store gets its 503 in
// milliseconds rather than after go-redis's default retries.
func TestRedisFailsFast(t *testing.T) {
	r, _ := OpenRedis("redis://localhost:6379/0", "p:")
	defer r.Close()
	if o := r.c.Options(); o.MaxRetries != 1 || o.DialerRetries != 1 || o.DialTimeout != 500*time.Millisecond || o.ReadTimeout != 500*time.Millisecond {
		t.Errorf("defaults: retries %d, dial retries %d, dial %v, read %v", o.MaxRetries, o.DialerRetries, o.DialTimeout, o.ReadTimeout)
	}
	r2, _ := OpenRedis("redis://localhost:6379/0?max_retries=5&dial_timeout=3s", "p:")
	defer r2.Close()
	if o := r2.c.Options(); o.MaxRetries != 5 || o.DialTimeout != 3*time.Second {
		t.Errorf("the URL's max_retries and dial_timeout are not kept: %d, %v", o.MaxRetries, o.DialTimeout)
	}
}
