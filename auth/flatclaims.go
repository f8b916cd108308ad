package auth

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Claims are a token's claims, decoded once into a form the collector
// need not look into: the payload's text (with any unescaped strings after
// it), which every name and scalar value is a slice of, and the tree of
// members as a slice of plain numbers. A cached token lives for minutes,
// and the collector marks what it holds on every cycle: a map of claims is
// a dozen objects a token (the map, each boxed value, each array), this is
// two whatever the claims, neither holding a pointer. Reading a claim
// costs nothing for a string, a number or a one-element array; Any and Map
// build the familiar values (string, json.Number, bool, nil, []any,
// map[string]any) when a caller needs them. The zero Claims has none.
type Claims struct {
	text  string      // the JSON text, then the unescaped strings
	nodes []claimNode // nodes[0] is the top-level object
}

// claimNode is one value. An object's members (in their order) and an
// array's elements are contiguous in nodes, from first.
type claimNode struct {
	name    uint32 // a member's name in text, nameLen bytes; 0, 0 for an element
	off, n  uint32 // string or number: its text; array or object: first child and count; bool: 0 or 1
	nameLen uint16 // 16 bytes a node: names are shorter than 64 KiB (the parser refuses others)
	kind    ClaimKind
}

// ClaimKind is the JSON type of a claim value.
type ClaimKind uint8

// The kinds of ClaimValue.
const (
	ClaimNull ClaimKind = iota
	ClaimBool
	ClaimNumber
	ClaimString
	ClaimArray
	ClaimObject
)

// ClaimValue is one value in Claims. The zero ClaimValue, what Get
// returns for an absent claim, reads as null.
type ClaimValue struct {
	c Claims
	i uint32
}

func (v ClaimValue) node() claimNode {
	if int(v.i) >= len(v.c.nodes) {
		return claimNode{}
	}
	return v.c.nodes[v.i]
}

// field is the top-level member name (no path), as the registered claims
// are read.
func (c Claims) field(name string) (ClaimValue, bool) {
	if len(c.nodes) == 0 {
		return ClaimValue{}, false
	}
	return c.at(c.member(0, name))
}

// Len is the number of top-level claims.
func (c Claims) Len() int {
	if len(c.nodes) == 0 {
		return 0
	}
	return int(c.nodes[0].n)
}

// Get returns the claim at a dotted path such as "realm_access.roles".
// Names that contain dots themselves are found too: "kubernetes.io.namespace"
// reaches {"kubernetes.io": {"namespace": …}}.
func (c Claims) Get(path string) (ClaimValue, bool) {
	if len(c.nodes) == 0 {
		return ClaimValue{}, false
	}
	return c.at(c.lookup(0, path))
}

func (c Claims) at(i uint32, found bool) (ClaimValue, bool) {
	if !found {
		return ClaimValue{}, false
	}
	return ClaimValue{c: c, i: i}, true
}

func (c Claims) lookup(obj uint32, path string) (uint32, bool) {
	if i, ok := c.member(obj, path); ok {
		return i, true
	}
	for d := 0; d < len(path); d++ {
		if path[d] != '.' {
			continue
		}
		if inner, ok := c.member(obj, path[:d]); ok && c.nodes[inner].kind == ClaimObject {
			if i, ok := c.lookup(inner, path[d+1:]); ok {
				return i, true
			}
		}
	}
	return 0, false
}

// member finds the member name of the object at obj.
func (c Claims) member(obj uint32, name string) (uint32, bool) {
	o := c.nodes[obj]
	for i := o.off; i < o.off+o.n; i++ {
		if c.nameOf(i) == name {
			return i, true
		}
	}
	return 0, false
}

// nameOf is the name of the member at i.
func (c Claims) nameOf(i uint32) string {
	nd := &c.nodes[i]
	return c.text[nd.name : nd.name+uint32(nd.nameLen)]
}

// Map returns the claims as a map, built afresh (the caller may keep or
// change it): strings, json.Number, bool, nil, []any, map[string]any.
func (c Claims) Map() map[string]any {
	if len(c.nodes) == 0 {
		return map[string]any{}
	}
	return ClaimValue{c: c}.Any().(map[string]any)
}

// Kind is the value's JSON type.
func (v ClaimValue) Kind() ClaimKind { return v.node().kind }

// Text is a string's value or a number's JSON text; "" for other kinds.
func (v ClaimValue) Text() string {
	nd := v.node()
	if nd.kind != ClaimString && nd.kind != ClaimNumber {
		return ""
	}
	return v.c.text[nd.off : nd.off+nd.n]
}

// Bool is a boolean's value; false for other kinds.
func (v ClaimValue) Bool() bool {
	nd := v.node()
	return nd.kind == ClaimBool && nd.n == 1
}

// Len is the number of an array's elements or an object's members; 0 for
// other kinds.
func (v ClaimValue) Len() int {
	nd := v.node()
	if nd.kind != ClaimArray && nd.kind != ClaimObject {
		return 0
	}
	return int(nd.n)
}

// Index is an array's i-th element (an object's i-th member), for
// i below Len; it panics otherwise.
func (v ClaimValue) Index(i int) ClaimValue {
	nd := v.node()
	if (nd.kind != ClaimArray && nd.kind != ClaimObject) || i < 0 || i >= int(nd.n) {
		panic("auth: ClaimValue.Index out of range")
	}
	return ClaimValue{c: v.c, i: nd.off + uint32(i)}
}

// Any builds the value as encoding/json would decode it, numbers as
// json.Number.
func (v ClaimValue) Any() any {
	nd := v.node()
	switch nd.kind {
	case ClaimBool:
		return nd.n == 1
	case ClaimNumber:
		return json.Number(v.Text())
	case ClaimString:
		return v.Text()
	case ClaimArray:
		out := make([]any, nd.n)
		for i := range out {
			out[i] = v.Index(i).Any()
		}
		return out
	case ClaimObject:
		out := make(map[string]any, nd.n)
		for i := range int(nd.n) {
			e := v.Index(i)
			out[v.c.nameOf(e.i)] = e.Any()
		}
		return out
	}
	return nil
}

// String renders the value as JSON, as encoding/json writes it.
func (v ClaimValue) String() string { return string(v.appendJSON(nil)) }

// AppendJSON appends the claims as encoding/json writes their Map: compact,
// members sorted by name, strings escaped as it escapes them (HTML's <, >
// and &, U+2028 and U+2029 included), numbers as they came.
func (c Claims) AppendJSON(dst []byte) []byte {
	if len(c.nodes) == 0 {
		return append(dst, "{}"...)
	}
	return ClaimValue{c: c}.appendJSON(dst)
}

func (v ClaimValue) appendJSON(dst []byte) []byte {
	nd := v.node()
	switch nd.kind {
	case ClaimBool:
		return strconv.AppendBool(dst, nd.n == 1)
	case ClaimNumber:
		return append(dst, v.Text()...)
	case ClaimString:
		return appendJSONString(dst, v.Text())
	case ClaimArray:
		dst = append(dst, '[')
		for i := range int(nd.n) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = v.Index(i).appendJSON(dst)
		}
		return append(dst, ']')
	case ClaimObject:
		var buf [32]uint32
		order := buf[:0]
		for i := nd.off; i < nd.off+nd.n; i++ {
			order = append(order, i)
		}
		slices.SortFunc(order, func(a, b uint32) int { return strings.Compare(v.c.nameOf(a), v.c.nameOf(b)) })
		dst = append(dst, '{')
		for k, i := range order {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, v.c.nameOf(i))
			dst = append(dst, ':')
			dst = ClaimValue{c: v.c, i: i}.appendJSON(dst)
		}
		return append(dst, '}')
	}
	return append(dst, "null"...)
}

// appendJSONString quotes s as encoding/json does with HTML escaping on.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				dst = append(append(dst, s[start:i]...), `\ufffd`...)
			case r == '\u2028' || r == '\u2029':
				dst = append(append(dst, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xF])
			default:
				i += size
				continue
			}
			i += size
			start = i
			continue
		}
		if b >= ' ' && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		switch b {
		case '\\', '"':
			dst = append(dst, '\\', b)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
		}
		i++
		start = i
	}
	return append(append(dst, s[start:]...), '"')
}
