package notify

import (
	"context"

	"github.com/gocart-coalition/coalition/ent"
)

// MembershipInvitationData is the data of the membership_invitation email.
type MembershipInvitationData struct {
	Name        string // the invitee's name; may be empty
	GroupName   string
	WorkPackage string // human-readable, e.g. "Standards of care"
	Role        string // human-readable, e.g. "Chair"
	// Organisation is the organisation the invitee would represent; may be empty.
	Organisation string
	TermStart    string // YYYY-MM-DD
	TermEnd      string // YYYY-MM-DD
	// AcceptURL and DeclineURL are sign-in links that also answer the invitation.
	AcceptURL  string
	DeclineURL string
	ValidDays  int
}

// MembershipAnsweredData is the data of the membership_answered email: the invitee's
// confirmation of their answer.
type MembershipAnsweredData struct {
	Name      string
	GroupName string
	Role      string
	TermStart string
	TermEnd   string
	Accepted  bool
}

// MembershipEndedData is the data of the membership_ended email, sent to the member when
// staff end a membership early.
type MembershipEndedData struct {
	Name      string
	GroupName string
	Role      string
	LastDay   string // YYYY-MM-DD
	Reason    string
}

// TermWarningData is the data of the membership_term_warning email, sent to the member,
// the group's chairs and staff when a term is about to end.
type TermWarningData struct {
	RecipientName string
	// Self says the recipient is the member whose term ends.
	Self       bool
	MemberName string
	GroupName  string
	Role       string
	TermEnd    string // YYYY-MM-DD, the term's last day
	DaysLeft   int
}

// MembershipInvitation queues the invitation with its accept and decline links.
func (n *Notifier) MembershipInvitation(ctx context.Context, client *ent.Client, to Recipient, data MembershipInvitationData, key string) error {
	return n.queue(ctx, client, "membership_invitation", to, data, key, nil)
}

// MembershipAnswered queues the invitee's confirmation of their answer.
func (n *Notifier) MembershipAnswered(ctx context.Context, client *ent.Client, to Recipient, data MembershipAnsweredData, key string) error {
	return n.queue(ctx, client, "membership_answered", to, data, key, nil)
}

// MembershipEnded queues the notice of an early end to the member.
func (n *Notifier) MembershipEnded(ctx context.Context, client *ent.Client, to Recipient, data MembershipEndedData, key string) error {
	return n.queue(ctx, client, "membership_ended", to, data, key, nil)
}

// TermWarning queues one warning that a term is about to end.
func (n *Notifier) TermWarning(ctx context.Context, client *ent.Client, to Recipient, data TermWarningData, key string) error {
	return n.queue(ctx, client, "membership_term_warning", to, data, key, nil)
}
