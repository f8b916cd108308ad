package auth

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// mapLookup is the dotted-path lookup over a map that Claims.Get replaces:
// the reference it must agree with.
func mapLookup(m map[string]any, path string) (any, bool) {
	if v, ok := m[path]; ok {
		return v, true
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		if inner, ok := m[path[:i]].(map[string]any); ok {
			if v, ok := mapLookup(inner, path[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

const claimsJSON = `{"sub":"alice","n":12345678901234567890,"f":-1.5e3,"t":true,"no":false,"nil":null,
	"roles":["admin","user"],"one":["x"],"empty":[],"obj":{},"nested":[[1,[2]],{"k":null}],
	"realm_access":{"roles":["admin"],"deep":{"er":"yes"}},"a.b":"dotted","a":{"b":"shadowed"},
	"kubernetes.io":{"namespace":"prod"},"esc":"tab\there \u00e9 \ud83d\ude00","":"empty name","\u0065scaped \"name\"":["\u0041",{"\u00e9":"\n"}]}`

func TestClaimsAreTheDecodedObject(t *testing.T) {
	// encoding/json is the reference: what it decodes, Claims must hold.
	dec := json.NewDecoder(strings.NewReader(claimsJSON))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	c, err := decodeClaims([]byte(claimsJSON))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, c.Map()); diff != "" {
		t.Errorf("Map() differs from encoding/json's decoding (-want +got):\n%s", diff)
	}
	if c.Len() != len(m) {
		t.Errorf("Len() = %d, want %d", c.Len(), len(m))
	}
	for _, path := range []string{"sub", "n", "f", "t", "no", "nil", "roles", "one", "empty", "obj", "nested",
		"realm_access", "realm_access.roles", "realm_access.deep.er", "realm_access.deep", "realm_access.missing",
		"a.b", "a", "kubernetes.io.namespace", "kubernetes.io", "kubernetes", "esc", "", ".", "sub.x", "missing", "roles.0",
		`escaped "name"`} {
		want, wantOK := mapLookup(m, path)
		v, ok := c.Get(path)
		if ok != wantOK {
			t.Errorf("Get(%q) found %v, want %v", path, ok, wantOK)
			continue
		}
		if ok {
			if diff := cmp.Diff(want, v.Any()); diff != "" {
				t.Errorf("Get(%q) (-want +got):\n%s", path, diff)
			}
		}
	}
	// The typed views read without building values.
	checks := []struct {
		path string
		kind ClaimKind
		text string
		n    int
	}{
		{"sub", ClaimString, "alice", 0}, {"n", ClaimNumber, "12345678901234567890", 0}, {"f", ClaimNumber, "-1.5e3", 0},
		{"t", ClaimBool, "", 0}, {"nil", ClaimNull, "", 0}, {"roles", ClaimArray, "", 2}, {"obj", ClaimObject, "", 0},
		{"realm_access", ClaimObject, "", 2}, {"esc", ClaimString, "tab\there é 😀", 0},
	}
	for _, ck := range checks {
		v, _ := c.Get(ck.path)
		if v.Kind() != ck.kind || v.Text() != ck.text || v.Len() != ck.n {
			t.Errorf("Get(%q): kind %d text %q len %d, want %d %q %d", ck.path, v.Kind(), v.Text(), v.Len(), ck.kind, ck.text, ck.n)
		}
	}
	if v, _ := c.Get("roles"); v.Index(1).Text() != "user" {
		t.Errorf("roles[1] = %q", v.Index(1).Text())
	}
	if v, _ := c.Get("t"); !v.Bool() {
		t.Error("t is not true")
	}
	if v, _ := c.Get("no"); v.Bool() {
		t.Error("no is true")
	}
	if v, _ := c.Get("nested"); v.String() != `[[1,[2]],{"k":null}]` {
		t.Errorf("nested renders as %s", v.String())
	}
}

func TestClaimsOfOtherGoValues(t *testing.T) {
	// What a test or a users file may hand WithClaims: taken as JSON makes them.
	id := Identity{Subject: "1"}.WithClaims(map[string]any{"n": 7, "f": 1.5, "roles": []string{"a", "b"}, "m": map[string]string{"k": "v"}})
	want := map[string]any{"n": json.Number("7"), "f": json.Number("1.5"), "roles": []any{"a", "b"}, "m": map[string]any{"k": "v"}}
	if diff := cmp.Diff(want, id.Claims().Map()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var none Identity
	if _, ok := none.Claim("sub"); ok || none.Claims().Len() != 0 || len(none.Claims().Map()) != 0 {
		t.Error("the zero Identity has claims")
	}
}

// TestCachedClaimsArePointerLight holds what a cache entry costs the
// collector: the heap objects a full cache keeps per token. A map of claims
// was 16 (each boxed value, each array); flat, the entry, its claims' text
// and the token's signature (one object), the nodes and otter's node are
// 4, whatever the claims (the header is shared).
func TestCachedClaimsArePointerLight(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes the heap's objects")
	}
	const n = 2000
	tc, _ := NewTokenCache(n, time.Hour)
	v := newTestVerifier(t, VerifierOptions{Cache: tc})
	toks := make([]string, n)
	for i := range toks {
		toks[i] = hs256(stdHeader, claimsAt(testNow, fmt.Sprintf(`"jti":"j%d","username":"user%d","roles":["user","x"],"realm_access":{"roles":["a"]}`, i, i)), testSecret)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, tok := range toks {
		if _, err := v.Verify(t.Context(), string([]byte(tok))); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(toks)
	if got := tc.Stats().Size; got != n {
		t.Fatalf("%d entries cached, want %d", got, n)
	}
	if got := float64(int64(after.HeapObjects)-int64(before.HeapObjects)) / n; got > 5 {
		t.Errorf("%.1f heap objects per cached token, want at most 5", got)
	}
}
