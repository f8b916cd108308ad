// Command loadpeer is the other half of scripts/load.sh: a minimal upstream
// ("upstream ADDR"), a bare httputil.ReverseProxy with Go's defaults ("bare
// ADDR UPSTREAM"), and one with authgate's transport settings and buffer pool
// ("tuned ADDR UPSTREAM"), to compare authgate against in the same run.
// Not part of authgate.
package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loadpeer:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	var h http.Handler
	switch {
	case len(args) == 2 && args[0] == "upstream":
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "ok\n")
		})
	case len(args) == 3 && (args[0] == "bare" || args[0] == "tuned"):
		target, err := url.Parse(args[2])
		if err != nil {
			return err
		}
		rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		}}
		if args[0] == "tuned" { // as proxy.NewTransport and authgate's buffer pool
			rp.Transport = &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second}
			rp.BufferPool = &pool{}
		}
		h = rp
	default:
		return fmt.Errorf("usage: loadpeer upstream ADDR | loadpeer bare|tuned ADDR UPSTREAM-URL")
	}
	srv := &http.Server{Addr: args[1], Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

type pool struct{ p sync.Pool }

func (bp *pool) Get() []byte {
	if b, ok := bp.p.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 32<<10)
}

func (bp *pool) Put(b []byte) { bp.p.Put(&b) }
