package programme

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/hostcentre"
	"github.com/gocart-coalition/coalition/ent/hostslot"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Limits of a slot.
const (
	maxSlotCapacity = 20
	maxSlotNoteLen  = 5000
)

// ProposeSlotInput is a centre's offer of a slot in a call.
type ProposeSlotInput struct {
	CallID, HostCentreID pulid.ID
	StartDate            vocab.Date
	Weeks, Capacity      int
	// Languages and FocusAreas default to the centre's when nil.
	Languages  []string
	FocusAreas []vocab.FocusArea
	Note       *string
}

// ProposeSlot offers a slot of a centre in a call, as PROPOSED; staff approve it. A
// coordinator of the centre or staff. UNAUTHENTICATED, FORBIDDEN for anyone else (a
// coordinator of another centre included). User errors: NOT_FOUND for the call or the
// centre; INVALID_STATE for a call that is not DRAFT or OPEN or a centre not accepting
// observers; INVALID for a start that is not a Monday, a length the call does not allow,
// a slot outside the placement window, a capacity outside 1–20, languages or focus areas
// that are not known, a note over 5,000 characters; TAKEN when it overlaps another slot of
// the centre in the call that is proposed or approved.
func (s *Service) ProposeSlot(ctx context.Context, tx *ent.Client, in ProposeSlotInput) (*ent.HostSlot, error) {
	if err := access.RequireSignedIn(ctx, "offer a slot"); err != nil {
		return nil, err
	}
	centre, err := tx.HostCentre.Query().Where(hostcentre.ID(in.HostCentreID)).WithCoordinators().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("host centre", check.Path("hostCentreId"))
	}
	if err != nil {
		return nil, fmt.Errorf("load host centre %s: %w", in.HostCentreID, err)
	}
	if err := access.RequireThat(ctx, access.CanOfferSlots(viewer.FromContext(ctx), Among(centre.Edges.Coordinators)),
		"offer a slot", "the centre's coordinators and coalition staff can offer its slots"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	// Read as the person: who may offer the centre's slots sees the call, drafts included.
	c, err := tx.Call.Get(ctx, in.CallID)
	switch {
	case ent.IsNotFound(err):
		errs.Add(apperr.CodeNotFound, "No such call.", check.Path("callId")...)
	case err != nil:
		return nil, fmt.Errorf("load call %s: %w", in.CallID, err)
	default:
		if _, err := NextCallStatus(c.Status, CallOfferSlot, CallFactsOf(c, s.cfg.Now())); err != nil {
			errs.AddRefusal(err, check.Path("callId")...)
		}
	}
	if !centre.AcceptingObservers {
		errs.Add(apperr.CodeInvalidState, "This centre is not accepting observers; turn that on in its profile first.", check.Path("hostCentreId")...)
	}
	var end vocab.Date
	switch {
	case in.StartDate.Validate() != nil:
		errs.Add(apperr.CodeInvalid, "Give the first day as YYYY-MM-DD.", check.Path("startDate")...)
	case in.StartDate.Time().Weekday() != time.Monday:
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("A slot starts on a Monday; %s is a %s.", in.StartDate, in.StartDate.Time().Weekday()), check.Path("startDate")...)
	case c != nil && !slices.Contains(c.PlacementWeeks, in.Weeks):
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("This call's placements last %s.", weeksText(c.PlacementWeeks)), check.Path("weeks")...)
	default:
		end = in.StartDate.AddDays(7*in.Weeks - 3) // the Friday of the last week
		if c != nil && (in.StartDate < c.PlacementStart || end > c.PlacementEnd) {
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("The slot (%s to %s) must lie within the placement window, %s to %s.",
				in.StartDate, end, c.PlacementStart, c.PlacementEnd), check.Path("startDate")...)
		}
	}
	if in.Capacity < 1 || in.Capacity > maxSlotCapacity {
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("A slot takes 1 to %d observers.", maxSlotCapacity), check.Path("capacity")...)
	}
	languages, areas := centre.Languages, centre.FocusAreas
	if in.Languages != nil {
		languages = check.Languages(&errs, in.Languages, check.Path("languages"))
	}
	if in.FocusAreas != nil {
		areas = check.FocusAreas(&errs, in.FocusAreas, check.Path("focusAreas"))
	}
	note := check.Text(&errs, deref(in.Note), maxSlotNoteLen, "The note", check.Path("note"))
	if len(errs) == 0 {
		// A fact (is the time taken?), read whoever's slot it is.
		other, err := tx.HostSlot.Query().
			Where(hostslot.HostCentreID(centre.ID), hostslot.CallID(c.ID),
				hostslot.StatusIn(hostslot.StatusPROPOSED, hostslot.StatusAPPROVED),
				hostslot.StartDateLTE(end), hostslot.EndDateGTE(in.StartDate)).
			First(viewer.ForFacts(ctx))
		switch {
		case err == nil:
			errs.Add(apperr.CodeTaken, fmt.Sprintf("The centre already offers a slot from %s to %s in this call.", other.StartDate, other.EndDate), check.Path("startDate")...)
		case !ent.IsNotFound(err):
			return nil, fmt.Errorf("check overlapping slots: %w", err)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	slot, err := tx.HostSlot.Create().
		SetCallID(c.ID).SetHostCentreID(centre.ID).SetStartDate(in.StartDate).SetEndDate(end).
		SetWeeks(in.Weeks).SetCapacity(in.Capacity).SetLanguages(languages).SetFocusAreas(areas).SetNote(note).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create slot: %w", err)
	}
	return slot, nil
}

// ApproveSlot approves a PROPOSED slot (staff) and tells the centre's coordinators.
func (s *Service) ApproveSlot(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.HostSlot, error) {
	return s.decideSlot(ctx, tx, id, hostslot.StatusAPPROVED, "")
}

// RejectSlot rejects a PROPOSED slot with a reason (staff) and tells the coordinators.
func (s *Service) RejectSlot(ctx context.Context, tx *ent.Client, id pulid.ID, reason string) (*ent.HostSlot, error) {
	return s.decideSlot(ctx, tx, id, hostslot.StatusREJECTED, reason)
}

func (s *Service) decideSlot(ctx context.Context, tx *ent.Client, id pulid.ID, to hostslot.Status, reason string) (*ent.HostSlot, error) {
	if err := access.Require(ctx, access.CanDecideSlots, "run calls"); err != nil {
		return nil, err
	}
	slot, err := tx.HostSlot.Query().Where(hostslot.ID(id)).WithCall().WithHostCentre().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("slot", check.Path("id"))
	}
	if err != nil {
		return nil, fmt.Errorf("load slot %s: %w", id, err)
	}
	var errs apperr.UserErrors
	if to == hostslot.StatusREJECTED {
		reason = check.RequiredText(&errs, reason, maxReasonLen, "The reason", "Say why the slot is rejected.", check.Path("reason"))
	}
	ev := SlotApprove
	if to == hostslot.StatusREJECTED {
		ev = SlotReject
	}
	if _, err := NextSlotStatus(slot.Status, ev, SlotFacts{CallStatus: slot.Edges.Call.Status}); err != nil {
		errs.AddRefusal(err, check.Path("id")...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	c, centre := slot.Edges.Call, slot.Edges.HostCentre
	slot, err = s.setSlotStatus(ctx, tx, slot, to, reason)
	if err != nil {
		return nil, err
	}
	// The recipients are facts of the email, never shown to the caller.
	coordinators, err := centre.QueryCoordinators().Where(user.Disabled(false)).Order(user.ByID()).All(viewer.ForFacts(ctx))
	if err != nil {
		return nil, fmt.Errorf("coordinators of %s: %w", centre.ID, err)
	}
	for _, u := range coordinators {
		if !access.HearsForCentre(u.Roles) {
			continue // the role was revoked: the centre's news is no longer theirs
		}
		err := s.cfg.Notifier.SlotDecision(ctx, tx, notify.Recipient{Email: u.Email, Name: u.Name}, notify.SlotDecisionData{
			Name: u.Name, CallTitle: c.Title, CentreName: centre.Name, StartDate: string(slot.StartDate), EndDate: string(slot.EndDate),
			Capacity: slot.Capacity, Approved: to == hostslot.StatusAPPROVED, Reason: reason, CallOpen: c.Status == call.StatusOPEN,
		}, fmt.Sprintf("slot_decision:%s:%s", slot.ID, u.ID))
		if err != nil {
			return nil, err
		}
	}
	return slot, nil
}

// WithdrawSlot withdraws a PROPOSED or APPROVED slot, with a reason, while nobody holds it:
// no placement in it is offered, accepted, confirmed or completed. (A withdrawal during
// RANKING changes the match's input, so a run computed before it cannot be published.) A coordinator of the centre (the update is narrowed to their
// centres: anyone else's is NOT_FOUND) or staff. User errors: INVALID_STATE, REQUIRED or
// TOO_LONG (the reason).
func (s *Service) WithdrawSlot(ctx context.Context, tx *ent.Client, id pulid.ID, reason string) (*ent.HostSlot, error) {
	if err := access.RequireSignedIn(ctx, "withdraw a slot"); err != nil {
		return nil, err
	}
	slot, err := tx.HostSlot.Query().Where(hostslot.ID(id)).WithCall().WithHostCentre(func(q *ent.HostCentreQuery) { q.WithCoordinators() }).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("slot", check.Path("id"))
	}
	if err != nil {
		return nil, fmt.Errorf("load slot %s: %w", id, err)
	}
	if err := access.RequireThat(ctx, access.CanOfferSlots(viewer.FromContext(ctx), Among(slot.Edges.HostCentre.Edges.Coordinators)),
		"withdraw a slot", "the centre's coordinators and coalition staff can withdraw its slots"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	reason = check.RequiredText(&errs, reason, maxReasonLen, "The reason", "Say why the slot is withdrawn.", check.Path("reason"))
	held, err := tx.Placement.Query().Where(placement.SlotID(slot.ID),
		placement.StatusIn(placement.StatusOFFERED, placement.StatusACCEPTED, placement.StatusCONFIRMED, placement.StatusCOMPLETED)).
		Exist(viewer.ForFacts(ctx)) // a fact: is a place in it held?
	if err != nil {
		return nil, fmt.Errorf("check placements of %s: %w", slot.ID, err)
	}
	to, err := NextSlotStatus(slot.Status, SlotWithdraw, SlotFacts{CallStatus: slot.Edges.Call.Status, Held: held})
	if err != nil {
		errs.AddRefusal(err, check.Path("id")...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s.setSlotStatus(ctx, tx, slot, to, reason)
}

// setSlotStatus moves slot, as read, to status to with a conditional update (WHERE status
// = the status read): of two changes at once, one wins and the other gets CONFLICT.
func (s *Service) setSlotStatus(ctx context.Context, tx *ent.Client, slot *ent.HostSlot, to hostslot.Status, reason string) (*ent.HostSlot, error) {
	out, err := tx.HostSlot.UpdateOne(slot).Where(hostslot.StatusEQ(slot.Status)).
		SetStatus(to).SetStatusReason(reason).Save(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.LostRace("slot")
	}
	if err != nil {
		return nil, fmt.Errorf("move slot %s to %s: %w", slot.ID, to, err)
	}
	return out, nil
}

// weeksText writes allowed lengths as people read them.
func weeksText(w []int) string {
	switch {
	case slices.Equal(w, []int{1}):
		return "1 week"
	case slices.Equal(w, []int{2}):
		return "2 weeks"
	default:
		return "1 or 2 weeks"
	}
}

// deref is the value of p, "" for nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
