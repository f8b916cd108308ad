package auth

import (
	"encoding/json"
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
