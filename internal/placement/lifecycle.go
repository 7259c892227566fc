package placement

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/hostcentre"
	"github.com/gocart-coalition/coalition/ent/hostranking"
	"github.com/gocart-coalition/coalition/ent/hostslot"
	"github.com/gocart-coalition/coalition/ent/matchrun"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/predicate"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/calendar"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/export"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// JobName is the hourly job that keeps placements moving (Maintain).
const JobName = "placement.maintain"

// ReminderDays are the days before a confirmed placement starts when its trainee and host
// are reminded.
var ReminderDays = []int{14, 2}

// holding are the statuses that hold a place in a slot.
var holding = []placement.Status{placement.StatusOFFERED, placement.StatusACCEPTED, placement.StatusCONFIRMED}

// loaded is a placement with what its emails need.
type loaded struct {
	p      *ent.Placement
	c      *ent.Call
	slot   *ent.HostSlot
	centre *ent.HostCentre
	coords []*ent.User
	t      *ent.User
	loc    *time.Location
}

// load reads a placement as the caller (privacy decides: NOT_FOUND when they may not see
// it), and what hangs off it (call, slot, centre, coordinators, trainee) as facts: the
// emails and the rules need them, whoever acts.
func (s *Service) load(ctx context.Context, tx *ent.Client, id pulid.ID) (*loaded, error) {
	p, err := tx.Placement.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid(apperr.CodeNotFound, "No such placement.", check.Path("id")...)
	}
	if err != nil {
		return nil, fmt.Errorf("load placement %s: %w", id, err)
	}
	return s.loadAs(viewer.ForFacts(ctx), tx, p)
}

// loadAs loads what hangs off p with sys, a reading context of the system (viewer.ForFacts,
// or the job's system viewer).
func (s *Service) loadAs(sys context.Context, tx *ent.Client, p *ent.Placement) (*loaded, error) {
	l := &loaded{p: p}
	var err error
	if l.c, err = tx.Call.Get(sys, p.CallID); err != nil {
		return nil, fmt.Errorf("load call: %w", err)
	}
	if l.slot, err = tx.HostSlot.Get(sys, p.SlotID); err != nil {
		return nil, fmt.Errorf("load slot: %w", err)
	}
	if l.centre, err = tx.HostCentre.Get(sys, p.HostCentreID); err != nil {
		return nil, fmt.Errorf("load centre: %w", err)
	}
	if l.coords, err = l.centre.QueryCoordinators().Where(user.Disabled(false)).Order(user.ByID()).All(sys); err != nil {
		return nil, fmt.Errorf("load coordinators: %w", err)
	}
	// Only those holding the role act for the centre and hear about its placements.
	l.coords = slices.DeleteFunc(l.coords, func(u *ent.User) bool { return !access.HearsForCentre(u.Roles) })
	if l.t, err = tx.User.Get(sys, p.TraineeID); err != nil {
		return nil, fmt.Errorf("load trainee: %w", err)
	}
	if l.loc, err = time.LoadLocation(l.c.TimeZone); err != nil {
		return nil, fmt.Errorf("call zone: %w", err)
	}
	return l, nil
}

// facts are the facts of p that need no query, now.
func (s *Service) facts(p *ent.Placement) Facts {
	return Facts{Now: s.cfg.Now(), OfferDeadline: p.OfferDeadline, EndDate: p.EndDate, DatesProposed: p.ProposedStart != nil}
}

// parties are who the placement concerns, for the rules of internal/access.
func (l *loaded) parties() access.PlacementParties {
	return access.PlacementParties{TraineeID: string(l.p.TraineeID), IsCoordinator: programme.Among(l.coords)}
}

// may refuses the caller unless can allows them on l (FORBIDDEN; the caller could read the
// placement, so NOT_FOUND would be wrong).
func may(ctx context.Context, l *loaded, can func(viewer.Viewer, access.PlacementParties) bool, refusal string) error {
	if !can(viewer.FromContext(ctx), l.parties()) {
		return apperr.New(apperr.Forbidden, "%s", refusal)
	}
	return nil
}

// setPlacement applies change to p as the caller, conditional on the status read (and on
// the further predicates given): a placement changed meanwhile is a lost race (CONFLICT).
// It returns the placement as updated.
func setPlacement(ctx context.Context, tx *ent.Client, p *ent.Placement, what string, change func(*ent.PlacementUpdateOne), where ...predicate.Placement) (*ent.Placement, error) {
	u := tx.Placement.UpdateOne(p).Where(append([]predicate.Placement{placement.StatusEQ(p.Status)}, where...)...)
	change(u)
	got, err := u.Save(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.LostRace("placement")
	}
	if err != nil {
		return nil, fmt.Errorf("%s placement %s: %w", what, p.ID, err)
	}
	return got, nil
}

// lockSlot locks a slot's row on PostgreSQL (SQLite has one writer), so that counting its
// held places and taking one happen as one step: a slot is never overbooked. ctx reads as
// the system (viewer.ForFacts, or a job's viewer): the lock is a fact, not a read for the
// caller.
func (s *Service) lockSlot(ctx context.Context, tx *ent.Client, id pulid.ID) error {
	_, err := db.LockRows(s.cfg.Dialect, tx.HostSlot.Query().Where(hostslot.ID(id)), hostslot.Table).Only(ctx)
	return err
}

// Accept accepts an offer as its trainee, before its deadline, while the slot has a
// place: a slot never holds more accepted or confirmed placements than its capacity,
// however many trainees accept at once. With the call's one-placement rule, a trainee
// holds one accepted placement per call. The host's coordinators are asked to confirm.
// User errors: NOT_FOUND; INVALID_STATE (not an offer, someone else's, the slot full,
// another placement held); EXPIRED (the deadline passed).
func (s *Service) Accept(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Placement, error) {
	l, err := s.load(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := may(ctx, l, access.CanAnswerOffer, "only the trainee can accept an offer"); err != nil {
		return nil, err
	}
	facts := viewer.ForFacts(ctx)
	if err := s.lockSlot(facts, tx, l.p.SlotID); err != nil {
		return nil, fmt.Errorf("lock slot: %w", err)
	}
	sys := facts
	p, err := tx.Placement.Get(sys, id) // again, under the lock
	if err != nil {
		return nil, fmt.Errorf("reload placement: %w", err)
	}
	f := s.facts(p)
	if _, err := Next(p.Status, EventAccept, f); err != nil {
		return nil, apperr.OnField(err, check.Path("id")...)
	}
	taken, err := tx.Placement.Query().Where(placement.SlotID(p.SlotID), placement.StatusIn(placement.StatusACCEPTED, placement.StatusCONFIRMED)).Count(sys)
	if err != nil {
		return nil, fmt.Errorf("count places: %w", err)
	}
	f.SlotFull = taken >= l.slot.Capacity
	if l.c.OnePlacementPerTrainee {
		f.HoldsOther, err = tx.Placement.Query().Where(placement.CallID(p.CallID), placement.TraineeID(p.TraineeID), placement.IDNEQ(p.ID),
			placement.StatusIn(placement.StatusACCEPTED, placement.StatusCONFIRMED)).Exist(sys)
		if err != nil {
			return nil, fmt.Errorf("check other placements: %w", err)
		}
	}
	to, err := Next(p.Status, EventAccept, f)
	if err != nil {
		return nil, apperr.OnField(err, check.Path("id")...)
	}
	if l.p, err = setPlacement(ctx, tx, p, "accept", func(u *ent.PlacementUpdateOne) { u.SetStatus(to).SetAcceptedAt(s.cfg.Now().UTC()) }); err != nil {
		return nil, err
	}
	for _, u := range l.coords {
		if err := s.mailPlacement(ctx, tx, l, u, notify.PlacementAccepted, ""); err != nil {
			return nil, err
		}
	}
	return l.p, nil
}

// Decline declines an offer, or gives up an accepted placement before it starts, as its
// trainee, with a reason; the host's coordinators are told and the place goes to the
// waiting list. User errors: NOT_FOUND, INVALID_STATE, REQUIRED/TOO_LONG (reason).
func (s *Service) Decline(ctx context.Context, tx *ent.Client, id pulid.ID, reason string) (*ent.Placement, error) {
	l, err := s.load(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := may(ctx, l, access.CanAnswerOffer, "only the trainee can decline a placement"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	reason = check.RequiredText(&errs, reason, 500, "The reason", "Say why, briefly; the host reads it.", check.Path("reason"))
	to, err := Next(l.p.Status, EventDecline, s.facts(l.p))
	if err != nil {
		errs.AddRefusal(err, check.Path("id")...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s.end(ctx, tx, l, to, reason, notify.PlacementDeclined)
}

// Cancel cancels a placement that is held (offered, accepted or confirmed), with a
// reason: staff or a coordinator of the centre. A confirmed placement's calendar entries
// are cancelled (METHOD:CANCEL); the place goes to the waiting list.
func (s *Service) Cancel(ctx context.Context, tx *ent.Client, id pulid.ID, reason string) (*ent.Placement, error) {
	l, err := s.load(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := may(ctx, l, access.CanCancelPlacement, "only the host centre's coordinators and coalition staff can cancel a placement"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	reason = check.RequiredText(&errs, reason, 500, "The reason", "Say why; the trainee reads it.", check.Path("reason"))
	to, err := Next(l.p.Status, EventCancel, s.facts(l.p))
	if err != nil {
		errs.AddRefusal(err, check.Path("id")...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s.end(ctx, tx, l, to, reason, notify.PlacementCancelled)
}

// end moves a held placement to a final status, tells the trainee and the coordinators
// (with a calendar cancellation when it was confirmed), and wakes the waiting list.
func (s *Service) end(ctx context.Context, tx *ent.Client, l *loaded, to placement.Status, reason string, kind notify.PlacementKind) (*ent.Placement, error) {
	wasConfirmed := l.p.Status == placement.StatusCONFIRMED
	wasHeld := l.p.Status != placement.StatusOFFERED
	p, err := setPlacement(ctx, tx, l.p, "end", func(u *ent.PlacementUpdateOne) {
		u.SetStatus(to).SetStatusReason(reason).ClearProposedStart().ClearProposedEnd()
		if wasConfirmed {
			u.AddSequence(1)
		}
	})
	if err != nil {
		return nil, err
	}
	l.p = p
	var ics []byte
	if wasConfirmed {
		if ics, err = calendar.Cancel(s.event(l)); err != nil {
			return nil, err
		}
	}
	recipients := append([]*ent.User{l.t}, l.coords...)
	for _, r := range recipients {
		if r.ID != l.t.ID && !wasHeld && to == placement.StatusDECLINED {
			// An offer declined: the host only learns through the waiting list's next offer.
			continue
		}
		if err := s.mailPlacementICS(ctx, tx, l, r, kind, reason, ics); err != nil {
			return nil, err
		}
	}
	s.wakeAfterCommit(ctx)
	return p, nil
}

// Confirm confirms an accepted placement: a coordinator of the centre or staff. The
// trainee and the coordinators get a calendar invitation for the placement period
// (METHOD:REQUEST, UID <placement id>@<domain>).
func (s *Service) Confirm(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Placement, error) {
	l, err := s.load(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := may(ctx, l, access.CanConfirmPlacement, "only the host centre's coordinators and coalition staff can confirm a placement"); err != nil {
		return nil, err
	}
	to, err := Next(l.p.Status, EventConfirm, s.facts(l.p))
	if err != nil {
		return nil, apperr.OnField(err, check.Path("id")...)
	}
	if l.p, err = setPlacement(ctx, tx, l.p, "confirm", func(u *ent.PlacementUpdateOne) { u.SetStatus(to).SetConfirmedAt(s.cfg.Now().UTC()) }); err != nil {
		return nil, err
	}
	ics, err := calendar.Request(s.event(l))
	if err != nil {
		return nil, err
	}
	for _, r := range append([]*ent.User{l.t}, l.coords...) {
		if err := s.mailPlacementICS(ctx, tx, l, r, notify.PlacementConfirmed, "", ics); err != nil {
			return nil, err
		}
	}
	return l.p, nil
}

// ProposeDates proposes other dates for an accepted or confirmed placement: a coordinator
// of the centre. The new block starts on a Monday inside the call's placement window and
// keeps the slot's length. The trainee answers with AnswerDateChange.
func (s *Service) ProposeDates(ctx context.Context, tx *ent.Client, id pulid.ID, start vocab.Date) (*ent.Placement, error) {
	l, err := s.load(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := may(ctx, l, access.CanProposeDates, "only the host centre's coordinators can propose other dates"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	end := start.AddDays(7*l.slot.Weeks - 3)
	_, refused := Next(l.p.Status, EventProposeDates, s.facts(l.p))
	switch {
	case refused != nil:
		errs.AddRefusal(refused, check.Path("id")...)
	case start.Validate() != nil:
		errs.Add(apperr.CodeInvalid, "Give the first day as YYYY-MM-DD.", check.Path("startDate")...)
	case start.Time().Weekday() != time.Monday:
		errs.Add(apperr.CodeInvalid, "A placement starts on a Monday.", check.Path("startDate")...)
	case start < l.c.PlacementStart || end > l.c.PlacementEnd:
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("The new dates (%s to %s) must lie within the placement window, %s to %s.", start, end, l.c.PlacementStart, l.c.PlacementEnd), check.Path("startDate")...)
	case start == l.p.StartDate:
		errs.Add(apperr.CodeInvalid, "These are the placement's dates already.", check.Path("startDate")...)
	case start <= vocab.Today(s.cfg.Now()):
		errs.Add(apperr.CodeInvalid, "The new dates must be in the future.", check.Path("startDate")...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if l.p, err = setPlacement(ctx, tx, l.p, "propose dates of", func(u *ent.PlacementUpdateOne) { u.SetProposedStart(start).SetProposedEnd(end) }); err != nil {
		return nil, err
	}
	return l.p, s.mailPlacement(ctx, tx, l, l.t, notify.PlacementDatesProposed, "")
}

// AnswerDateChange accepts or declines the dates the host proposed, as the trainee. On
// acceptance the placement moves; a confirmed placement's calendar entries are updated
// (same UID, SEQUENCE + 1) for the trainee and the coordinators.
func (s *Service) AnswerDateChange(ctx context.Context, tx *ent.Client, id pulid.ID, accept bool) (*ent.Placement, error) {
	l, err := s.load(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := may(ctx, l, access.CanAnswerDateChange, "only the trainee answers a change of dates"); err != nil {
		return nil, err
	}
	if _, err := Next(l.p.Status, EventAnswerDates, s.facts(l.p)); err != nil {
		return nil, apperr.OnField(err, check.Path("id")...)
	}
	// Conditional on the proposal read, so two answers at once give one answer.
	proposed := l.p
	if l.p, err = setPlacement(ctx, tx, proposed, "answer the date change of", func(u *ent.PlacementUpdateOne) {
		u.ClearProposedStart().ClearProposedEnd()
		if accept {
			u.SetStartDate(*proposed.ProposedStart).SetEndDate(*proposed.ProposedEnd).AddSequence(1)
		}
	}, placement.ProposedStartEQ(*proposed.ProposedStart)); err != nil {
		return nil, err
	}
	kind := notify.PlacementDatesDeclined
	var ics []byte
	if accept {
		kind = notify.PlacementDatesAccepted
		if l.p.Status == placement.StatusCONFIRMED {
			if ics, err = calendar.Request(s.event(l)); err != nil {
				return nil, err
			}
		}
	}
	for _, r := range append([]*ent.User{l.t}, l.coords...) {
		if err := s.mailPlacementICS(ctx, tx, l, r, kind, "", ics); err != nil {
			return nil, err
		}
	}
	return l.p, nil
}

// SubmitReport stores the trainee's report on a completed placement (1–10,000 characters).
func (s *Service) SubmitReport(ctx context.Context, tx *ent.Client, id pulid.ID, text string, evaluation bool) (*ent.Placement, error) {
	l, err := s.load(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if evaluation {
		err = may(ctx, l, access.CanEvaluatePlacement, "only the host centre's coordinators evaluate a placement")
	} else {
		err = may(ctx, l, access.CanReportOnPlacement, "only the trainee reports on a placement")
	}
	if err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	text = check.RequiredText(&errs, text, 10000, "The text", "Write the text.", check.Path("text"))
	if _, err := Next(l.p.Status, EventReport, s.facts(l.p)); err != nil {
		errs.AddRefusal(err, check.Path("id")...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	u := tx.Placement.UpdateOne(l.p)
	if evaluation {
		u.SetEvaluation(text)
	} else {
		u.SetReport(text)
	}
	return u.Save(ctx)
}

// Report returns the trainee's report to those access.CanReadPlacementReport allows (the
// trainee and staff); nil to anyone else.
func (s *Service) Report(ctx context.Context, p *ent.Placement) *string {
	if access.CanReadPlacementReport(viewer.FromContext(ctx), access.PlacementParties{TraineeID: string(p.TraineeID)}) {
		return &p.Report
	}
	return nil
}

// Evaluation returns the host's evaluation to those access.CanReadPlacementEvaluation
// allows (the centre's coordinators and staff); nil to anyone else. Whether the caller
// coordinates the centre is a fact read as the system.
func (s *Service) Evaluation(ctx context.Context, p *ent.Placement) (*string, error) {
	out, err := s.Evaluations(ctx, []*ent.Placement{p})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// Evaluations is Evaluation for several placements (one per placement, in order), in at
// most one statement: the centres among them the caller coordinates (a fact).
func (s *Service) Evaluations(ctx context.Context, ps []*ent.Placement) ([]*string, error) {
	out := make([]*string, len(ps))
	v := viewer.FromContext(ctx)
	var mine []pulid.ID
	if v.HasRole(viewer.RoleHostCoordinator) && len(ps) > 0 {
		centres := make([]pulid.ID, 0, len(ps))
		for _, p := range ps {
			centres = append(centres, p.HostCentreID)
		}
		ids, err := s.cfg.Client.HostCentre.Query().
			Where(hostcentre.IDIn(centres...), hostcentre.HasCoordinatorsWith(user.ID(pulid.ID(v.UserID)))).IDs(viewer.ForFacts(ctx))
		if err != nil {
			return nil, err
		}
		mine = ids
	}
	for i, p := range ps {
		parties := access.PlacementParties{TraineeID: string(p.TraineeID), IsCoordinator: func(id string) bool {
			return id == v.UserID && slices.Contains(mine, p.HostCentreID)
		}}
		if access.CanReadPlacementEvaluation(v, parties) {
			out[i] = &p.Evaluation
		}
	}
	return out, nil
}

// event is a placement's calendar entry: all day, from its first day to the day after its
// last, at the centre.
func (s *Service) event(l *loaded) calendar.Event {
	start, end := l.p.StartDate.Time(), l.p.EndDate.Time().AddDate(0, 0, 1)
	attendees := []mail.Address{{Name: l.t.Name, Email: l.t.Email}}
	for _, u := range l.coords {
		attendees = append(attendees, mail.Address{Name: u.Name, Email: u.Email})
	}
	return calendar.Event{
		UID: string(l.p.ID) + "@" + s.cfg.CalendarDomain, Sequence: l.p.Sequence,
		Summary:     fmt.Sprintf("Observership: %s at %s", l.t.Name, l.centre.Name),
		Description: fmt.Sprintf("CAR-T observership (%s), %s to %s.", l.c.Title, l.p.StartDate, l.p.EndDate),
		Location:    l.centre.Name + ", " + l.centre.City, Start: start, End: end, AllDay: true,
		Organizer: s.cfg.Organizer, Attendees: attendees, Stamp: s.cfg.Now().UTC(),
	}
}

func (s *Service) mailPlacement(ctx context.Context, tx *ent.Client, l *loaded, to *ent.User, kind notify.PlacementKind, reason string) error {
	return s.mailPlacementICS(ctx, tx, l, to, kind, reason, nil)
}

// mailPlacementICS queues a placement email to one person, with a calendar object when
// given. The dedupe key names the placement, the kind, its version and the recipient.
func (s *Service) mailPlacementICS(ctx context.Context, tx *ent.Client, l *loaded, to *ent.User, kind notify.PlacementKind, reason string, ics []byte) error {
	day := func(d vocab.Date) string { return d.Time().Format("Monday 2 January 2006") }
	data := notify.PlacementData{
		Kind: kind, Name: to.Name, ToTrainee: to.ID == l.t.ID, TraineeName: l.t.Name, CentreName: l.centre.Name, City: l.centre.City,
		CallTitle: l.c.Title, Start: day(l.p.StartDate), End: day(l.p.EndDate), Reason: reason,
		Deadline: l.p.OfferDeadline.In(l.loc).Format("Monday 2 January 2006, 15:04") + " (" + l.c.TimeZone + ")",
	}
	if l.p.ProposedStart != nil {
		data.ProposedStart, data.ProposedEnd = day(*l.p.ProposedStart), day(*l.p.ProposedEnd)
	}
	// The buttons of emails that ask for an action: sign-in links that also do it.
	var err error
	switch {
	case kind == notify.PlacementWaitlistOffer && data.ToTrainee:
		data.AcceptURL, data.DeclineURL, err = s.offerLinks(ctx, tx, to, l.p)
	case kind == notify.PlacementDatesProposed && data.ToTrainee:
		var links []string
		if links, err = s.issueLinks(ctx, tx, to, l.p, LinkTTL, IntentAcceptDates, IntentDeclineDates); err == nil {
			data.AcceptURL, data.DeclineURL = links[0], links[1]
		}
	case kind == notify.PlacementAccepted && !data.ToTrainee:
		var links []string
		if links, err = s.issueLinks(ctx, tx, to, l.p, LinkTTL, IntentConfirm); err == nil {
			data.ConfirmURL = links[0]
		}
	}
	if err != nil {
		return err
	}
	key := fmt.Sprintf("placement:%s:%s:%d:%s:%s", l.p.ID, kind, l.p.Sequence, l.p.UpdatedAt.UTC().Format(time.RFC3339Nano), to.ID)
	return s.cfg.Notifier.Placement(ctx, tx, notify.Recipient{Email: to.Email, Name: to.Name, Suppressed: to.Disabled}, data, ics, key)
}

func (s *Service) wakeAfterCommit(ctx context.Context) {
	if s.cfg.Wake == nil {
		return
	}
	if tx := ent.TxFromContext(ctx); tx != nil {
		tx.OnCommit(func(next ent.Committer) ent.Committer {
			return ent.CommitFunc(func(ctx context.Context, t *ent.Tx) error {
				err := next.Commit(ctx, t)
				if err == nil {
					s.cfg.Wake()
				}
				return err
			})
		})
		return
	}
	s.cfg.Wake()
}

// Maintain is the hourly job: offers past their deadline expire (the trainee is told);
// free places in the slots of matched calls go to the waiting list (one offer per free
// place, to the applicant the host ranked highest among those who listed the slot and hold
// no placement in the call, with a fresh deadline); confirmed placements whose last day has
// passed are completed (the trainee is asked for a report, the coordinators for an
// evaluation); confirmed placements get reminders 14 and 2 days before they start. Every
// email has a dedupe key, and free places are counted under the slot's lock, so running it
// again or on two processes never sends twice or offers a place twice. It returns how many
// placements it changed or offered.
func (s *Service) Maintain(ctx context.Context) (int, error) {
	sys := viewer.NewSystemContext(ctx)
	n := 0
	now := s.cfg.Now()
	today := vocab.Today(now)
	client := s.cfg.Client

	expired, err := client.Placement.Query().Where(placement.StatusEQ(placement.StatusOFFERED), placement.OfferDeadlineLTE(now)).Order(placement.ByID()).All(sys)
	if err != nil {
		return n, fmt.Errorf("find expired offers: %w", err)
	}
	for _, p := range expired {
		to, err := Next(p.Status, EventExpire, s.facts(p))
		if err != nil {
			continue // cannot happen: the query selects what the table allows
		}
		if err := s.inTx(sys, func(sys context.Context, tx *ent.Client) error {
			c, err := tx.Placement.Update().Where(placement.ID(p.ID), placement.StatusEQ(p.Status)).
				SetStatus(to).SetStatusReason("Not answered by the deadline.").Save(sys)
			if err != nil || c == 0 {
				return err
			}
			p, err := tx.Placement.Get(sys, p.ID)
			if err != nil {
				return err
			}
			l, err := s.loadAs(sys, tx, p)
			if err != nil {
				return err
			}
			n++
			return s.mailPlacement(sys, tx, l, l.t, notify.PlacementExpired, "")
		}); err != nil {
			return n, err
		}
	}

	slots, err := client.HostSlot.Query().Where(hostslot.StatusEQ(hostslot.StatusAPPROVED), hostslot.HasCallWith(call.StatusEQ(call.StatusMATCHED))).Order(hostslot.ByID()).All(sys)
	if err != nil {
		return n, fmt.Errorf("find slots: %w", err)
	}
	for _, sl := range slots {
		if err := s.inTx(sys, func(sys context.Context, tx *ent.Client) error {
			offered, err := s.offerFreePlaces(sys, tx, sl)
			n += offered
			return err
		}); err != nil {
			return n, err
		}
	}

	done, err := client.Placement.Query().Where(placement.StatusEQ(placement.StatusCONFIRMED), placement.EndDateLT(today)).Order(placement.ByID()).All(sys)
	if err != nil {
		return n, fmt.Errorf("find completed placements: %w", err)
	}
	for _, p := range done {
		to, err := Next(p.Status, EventComplete, s.facts(p))
		if err != nil {
			continue // cannot happen: the query selects what the table allows
		}
		if err := s.inTx(sys, func(sys context.Context, tx *ent.Client) error {
			// Conditional: another process that completed it first wins, and this one
			// sends nothing.
			p, err := tx.Placement.UpdateOne(p).Where(placement.StatusEQ(p.Status)).SetStatus(to).Save(sys)
			if ent.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			l, err := s.loadAs(sys, tx, p)
			if err != nil {
				return err
			}
			n++
			if err := s.mailPlacement(sys, tx, l, l.t, notify.PlacementCompleted, ""); err != nil {
				return err
			}
			for _, u := range l.coords {
				if err := s.mailPlacement(sys, tx, l, u, notify.PlacementCompleted, ""); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return n, err
		}
	}

	for _, days := range ReminderDays {
		soon, err := client.Placement.Query().Where(placement.StatusEQ(placement.StatusCONFIRMED),
			placement.StartDateGT(today), placement.StartDateLTE(today.AddDays(days))).Order(placement.ByID()).All(sys)
		if err != nil {
			return n, fmt.Errorf("find placements starting soon: %w", err)
		}
		for _, p := range soon {
			if days == ReminderDays[0] && p.StartDate <= today.AddDays(ReminderDays[1]) {
				continue // the nearer reminder covers it
			}
			l, err := s.loadAs(sys, client, p)
			if err != nil {
				return n, err
			}
			day := func(d vocab.Date) string { return d.Time().Format("Monday 2 January 2006") }
			// One transaction for the placement's reminders (the dedupe keys keep reruns quiet).
			err = s.inTx(sys, func(sys context.Context, tx *ent.Client) error {
				for _, u := range append([]*ent.User{l.t}, l.coords...) {
					key := fmt.Sprintf("placement_reminder:%s:%s:%d:%s", p.ID, p.StartDate, days, u.ID)
					err := s.cfg.Notifier.Placement(sys, tx, notify.Recipient{Email: u.Email, Name: u.Name, Suppressed: u.Disabled}, notify.PlacementData{
						Kind: notify.PlacementReminder, Name: u.Name, ToTrainee: u.ID == l.t.ID, TraineeName: l.t.Name, CentreName: l.centre.Name,
						City: l.centre.City, CallTitle: l.c.Title, Start: day(p.StartDate), End: day(p.EndDate), Days: days,
					}, nil, key)
					if err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// offerFreePlaces offers each free place of a slot to the best waiting applicant; it
// returns how many offers it made.
func (s *Service) offerFreePlaces(sys context.Context, tx *ent.Client, sl *ent.HostSlot) (int, error) {
	if err := s.lockSlot(sys, tx, sl.ID); err != nil {
		return 0, err
	}
	c, err := tx.Call.Get(sys, sl.CallID)
	if err != nil {
		return 0, err
	}
	if sl.StartDate < vocab.Today(s.cfg.Now()).AddDays(c.MinLeadDays) {
		return 0, nil // too late to offer
	}
	held, err := tx.Placement.Query().Where(placement.SlotID(sl.ID), placement.StatusIn(holding...)).Count(sys)
	if err != nil {
		return 0, err
	}
	free := sl.Capacity - held
	if free <= 0 {
		return 0, nil
	}
	run, err := tx.MatchRun.Query().Where(matchrun.CallID(c.ID), matchrun.PublishedAtNotNil()).WithInput().Only(sys)
	if err != nil {
		return 0, err
	}
	ranking, err := tx.HostRanking.Query().Where(hostranking.CallID(c.ID), hostranking.HostCentreID(sl.HostCentreID)).Order(hostranking.ByRank()).All(sys)
	if err != nil {
		return 0, err
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return 0, err
	}
	offered := 0
	for _, r := range ranking {
		if offered == free {
			break
		}
		app := string(r.ApplicationID)
		if !slices.Contains(run.Edges.Input.Instance.Trainees[app], string(sl.ID)) {
			continue // did not list this slot (or could not attend it)
		}
		a, err := tx.Application.Get(sys, r.ApplicationID)
		if err != nil || a.Status != application.StatusELIGIBLE {
			continue
		}
		busy, err := tx.Placement.Query().Where(placement.CallID(c.ID), placement.ApplicationID(a.ID),
			placement.Or(placement.StatusIn(holding...), placement.SlotID(sl.ID))).Exist(sys)
		if err != nil {
			return offered, err
		}
		if busy {
			continue // holds a placement, or had this one already
		}
		deadline := AddHoursExcludingWeekends(s.cfg.Now(), c.OfferResponseHours, loc)
		p, err := tx.Placement.Create().SetCallID(c.ID).SetSlotID(sl.ID).SetHostCentreID(sl.HostCentreID).SetApplicationID(a.ID).
			SetTraineeID(a.TraineeID).SetStartDate(sl.StartDate).SetEndDate(sl.EndDate).SetOfferDeadline(deadline).SetFromWaitlist(true).SetRunID(run.ID).Save(sys)
		if err != nil {
			return offered, err
		}
		l, err := s.loadAs(sys, tx, p)
		if err != nil {
			return offered, err
		}
		if err := s.mailPlacement(sys, tx, l, l.t, notify.PlacementWaitlistOffer, ""); err != nil {
			return offered, err
		}
		offered++
	}
	return offered, nil
}

// inTx runs f in a transaction of the service client (db.InTx).
func (s *Service) inTx(ctx context.Context, f func(ctx context.Context, tx *ent.Client) error) error {
	return db.InTx(ctx, s.cfg.Client, f)
}

// PlacementsCSV writes a call's placements as CSV (staff only): a header row, one row per
// placement ordered by id, stable columns.
func (s *Service) PlacementsCSV(ctx context.Context, c *ent.Call) (string, error) {
	if err := access.Require(ctx, access.CanRunMatch, "export placements"); err != nil {
		return "", err
	}
	ps, err := s.cfg.Client.Placement.Query().Where(placement.CallID(c.ID)).WithTrainee().WithHostCentre().Order(placement.ByID()).All(ctx)
	if err != nil {
		return "", err
	}
	rows := make([][]string, 0, len(ps))
	for _, p := range ps {
		rows = append(rows, []string{string(p.ID), string(p.Status), p.StatusReason, string(p.TraineeID), p.Edges.Trainee.Name, p.Edges.Trainee.Email,
			string(p.HostCentreID), p.Edges.HostCentre.Name, string(p.SlotID), string(p.StartDate), string(p.EndDate),
			export.Time(&p.OfferDeadline), fmt.Sprint(p.FromWaitlist), export.Time(p.AcceptedAt), export.Time(p.ConfirmedAt)})
	}
	return export.CSV([]string{"placement_id", "status", "status_reason", "trainee_id", "trainee_name", "trainee_email",
		"host_centre_id", "host_centre", "slot_id", "start_date", "end_date", "offer_deadline", "from_waitlist", "accepted_at", "confirmed_at"}, rows)
}

// PlacementsICS is a call's accepted and confirmed placements as one calendar feed
// (METHOD:PUBLISH) for the coalition's shared calendar (staff only).
func (s *Service) PlacementsICS(ctx context.Context, c *ent.Call) (string, error) {
	if err := access.Require(ctx, access.CanRunMatch, "export placements"); err != nil {
		return "", err
	}
	ps, err := s.cfg.Client.Placement.Query().Where(placement.CallID(c.ID), placement.StatusIn(placement.StatusACCEPTED, placement.StatusCONFIRMED, placement.StatusCOMPLETED)).
		Order(placement.ByStartDate(), placement.ByID()).All(ctx)
	if err != nil {
		return "", err
	}
	events := make([]calendar.Event, 0, len(ps))
	for _, p := range ps {
		l, err := s.loadAs(viewer.ForFacts(ctx), s.cfg.Client, p)
		if err != nil {
			return "", err
		}
		ev := s.event(l)
		ev.Attendees = nil // a shared feed names no addresses
		events = append(events, ev)
	}
	b, err := calendar.Feed("Observerships: "+c.Title, events)
	return string(b), err
}
