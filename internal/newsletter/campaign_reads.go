package newsletter

import (
	"context"
	"fmt"
	"strings"
	"time"

	"entgo.io/contrib/entgql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/campaign"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/markdown"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Preview is a campaign's email as a recipient would see it, with neutral personal parts.
type Preview struct {
	Subject, HTML, Text string
}

// neutral are the values of the personal parts where no recipient is known (the preview,
// the public archive): an example address and the archive's address instead of links
// that act for someone.
func (s *Campaigns) neutral() map[string]string {
	return map[string]string{
		"email":           "you@example.org",
		"unsubscribe_url": s.cfg.PublicURL + "/newsletter",
		"preferences_url": s.cfg.PublicURL + "/newsletter",
		"name":            "",
	}
}

// PreviewOf renders c's email with neutral personal parts. Staff only (nil for others).
func (s *Campaigns) PreviewOf(ctx context.Context, c *ent.Campaign) (*Preview, error) {
	if !access.CanManageCampaigns(viewer.FromContext(ctx)) {
		return nil, nil
	}
	v := s.neutral()
	return &Preview{Subject: c.Subject, HTML: Personalise(c.HTMLBody, true, v), Text: Personalise(c.TextBody, false, v)}, nil
}

// BodyHTML is c's body as the archive shows it: the Markdown rendered and sanitised, any
// placeholder the author wrote given its neutral value. No tracking, no rewritten links.
func (s *Campaigns) BodyHTML(c *ent.Campaign) string {
	return Personalise(markdown.HTML(c.Body), true, s.neutral())
}

// ArchiveURL is c's public page, or "" when it has none (yet).
func (s *Campaigns) ArchiveURL(c *ent.Campaign) string {
	if !c.PublicArchive || c.Status != campaign.StatusSENT || c.Slug == nil {
		return ""
	}
	return s.cfg.PublicURL + "/newsletter/" + *c.Slug
}

// SendTest emails c as it stands to up to 10 addresses, on the transactional lane, its
// subject marked "[Test]", the personal parts filled for each address but with no working
// unsubscribe link. Staff only. User errors: REQUIRED for no address, TOO_LONG for more
// than 10, INVALID for a malformed one (on to[i]); NOT_FOUND for an unknown campaign.
func (s *Campaigns) SendTest(ctx context.Context, tx *ent.Client, id pulid.ID, to []string) (int, error) {
	c, err := s.staffCampaign(ctx, tx, id, "send test messages of newsletter campaigns")
	if err != nil {
		return 0, err
	}
	var errs apperr.UserErrors
	switch {
	case len(to) == 0:
		errs.Add(apperr.CodeRequired, "Give at least one address to send the test to.", check.Path("to")...)
	case len(to) > MaxTestTo:
		errs.Add(apperr.CodeTooLong, fmt.Sprintf("A test goes to at most %d addresses.", MaxTestTo), check.Path("to")...)
	}
	addrs := make([]string, 0, len(to))
	for i, a := range to {
		if len(to) > MaxTestTo {
			break
		}
		addrs = append(addrs, check.Email(&errs, a, check.Path("to", fmt.Sprint(i))))
	}
	if err := errs.Err(); err != nil {
		return 0, err
	}
	now := s.now()
	for _, a := range uniqueStrings(addrs) {
		v := s.neutral()
		v["email"] = a
		r := notify.Rendered{
			Subject: "[Test] " + c.Subject,
			HTML:    Personalise(c.HTMLBody, true, v),
			Text:    Personalise(c.TextBody, false, v),
		}
		key := fmt.Sprintf("campaign_test:%s:%s:%d", c.ID, a, now.UnixMicro())
		if len(key) > 255 {
			key = fmt.Sprintf("campaign_test:%s:%d:%d", c.ID, len(a), now.UnixMicro())
		}
		if err := s.cfg.Notifier.QueueRendered(ctx, tx, testTemplate, notify.Recipient{Email: a}, r, map[string]string{"X-Coalition-Test": "campaign " + string(c.ID)}, key); err != nil {
			return 0, err
		}
	}
	return len(uniqueStrings(addrs)), nil
}

func uniqueStrings(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Progress counts c's deliveries by state. Staff only (nil for others): the counts are
// read from the outbox, which only the system reads, after the staff check.
func (s *Campaigns) Progress(ctx context.Context, c *ent.Campaign) (*Counts, error) {
	if !access.CanManageCampaigns(viewer.FromContext(ctx)) {
		return nil, nil
	}
	counts, err := s.cfg.Outbox.Counts(ctx, s.cfg.Client, c.ID)
	if err != nil {
		return nil, err
	}
	return &counts, nil
}

// Delivery is one recipient's delivery of a campaign, as staff see it.
type Delivery struct {
	ID        pulid.ID
	Email     string
	Name      string
	State     string
	Attempts  int
	LastError string
	SentAt    *time.Time
	UpdatedAt time.Time
}

// DeliveryPage is one page of a campaign's deliveries, ordered by id.
type DeliveryPage struct {
	Deliveries []Delivery
	HasNext    bool
	TotalCount int
}

// MaxDeliveriesPage is the largest page of deliveries.
const MaxDeliveriesPage = 100

// DeliveriesOf pages through c's deliveries (state, when not empty, narrows them). Staff
// only (FORBIDDEN otherwise).
func (s *Campaigns) DeliveriesOf(ctx context.Context, c *ent.Campaign, first int, after *entgql.Cursor[pulid.ID], state string) (*DeliveryPage, error) {
	if err := access.Require(ctx, access.CanManageCampaigns, "see a campaign's deliveries"); err != nil {
		return nil, err
	}
	if first < 1 || first > MaxDeliveriesPage {
		return nil, apperr.New(apperr.BadRequest, "first must be between 1 and %d", MaxDeliveriesPage)
	}
	sys := viewer.NewSystemContext(ctx)
	var body pulid.ID // none before it starts: no row has an empty body id
	if c.MailBodyID != nil {
		body = *c.MailBodyID
	}
	q := s.cfg.Client.OutboxMessage.Query().Where(outboxmessage.LaneEQ(outboxmessage.LaneBulk), outboxmessage.BodyID(body))
	if state != "" {
		st := outboxmessage.State(strings.ToLower(state))
		if err := outboxmessage.StateValidator(st); err != nil {
			return nil, apperr.New(apperr.BadRequest, "unknown delivery state %q", state)
		}
		q.Where(outboxmessage.StateEQ(st))
	}
	total, err := q.Clone().Count(sys)
	if err != nil {
		return nil, fmt.Errorf("count deliveries of %s: %w", c.ID, err)
	}
	if after != nil {
		q.Where(outboxmessage.IDGT(after.ID))
	}
	rows, err := q.Order(outboxmessage.ByID()).Limit(first + 1).All(sys)
	if err != nil {
		return nil, fmt.Errorf("list deliveries of %s: %w", c.ID, err)
	}
	page := &DeliveryPage{TotalCount: total, HasNext: len(rows) > first}
	if page.HasNext {
		rows = rows[:first]
	}
	for _, r := range rows {
		st := string(r.State)
		page.Deliveries = append(page.Deliveries, Delivery{
			ID: r.ID, Email: r.Recipient, Name: r.RecipientName, State: strings.ToUpper(st), Attempts: r.Attempts,
			LastError: r.LastError, SentAt: r.SentAt, UpdatedAt: r.UpdatedAt,
		})
	}
	return page, nil
}

// ArchivePage is the public archive's campaigns, newest first, at most limit.
func (s *Campaigns) Archive(ctx context.Context, limit int) ([]*ent.Campaign, error) {
	return s.cfg.Client.Campaign.Query().
		Where(campaign.PublicArchive(true), campaign.StatusEQ(campaign.StatusSENT)).
		Order(ent.Desc(campaign.FieldSentAt), ent.Desc(campaign.FieldID)).
		Limit(limit).All(ctx)
}

// ArchivedBySlug is the archived campaign at slug, as the viewer in ctx reads it (the
// privacy filter shows the public only sent campaigns of public lists); NOT_FOUND otherwise.
func (s *Campaigns) ArchivedBySlug(ctx context.Context, slug string) (*ent.Campaign, error) {
	c, err := s.cfg.Client.Campaign.Query().
		Where(campaign.Slug(slug), campaign.PublicArchive(true), campaign.StatusEQ(campaign.StatusSENT)).
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "no such newsletter")
	}
	return c, err
}
