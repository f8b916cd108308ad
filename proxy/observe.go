package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/xid"
	"github.com/rs/zerolog"

	"github.com/authgate/authgate/config"
)

// exchange is one request's ResponseWriter as authgate observes it: its
// id, the status and size written, the route that answered, and the
// decision made. One wraps each request, for the access log line and the
// route metrics both (one wrapper rather than hlog's and promhttp's). The
// handlers reach it through their ResponseWriter, not the request's
// context: no request copy, and no logger copy, unless a line besides the
// access line is written.
type exchange struct {
	http.ResponseWriter
	id          string // X-Request-Id and the lines' request_id
	base        *zerolog.Logger
	log         *zerolog.Logger // base with the request_id, made on first use
	status      int
	size        int64
	final       bool // a final status (not 1xx) has been written
	route       *routeMetrics
	decision    string
	rule        string
	sub         string
	reason      string
	detail      string
	upstreamErr string
	client      client // read once, for the access line and X-Forwarded-For
	// idValues back the X-Request-Id values of the response ([0]) and of
	// the upstream request ([1]): no allocation for either, and neither
	// shares its array with the other.
	idValues [2]string
}

// logger is the logger of the request's lines besides its access line.
func (e *exchange) logger() *zerolog.Logger {
	if e.log == nil {
		l := e.base.With().Str("request_id", e.id).Logger()
		e.log = &l
	}
	return e.log
}

// requestLogger is the logger for a line about request r, with its
// request_id when authgate observes it.
func requestLogger(w http.ResponseWriter, r *http.Request) *zerolog.Logger {
	if ex, ok := w.(*exchange); ok {
		return ex.logger()
	}
	return zerolog.Ctx(r.Context())
}

// clientFor is the client of request r, which w answers: as observe read
// it, or read now when w is not observed. trusted must be the networks
// observe was given (both are AUTHGATE_TRUSTED_PROXIES).
func clientFor(w http.ResponseWriter, r *http.Request, trusted config.Networks) client {
	if ex, ok := w.(*exchange); ok {
		return ex.client
	}
	return clientOf(r, trusted)
}

// upstreamRequestID is the X-Request-Id value for the upstream request of
// the request that w answers: nil when it is not observed.
func upstreamRequestID(w http.ResponseWriter) []string {
	if ex, ok := w.(*exchange); ok {
		ex.idValues[1] = ex.id
		return ex.idValues[1:2:2]
	}
	return nil
}

func (e *exchange) WriteHeader(code int) {
	if !e.final {
		e.status = code
		e.final = code >= 200 || code == http.StatusSwitchingProtocols
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *exchange) Write(b []byte) (int, error) {
	if !e.final {
		e.WriteHeader(http.StatusOK)
	}
	n, err := e.ResponseWriter.Write(b)
	e.size += int64(n)
	return n, err
}

// ReadFrom keeps the server's own copy path (sendfile and the like) for
// bodies copied through the exchange.
func (e *exchange) ReadFrom(src io.Reader) (int64, error) {
	if !e.final {
		e.WriteHeader(http.StatusOK)
	}
	n, err := io.Copy(e.ResponseWriter, src)
	e.size += n
	return n, err
}

// Flush streams (server-sent events, httputil's flushes).
func (e *exchange) Flush() {
	if !e.final {
		e.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(e.ResponseWriter).Flush()
}

// Hijack hands over the connection of a WebSocket upgrade, whose 101 the
// reverse proxy writes on it.
func (e *exchange) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(e.ResponseWriter).Hijack()
	if err == nil && !e.final {
		e.status, e.final = http.StatusSwitchingProtocols, true
	}
	return conn, brw, err
}

// Unwrap lets http.ResponseController reach the server's writer.
func (e *exchange) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// observe gives each request an id (a new xid; a client's X-Request-Id is
// not taken), which the response and the upstream get as X-Request-Id,
// serves next with an exchange, and then writes the request's one access
// line and counts and times it under its route. The query string, tokens
// and credentials never appear in the line.
func observe(log zerolog.Logger, m *Metrics, trusted config.Networks, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var idBuf [20]byte
		ex := &exchange{ResponseWriter: w, base: &log, id: string(xid.New().Encode(idBuf[:])), status: http.StatusOK}
		ex.idValues[0] = ex.id
		w.Header()["X-Request-Id"] = ex.idValues[0:1:1]
		ex.client = clientOf(r, trusted)
		next.ServeHTTP(ex, r)
		d := time.Since(start)
		ev := log.Info().Str("request_id", ex.id)
		if ex.upstreamErr != "" {
			ev = ev.Str("upstream_error", ex.upstreamErr)
		}
		if ex.decision != "" {
			ev = ev.Str("decision", ex.decision).Str("rule", ex.rule)
			if ex.sub != "" {
				ev = ev.Str("sub", ex.sub)
			}
		}
		if ex.reason != "" {
			ev = ev.Str("reason", ex.reason)
		}
		if ex.detail != "" {
			ev = ev.Str("detail", ex.detail)
		}
		if c := ex.client; c.addr.IsValid() {
			var buf [48]byte
			ev = ev.Bytes("client", c.addr.AppendTo(buf[:0]))
		}
		ev.Str("method", r.Method).
			Str("path", r.URL.EscapedPath()).
			Int("status", ex.status).
			Int64("size", ex.size).
			Dur("duration", d).
			Str("remote", r.RemoteAddr).
			Msg("request")
		if ex.route != nil {
			ex.route.observe(ex.status, d)
		}
	})
}

// routeMetrics are one route's children of the request counter (by status
// code, made on first use and kept) and of the duration histogram: no label
// lookup per request.
type routeMetrics struct {
	name     string
	duration prometheus.Observer
	requests *prometheus.CounterVec
	codes    [600]atomic.Pointer[prometheus.Counter]
}

func (rm *routeMetrics) observe(code int, d time.Duration) {
	rm.duration.Observe(d.Seconds())
	if code < 0 || code >= len(rm.codes) {
		code = 0
	}
	c := rm.codes[code].Load()
	if c == nil {
		child := rm.requests.WithLabelValues(rm.name, strconv.Itoa(code))
		c = &child
		rm.codes[code].Store(c)
	}
	(*c).Inc()
}

// decisionKey is a child of the decision counter.
type decisionKey struct{ decision, rule string }

// decisionCounters caches the decision counter's children.
type decisionCounters struct {
	vec *prometheus.CounterVec
	mu  sync.RWMutex
	m   map[decisionKey]prometheus.Counter
}

func (dc *decisionCounters) inc(decision, rule string) {
	k := decisionKey{decision, rule}
	dc.mu.RLock()
	c, ok := dc.m[k]
	dc.mu.RUnlock()
	if !ok {
		c = dc.vec.WithLabelValues(decision, rule)
		dc.mu.Lock()
		dc.m[k] = c
		dc.mu.Unlock()
	}
	c.Inc()
}
