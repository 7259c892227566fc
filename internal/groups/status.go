package groups

import (
	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/predicate"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
)

// Status is where a membership stands on a given day; the values match the GraphQL enum
// MembershipStatus.
type Status string

// Statuses of a membership.
const (
	StatusInvited  Status = "INVITED"
	StatusDeclined Status = "DECLINED"
	StatusUpcoming Status = "UPCOMING"
	StatusActive   Status = "ACTIVE"
	StatusEnded    Status = "ENDED"
)

// effectiveEnd is the last day of m: the day staff ended it early, or the term's end.
func effectiveEnd(m *ent.Membership) vocab.Date {
	if m.EndedOn != nil && *m.EndedOn < m.TermEnd {
		return *m.EndedOn
	}
	return m.TermEnd
}

// IsCurrent reports whether m is current on today: accepted, within its term and not
// ended early before today. It is the Go twin of access.CurrentMembership.
func IsCurrent(m *ent.Membership, today vocab.Date) bool {
	return m.Answer == membership.AnswerACCEPTED && m.TermStart <= today && today <= m.TermEnd &&
		(m.EndedOn == nil || today <= *m.EndedOn)
}

// StatusOn returns where m stands on today. It follows from the answer and the dates,
// never from a stored status, so a term that has ended is ENDED without anyone touching it.
func StatusOn(m *ent.Membership, today vocab.Date) Status {
	switch {
	case m.Answer == membership.AnswerPENDING:
		return StatusInvited
	case m.Answer == membership.AnswerDECLINED:
		return StatusDeclined
	case today < m.TermStart:
		return StatusUpcoming
	case IsCurrent(m, today):
		return StatusActive
	default:
		return StatusEnded
	}
}

// currentOn is the ent predicate of IsCurrent.
func currentOn(today vocab.Date) predicate.Membership {
	return membership.And(
		membership.AnswerEQ(membership.AnswerACCEPTED),
		membership.TermStartLTE(today),
		membership.TermEndGTE(today),
		membership.Or(membership.EndedOnIsNil(), membership.EndedOnGTE(today)),
	)
}

// overlapping is the predicate of memberships that count against a new term from start to
// end: not declined, and whose effective dates (an early end cuts the term) meet the term.
func overlapping(start, end vocab.Date) predicate.Membership {
	return membership.And(
		membership.AnswerNEQ(membership.AnswerDECLINED),
		membership.TermStartLTE(end),
		membership.Or(
			membership.And(membership.EndedOnIsNil(), membership.TermEndGTE(start)),
			membership.EndedOnGTE(start),
		),
	)
}

// roleNames are the roles as people read them.
var roleNames = map[membership.Role]string{
	membership.RoleCHAIR:       "Chair",
	membership.RoleCO_CHAIR:    "Co-chair",
	membership.RoleMEMBER:      "Member",
	membership.RoleOBSERVER:    "Observer",
	membership.RoleSECRETARIAT: "Secretariat",
}

// RoleName returns the role as people read it ("Co-chair").
func RoleName(r membership.Role) string {
	if n, ok := roleNames[r]; ok {
		return n
	}
	return string(r)
}
