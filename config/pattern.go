package config

import (
	"errors"
	"fmt"
	"strings"
)

// Pattern is one path pattern: "/exact" matches only that path, "/prefix/*"
// matches "/prefix" and everything below it, "/*" matches every path.
// Paths are compared case-sensitively, in their decoded canonical form.
type Pattern struct {
	Path   string // without the trailing "/*" of a prefix pattern; "" for "/*"
	Prefix bool
}

// ParsePattern parses and checks one pattern.
func ParsePattern(s string) (Pattern, error) {
	p := Pattern{Path: s}
	if rest, ok := strings.CutSuffix(s, "/*"); ok {
		p = Pattern{Path: rest, Prefix: true}
	}
	check := p.Path
	if p.Prefix && check == "" {
		check = "/"
	}
	switch {
	case s == "":
		return Pattern{}, errors.New("empty pattern")
	case !strings.HasPrefix(s, "/"):
		return Pattern{}, fmt.Errorf("pattern %q must start with /", s)
	case strings.Contains(check, "*"):
		return Pattern{}, fmt.Errorf("pattern %q: * is only allowed as a final /*", s)
	case strings.ContainsAny(check, "?#%;\\") || strings.ContainsFunc(check, isSpaceOrControl):
		return Pattern{}, fmt.Errorf("pattern %q must be a plain decoded path (no ?, #, %%, ;, \\ or spaces)", s)
	case !IsCanonicalPath(check):
		return Pattern{}, fmt.Errorf("pattern %q must not contain //, . or .. segments", s)
	case !p.Prefix && len(s) > 1 && strings.HasSuffix(s, "/"):
		return Pattern{}, fmt.Errorf("pattern %q ends with /; write %s* for the tree or drop the slash", s, s)
	}
	return p, nil
}

// Match reports whether the canonical path p matches the pattern.
func (p Pattern) Match(path string) bool {
	if !p.Prefix {
		return path == p.Path
	}
	if !strings.HasPrefix(path, p.Path) {
		return false
	}
	rest := path[len(p.Path):]
	return rest == "" || rest[0] == '/'
}

// MoreSpecific reports whether p is more specific than q: an exact pattern
// beats a prefix pattern, and a longer prefix beats a shorter one.
func (p Pattern) MoreSpecific(q Pattern) bool {
	if p.Prefix != q.Prefix {
		return !p.Prefix
	}
	return len(p.Path) > len(q.Path)
}

func (p Pattern) String() string {
	if p.Prefix {
		return p.Path + "/*"
	}
	return p.Path
}

// Patterns is a comma-separated list of patterns.
type Patterns []Pattern

// UnmarshalText parses "/a/*, /b"; spaces around entries are ignored.
func (ps *Patterns) UnmarshalText(text []byte) error {
	var out Patterns
	var errs []error
	for _, part := range listEntries(text) {
		p, err := ParsePattern(part)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, p)
	}
	*ps = out
	return errors.Join(errs...)
}

// IsCanonicalPath reports whether p is an absolute path with no empty, "."
// or ".." segments: the form in which authgate matches and forwards paths.
func IsCanonicalPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") {
		return false
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

func isSpaceOrControl(r rune) bool {
	return r <= ' ' || r == 0x7f
}
