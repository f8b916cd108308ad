package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfile checks the Dockerfile without a Docker engine: its final
// stage is distroless, non-root, with a HEALTHCHECK that runs authgate
// healthcheck, and its go build line, run as written, yields a static binary
// that reports the version passed in.
func TestDockerfile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	data, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(data)
	for _, want := range []string{
		"FROM gcr.io/distroless/static-debian12:nonroot",
		"USER nonroot:nonroot",
		`HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/authgate", "healthcheck"]`,
		`ENTRYPOINT ["/authgate"]`,
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
	build := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .*)$`).FindStringSubmatch(df)
	if build == nil {
		t.Fatal("no CGO_ENABLED=0 go build line in the Dockerfile")
	}
	for _, flag := range []string{"-trimpath", `-ldflags="-s -w -X main.version=${VERSION}"`} {
		if !strings.Contains(build[1], flag) {
			t.Errorf("the build line lacks %s", flag)
		}
	}
	out := t.TempDir()
	line := strings.ReplaceAll(build[1], "/out/authgate", filepath.Join(out, "authgate"))
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "VERSION=v9.9.9-test")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", line, err, msg)
	}
	bin := filepath.Join(out, "authgate")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary is dynamically linked (%v): distroless static has no libc", p.Type)
		}
	}
	if f.Section(".symtab") != nil {
		t.Error("the binary has a symbol table: -s did not apply")
	}
	version, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(version), "authgate v9.9.9-test ") {
		t.Errorf("version = %q, %v", version, err)
	}
}
