package policy

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/internal/yamlfile"
)

// fileRule is one entry of the rules file as written.
type fileRule struct {
	Name    string   `yaml:"name"`
	Paths   []string `yaml:"paths"`
	Methods []string `yaml:"methods"`
	Hosts   []string `yaml:"hosts"`
	Public  bool     `yaml:"public"`
	Require *struct {
		Roles  []string       `yaml:"roles"`
		Scopes []string       `yaml:"scopes"`
		Claims map[string]any `yaml:"claims"`
	} `yaml:"require"`
}

// LoadRules reads a rules file (README.md, "Rules file"). Every error is
// one line that names the file and line and says what is wrong.
func LoadRules(path string) ([]Rule, error) {
	var doc struct {
		Rules []fileRule `yaml:"rules"`
	}
	list, err := yamlfile.Load(path, "rules", &doc)
	if err != nil {
		return nil, err
	}
	base := filepath.Base(path)
	names := map[string]int{}
	rules := make([]Rule, 0, len(doc.Rules))
	for i, fr := range doc.Rules {
		r, field, err := fr.rule(i)
		if err != nil {
			return nil, list.Errorf(i, field, "rule %d: %v", i+1, err)
		}
		if first, dup := names[r.Name]; dup {
			return nil, list.Errorf(i, "name", "rule %d: name %q is also rule %d's", i+1, r.Name, first)
		}
		names[r.Name] = i + 1
		r.Source = fmt.Sprintf("%s:%d", base, list.Line(i, ""))
		rules = append(rules, r)
	}
	return rules, nil
}

// rule checks one entry; on error it also names the field at fault.
func (fr fileRule) rule(i int) (Rule, string, error) {
	r := Rule{Name: fr.Name, Public: fr.Public}
	if r.Name == "" {
		r.Name = fmt.Sprintf("rule%d", i+1)
	}
	if len(fr.Paths) == 0 {
		return r, "paths", errors.New("paths: give at least one path pattern, such as /admin/*")
	}
	for _, p := range fr.Paths {
		pat, err := config.ParsePattern(p)
		if err != nil {
			return r, "paths", fmt.Errorf("paths: %v", err)
		}
		r.Paths = append(r.Paths, pat)
	}
	for _, m := range fr.Methods {
		m = strings.ToUpper(strings.TrimSpace(m))
		if m == "" || strings.Trim(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_") != "" {
			return r, "methods", fmt.Errorf("methods: %q is not an HTTP method", m)
		}
		if !slices.Contains(r.Methods, m) {
			r.Methods = append(r.Methods, m)
		}
	}
	for _, h := range fr.Hosts {
		nh, err := normalizeHost(h)
		if err != nil {
			return r, "hosts", fmt.Errorf("hosts: %v", err)
		}
		r.Hosts = append(r.Hosts, nh)
	}
	if fr.Require == nil {
		return r, "", nil
	}
	if fr.Public {
		return r, "require", errors.New("a public rule cannot require anything; drop public or require")
	}
	req := &Requirements{Claims: map[string]any{}}
	for _, list := range []struct {
		name string
		in   []string
		out  *[]string
	}{{"roles", fr.Require.Roles, &req.Roles}, {"scopes", fr.Require.Scopes, &req.Scopes}} {
		for _, v := range list.in {
			if strings.TrimSpace(v) == "" || strings.ContainsAny(v, " \t") {
				return r, "require", fmt.Errorf("require.%s: %q must be a non-empty name without spaces", list.name, v)
			}
			*list.out = append(*list.out, v)
		}
	}
	for name, v := range fr.Require.Claims {
		switch v.(type) {
		case string, bool, int, int64, uint64, float64, nil:
			req.Claims[name] = v
		default:
			return r, "require", fmt.Errorf("require.claims.%s: exact values are strings, numbers or booleans (for membership use roles or scopes)", name)
		}
	}
	if len(req.Roles)+len(req.Scopes)+len(req.Claims) == 0 {
		return r, "require", errors.New("require lists no roles, scopes or claims; drop it for \"any valid token\"")
	}
	r.Require = req
	return r, "", nil
}
