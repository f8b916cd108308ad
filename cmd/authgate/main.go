// Command authgate is an auth sidecar and forward-auth server: it checks
// Bearer JWTs in front of an upstream, answers forward-auth requests from
// Traefik, nginx, Caddy and Envoy, and issues tokens. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hangup := make(chan os.Signal, 1)
	signal.Notify(hangup, syscall.SIGHUP)
	env := &cmdEnv{environ: os.Environ(), stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, hangup: hangup}
	if err := env.run(ctx, os.Args[1:]); err != nil {
		for line := range strings.Lines(err.Error()) {
			fmt.Fprintf(os.Stderr, "authgate: %s", strings.TrimSuffix(line, "\n")+"\n")
		}
		os.Exit(1)
	}
}

// command is one subcommand of authgate.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, env *cmdEnv) error
}

// cmdEnv is the outside world a command may touch.
type cmdEnv struct {
	environ []string
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	hangup  <-chan os.Signal // SIGHUP: serve reloads its files; nil never fires
}

func commands() []command {
	return []command{
		{"serve", "run the proxy, forward-auth and token endpoints (the default)", runServe},
		{"demo", "run the SPEC walkthrough on :8000 with a demo user and upstream", runDemo},
		{"hash-password", "read a password on stdin and print its argon2id (or bcrypt) hash", runHashPassword},
		{"token", "mint a token with the configured key, for scripts and tests", runToken},
		{"jwks", "print the public JWKS of the configured keys", runJWKS},
		{"explain", "show which rule decides a request, why, and what the upstream receives", runExplain},
		{"revoke", "revoke tokens and sessions in the shared store: --sub, --sid or --jti with --until", runRevoke},
		{"healthcheck", "probe the admin listener; exit status for Docker HEALTHCHECK", runHealthcheck},
		{"version", "print the version", runVersion},
	}
}

// run is main without the process: tests call it with their own arguments,
// environment and streams, and cancel ctx to stop a server.
func run(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return (&cmdEnv{environ: environ, stdin: stdin, stdout: stdout, stderr: stderr}).run(ctx, args)
}

// run runs the command that args name in env.
func (env *cmdEnv) run(ctx context.Context, args []string) error {
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		usage(env.stdout)
		return nil
	}
	if name == "help" {
		usage(env.stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == name {
			err := c.run(ctx, args, env)
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
	}
	usage(env.stderr)
	return fmt.Errorf("unknown command %q", name)
}

func usage(w io.Writer) {
	fmt.Fprint(w, "authgate: an auth sidecar and forward-auth server.\n\nUsage: authgate [command] [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nConfiguration is read from AUTHGATE_* environment variables; see README.md.\n"+
		"Run authgate <command> --help for a command's flags.\n")
}

// flags is a command's flag set; --help prints the summary, usage line and
// flags on stdout, and a bad flag is an error that names the command.
type flags struct {
	*flag.FlagSet
	usageLine, summary string
	env                *cmdEnv
}

func newFlags(name, usageLine string, env *cmdEnv) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	f := &flags{FlagSet: fs, usageLine: usageLine, env: env}
	for _, c := range commands() {
		if c.name == name {
			f.summary = c.summary
		}
	}
	return f
}

// parse parses args and refuses stray positional arguments.
func (f *flags) parse(args []string) error {
	err := f.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		f.printUsage()
		return err
	}
	if err != nil {
		return fmt.Errorf("%s: %v (see authgate %s --help)", f.Name(), err, f.Name())
	}
	if f.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q (see authgate %s --help)", f.Name(), f.Arg(0), f.Name())
	}
	return nil
}

func (f *flags) printUsage() {
	w := f.env.stdout
	fmt.Fprintf(w, "authgate %s: %s\n\nUsage: authgate %s %s\n", f.Name(), f.summary, f.Name(), f.usageLine)
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nFlags:")
		f.SetOutput(w)
		f.PrintDefaults()
		f.SetOutput(io.Discard)
	}
}
