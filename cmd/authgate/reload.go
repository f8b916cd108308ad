package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"
)

// reloadQuiet is how long the watched directories must stay quiet after a
// change before the files are read: an editor's save or a ConfigMap update
// is a burst of events, and a file being written is not read half-way.
const reloadQuiet = 200 * time.Millisecond

// reloader re-reads the configuration's files (the signing key or secret,
// the rotation keys, the users and the rules) and swaps the app's Snapshot
// whole: on SIGHUP, and when one of the files changes. It watches their
// directories rather than the files, so that an editor's rename and a
// Kubernetes ConfigMap or Secret update (a swap of the ..data symlink, with
// no event on the file itself) are seen. A reload is all or nothing: when a
// file is invalid the previous Snapshot stays.
type reloader struct {
	a     *app
	files []string
	total *prometheus.CounterVec
	sum   [sha256.Size]byte // of the files as the last load read them
}

func newReloader(a *app) *reloader {
	r := &reloader{a: a, files: a.files(), sum: a.loadedSum}
	r.total = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authgate_reload_total",
		Help: "Reloads of the configuration's files, by result (ok, error).",
	}, []string{"result"})
	r.total.WithLabelValues("ok")
	r.total.WithLabelValues("error")
	a.metrics.Registry.MustRegister(r.total)
	return r
}

// run reloads on each signal from hangup and after each change to the
// files, until ctx is done.
func (r *reloader) run(ctx context.Context, hangup <-chan os.Signal) {
	log := r.a.logger
	var events <-chan fsnotify.Event
	var errs <-chan error
	var w *fsnotify.Watcher
	if len(r.files) > 0 {
		var err error
		if w, err = fsnotify.NewWatcher(); err != nil {
			log.Warn().Err(err).Msg("cannot watch the configuration's files; reload them with SIGHUP")
		} else {
			defer w.Close()
			r.watch(w)
			events, errs = w.Events, w.Errors
			log.Info().Strs("files", r.files).Msg("reloading these files when they change and on SIGHUP")
		}
	}
	// Once at the start: a change made after the first load and before the
	// watch began has no event of its own.
	quiet := time.NewTimer(0)
	defer quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-hangup:
			r.reload("SIGHUP")
		case ev := <-events:
			if r.concerns(ev.Name) {
				quiet.Reset(reloadQuiet)
			}
		case <-quiet.C:
			if contentSum(r.files) != r.sum {
				r.reload("file change")
			}
			r.watch(w) // a swapped symlink may point into a new directory
		case err := <-errs:
			log.Warn().Err(err).Msg("watching the configuration's files")
		}
	}
}

// reload reads every file into a new Snapshot and swaps it in, or, when one
// is invalid, logs why and keeps the one in force.
func (r *reloader) reload(trigger string) {
	r.sum = contentSum(r.files)
	s, err := r.a.load()
	if err != nil {
		r.total.WithLabelValues("error").Inc()
		r.a.logger.Error().Err(err).Str("trigger", trigger).Msg("reload failed; still serving the previous configuration")
		return
	}
	r.a.current.Store(s)
	r.total.WithLabelValues("ok").Inc()
	r.a.logger.Info().Str("trigger", trigger).Strs("files", r.files).Msg("reloaded")
}

// watch watches the directory of each file and, where the file is a
// symlink, the directory it points into.
func (r *reloader) watch(w *fsnotify.Watcher) {
	if w == nil {
		return
	}
	for _, dir := range r.dirs() {
		if err := w.Add(dir); err != nil {
			r.a.logger.Warn().Err(err).Str("dir", dir).Msg("cannot watch a directory of the configuration's files")
		}
	}
}

// dirs are the directories that hold the files, or the files their
// symlinks resolve to.
func (r *reloader) dirs() []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range r.files {
		paths := []string{f}
		if resolved, err := filepath.EvalSymlinks(f); err == nil {
			paths = append(paths, resolved)
		}
		for _, p := range paths {
			if abs, err := filepath.Abs(p); err == nil && !seen[filepath.Dir(abs)] {
				seen[filepath.Dir(abs)] = true
				out = append(out, filepath.Dir(abs))
			}
		}
	}
	return out
}

// concerns reports whether a change to the entry at path can change what a
// reload reads: one of the files by name (or the name its symlink resolves
// to), or a Kubernetes volume's ..data link and ..<timestamp> directories.
func (r *reloader) concerns(path string) bool {
	name := filepath.Base(path)
	if strings.HasPrefix(name, "..") {
		return true
	}
	for _, f := range r.files {
		if filepath.Base(f) == name {
			return true
		}
		if resolved, err := filepath.EvalSymlinks(f); err == nil && filepath.Base(resolved) == name {
			return true
		}
	}
	return false
}

// files are the files a load reads, which a reload watches.
func (a *app) files() []string {
	cfg := a.cfg
	var files []string
	for _, f := range []string{cfg.JWTSecretFile, cfg.JWTPrivateKeyFile, cfg.JWTVerifyKeysFile, cfg.RulesFile} {
		if f != "" {
			files = append(files, f)
		}
	}
	if cfg.UsersFile != "" && a.users == nil {
		files = append(files, cfg.UsersFile)
	}
	return files
}

// contentSum is a digest of what files hold now, a missing or unreadable
// file included, so that a change of nothing (a touch, an event of another
// file in the directory) does not reload.
func contentSum(files []string) [sha256.Size]byte {
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		fmt.Fprintf(h, "%s\x00%d\x00%v\x00", f, len(b), err)
		h.Write(b)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}
