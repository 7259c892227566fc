package newsletter

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/campaign"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/apperr"
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
	// Personal are the recipient's values of the body's placeholders besides email
	// (unsubscribe_url, preferences_url).
	Personal map[string]string
}

// ListAudience is the mailing-list side of campaigns (internal/newsletter's lists): which
// lists a campaign targets, and their confirmed subscribers.
type ListAudience interface {
	// ListsExist reports whether every id is a mailing list.
	ListsExist(ctx context.Context, ids []pulid.ID) (bool, error)
	// ListsOf returns the lists campaign targets.
	ListsOf(ctx context.Context, campaign pulid.ID) ([]pulid.ID, error)
	// SetLists replaces the lists campaign targets.
	SetLists(ctx context.Context, tx *ent.Client, campaign pulid.ID, lists []pulid.ID) error
	// AnyPublic reports whether one of lists is PUBLIC (the campaign is archived publicly).
	AnyPublic(ctx context.Context, lists []pulid.ID) (bool, error)
	// Confirmed returns up to limit confirmed subscribers of lists whose address sorts after
	// after, in address order.
	Confirmed(ctx context.Context, tx *ent.Client, lists []pulid.ID, after string, limit int) ([]Recipient, error)
	// Personalise completes rs (group members included) with suppression and the
	// personal values of the campaign (unsubscribe and preferences links).
	Personalise(ctx context.Context, tx *ent.Client, campaign pulid.ID, rs []Recipient) error
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
	Subject, HTML, Text string
	Headers             map[string]string
}

// Deliveries is what campaigns need of the outbox: one delivery per recipient of a frozen
// body, on the bulk lane, in one batch per campaign.
type Deliveries interface {
	// Enqueue writes the deliveries of rs (dedupe key campaign:<id>:<address>, so a
	// recipient is written once whatever happens) in tx.
	Enqueue(ctx context.Context, tx *ent.Client, now time.Time, c *ent.Campaign, body Frozen, rs []Recipient) error
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
	if s.cfg.Lists != nil && len(d.lists) > 0 {
		if public, err = s.cfg.Lists.AnyPublic(viewer.ForFacts(ctx), d.lists); err != nil {
			return nil, err
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
	c, err = s.step(ctx, tx, c, ev, at, func(u *ent.CampaignUpdate) {
		u.SetStartedAt(s.now()).SetSlug(slug).SetPublicArchive(public).
			SetHTMLBody(html).SetTextBody(text).ClearLateSince().SetFreezeCursor("").ClearFrozenAt()
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

// startDue starts a scheduled campaign whose time has come, or, when it is too late (or
// its audience is gone), flags it and emails staff once; it waits for their decision.
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
		if _, ok := apperr.AsUserErrors(err); !ok {
			return err
		}
		now := s.now()
		n, err := tx.Campaign.Update().
			Where(campaign.ID(c.ID), campaign.StatusEQ(campaign.StatusSCHEDULED), campaign.LateSinceIsNil()).
			SetLateSince(now).Save(ctx)
		if err != nil || n == 0 {
			return err
		}
		s.log.WarnContext(ctx, "scheduled campaign not started in time; waiting for staff", "campaign", c.ID, "scheduled_at", c.ScheduledAt)
		return s.tellStaffLate(ctx, tx, c)
	})
	return started, err
}

func (s *Campaigns) tellStaffLate(ctx context.Context, tx *ent.Client, c *ent.Campaign) error {
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
			if s.cfg.Lists != nil {
				if err := s.cfg.Lists.Personalise(ctx, tx, id, rs); err != nil {
					return err
				}
			}
			body := Frozen{Subject: c.Subject, HTML: c.HTMLBody, Text: c.TextBody}
			if err := s.cfg.Outbox.Enqueue(ctx, tx, s.now(), c, body, rs); err != nil {
				return err
			}
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
		if s.cfg.Lists == nil {
			return nil, nil
		}
		lists, err := s.cfg.Lists.ListsOf(ctx, c.ID)
		if err != nil || len(lists) == 0 {
			return nil, err
		}
		return s.cfg.Lists.Confirmed(ctx, tx, lists, after, FreezeBatch)
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
