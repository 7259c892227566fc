package consent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/consentevidence"
	"github.com/gocart-coalition/coalition/ent/consenttext"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Limits of the texts staff write.
const (
	maxBody   = 5000
	maxReason = 1000
)

// PersonalPurposes are the purposes a person gives and withdraws through giveConsent and
// withdrawConsent (NEWSLETTER consent is given per list, by subscribing).
var PersonalPurposes = []vocab.ConsentPurpose{vocab.ConsentDirectoryProfile, vocab.ConsentHostContact}

// Config is what the service needs.
type Config struct {
	// Client reads outside mutations (texts, a person's consents).
	Client *ent.Client
	Now    func() time.Time
	Logger *slog.Logger
}

// Service publishes consent texts and records consent.
//
// Write methods take the mutation's transactional client and return, besides internal
// errors: apperr.UserErrors for input the caller can fix (nothing is written then),
// UNAUTHENTICATED for an anonymous caller and FORBIDDEN for a caller without the right.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Client == nil || cfg.Now == nil {
		return nil, errors.New("consent: Client and Now are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg, log: cfg.Logger.With("op", "consent")}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// Version is how a record names the text version it was given on, e.g. "v2".
func Version(t *ent.ConsentText) string { return "v" + strconv.Itoa(t.Version) }

// MaxVersionsListed bounds Texts.
const MaxVersionsListed = 100

// Texts returns the published versions of purpose's consent text, newest first, at most
// MaxVersionsListed (public).
func (s *Service) Texts(ctx context.Context, purpose vocab.ConsentPurpose) ([]*ent.ConsentText, error) {
	return s.cfg.Client.ConsentText.Query().Where(consenttext.PurposeEQ(purpose)).Order(ent.Desc(consenttext.FieldVersion)).
		Limit(MaxVersionsListed).All(ctx)
}

// Current returns the newest published text of purpose, or nil when staff have published none.
func Current(ctx context.Context, c *ent.Client, purpose vocab.ConsentPurpose) (*ent.ConsentText, error) {
	t, err := c.ConsentText.Query().Where(consenttext.PurposeEQ(purpose)).Order(ent.Desc(consenttext.FieldVersion)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read current consent text: %w", err)
	}
	return t, nil
}

// PublishInput is a new version of a purpose's consent text.
type PublishInput struct {
	Purpose vocab.ConsentPurpose
	Body    string
	// RequiresReconsent: consents given on earlier versions stop counting, and people are
	// asked again (not for NEWSLETTER: a new newsletter text applies to new subscriptions;
	// existing ones end by unsubscribing).
	RequiresReconsent bool
}

// Publish adds the next version of in.Purpose's text (staff). A version that requires
// re-consent lapses every earlier version in the same transaction.
func (s *Service) Publish(ctx context.Context, tx *ent.Client, in PublishInput) (*ent.ConsentText, error) {
	if err := access.Require(ctx, access.CanManageConsentTexts, "publish consent texts"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	if !in.Purpose.Valid() {
		errs.Add(apperr.CodeInvalid, "Unknown purpose.", check.Path("purpose")...)
	}
	body := check.RequiredText(&errs, in.Body, maxBody, "The consent text", "Write the consent text.", check.Path("body"))
	if in.RequiresReconsent && in.Purpose == vocab.ConsentNewsletter {
		errs.Add(apperr.CodeInvalid, "Newsletter consent is not asked again: a new text applies to new subscriptions.", check.Path("requiresReconsent")...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	prev, err := Current(ctx, tx, in.Purpose)
	if err != nil {
		return nil, err
	}
	next := 1
	if prev != nil {
		next = prev.Version + 1
	}
	if in.RequiresReconsent {
		if _, err := tx.ConsentText.Update().Where(consenttext.PurposeEQ(in.Purpose), consenttext.LapsedAtIsNil()).SetLapsedAt(now).Save(ctx); err != nil {
			return nil, fmt.Errorf("lapse earlier versions: %w", err)
		}
	}
	t, err := tx.ConsentText.Create().SetPurpose(in.Purpose).SetVersion(next).SetBody(body).SetRequiresReconsent(in.RequiresReconsent).
		SetPublishedAt(now).SetPublishedByID(pulid.ID(viewer.FromContext(ctx).UserID)).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, apperr.LostRace("consent text")
	}
	if err != nil {
		return nil, fmt.Errorf("publish consent text: %w", err)
	}
	return t, nil
}

// personal checks that purpose is one a person gives and withdraws themself.
func personal(errs *apperr.UserErrors, purpose vocab.ConsentPurpose) {
	switch {
	case !purpose.Valid():
		errs.Add(apperr.CodeInvalid, "Unknown purpose.", check.Path("purpose")...)
	case !slices.Contains(PersonalPurposes, purpose):
		errs.Add(apperr.CodeInvalid, "Newsletter consent is given by subscribing to a list and withdrawn by unsubscribing.", check.Path("purpose")...)
	}
}

// currentText returns purpose's newest text, or a user error when there is none.
func currentText(ctx context.Context, tx *ent.Client, purpose vocab.ConsentPurpose) (*ent.ConsentText, error) {
	t, err := Current(ctx, tx, purpose)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, apperr.Invalid(apperr.CodeNotFound, "No consent text is published for this purpose yet.", check.Path("purpose")...)
	}
	return t, nil
}

// Give records the signed-in person's consent to purpose on its current text (source API,
// with the request's client address). Giving again while a consent on the current text
// stands changes nothing and returns it.
func (s *Service) Give(ctx context.Context, tx *ent.Client, purpose vocab.ConsentPurpose) (*ent.ConsentEvidence, error) {
	if err := access.Require(ctx, access.CanManageOwnConsent, "give consent"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	personal(&errs, purpose)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	t, err := currentText(ctx, tx, purpose)
	if err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	me := pulid.ID(v.UserID)
	if ev, err := tx.ConsentEvidence.Query().Where(consentevidence.UserID(me), consentevidence.PurposeEQ(purpose),
		consentevidence.WithdrawnAtIsNil(), consentevidence.ConsentTextID(t.ID)).First(ctx); err == nil {
		return ev, nil
	} else if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("read consent: %w", err)
	}
	return s.record(ctx, tx, me, t, consentevidence.EventGIVEN, consentevidence.SourceAPI, audit.RequestFrom(ctx).IP, v.UserID, "")
}

// RecordInput is consent a person gave elsewhere (a paper form, an email), recorded by staff.
type RecordInput struct {
	UserID  pulid.ID
	Purpose vocab.ConsentPurpose
	// Reason says how the consent was given; required.
	Reason string
}

// Record records in.UserID's consent to in.Purpose on its current text for them (staff,
// source STAFF, with the reason).
func (s *Service) Record(ctx context.Context, tx *ent.Client, in RecordInput) (*ent.ConsentEvidence, error) {
	if err := access.Require(ctx, access.CanRecordConsent, "record consent for someone else"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	personal(&errs, in.Purpose)
	reason := check.RequiredText(&errs, in.Reason, maxReason, "The reason", "Say how and when the person gave their consent.", check.Path("reason"))
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if ok, err := tx.User.Query().Where(user.ID(in.UserID)).Exist(ctx); err != nil {
		return nil, fmt.Errorf("read user: %w", err)
	} else if !ok {
		return nil, apperr.Invalid(apperr.CodeNotFound, "There is no such person.", check.Path("userId")...)
	}
	t, err := currentText(ctx, tx, in.Purpose)
	if err != nil {
		return nil, err
	}
	return s.record(ctx, tx, in.UserID, t, consentevidence.EventATTESTATION, consentevidence.SourceSTAFF, "", viewer.FromContext(ctx).UserID, reason)
}

func (s *Service) record(ctx context.Context, tx *ent.Client, person pulid.ID, t *ent.ConsentText, event consentevidence.Event, source consentevidence.Source, ip, actor, note string) (*ent.ConsentEvidence, error) {
	ev, err := tx.ConsentEvidence.Create().SetPurpose(t.Purpose).SetUserID(person).SetConsentTextID(t.ID).
		SetConsentText(t.Body).SetConsentVersion(Version(t)).SetEvent(event).SetSource(source).SetAt(s.now()).
		SetIP(clip(ip, 64)).SetActorID(actor).SetNote(note).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("record consent: %w", err)
	}
	return ev, nil
}

// Withdraw withdraws the signed-in person's consent to purpose (every standing record of
// it, including ones on lapsed versions) and returns how many records it withdrew. A
// person without a standing consent gets a user error.
func (s *Service) Withdraw(ctx context.Context, tx *ent.Client, purpose vocab.ConsentPurpose) (int, error) {
	if err := access.Require(ctx, access.CanManageOwnConsent, "withdraw consent"); err != nil {
		return 0, err
	}
	var errs apperr.UserErrors
	personal(&errs, purpose)
	if err := errs.Err(); err != nil {
		return 0, err
	}
	n, err := tx.ConsentEvidence.Update().Where(consentevidence.UserID(pulid.ID(viewer.FromContext(ctx).UserID)), consentevidence.PurposeEQ(purpose),
		consentevidence.WithdrawnAtIsNil()).SetWithdrawnAt(s.now()).Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("withdraw consent: %w", err)
	}
	if n == 0 {
		return 0, apperr.Invalid(apperr.CodeInvalidState, "You have not given this consent.", check.Path("purpose")...)
	}
	return n, nil
}

// WithdrawForInput is a person's withdrawal of a consent made elsewhere (a letter, a phone
// call), recorded by staff.
type WithdrawForInput struct {
	UserID  pulid.ID
	Purpose vocab.ConsentPurpose
	// Reason says how and when the person asked; required, kept in the audit trail.
	Reason string
}

// WithdrawFor withdraws in.UserID's consent to in.Purpose on their behalf (staff,
// access.CanWithdrawConsentFor): every standing record of it, as Withdraw does for the
// person themself, with an audit event (consent.withdraw_for, about the person) that
// keeps the reason. It returns how many records it withdrew. User errors: NOT_FOUND for
// an unknown person, REQUIRED or TOO_LONG for the reason, INVALID for a purpose that is
// not a personal one, INVALID_STATE when the person has no standing consent to withdraw.
func (s *Service) WithdrawFor(ctx context.Context, tx *ent.Client, in WithdrawForInput) (int, error) {
	if err := access.Require(ctx, access.CanWithdrawConsentFor, "withdraw consent on someone's behalf"); err != nil {
		return 0, err
	}
	var errs apperr.UserErrors
	personal(&errs, in.Purpose)
	reason := check.RequiredText(&errs, in.Reason, maxReason, "The reason", "Say how and when the person asked to withdraw their consent.", check.Path("reason"))
	if err := errs.Err(); err != nil {
		return 0, err
	}
	if ok, err := tx.User.Query().Where(user.ID(in.UserID)).Exist(ctx); err != nil {
		return 0, fmt.Errorf("read user: %w", err)
	} else if !ok {
		return 0, apperr.Invalid(apperr.CodeNotFound, "There is no such person.", check.Path("userId")...)
	}
	n, err := tx.ConsentEvidence.Update().Where(consentevidence.UserID(in.UserID), consentevidence.PurposeEQ(in.Purpose),
		consentevidence.WithdrawnAtIsNil()).SetWithdrawnAt(s.now()).Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("withdraw consent: %w", err)
	}
	if n == 0 {
		return 0, apperr.Invalid(apperr.CodeInvalidState, "This person has no standing consent to this purpose.", check.Path("purpose")...)
	}
	if err := audit.Record(ctx, tx, s.now(), audit.Event{
		Action: "consent.withdraw_for", ObjectType: "User", ObjectID: string(in.UserID),
		Details: map[string]any{"purpose": string(in.Purpose), "records": n, "reason": reason},
	}); err != nil {
		return 0, err
	}
	return n, nil
}

// WithdrawSubscriptions withdraws the standing newsletter consent of the subscriptions ids
// (they were unsubscribed), as the viewer in ctx, at now.
func WithdrawSubscriptions(ctx context.Context, tx *ent.Client, now time.Time, ids ...pulid.ID) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.ConsentEvidence.Update().Where(consentevidence.SubscriptionIDIn(ids...), consentevidence.WithdrawnAtIsNil(),
		consentevidence.EventIn(consentevidence.EventSIGNUP, consentevidence.EventATTESTATION)).SetWithdrawnAt(now.UTC()).Save(ctx); err != nil {
		return fmt.Errorf("withdraw newsletter consent: %w", err)
	}
	return nil
}

// Status says where a person stands with a purpose.
type Status string

// The statuses of a person's consent.
const (
	// StatusGiven: a consent on a version that counts stands.
	StatusGiven Status = "GIVEN"
	// StatusPending: the person consented to a version that a later one (requiring
	// re-consent) replaced: they are asked again, and nothing that needs the consent is shown.
	StatusPending Status = "PENDING"
	// StatusWithdrawn: the person withdrew their consent.
	StatusWithdrawn Status = "WITHDRAWN"
	// StatusNotGiven: never given.
	StatusNotGiven Status = "NOT_GIVEN"
)

// State is a person's consent to one purpose.
type State struct {
	Purpose vocab.ConsentPurpose
	Status  Status
	// Text is the purpose's current text (nil until staff publish one).
	Text *ent.ConsentText
	// Record is the person's latest consent record for the purpose (nil if none).
	Record *ent.ConsentEvidence
}

// Mine returns the signed-in person's state for each personal purpose, in the order of
// PersonalPurposes, read as them.
func (s *Service) Mine(ctx context.Context) ([]State, error) {
	if err := access.Require(ctx, access.CanManageOwnConsent, "see your consents"); err != nil {
		return nil, err
	}
	me := pulid.ID(viewer.FromContext(ctx).UserID)
	records, err := s.cfg.Client.ConsentEvidence.Query().Where(consentevidence.UserID(me)).WithText().
		Order(ent.Desc(consentevidence.FieldAt), ent.Desc(consentevidence.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read consents: %w", err)
	}
	texts, err := s.cfg.Client.ConsentText.Query().Where(consenttext.PurposeIn(PersonalPurposes...), consenttext.LapsedAtIsNil()).
		Order(ent.Desc(consenttext.FieldVersion)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read consent texts: %w", err)
	}
	out := make([]State, 0, len(PersonalPurposes))
	for _, p := range PersonalPurposes {
		st := State{Purpose: p, Status: StatusNotGiven}
		for _, t := range texts {
			if t.Purpose == p {
				st.Text = t
				break
			}
		}
		for _, r := range records {
			if r.Purpose == p {
				st.Record = r
				break
			}
		}
		st.Status = statusOf(st.Record)
		out = append(out, st)
	}
	return out, nil
}

// statusOf is the status a person's latest record gives them (the same rule as
// access.CurrentConsent).
func statusOf(r *ent.ConsentEvidence) Status {
	switch {
	case r == nil:
		return StatusNotGiven
	case r.WithdrawnAt != nil:
		return StatusWithdrawn
	case r.Edges.Text == nil || r.Edges.Text.LapsedAt != nil:
		return StatusPending
	}
	return StatusGiven
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n]
	}
	return s
}
