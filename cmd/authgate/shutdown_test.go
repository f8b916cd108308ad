package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds authgate into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "authgate")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is the real binary running `authgate serve`, its JSON log lines
// read into logs as it writes them.
type process struct {
	t    *testing.T
	cmd  *exec.Cmd
	logs chan map[string]any
}

// startBinary builds authgate and starts `authgate serve` with env alone as
// its environment. The process is killed when the test ends.
func startBinary(t *testing.T, env ...string) *process {
	t.Helper()
	cmd := exec.Command(buildBinary(t), "serve")
	cmd.Env = env
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	p := &process{t: t, cmd: cmd, logs: make(chan map[string]any, 100)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var entry map[string]any
			if json.Unmarshal(sc.Bytes(), &entry) == nil {
				p.logs <- entry
			}
		}
		close(p.logs)
	}()
	return p
}

// waitFor reads the log up to the next line with message, and returns it.
func (p *process) waitFor(message string) map[string]any {
	p.t.Helper()
	for entry := range p.logs {
		if entry["message"] == message {
			return entry
		}
	}
	p.t.Fatalf("the process ended without logging %q", message)
	return nil
}

// TestGracefulShutdown starts the real binary, sends SIGTERM while a request
// is in flight, and checks that the process stops accepting, lets the
// request finish, and exits 0.
func TestGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	arrived, release := make(chan struct{}), make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		io.WriteString(w, "done")
	}))
	defer upstream.Close()

	p := startBinary(t, "AUTHGATE_ADDR=127.0.0.1:0", "AUTHGATE_ADMIN_ADDR=", "AUTHGATE_JWT_SECRET="+testSecret,
		"AUTHGATE_UPSTREAM="+upstream.URL, "AUTHGATE_PROTECTED_PATHS=/private/*")
	cmd, waitFor := p.cmd, p.waitFor
	addr := waitFor("listening")["addr"].(string)

	type result struct {
		code int
		body string
		err  error
	}
	inflight := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		inflight <- result{code: resp.StatusCode, body: string(b)}
	}()
	<-arrived
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor("shutting down")
	refused := false
	for range 200 { // bounded: the listener closes right after the log line
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			refused = true
			break
		}
		conn.Close()
		time.Sleep(10 * time.Millisecond)
	}
	if !refused {
		t.Error("new connections are still accepted after SIGTERM")
	}
	close(release)
	if r := <-inflight; r.err != nil || r.code != 200 || r.body != "done" {
		t.Errorf("in-flight request = %d %q %v, want 200 done", r.code, r.body, r.err)
	}
	for range p.logs { // drain, so the process is not blocked writing its log
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v, want status 0", err)
	}
}
