package auth

import (
	"errors"
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// TokenCache remembers successful verifications, so that a token seen again
// skips its signature check and claim parsing. It is exactly as strict as
// the verification it skips:
//
//   - a hit is the very token that was verified, byte for byte: a hash of
//     the token picks the entry, and the entry holds the whole token to
//     compare (its header, its signature, and its payload as the claims'
//     own text, of which the token's payload segment must be the canonical
//     base64url), so two tokens never share one; only successful
//     verifications are stored;
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
	c    *otter.Cache[uint64, *cacheEntry]
	hash func(string) uint64 // picks the entry; tests make it collide
	ttl  time.Duration
	// Counted here, not by otter: an entry otter finds but the checks
	// refuse is a miss.
	hits, misses, evictions atomic.Uint64

	mu    sync.Mutex
	heads map[string]string // header segments, shared by the entries: one per key, as a rule
}

// maxHeads bounds the distinct header segments a TokenCache shares; past
// them, an entry keeps its own copy.
const maxHeads = 64

// A cacheEntry is one verified token: head + "." + the canonical base64url
// of text[:payload] + "." + the signature. text is the claims' text and
// then the signature, in one string: the payload is not kept twice (the
// claims' text begins with it). The rest of the Identity is kept as small
// numbers (its strings are claims, its times whole seconds), and the entry
// is made only if what a hit rebuilds from them is the Identity the
// verification returned, field for field.
type cacheEntry struct {
	iss                *trusted // the issuer, of the Verifier that verified it
	gen                uint64   // of iss.keys when the token was verified
	text               string   // the claims' text, then the signature
	nodes              []claimNode
	claimsLen, payload uint32    // of text
	strs               [4]uint32 // Subject, ID, Issuer, SessionID: nodes of the claims; 0 (the object itself) for ""
	times              [3]int64  // IssuedAt, ExpiresAt, nbf: Unix seconds, or noTime
	cachedAt           time.Time // on the Verifier's clock
	head               string
}

// noTime stands for a zero time.Time (no iat, no nbf) in cacheEntry.times.
const noTime = math.MinInt64

// NewTokenCache returns a cache of at most size entries, each kept at most
// ttl (AUTHGATE_TOKEN_CACHE_SIZE and _TTL). size 0 is no cache: nil.
func NewTokenCache(size int, ttl time.Duration) (*TokenCache, error) {
	if size == 0 {
		return nil, nil
	}
	if size < 0 || ttl <= 0 {
		return nil, errors.New("the token cache needs a positive size and TTL")
	}
	seed := maphash.MakeSeed()
	tc := &TokenCache{ttl: ttl, heads: map[string]string{}, hash: func(s string) uint64 { return maphash.String(seed, s) }}
	c, err := otter.New(&otter.Options[uint64, *cacheEntry]{
		MaximumSize: size,
		ExpiryCalculator: otter.ExpiryCreatingFunc(func(e otter.Entry[uint64, *cacheEntry]) time.Duration {
			return e.Value.life(tc.ttl)
		}),
		// Counted as part of the deletion, not in a goroutine otter would
		// start for each one (its default for OnDeletion): a flood of
		// distinct tokens evicts on every request.
		OnAtomicDeletion: func(e otter.DeletionEvent[uint64, *cacheEntry]) {
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
	h := tc.hash(raw)
	e, ok := tc.c.GetIfPresent(h)
	if !ok || !e.is(raw) {
		tc.misses.Add(1)
		return Identity{}, false
	}
	nbf := unixTime(e.times[2])
	switch {
	case e.iss.owner != v, e.iss.keys.generation() != e.gen,
		now.Sub(e.cachedAt) >= tc.ttl,
		!now.Before(unixTime(e.times[1]).Add(v.leeway)),
		!nbf.IsZero() && now.Add(v.leeway).Before(nbf):
		// The full verification decides, and says why.
		tc.c.Invalidate(h)
		tc.misses.Add(1)
		return Identity{}, false
	}
	tc.hits.Add(1)
	return e.identity(), true
}

// store remembers a successful verification of raw by issuer t (whose keys
// were at generation gen) at now, unless the entry could not tell raw from
// another token (its payload segment is not the canonical base64url of the
// text its claims were read from: a leading space, say) or could not give
// back id and nbf exactly. Such a token is verified each time.
func (tc *TokenCache) store(raw string, t *trusted, gen uint64, id Identity, nbf, now time.Time) {
	head, seg, sig, ok := segments(raw)
	n := b64url.DecodedLen(len(seg))
	if !ok || len(id.claims.nodes) == 0 || n > len(id.claims.text) || !encodes(seg, id.claims.text[:n]) {
		return
	}
	// One allocation for the claims' text and the signature: the entry's
	// own copy (the verification's text goes with its request).
	e := &cacheEntry{iss: t, gen: gen, text: id.claims.text + sig, nodes: id.claims.nodes,
		claimsLen: uint32(len(id.claims.text)), payload: uint32(n), cachedAt: now}
	for i, f := range [...]struct{ name, want string }{{"sub", id.Subject}, {"jti", id.ID}, {"iss", id.Issuer}, {"sid", id.SessionID}} {
		if node, found := id.claims.member(0, f.name); found && f.want != "" && id.claims.nodes[node].kind == ClaimString {
			e.strs[i] = node
		}
	}
	for i, tm := range [...]time.Time{id.IssuedAt, id.ExpiresAt, nbf} {
		e.times[i] = noTime
		if !tm.IsZero() {
			e.times[i] = tm.Unix()
		}
	}
	if got := e.identity(); got.Subject != id.Subject || got.ID != id.ID || got.Issuer != id.Issuer || got.SessionID != id.SessionID ||
		got.IssuedAt != id.IssuedAt || got.ExpiresAt != id.ExpiresAt || unixTime(e.times[2]) != nbf {
		return
	}
	if e.life(tc.ttl) <= 0 {
		return
	}
	e.head = tc.intern(head)
	tc.c.Set(tc.hash(raw), e)
}

// identity is the Identity e was made of.
func (e *cacheEntry) identity() Identity {
	return Identity{Subject: e.str(0), ID: e.str(1), Issuer: e.str(2), SessionID: e.str(3),
		IssuedAt: unixTime(e.times[0]), ExpiresAt: unixTime(e.times[1]),
		claims: Claims{text: e.text[:e.claimsLen], nodes: e.nodes}}
}

// str is the string of e.strs[i] (a string's node, or 0).
func (e *cacheEntry) str(i int) string {
	if e.strs[i] == 0 {
		return ""
	}
	nd := &e.nodes[e.strs[i]]
	return e.text[nd.off : nd.off+nd.n]
}

// unixTime is the time of a cacheEntry.times value.
func unixTime(sec int64) time.Time {
	if sec == noTime {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

// intern returns head, shared with the entries that have the same one.
func (tc *TokenCache) intern(head string) string {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if h, ok := tc.heads[head]; ok {
		return h
	}
	h := strings.Clone(head)
	if len(tc.heads) < maxHeads {
		tc.heads[h] = h
	}
	return h
}

// life is how long e may be kept: the cache's ttl, cut short by the token's
// exp plus the leeway.
func (e *cacheEntry) life(ttl time.Duration) time.Duration {
	return min(ttl, unixTime(e.times[1]).Add(e.iss.owner.leeway).Sub(e.cachedAt))
}

// is reports whether raw is the token e was made of, byte for byte.
func (e *cacheEntry) is(raw string) bool {
	head, seg, sig, ok := segments(raw)
	return ok && head == e.head && sig == e.text[e.claimsLen:] && encodes(seg, e.text[:e.payload])
}

// segments splits a compact JWS at its first and last dots.
func segments(raw string) (head, payload, sig string, ok bool) {
	head, rest, ok := strings.Cut(raw, ".")
	i := strings.LastIndexByte(rest, '.')
	if !ok || i < 0 {
		return "", "", "", false
	}
	return head, rest[:i], rest[i+1:], true
}

// encodes reports whether seg is the unpadded base64url of data as an
// encoder writes it. Decoding seg would not do: a decoder skips line breaks
// and, unless strict, the unused bits of the last character, so that other
// strings decode to the same bytes (and the signature covers the string).
func encodes(seg, data string) bool {
	if len(seg) != b64url.EncodedLen(len(data)) {
		return false
	}
	var src [192]byte
	var dst [256]byte
	for len(data) > 0 {
		n := copy(src[:], data)
		m := b64url.EncodedLen(n)
		b64url.Encode(dst[:m], src[:n])
		if string(dst[:m]) != seg[:m] {
			return false
		}
		data, seg = data[n:], seg[m:]
	}
	return true
}
