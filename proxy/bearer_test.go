package proxy

import (
	"regexp"
	"strings"
	"testing"
)

var bearerCases = []struct {
	name   string
	values []string
	token  string
	ok     bool
}{
	{"plain", []string{"Bearer abc.def.ghi"}, "abc.def.ghi", true},
	{"lower-case scheme", []string{"bearer abc"}, "abc", true},
	{"upper-case scheme", []string{"BEARER abc"}, "abc", true},
	{"two spaces", []string{"Bearer  abc"}, "abc", true},
	{"b64token padding", []string{"Bearer abc=="}, "abc==", true},
	{"b64token punctuation", []string{"Bearer a-b_c~d+e/f.g"}, "a-b_c~d+e/f.g", true},
	{"none", nil, "", false},
	{"empty", []string{""}, "", false},
	{"two headers", []string{"Bearer a", "Bearer b"}, "", false},
	{"no token", []string{"Bearer"}, "", false},
	{"only a space", []string{"Bearer "}, "", false},
	{"Basic", []string{"Basic YWxhZGRpbjpvcGVuc2VzYW1l"}, "", false},
	{"Bearer-ish scheme", []string{"Bearerx abc"}, "", false},
	{"comma list", []string{"Bearer a, Bearer b"}, "", false},
	{"trailing junk", []string{"Bearer abc def"}, "", false},
	{"only padding", []string{"Bearer ==="}, "", false},
	{"padding inside", []string{"Bearer a=b"}, "", false},
	{"tab", []string{"Bearer\tabc"}, "", false},
	{"quoted", []string{`Bearer "abc"`}, "", false},
}

func TestBearerToken(t *testing.T) {
	for _, tt := range bearerCases {
		token, ok := bearerToken(tt.values)
		if token != tt.token || ok != tt.ok {
			t.Errorf("%s: bearerToken(%q) = %q, %v; want %q, %v", tt.name, tt.values, token, ok, tt.token, tt.ok)
		}
	}
}

func FuzzBearerToken(f *testing.F) {
	for _, tt := range bearerCases {
		if len(tt.values) == 1 {
			f.Add(tt.values[0])
		}
	}
	f.Fuzz(func(t *testing.T, header string) {
		token, ok := bearerToken([]string{header})
		if ok != (token != "") {
			t.Fatalf("bearerToken(%q) = %q, %v", header, token, ok)
		}
		if ok && !isB64Token(token) {
			t.Fatalf("bearerToken(%q) = %q, not a b64token", header, token)
		}
	})
}

// TestB64TokenEveryByte checks isB64Token's table against RFC 6750's
// grammar as a regular expression, for every byte in every position of
// tokens up to 20 bytes long (each of the eight lanes of the unrolled loop,
// and the tail after it), before and after the "=" padding.
func TestB64TokenEveryByte(t *testing.T) {
	grammar := regexp.MustCompile(`^[A-Za-z0-9._~+/-]+=*$`)
	for c := range 256 {
		b := string([]byte{byte(c)})
		for n := 1; n <= 20; n++ {
			for pos := range n {
				base := strings.Repeat("x", n)
				for _, s := range []string{base[:pos] + b + base[pos+1:], base[:pos] + b + base[pos+1:] + "==", base + "=" + b} {
					if got, want := isB64Token(s), grammar.MatchString(s); got != want {
						t.Fatalf("isB64Token(%q) = %v, the grammar says %v", s, got, want)
					}
				}
			}
		}
	}
}
