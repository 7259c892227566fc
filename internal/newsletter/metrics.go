package newsletter

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gocart-coalition/coalition/ent/campaign"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// RegisterMetrics exports, at every scrape of /metrics, the deliveries of the campaigns
// that are sending or paused, or were sent or cancelled in the last day, by state:
// coalition_campaign_deliveries{campaign="cmp_…",state="queued|sending|paused|sent|failed|suppressed|cancelled|remaining"}.
func (s *Campaigns) RegisterMetrics(reg prometheus.Registerer) error {
	return reg.Register(&campaignCollector{s: s, desc: prometheus.NewDesc(
		"coalition_campaign_deliveries", "Deliveries of recent newsletter campaigns by state (remaining = queued + sending + paused).",
		[]string{"campaign", "state"}, nil)})
}

type campaignCollector struct {
	s    *Campaigns
	desc *prometheus.Desc
}

func (c *campaignCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *campaignCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(viewer.NewSystemContext(context.Background()), 5*time.Second)
	defer cancel()
	since := c.s.now().Add(-24 * time.Hour)
	cs, err := c.s.cfg.Client.Campaign.Query().Where(campaign.Or(
		campaign.StatusIn(campaign.StatusSENDING, campaign.StatusPAUSED),
		campaign.And(campaign.StatusIn(campaign.StatusSENT, campaign.StatusCANCELLED), campaign.UpdatedAtGT(since)),
	)).Limit(50).All(ctx)
	if err != nil {
		c.s.log.Warn("campaign metrics", "err", err)
		return
	}
	for _, cp := range cs {
		n, err := c.s.cfg.Outbox.Counts(ctx, c.s.cfg.Client, cp.ID)
		if err != nil {
			c.s.log.Warn("campaign metrics", "campaign", cp.ID, "err", err)
			continue
		}
		for state, v := range map[string]int{
			"queued": n.Queued, "sending": n.Sending, "paused": n.Paused, "sent": n.Sent, "failed": n.Failed,
			"suppressed": n.Suppressed, "cancelled": n.Cancelled, "remaining": n.Remaining(),
		} {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(v), string(cp.ID), state)
		}
	}
}
