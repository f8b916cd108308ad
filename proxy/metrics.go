package proxy

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// Metrics are authgate's Prometheus metrics, on a registry of their own
// (never the global one), served by the admin listener.
type Metrics struct {
	Registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	decisions *prometheus.CounterVec
	logins    *prometheus.CounterVec
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
			Help: "Login attempts by result (ok, invalid_credentials, malformed).",
		}, []string{"result"}),
	}
	m.Registry.MustRegister(m.requests, m.duration, m.decisions, m.logins,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// instrument counts and times the requests h serves under the route label.
func (m *Metrics) instrument(route string, h http.Handler) http.Handler {
	labels := prometheus.Labels{"route": route}
	h = promhttp.InstrumentHandlerDuration(m.duration.MustCurryWith(labels), h)
	return promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(labels), h)
}

// record puts a decision (public, allowed or denied:<reason>), the rule that
// made it and the subject, when known, on the request's access log line, and
// counts it. Every request gets exactly one.
func (m *Metrics) record(r *http.Request, decision, rule, sub string) {
	zerolog.Ctx(r.Context()).UpdateContext(func(c zerolog.Context) zerolog.Context {
		c = c.Str("decision", decision).Str("rule", rule)
		if sub != "" {
			c = c.Str("sub", sub)
		}
		return c
	})
	m.decisions.WithLabelValues(decision, rule).Inc()
}
