package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/authgate/config"
)

// These tests put the real nginx, Caddy and (when installed) Traefik in
// front of authgate's forward-auth endpoint, configured with the very files
// shipped in deploy/, and check what reaches the client and the app.

const deployDir = "../../deploy"

// frontProxyBinary returns the path of a front proxy, or skips the test when
// it is not installed, unless AUTHGATE_REQUIRE_FRONT_PROXIES names it (as
// .ci/run does for nginx and caddy), in which case it fails.
func frontProxyBinary(t *testing.T, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if strings.Contains(","+os.Getenv("AUTHGATE_REQUIRE_FRONT_PROXIES")+",", ","+name+",") {
			t.Fatalf("%s is required but not on PATH: %v", name, err)
		}
		t.Skipf("%s is not installed (apt-get install -y nginx caddy; Traefik v3 from its releases): %v", name, err)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startProcess runs a front proxy until the test ends and waits (bounded)
// until it accepts connections on addr.
func startProcess(t *testing.T, cmd *exec.Cmd, addr string) {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // nginx forks workers: stop them all
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(cmd.Path), out.String())
		}
	})
	for range 500 { // bounded: ten seconds
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not listen on %s:\n%s", cmd.Path, addr, out.String())
}

func absDeploy(t *testing.T, parts ...string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(append([]string{deployDir}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func startNginx(t *testing.T, authgateAddr, appAddr string) string {
	return startNginxAt(t, fmt.Sprintf("127.0.0.1:%d", freePort(t)), authgateAddr, appAddr)
}

// startNginxAt runs nginx on addr with the shipped snippets, the login
// page's included.
func startNginxAt(t *testing.T, addr, authgateAddr, appAddr string) string {
	bin := frontProxyBinary(t, "nginx")
	dir := t.TempDir()
	conf := fmt.Sprintf(`daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[2]s;
    upstream authgate { server %[3]s; }
    upstream app { server %[4]s; }
    server {
        listen %[5]s;
        include %[6]s;
        include %[8]s;
        location / {
            include %[7]s;
            proxy_set_header Host $host;
            proxy_pass http://app;
        }
    }
}
`, dir, absDeploy(t, "nginx", "authgate-http.conf"), authgateAddr, appAddr, addr,
		absDeploy(t, "nginx", "authgate-server.conf"), absDeploy(t, "nginx", "authgate-protect.conf"), absDeploy(t, "nginx", "authgate-login.conf"))
	confPath := filepath.Join(dir, "nginx.conf")
	os.WriteFile(confPath, []byte(conf), 0o600)
	startProcess(t, exec.Command(bin, "-p", dir, "-c", confPath, "-e", filepath.Join(dir, "error.log")), addr)
	return "http://" + addr
}

func startCaddy(t *testing.T, authgateAddr, appAddr string) string {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	startCaddyAt(t, "http://"+addr, addr, authgateAddr, appAddr)
	return "http://" + addr
}

// startCaddyAt runs Caddy with the shipped Caddyfile for site, listening on
// addr. The one line added to the file binds it to loopback: Caddy listens
// on every interface otherwise.
func startCaddyAt(t *testing.T, site, addr, authgateAddr, appAddr string) {
	bin := frontProxyBinary(t, "caddy")
	dir := t.TempDir()
	shipped, err := os.ReadFile(absDeploy(t, "caddy", "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	const siteLine = "{$AUTHGATE_SITE:app.example.com} {\n"
	if !bytes.Contains(shipped, []byte(siteLine)) {
		t.Fatalf("the Caddyfile has no line %q", siteLine)
	}
	conf := filepath.Join(dir, "Caddyfile")
	os.WriteFile(conf, bytes.Replace(shipped, []byte(siteLine), []byte(siteLine+"\tbind 127.0.0.1\n"), 1), 0o600)
	cmd := exec.Command(bin, "run", "--config", conf, "--adapter", "caddyfile")
	cmd.Env = []string{
		"HOME=" + dir, "XDG_DATA_HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "PATH=" + os.Getenv("PATH"),
		"CADDY_ADMIN=off", "AUTHGATE_SITE=" + site, "AUTHGATE_UPSTREAM=" + authgateAddr, "APP_UPSTREAM=" + appAddr,
	}
	startProcess(t, cmd, addr)
}

func startTraefik(t *testing.T, authgateAddr, appAddr string) string {
	bin := frontProxyBinary(t, "traefik")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(bin, "--entryPoints.web.address="+addr, "--providers.file.filename="+absDeploy(t, "traefik", "dynamic.yaml"), "--log.level=ERROR")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AUTHGATE_URL=http://" + authgateAddr, "APP_URL=http://" + appAddr}
	startProcess(t, cmd, addr)
	// The file provider loads after the listener opens: wait for the route.
	for range 250 {
		if resp, err := http.Get("http://" + addr + "/public/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "http://" + addr
}

// appServer is the application behind the front proxy: it records what it gets
// and echoes one line over a WebSocket-style upgrade on /ws.
type appServer struct {
	mu   sync.Mutex
	got  []*http.Request
	body []string
	srv  *httptest.Server
}

func newApp(t *testing.T) *appServer {
	a := &appServer{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.got, a.body = append(a.got, r), append(a.body, string(b))
		a.mu.Unlock()
		if r.URL.Path == "/ws" && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			brw.Flush()
			line, _ := brw.ReadString('\n')
			brw.WriteString("echo: " + line)
			brw.Flush()
			return
		}
		io.WriteString(w, "app ok")
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// take returns the requests the app got since the last call.
func (a *appServer) take() ([]*http.Request, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	got, body := a.got, a.body
	a.got, a.body = nil, nil
	return got, body
}

// spoofed are identity headers a client sends in spellings that servers
// fold together; none may reach the app.
var spoofed = [][2]string{
	{"X-Auth-User", "mallory"}, {"x-auth-roles", "admin"}, {"X-Auth_User", "mallory"},
	{"X-Auth.User", "mallory"}, {"X-AUTH-SUBJECT", "0"}, {"X-Auth-Claims", "e30"},
	{"X-HTTP-Method-Override", "DELETE"}, {"x-http-method", "DELETE"}, {"X-Method-Override", "DELETE"},
}

func TestFrontProxies(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	os.WriteFile(rules, []byte("rules:\n  - name: admin\n    paths: [\"/admin/*\"]\n    require: {roles: [admin]}\n"), 0o600)
	env := []string{"AUTHGATE_JWT_SECRET=" + testSecret, "AUTHGATE_PUBLIC_PATHS=/public/*", "AUTHGATE_RULES_FILE=" + rules}
	ag := start(t, nil, env...)
	agAddr := strings.TrimPrefix(ag.addr, "http://")
	mint := func(roles string) string {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"token", "--sub", "1", "--claim", "username=alice", "--claim", "roles=" + roles}, env, nil, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out.String())
	}
	user, admin := mint(`["user"]`), mint(`["admin"]`)

	proxies := []struct {
		name         string
		start        func(t *testing.T, authgateAddr, appAddr string) string
		otherDialect map[string]string // headers its proxy does not set
	}{
		{"nginx", startNginx, map[string]string{"X-Forwarded-Uri": "/public/x", "X-Forwarded-Method": "GET"}},
		{"caddy", startCaddy, map[string]string{"X-Original-URI": "/public/x", "X-Original-URL": "http://h/public/x"}},
		{"traefik", startTraefik, map[string]string{"X-Original-URI": "/public/x", "X-Original-URL": "http://h/public/x"}},
	}
	for _, px := range proxies {
		t.Run(px.name, func(t *testing.T) {
			a := newApp(t)
			base := px.start(t, agAddr, strings.TrimPrefix(a.srv.URL, "http://"))
			a.take()
			do := func(method, path, token, body string, extra map[string]string) (*http.Response, string) {
				t.Helper()
				req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				for _, s := range spoofed {
					req.Header[s[0]] = []string{s[1]}
				}
				for k, v := range extra {
					req.Header.Set(k, v)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp, string(b)
			}
			// reached checks that the app got exactly one request, with no
			// spoofed value and exactly the identity given (nil: none).
			reached := func(what string, identity map[string]string) (*http.Request, string) {
				t.Helper()
				got, bodies := a.take()
				if len(got) != 1 {
					t.Fatalf("%s: the app got %d requests, want 1", what, len(got))
				}
				r := got[0]
				for name, values := range r.Header {
					n := config.NormalizeHeaderName(name)
					if strings.Contains(n, "method") {
						t.Errorf("%s: the app got a method override %s: %q", what, name, values)
					}
					if !strings.HasPrefix(n, "x-auth-") {
						continue
					}
					want, ok := identity[http.CanonicalHeaderKey(n)]
					if !ok || len(values) != 1 || values[0] != want {
						t.Errorf("%s: the app got %s: %q", what, name, values)
					}
				}
				for name, want := range identity {
					if r.Header.Get(name) != want {
						t.Errorf("%s: the app got %s = %q, want %q", what, name, r.Header.Get(name), want)
					}
				}
				return r, bodies[0]
			}
			notReached := func(what string) {
				t.Helper()
				if got, _ := a.take(); len(got) != 0 {
					t.Errorf("%s: the app was reached", what)
				}
			}
			checkError := func(what string, resp *http.Response, body string, status int, msg, challenge string) {
				t.Helper()
				if resp.StatusCode != status {
					t.Fatalf("%s: status %d %q, want %d", what, resp.StatusCode, body, status)
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("%s: Content-Type %q", what, ct)
				}
				if want := `{"error":"` + msg + `"}`; strings.TrimSpace(body) != want {
					t.Errorf("%s: body %q, want %s", what, body, want)
				}
				if ch := resp.Header.Values("Www-Authenticate"); challenge != "" && (len(ch) != 1 || ch[0] != challenge) {
					t.Errorf("%s: WWW-Authenticate %q, want exactly one %q", what, ch, challenge)
				}
			}
			alice := map[string]string{"X-Auth-Subject": "1", "X-Auth-User": "alice", "X-Auth-Roles": "user"}

			resp, body := do("GET", "/private", "", "", nil)
			checkError("no token", resp, body, 401, "Missing or malformed Authorization header", `Bearer realm="authgate"`)
			notReached("no token")

			resp, body = do("GET", "/private", "x.y.z", "", nil)
			checkError("bad token", resp, body, 401, "Invalid token", `Bearer realm="authgate", error="invalid_token"`)
			notReached("bad token")

			if resp, body = do("GET", "/private", user, "", nil); resp.StatusCode != 200 {
				t.Fatalf("valid token: %d %s", resp.StatusCode, body)
			}
			reached("valid token", alice)

			for _, token := range []string{"", user} {
				if resp, body = do("GET", "/public/page", token, "", nil); resp.StatusCode != 200 {
					t.Fatalf("public: %d %s", resp.StatusCode, body)
				}
				reached("public path", nil)
			}

			resp, body = do("GET", "/private", "", "", px.otherDialect)
			if resp.StatusCode != 401 && resp.StatusCode != 403 {
				t.Errorf("other dialect naming a public path: %d %s, want 401 or 403", resp.StatusCode, body)
			}
			notReached("other dialect")

			resp, body = do("GET", "/admin/x", user, "", nil)
			checkError("role denied", resp, body, 403, "Forbidden", "")
			notReached("role denied")
			if resp, body = do("GET", "/admin/x", admin, "", nil); resp.StatusCode != 200 {
				t.Fatalf("admin: %d %s", resp.StatusCode, body)
			}
			reached("admin", map[string]string{"X-Auth-Subject": "1", "X-Auth-User": "alice", "X-Auth-Roles": "admin"})

			if resp, body = do("POST", "/private/form", user, "payload=123", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); resp.StatusCode != 200 {
				t.Fatalf("POST: %d %s", resp.StatusCode, body)
			}
			if r, got := reached("POST", alice); r.Method != "POST" || got != "payload=123" {
				t.Errorf("POST: the app got %s %q", r.Method, got)
			}

			// A path that means another one once normalised never reaches
			// the app unauthenticated.
			conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			hostport := strings.TrimPrefix(base, "http://")
			io.WriteString(conn, "GET /public/../admin/x HTTP/1.1\r\nHost: "+hostport+"\r\nConnection: close\r\n\r\n")
			raw, err := http.ReadResponse(bufio.NewReader(conn), nil)
			conn.Close()
			if err != nil || (raw.StatusCode != 400 && raw.StatusCode != 401 && raw.StatusCode != 403) {
				t.Errorf("/public/../admin/x without a token: %v %v, want 400, 401 or 403", raw, err)
			}
			notReached("dot segments")

			t.Run("websocket", func(t *testing.T) {
				conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: "+strings.TrimPrefix(base, "http://")+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
					"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer "+user+"\r\n\r\n")
				br := bufio.NewReader(conn)
				resp, err := http.ReadResponse(br, nil)
				if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
					t.Fatalf("upgrade: %v %v", resp, err)
				}
				io.WriteString(conn, "ping\n")
				if line, err := br.ReadString('\n'); err != nil || line != "echo: ping\n" {
					t.Errorf("over the upgraded connection: %q %v", line, err)
				}
				reached("websocket", alice)
			})
		})
	}
}

// TestNginxExample checks that deploy/nginx/nginx.conf, the complete
// example, is a valid nginx configuration once its upstream host names
// resolve and its includes point at deploy/nginx.
func TestNginxExample(t *testing.T) {
	bin := frontProxyBinary(t, "nginx")
	data, err := os.ReadFile(absDeploy(t, "nginx", "nginx.conf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conf := strings.NewReplacer(
		"authgate:8000", "127.0.0.1:1", "app:8080", "127.0.0.1:2",
		"/etc/nginx/authgate/", absDeploy(t, "nginx")+"/",
		"listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", freePort(t)),
	).Replace(string(data))
	conf = "pid " + dir + "/nginx.pid;\nerror_log " + dir + "/error.log;\n" + conf
	conf = strings.Replace(conf, "http {", "http {\n    client_body_temp_path "+dir+"/b; proxy_temp_path "+dir+"/p; fastcgi_temp_path "+dir+"/f; uwsgi_temp_path "+dir+"/u; scgi_temp_path "+dir+"/s;", 1)
	path := filepath.Join(dir, "nginx.conf")
	os.WriteFile(path, []byte(conf), 0o600)
	if out, err := exec.Command(bin, "-t", "-p", dir, "-c", path, "-e", filepath.Join(dir, "error.log")).CombinedOutput(); err != nil {
		t.Errorf("nginx -t: %v\n%s", err, out)
	}
}
