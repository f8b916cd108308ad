package auth

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Claims are a token's claims, decoded once into a form that holds no
// pointer but two: every name and scalar value back to back in one string,
// and the tree of members as a slice of plain numbers. A cached token lives
// for minutes, and the collector marks what it holds on every cycle: a map
// of claims is a dozen objects a token (the map, each boxed value, each
// array), this is three whatever the claims. Reading a claim costs nothing
// for a string, a number or a one-element array; Any and Map build the
// familiar values (string, json.Number, bool, nil, []any, map[string]any)
// when a caller needs them.
type Claims struct {
	text  string      // every member name and string or number value
	nodes []claimNode // nodes[0] is the top-level object
}

// claimNode is one value. An object's members (in no order) and an
// array's elements are contiguous in nodes, from first.
type claimNode struct {
	name, nameLen uint32 // a member's name in text; 0, 0 for an element
	off, n        uint32 // string or number: its text; array or object: first child and count; bool: 0 or 1
	kind          ClaimKind
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

// newClaims flattens m, a decoded JSON object (as DecodeObject returns
// it). Values of other Go types, as tests build them, are taken as what
// encoding/json makes of them. Two allocations: the text and the nodes.
func newClaims(m map[string]any) Claims {
	nodes, text, ok := claimsSize(m)
	if !ok {
		data, err := json.Marshal(m)
		if err == nil {
			m, err = DecodeObject(data)
		}
		if err != nil {
			return Claims{}
		}
		nodes, text, _ = claimsSize(m)
	}
	b := claimsBuilder{nodes: make([]claimNode, 1, nodes)}
	b.text.Grow(text)
	b.object(0, m)
	return Claims{text: b.text.String(), nodes: b.nodes}
}

// claimsSize counts the nodes and the text that v needs; false when v
// holds a Go value that DecodeObject does not make.
func claimsSize(v any) (nodes, text int, ok bool) {
	nodes = 1
	switch x := v.(type) {
	case nil, bool:
	case json.Number:
		text = len(x)
	case string:
		text = len(x)
	case []any:
		for _, e := range x {
			n, t, ok := claimsSize(e)
			if !ok {
				return 0, 0, false
			}
			nodes, text = nodes+n, text+t
		}
	case map[string]any:
		for name, e := range x {
			n, t, ok := claimsSize(e)
			if !ok {
				return 0, 0, false
			}
			nodes, text = nodes+n, text+t+len(name)
		}
	default:
		return 0, 0, false
	}
	return nodes, text, true
}

type claimsBuilder struct {
	text  strings.Builder
	nodes []claimNode
}

func (b *claimsBuilder) add(s string) (off, n uint32) {
	off = uint32(b.text.Len())
	b.text.WriteString(s)
	return off, uint32(len(s))
}

// reserve appends n nodes, the children of one value, and returns the first.
func (b *claimsBuilder) reserve(n int) uint32 {
	first := len(b.nodes)
	b.nodes = b.nodes[:first+n]
	return uint32(first)
}

func (b *claimsBuilder) object(at uint32, m map[string]any) {
	first := b.reserve(len(m))
	b.nodes[at].kind, b.nodes[at].off, b.nodes[at].n = ClaimObject, first, uint32(len(m))
	idx := first
	for name, v := range m {
		b.nodes[idx].name, b.nodes[idx].nameLen = b.add(name)
		b.value(idx, v)
		idx++
	}
}

// value fills the node at with v, one of the types claimsSize accepts.
func (b *claimsBuilder) value(at uint32, v any) {
	nd := &b.nodes[at] // nodes never grow: claimsSize counted them
	switch x := v.(type) {
	case nil:
		nd.kind = ClaimNull
	case bool:
		nd.kind = ClaimBool
		if x {
			nd.n = 1
		}
	case json.Number:
		nd.kind = ClaimNumber
		nd.off, nd.n = b.add(string(x))
	case string:
		nd.kind = ClaimString
		nd.off, nd.n = b.add(x)
	case []any:
		first := b.reserve(len(x))
		nd.kind, nd.off, nd.n = ClaimArray, first, uint32(len(x))
		for i, e := range x {
			b.value(first+uint32(i), e)
		}
	case map[string]any:
		b.object(at, x)
	}
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
	i, ok := c.lookup(0, path)
	if !ok {
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
		nd := &c.nodes[i]
		if int(nd.nameLen) == len(name) && c.text[nd.name:nd.name+nd.nameLen] == name {
			return i, true
		}
	}
	return 0, false
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

// Index is an array's i-th element (an object's i-th member, in no
// particular order), for
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
			m := v.c.nodes[e.i]
			out[v.c.text[m.name:m.name+m.nameLen]] = e.Any()
		}
		return out
	}
	return nil
}

// String renders the value as JSON (for messages and tests).
func (v ClaimValue) String() string {
	b, err := json.Marshal(v.Any())
	if err != nil {
		return strconv.Quote(err.Error())
	}
	return string(b)
}

// intern returns s as a slice of c's text when c holds the same string as
// a top-level claim's value, so that an Identity's fields keep no copy of
// their own alive.
func (c Claims) intern(name, s string) string {
	if v, ok := c.Get(name); ok && v.Kind() == ClaimString && v.Text() == s {
		return v.Text()
	}
	return s
}
