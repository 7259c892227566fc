package notify

import (
	"context"
	htmltemplate "html/template"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/schema/mailtype"
)

// MeetingKind says what a meeting email is about.
type MeetingKind string

// Kinds of meeting email. Scheduled and updated carry a calendar request; cancelled and
// removed a cancellation.
const (
	MeetingScheduled MeetingKind = "scheduled"
	MeetingUpdated   MeetingKind = "updated"
	MeetingCancelled MeetingKind = "cancelled"
	// MeetingRemoved goes to someone who held the invitation but is no longer a member of
	// the group on the meeting's (new) day.
	MeetingRemoved MeetingKind = "removed"
)

// MeetingData is the data of the meeting_invitation and meeting_cancelled emails.
type MeetingData struct {
	Kind      MeetingKind
	Name      string // the recipient's name; may be empty
	GroupName string
	Title     string
	// When is the time in the meeting's zone, WhenUTC the same in UTC, both as people
	// read them ("Thursday 4 March 2027, 14:00–15:30 (Europe/Paris)").
	When, WhenUTC string
	Location      string // may be empty
	VideoURL      string // may be empty
	// Agenda is the Markdown as written (text part), AgendaHTML the same rendered and
	// sanitised (HTML part).
	Agenda     string
	AgendaHTML htmltemplate.HTML
	// Changes names what changed in an update ("time", "location", …).
	Changes []string
	// Reason is why a meeting was cancelled.
	Reason string
}

// Meeting queues a meeting email with its calendar object (ics, METHOD:REQUEST or
// METHOD:CANCEL) as invite.ics, also offered as the message's calendar alternative so mail
// clients show it as an invitation.
func (n *Notifier) Meeting(ctx context.Context, client *ent.Client, to Recipient, data MeetingData, ics []byte, key string) error {
	template := "meeting_invitation"
	if data.Kind == MeetingCancelled || data.Kind == MeetingRemoved {
		template = "meeting_cancelled"
	}
	return n.queue(ctx, client, template, to, data, key, []mailtype.Attachment{
		{Filename: "invite.ics", ContentType: "text/calendar", Content: ics, Inline: true},
	})
}

// DeclarationReminderData is the data of the declaration_reminder email: a member's
// conflict-of-interest declaration is due (RenewBy set) or was never made.
type DeclarationReminderData struct {
	Name string
	// LastDeclared is the day of the latest declaration, empty when there is none.
	LastDeclared string
	// RenewBy is the last day the latest declaration counts as current, empty when there is none.
	RenewBy string
	// Expired says RenewBy has passed.
	Expired bool
	// Groups are the working groups the person is a member of.
	Groups []string
}

// DeclarationReminder queues a reminder to declare conflicts of interest.
func (n *Notifier) DeclarationReminder(ctx context.Context, client *ent.Client, to Recipient, data DeclarationReminderData, key string) error {
	return n.queue(ctx, client, "declaration_reminder", to, data, key, nil)
}

// SlotDecisionData is the data of the slot_decision email to a centre's coordinators.
type SlotDecisionData struct {
	Name, CallTitle, CentreName string
	StartDate, EndDate          string
	Capacity                    int
	Approved                    bool
	// Reason is why staff rejected the slot.
	Reason string
	// CallOpen says the call is open, so an approved slot is public now.
	CallOpen bool
}

// SlotDecision queues the news that staff approved or rejected a slot.
func (n *Notifier) SlotDecision(ctx context.Context, client *ent.Client, to Recipient, data SlotDecisionData, key string) error {
	return n.queue(ctx, client, "slot_decision", to, data, key, nil)
}
