package main

import (
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
)

// TestDemoPageEscapes: the demo app's page shows header names and values,
// and its own path, as text.
func TestDemoPageEscapes(t *testing.T) {
	rec := httptest.NewRecorder()
	writeDemoPage(rec, "/<b>x</b>", "/logout", map[string]string{
		"X-Auth-User": `<script>alert(1)</script>`, "X-Auth-Roles": `a"b`,
	})
	body := rec.Body.String()
	for _, want := range []string{
		"<title>Demo app: /&lt;b&gt;x&lt;/b&gt;</title>",
		`<h1 id="greeting">Hello, &lt;script&gt;alert(1)&lt;/script&gt;</h1>`,
		// Sorted by name.
		"<tr><th>X-Auth-Roles</th><td><code>a&#34;b</code></td></tr>\n<tr><th>X-Auth-User</th>",
		`<form method="post" action="/logout">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "<b>") {
		t.Errorf("a value became markup:\n%s", body)
	}
	rec = httptest.NewRecorder()
	writeDemoPage(rec, "/", "/logout", map[string]string{})
	if body := rec.Body.String(); !strings.Contains(body, "Hello, whoever you are</h1>") || !strings.Contains(body, "<tr><td>none</td></tr>") {
		t.Errorf("the page without identity headers:\n%s", body)
	}
}

// TestNoTextTemplate keeps text/template (and so html/template) out of the
// binary: its calls of methods by name stop the linker from dropping any
// exported method, which made authgate 8 MB (36%) larger, nearly all of it
// go-redis commands authgate never calls.
func TestNoTextTemplate(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "text/template" {
			t.Fatal("authgate depends on text/template again: `go list -deps ./cmd/authgate` and find who brings it in")
		}
	}
}
