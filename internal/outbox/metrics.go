package outbox

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gocart-coalition/coalition/ent"
)

// scrapeTimeout bounds the queries a Prometheus scrape runs: a slow database must not
// hang /metrics.
const scrapeTimeout = 2 * time.Second

// Results counted by coalition_outbox_messages_total.
const (
	ResultSent   = "sent"
	ResultRetry  = "retry"
	ResultFailed = "failed"
	// ResultSuppressed counts bulk rows the suppression hook refused when they were
	// claimed (coalition_outbox_lane_messages_total only).
	ResultSuppressed = "suppressed"
)

// Metrics are the outbox's Prometheus metrics:
//
//	coalition_outbox_messages_total{result="sent|retry|failed"}  counter
//	coalition_outbox_send_duration_seconds                       histogram of one Send
//	coalition_outbox_depth{state="queued|sending|…"}             rows by state, at scrape time
//	coalition_outbox_oldest_queued_age_seconds                   age of the oldest queued row
//	coalition_outbox_lane_messages_total{lane,result}            results by lane (+ suppressed)
//	coalition_outbox_lane_depth{lane,state}                      rows by lane and state, at scrape time
//
// A nil *Metrics records nothing.
type Metrics struct {
	messages    *prometheus.CounterVec
	laneResults *prometheus.CounterVec
	sendSeconds prometheus.Histogram

	client     *ent.Client
	now        func() time.Time
	log        *slog.Logger
	depth      *prometheus.Desc
	laneDepth  *prometheus.Desc
	oldestAge  *prometheus.Desc
	scrapeFail *prometheus.Desc
}

// MetricsOption tunes NewMetrics.
type MetricsOption func(*Metrics)

// WithMetricsClock sets the clock the oldest-queued age is measured with (time.Now by
// default).
func WithMetricsClock(now func() time.Time) MetricsOption {
	return func(m *Metrics) { m.now = now }
}

// WithMetricsLogger sets where failed scrape queries are logged (slog.Default by default).
func WithMetricsLogger(l *slog.Logger) MetricsOption {
	return func(m *Metrics) { m.log = l }
}

// NewMetrics creates the outbox metrics and registers them with reg (when not nil); it
// panics if they are already registered there, like prometheus.MustRegister. The depth
// and age gauges are read from client, as the system viewer, at every scrape.
func NewMetrics(reg prometheus.Registerer, client *ent.Client, opts ...MetricsOption) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coalition_outbox_messages_total",
			Help: "Outbox send results: sent, retry (temporary failure, will be retried) or failed (given up).",
		}, []string{"result"}),
		sendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "coalition_outbox_send_duration_seconds",
			Help:    "Time to hand one message to the mail transport.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		laneResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coalition_outbox_lane_messages_total",
			Help: "Outbox results by lane (transactional, bulk): sent, retry, failed, or suppressed (refused by the suppression hook when claimed).",
		}, []string{"lane", "result"}),
		client: client,
		now:    time.Now,
		log:    slog.Default(),
		depth: prometheus.NewDesc("coalition_outbox_depth",
			"Outbox rows by state.", []string{"state"}, nil),
		laneDepth: prometheus.NewDesc("coalition_outbox_lane_depth",
			"Outbox rows by lane and state.", []string{"lane", "state"}, nil),
		oldestAge: prometheus.NewDesc("coalition_outbox_oldest_queued_age_seconds",
			"Age of the oldest queued outbox row (0 when none is queued).", nil, nil),
		scrapeFail: prometheus.NewDesc("coalition_outbox_scrape_error",
			"1 when the outbox gauges could not be read at this scrape.", nil, nil),
	}
	for _, o := range opts {
		o(m)
	}
	for _, r := range []string{ResultSent, ResultRetry, ResultFailed} {
		m.messages.WithLabelValues(r) // present at 0 before the first message
	}
	for _, l := range Lanes {
		for _, r := range []string{ResultSent, ResultRetry, ResultFailed, ResultSuppressed} {
			m.laneResults.WithLabelValues(l, r)
		}
	}
	if reg != nil {
		reg.MustRegister(m.messages, m.laneResults, m.sendSeconds, m)
	}
	return m
}

func (m *Metrics) observeSend(d time.Duration) {
	if m != nil {
		m.sendSeconds.Observe(d.Seconds())
	}
}

func (m *Metrics) count(sent, failed, retried int) {
	if m == nil {
		return
	}
	m.messages.WithLabelValues(ResultSent).Add(float64(sent))
	m.messages.WithLabelValues(ResultFailed).Add(float64(failed))
	m.messages.WithLabelValues(ResultRetry).Add(float64(retried))
}

func (m *Metrics) countLane(lane, result string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.laneResults.WithLabelValues(lane, result).Add(float64(n))
}

// Describe implements prometheus.Collector for the gauges read at scrape time.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.depth
	ch <- m.laneDepth
	ch <- m.oldestAge
	ch <- m.scrapeFail
}

// Collect implements prometheus.Collector: it counts rows by state and finds the oldest
// queued row, as the system viewer, within a short timeout.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	now := m.now()
	rep, err := Status(ctx, m.client, now)
	if err != nil {
		m.log.Warn("read outbox gauges", "op", "outbox.metrics", "err", err)
		ch <- prometheus.MustNewConstMetric(m.scrapeFail, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(m.scrapeFail, prometheus.GaugeValue, 0)
	for _, s := range States {
		ch <- prometheus.MustNewConstMetric(m.depth, prometheus.GaugeValue, float64(rep.Counts[s]), s)
	}
	for _, l := range Lanes {
		for _, s := range States {
			ch <- prometheus.MustNewConstMetric(m.laneDepth, prometheus.GaugeValue, float64(rep.ByLane[l][s]), l, s)
		}
	}
	age := 0.0
	if rep.OldestQueued != nil {
		age = max(0, now.Sub(*rep.OldestQueued).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(m.oldestAge, prometheus.GaugeValue, age)
}
