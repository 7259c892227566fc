package outbox_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/outbox"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// metricValue finds the value of the metric name whose labels include want, or fails.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, fam := range families {
		if fam.GetName() != name {
			continue
		}
	metrics:
		for _, m := range fam.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue metrics
				}
			}
			switch fam.GetType() {
			case dto.MetricType_COUNTER:
				return m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				return m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	t.Fatalf("no metric %s%v", name, want)
	return 0
}

func TestMetrics(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		reg := prometheus.NewRegistry()
		m := outbox.NewMetrics(reg, d.Client, outbox.WithMetricsClock(f.clock.Now), outbox.WithMetricsLogger(discard))
		w := f.worker(t, "worker-a", func(c *outbox.WorkerConfig) { c.Metrics = m })

		f.enqueue(t, email("a"), email("b"), email("c"))
		f.clock.Advance(90 * time.Second)
		if got := metricValue(t, reg, "coalition_outbox_depth", map[string]string{"state": "queued"}); got != 3 {
			t.Fatalf("queued depth = %g, want 3", got)
		}
		if got := metricValue(t, reg, "coalition_outbox_oldest_queued_age_seconds", nil); got != 90 {
			t.Fatalf("oldest queued age = %g, want 90", got)
		}

		f.smtp.Reject(550, 1) // a fails
		wantDrained(t, w, drained{sent: 2, failed: 1})
		f.enqueue(t, email("d"))
		f.smtp.Reject(451, 1) // d is retried
		wantDrained(t, w, drained{retried: 1})

		for result, want := range map[string]float64{"sent": 2, "failed": 1, "retry": 1} {
			if got := metricValue(t, reg, "coalition_outbox_messages_total", map[string]string{"result": result}); got != want {
				t.Fatalf("messages_total{result=%q} = %g, want %g", result, got, want)
			}
		}
		if got := metricValue(t, reg, "coalition_outbox_send_duration_seconds", nil); got != 4 {
			t.Fatalf("send duration samples = %g, want 4", got)
		}
		for state, want := range map[string]float64{"queued": 1, "sending": 0, "sent": 2, "failed": 1, "cancelled": 0} {
			if got := metricValue(t, reg, "coalition_outbox_depth", map[string]string{"state": state}); got != want {
				t.Fatalf("depth{state=%q} = %g, want %g", state, got, want)
			}
		}
		// d was enqueued at the clock's current time.
		if got := metricValue(t, reg, "coalition_outbox_oldest_queued_age_seconds", nil); got != 0 {
			t.Fatalf("oldest queued age = %g, want 0", got)
		}
		if got := metricValue(t, reg, "coalition_outbox_scrape_error", nil); got != 0 {
			t.Fatalf("scrape error = %g, want 0", got)
		}
	})
}
