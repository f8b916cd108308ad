package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting the demo upstream: %w", err)
	}
	cfg, err := config.Load(demoEnviron(env.environ, "http://"+ln.Addr().String()))
	if err != nil {
		ln.Close()
		return err
	}
	logger := newLogger(cfg, env.stderr)
	logger.Warn().Msg("DEMO MODE, NOT FOR PRODUCTION: built-in upstream, demo user alice/secret, " +
		"random signing secret unless AUTHGATE_JWT_SECRET is set; tokens die with the process")

	upstream := &http.Server{Handler: demoUpstream(cfg.ClaimHeaders), ReadHeaderTimeout: 10 * time.Second}
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
		return err
	}
	return serve(ctx, cfg, logger, a, env.hangup)
}

// demoEnviron is environ with the demo's defaults: its upstream (always),
// /public/* public, and a random secret when none is configured.
func demoEnviron(environ []string, upstream string) []string {
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
	if !has("AUTHGATE_JWT_SECRET") && !has("AUTHGATE_JWT_SECRET_FILE") {
		var b [48]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		out = append(out, "AUTHGATE_JWT_SECRET="+base64.RawURLEncoding.EncodeToString(b[:]))
	}
	return out
}

// demoUpstream is the demo's application: /public is open to anyone, and
// every other path echoes the identity headers authgate forwarded.
func demoUpstream(mapping config.ClaimHeaders) http.Handler {
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
		writeDemoJSON(w, map[string]any{"path": r.URL.Path, "identity_headers": identity})
	})
	return mux
}

func writeDemoJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
