package state

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the Store that replicas share: one Redis server, or a primary
// found through Sentinel. Every key and channel is under a prefix, so that
// several authgate deployments can share a server.
type Redis struct {
	c      *redis.Client
	prefix string
}

// swapScript replaces a value only if it is the expected one, keeping the
// key's TTL (ARGV[3] = 0) or setting a new one in milliseconds: one round
// trip, atomic on the server.
var swapScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[3] == '0' then
    redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
  else
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  end
  return 1
end
return 0`)

// OpenRedis returns the Store at rawURL, with keys under prefix. rawURL is
// redis:// or rediss:// (TLS), with user and password, a database number as
// the path, and go-redis's options as query parameters
// (redis://:pw@host:6379/0?dial_timeout=2s); with master_name, the hosts are
// Sentinels (redis://sentinel-1:26379?master_name=mymaster&addr=sentinel-2:26379).
// Nothing is dialled yet: a Redis that is down makes operations fail, not
// OpenRedis.
func OpenRedis(rawURL, prefix string) (*Redis, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %v", redact(err, rawURL))
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("%q must be a redis:// or rediss:// URL", u.Redacted())
	}
	var c *redis.Client
	q := u.Query()
	switch {
	case q.Has("master_name"):
		o, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", u.Redacted(), redact(err, rawURL))
		}
		t := tuning{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries, &o.DialerRetries}
		t.apply(q)
		c = redis.NewFailoverClient(o)
	case q.Has("addr"):
		return nil, fmt.Errorf("%s: several addresses without master_name would be a Redis Cluster, which authgate does not support; give one server, or Sentinels with master_name", u.Redacted())
	default:
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", u.Redacted(), redact(err, rawURL))
		}
		t := tuning{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.MaxRetries, &o.DialerRetries}
		t.apply(q)
		c = redis.NewClient(o)
	}
	return &Redis{c: c, prefix: prefix}, nil
}

// tuning points at the client options authgate chooses unless the URL
// does. A request that depends on the store waits for it, so a store that
// is down must fail in well under a second rather than after go-redis's
// default retries and re-dials (about 1.7 s measured here): one try and one
// retry, short timeouts.
type tuning struct {
	dial, read, write    *time.Duration
	retries, dialRetries *int
}

func (t tuning) apply(q url.Values) {
	set := func(name string, p *time.Duration, d time.Duration) {
		if !q.Has(name) {
			*p = d
		}
	}
	set("dial_timeout", t.dial, 500*time.Millisecond)
	set("read_timeout", t.read, 500*time.Millisecond)
	set("write_timeout", t.write, 500*time.Millisecond)
	if !q.Has("max_retries") {
		*t.retries = 1
	}
	if !q.Has("dialer_retries") {
		*t.dialRetries = 1
	}
}

// redact keeps the URL's password out of an error about it.
func redact(err error, rawURL string) string {
	s := err.Error()
	if u, perr := url.Parse(rawURL); perr == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			s = strings.ReplaceAll(s, pw, "xxxxx")
		}
	}
	return s
}

func fail(op string, err error) error { return &unavailable{op, err} }

func (r *Redis) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	if ttl <= 0 {
		return 0, ErrNoTTL
	}
	var incr *redis.IntCmd
	_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		incr = p.Incr(ctx, r.prefix+key)
		p.Do(ctx, "PEXPIRE", r.prefix+key, ttl.Milliseconds(), "NX")
		return nil
	})
	if err != nil {
		return 0, fail("incr", err)
	}
	return incr.Val(), nil
}

func (r *Redis) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	if ttl <= 0 {
		return ErrNoTTL
	}
	if err := r.c.Set(ctx, r.prefix+key, value, ttl).Err(); err != nil {
		return fail("set", err)
	}
	return nil
}

func (r *Redis) Add(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, ErrNoTTL
	}
	err := r.c.SetArgs(ctx, r.prefix+key, value, redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
	switch {
	case errors.Is(err, redis.Nil):
		return false, nil
	case err != nil:
		return false, fail("add", err)
	}
	return true, nil
}

func (r *Redis) Get(ctx context.Context, key string) (string, bool, error) {
	v, err := r.c.Get(ctx, r.prefix+key).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return "", false, nil
	case err != nil:
		return "", false, fail("get", err)
	}
	return v, true, nil
}

func (r *Redis) TTL(ctx context.Context, key string) (time.Duration, bool, error) {
	d, err := r.c.PTTL(ctx, r.prefix+key).Result()
	if err != nil {
		return 0, false, fail("ttl", err)
	}
	if d < 0 { // -2: no key; -1: a key without TTL, which authgate never writes
		return 0, false, nil
	}
	return d, true, nil
}

func (r *Redis) Swap(ctx context.Context, key, old, new string, ttl time.Duration) (bool, error) {
	if ttl < 0 {
		return false, ErrNoTTL
	}
	ms := ttl.Milliseconds()
	if ttl > 0 && ms == 0 {
		ms = 1
	}
	n, err := swapScript.Run(ctx, r.c, []string{r.prefix + key}, old, new, strconv.FormatInt(ms, 10)).Int()
	if err != nil {
		return false, fail("swap", err)
	}
	return n == 1, nil
}

func (r *Redis) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.prefix + k
	}
	if err := r.c.Del(ctx, full...).Err(); err != nil {
		return fail("delete", err)
	}
	return nil
}

// Scan walks the keys under prefix with SCAN, which never blocks the
// server for long, and reads each one's value and TTL in a pipeline.
func (r *Redis) Scan(ctx context.Context, prefix string) ([]Entry, error) {
	var keys []string
	iter := r.c.Scan(ctx, 0, globEscape(r.prefix+prefix)+"*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return nil, fail("scan", err)
	}
	var out []Entry
	for chunk := range slices.Chunk(keys, 500) {
		gets := make([]*redis.StringCmd, len(chunk))
		ttls := make([]*redis.DurationCmd, len(chunk))
		_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range chunk {
				gets[i] = p.Get(ctx, k)
				ttls[i] = p.PTTL(ctx, k)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, fail("scan", err)
		}
		for i, k := range chunk {
			v, err := gets[i].Result()
			if errors.Is(err, redis.Nil) {
				continue // gone since SCAN saw it
			}
			if err != nil {
				return nil, fail("scan", err)
			}
			if d := ttls[i].Val(); d > 0 {
				out = append(out, Entry{Key: strings.TrimPrefix(k, r.prefix), Value: v, TTL: d})
			}
		}
	}
	return out, nil
}

// globEscape quotes the characters SCAN's MATCH pattern gives a meaning.
func globEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (r *Redis) Publish(ctx context.Context, channel, msg string) error {
	if err := r.c.Publish(ctx, r.prefix+channel, msg).Err(); err != nil {
		return fail("publish", err)
	}
	return nil
}

// Subscribe confirms the subscription with the server before it returns;
// go-redis reconnects and resubscribes by itself after a failure.
func (r *Redis) Subscribe(ctx context.Context, channel string) (<-chan string, error) {
	ps := r.c.Subscribe(ctx, r.prefix+channel)
	if _, err := ps.Receive(ctx); err != nil {
		ps.Close()
		return nil, fail("subscribe", err)
	}
	in := ps.Channel()
	out := make(chan string, 64)
	go func() {
		defer close(out)
		defer ps.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- m.Payload:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

func (r *Redis) Ping(ctx context.Context) error {
	if err := r.c.Ping(ctx).Err(); err != nil {
		return fail("ping", err)
	}
	return nil
}

func (r *Redis) Close() error { return r.c.Close() }
