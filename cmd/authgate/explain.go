package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/policy"
	"github.com/authgate/authgate/proxy"
)

func runExplain(ctx context.Context, args []string, env *cmdEnv) error {
	fs := newFlags("explain", "METHOD PATH [--host H] [--token T]", env)
	host := fs.String("host", "", "the request's Host (for rules that name hosts)")
	token := fs.String("token", "", "a bearer token to check (with or without \"Bearer \")")
	// Flags may come before or after METHOD PATH.
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fs.printUsage()
		return err
	} else if err != nil {
		return fmt.Errorf("explain: %v (see authgate explain --help)", err)
	}
	pos := fs.Args()
	if len(pos) >= 2 {
		if err := fs.parse(pos[2:]); err != nil {
			return err
		}
	}
	if len(pos) < 2 {
		return errors.New("explain: give METHOD and PATH, e.g. authgate explain GET /admin/users --token $TOKEN")
	}
	cfg, err := config.Load(env.environ)
	if err != nil {
		return err
	}
	a, err := build(cfg, newLogger(cfg, io.Discard), nil)
	if err != nil {
		return err
	}
	return explain(ctx, env.stdout, cfg, a.current.Load(), strings.ToUpper(pos[0]), pos[1], *host, *token)
}

// explain writes which rule decides a request, why, what the answer is, and
// which identity headers the upstream (or the front proxy) would receive. It
// prints the Outcome of proxy.Decide, the decision the server makes, from
// the same Snapshot a server would load. token is the bearer token, "" for
// none.
func explain(ctx context.Context, w io.Writer, cfg config.Config, s *proxy.Snapshot, method, target, host, token string) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	path, _, err := proxy.ParseTarget(target)
	p("request:   %s %s%s", method, target, hostNote(host))
	if err != nil {
		ref := proxy.BadTarget(err)
		p("decision:  refused before any rule: %d %s (%v)", ref.Status, ref.Message, err)
		return nil
	}
	if path != target && !strings.HasPrefix(target, path+"?") {
		p("path:      %s (decoded; rules and the upstream see this)", path)
	}
	h := http.Header{}
	if token != "" {
		if !strings.HasPrefix(strings.ToLower(token), "bearer ") {
			token = "Bearer " + token
		}
		h.Set("Authorization", token)
	}
	req := policy.Request{Method: method, Host: host, Path: path}
	o := proxy.Decide(ctx, s.Rules, s.Verifier, req, proxy.ReadCredential(h, cfg.CookieName))
	d := o.Decision
	switch {
	case d.Rule != nil:
		p("rule:      %q from %s", d.Rule.Name, d.Rule.Source)
		p("           %s", d.Rule.Summary())
		why := fmt.Sprintf("path matches %s", d.Pattern)
		if len(d.Rule.Methods) > 0 {
			why += fmt.Sprintf(", method %s is listed", method)
		}
		if len(d.Rule.Hosts) > 0 {
			why += fmt.Sprintf(", host %s is listed", host)
		}
		p("why:       %s", why)
		for _, other := range s.Rules.MatchAll(req).Others {
			p("also:      %q from %s matches too, but %s", other.Rule.Name, other.Rule.Source, d.WinsOver(other))
		}
	case d.Public:
		p("rule:      none matches; AUTHGATE_PROTECTED_PATHS is set, so the path is public")
	default:
		p("rule:      none matches, so the path is protected")
	}

	headers := proxy.NewIdentityHeaders(cfg.ClaimHeaders, cfg.Preset.Family, cfg.ClaimsHeader)
	if o.Identity != nil {
		p("token:     valid, sub %q, expires %s", o.Identity.Subject, o.Identity.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z"))
	}
	switch {
	case o.Refusal != nil:
		p("decision:  denied: %d %s (%s)", o.Refusal.Status, o.Refusal.Message, o.Refusal.Reason)
		if o.Refusal.Detail != "" {
			p("           %s", o.Refusal.Detail)
		}
		p("upstream:  nothing; the request does not pass")
	case d.Public:
		p("decision:  public: passes without a token")
		p("upstream:  no identity headers")
	default:
		p("decision:  allowed")
		out := http.Header{}
		headers.Set(out, *o.Identity)
		p("upstream:  these identity headers:")
		for _, name := range slices.Sorted(maps.Keys(out)) {
			p("             %s: %s", name, strings.Join(out[name], ", "))
		}
	}
	owned := ""
	if names := headers.Owned(); len(names) > 0 {
		owned = ", " + strings.Join(names, ", ")
	}
	p("stripped:  client-sent X-Auth-*%s, in any case and _ or . spelling", owned)
	return nil
}

func hostNote(host string) string {
	if host == "" {
		return ""
	}
	return " (host " + host + ")"
}
