package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/policy"
	"github.com/authgate/authgate/proxy"
	"github.com/authgate/authgate/session"
	"github.com/authgate/authgate/state"
	"github.com/authgate/authgate/throttle"
)

func runServe(ctx context.Context, args []string, env *cmdEnv) error {
	if err := newFlags("serve", "(configuration from AUTHGATE_* variables)", env).parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(env.environ)
	if err != nil {
		return err
	}
	out, flush := logOutput(cfg, env.stderr)
	defer flush()
	logger := newLogger(cfg, out)
	app, err := build(cfg, logger, nil)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, logger, app, env.hangup)
}

// app is authgate's parts, wired from a Config. The Snapshot in current is
// what a reload replaces; the rest lives as long as the process.
type app struct {
	cfg         config.Config
	logger      zerolog.Logger
	remote      []*auth.RemoteKeySet
	users       *auth.Users // fixed users (the demo's) instead of AUTHGATE_USERS_FILE
	current     atomic.Pointer[proxy.Snapshot]
	loadedSum   [sha256.Size]byte    // of the files as the first load read them
	store       state.Store          // sessions, revocations and login counters
	revocations *session.Revocations // nil while revocation is off
	cache       *auth.TokenCache     // nil: off; shared by every Verifier a reload builds
	metrics     *proxy.Metrics
	handler     http.Handler
	listener    net.Listener // the main listener, when opened before serve (the demo's); nil: AUTHGATE_ADDR
}

// build loads keys, users and rules and wires the handler. users, when not
// nil, replaces the users file (the demo's in-memory user).
func build(cfg config.Config, logger zerolog.Logger, users *auth.Users) (*app, error) {
	remote, err := remoteKeySets(cfg, logger)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, logger: logger, remote: remote, users: users, metrics: proxy.NewMetrics()}
	if a.store, err = openStore(cfg, logger); err != nil {
		return nil, err
	}
	if a.cache, err = auth.NewTokenCache(cfg.TokenCacheSize, cfg.TokenCacheTTL); err != nil {
		return nil, fmt.Errorf("AUTHGATE_TOKEN_CACHE_SIZE: %w", err)
	}
	if cfg.RevocationOn() {
		_, shared := a.store.(*state.Redis)
		a.revocations = session.NewRevocations(a.store, session.RevocationOptions{
			Issuer: cfg.Issuer, Horizon: cfg.RevocationHorizon(), MaxStaleness: cfg.StoreMaxStaleness,
			Shared: shared, Logger: logger,
		})
		// A first confirmation now, so that the first requests need not
		// wait for serve's loop; a Redis that is down is not an error here.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = a.revocations.Sync(ctx)
		cancel()
	}
	a.loadedSum = contentSum(a.files())
	s, err := a.load()
	if err != nil {
		return nil, err
	}
	a.current.Store(s)
	switch {
	case s.Issuer == nil:
		logger.Info().Msg("no signing key: authgate verifies tokens only, and " + cfg.LoginPath + " is not served")
	case s.Users == nil:
		logger.Warn().Msg("AUTHGATE_USERS_FILE is not set: /login refuses every login")
	}
	th := throttle.New(a.store, throttle.Options{
		MaxFailures: cfg.LoginMaxFailures, MaxFailuresPerIP: cfg.LoginMaxFailuresPerIP,
		Window: cfg.LoginWindow, Lockout: cfg.LoginLockout,
	})
	a.metrics.WatchKeySets(remote)
	if a.cache != nil {
		a.metrics.WatchTokenCache(a.cache.Stats)
	}
	o := proxy.Options{Config: cfg, Logger: logger, Current: &a.current, Throttle: th, Metrics: a.metrics}
	if a.revocations != nil {
		o.Revoker = a.revocations
		a.metrics.WatchRevocations(a.revocations.Age, a.revocations.Failures)
		if cfg.RefreshTTL > 0 && s.Issuer != nil {
			o.Sessions = session.NewSessions(a.store, a.revocations, cfg.RefreshTTL, nil)
		}
	}
	a.handler = proxy.NewServer(o)
	return a, nil
}

// load reads the files of the configuration (the signing key or secret, the
// rotation keys, the users and the rules) into a new Snapshot. Errors name
// the variable, and the file and line where there is one.
func (a *app) load() (*proxy.Snapshot, error) {
	cfg := a.cfg
	keys, err := loadKeys(cfg)
	if err != nil {
		return nil, err
	}
	if keys.Len() == 0 && len(a.remote) == 0 {
		return nil, errors.New("AUTHGATE_JWT_SECRET: no keys are configured; set AUTHGATE_JWT_SECRET[_FILE] (HS256, at least 32 bytes) " +
			"or AUTHGATE_JWT_PRIVATE_KEY_FILE to issue and verify tokens, or AUTHGATE_TRUSTED_ISSUERS to verify an identity provider's")
	}
	verifier, err := auth.NewVerifier(keys, auth.VerifierOptions{
		Issuer: cfg.Issuer, Remote: a.remote, Audience: cfg.Audience,
		Leeway: cfg.ClockSkew, MaxLifetime: cfg.MaxTokenLifetime, Cache: a.cache,
	})
	if err != nil {
		return nil, err
	}
	s := &proxy.Snapshot{Verifier: verifier, JWKS: keys.PublicJWKS()}
	if a.revocations != nil {
		s.Verifier = session.NewCheckingVerifier(verifier, a.revocations)
	}
	if keys.Signing() != nil {
		if s.Issuer, err = auth.NewIssuer(keys, auth.IssuerOptions{Issuer: cfg.Issuer, Audience: cfg.Audience, TTL: cfg.TokenTTL}); err != nil {
			return nil, err
		}
		switch {
		case a.users != nil:
			s.Users = a.users
		case cfg.UsersFile != "":
			users, err := auth.LoadUsers(cfg.UsersFile)
			if err != nil {
				return nil, fmt.Errorf("AUTHGATE_USERS_FILE: %w", err)
			}
			s.Users = users
		}
	} else if cfg.UsersFile != "" {
		return nil, errors.New("AUTHGATE_USERS_FILE: is set, but no signing key is; logins need AUTHGATE_JWT_SECRET[_FILE] or AUTHGATE_JWT_PRIVATE_KEY_FILE")
	}
	var file []policy.Rule
	if cfg.RulesFile != "" {
		if file, err = policy.LoadRules(cfg.RulesFile); err != nil {
			return nil, fmt.Errorf("AUTHGATE_RULES_FILE: %w", err)
		}
	}
	s.Rules = policy.New(policy.Options{
		File: file, Protected: cfg.ProtectedPaths, Public: cfg.PublicPaths,
		UnlistedPublic: cfg.ProtectedPathsSet, RolesClaim: cfg.RolesClaim,
	})
	return s, nil
}

// ready reports whether every remote key set has been loaded and the state
// store answers.
func (a *app) ready() error {
	var errs []error
	for _, r := range a.remote {
		errs = append(errs, r.Ready())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	errs = append(errs, a.store.Ping(ctx))
	if a.revocations != nil {
		errs = append(errs, a.revocations.Ready())
	}
	return errors.Join(errs...)
}

// serve runs the main and admin listeners until ctx is done, then shuts
// down gracefully: it stops accepting, fails readiness, and waits up to
// AUTHGATE_SHUTDOWN_TIMEOUT for in-flight requests. Meanwhile it keeps the
// trusted issuers' key sets fresh and reloads the configuration's files on
// each signal from hangup (SIGHUP) and when they change.
func serve(ctx context.Context, cfg config.Config, logger zerolog.Logger, a *app, hangup <-chan os.Signal) error {
	var ready atomic.Bool
	errorLog := log.New(logWriter{logger.With().Str("component", "http").Logger()}, "", 0)
	front := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		// authgate answers 431 itself, as JSON, from MaxHeaderBytes up; the
		// server's own limit is a backstop well above it.
		MaxHeaderBytes: 2 * cfg.MaxHeaderBytes,
		ErrorLog:       errorLog,
	}
	servers := []*http.Server{front}
	listeners := []net.Listener{}
	ln := a.listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("AUTHGATE_ADDR: %w", err)
		}
	}
	listeners = append(listeners, ln)
	logger.Info().Str("addr", ln.Addr().String()).Bool("proxy", cfg.Upstream != nil).Msg("listening")
	if cfg.AdminAddr != "" {
		aln, err := net.Listen("tcp", cfg.AdminAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("AUTHGATE_ADMIN_ADDR: %w", err)
		}
		admin := &http.Server{
			Handler: proxy.NewAdmin(a.metrics, func() error {
				if !ready.Load() {
					return errors.New("shutting down")
				}
				return a.ready()
			}),
			ReadHeaderTimeout: cfg.ReadHeaderTimeout,
			IdleTimeout:       cfg.IdleTimeout,
			ErrorLog:          errorLog,
		}
		servers = append(servers, admin)
		listeners = append(listeners, aln)
		logger.Info().Str("admin_addr", aln.Addr().String()).Msg("admin listening")
	}

	defer a.store.Close()
	fetchCtx, stopFetching := context.WithCancel(context.Background())
	defer stopFetching()
	for _, r := range a.remote {
		go r.Run(fetchCtx)
	}
	if a.revocations != nil {
		go a.revocations.Run(fetchCtx)
	}
	reloaded := make(chan struct{})
	go func() {
		defer close(reloaded)
		newReloader(a).run(fetchCtx, hangup)
	}()
	defer func() { stopFetching(); <-reloaded }()

	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	ready.Store(true)

	select {
	case err := <-errc:
		for _, srv := range servers {
			srv.Close()
		}
		return err
	case <-ctx.Done():
	}
	ready.Store(false)
	logger.Info().Dur("grace", cfg.ShutdownTimeout).Msg("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			logger.Warn().Err(err).Msg("in-flight requests cut off at the shutdown deadline")
			srv.Close()
		}
	}
	logger.Info().Msg("stopped")
	return nil
}

// logWriter turns the standard logger's lines (net/http's ErrorLog) into
// zerolog warnings.
type logWriter struct{ l zerolog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.Warn().Msg(string(trimNewline(p)))
	return len(p), nil
}

func trimNewline(p []byte) []byte {
	if n := len(p); n > 0 && p[n-1] == '\n' {
		return p[:n-1]
	}
	return p
}

// logOutput is where the process log of a server goes: w, through a
// logBuffer unless AUTHGATE_LOG_FLUSH_INTERVAL is 0 or the format is
// console (a person reading it, whose ConsoleWriter hides the level). flush
// writes what the buffer holds; call it before the process exits.
func logOutput(cfg config.Config, w io.Writer) (out io.Writer, flush func()) {
	if cfg.LogFlushInterval == 0 || cfg.LogFormat == "console" {
		return w, func() {}
	}
	lb := newLogBuffer(w, cfg.LogFlushInterval)
	return lb, func() { _ = lb.Flush() }
}

// newLogger returns the process logger: JSON lines, or human-readable with
// AUTHGATE_LOG_FORMAT=console.
func newLogger(cfg config.Config, w io.Writer) zerolog.Logger {
	if cfg.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: w, NoColor: true}
	}
	level, err := zerolog.ParseLevel(cfg.LogLevel)
	if err != nil {
		level = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}
