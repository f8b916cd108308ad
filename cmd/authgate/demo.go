package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/config"
)

// The demo user of the SPEC walkthrough.
const (
	demoUsername = "alice"
	demoPassword = "secret"
	demoUserID   = "1"
)

// runDemo runs the SPEC walkthrough: a built-in upstream on loopback that
// answers /public and echoes identity headers elsewhere, the user
// alice/secret, and a random signing secret, unless the AUTHGATE_*
// variables say otherwise.
func runDemo(ctx context.Context, args []string, env *cmdEnv) error {
	if err := newFlags("demo", "(honours the AUTHGATE_* variables of serve)", env).parse(args); err != nil {
		return err
	}
	// The main listener opens first: the login page's URL names its port.
	front, err := net.Listen("tcp", envValue(env.environ, "AUTHGATE_ADDR", ":8000"))
	if err != nil {
		return fmt.Errorf("AUTHGATE_ADDR: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		front.Close()
		return fmt.Errorf("starting the demo upstream: %w", err)
	}
	cfg, err := config.Load(demoEnviron(env.environ, "http://"+ln.Addr().String(), front.Addr().(*net.TCPAddr).Port))
	if err != nil {
		front.Close()
		ln.Close()
		return err
	}
	out, flush := logOutput(cfg, env.stderr)
	defer flush()
	logger := newLogger(cfg, out)
	logger.Warn().Msg("DEMO MODE, NOT FOR PRODUCTION: built-in upstream, demo user alice/secret, " +
		"random signing secret unless AUTHGATE_JWT_SECRET is set; tokens die with the process")

	upstream := &http.Server{Handler: demoUpstream(cfg.ClaimHeaders, cfg.LogoutPath), ReadHeaderTimeout: 10 * time.Second}
	go upstream.Serve(ln)
	defer upstream.Close()

	var users *auth.Users
	if cfg.UsersFile == "" {
		users, err = auth.NewUsers([]auth.User{{
			Username: demoUsername,
			ID:       demoUserID,
			Password: auth.HashArgon2id(demoPassword, auth.DefaultArgon2()),
			Claims:   map[string]any{"roles": []any{"user"}},
		}})
		if err != nil {
			return err
		}
	}
	a, err := build(cfg, logger, users)
	if err != nil {
		front.Close()
		return err
	}
	a.listener = front
	return serve(ctx, cfg, logger, a, env.hangup)
}

// demoEnviron is environ with the demo's defaults: its upstream (always),
// /public/* public, a random secret when none is configured, and the
// browser flow on plain HTTP: the login page at localhost on port.
func demoEnviron(environ []string, upstream string, port int) []string {
	has := func(name string) bool {
		return slices.ContainsFunc(environ, func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
	}
	out := slices.DeleteFunc(slices.Clone(environ), func(kv string) bool {
		return strings.HasPrefix(kv, "AUTHGATE_UPSTREAM=")
	})
	out = append(out, "AUTHGATE_UPSTREAM="+upstream)
	if !has("AUTHGATE_PUBLIC_PATHS") {
		out = append(out, "AUTHGATE_PUBLIC_PATHS=/public/*")
	}
	if !has("AUTHGATE_LOGIN_URL") && !has("AUTHGATE_COOKIE_SECURE") {
		out = append(out, fmt.Sprintf("AUTHGATE_LOGIN_URL=http://localhost:%d/login", port), "AUTHGATE_COOKIE_SECURE=false")
	}
	if !has("AUTHGATE_JWT_SECRET") && !has("AUTHGATE_JWT_SECRET_FILE") {
		var b [48]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		out = append(out, "AUTHGATE_JWT_SECRET="+base64.RawURLEncoding.EncodeToString(b[:]))
	}
	return out
}

// envValue is the value of name in environ, or def when it is not set.
func envValue(environ []string, name, def string) string {
	v := def
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

// demoUpstream is the demo's application: /public is open to anyone, and
// every other path echoes the identity headers authgate forwarded: as
// JSON, or, to a browser, as a page with a logout button.
func demoUpstream(mapping config.ClaimHeaders, logoutPath string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/public", func(w http.ResponseWriter, r *http.Request) {
		writeDemoJSON(w, map[string]string{"message": "Anyone can read this!"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		identity := map[string]string{}
		for name, values := range r.Header {
			if strings.HasPrefix(strings.ToLower(name), "x-auth-") || slices.ContainsFunc(mapping, func(m config.ClaimHeader) bool { return m.Header == name }) {
				identity[name] = strings.Join(values, ", ")
			}
		}
		if strings.Contains(r.Header.Get("Accept"), "text/html") {
			writeDemoPage(w, r.URL.Path, logoutPath, identity)
			return
		}
		writeDemoJSON(w, map[string]any{"path": r.URL.Path, "identity_headers": identity})
	})
	return mux
}

// demoPage is the demo app's page; writeDemoPage fills in its {{…}}.
const demoPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo app: {{path}}</title>
<style>
:root { color-scheme: light dark; }
body { margin: 0; padding: 3rem 1rem; font: 16px/1.5 system-ui, sans-serif; }
main { max-width: 36rem; margin: 0 auto; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0 1.5rem; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #8884; }
th { font-weight: 600; white-space: nowrap; }
code { font-size: .9em; }
button { font: inherit; padding: .45rem 1rem; border-radius: 8px; border: 1px solid #8886; cursor: pointer; }
</style>
</head>
<body>
<main>
<h1 id="greeting">Hello, {{user}}</h1>
<p>This is the demo app at <code>{{path}}</code>. authgate let the request through and sent these identity headers:</p>
<table id="identity">
{{rows}}</table>
<form method="post" action="{{logout}}"><button type="submit" id="logout">Log out</button></form>
</main>
</body>
</html>
`

// writeDemoPage shows a browser what the app received. Every value is
// HTML-escaped, in one pass as on proxy's login page (not html/template,
// which makes the binary 8 MB larger).
func writeDemoPage(w http.ResponseWriter, path, logoutPath string, identity map[string]string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	e := html.EscapeString
	user := identity["X-Auth-User"]
	if user == "" {
		user = "whoever you are"
	}
	var rows strings.Builder
	for _, name := range slices.Sorted(maps.Keys(identity)) {
		rows.WriteString("<tr><th>" + e(name) + "</th><td><code>" + e(identity[name]) + "</code></td></tr>\n")
	}
	if len(identity) == 0 {
		rows.WriteString("<tr><td>none</td></tr>\n")
	}
	_, _ = strings.NewReplacer("{{path}}", e(path), "{{user}}", e(user), "{{rows}}", rows.String(),
		"{{logout}}", e(logoutPath)).WriteString(w, demoPage)
}

func writeDemoJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
