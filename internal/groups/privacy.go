package groups

import (
	"context"
	"fmt"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/conflictofinterestdeclaration"
	"github.com/gocart-coalition/coalition/ent/meeting"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/predicate"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/ent/workinggroup"
	"github.com/gocart-coalition/coalition/internal/privacy"
)

// PrivacyDomain is the working groups' part in data-subject requests: memberships,
// conflict-of-interest declarations and the meetings the person was invited to or attended
// (without the other people's names).
type PrivacyDomain struct{}

// Name implements privacy.Domain.
func (PrivacyDomain) Name() string { return "working-groups" }

// Entities implements privacy.Domain.
func (PrivacyDomain) Entities() []string {
	return []string{"Membership", "ConflictOfInterestDeclaration", "Meeting"}
}

// Categories implements privacy.Domain.
func (PrivacyDomain) Categories() []privacy.Category {
	return []privacy.Category{
		{Name: "Working-group membership", Data: "group, role, organisation represented, term, invitation answer, meetings invited to and attended",
			Purpose: "run the coalition's working groups and their meetings", LegalBasis: "Art. 6(1)(f) legitimate interest (coalition governance)",
			Retention: "while the group exists; on erasure the memberships are deleted, the person leaves the meetings' invited and attendee lists, and their name and address inside meetings' titles, agendas and minutes and in other members' end reasons are replaced by \"[erased]\" (the minutes keep their content)", Recipients: "the group's current members (names and roles)"},
		{Name: "Conflict-of-interest declarations", Data: "declared interests and the day declared",
			Purpose: "transparency of the groups' and statements' work", LegalBasis: "Art. 6(1)(f) legitimate interest (integrity of position statements)",
			Retention: "while the group exists; deleted on erasure (a published statement keeps its own frozen copy, as published: archival interest)", Recipients: "the person's current co-members"},
	}
}

// MeetingExport is one meeting in working-groups.json.
type MeetingExport struct {
	ID       pulid.ID  `json:"id"`
	GroupID  pulid.ID  `json:"group_id"`
	Title    string    `json:"title"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	Invited  bool      `json:"invited"`
	Attended bool      `json:"attended"`
}

// GroupsExport is working-groups.json.
type GroupsExport struct {
	Memberships  []*ent.Membership                    `json:"memberships"`
	Declarations []*ent.ConflictOfInterestDeclaration `json:"declarations"`
	Meetings     []MeetingExport                      `json:"meetings"`
}

// Export implements privacy.Domain.
func (PrivacyDomain) Export(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Part, error) {
	var out GroupsExport
	var err error
	if out.Memberships, err = c.Membership.Query().Where(membership.UserID(p.ID)).WithGroup().
		Order(ent.Asc(membership.FieldCreatedAt), ent.Asc(membership.FieldID)).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("memberships: %w", err)
	}
	if out.Declarations, err = c.ConflictOfInterestDeclaration.Query().
		Where(conflictofinterestdeclaration.UserID(p.ID)).
		Order(ent.Asc(conflictofinterestdeclaration.FieldDeclaredOn), ent.Asc(conflictofinterestdeclaration.FieldID)).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("declarations: %w", err)
	}
	me := user.ID(p.ID)
	ms, err := c.Meeting.Query().
		Where(meeting.Or(meeting.HasInviteesWith(me), meeting.HasAttendeesWith(me))).
		Order(ent.Asc(meeting.FieldStartsAt), ent.Asc(meeting.FieldID)).All(ctx)
	if err != nil {
		return privacy.Part{}, fmt.Errorf("meetings: %w", err)
	}
	attended, err := c.Meeting.Query().Where(meeting.HasAttendeesWith(me)).IDs(ctx)
	if err != nil {
		return privacy.Part{}, fmt.Errorf("meetings attended: %w", err)
	}
	invited, err := c.Meeting.Query().Where(meeting.HasInviteesWith(me)).IDs(ctx)
	if err != nil {
		return privacy.Part{}, fmt.Errorf("meetings invited: %w", err)
	}
	in := func(ids []pulid.ID, id pulid.ID) bool {
		for _, x := range ids {
			if x == id {
				return true
			}
		}
		return false
	}
	out.Meetings = []MeetingExport{}
	for _, m := range ms {
		out.Meetings = append(out.Meetings, MeetingExport{ID: m.ID, GroupID: m.GroupID, Title: m.Title, StartsAt: m.StartsAt, EndsAt: m.EndsAt,
			Invited: in(invited, m.ID), Attended: in(attended, m.ID)})
	}
	return privacy.Part{Data: out}, nil
}

// Erase implements privacy.Domain. The person's memberships (every role, past ones too)
// and conflict-of-interest declarations are deleted: a published statement keeps the
// declarations it was published with as its own frozen copy (see the statements domain).
// Meetings keep their content but no longer list the person among the invited or the
// attendees, and the person's name and address inside a meeting's title, agenda,
// minutes, location or cancellation reason, a group's purpose, or the end reason of
// someone else's membership, are replaced by privacy.ErasedText (minutes keep what was
// decided, not who the erased person was).
func (PrivacyDomain) Erase(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Erased, error) {
	var out privacy.Erased
	values, err := privacy.PersonValues(ctx, c, p)
	if err != nil {
		return out, err
	}
	n, err := c.Membership.Delete().Where(membership.UserID(p.ID)).Exec(ctx)
	if err != nil {
		return out, fmt.Errorf("delete memberships: %w", err)
	}
	out.Rows += n
	if n, err = c.ConflictOfInterestDeclaration.Delete().Where(conflictofinterestdeclaration.UserID(p.ID)).Exec(ctx); err != nil {
		return out, fmt.Errorf("delete declarations: %w", err)
	}
	out.Rows += n
	me := user.ID(p.ID)
	if n, err = c.Meeting.Update().Where(meeting.HasAttendeesWith(me)).RemoveAttendeeIDs(p.ID).Save(ctx); err != nil {
		return out, fmt.Errorf("meetings attended: %w", err)
	}
	out.Rows += n
	if n, err = c.Meeting.Update().Where(meeting.HasInviteesWith(me)).RemoveInviteeIDs(p.ID).Save(ctx); err != nil {
		return out, fmt.Errorf("meetings invited: %w", err)
	}
	out.Rows += n
	ms, err := c.Meeting.Query().Where(privacy.Naming[predicate.Meeting](values, meeting.FieldTitle, meeting.FieldAgenda,
		meeting.FieldMinutes, meeting.FieldLocation, meeting.FieldCancelReason)).All(ctx)
	if err != nil {
		return out, fmt.Errorf("meetings naming the person: %w", err)
	}
	for _, m := range ms {
		title, t := privacy.Redact(m.Title, values)
		agenda, a := privacy.Redact(m.Agenda, values)
		minutes, mi := privacy.Redact(m.Minutes, values)
		location, l := privacy.Redact(m.Location, values)
		reason, r := privacy.Redact(m.CancelReason, values)
		if !t && !a && !mi && !l && !r {
			continue
		}
		if err := c.Meeting.UpdateOneID(m.ID).SetTitle(title).SetAgenda(agenda).SetMinutes(minutes).
			SetLocation(location).SetCancelReason(reason).Exec(ctx); err != nil {
			return out, fmt.Errorf("redact a meeting: %w", err)
		}
		out.Rows++
	}
	gs, err := c.WorkingGroup.Query().Where(privacy.Naming[predicate.WorkingGroup](values, workinggroup.FieldPurpose)).All(ctx)
	if err != nil {
		return out, fmt.Errorf("groups naming the person: %w", err)
	}
	for _, g := range gs {
		purpose, changed := privacy.Redact(g.Purpose, values)
		if !changed {
			continue
		}
		if err := c.WorkingGroup.UpdateOneID(g.ID).SetPurpose(purpose).Exec(ctx); err != nil {
			return out, fmt.Errorf("redact a group: %w", err)
		}
		out.Rows++
	}
	// Other people's memberships ended early keep their end reason, which staff wrote and
	// which may name the person ("replaced by Marek Novák").
	others, err := c.Membership.Query().Where(privacy.Naming[predicate.Membership](values, membership.FieldEndReason)).All(ctx)
	if err != nil {
		return out, fmt.Errorf("memberships naming the person: %w", err)
	}
	for _, m := range others {
		reason, changed := privacy.Redact(m.EndReason, values)
		if !changed {
			continue
		}
		if err := c.Membership.UpdateOneID(m.ID).SetEndReason(reason).Exec(ctx); err != nil {
			return out, fmt.Errorf("redact a membership's end reason: %w", err)
		}
		out.Rows++
	}
	return out, nil
}
