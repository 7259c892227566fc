package notify

import (
	"context"
	"strconv"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/schema/mailtype"
)

// ApplicationKind says what an application email is about.
type ApplicationKind string

// Kinds of application email, each sent to the trainee.
const (
	ApplicationSubmitted  ApplicationKind = "submitted"
	ApplicationEligible   ApplicationKind = "eligible"
	ApplicationIneligible ApplicationKind = "ineligible"
	ApplicationWithdrawn  ApplicationKind = "withdrawn"
)

// ApplicationData is the data of the application_status email.
type ApplicationData struct {
	Kind      ApplicationKind
	Name      string
	CallTitle string
	// Deadline is the call's deadline as people read it, with its zone.
	Deadline string
	// Reason is why it is ineligible or was withdrawn; may be empty.
	Reason string
	// The summary of a submitted application.
	HomeCentre     string
	Role           string
	Years          int
	Languages      string
	PreferredWeeks int
	Availability   []string
	Hosts          []string // "1. name", first choice first
	Documents      []string
}

// Application queues an email to the trainee about their application.
func (n *Notifier) Application(ctx context.Context, client *ent.Client, to Recipient, data ApplicationData, key string) error {
	return n.queue(ctx, client, "application_status", to, data, key, nil)
}

// RefereeRequestData is the data of the referee_request email.
type RefereeRequestData struct {
	RefereeName, TraineeName, CallTitle string
	// URL is the single-use upload page.
	URL string
	// ValidUntil is the link's last day as people read it.
	ValidUntil string
	// Waived says the trainee waived the right to read the letter.
	Waived bool
}

// RefereeRequest queues the request for a letter to a referee.
func (n *Notifier) RefereeRequest(ctx context.Context, client *ent.Client, to Recipient, data RefereeRequestData, key string) error {
	return n.queue(ctx, client, "referee_request", to, data, key, nil)
}

// RefereeLetterData is the data of the referee_letter_received email to the trainee.
type RefereeLetterData struct {
	Name, RefereeName, CallTitle string
}

// RefereeLetterReceived tells the trainee a referee's letter arrived.
func (n *Notifier) RefereeLetterReceived(ctx context.Context, client *ent.Client, to Recipient, data RefereeLetterData, key string) error {
	return n.queue(ctx, client, "referee_letter_received", to, data, key, nil)
}

// DeadlineReminderData is the data of the application_deadline_reminder email.
type DeadlineReminderData struct {
	Name, CallTitle string
	// Deadline is the call's deadline as people read it, with its zone.
	Deadline string
	// Days is how many days are left (7 or 1).
	Days int
	// Missing lists what the draft still lacks.
	Missing []string
}

// DeadlineReminder reminds a trainee with an unsubmitted draft of the deadline.
func (n *Notifier) DeadlineReminder(ctx context.Context, client *ent.Client, to Recipient, data DeadlineReminderData, key string) error {
	return n.queue(ctx, client, "application_deadline_reminder", to, data, key, nil)
}

// MatchKind says what a match email is about.
type MatchKind string

// Kinds of match email.
const (
	// MatchOffered is the trainee's offer of a placement.
	MatchOffered MatchKind = "offered"
	// MatchHost tells a host centre's coordinator who is coming when.
	MatchHost MatchKind = "host"
	// MatchUnmatched tells a trainee they got no place, and why.
	MatchUnmatched MatchKind = "unmatched"
)

// MatchResultData is the data of the match_result email.
type MatchResultData struct {
	Kind       MatchKind
	Name       string
	CallTitle  string
	CentreName string
	City       string
	// Start and End are the placement's first and last days as people read them.
	Start, End string
	// Deadline is when the trainee must answer the offer, with its zone.
	Deadline string
	// Trainees (for a host): who is coming, with their home centre.
	Trainees []string
	// Reasons (for an unmatched trainee): why not, slot by slot.
	Reasons []string
	// AcceptURL and DeclineURL (for an offer) are sign-in links that also answer it.
	AcceptURL, DeclineURL string
}

// MatchResult queues an email about a published match.
func (n *Notifier) MatchResult(ctx context.Context, client *ent.Client, to Recipient, data MatchResultData, key string) error {
	return n.queue(ctx, client, "match_result", to, data, key, nil)
}

// MatchResults queues many match_result emails at once (publishing a match): the same
// emails and dedupe keys as MatchResult one by one, in a few INSERT statements.
func (n *Notifier) MatchResults(ctx context.Context, client *ent.Client, batch []Batched[MatchResultData]) error {
	p, err := n.PrepareMatchResults(batch)
	if err != nil {
		return err
	}
	return n.QueuePrepared(ctx, client, p)
}

// PrepareMatchResults renders the match_result emails of batch without queueing them
// (pure CPU, no database): a publication renders while it writes its placements, then
// queues them with QueuePrepared in its transaction. The emails share bodies
// (prepareShared): one per kind and number of listed trainees or reasons, each email
// carrying the recipient's name, the centre, dates, city, buttons' links, trainees or
// reasons as personal values; the call's title and the answer deadline, the same for the
// whole publication, are part of the body.
func (n *Notifier) PrepareMatchResults(batch []Batched[MatchResultData]) (*Prepared, error) {
	return prepareShared(n, "match_result", batch, splitMatchResult)
}

// splitMatchResult is the shape of a match_result email (splitter).
func splitMatchResult(d MatchResultData, value func(key, v string) string) MatchResultData {
	d.Name = value("name", d.Name)
	d.CentreName = value("centre", d.CentreName)
	d.City = value("city", d.City)
	d.Start = value("start", d.Start)
	d.End = value("end", d.End)
	d.AcceptURL = value("accept_url", d.AcceptURL)
	d.DeclineURL = value("decline_url", d.DeclineURL)
	list := func(prefix string, vs []string) []string {
		if vs == nil {
			return nil
		}
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = value(prefix+strconv.Itoa(i+1), v)
		}
		return out
	}
	d.Trainees = list("trainee_", d.Trainees)
	d.Reasons = list("reason_", d.Reasons)
	return d
}

// PlacementKind says what a placement email is about.
type PlacementKind string

// Kinds of placement email.
const (
	PlacementAccepted      PlacementKind = "accepted"       // to the coordinators: please confirm
	PlacementDeclined      PlacementKind = "declined"       // to the trainee (and coordinators if it was accepted)
	PlacementCancelled     PlacementKind = "cancelled"      // to the trainee and coordinators
	PlacementConfirmed     PlacementKind = "confirmed"      // to both, with the calendar invitation
	PlacementDatesProposed PlacementKind = "dates_proposed" // to the trainee
	PlacementDatesAccepted PlacementKind = "dates_accepted" // to both (calendar update when confirmed)
	PlacementDatesDeclined PlacementKind = "dates_declined" // to both
	PlacementExpired       PlacementKind = "expired"        // to the trainee
	PlacementCompleted     PlacementKind = "completed"      // report (trainee) or evaluation (coordinators) request
	PlacementReminder      PlacementKind = "reminder"       // 14 and 2 days before the start
	PlacementWaitlistOffer PlacementKind = "waitlist_offer" // to the trainee
	PlacementErased        PlacementKind = "erased"         // to the coordinators: cancelled by the trainee's erasure (the trainee is not named)
)

// PlacementData is the data of the placement_update email.
type PlacementData struct {
	Kind PlacementKind
	Name string
	// ToTrainee says the recipient is the trainee (else a host coordinator).
	ToTrainee   bool
	TraineeName string
	CentreName  string
	City        string
	CallTitle   string
	// Start and End are the placement's days as people read them; ProposedStart and
	// ProposedEnd the dates a host proposed.
	Start, End, ProposedStart, ProposedEnd string
	// Deadline is when an offer must be answered, with its zone.
	Deadline string
	Reason   string
	// Days is how many days are left, for a reminder.
	Days int
	// AcceptURL and DeclineURL are sign-in links that also answer an offer (waitlist_offer)
	// or a change of dates (dates_proposed); ConfirmURL one that confirms an accepted
	// placement (accepted, to a coordinator). Empty for the other kinds.
	AcceptURL, DeclineURL, ConfirmURL string
}

// Placement queues a placement email, with its calendar object (METHOD:REQUEST or CANCEL)
// when ics is not nil.
func (n *Notifier) Placement(ctx context.Context, client *ent.Client, to Recipient, data PlacementData, ics []byte, key string) error {
	var att []mailtype.Attachment
	if ics != nil {
		att = []mailtype.Attachment{{Filename: "placement.ics", ContentType: "text/calendar", Content: ics, Inline: true}}
	}
	return n.queue(ctx, client, "placement_update", to, data, key, att)
}

// CallDeadlineKind says which deadline of a call has passed.
type CallDeadlineKind string

// Kinds of call_deadline email, each sent to staff.
const (
	// CallApplicationsClosed: the application deadline passed and the call closed itself.
	CallApplicationsClosed CallDeadlineKind = "applications"
	// CallRankingClosed: the ranking deadline passed and host rankings no longer change.
	CallRankingClosed CallDeadlineKind = "ranking"
)

// CallDeadlineData is the data of the call_deadline email to staff.
type CallDeadlineData struct {
	Kind      CallDeadlineKind
	Name      string
	CallTitle string
	// Deadline is the deadline that passed, as people read it, with its zone.
	Deadline string
	// Submitted and Drafts count the applications submitted and left as drafts
	// (applications closed).
	Submitted, Drafts int
	// Ranked and Centres count the host centres that submitted a ranking, and those with
	// eligible applicants (ranking closed).
	Ranked, Centres int
}

// CallDeadline tells a staff member that a call's deadline passed and what comes next.
func (n *Notifier) CallDeadline(ctx context.Context, client *ent.Client, to Recipient, data CallDeadlineData, key string) error {
	return n.queue(ctx, client, "call_deadline", to, data, key, nil)
}

// RetentionWarningData is the data of the application_retention_warning email, sent for an
// application that was not placed (a placed one is kept whole).
type RetentionWarningData struct {
	Name, CallTitle string
	// Documents names the uploaded documents that go with it ("CV: cv.pdf").
	Documents []string
	// Letters is how many referee letters go.
	Letters int
	// On is the day of the deletion as people read it (YYYY-MM-DD, UTC).
	On string
}

// RetentionWarning tells a trainee, a month before, what of their application will be
// deleted and when, and how to get a copy first.
func (n *Notifier) RetentionWarning(ctx context.Context, client *ent.Client, to Recipient, data RetentionWarningData, key string) error {
	return n.queue(ctx, client, "application_retention_warning", to, data, key, nil)
}
