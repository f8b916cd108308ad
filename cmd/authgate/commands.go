package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/config"
)

// version is stamped at build time: -ldflags "-X main.version=v1.2.3".
var version = ""

func runVersion(_ context.Context, args []string, env *cmdEnv) error {
	if err := newFlags("version", "", env).parse(args); err != nil {
		return err
	}
	v := version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	fmt.Fprintf(env.stdout, "authgate %s %s %s/%s\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// maxPasswordBytes bounds what hash-password reads.
const maxPasswordBytes = 1024

func runHashPassword(_ context.Context, args []string, env *cmdEnv) error {
	fs := newFlags("hash-password", "[--bcrypt [--cost N]] < password", env)
	useBcrypt := fs.Bool("bcrypt", false, "print a bcrypt hash instead of argon2id")
	cost := fs.Int("cost", 12, "bcrypt cost (with --bcrypt)")
	if err := fs.parse(args); err != nil {
		return err
	}
	password, err := readPassword(env)
	if err != nil {
		return fmt.Errorf("hash-password: %w", err)
	}
	hash := auth.HashArgon2id(password, auth.DefaultArgon2())
	if *useBcrypt {
		if hash, err = auth.HashBcrypt(password, *cost); err != nil {
			return fmt.Errorf("hash-password: %w", err)
		}
	}
	fmt.Fprintln(env.stdout, hash)
	return nil
}

// readPassword reads the password from a terminal without echo (asking
// twice), or else the one line on stdin.
func readPassword(env *cmdEnv) (string, error) {
	if f, ok := env.stdin.(interface{ Fd() uintptr }); ok && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		fmt.Fprint(env.stderr, "Password: ")
		first, err := term.ReadPassword(fd)
		fmt.Fprintln(env.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(env.stderr, "Again: ")
		second, err := term.ReadPassword(fd)
		fmt.Fprintln(env.stderr)
		if err != nil {
			return "", err
		}
		if string(first) != string(second) {
			return "", errors.New("the passwords differ")
		}
		return checkPassword(string(first))
	}
	b, err := io.ReadAll(io.LimitReader(env.stdin, maxPasswordBytes+2))
	if err != nil {
		return "", err
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if len(s) > maxPasswordBytes {
		return "", fmt.Errorf("the password is longer than %d bytes", maxPasswordBytes)
	}
	if strings.ContainsAny(s, "\r\n") {
		return "", errors.New("stdin holds more than one line; give the password alone")
	}
	return checkPassword(s)
}

func checkPassword(s string) (string, error) {
	if s == "" {
		return "", errors.New("the password is empty")
	}
	return s, nil
}

// claimFlags collects repeated --claim k=v flags; v is JSON when it parses
// as JSON, else a string.
type claimFlags map[string]any

func (c claimFlags) String() string { return "" }

func (c claimFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q must be name=value", s)
	}
	if _, dup := c[k]; dup {
		return fmt.Errorf("claim %q is given twice", k)
	}
	var parsed any
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	if err := dec.Decode(&parsed); err == nil && !dec.More() {
		c[k] = parsed
	} else {
		c[k] = v
	}
	return nil
}

func runToken(_ context.Context, args []string, env *cmdEnv) error {
	fs := newFlags("token", "--sub S [--ttl D] [--claim k=v]...", env)
	sub := fs.String("sub", "", "subject (sub claim); required")
	ttl := fs.Duration("ttl", 0, "lifetime (default AUTHGATE_TOKEN_TTL)")
	extra := claimFlags{}
	fs.Var(extra, "claim", "extra claim name=value, repeatable; value is JSON if it parses, e.g. 'roles=[\"admin\"]'")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *sub == "" {
		return errors.New("token: --sub is required")
	}
	cfg, err := config.Load(env.environ)
	if err != nil {
		return err
	}
	keys, err := loadKeys(cfg)
	if err != nil {
		return fmt.Errorf("token: cannot mint: %w", err)
	}
	if keys.Signing() == nil {
		msg := "token: cannot mint: no signing key is configured; set AUTHGATE_JWT_SECRET[_FILE] or AUTHGATE_JWT_PRIVATE_KEY_FILE"
		if len(cfg.TrustedIssuers) > 0 {
			msg += " (with only AUTHGATE_TRUSTED_ISSUERS authgate verifies other issuers' tokens and mints none)"
		}
		return errors.New(msg)
	}
	issuer, err := auth.NewIssuer(keys, auth.IssuerOptions{Issuer: cfg.Issuer, Audience: cfg.Audience, TTL: cfg.TokenTTL})
	if err != nil {
		return fmt.Errorf("token: cannot mint: %w", err)
	}
	if h := cfg.RevocationHorizon(); cfg.RevocationOn() && *ttl > h {
		return fmt.Errorf("token: --ttl %v is longer than a revocation lasts (%v, the longest of AUTHGATE_TOKEN_TTL, AUTHGATE_REFRESH_TTL and AUTHGATE_MAX_TOKEN_LIFETIME, plus the clock skew); raise AUTHGATE_MAX_TOKEN_LIFETIME to mint longer-lived tokens", *ttl, h)
	}
	issued, err := issuer.Issue(*sub, extra, *ttl)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	fmt.Fprintln(env.stdout, issued.Token)
	return nil
}

func runHealthcheck(ctx context.Context, args []string, env *cmdEnv) error {
	fs := newFlags("healthcheck", "[--ready] [--timeout D]", env)
	readiness := fs.Bool("ready", false, "probe /readyz instead of /healthz")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(env.environ)
	if err != nil {
		return err
	}
	if cfg.AdminAddr == "" {
		return errors.New("healthcheck: AUTHGATE_ADMIN_ADDR is empty, so the admin listener is off and there is nothing to probe")
	}
	path := "/healthz"
	if *readiness {
		path = "/readyz"
	}
	u := "http://" + probeAddr(cfg.AdminAddr) + path
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	status, _ := bufio.NewReader(io.LimitReader(resp.Body, 512)).ReadString('\n')
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d %s", u, resp.StatusCode, strings.TrimSpace(status))
	}
	fmt.Fprintln(env.stdout, strings.TrimSpace(status))
	return nil
}

// probeAddr turns a listen address into one to connect to: an empty or
// wildcard host becomes loopback.
func probeAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

func runJWKS(_ context.Context, args []string, env *cmdEnv) error {
	if err := newFlags("jwks", "", env).parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(env.environ)
	if err != nil {
		return err
	}
	keys, err := loadKeys(cfg)
	if err != nil {
		return err
	}
	_, err = env.stdout.Write(keys.PublicJWKS())
	return err
}
