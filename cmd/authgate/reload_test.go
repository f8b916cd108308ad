package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/authgate/auth"
)

// usersYAML is a users file with these users, each with the password "pw".
func usersYAML(names ...string) string {
	hash := auth.HashArgon2id("pw", auth.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	var b strings.Builder
	b.WriteString("users:\n")
	for i, n := range names {
		fmt.Fprintf(&b, "  - username: %s\n    id: \"%d\"\n    password: %s\n    claims: {roles: [user]}\n", n, i+1, hash)
	}
	return b.String()
}

const (
	rulesV1 = "rules:\n  - name: admin\n    paths: [\"/admin/*\"]\n    require: {roles: [admin]}\n"
	rulesV2 = rulesV1 + "  - name: open\n    paths: [\"/open/*\"]\n    public: true\n"
)

// These tests poll a login that fails until a reload is in force: the
// login throttle, which they do not test, must not lock the user out.
const (
	pollingLogins      = "AUTHGATE_LOGIN_MAX_FAILURES=100000"
	pollingLoginsPerIP = "AUTHGATE_LOGIN_MAX_FAILURES_PER_IP=100000"
)

// writeFile writes body in place, as an editor or `cat >` does.
func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// replaceFile writes body to a temporary file and renames it over path, as
// configuration management tools do.
func replaceFile(t *testing.T, path, body string) {
	t.Helper()
	tmp := path + ".tmp"
	writeFile(t, tmp, body)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// waitUntil polls cond for up to ten seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("after 10s: %s", what)
}

// reloads returns authgate_reload_total{result} from the admin listener.
func reloads(t *testing.T, admin, result string) int {
	t.Helper()
	_, body := call(t, "GET", admin+"/metrics", "", "", "")
	m := regexp.MustCompile(`(?m)^authgate_reload_total\{result="` + result + `"\} (\d+)$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("/metrics has no authgate_reload_total{result=%q}", result)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func login(t *testing.T, addr, user string) (int, string) {
	t.Helper()
	code, body := call(t, "POST", addr+"/login", "", "application/json", `{"username":"`+user+`","password":"pw"}`)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal([]byte(body), &tok)
	return code, tok.AccessToken
}

func okUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(up.Close)
	return up
}

// startWithFiles runs serve in proxy mode with rulesV1 in a rules file and
// bob in a users file, and returns it with the two files' paths.
func startWithFiles(t *testing.T) (in *instance, rules, users string) {
	t.Helper()
	dir := t.TempDir()
	rules, users = filepath.Join(dir, "rules.yaml"), filepath.Join(dir, "users.yaml")
	writeFile(t, rules, rulesV1)
	writeFile(t, users, usersYAML("bob"))
	in = start(t, nil, "AUTHGATE_JWT_SECRET="+testSecret, "AUTHGATE_RULES_FILE="+rules,
		"AUTHGATE_USERS_FILE="+users, "AUTHGATE_UPSTREAM="+okUpstream(t).URL, pollingLogins, pollingLoginsPerIP)
	return in, rules, users
}

// TestReloadUnderLoad changes the rules file (renamed over) and the users
// file (written in place) while clients keep sending requests whose answer
// is the same before and after: none may fail, and the new rule and the new
// user are in force after the reload.
func TestReloadUnderLoad(t *testing.T) {
	in, rules, users := startWithFiles(t)
	code, token := login(t, in.addr, "bob")
	if code != 200 {
		t.Fatalf("login bob = %d", code)
	}
	if code, _ := call(t, "GET", in.addr+"/open/x", "", "", ""); code != 401 {
		t.Fatalf("before the reload GET /open/x = %d, want 401", code)
	}

	var stop atomic.Bool
	var sent atomic.Int64
	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range 4 {
		wg.Go(func() {
			for i := 0; i < 20000 && !stop.Load(); i++ { // bounded
				var req *http.Request
				if (i+w)%2 == 0 {
					req, _ = http.NewRequest("GET", in.addr+"/api/x", nil)
					req.Header.Set("Authorization", "Bearer "+token)
				} else {
					req, _ = http.NewRequest("POST", in.addr+"/login", strings.NewReader(`{"username":"bob","password":"pw"}`))
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				sent.Add(1)
				if err != nil || resp.StatusCode != 200 {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s %s: %v %v", req.Method, req.URL.Path, err, resp))
					mu.Unlock()
				}
			}
		})
	}
	waitUntil(t, "the load loop is running", func() bool { return sent.Load() > 50 })
	replaceFile(t, rules, rulesV2)
	writeFile(t, users, usersYAML("bob", "carol"))
	atChange := sent.Load()
	waitUntil(t, "the new rule and the new user are in force", func() bool {
		code, _ := call(t, "GET", in.addr+"/open/x", "", "", "")
		c, _ := login(t, in.addr, "carol")
		return code == 200 && c == 200
	})
	atReload := sent.Load()
	waitUntil(t, "the load loop goes on after the reload", func() bool { return sent.Load() > atReload+50 })
	stop.Store(true)
	wg.Wait()

	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed during the reload, first: %s", len(failures), sent.Load(), failures[0])
	}
	if atReload == atChange {
		t.Errorf("no request was sent between the change and the reload")
	}
	if n := reloads(t, in.admin, "ok"); n < 1 {
		t.Errorf("authgate_reload_total{result=\"ok\"} = %d", n)
	}
	// Info lines wait up to AUTHGATE_LOG_FLUSH_INTERVAL in memory; a stop
	// writes them.
	if err := in.stop(); err != nil {
		t.Errorf("run returned %v", err)
	}
	if !strings.Contains(in.logs.String(), `"message":"reloaded"`) {
		t.Errorf("no reload in the log:\n%s", in.logs)
	}
	t.Logf("%d requests, %d between the change and the reload taking effect", sent.Load(), atReload-atChange)
}

// TestReloadAllOrNothing: an invalid file is logged with its line and
// counted, and everything keeps running on the previous version, also a
// valid change to another file, until every file is valid again.
func TestReloadAllOrNothing(t *testing.T) {
	in, rules, users := startWithFiles(t)

	writeFile(t, users, usersYAML("bob")+"  - username: carol\n    id: \"2\"\n    password: plaintext\n")
	waitUntil(t, "the invalid users file is counted", func() bool { return reloads(t, in.admin, "error") == 1 })
	if want := "AUTHGATE_USERS_FILE: " + users + ":6: "; !strings.Contains(in.logs.String(), want) || !strings.Contains(in.logs.String(), "reload failed") {
		t.Errorf("the log does not name the file and line (%s):\n%s", want, in.logs)
	}
	if code, _ := login(t, in.addr, "bob"); code != 200 {
		t.Errorf("after a failed reload login bob = %d, want the previous users", code)
	}

	replaceFile(t, rules, rulesV2)
	waitUntil(t, "the reload with the new rules fails too", func() bool { return reloads(t, in.admin, "error") == 2 })
	if code, _ := call(t, "GET", in.addr+"/open/x", "", "", ""); code != 401 {
		t.Errorf("GET /open/x = %d, want 401: a valid rules file must not go in while the users file is invalid", code)
	}

	writeFile(t, users, usersYAML("bob", "carol"))
	waitUntil(t, "the fixed users file goes in, with the new rules", func() bool { return reloads(t, in.admin, "ok") == 1 })
	if code, _ := call(t, "GET", in.addr+"/open/x", "", "", ""); code != 200 {
		t.Errorf("GET /open/x = %d after the good reload, want 200", code)
	}
	if code, _ := login(t, in.addr, "carol"); code != 200 {
		t.Errorf("login carol = %d after the good reload", code)
	}
}

// TestReloadConfigMapSymlinkSwap mounts the users file and the signing
// secret as Kubernetes does a ConfigMap or Secret volume (users.yaml ->
// ..data/users.yaml, ..data -> ..<timestamp>) and updates it as the kubelet
// does, by swapping the ..data symlink: no event ever names users.yaml.
func TestReloadConfigMapSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	version := func(name, users, secret string) {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(d, "users.yaml"), users)
		writeFile(t, filepath.Join(d, "secret"), secret)
	}
	version("..2026_12_03_10_00_00.1", usersYAML("bob"), testSecret)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink("..2026_12_03_10_00_00.1", filepath.Join(dir, "..data")))
	must(os.Symlink("..data/users.yaml", filepath.Join(dir, "users.yaml")))
	must(os.Symlink("..data/secret", filepath.Join(dir, "secret")))

	in := start(t, nil, "AUTHGATE_JWT_SECRET_FILE="+filepath.Join(dir, "secret"), "AUTHGATE_USERS_FILE="+filepath.Join(dir, "users.yaml"), pollingLogins, pollingLoginsPerIP)
	code, old := login(t, in.addr, "bob")
	if code != 200 {
		t.Fatalf("login bob = %d", code)
	}
	if code, _ := login(t, in.addr, "carol"); code != 401 {
		t.Fatalf("login carol before the update = %d, want 401", code)
	}

	newSecret := strings.Repeat("n", 40)
	version("..2026_12_03_10_05_00.2", usersYAML("bob", "carol"), newSecret)
	must(os.Symlink("..2026_12_03_10_05_00.2", filepath.Join(dir, "..data_tmp")))
	must(os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	must(os.RemoveAll(filepath.Join(dir, "..2026_12_03_10_00_00.1")))

	var fresh string
	waitUntil(t, "the swapped users file is in force", func() bool {
		code, fresh = login(t, in.addr, "carol")
		return code == 200
	})
	v, _ := auth.NewVerifier(mustKeys(t, newSecret), auth.VerifierOptions{Issuer: "authgate"})
	if _, err := v.Verify(t.Context(), fresh); err != nil {
		t.Errorf("a token issued after the swap does not verify with the new secret: %v", err)
	}
	if code, body := call(t, "GET", in.addr+"/me", "Bearer "+old, "", ""); code != 401 || !strings.Contains(body, "Invalid token") {
		t.Errorf("a token of the replaced secret: GET /me = %d %s, want 401 Invalid token", code, body)
	}
	if code, _ := call(t, "GET", in.addr+"/me", "Bearer "+fresh, "", ""); code != 200 {
		t.Errorf("GET /me with a token of the new secret = %d", code)
	}
}

// TestSIGHUPReloads sends the real binary SIGHUP: it reloads, counts it and
// keeps serving (SIGHUP's default action would end the process).
func TestSIGHUPReloads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	users := filepath.Join(t.TempDir(), "users.yaml")
	writeFile(t, users, usersYAML("bob"))
	p := startBinary(t, "AUTHGATE_ADDR=127.0.0.1:0", "AUTHGATE_ADMIN_ADDR=127.0.0.1:0", "AUTHGATE_JWT_SECRET="+testSecret, "AUTHGATE_USERS_FILE="+users)
	cmd, waitFor := p.cmd, p.waitFor
	addr := "http://" + waitFor("listening")["addr"].(string)
	admin := "http://" + waitFor("admin listening")["admin_addr"].(string)
	waitFor("reloading these files when they change and on SIGHUP")

	writeFile(t, users, usersYAML("bob", "carol")) // seen by the watcher too; SIGHUP must work alone
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for {
		entry := waitFor("reloaded")
		if entry["trigger"] == "SIGHUP" {
			break
		}
	}
	if code, _ := login(t, addr, "carol"); code != 200 {
		t.Errorf("after SIGHUP login carol = %d, want 200", code)
	}
	if n := reloads(t, admin, "ok"); n < 1 {
		t.Errorf("authgate_reload_total{result=\"ok\"} = %d after SIGHUP", n)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range p.logs {
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGHUP and SIGTERM: %v, want status 0", err)
	}
}
