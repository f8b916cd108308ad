package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeObject(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{`{"a":1,"b":[1,{"c":true}],"d":null}`, true},
		{`{"sub":"a","SUB":"b"}`, true},
		{`{"sub":"a","sub":"b"}`, false},
		{`{"sub":"a","\u0073ub":"b"}`, false},
		{`{"o":{"x":1,"x":1}}`, false},
		{`{"a":[{"x":1,"x":2}]}`, false},
		{`{"a":1} {"b":2}`, false},
		{`{"a":1}x`, false},
		{`[1]`, false},
		{`"s"`, false},
		{`{"a":1`, false},
		{``, false},
		{strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40), false},
		{`{"a":` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `}`, false},
		{`{"s":"\ud83d\ude00"}`, true},
		{`{"s":"\ud800"}`, false},   // lone surrogate
		{"{\"s\":\"\xff\"}", false}, // invalid UTF-8
		{"{\"s\":\"a\nb\"}", false}, // raw control character
		{`{"n":01}`, false},
		{`{"n":-}`, false},
		{`{"n":1e}`, false},
		{`{"a":1,}`, false},
		{`{"a" 1}`, false},
		// Past seenAt members the names are checked in a map.
		{manyMembers(40, ""), true},
		{manyMembers(40, `,"m7":1`), false},
		{manyMembers(40, `,"\u006d39":1`), false}, // m39, escaped
		{manyMembers(40, `,"\u006d40":1`), true},
		{manyMembers(10, `,"\u006d3":1`), false},
		// Names up to 64 KiB, less one (unescaped, or escaped when read).
		{`{"` + strings.Repeat("n", 65535) + `":1}`, true},
		{`{"` + strings.Repeat("n", 65536) + `":1}`, false},
		{`{"` + strings.Repeat(`\u006e`, 65536) + `":1}`, false},
	}
	for _, tt := range tests {
		m, err := DecodeObject([]byte(tt.in))
		if (err == nil) != tt.ok {
			t.Errorf("DecodeObject(%.40q) = %v, %v; want ok=%v", tt.in, m, err, tt.ok)
		}
	}
	m, err := DecodeObject([]byte(`{"n":1.50,"s":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := m["n"].(json.Number); !ok || n.String() != "1.50" {
		t.Errorf(`m["n"] = %#v, want json.Number("1.50")`, m["n"])
	}
}

// manyMembers is an object of n members m0…m(n-1), then extra.
func manyMembers(n int, extra string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"m%d":%d`, i, i)
	}
	return b.String() + extra + "}"
}

// FuzzDecodeObject checks DecodeObject against encoding/json: whatever it
// accepts, encoding/json reads as the same value; whatever encoding/json
// refuses, it refuses too.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[1,{"c":true}],"d":null}`, `{"sub":"a","SUB":"b"}`, `{"sub":"a","sub":"b"}`,
		`{"s":"\u00e9\ud83d\ude00\n\"\\\/"}`, `{"n":-0.5e+10}`, `{"x":"\ud800"}`, `{"x":"é"}`,
		` { "a" : [ ] , "b" : { } } `, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":tru}`,
		`{"h":"<a href=\"x\">&amp;</a>","ls":"\u2028\u2029","c":"\u0000\u001f\b\f\u007f","b":"a","a":{"z":1,"y":[true,false,null]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeObject(data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("DecodeObject(%q) accepted what encoding/json calls invalid", data)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want map[string]any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeObject(%q) = %#v, encoding/json reads %#v", data, got, want)
		}
		// The flat claims write the JSON encoding/json writes of the map.
		c, err := decodeClaims(data)
		if err != nil {
			t.Fatal(err)
		}
		wantJSON, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if gotJSON := c.AppendJSON(nil); !bytes.Equal(gotJSON, wantJSON) {
			t.Fatalf("AppendJSON of %q = %s, encoding/json writes %s", data, gotJSON, wantJSON)
		}
	})
}

// The decoded names and values are slices of DecodeObject's own copy of
// its input, never of the caller's bytes: a buffer reused after the call
// (a request body's, a decoder's) changes nothing decoded from it.
func TestDecodeObjectOwnsItsStrings(t *testing.T) {
	data := []byte(`{"sub":"alice","n":12,"roles":["admin"],"esc":"a\u00e9b"}`)
	m, err := DecodeObject(data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 'x'
	}
	want := map[string]any{"sub": "alice", "n": json.Number("12"), "roles": []any{"admin"}, "esc": "aéb"}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("after the input changed: %#v, want %#v", m, want)
	}
}

// A string without escapes is a slice of the parser's copy whatever its
// characters: "José" costs no allocation of its own, as "Jose" does not.
func TestDecodeUnescapedUTF8CopiesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops the parser's buffers on purpose")
	}
	ascii, accented := []byte(`{"name":"Jose Muller","roles":["a"]}`), []byte(`{"name":"José Müller","roles":["ä"]}`)
	count := func(data []byte) float64 {
		return testing.AllocsPerRun(100, func() {
			if _, err := decodeClaims(data); err != nil {
				t.Fatal(err)
			}
		})
	}
	if a, u := count(ascii), count(accented); u != a {
		t.Errorf("decoding UTF-8 without escapes: %v allocations, ASCII %v", u, a)
	}
}
