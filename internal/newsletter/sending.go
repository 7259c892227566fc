package newsletter

import (
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"regexp"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/campaign"
	"github.com/gocart-coalition/coalition/ent/mailinglist"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/predicate"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/subscriber"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// CampaignsJobName is the job that starts scheduled campaigns, writes the deliveries of
// campaigns that started, and marks them SENT when none is left to send.
const CampaignsJobName = "newsletter.campaigns"

// CampaignsJobInterval is how often the job runs (and it is woken after a commit that
// started or resumed sending).
const CampaignsJobInterval = 30 * time.Second

// FreezeBatch is the number of recipients written per transaction while the audience is
// frozen: memory stays bounded whatever the audience, and a crash resumes after the last
// batch written.
const FreezeBatch = 1000

// Recipient is one person a campaign goes to.
type Recipient struct {
	// Email is in check.NormaliseEmail's form.
	Email string
	Name  string
	// Suppressed: recorded as a delivery but never sent (unsubscribed from everything,
	// hard-bounced, complained, suppressed by staff).
	Suppressed bool
	// Personal are the recipient's values of the body's placeholders besides email and
	// name: the token of their links (PersonalUnsubscribe).
	Personal map[string]string

	// subscriber and list, when known, make the unsubscribe link: the first target list the
	// subscriber is confirmed on.
	subscriber, list pulid.ID
}

// Links makes the personal links of a delivery: the lists' signed unsubscribe tokens
// (Service.Token; list "" for every list, whose page lets one choose lists) and the
// address of their page (Service.UnsubscribeURLOf).
type Links interface {
	Token(subscriber, list pulid.ID) string
	UnsubscribeURLOf(token string) string
}

// PersonalUnsubscribe is the one personal value of a delivery besides its address and
// name: the token of its unsubscribe link (the first of the campaign's lists the
// recipient is confirmed on; every list for a working-group member). The frozen body holds
// the rest of the link (frozenLinks), so 100,000 deliveries do not store the service's
// address and path 100,000 times. The footer's "Choose your lists" opens the same page
// at its list choice (#lists): one token per delivery, not two.
const PersonalUnsubscribe = "u"

// frozenLinks turns the archive copy's placeholders of the personal links into the
// delivery body's: the page's URL around the token placeholder (HTML-escaped in HTML).
func (s *Campaigns) frozenLinks(body string, html bool) string {
	link := s.cfg.Links.UnsubscribeURLOf("{{" + PersonalUnsubscribe + "}}")
	if html {
		link = htmltemplate.HTMLEscapeString(link)
	}
	return strings.NewReplacer(PlaceholderUnsubscribe, link, PlaceholderPreferences, link+"#lists").Replace(body)
}

// Counts are a campaign's deliveries by state.
type Counts struct {
	Queued, Sending, Paused, Sent, Failed, Suppressed, Cancelled int
}

// Total is the number of deliveries.
func (c Counts) Total() int {
	return c.Queued + c.Sending + c.Paused + c.Sent + c.Failed + c.Suppressed + c.Cancelled
}

// Remaining is the number of deliveries still to be handed to the SMTP server.
func (c Counts) Remaining() int { return c.Queued + c.Sending + c.Paused }

// Frozen is a campaign's body as frozen when sending starts: stored once, shared by
// every delivery.
type Frozen struct {
	Subject, Preheader, HTML, Text string
	Headers                        map[string]string
}

// Deliveries is what campaigns need of the outbox: one delivery per recipient of a frozen
// body, on the bulk lane, in one batch per campaign.
type Deliveries interface {
	// Freeze stores the campaign's body once and returns its id (campaign.mail_body_id).
	Freeze(ctx context.Context, tx *ent.Client, now time.Time, body Frozen) (pulid.ID, error)
	// Enqueue writes the deliveries of rs but the suppressed ones, sharing c's frozen body
	// (dedupe key campaign:<id>:<address>, so a recipient is written once whatever happens)
	// in tx.
	Enqueue(ctx context.Context, tx *ent.Client, now time.Time, c *ent.Campaign, rs []Recipient) error
	// Pause holds the campaign's queued deliveries; Resume queues them again at now; Cancel
	// cancels every delivery not yet handed to the SMTP server. Each returns how many.
	Pause(ctx context.Context, tx *ent.Client, campaign pulid.ID) (int, error)
	Resume(ctx context.Context, tx *ent.Client, campaign pulid.ID, now time.Time) (int, error)
	Cancel(ctx context.Context, tx *ent.Client, campaign pulid.ID) (int, error)
	// Counts counts the campaign's deliveries by state.
	Counts(ctx context.Context, client *ent.Client, campaign pulid.ID) (Counts, error)
}

// start decides ev (send now, or the job's start) for c and starts sending: the status,
// the start time, the public page's slug and the body rendered once more with the page's
// address. The deliveries are written by the campaigns job, woken after the commit.
func (s *Campaigns) start(ctx context.Context, tx *ent.Client, c *ent.Campaign, ev CampaignEvent) (*ent.Campaign, error) {
	d, err := s.draftOf(ctx, c)
	if err != nil {
		return nil, err
	}
	public := false
	if len(d.lists) > 0 {
		public, err = tx.MailingList.Query().
			Where(mailinglist.IDIn(d.lists...), mailinglist.VisibilityEQ(mailinglist.VisibilityPUBLIC)).
			Exist(viewer.ForFacts(ctx))
		if err != nil {
			return nil, fmt.Errorf("read lists of %s: %w", c.ID, err)
		}
	}
	slug := Slug(c.Subject, c.ID)
	archive := ""
	if public {
		archive = s.cfg.PublicURL + "/newsletter/" + slug
	}
	html, text, err := s.render(d, archive)
	if err != nil {
		return nil, err
	}
	var at time.Time
	if c.ScheduledAt != nil {
		at = *c.ScheduledAt
	}
	// Decide first (the step below decides again, under its conditional update), so a
	// refused start stores no body.
	empty, err := s.emptyAudience(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	if _, err := NextCampaignStatus(c.Status, ev, CampaignFacts{Now: s.now(), At: at, LateAfter: s.cfg.LateAfter, EmptyAudience: empty}); err != nil {
		return nil, apperr.OnField(err, "input", "id")
	}
	// The job's start, like sendCampaignNow, refuses an audience that reaches nobody when
	// its time comes (everyone left, bounced or ended their term since it was scheduled).
	if ev == CampaignStart {
		if ok, err := s.hasRecipient(ctx, tx, c); err != nil {
			return nil, err
		} else if !ok {
			return nil, errNobody()
		}
	}
	body, err := s.cfg.Outbox.Freeze(ctx, tx, s.now(), Frozen{
		Subject: c.Subject, Preheader: c.Preheader, HTML: s.frozenLinks(html, true), Text: s.frozenLinks(text, false),
		Headers: map[string]string{
			"List-Id": listID(c.Subject, s.cfg.PublicURL),
			// RFC 8058: an https URL whose POST unsubscribes at once, with no confirmation.
			"List-Unsubscribe":      "<" + s.cfg.Links.UnsubscribeURLOf("{{"+PersonalUnsubscribe+"}}") + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
	})
	if err != nil {
		return nil, err
	}
	c, err = s.step(ctx, tx, c, ev, at, func(u *ent.CampaignUpdate) {
		u.SetStartedAt(s.now()).SetSlug(slug).SetPublicArchive(public).SetMailBodyID(body).
			SetHTMLBody(html).SetTextBody(text).ClearLateSince().ClearHoldReason().SetFreezeCursor("").ClearFrozenAt()
	})
	if err != nil {
		return nil, err
	}
	s.wakeAfterCommit(ctx)
	return c, nil
}

var slugDrop = regexp.MustCompile(`[^a-z0-9]+`)

// Slug is a campaign's address in the public archive: its subject in lower-case ASCII
// words and the end of its id, e.g. quarterly-newsletter-spring-2027-7m2q4k.
func Slug(subject string, id pulid.ID) string {
	words := strings.Trim(slugDrop.ReplaceAllString(strings.ToLower(subject), "-"), "-")
	if len(words) > 80 {
		words = strings.TrimRight(words[:80], "-")
	}
	tail := strings.ToLower(string(id))
	if len(tail) > 6 {
		tail = tail[len(tail)-6:]
	}
	if words == "" {
		return "campaign-" + tail
	}
	return words + "-" + tail
}

// Run is one run of the campaigns job, as the system: start the scheduled campaigns whose
// time has come (or flag those it is too late for and tell staff), write the deliveries of
// the campaigns that started, and mark SENT those with nothing left to send. Each step of
// each campaign is its own transaction, conditional on the status read, so a second run or
// a second process at the same time changes nothing twice.
func (s *Campaigns) Run(ctx context.Context) (started, completed int, err error) {
	ctx = viewer.NewSystemContext(ctx)
	now := s.now()
	due, err := s.cfg.Client.Campaign.Query().
		Where(campaign.StatusEQ(campaign.StatusSCHEDULED), campaign.ScheduledAtLTE(now), campaign.LateSinceIsNil()).
		Order(campaign.ByScheduledAt()).All(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("find due campaigns: %w", err)
	}
	var errs []error
	for _, c := range due {
		ok, err := s.startDue(ctx, c)
		if ok {
			started++
		}
		errs = append(errs, err)
	}
	sending, err := s.cfg.Client.Campaign.Query().Where(campaign.StatusEQ(campaign.StatusSENDING)).All(ctx)
	if err != nil {
		return started, 0, errors.Join(append(errs, fmt.Errorf("find sending campaigns: %w", err))...)
	}
	for _, c := range sending {
		if c.FrozenAt == nil {
			if err := s.freeze(ctx, c.ID); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		done, err := s.complete(ctx, c.ID)
		if done {
			completed++
		}
		errs = append(errs, err)
	}
	return started, completed, errors.Join(errs...)
}

// startDue starts a scheduled campaign whose time has come, or, when it is too late or
// its audience reaches nobody now, holds it: late_since and hold_reason (LATE or
// NO_RECIPIENTS) set, an audit event (campaign.hold, with the reason and the refusal),
// and one email to each member of staff. It stays SCHEDULED and waits for their decision
// (send now, schedule again, or cancel); the job does not try it again.
func (s *Campaigns) startDue(ctx context.Context, c *ent.Campaign) (bool, error) {
	started := false
	err := db.InTx(ctx, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
		_, err := s.start(ctx, tx, c, CampaignStart)
		if err == nil {
			started = true
			return nil
		}
		if apperr.KindOf(err) == apperr.Conflict {
			return nil // another process started it
		}
		refusal, ok := apperr.AsUserErrors(err)
		if !ok || len(refusal) == 0 {
			return err
		}
		reason := campaign.HoldReasonLATE
		if refusal[0].Code == apperr.CodeRequired {
			reason = campaign.HoldReasonNO_RECIPIENTS
		}
		now := s.now()
		n, err := tx.Campaign.Update().
			Where(campaign.ID(c.ID), campaign.StatusEQ(campaign.StatusSCHEDULED), campaign.LateSinceIsNil()).
			SetLateSince(now).SetHoldReason(reason).Save(ctx)
		if err != nil || n == 0 {
			return err
		}
		scheduled := ""
		if c.ScheduledAt != nil {
			scheduled = c.ScheduledAt.UTC().Format(time.RFC3339)
		}
		if err := audit.Record(ctx, tx, now, audit.Event{
			Action: "campaign.hold", ObjectType: "Campaign", ObjectID: string(c.ID),
			Details: map[string]any{"reason": string(reason), "scheduled_at": scheduled, "refusal": refusal[0].Message},
		}); err != nil {
			return err
		}
		s.log.WarnContext(ctx, "scheduled campaign not started; waiting for staff", "campaign", c.ID, "scheduled_at", c.ScheduledAt, "reason", reason)
		return s.tellStaffHeld(ctx, tx, c, reason)
	})
	return started, err
}

// tellStaffHeld emails every member of staff once about a scheduled campaign the job held
// (campaign_late, which says why).
func (s *Campaigns) tellStaffHeld(ctx context.Context, tx *ent.Client, c *ent.Campaign, reason campaign.HoldReason) error {
	staff, err := tx.User.Query().Where(user.Disabled(false)).Order(user.ByID()).All(ctx)
	if err != nil {
		return fmt.Errorf("find staff: %w", err)
	}
	scheduled := ""
	if c.ScheduledAt != nil {
		scheduled = c.ScheduledAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	for _, u := range staff {
		if !hasRole(u, viewer.RoleStaff) {
			continue
		}
		err := s.cfg.Notifier.CampaignLate(ctx, tx, notify.Recipient{Email: u.Email, Name: u.Name}, notify.CampaignLateData{
			Name: u.Name, Subject: c.Subject, Scheduled: scheduled, LateAfter: s.cfg.LateAfter.String(), ID: string(c.ID),
			NoRecipients: reason == campaign.HoldReasonNO_RECIPIENTS,
		}, fmt.Sprintf("campaign_late:%s:%s:%s", c.ID, scheduled, u.ID))
		if err != nil {
			return err
		}
	}
	return nil
}

func hasRole(u *ent.User, r viewer.Role) bool {
	for _, x := range u.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Sources of a campaign's audience, in the order they are written.
const (
	sourceLists  = "l"
	sourceGroups = "g"
)

// freeze writes the deliveries of a campaign that started, FreezeBatch recipients per
// transaction, from where the last batch stopped (freeze_cursor: a source and the last
// address written), until the audience is exhausted (frozen_at) or the campaign is no
// longer SENDING (paused or cancelled: the rest is written on resume, or never). A
// recipient in two sources is written once (the delivery's dedupe key).
func (s *Campaigns) freeze(ctx context.Context, id pulid.ID) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		done := false
		err := db.InTx(ctx, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
			c, err := tx.Campaign.Get(ctx, id)
			if err != nil {
				return fmt.Errorf("load campaign %s: %w", id, err)
			}
			if c.Status != campaign.StatusSENDING || c.FrozenAt != nil {
				done = true
				return nil
			}
			src, after, _ := strings.Cut(c.FreezeCursor, ":")
			if src == "" {
				src = sourceLists
			}
			rs, err := s.audience(ctx, tx, c, src, after)
			if err != nil {
				return err
			}
			u := tx.Campaign.UpdateOneID(id)
			if len(rs) == 0 {
				if src == sourceLists {
					u.SetFreezeCursor(sourceGroups + ":")
				} else {
					counts, err := s.cfg.Outbox.Counts(ctx, tx, id)
					if err != nil {
						return err
					}
					u.SetFrozenAt(s.now()).SetRecipients(counts.Total())
					done = true
				}
				return u.Exec(ctx)
			}
			if err := s.personalise(ctx, tx, rs); err != nil {
				return err
			}
			if err := s.cfg.Outbox.Enqueue(ctx, tx, s.now(), c, rs); err != nil {
				return err
			}
			// Sending begins with the first batch committed, not after the last one, nor at
			// the worker's next poll.
			s.cfg.Notifier.WakeAfterCommit(ctx)
			return u.SetFreezeCursor(src + ":" + rs[len(rs)-1].Email).Exec(ctx)
		})
		if err != nil || done {
			return err
		}
	}
}

// audience returns the next FreezeBatch recipients of source src after the address after.
func (s *Campaigns) audience(ctx context.Context, tx *ent.Client, c *ent.Campaign, src, after string) ([]Recipient, error) {
	switch src {
	case sourceLists:
		lists, err := c.QueryLists().IDs(ctx)
		if err != nil || len(lists) == 0 {
			return nil, err
		}
		confirmed := func() predicate.NewsletterSubscription {
			return newslettersubscription.And(newslettersubscription.ListIDIn(lists...),
				newslettersubscription.StatusEQ(newslettersubscription.StatusCONFIRMED))
		}
		q := tx.Subscriber.Query().
			Where(subscriber.EmailGT(after), subscriber.HasSubscriptionsWith(confirmed())).
			Select(subscriber.FieldEmail, subscriber.FieldName)
		if len(lists) > 1 {
			// The unsubscribe link names the first target list the subscriber is confirmed
			// on. With one target list that is it for everyone found, and loading the
			// subscriptions (a query binding the ids of the whole batch) is skipped: it
			// cost more than the rest of writing the audience.
			q.WithSubscriptions(func(q *ent.NewsletterSubscriptionQuery) {
				q.Where(confirmed()).Order(newslettersubscription.ByListID())
			})
		}
		subs, err := q.Order(subscriber.ByEmail()).Limit(FreezeBatch).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("find subscribers of the lists of %s: %w", c.ID, err)
		}
		rs := make([]Recipient, len(subs))
		for i, sub := range subs {
			list := lists[0]
			if len(lists) > 1 {
				list = ""
				if len(sub.Edges.Subscriptions) > 0 {
					list = sub.Edges.Subscriptions[0].ListID
				}
			}
			rs[i] = Recipient{Email: sub.Email, Name: sub.Name, subscriber: sub.ID, list: list}
		}
		return rs, nil
	case sourceGroups:
		groups, err := c.QueryGroups().IDs(ctx)
		if err != nil {
			return nil, fmt.Errorf("load groups of %s: %w", c.ID, err)
		}
		if len(groups) == 0 {
			return nil, nil
		}
		today := vocab.Today(s.now())
		us, err := tx.User.Query().
			Where(
				user.Disabled(false), user.EmailGT(after),
				user.HasMembershipsWith(membership.GroupIDIn(groups...), membership.AnswerEQ(membership.AnswerACCEPTED),
					membership.TermStartLTE(today), membership.TermEndGTE(today),
					membership.Or(membership.EndedOnIsNil(), membership.EndedOnGTE(today))),
			).
			Order(user.ByEmail()).Limit(FreezeBatch).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("find members of the groups of %s: %w", c.ID, err)
		}
		rs := make([]Recipient, len(us))
		for i, u := range us {
			rs[i] = Recipient{Email: u.Email, Name: u.Name}
		}
		return rs, nil
	}
	return nil, fmt.Errorf("campaign %s: unknown audience source %q", c.ID, src)
}

// personalise completes a batch of recipients: suppression (unsubscribed from
// everything, bounced, complained, suppressed by staff: not written), and the personal
// links. A working-group member with no subscriber row gets one (no list), so that their
// unsubscribe link works like everyone's: it suppresses the address for newsletters.
func (s *Campaigns) personalise(ctx context.Context, tx *ent.Client, rs []Recipient) error {
	emails := make([]string, len(rs))
	for i, r := range rs {
		emails[i] = r.Email
	}
	suppressed, err := IsSuppressed(ctx, tx, emails)
	if err != nil {
		return err
	}
	var missing []string
	for _, r := range rs {
		if r.subscriber == "" && !suppressed[r.Email] {
			missing = append(missing, r.Email)
		}
	}
	known := map[string]pulid.ID{}
	if len(missing) > 0 {
		subs, err := tx.Subscriber.Query().Where(subscriber.EmailIn(missing...)).All(ctx)
		if err != nil {
			return fmt.Errorf("find subscribers: %w", err)
		}
		for _, sub := range subs {
			known[sub.Email] = sub.ID
		}
		var creates []*ent.SubscriberCreate
		for i := range rs {
			if r := rs[i]; r.subscriber == "" && !suppressed[r.Email] && known[r.Email] == "" {
				id := pulid.New("sbr")
				known[r.Email] = id
				creates = append(creates, tx.Subscriber.Create().SetID(id).SetEmail(r.Email).SetName(clip(oneLine(r.Name), 200)))
			}
		}
		if len(creates) > 0 {
			if err := tx.Subscriber.CreateBulk(creates...).Exec(ctx); err != nil {
				return fmt.Errorf("add subscribers for group members: %w", err)
			}
		}
	}
	for i := range rs {
		r := &rs[i]
		if suppressed[r.Email] {
			r.Suppressed = true
			continue
		}
		if r.subscriber == "" {
			r.subscriber = known[r.Email]
		}
		r.Personal = map[string]string{PersonalUnsubscribe: s.cfg.Links.Token(r.subscriber, r.list)}
	}
	return nil
}

// listID is the List-Id of campaigns (RFC 2919): the service's host.
func listID(_ string, publicURL string) string {
	host := strings.TrimPrefix(strings.TrimPrefix(publicURL, "https://"), "http://")
	if i := strings.IndexAny(host, ":/"); i >= 0 {
		host = host[:i]
	}
	return "Newsletter <newsletter." + host + ">"
}

// complete marks a SENDING campaign whose deliveries are all written SENT once none of
// them is queued, being sent or paused.
func (s *Campaigns) complete(ctx context.Context, id pulid.ID) (bool, error) {
	done := false
	err := db.InTx(ctx, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
		c, err := tx.Campaign.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("load campaign %s: %w", id, err)
		}
		if c.FrozenAt == nil {
			return nil
		}
		counts, err := s.cfg.Outbox.Counts(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := NextCampaignStatus(c.Status, CampaignComplete, CampaignFacts{Outstanding: counts.Remaining() > 0}); err != nil {
			return nil
		}
		n, err := tx.Campaign.Update().Where(campaign.ID(id), campaign.StatusEQ(c.Status)).
			SetStatus(campaign.StatusSENT).SetSentAt(s.now()).Save(ctx)
		done = n == 1
		return err
	})
	return done, err
}
