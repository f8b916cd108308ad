package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/session"
	"github.com/authgate/authgate/state"
)

// runRevoke revokes, in the shared store, every token and session of a
// subject, one session, or one token by its jti; every replica has it in
// force within a second.
func runRevoke(ctx context.Context, args []string, env *cmdEnv) error {
	fs := newFlags("revoke", "--sub S | --sid X | --jti J --until T", env)
	sub := fs.String("sub", "", "revoke every token and session of this subject issued until now")
	sid := fs.String("sid", "", "revoke this session: its refresh token and its access tokens")
	jti := fs.String("jti", "", "revoke the token with this jti (with --until)")
	until := fs.String("until", "", "with --jti: the token's expiry, RFC 3339 or Unix seconds (the revocation lasts until then)")
	if err := fs.parse(args); err != nil {
		return err
	}
	n := 0
	for _, v := range []string{*sub, *sid, *jti} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return errors.New("revoke: give exactly one of --sub, --sid and --jti (see authgate revoke --help)")
	}
	var expires time.Time
	if *jti != "" {
		var err error
		if expires, err = parseUntil(*until); err != nil {
			return fmt.Errorf("revoke: --until: %v", err)
		}
	} else if *until != "" {
		return errors.New("revoke: --until goes with --jti")
	}
	cfg, err := config.Load(env.environ)
	if err != nil {
		return err
	}
	if cfg.RedisURL == "" && cfg.RedisURLFile == "" {
		return errors.New("revoke: AUTHGATE_REDIS_URL is not set: the memory store lives inside the running authgate process, where this command cannot reach; " +
			"with one replica, restart it to end every session (see README.md, Sessions and revocation), or run replicas with Redis")
	}
	st, err := openStore(cfg, newLogger(cfg, env.stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	rev := session.NewRevocations(st, session.RevocationOptions{Issuer: cfg.Issuer, Horizon: cfg.RevocationHorizon(), MaxStaleness: cfg.StoreMaxStaleness, Shared: true})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var what string
	switch {
	case *sub != "":
		err, what = rev.RevokeSubject(ctx, *sub, time.Now()), "every token and session of subject "+strconv.Quote(*sub)+" issued until now"
	case *sid != "":
		err, what = rev.RevokeSession(ctx, *sid), "session "+strconv.Quote(*sid)
	default:
		err, what = rev.RevokeToken(ctx, cfg.Issuer, *jti, expires), "the token with jti "+strconv.Quote(*jti)
	}
	if err != nil {
		if errors.Is(err, state.ErrUnavailable) {
			return fmt.Errorf("revoke: %v (nothing was revoked)", err)
		}
		return fmt.Errorf("revoke: %w", err)
	}
	fmt.Fprintf(env.stdout, "revoked %s\n", what)
	return nil
}

// parseUntil reads an RFC 3339 time or Unix seconds.
func parseUntil(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("is required with --jti: the token's expiry (its exp claim)")
	}
	if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(sec, 0), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-12-31T23:59:59Z) nor Unix seconds", s)
	}
	return t, nil
}
