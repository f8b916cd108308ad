// Package yamlfile reads the list files authgate loads, the users file and
// the rules file: YAML decoded strictly (an unknown field is an error), and
// every error one line that names the file and the line at fault.
package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// List is a loaded list file: its path and the node of each entry of the
// list, so that errors found after decoding can point at an entry or at one
// of its fields.
type List struct {
	Path    string
	entries []*yaml.Node
}

// Load reads the file at path strictly into doc, a pointer to a struct whose
// field tagged key holds the list (`yaml:"users"`). A file without that key,
// or with something other than a list under it, is an error.
func Load(path, key string, doc any) (*List, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, decodeError(path, err)
	}
	// A second pass over the node tree gives each entry's line. It decoded
	// once already, so it cannot fail.
	var tree map[string]yaml.Node
	_ = yaml.Unmarshal(data, &tree)
	list, ok := tree[key]
	if !ok || list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: no %s: list (write %s: [] for none)", path, key, key)
	}
	return &List{Path: path, entries: list.Content}, nil
}

// Errorf returns an error for entry i (from 0) of the list, as
// "path:line: message": the line of the entry's field when field is not ""
// and the entry has it, else the line of the entry.
func (l *List) Errorf(i int, field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if line := l.Line(i, field); line > 0 {
		return fmt.Errorf("%s:%d: %s", l.Path, line, msg)
	}
	return fmt.Errorf("%s: %s", l.Path, msg)
}

// Line returns the line of entry i's field (of the entry itself when field
// is "" or absent), or 0 when there is no entry i.
func (l *List) Line(i int, field string) int {
	if i < 0 || i >= len(l.entries) {
		return 0
	}
	e := l.entries[i]
	for j := 0; field != "" && j+1 < len(e.Content); j += 2 {
		if e.Content[j].Value == field {
			return e.Content[j+1].Line
		}
	}
	return e.Line
}

var (
	yamlLine   = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	yamlInType = regexp.MustCompile(` in type .*$`)
)

// decodeError turns a YAML decoding error into one line per problem, each
// "path:line: what is wrong", joined with "; ".
func decodeError(path string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		m = yamlInType.ReplaceAllString(m, "")
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			out = append(out, fmt.Sprintf("%s:%s: %s", path, g[1], g[2]))
		} else {
			out = append(out, fmt.Sprintf("%s: %s", path, strings.TrimPrefix(m, "yaml: ")))
		}
	}
	return errors.New(strings.Join(out, "; "))
}
