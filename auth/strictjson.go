package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting of token headers, claims and login bodies.
const maxJSONDepth = 32

var (
	errNotObject = errors.New("not a JSON object")
	errSyntax    = errors.New("malformed JSON")
)

// DecodeObject decodes a JSON object the strict way tokens need and
// encoding/json's Unmarshal does not give: member names are case-sensitive
// (Unmarshal into a struct matches "SUB" to a field tagged "sub"), a name
// that occurs twice at any depth is an error rather than last-wins, strings
// must be valid UTF-8 (no lone surrogates), numbers stay json.Number, and
// nothing may follow the object.
//
// It is a small recursive-descent parser rather than json.Decoder.Token,
// which costs several allocations per token on every request. It parses
// into the flat form of Claims (which token payloads keep as they are) and
// builds the map from that.
func DecodeObject(data []byte) (map[string]any, error) {
	c, err := decodeClaims(data)
	if err != nil {
		return nil, err
	}
	return c.Map(), nil
}

// decodeClaims decodes a JSON object as DecodeObject does, into Claims: a
// copy of data, which every name, string and number without escapes is a
// slice of, the unescaped strings after it, and the tree of nodes.
func decodeClaims(data []byte) (Claims, error) {
	p := jsonParser{data: string(data)}
	bufs := parseBufsPool.Get().(*parseBufs)
	defer bufs.release()
	p.parseBufs = bufs
	p.esc, p.out, p.scratch = p.esc[:0], append(p.out[:0], claimNode{}), p.scratch[:0]
	p.skipSpace()
	if p.pos >= len(p.data) || p.data[p.pos] != '{' {
		return Claims{}, errNotObject
	}
	root, err := p.object(1)
	if err != nil {
		return Claims{}, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return Claims{}, errors.New("unexpected data after the JSON object")
	}
	p.out[0] = root
	c := Claims{text: p.data, nodes: slices.Clone(p.out)}
	if len(p.esc) > 0 {
		c.text += string(p.esc)
	}
	return c, nil
}

// parseBufs are a parse's working nodes, kept between parses: the nodes a
// parse keeps are copied out at its end, at their exact size.
type parseBufs struct {
	esc     []byte      // unescaped strings, which follow data in the text
	out     []claimNode // the nodes parsed; out[0] is the root, set last
	scratch []claimNode // the members of the objects and arrays being parsed
}

var parseBufsPool = sync.Pool{New: func() any { return new(parseBufs) }}

// maxPooledNodes bounds what the pool keeps. What authgate parses is at
// most 8 KB (a token, a login or refresh body), about 4,000 nodes at the
// very most; the bound keeps a larger text from pinning its buffers.
const maxPooledNodes = 4096

func (b *parseBufs) release() {
	if cap(b.out)+cap(b.scratch) > maxPooledNodes || cap(b.esc) > 16*maxPooledNodes {
		return
	}
	parseBufsPool.Put(b)
}

// seenAt is the member count from which an object's names are checked for
// duplicates in a map rather than one by one: a token of 8 KB holds more
// than a thousand members, and comparing each with all before it would be
// a million comparisons for one forged token.
const seenAt = 16

type jsonParser struct {
	data string
	pos  int
	*parseBufs
}

func (p *jsonParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// consume skips space and then the byte c, reporting whether it was there.
func (p *jsonParser) consume(c byte) bool {
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

var jsonLiterals = [...]struct {
	text string
	node claimNode
}{{"true", claimNode{kind: ClaimBool, n: 1}}, {"false", claimNode{kind: ClaimBool}}, {"null", claimNode{kind: ClaimNull}}}

func (p *jsonParser) value(depth int) (claimNode, error) {
	p.skipSpace()
	if p.pos >= len(p.data) {
		return claimNode{}, errSyntax
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		off, n, err := p.span()
		return claimNode{kind: ClaimString, off: off, n: n}, err
	case c == '-' || '0' <= c && c <= '9':
		start := p.pos
		_, err := p.number()
		return claimNode{kind: ClaimNumber, off: uint32(start), n: uint32(p.pos - start)}, err
	}
	for _, lit := range jsonLiterals {
		if len(p.data)-p.pos >= len(lit.text) && p.data[p.pos:p.pos+len(lit.text)] == lit.text {
			p.pos += len(lit.text)
			return lit.node, nil
		}
	}
	return claimNode{}, errSyntax
}

// span parses a string from its opening quote and returns where its value
// is in the text: in data when it has no escapes, else appended to esc.
func (p *jsonParser) span() (off, n uint32, err error) {
	start := p.pos + 1
	s, err := p.str()
	if err != nil {
		return 0, 0, err
	}
	// An escape is always longer than what it stands for.
	if len(s) == p.pos-1-start {
		return uint32(start), uint32(len(s)), nil
	}
	off = uint32(len(p.data) + len(p.esc))
	p.esc = append(p.esc, s...)
	return off, uint32(len(s)), nil
}

// textAt is the text at off, n: a slice of data, or a copy out of esc.
func (p *jsonParser) textAt(off, n uint32) string {
	if int(off) < len(p.data) {
		return p.data[off : off+n]
	}
	o := int(off) - len(p.data)
	return string(p.esc[o : o+int(n)])
}

// object parses from the opening brace. Its members' nodes wait on scratch
// (their own members, parsed first, are already in out) and go to out
// together at the closing brace: contiguous, as Claims needs them.
func (p *jsonParser) object(depth int) (claimNode, error) {
	if depth > maxJSONDepth {
		return claimNode{}, errors.New("JSON nested too deeply")
	}
	p.pos++ // {
	start := len(p.scratch)
	var seen map[string]bool
	if !p.consume('}') {
		for {
			p.skipSpace()
			if p.pos >= len(p.data) || p.data[p.pos] != '"' {
				return claimNode{}, errSyntax
			}
			noff, nlen, err := p.span()
			if err != nil {
				return claimNode{}, err
			}
			if nlen > math.MaxUint16 {
				return claimNode{}, fmt.Errorf("a member name of %d bytes (at most %d)", nlen, math.MaxUint16)
			}
			name := p.textAt(noff, nlen)
			if p.seen(start, name, &seen) {
				return claimNode{}, fmt.Errorf("duplicate member %q", name)
			}
			if !p.consume(':') {
				return claimNode{}, errSyntax
			}
			v, err := p.value(depth)
			if err != nil {
				return claimNode{}, err
			}
			v.name, v.nameLen = noff, uint16(nlen)
			p.scratch = append(p.scratch, v)
			if p.consume('}') {
				break
			}
			if !p.consume(',') {
				return claimNode{}, errSyntax
			}
		}
	}
	return p.close(ClaimObject, start), nil
}

// seen reports whether name is already a member of the object whose
// members start at start on scratch, and then counts it as one.
func (p *jsonParser) seen(start int, name string, m *map[string]bool) bool {
	members := p.scratch[start:]
	if *m == nil && len(members) < seenAt {
		for _, nd := range members {
			if p.textAt(nd.name, uint32(nd.nameLen)) == name {
				return true
			}
		}
		return false
	}
	if *m == nil {
		*m = make(map[string]bool, 2*seenAt)
		for _, nd := range members {
			(*m)[strings.Clone(p.textAt(nd.name, uint32(nd.nameLen)))] = true
		}
	}
	if (*m)[name] {
		return true
	}
	(*m)[strings.Clone(name)] = true
	return false
}

// array parses from the opening bracket; its elements wait on scratch as
// an object's members do.
func (p *jsonParser) array(depth int) (claimNode, error) {
	if depth > maxJSONDepth {
		return claimNode{}, errors.New("JSON nested too deeply")
	}
	p.pos++ // [
	start := len(p.scratch)
	if !p.consume(']') {
		for {
			v, err := p.value(depth)
			if err != nil {
				return claimNode{}, err
			}
			p.scratch = append(p.scratch, v)
			if p.consume(']') {
				break
			}
			if !p.consume(',') {
				return claimNode{}, errSyntax
			}
		}
	}
	return p.close(ClaimArray, start), nil
}

// close moves the children waiting on scratch from start to out and
// returns the node of their object or array.
func (p *jsonParser) close(kind ClaimKind, start int) claimNode {
	first := len(p.out)
	p.out = append(p.out, p.scratch[start:]...)
	n := len(p.scratch) - start
	p.scratch = p.scratch[:start]
	return claimNode{kind: kind, off: uint32(first), n: uint32(n)}
}

// str parses a string from its opening quote.
func (p *jsonParser) str() (string, error) {
	p.pos++ // "
	start := p.pos
	for p.pos < len(p.data) { // fast path: no escapes, nothing to copy
		c := p.data[p.pos]
		if c == '"' {
			s := p.data[start:p.pos]
			p.pos++
			return s, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(p.data[p.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", errors.New("invalid UTF-8 in a JSON string")
			}
			p.pos += size
			continue
		}
		p.pos++
	}
	buf := append([]byte(nil), p.data[start:p.pos]...)
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(buf), nil
		case c < 0x20:
			return "", errSyntax
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return "", err
			}
			buf = utf8.AppendRune(buf, r)
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(p.data[p.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", errors.New("invalid UTF-8 in a JSON string")
			}
			buf = append(buf, p.data[p.pos:p.pos+size]...)
			p.pos += size
		default:
			buf = append(buf, c)
			p.pos++
		}
	}
	return "", errSyntax
}

// escape decodes one backslash escape, a surrogate pair as one rune.
func (p *jsonParser) escape() (rune, error) {
	if p.pos+1 >= len(p.data) {
		return 0, errSyntax
	}
	c := p.data[p.pos+1]
	p.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, ok := p.hex4()
		if !ok {
			return 0, errSyntax
		}
		if !utf16.IsSurrogate(r) {
			return r, nil
		}
		if p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
			p.pos += 2
			if r2, ok := p.hex4(); ok {
				if pair := utf16.DecodeRune(r, r2); pair != utf8.RuneError {
					return pair, nil
				}
			}
		}
		return 0, errors.New("lone surrogate in a JSON string")
	}
	return 0, errSyntax
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.pos+4 > len(p.data) {
		return 0, false
	}
	var r rune
	for i := p.pos; i < p.pos+4; i++ {
		c := p.data[i]
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	p.pos += 4
	return r, true
}

// number parses -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? as written.
func (p *jsonParser) number() (json.Number, error) {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && '0' <= p.data[p.pos] && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if p.data[p.pos] == '-' {
		p.pos++
	}
	intStart := p.pos
	if n := digits(); n == 0 || n > 1 && p.data[intStart] == '0' {
		return "", errSyntax
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return "", errSyntax
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return "", errSyntax
		}
	}
	return json.Number(p.data[start:p.pos]), nil
}
