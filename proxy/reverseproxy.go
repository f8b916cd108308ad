package proxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/config"
)

// reverseProxy forwards decided requests to the upstream.
type reverseProxy struct {
	target     *url.URL
	transport  http.RoundTripper
	headers    *IdentityHeaders
	stripAuthz bool
	cookie     string          // AUTHGATE_COOKIE_NAME: never forwarded
	trusted    config.Networks // AUTHGATE_TRUSTED_PROXIES
	buffers    bufferPool
	forwards   sync.Pool // of *forward: one per request in flight
}

// forward is a request's httputil.ReverseProxy, recycled: its Rewrite is
// bound once, and the writer and identity of the request are set for one
// ServeHTTP. ReverseProxy keeps nothing of a request once ServeHTTP
// returns (a WebSocket's copying ends within it too).
type forward struct {
	rp    httputil.ReverseProxy
	proxy *reverseProxy
	w     http.ResponseWriter
	id    *auth.Identity
}

func (f *forward) rewrite(pr *httputil.ProxyRequest) { f.proxy.rewrite(f.w, pr, f.id) }

// bufferPool recycles the 32 KiB buffers ReverseProxy copies bodies with;
// without one it allocates a fresh buffer for every response. It holds
// array pointers, so that Put allocates nothing either.
type bufferPool struct{ p sync.Pool }

const copyBufferSize = 32 << 10

func (bp *bufferPool) Get() []byte {
	if b, ok := bp.p.Get().(*[copyBufferSize]byte); ok {
		return b[:]
	}
	return new([copyBufferSize]byte)[:]
}

func (bp *bufferPool) Put(b []byte) {
	if len(b) == copyBufferSize {
		bp.p.Put((*[copyBufferSize]byte)(b))
	}
}

// NewTransport returns the upstream transport: its own (http.DefaultTransport
// is never touched), no proxy from the environment, and timeout
// (AUTHGATE_UPSTREAM_TIMEOUT) on connecting and on waiting for response
// headers.
func NewTransport(timeout time.Duration) *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
}

// serve forwards r. id is the verified identity, or nil on a public path.
// The identity headers are set in Rewrite, after ReverseProxy has removed
// hop-by-hop headers, so a client's "Connection: X-Auth-User" cannot remove
// them.
func (p *reverseProxy) serve(w http.ResponseWriter, r *http.Request, id *auth.Identity) {
	f, _ := p.forwards.Get().(*forward)
	if f == nil {
		f = &forward{proxy: p}
		f.rp = httputil.ReverseProxy{Rewrite: f.rewrite, Transport: p.transport, ErrorHandler: p.upstreamError, BufferPool: &p.buffers}
	}
	f.w, f.id = w, id
	f.rp.ServeHTTP(w, r)
	// Not deferred: a forward whose ServeHTTP panics (http.ErrAbortHandler
	// when the body copy fails) is dropped, not recycled.
	f.w, f.id = nil, nil
	p.forwards.Put(f)
}

func (p *reverseProxy) rewrite(w http.ResponseWriter, pr *httputil.ProxyRequest, id *auth.Identity) {
	pr.SetURL(p.target)
	pr.Out.Host = pr.In.Host // the upstream sees the Host the client asked for
	// Before authgate adds its own headers, which are none of these: fewer
	// names to look at.
	p.headers.strip(pr.Out.Header)
	p.headers.strip(pr.Out.Trailer)
	p.setForwarded(w, pr)
	if p.stripAuthz {
		pr.Out.Header.Del("Authorization")
	}
	stripCookie(pr.Out.Header, p.cookie)
	if reqID := upstreamRequestID(w); reqID != nil {
		pr.Out.Header["X-Request-Id"] = reqID
	}
	if id != nil {
		if skipped := p.headers.Set(pr.Out.Header, *id); len(skipped) > 0 {
			requestLogger(w, pr.In).Warn().Strs("claims", skipped).
				Msg("claims not forwarded: their values cannot be header values")
		}
	}
}

// setForwarded sets X-Forwarded-For, -Host and -Proto. ReverseProxy has
// removed the client's; from an untrusted peer they are authgate's own view
// (the peer's address, the Host asked for, the scheme it was reached by).
// From a trusted proxy, X-Forwarded-For is the chain from the client on plus
// the peer, and the proxy's X-Forwarded-Host and -Proto are passed on.
func (p *reverseProxy) setForwarded(w http.ResponseWriter, pr *httputil.ProxyRequest) {
	pr.SetXForwarded()
	c := clientFor(w, pr.In, p.trusted)
	if !c.trusted {
		return
	}
	h := pr.Out.Header
	h.Set("X-Forwarded-For", strings.Join(append(slices.Clone(c.chain), h.Get("X-Forwarded-For")), ", "))
	if v, ok, err := single(pr.In.Header, "X-Forwarded-Host"); ok && err == nil && v != "" {
		h.Set("X-Forwarded-Host", v)
	}
	if v, ok, err := single(pr.In.Header, "X-Forwarded-Proto"); ok && err == nil && (v == "http" || v == "https") {
		h.Set("X-Forwarded-Proto", v)
	}
}

// upstreamError answers when the upstream could not be reached (502) or sent
// no response headers in time (504). The request was decided (allowed or
// public) already, so this writes the refusal without a second decision.
func (p *reverseProxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	var ne net.Error
	ref := &Refusal{Status: http.StatusBadGateway, Message: msgUpstreamDown, Reason: "upstream_unavailable"}
	switch {
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		ref.Status, ref.Message, ref.Reason = http.StatusGatewayTimeout, msgUpstreamTimeout, "upstream_timeout"
	case errors.Is(err, context.Canceled):
		ref.Reason = "client_gone"
	}
	if ex, ok := w.(*exchange); ok {
		ex.upstreamErr = withoutURL(err) // on the access line
	}
	writeRefusal(w, r, ref)
}

// withoutURL renders an upstream error without the request URL, whose query
// may carry secrets.
func withoutURL(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

// upgradeAllowed reports whether the request asks for no protocol upgrade or
// for WebSocket, the only one authgate proxies (h2c and others are refused).
func upgradeAllowed(h http.Header) bool {
	up := h.Values("Upgrade")
	switch len(up) {
	case 0:
		return true
	case 1:
		return strings.EqualFold(strings.TrimSpace(up[0]), "websocket")
	}
	return false
}
