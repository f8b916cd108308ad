package auth

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// TokenCache remembers successful verifications, so that a token seen again
// skips its signature check and claim parsing. It is exactly as strict as
// the verification it skips:
//
//   - an entry is keyed by the whole token, so two tokens never share one;
//     only successful verifications are stored;
//   - every hit checks exp and nbf again with the Verifier's leeway and
//     clock, and an entry lives no longer than the cache's TTL, nor past
//     its token's exp plus the leeway;
//   - an entry serves only the Verifier that verified it, with the key set
//     it had: a reload (a new Verifier) or a change of a trusted issuer's
//     JWKS (a new generation) makes it a miss;
//   - it caches the verification only: rules, requirements and revocation
//     are checked afresh on every request, by the callers of Verify.
//
// It is bounded in entries (otter, a concurrent W-TinyLFU cache): a flood of
// distinct valid tokens evicts, it never grows. One TokenCache outlives the
// Verifiers that reloads replace, so that its counts are continuous.
type TokenCache struct {
	c   *otter.Cache[string, *cacheEntry]
	ttl time.Duration
	// Counted here, not by otter: an entry otter finds but the checks
	// refuse is a miss.
	hits, misses, evictions atomic.Uint64
}

type cacheEntry struct {
	owner    *Verifier
	keys     keySource
	gen      uint64 // of keys when the token was verified
	id       Identity
	nbf      time.Time // zero: the token has none
	cachedAt time.Time // on the Verifier's clock
	life     time.Duration
}

// NewTokenCache returns a cache of at most size entries, each kept at most
// ttl (AUTHGATE_TOKEN_CACHE_SIZE and _TTL). size 0 is no cache: nil.
func NewTokenCache(size int, ttl time.Duration) (*TokenCache, error) {
	if size == 0 {
		return nil, nil
	}
	if size < 0 || ttl <= 0 {
		return nil, errors.New("the token cache needs a positive size and TTL")
	}
	tc := &TokenCache{ttl: ttl}
	c, err := otter.New(&otter.Options[string, *cacheEntry]{
		MaximumSize: size,
		ExpiryCalculator: otter.ExpiryCreatingFunc(func(e otter.Entry[string, *cacheEntry]) time.Duration {
			return e.Value.life
		}),
		// Counted as part of the deletion, not in a goroutine otter would
		// start for each one (its default for OnDeletion): a flood of
		// distinct tokens evicts on every request.
		OnAtomicDeletion: func(e otter.DeletionEvent[string, *cacheEntry]) {
			if e.Cause == otter.CauseOverflow {
				tc.evictions.Add(1)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	tc.c = c
	return tc, nil
}

// CacheStats describe a TokenCache for metrics.
type CacheStats struct {
	Hits, Misses, Evictions uint64
	Size                    int
}

// Stats returns the cache's counts.
func (tc *TokenCache) Stats() CacheStats {
	return CacheStats{Hits: tc.hits.Load(), Misses: tc.misses.Load(), Evictions: tc.evictions.Load(), Size: tc.c.EstimatedSize()}
}

// lookup returns the identity of raw if v verified it, it is still valid at
// now, and the key set that verified it has not changed since.
func (tc *TokenCache) lookup(v *Verifier, raw string, now time.Time) (Identity, bool) {
	e, ok := tc.c.GetIfPresent(raw)
	if !ok {
		tc.misses.Add(1)
		return Identity{}, false
	}
	switch {
	case e.owner != v, e.keys.generation() != e.gen,
		now.Sub(e.cachedAt) >= tc.ttl,
		!now.Before(e.id.ExpiresAt.Add(v.leeway)),
		!e.nbf.IsZero() && now.Add(v.leeway).Before(e.nbf):
		// The full verification decides, and says why.
		tc.c.Invalidate(raw)
		tc.misses.Add(1)
		return Identity{}, false
	}
	tc.hits.Add(1)
	return e.id, true
}

// store remembers a successful verification.
func (tc *TokenCache) store(v *Verifier, raw string, t *trusted, gen uint64, id Identity, nbf, now time.Time) {
	life := min(tc.ttl, id.ExpiresAt.Add(v.leeway).Sub(now))
	if life <= 0 {
		return
	}
	tc.c.Set(raw, &cacheEntry{owner: v, keys: t.keys, gen: gen, id: id, nbf: nbf, cachedAt: now, life: life})
}
