package yamlfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type entry struct {
	Name string `yaml:"name"`
	Size int    `yaml:"size"`
}

type doc struct {
	Items []entry `yaml:"items"`
}

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "list.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	path := write(t, "items:\n  - name: a\n    size: 1\n  - name: b\n\n    size: 2\n")
	var d doc
	l, err := Load(path, "items", &d)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Items) != 2 || d.Items[1].Size != 2 {
		t.Fatalf("decoded %+v", d)
	}
	for _, tt := range []struct {
		i     int
		field string
		want  int
	}{{0, "", 2}, {1, "", 4}, {1, "size", 6}, {1, "absent", 4}, {2, "", 0}, {-1, "name", 0}} {
		if got := l.Line(tt.i, tt.field); got != tt.want {
			t.Errorf("Line(%d, %q) = %d, want %d", tt.i, tt.field, got, tt.want)
		}
	}
	if err := l.Errorf(1, "size", "too big"); err.Error() != path+":6: too big" {
		t.Errorf("Errorf = %q", err)
	}
	if err := l.Errorf(9, "size", "no entry 9"); err.Error() != path+": no entry 9" {
		t.Errorf("Errorf past the end = %q, want no line", err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"unknown field", "items:\n  - name: a\n    colour: red\n", ":3: field colour not found"},
		{"wrong type", "items:\n  - name: a\n    size: big\n", ":3: cannot unmarshal !!str `big` into int"},
		{"two problems, one line", "items:\n  - size: x\n  - size: y\n", ":2: cannot unmarshal !!str `x` into int; "},
		{"no list", "other: 1\n", "field other not found"},
		{"empty file", "", "no items: list (write items: [] for none)"},
		{"null list", "items:\n", "no items: list"},
		{"not YAML", "items: [\n", "yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write(t, tt.body)
			var d doc
			_, err := Load(path, "items", &d)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.HasPrefix(err.Error(), path) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Load = %q, want one line starting with the file and holding %q", err, tt.want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "absent.yaml"), "items", &doc{}); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}
