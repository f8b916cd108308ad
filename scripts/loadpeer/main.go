// Command loadpeer is the other half of scripts/load.sh: a minimal upstream
// ("upstream ADDR"), a bare httputil.ReverseProxy with authgate's own
// transport and a buffer pool like authgate's ("bare ADDR UPSTREAM"), the
// same adding the headers authgate adds ("bare-headers ADDR UPSTREAM": three
// identity headers and X-Request-Id, to the upstream and the client), a key
// generator ("keys DIR") and a token minter ("mint KEYFILE N"), so that
// authgate is measured against its baseline in the same run. Not part of
// authgate.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/proxy"
	"github.com/rs/xid"
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
	case len(args) == 3 && (args[0] == "bare" || args[0] == "bare-headers"):
		target, err := url.Parse(args[2])
		if err != nil {
			return err
		}
		headers := args[0] == "bare-headers"
		rp := &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.SetXForwarded()
				if headers {
					// What authgate tells the upstream of load.sh's tokens,
					// with fixed values: the work of the headers, not of
					// finding them.
					h := pr.Out.Header
					h["X-Auth-Subject"] = []string{"1"}
					h["X-Auth-User"] = []string{"user1"}
					h["X-Auth-Roles"] = []string{"user"}
					h["X-Request-Id"] = pr.In.Header["X-Request-Id"]
				}
			},
			Transport:  proxy.NewTransport(30 * time.Second), // authgate's very transport
			BufferPool: &pool{},
		}
		h = rp
		if headers {
			h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id := []string{xid.New().String()} // a request id both ways, as authgate's
				w.Header()["X-Request-Id"], r.Header["X-Request-Id"] = id, id
				rp.ServeHTTP(w, r)
			})
		}
	case len(args) == 2 && args[0] == "keys":
		return writeKeys(args[1])
	case len(args) == 3 && args[0] == "mint":
		n, err := strconv.Atoi(args[2])
		if err != nil {
			return err
		}
		return mint(args[1], n)
	default:
		return fmt.Errorf("usage: loadpeer upstream ADDR | bare ADDR UPSTREAM-URL | bare-headers ADDR UPSTREAM-URL | keys DIR | mint KEYFILE N")
	}
	srv := &http.Server{Addr: args[1], Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

// writeKeys writes es256.pem (P-256), rs256.pem (RSA 2048) and rs256.pub,
// its public half, into dir.
func writeKeys(dir string) error {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	for name, key := range map[string]any{"es256.pem": ec, "rs256.pem": rk} {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return err
		}
	}
	pub, err := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "rs256.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600)
}

// mint prints n tokens of authgate's own issuer, signed with the key in
// keyFile (by authgate's Issuer, so with kid, jti and iat), one a line, for
// n different subjects.
func mint(keyFile string, n int) error {
	k, err := auth.LoadPrivateKey(keyFile, "")
	if err != nil {
		return err
	}
	ks, err := auth.NewKeySet(k)
	if err != nil {
		return err
	}
	is, err := auth.NewIssuer(ks, auth.IssuerOptions{Issuer: "authgate", TTL: time.Hour})
	if err != nil {
		return err
	}
	for i := range n {
		issued, err := is.Issue(strconv.Itoa(i+1), map[string]any{"username": fmt.Sprint("user", i+1), "roles": []any{"user"}}, 0)
		if err != nil {
			return err
		}
		fmt.Println(issued.Token)
	}
	return nil
}

type pool struct{ p sync.Pool }

func (bp *pool) Get() []byte {
	if b, ok := bp.p.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 32<<10)
}

func (bp *pool) Put(b []byte) { bp.p.Put(&b) }
