package placement

import (
	"context"
	"errors"
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	entplacement "github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/predicate"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/calendar"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/privacy"
)

// PrivacyDomain is the placements' part in data-subject requests: the person's placements
// as a trainee, with their report and evaluation.
type PrivacyDomain struct {
	// Service tells the host centre when an erasure cancels a placement there (Erase
	// refuses to cancel one without it). Exports and the record of processing need none.
	Service *Service
}

// Name implements privacy.Domain.
func (PrivacyDomain) Name() string { return "placements" }

// Entities implements privacy.Domain.
func (PrivacyDomain) Entities() []string { return []string{"Placement"} }

// Categories implements privacy.Domain.
func (PrivacyDomain) Categories() []privacy.Category {
	return []privacy.Category{
		{Name: "Placements", Data: "host centre, dates, status, the trainee's report and the host's evaluation",
			Purpose: "organise and complete observer placements", LegalBasis: "Art. 6(1)(b) contract (placement)",
			Retention: "with the call's records; on erasure the placement stays as an anonymised row (centre, slot, dates, status: the call's counts and the slot's capacity rest on it) without the report, the evaluation or the status reason, and an offer not yet completed is cancelled; the person's name and address in other placements' text are replaced by \"[erased]\"", Recipients: "the host centre's coordinators, staff"},
	}
}

// PlacementsExport is placements.json.
type PlacementsExport struct {
	Placements []*ent.Placement `json:"placements"`
}

// Export implements privacy.Domain.
func (PrivacyDomain) Export(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Part, error) {
	ps, err := c.Placement.Query().Where(entplacement.TraineeID(p.ID)).
		Order(ent.Asc(entplacement.FieldStartDate), ent.Asc(entplacement.FieldID)).All(ctx)
	if err != nil {
		return privacy.Part{}, fmt.Errorf("placements: %w", err)
	}
	return privacy.Part{Data: PlacementsExport{Placements: ps}}, nil
}

// Erase implements privacy.Domain. Placements are anonymised, not deleted: the call's
// counts, the slot's taken places and the match runs refer to them, and the trainee edge
// leads to the anonymised account. The trainee's report, the host's evaluation and the
// status reason are blanked; a placement still OFFERED, ACCEPTED or CONFIRMED is
// CANCELLED so that the place counts as free again, and the host centre's coordinators
// are told in the erasure's transaction (placement_update, kind erased: the centre, the
// dates and the call, never the trainee's name; a confirmed placement's calendar entry is
// cancelled), and the waiting list is woken to offer the place. The erased address gets
// nothing. The evaluations the person wrote as a host are about the trainees, and stay;
// the person's name and address inside other placements' report, evaluation or status
// reason are replaced by privacy.ErasedText. (Match runs' frozen input and pins hold
// application and slot ids only; the reasons of the overrides copied into them are
// redacted by the programme domain.)
func (d PrivacyDomain) Erase(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Erased, error) {
	ps, err := c.Placement.Query().Where(entplacement.TraineeID(p.ID)).All(ctx)
	if err != nil {
		return privacy.Erased{}, fmt.Errorf("placements: %w", err)
	}
	var out privacy.Erased
	for _, pl := range ps {
		u := c.Placement.UpdateOneID(pl.ID).SetReport("").SetEvaluation("").SetStatusReason("")
		held := false
		switch pl.Status {
		case entplacement.StatusCONFIRMED:
			u.AddSequence(1)
			fallthrough
		case entplacement.StatusOFFERED, entplacement.StatusACCEPTED:
			u.SetStatus(entplacement.StatusCANCELLED).ClearProposedStart().ClearProposedEnd()
			held = true
		}
		if held && d.Service == nil {
			return out, errors.New("placement: erasing a held placement needs the placement service (PrivacyDomain.Service) to tell the host")
		}
		got, err := u.Save(ctx)
		if err != nil {
			return out, fmt.Errorf("anonymise a placement: %w", err)
		}
		out.Rows++
		if held {
			if err := d.Service.tellHostErased(ctx, c, got, pl.Status == entplacement.StatusCONFIRMED); err != nil {
				return out, err
			}
		}
	}
	// Other trainees' placements keep their text, which may name the person (a host
	// coordinator in a report, a colleague in a status reason).
	values, err := privacy.PersonValues(ctx, c, p)
	if err != nil {
		return out, err
	}
	others, err := c.Placement.Query().Where(privacy.Naming[predicate.Placement](values,
		entplacement.FieldStatusReason, entplacement.FieldReport, entplacement.FieldEvaluation)).All(ctx)
	if err != nil {
		return out, fmt.Errorf("placements naming the person: %w", err)
	}
	for _, pl := range others {
		reason, c1 := privacy.Redact(pl.StatusReason, values)
		report, c2 := privacy.Redact(pl.Report, values)
		evaluation, c3 := privacy.Redact(pl.Evaluation, values)
		if !c1 && !c2 && !c3 {
			continue
		}
		if err := c.Placement.UpdateOneID(pl.ID).SetStatusReason(reason).SetReport(report).SetEvaluation(evaluation).Exec(ctx); err != nil {
			return out, fmt.Errorf("redact a placement: %w", err)
		}
		out.Rows++
	}
	return out, nil
}

// tellHostErased tells the current coordinators of p's centre that p (just cancelled by an
// erasure) is cancelled, without naming the trainee, with a calendar cancellation when it
// was confirmed, and wakes the waiting list after the commit. ctx reads as the system.
func (s *Service) tellHostErased(ctx context.Context, tx *ent.Client, p *ent.Placement, wasConfirmed bool) error {
	l, err := s.loadAs(ctx, tx, p)
	if err != nil {
		return err
	}
	var ics []byte
	if wasConfirmed {
		ev := s.event(l)
		// The entry keeps its UID and sequence; the trainee is neither named nor invited.
		ev.Summary = "Observership at " + l.centre.Name
		ev.Attendees = ev.Attendees[1:]
		if ics, err = calendar.Cancel(ev); err != nil {
			return err
		}
	}
	day := func(d vocab.Date) string { return d.Time().Format("Monday 2 January 2006") }
	for _, to := range l.coords {
		data := notify.PlacementData{
			Kind: notify.PlacementErased, Name: to.Name, CentreName: l.centre.Name, City: l.centre.City,
			CallTitle: l.c.Title, Start: day(p.StartDate), End: day(p.EndDate),
		}
		key := fmt.Sprintf("placement:%s:%s:%d:%s", p.ID, notify.PlacementErased, p.Sequence, to.ID)
		if err := s.cfg.Notifier.Placement(ctx, tx, notify.Recipient{Email: to.Email, Name: to.Name, Suppressed: to.Disabled}, data, ics, key); err != nil {
			return err
		}
	}
	s.wakeAfterCommit(ctx)
	return nil
}
