package proxy

import (
	"encoding/json"
	"testing"

	"github.com/authgate/authgate/auth"
)

// TestHeaderValue holds the rendering of each kind of claim as a header
// value, read from the flat claims without building Go values.
func TestHeaderValue(t *testing.T) {
	id := auth.Identity{Subject: "1"}.WithClaims(map[string]any{
		"s": "alice", "n": json.Number("12345678901234567890"), "f": 1.5, "t": true, "no": false,
		"one": []any{"admin"}, "two": []any{"a", "b"}, "mixed": []any{"a", 1, true},
		"nested": []any{[]any{"x", "y"}, "z"}, "withnull": []any{"a", nil},
		"obj": map[string]any{"k": "v", "a": []any{1}}, "html": map[string]any{"x": "<&>"},
		"spaced": " alice", "tabbed": "al\tice", "newline": "al\nice", "empty": "",
		"emptyarr": []any{}, "badelem": []any{"a", " b"}, "del": "a\x7fb",
	})
	for _, tt := range []struct {
		claim string
		want  string
		ok    bool
	}{
		{"s", "alice", true},
		{"n", "12345678901234567890", true},
		{"f", "1.5", true},
		{"t", "true", true},
		{"no", "false", true},
		{"one", "admin", true},
		{"two", "a,b", true},
		{"mixed", "a,1,true", true},
		{"nested", "x,y,z", true},
		{"withnull", "a,null", true},
		{"obj", `{"a":[1],"k":"v"}`, true},
		{"html", `{"x":"\u003c\u0026\u003e"}`, true}, // as encoding/json writes it
		{"tabbed", "al\tice", true},
		{"spaced", "", false},
		{"newline", "", false},
		{"empty", "", false},
		{"emptyarr", "", false},
		{"badelem", "", false},
		{"del", "", false},
	} {
		v, found := id.Claims().Get(tt.claim)
		if !found {
			t.Fatalf("claim %q missing", tt.claim)
		}
		got, ok := headerValue(v)
		if got != tt.want || ok != tt.ok {
			t.Errorf("headerValue(%s) = %q, %v; want %q, %v", tt.claim, got, ok, tt.want, tt.ok)
		}
	}
}
