package newsletter

import (
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/campaign"
	"github.com/gocart-coalition/coalition/ent/mailinglist"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/workinggroup"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/markdown"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Limits of a campaign.
const (
	MaxSubjectLen   = 200
	MaxPreheaderLen = 200
	MaxBodyLen      = markdown.MaxLen
	MaxAudience     = 50
	MaxTestTo       = 10
	// DefaultLateAfter is how long after its slot a scheduled campaign may still start by
	// itself (COALITION_NEWSLETTER_LATE_AFTER).
	DefaultLateAfter = time.Hour
)

// CampaignsConfig configures Campaigns.
type CampaignsConfig struct {
	Client   *ent.Client
	Dialect  string
	Now      func() time.Time
	Notifier *notify.Notifier
	// PublicURL is the service's public address, for archive links.
	PublicURL string
	// LateAfter is DefaultLateAfter when zero.
	LateAfter time.Duration
	Logger    *slog.Logger
	// Wake, when set, is called after a commit that started or resumed sending, so the
	// campaigns job writes the deliveries at once instead of at its next run.
	Wake func()
	// Links makes the recipients' unsubscribe links (the lists' Service).
	Links Links
	// Outbox writes, pauses, resumes, cancels and counts a campaign's deliveries.
	Outbox Deliveries
}

// Campaigns writes, approves, schedules and sends newsletter campaigns.
type Campaigns struct {
	cfg CampaignsConfig
	log *slog.Logger
}

// NewCampaigns checks cfg and returns the service.
func NewCampaigns(cfg CampaignsConfig) (*Campaigns, error) {
	if cfg.Client == nil || cfg.Now == nil || cfg.Notifier == nil || cfg.Outbox == nil || cfg.Links == nil {
		return nil, errors.New("newsletter: Client, Now, Notifier, Outbox and Links are required")
	}
	if cfg.LateAfter <= 0 {
		cfg.LateAfter = DefaultLateAfter
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Campaigns{cfg: cfg, log: log}, nil
}

// LateAfter is how long after its slot a scheduled campaign may still start by itself.
func (s *Campaigns) LateAfter() time.Duration { return s.cfg.LateAfter }

// CampaignInput is what staff write: nil fields of an update stay as they are.
type CampaignInput struct {
	Subject, Preheader, Body *string
	// GroupIDs and ListIDs, when not nil, replace the audience.
	GroupIDs, ListIDs *[]pulid.ID
}

// CreateCampaign writes a DRAFT campaign. Staff only (FORBIDDEN otherwise, UNAUTHENTICATED
// when anonymous). User errors: REQUIRED, TOO_LONG or INVALID (a line break or an
// invisible character) for the subject and preheader; REQUIRED or TOO_LONG for the body;
// NOT_FOUND for an unknown group or list, TOO_LONG for more than 50 of them.
func (s *Campaigns) CreateCampaign(ctx context.Context, tx *ent.Client, in CampaignInput) (*ent.Campaign, error) {
	if err := access.Require(ctx, access.CanManageCampaigns, "write newsletter campaigns"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	d := s.checkCampaign(ctx, tx, &errs, campaignDraft{}, in)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	html, text, err := s.render(d, "")
	if err != nil {
		return nil, err
	}
	me := pulid.ID(viewer.FromContext(ctx).UserID)
	c, err := tx.Campaign.Create().
		SetSubject(d.subject).SetPreheader(d.preheader).SetBody(d.body).
		SetHTMLBody(html).SetTextBody(text).
		SetCreatedByID(me).SetEditedByID(me).
		AddGroupIDs(d.groups...).AddListIDs(d.lists...).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create campaign: %w", err)
	}
	return c, nil
}

// UpdateCampaign changes a campaign that has not started sending. Any change withdraws
// its approval and schedule: it is a DRAFT again, to be approved anew by someone other
// than its author and the one who changed it. User errors: NOT_FOUND; INVALID_STATE once
// it is sending, paused, sent or cancelled; the field errors of CreateCampaign.
func (s *Campaigns) UpdateCampaign(ctx context.Context, tx *ent.Client, id pulid.ID, in CampaignInput) (*ent.Campaign, error) {
	c, err := s.staffCampaign(ctx, tx, id, "change newsletter campaigns")
	if err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	old, err := s.draftOf(ctx, c)
	if err != nil {
		return nil, err
	}
	d := s.checkCampaign(ctx, tx, &errs, old, in)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if d.equal(old) {
		return c, nil
	}
	if _, err := NextCampaignStatus(c.Status, CampaignEdit, CampaignFacts{}); err != nil {
		return nil, apperr.OnField(err, "input", "id")
	}
	html, text, err := s.render(d, "")
	if err != nil {
		return nil, err
	}
	n, err := tx.Campaign.Update().
		Where(campaign.ID(c.ID), campaign.StatusEQ(c.Status)).
		SetSubject(d.subject).SetPreheader(d.preheader).SetBody(d.body).
		SetHTMLBody(html).SetTextBody(text).
		SetEditedByID(pulid.ID(viewer.FromContext(ctx).UserID)).
		SetStatus(campaign.StatusDRAFT).
		ClearApprovedByID().ClearApprovedAt().ClearScheduledAt().ClearLateSince().ClearHoldReason().
		ClearGroups().AddGroupIDs(d.groups...).ClearLists().AddListIDs(d.lists...).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("update campaign %s: %w", id, err)
	}
	if n == 0 {
		return nil, apperr.LostRace("the campaign")
	}
	return tx.Campaign.Get(ctx, c.ID)
}

// ApproveCampaign approves a DRAFT campaign: a member of staff who neither wrote it nor
// changed it last (access.CanApproveCampaign; FORBIDDEN otherwise). User errors:
// NOT_FOUND; INVALID_STATE when it is not a draft; REQUIRED when it has no audience.
func (s *Campaigns) ApproveCampaign(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Campaign, error) {
	c, err := s.staffCampaign(ctx, tx, id, "approve newsletter campaigns")
	if err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	if !access.CanApproveCampaign(v, string(c.CreatedByID), string(c.EditedByID)) {
		return nil, apperr.New(apperr.Forbidden, "nobody approves their own campaign or their own changes to it: ask another member of staff")
	}
	return s.step(ctx, tx, c, CampaignApprove, time.Time{}, func(u *ent.CampaignUpdate) {
		u.SetApprovedByID(pulid.ID(v.UserID)).SetApprovedAt(s.now())
	})
}

// ScheduleCampaign sets (or moves) the start of an approved campaign to at, a time to
// come; it clears the late flag of a campaign that missed its slot. User errors:
// NOT_FOUND; INVALID_STATE unless APPROVED or SCHEDULED; INVALID for a time not in the
// future (on the field at); REQUIRED for an empty audience.
func (s *Campaigns) ScheduleCampaign(ctx context.Context, tx *ent.Client, id pulid.ID, at time.Time) (*ent.Campaign, error) {
	c, err := s.staffCampaign(ctx, tx, id, "schedule newsletter campaigns")
	if err != nil {
		return nil, err
	}
	at = at.UTC().Truncate(time.Microsecond)
	return s.step(ctx, tx, c, CampaignSchedule, at, func(u *ent.CampaignUpdate) {
		u.SetScheduledAt(at).ClearLateSince().ClearHoldReason()
	})
}

// UnscheduleCampaign takes a scheduled campaign back to APPROVED.
func (s *Campaigns) UnscheduleCampaign(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Campaign, error) {
	c, err := s.staffCampaign(ctx, tx, id, "schedule newsletter campaigns")
	if err != nil {
		return nil, err
	}
	return s.step(ctx, tx, c, CampaignUnschedule, time.Time{}, func(u *ent.CampaignUpdate) {
		u.ClearScheduledAt().ClearLateSince().ClearHoldReason()
	})
}

// SendCampaignNow starts sending an approved (or scheduled, also late) campaign: the
// audience is resolved and its deliveries written by the campaigns job, which the commit
// wakes. User errors: NOT_FOUND; INVALID_STATE unless APPROVED or SCHEDULED; REQUIRED for
// an empty audience: no list or group, or nobody in them to mail now (hasRecipient).
func (s *Campaigns) SendCampaignNow(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Campaign, error) {
	c, err := s.staffCampaign(ctx, tx, id, "send newsletter campaigns")
	if err != nil {
		return nil, err
	}
	// An audience that names lists or groups can still reach nobody today (everyone left,
	// bounced or ended their term): sending it now would be a campaign sent to no one.
	if c.Status == campaign.StatusAPPROVED || c.Status == campaign.StatusSCHEDULED {
		if ok, err := s.hasRecipient(ctx, tx, c); err != nil {
			return nil, err
		} else if !ok {
			return nil, errNobody()
		}
	}
	return s.start(ctx, tx, c, CampaignSendNow)
}

// PauseCampaign holds a sending campaign's deliveries that are still queued; the ones
// being handed to the SMTP server finish. Resume continues exactly where it stopped.
func (s *Campaigns) PauseCampaign(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Campaign, error) {
	c, err := s.staffCampaign(ctx, tx, id, "pause newsletter campaigns")
	if err != nil {
		return nil, err
	}
	c, err = s.step(ctx, tx, c, CampaignPause, time.Time{}, nil)
	if err != nil {
		return nil, err
	}
	if _, err := s.cfg.Outbox.Pause(ctx, tx, c.ID); err != nil {
		return nil, err
	}
	return c, nil
}

// ResumeCampaign sends a paused campaign's held deliveries (and writes the rest).
func (s *Campaigns) ResumeCampaign(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Campaign, error) {
	c, err := s.staffCampaign(ctx, tx, id, "resume newsletter campaigns")
	if err != nil {
		return nil, err
	}
	c, err = s.step(ctx, tx, c, CampaignResume, time.Time{}, nil)
	if err != nil {
		return nil, err
	}
	if _, err := s.cfg.Outbox.Resume(ctx, tx, c.ID, s.now()); err != nil {
		return nil, err
	}
	s.wakeAfterCommit(ctx)
	return c, nil
}

// CancelCampaign stops a campaign for good: every delivery not yet handed to the SMTP
// server is cancelled. User errors: NOT_FOUND; INVALID_STATE once SENT or CANCELLED.
func (s *Campaigns) CancelCampaign(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Campaign, error) {
	c, err := s.staffCampaign(ctx, tx, id, "cancel newsletter campaigns")
	if err != nil {
		return nil, err
	}
	c, err = s.step(ctx, tx, c, CampaignCancel, time.Time{}, func(u *ent.CampaignUpdate) {
		u.SetCancelledAt(s.now())
	})
	if err != nil {
		return nil, err
	}
	if c.StartedAt != nil {
		if _, err := s.cfg.Outbox.Cancel(ctx, tx, c.ID); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// step decides ev for c and applies it with an update conditional on the status read, plus
// what set adds; a conditional update that changes nothing is a lost race (CONFLICT).
func (s *Campaigns) step(ctx context.Context, tx *ent.Client, c *ent.Campaign, ev CampaignEvent, at time.Time, set func(*ent.CampaignUpdate)) (*ent.Campaign, error) {
	empty, err := s.emptyAudience(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	next, err := NextCampaignStatus(c.Status, ev, CampaignFacts{
		Now: s.now(), At: at, LateAfter: s.cfg.LateAfter, EmptyAudience: empty,
	})
	if err != nil {
		if u, ok := apperr.AsUserErrors(err); ok && ev == CampaignSchedule && len(u) == 1 && u[0].Code == apperr.CodeInvalid {
			return nil, apperr.OnField(err, "input", "at")
		}
		return nil, apperr.OnField(err, "input", "id")
	}
	u := tx.Campaign.Update().Where(campaign.ID(c.ID), campaign.StatusEQ(c.Status)).SetStatus(next)
	if set != nil {
		set(u)
	}
	n, err := u.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s campaign %s: %w", ev, c.ID, err)
	}
	if n == 0 {
		return nil, apperr.LostRace("the campaign")
	}
	return tx.Campaign.Get(ctx, c.ID)
}

// staffCampaign refuses anyone but staff, then loads the campaign id (NOT_FOUND user
// error on input.id when there is none).
func (s *Campaigns) staffCampaign(ctx context.Context, tx *ent.Client, id pulid.ID, action string) (*ent.Campaign, error) {
	if err := access.Require(ctx, access.CanManageCampaigns, action); err != nil {
		return nil, err
	}
	c, err := tx.Campaign.Get(ctx, id)
	switch {
	case ent.IsNotFound(err):
		return nil, apperr.Invalid(apperr.CodeNotFound, "No such campaign.", "input", "id")
	case err != nil:
		return nil, fmt.Errorf("load campaign %s: %w", id, err)
	}
	return c, nil
}

// campaignDraft is a campaign's editable fields, checked.
type campaignDraft struct {
	subject, preheader, body string
	groups, lists            []pulid.ID
}

func (d campaignDraft) equal(o campaignDraft) bool {
	return d.subject == o.subject && d.preheader == o.preheader && d.body == o.body &&
		sameIDs(d.groups, o.groups) && sameIDs(d.lists, o.lists)
}

func sameIDs(a, b []pulid.ID) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[pulid.ID]bool, len(a))
	for _, x := range a {
		seen[x] = true
	}
	for _, x := range b {
		if !seen[x] {
			return false
		}
	}
	return true
}

// draftOf reads c's editable fields and audience.
func (s *Campaigns) draftOf(ctx context.Context, c *ent.Campaign) (campaignDraft, error) {
	d := campaignDraft{subject: c.Subject, preheader: c.Preheader, body: c.Body}
	groups, err := c.QueryGroups().IDs(viewer.ForFacts(ctx))
	if err != nil {
		return d, fmt.Errorf("load groups of %s: %w", c.ID, err)
	}
	d.groups = groups
	if d.lists, err = c.QueryLists().IDs(viewer.ForFacts(ctx)); err != nil {
		return d, fmt.Errorf("load lists of %s: %w", c.ID, err)
	}
	return d, nil
}

// checkCampaign checks in over old and returns the campaign it describes.
func (s *Campaigns) checkCampaign(ctx context.Context, tx *ent.Client, errs *apperr.UserErrors, old campaignDraft, in CampaignInput) campaignDraft {
	d := old
	if in.Subject != nil || old.subject == "" {
		d.subject = check.RequiredText(errs, deref(in.Subject), MaxSubjectLen, "The subject", "Enter a subject.", check.Path("subject"))
		if check.HasControl(d.subject) {
			errs.Add(apperr.CodeInvalid, "The subject is one line: remove line breaks and invisible characters.", check.Path("subject")...)
		}
	}
	if in.Preheader != nil {
		d.preheader = check.Text(errs, *in.Preheader, MaxPreheaderLen, "The preheader", check.Path("preheader"))
		if check.HasControl(d.preheader) {
			errs.Add(apperr.CodeInvalid, "The preheader is one line: remove line breaks and invisible characters.", check.Path("preheader")...)
		}
	}
	if in.Body != nil || old.body == "" {
		d.body = check.RequiredText(errs, deref(in.Body), MaxBodyLen, "The body", "Write the campaign's text (Markdown).", check.Path("body"))
	}
	for _, f := range []struct{ name, text string }{{"subject", d.subject}, {"preheader", d.preheader}, {"body", d.body}} {
		if k := unknownPlaceholder(f.text); k != "" {
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("{{%s}} is not a value the service fills in; write {{email}} or {{name}}, or remove the braces.", k), check.Path(f.name)...)
		}
	}
	if in.GroupIDs != nil {
		d.groups = uniqueIDs(*in.GroupIDs)
		if len(d.groups) > MaxAudience {
			errs.Add(apperr.CodeTooLong, fmt.Sprintf("A campaign goes to at most %d working groups.", MaxAudience), check.Path("groupIds")...)
		} else {
			found, err := tx.WorkingGroup.Query().Where(workinggroup.IDIn(d.groups...)).IDs(viewer.ForFacts(ctx))
			if err != nil || len(found) != len(d.groups) {
				errs.Add(apperr.CodeNotFound, "No such working group.", check.Path("groupIds")...)
			}
		}
	}
	if in.ListIDs != nil {
		d.lists = uniqueIDs(*in.ListIDs)
		switch {
		case len(d.lists) > MaxAudience:
			errs.Add(apperr.CodeTooLong, fmt.Sprintf("A campaign goes to at most %d lists.", MaxAudience), check.Path("listIds")...)
		case len(d.lists) > 0:
			found, err := tx.MailingList.Query().Where(mailinglist.IDIn(d.lists...)).IDs(viewer.ForFacts(ctx))
			if err != nil || len(found) != len(d.lists) {
				errs.Add(apperr.CodeNotFound, "No such mailing list.", check.Path("listIds")...)
			}
		}
	}
	return d
}

func uniqueIDs(ids []pulid.ID) []pulid.ID {
	seen := make(map[pulid.ID]bool, len(ids))
	out := make([]pulid.ID, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// emptyAudience says c targets no working group and no list.
func (s *Campaigns) emptyAudience(ctx context.Context, tx *ent.Client, c *ent.Campaign) (bool, error) {
	n, err := tx.Campaign.QueryGroups(c).Count(viewer.ForFacts(ctx))
	if err != nil {
		return false, fmt.Errorf("count groups of %s: %w", c.ID, err)
	}
	if n > 0 {
		return false, nil
	}
	m, err := tx.Campaign.QueryLists(c).Count(viewer.ForFacts(ctx))
	if err != nil {
		return false, fmt.Errorf("count lists of %s: %w", c.ID, err)
	}
	return m == 0, nil
}

func (s *Campaigns) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

func (s *Campaigns) wakeAfterCommit(ctx context.Context) {
	if s.cfg.Wake == nil {
		return
	}
	tx := ent.TxFromContext(ctx)
	if tx == nil {
		s.cfg.Wake()
		return
	}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				s.cfg.Wake()
			}
			return err
		})
	})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// The personal parts of a campaign's body: placeholders the outbox fills in per delivery
// from its personal values ({{name}} style, HTML-escaped there). The renderer sees
// sentinels made of characters no escaper touches, replaced by the placeholders after.
const (
	PlaceholderEmail       = "{{email}}"
	PlaceholderUnsubscribe = "{{unsubscribe_url}}"
	PlaceholderPreferences = "{{preferences_url}}"

	sentinelEmail       = "x0personal0email0x@example.invalid"
	sentinelUnsubscribe = "https://x0personal0unsubscribe0x.invalid/"
	sentinelPreferences = "https://x0personal0preferences0x.invalid/"
)

// render renders d into the newsletter layout once, with the personal parts as
// placeholders; archiveURL is the campaign's public page, if any.
func (s *Campaigns) render(d campaignDraft, archiveURL string) (html, text string, err error) {
	r, err := s.cfg.Notifier.RenderNewsletter(notify.NewsletterData{
		Subject: d.subject, Preheader: d.preheader,
		BodyHTML: htmltemplate.HTML(markdown.HTML(d.body)), BodyText: d.body,
		Audience: "a mailing list or working group",
		Email:    sentinelEmail, UnsubscribeURL: sentinelUnsubscribe, PreferencesURL: sentinelPreferences,
		ArchiveURL: archiveURL,
	})
	if err != nil {
		return "", "", err
	}
	fill := strings.NewReplacer(sentinelEmail, PlaceholderEmail, sentinelUnsubscribe, PlaceholderUnsubscribe, sentinelPreferences, PlaceholderPreferences)
	return fill.Replace(r.HTML), fill.Replace(r.Text), nil
}

var placeholderRE = regexp.MustCompile(`\{\{([A-Za-z0-9_.-]*)\}\}`)

// authorPlaceholders are the placeholders a campaign's author may write.
var authorPlaceholders = map[string]bool{"email": true, "name": true}

// unknownPlaceholder returns the first {{key}} of s that is not one the author may write.
func unknownPlaceholder(s string) string {
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		if !authorPlaceholders[m[1]] {
			return m[1]
		}
	}
	return ""
}

// Personalise fills a campaign body's placeholders with values (HTML-escaped when html):
// what the outbox does per delivery, and what the preview and the archive do with neutral
// values.
func Personalise(body string, html bool, values map[string]string) string {
	pairs := make([]string, 0, 2*len(values))
	for k, v := range values {
		if html {
			v = htmltemplate.HTMLEscapeString(v)
		}
		pairs = append(pairs, "{{"+k+"}}", v)
	}
	return strings.NewReplacer(pairs...).Replace(body)
}
