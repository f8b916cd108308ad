package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// cachedVerifier is the test verifier with a token cache, on a settable
// clock.
func cachedVerifier(t *testing.T, size int, ttl time.Duration) (*Verifier, *TokenCache, *atomic.Int64) {
	t.Helper()
	tc, err := NewTokenCache(size, ttl)
	if err != nil {
		t.Fatal(err)
	}
	var now atomic.Int64
	now.Store(testNow.UnixNano())
	v := newTestVerifier(t, VerifierOptions{Cache: tc, Now: func() time.Time { return time.Unix(0, now.Load()) }})
	return v, tc, &now
}

func TestTokenCache(t *testing.T) {
	ctx := context.Background()
	v, tc, now := cachedVerifier(t, 100, 5*time.Minute)
	tok := hs256(stdHeader, claimsAt(testNow, `"jti":"j1","username":"alice"`), testSecret)
	first, err := v.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	again, err := v.Verify(ctx, tok)
	if err != nil || again.Subject != first.Subject || again.ID != "j1" || again.Claims().Map()["username"] != "alice" {
		t.Fatalf("a hit = %+v, %v", again, err)
	}
	if s := tc.Stats(); s.Hits != 1 || s.Misses != 1 {
		t.Errorf("after a miss and a hit: %+v", s)
	}

	// Two tokens never share an entry: the same token with another
	// signature (or one byte changed anywhere) is verified, and fails.
	tampered := tok[:len(tok)-2] + "AA"
	if _, err := v.Verify(ctx, tampered); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("the cached token with another signature: %v, want invalid", err)
	}
	// Only successes are kept: the bad token is verified each time.
	before := tc.Stats().Misses
	v.Verify(ctx, tampered)
	if got := tc.Stats().Misses - before; got != 1 {
		t.Errorf("a bad token again: %d misses, want 1 (it must not be cached)", got)
	}

	// exp is checked again on a hit, with the leeway (30s here).
	now.Store(testNow.Add(time.Hour + 29*time.Second).UnixNano())
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Errorf("within the leeway after exp: %v", err)
	}
	now.Store(testNow.Add(time.Hour + 31*time.Second).UnixNano())
	if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("a cached token past exp plus the leeway: %v, want expired", err)
	}

	// nbf is checked again too (here the clock steps back before it).
	now.Store(testNow.UnixNano())
	nbf := hs256(stdHeader, fmt.Sprintf(`{"sub":"alice","iss":"authgate","nbf":%d,"exp":%d}`, testNow.Unix(), testNow.Add(time.Hour).Unix()), testSecret)
	if _, err := v.Verify(ctx, nbf); err != nil {
		t.Fatal(err)
	}
	now.Store(testNow.Add(-time.Minute).UnixNano())
	if _, err := v.Verify(ctx, nbf); reasonOf(err) != ReasonNotYetValid {
		t.Errorf("a cached token before its nbf minus the leeway: %v, want not_yet_valid", err)
	}
}

func TestTokenCacheTTL(t *testing.T) {
	ctx := context.Background()
	v, tc, now := cachedVerifier(t, 100, time.Minute)
	long := hs256(stdHeader, fmt.Sprintf(`{"sub":"alice","iss":"authgate","exp":%d}`, testNow.Add(24*time.Hour).Unix()), testSecret)
	v.Verify(ctx, long)
	now.Store(testNow.Add(61 * time.Second).UnixNano())
	hits := tc.Stats().Hits
	if _, err := v.Verify(ctx, long); err != nil {
		t.Fatal(err)
	}
	if tc.Stats().Hits != hits {
		t.Error("an entry outlived AUTHGATE_TOKEN_CACHE_TTL")
	}
}

// TestTokenCacheIsBounded: a flood of distinct valid tokens evicts.
func TestTokenCacheIsBounded(t *testing.T) {
	ctx := context.Background()
	v, tc, _ := cachedVerifier(t, 100, time.Hour)
	for i := range 2000 {
		if _, err := v.Verify(ctx, hs256(stdHeader, claimsAt(testNow, fmt.Sprintf(`"jti":"j%d"`, i)), testSecret)); err != nil {
			t.Fatal(err)
		}
	}
	tc.c.CleanUp()
	// W-TinyLFU may also turn a newcomer away on admission: nearly all of
	// the flood is evicted, and the size stays within its bound.
	if s := tc.Stats(); s.Size > 100 || s.Evictions < 1800 {
		t.Errorf("after 2000 distinct tokens in a cache of 100: %+v", s)
	}
}

// TestTokenCacheServesItsVerifierOnly: a cache shared across a reload never
// answers the new Verifier (other keys) with the old one's entries.
func TestTokenCacheServesItsVerifierOnly(t *testing.T) {
	ctx := context.Background()
	tc, _ := NewTokenCache(100, time.Hour)
	now := func() time.Time { return testNow }
	old := newTestVerifier(t, VerifierOptions{Cache: tc, Now: now})
	tok := hs256(stdHeader, claimsAt(testNow, ""), testSecret)
	if _, err := old.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	other, _ := NewHMACKey([]byte(testSecret + "-rotated-away"))
	ks, _ := NewKeySet(other)
	reloaded, _ := NewVerifier(ks, VerifierOptions{Issuer: "authgate", Cache: tc, Now: now})
	if _, err := reloaded.Verify(ctx, tok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("after a reload to another secret, a token of the old one: %v, want invalid", err)
	}
}

// TestTokenCacheFollowsRemoteKeys: when a trusted issuer's JWKS drops a key,
// the tokens it verified are verified again, and fail.
func TestTokenCacheFollowsRemoteKeys(t *testing.T) {
	ctx := context.Background()
	a, b := signingKey(t, "rsa", ""), signingKey(t, "rsa2", "")
	p := newIdP(t, a, b)
	clk := newClock()
	r, _ := NewRemoteKeySet(p.srv.URL, p.srv.URL+"/jwks", remoteOpts(clk))
	if err := r.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	tc, _ := NewTokenCache(100, time.Hour)
	v := remoteVerifier(t, VerifierOptions{Cache: tc}, r)
	tok := mint(t, a.sign, "RS256", map[string]any{"kid": a.ID}, map[string]any{"iss": p.srv.URL})
	for range 2 {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if tc.Stats().Hits != 1 {
		t.Fatalf("no hit: %+v", tc.Stats())
	}
	// The same document again changes nothing.
	clk.advance(time.Hour)
	r.refresh(ctx)
	v.Verify(ctx, tok)
	if tc.Stats().Hits != 2 {
		t.Errorf("a refresh that brought the same keys voided the cache: %+v", tc.Stats())
	}
	p.serve(b) // a is gone
	clk.advance(time.Hour)
	if err := r.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok); reasonOf(err) != ReasonUnknownKey {
		t.Errorf("a cached token of a key that left the set: %v, want unknown_key", err)
	}
}

func TestNoTokenCache(t *testing.T) {
	if tc, err := NewTokenCache(0, time.Minute); tc != nil || err != nil {
		t.Errorf("NewTokenCache(0) = %v, %v; want no cache", tc, err)
	}
	if _, err := NewTokenCache(-1, time.Minute); err == nil {
		t.Error("a negative size was accepted")
	}
}

// BenchmarkVerifyCached is a repeated token through the cache: compare with
// BenchmarkVerifyHS256 and BenchmarkVerifyRS256.
func BenchmarkVerifyCached(b *testing.B) {
	tc, _ := NewTokenCache(10000, 5*time.Minute)
	benchVerifyHS256(b, VerifierOptions{Cache: tc})
}

// BenchmarkTokenCacheMemory reports the heap a full cache of 10,000 ES256
// tokens holds per entry (all of it: what a hit compares the token with,
// the identity and claims), and in how many heap objects (what the
// collector marks on every cycle), tokens as authgate's own issuer mints
// them (username and roles besides the registered claims); token-B is
// their length.
func BenchmarkTokenCacheMemory(b *testing.B) {
	k, err := newSigningKey(newTestKeys(b)["p256"], "ES256")
	if err != nil {
		b.Fatal(err)
	}
	ks, _ := NewKeySet(k)
	is, _ := NewIssuer(ks, IssuerOptions{Issuer: "authgate", TTL: time.Hour})
	const n = 10000
	toks := make([]string, n)
	size := 0
	for i := range toks {
		issued, err := is.Issue(fmt.Sprint(i+1), map[string]any{"username": fmt.Sprint("user", i+1), "roles": []any{"user"}}, 0)
		if err != nil {
			b.Fatal(err)
		}
		toks[i] = issued.Token
		size += len(issued.Token)
	}
	ctx := context.Background()
	var perEntry, objects float64
	for b.Loop() {
		tc, _ := NewTokenCache(n, 5*time.Minute)
		v, _ := NewVerifier(ks, VerifierOptions{Issuer: "authgate", Cache: tc})
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for _, tok := range toks {
			// A copy, as a request's header would be: the cache keeps its own.
			if _, err := v.Verify(ctx, string([]byte(tok))); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if got := tc.Stats().Size; got != n {
			b.Fatalf("%d entries, want %d", got, n)
		}
		perEntry = float64(after.HeapAlloc-before.HeapAlloc) / n
		objects = float64(after.HeapObjects-before.HeapObjects) / n
		runtime.KeepAlive(v)
	}
	b.ReportMetric(perEntry, "B/entry")
	b.ReportMetric(objects, "objects/entry")
	b.ReportMetric(float64(size)/n, "token-B")
}

const b64alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// TestTokenCacheComparesTheWholeToken: the hash only picks the entry. Here
// every token picks the same one, and none but the token that was verified
// is answered from it: not one with another header or signature, nor one
// whose payload segment decodes to a part of the cached claims or, read
// leniently, to all of them.
func TestTokenCacheComparesTheWholeToken(t *testing.T) {
	ctx := context.Background()
	v, tc, _ := cachedVerifier(t, 100, time.Hour)
	tc.hash = func(string) uint64 { return 1 }
	// A payload whose length is no multiple of 3, so that its last
	// character has bits an encoder leaves zero.
	var payload string
	for name := "alice"; len(payload)%3 == 0; name += "x" {
		payload = claimsAt(testNow, `"username":"`+name+`"`)
	}
	tok := hs256(stdHeader, payload, testSecret)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	head, seg, sig := parts[0], parts[1], parts[2]
	last := strings.IndexByte(b64alphabet, seg[len(seg)-1])
	for name, other := range map[string]string{
		"another signature":             head + "." + seg + "." + sig[:len(sig)-2] + "AA",
		"another header":                b64.EncodeToString([]byte(`{"alg":"HS256","typ":"jwt"}`)) + "." + seg + "." + sig,
		"a prefix of the payload":       head + "." + b64.EncodeToString([]byte(payload[:len(payload)-1])) + "." + sig,
		"the payload's unused bits set": head + "." + seg[:len(seg)-1] + string(b64alphabet[last|1]) + "." + sig,
		"a line break in the payload":   head + "." + seg[:8] + "\n" + seg[8:] + "." + sig,
		"a dot more":                    tok + ".",
		"a character more":              tok + "A",
		"a character less":              tok[:len(tok)-1],
	} {
		hits := tc.Stats().Hits
		if _, err := v.Verify(ctx, other); err == nil {
			t.Errorf("%s: verified", name)
		}
		if tc.Stats().Hits != hits {
			t.Errorf("%s: answered from the cache", name)
		}
	}
	hits := tc.Stats().Hits
	if id, err := v.Verify(ctx, tok); err != nil || id.Subject != "alice" || tc.Stats().Hits != hits+1 {
		t.Errorf("the token itself: %q, %v; %d hits, want %d", id.Subject, err, tc.Stats().Hits, hits+1)
	}
	// Another valid token takes the entry over and is itself.
	bob := hs256(stdHeader, strings.Replace(claimsAt(testNow, ""), "alice", "bob", 1), testSecret)
	for range 2 {
		if id, err := v.Verify(ctx, bob); err != nil || id.Subject != "bob" {
			t.Errorf("another token in the same entry: %q, %v", id.Subject, err)
		}
	}
	if id, err := v.Verify(ctx, tok); err != nil || id.Subject != "alice" {
		t.Errorf("the first token after the second: %q, %v", id.Subject, err)
	}
}

// TestTokenCacheKeepsWhatItCanCompare: a token is cached only when its
// payload segment is the canonical base64url of the text its claims were
// read from. Other tokens, rare but valid, are verified every time, and
// their canonical twin (the same claims, another string under the
// signature) is no hit either, even in the same entry.
func TestTokenCacheKeepsWhatItCanCompare(t *testing.T) {
	ctx := context.Background()
	v, tc, _ := cachedVerifier(t, 100, time.Hour)
	tc.hash = func(string) uint64 { return 1 }
	sign := func(signing string) string {
		mac := hmac.New(sha256.New, []byte(testSecret))
		mac.Write([]byte(signing))
		return signing + "." + b64.EncodeToString(mac.Sum(nil))
	}
	// Claims of a length divisible by 3: with a line break, the segment
	// still gives their length when decoded.
	var payload string
	for name := "alice"; len(payload) == 0 || len(payload)%3 != 0; name += "x" {
		payload = claimsAt(testNow, `"username":"`+name+`"`)
	}
	head := b64.EncodeToString([]byte(stdHeader))
	seg := b64.EncodeToString([]byte(payload))
	for name, tok := range map[string]string{
		"space before the claims":     hs256(stdHeader, " "+payload, testSecret),
		"a signed line break in them": sign(head + "." + seg[:8] + "\n" + seg[8:]),
	} {
		for i := range 2 {
			misses := tc.Stats().Misses
			if id, err := v.Verify(ctx, tok); err != nil || id.Subject != "alice" {
				t.Fatalf("%s: %q, %v", name, id.Subject, err)
			}
			if tc.Stats().Misses != misses+1 {
				t.Errorf("%s, verification %d: answered from the cache", name, i+1)
			}
		}
		sig := tok[strings.LastIndexByte(tok, '.')+1:]
		if _, err := v.Verify(ctx, head+"."+seg+"."+sig); err == nil {
			t.Errorf("%s: its canonical twin, under its signature, verified", name)
		}
	}
}

// TestTokenCacheGivesBackTheIdentity: a hit rebuilds the Identity from the
// entry's numbers; it is the one the verification returned, field for
// field, whichever registered claims the token has.
func TestTokenCacheGivesBackTheIdentity(t *testing.T) {
	ctx := context.Background()
	for name, payload := range map[string]string{
		"all of them":             claimsAt(testNow, `"jti":"j-1","sid":"s-1","username":"alice"`),
		"no iat, nbf, jti or sid": fmt.Sprintf(`{"sub":"alice","iss":"authgate","exp":%d}`, testNow.Add(time.Hour).Unix()),
		"a sid that is a number":  claimsAt(testNow, `"sid":7`),
		"escaped strings":         strings.Replace(claimsAt(testNow, `"jti":"j\u002d1","sid":"\u00e9"`), `"sub":"alice"`, `"sub":"al\u0069ce"`, 1),
		"an exp in year 9999":     fmt.Sprintf(`{"sub":"alice","iss":"authgate","iat":%d,"exp":253402300799}`, testNow.Unix()),
	} {
		v, tc, _ := cachedVerifier(t, 100, time.Hour)
		tok := hs256(stdHeader, payload, testSecret)
		first, err := v.Verify(ctx, tok)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		again, err := v.Verify(ctx, tok)
		if err != nil || tc.Stats().Hits != 1 {
			t.Fatalf("%s: no hit: %v, %+v", name, err, tc.Stats())
		}
		if diff := cmp.Diff(first, again, cmp.AllowUnexported(Identity{}, Claims{}, claimNode{})); diff != "" {
			t.Errorf("%s: a hit's identity (-verified +hit):\n%s", name, diff)
		}
	}
}

// TestTokenCacheKeepsOnlyWhatItGivesBack: an identity the entry could not
// give back exactly is verified every time. Times are whole seconds unless
// golang-jwt's TimePrecision is changed, as here.
func TestTokenCacheKeepsOnlyWhatItGivesBack(t *testing.T) {
	ctx := context.Background()
	defer func(p time.Duration) { jwt.TimePrecision = p }(jwt.TimePrecision)
	jwt.TimePrecision = time.Millisecond
	v, tc, _ := cachedVerifier(t, 100, time.Hour)
	tok := hs256(stdHeader, fmt.Sprintf(`{"sub":"alice","iss":"authgate","exp":%d.5}`, testNow.Add(time.Hour).Unix()), testSecret)
	for range 2 {
		id, err := v.Verify(ctx, tok)
		if err != nil || id.ExpiresAt.Nanosecond() != 5e8 {
			t.Fatalf("%v, %v", id.ExpiresAt, err)
		}
	}
	if s := tc.Stats(); s.Hits != 0 || s.Misses != 2 {
		t.Errorf("a token with an exp of half a second: %+v, want 2 misses", s)
	}
}

// FuzzTokenCache holds the cache to the verification it skips: with every
// token picking the same entry, which holds a valid token verified just
// before, a cached Verifier answers whatever it is given exactly as one
// without a cache does. The seeds are the valid token and near misses of
// it, which the fuzzer varies further.
func FuzzTokenCache(f *testing.F) {
	tok := hs256(stdHeader, claimsAt(testNow, `"jti":"j-1","username":"alice"`), testSecret)
	f.Add(tok)
	for _, i := range []int{0, 10, len(tok) / 2, len(tok) - 1} {
		f.Add(tok[:i] + "A" + tok[i+1:])
	}
	f.Add(tok + "\n")
	f.Add(strings.Replace(tok, ".", "\n.", 1))
	// A line break inside the payload, and its last character with the
	// bits an encoder leaves zero set: both decode leniently to the claims.
	dot := strings.IndexByte(tok, '.')
	f.Add(tok[:dot+9] + "\n" + tok[dot+9:])
	end := strings.LastIndexByte(tok, '.') - 1
	for _, c := range []byte("BCDFghjk") {
		f.Add(tok[:end] + string(c) + tok[end+1:])
	}
	ctx := context.Background()
	now := func() time.Time { return testNow }
	tc, _ := NewTokenCache(10, time.Hour)
	tc.hash = func(string) uint64 { return 1 }
	cached := newTestVerifier(f, VerifierOptions{Cache: tc, Now: now})
	plain := newTestVerifier(f, VerifierOptions{Now: now})
	f.Fuzz(func(t *testing.T, token string) {
		if _, err := cached.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
		want, wantErr := plain.Verify(ctx, token)
		got, err := cached.Verify(ctx, token)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("Verify(%q): %v with the cache, %v without", token, err, wantErr)
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(Identity{}, Claims{}, claimNode{})); diff != "" {
			t.Fatalf("Verify(%q) (-without +with the cache):\n%s", token, diff)
		}
	})
}

// TestTokenCacheSharesHeadersBounded: entries share the header segments
// they have in common, and the shared set is bounded; past it, an entry
// keeps its own copy and works all the same.
func TestTokenCacheSharesHeadersBounded(t *testing.T) {
	ctx := context.Background()
	v, tc, _ := cachedVerifier(t, 1000, time.Hour)
	var toks []string
	for i := range 2 * maxHeads {
		header := fmt.Sprintf(`{"alg":"HS256","typ":"JWT","x-n":%d}`, i)
		for j := range 2 {
			toks = append(toks, hs256(header, claimsAt(testNow, fmt.Sprintf(`"jti":"j%d-%d"`, i, j)), testSecret))
		}
	}
	for round := range 2 {
		for _, tok := range toks {
			if _, err := v.Verify(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		if round == 0 && tc.Stats().Misses != uint64(len(toks)) {
			t.Fatalf("first round: %+v", tc.Stats())
		}
	}
	if s := tc.Stats(); s.Hits != uint64(len(toks)) {
		t.Errorf("second round: %+v, want %d hits", s, len(toks))
	}
	if len(tc.heads) != maxHeads {
		t.Errorf("%d shared headers, want %d", len(tc.heads), maxHeads)
	}
}
