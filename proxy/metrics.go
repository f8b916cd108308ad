package proxy

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/authgate/authgate/auth"
)

// Metrics are authgate's Prometheus metrics, on a registry of their own
// (never the global one), served by the admin listener.
type Metrics struct {
	Registry    *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	decisions   *prometheus.CounterVec
	decided     decisionCounters
	routesMu    sync.Mutex
	routes      map[string]*routeMetrics
	logins      *prometheus.CounterVec
	failures    *prometheus.CounterVec
	refreshes   *prometheus.CounterVec
	revocations *prometheus.CounterVec
}

// NewMetrics creates and registers the metrics, with the Go runtime and
// process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authgate_http_requests_total",
			Help: "HTTP requests served, by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "authgate_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests by route, the whole exchange for streams and WebSockets.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authgate_decisions_total",
			Help: "Access decisions: public, allowed or denied:<reason>, by deciding rule.",
		}, []string{"decision", "rule"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authgate_logins_total",
			Help: "Login attempts by result (ok, invalid_credentials, malformed, locked_out, busy).",
		}, []string{"result"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authgate_token_verification_failures_total",
			Help: "Presented tokens that failed verification, by reason.",
		}, []string{"reason"}),
	}
	m.refreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authgate_refreshes_total",
		Help: "Refresh-token exchanges by result (ok, reused: the session was ended, invalid).",
	}, []string{"result"})
	m.revocations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "authgate_revocations_total",
		Help: "Revocations made by logouts and refresh-token reuse, by kind (token, session, subject).",
	}, []string{"kind"})
	m.decided = decisionCounters{vec: m.decisions, m: map[decisionKey]prometheus.Counter{}}
	m.routes = map[string]*routeMetrics{}
	m.Registry.MustRegister(m.requests, m.duration, m.decisions, m.logins, m.failures, m.refreshes, m.revocations,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// route returns the metrics of a route, made once.
func (m *Metrics) route(name string) *routeMetrics {
	m.routesMu.Lock()
	defer m.routesMu.Unlock()
	rm, ok := m.routes[name]
	if !ok {
		rm = &routeMetrics{name: name, duration: m.duration.WithLabelValues(name), requests: m.requests}
		m.routes[name] = rm
	}
	return rm
}

// instrument counts and times the requests h serves under the route label.
func (m *Metrics) instrument(route string, h http.Handler) http.Handler {
	rm := m.route(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setRoute(w, rm)
		h.ServeHTTP(w, r)
	})
}

// setRoute names the route of a request being observed.
func setRoute(w http.ResponseWriter, rm *routeMetrics) {
	if ex, ok := w.(*exchange); ok {
		ex.route = rm
	}
}

// record puts a decision (public, allowed or denied:<reason>), the rule that
// made it and the subject, when known, on the request's access log line, and
// counts it. Only answer calls it, once for every request.
func (m *Metrics) record(w http.ResponseWriter, decision, rule, sub string) {
	if ex, ok := w.(*exchange); ok {
		ex.decision, ex.rule, ex.sub = decision, rule, sub
	}
	m.decided.inc(decision, rule)
}

// WatchKeySets reports the state of external issuers' key sets at each
// scrape: authgate_jwks_age_seconds, authgate_jwks_keys and
// authgate_jwks_refreshes_total{result="ok"|"error"}, by issuer.
func (m *Metrics) WatchKeySets(sets []*auth.RemoteKeySet) {
	if len(sets) == 0 {
		return
	}
	m.Registry.MustRegister(&keySetCollector{
		sets: sets,
		age: prometheus.NewDesc("authgate_jwks_age_seconds",
			"Seconds since the issuer's key set was last fetched successfully.", []string{"issuer"}, nil),
		keys: prometheus.NewDesc("authgate_jwks_keys",
			"Keys held for the issuer.", []string{"issuer"}, nil),
		refreshes: prometheus.NewDesc("authgate_jwks_refreshes_total",
			"Fetches of the issuer's key set, by result.", []string{"issuer", "result"}, nil),
	})
}

// WatchRevocations reports, at each scrape, how long ago the local copy of
// the revocation state was last confirmed against the store
// (authgate_revocation_state_age_seconds) and how many confirmations failed
// (authgate_store_sync_errors_total).
func (m *Metrics) WatchRevocations(age func() time.Duration, failures func() uint64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "authgate_revocation_state_age_seconds",
		Help: "Seconds since the local copy of the revocation state was last confirmed against the state store.",
	}, func() float64 { return age().Seconds() }), prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "authgate_store_sync_errors_total",
		Help: "Confirmations of the revocation state that failed: the state store was unreachable or answered an error.",
	}, func() float64 { return float64(failures()) }))
}

// WatchTokenCache reports the verified-token cache at each scrape:
// authgate_token_cache_hits_total, _misses_total, _evictions_total and
// authgate_token_cache_size.
func (m *Metrics) WatchTokenCache(stats func() auth.CacheStats) {
	counter := func(name, help string, v func(auth.CacheStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v(stats())) })
	}
	m.Registry.MustRegister(
		counter("authgate_token_cache_hits_total", "Verifications answered from the verified-token cache.", func(s auth.CacheStats) uint64 { return s.Hits }),
		counter("authgate_token_cache_misses_total", "Verifications the cache could not answer (absent, expired, or of other keys).", func(s auth.CacheStats) uint64 { return s.Misses }),
		counter("authgate_token_cache_evictions_total", "Entries evicted to keep the cache within AUTHGATE_TOKEN_CACHE_SIZE.", func(s auth.CacheStats) uint64 { return s.Evictions }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "authgate_token_cache_size", Help: "Entries in the verified-token cache."},
			func() float64 { return float64(stats().Size) }),
	)
}

type keySetCollector struct {
	sets                 []*auth.RemoteKeySet
	age, keys, refreshes *prometheus.Desc
}

func (c *keySetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.age
	ch <- c.keys
	ch <- c.refreshes
}

func (c *keySetCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.sets {
		st := s.Stats()
		if st.Loaded {
			ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, time.Since(st.FetchedAt).Seconds(), st.Issuer)
		}
		ch <- prometheus.MustNewConstMetric(c.keys, prometheus.GaugeValue, float64(st.Keys), st.Issuer)
		ch <- prometheus.MustNewConstMetric(c.refreshes, prometheus.CounterValue, float64(st.Refreshes), st.Issuer, "ok")
		ch <- prometheus.MustNewConstMetric(c.refreshes, prometheus.CounterValue, float64(st.Failures), st.Issuer, "error")
	}
}
