package calendar

import (
	"fmt"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/gocart-coalition/coalition/internal/mail"
)

// ProductID is the PRODID of every calendar object we write.
const ProductID = "-//European CAR-T Coalition//coalition//EN"

// Event is one calendar entry.
type Event struct {
	// UID identifies the entry across versions: the same for an event's request, its
	// updates and its cancellation (e.g. "mtg_01J…@coalition.example.org").
	UID string
	// Sequence is the version: 0 when first sent, higher for every change sent since.
	Sequence int
	Summary  string
	// Description is plain text.
	Description string
	Location    string
	// URL is a link for the event (e.g. the video call), optional.
	URL string
	// Start and End are instants; with AllDay they are dates (their year, month and day),
	// End exclusive: a placement from Monday 12 to Friday 23 April ends on Saturday 24.
	Start, End time.Time
	AllDay     bool
	// Organizer is who sends the invitation (the coalition's mail sender).
	Organizer mail.Address
	// Attendees are the people invited; in an emailed invitation, the recipient.
	Attendees []mail.Address
	// Stamp is when this version was written (DTSTAMP).
	Stamp time.Time
}

// Request returns the VCALENDAR with METHOD:REQUEST that invites to e or updates it.
func Request(e Event) ([]byte, error) { return write(e, ics.MethodRequest, ics.ObjectStatusConfirmed) }

// Cancel returns the VCALENDAR with METHOD:CANCEL that calls e off; e.Sequence must be
// higher than that of the last request sent.
func Cancel(e Event) ([]byte, error) { return write(e, ics.MethodCancel, ics.ObjectStatusCancelled) }

// Feed returns one VCALENDAR with METHOD:PUBLISH holding every event (e.g. a call's
// placements for the coalition's shared calendar), named name. Events keep their UIDs and
// sequences, so a calendar subscribed to the feed updates entries in place.
func Feed(name string, events []Event) ([]byte, error) {
	cal := ics.NewCalendarFor("")
	cal.SetProductId(ProductID)
	cal.SetMethod(ics.MethodPublish)
	cal.SetCalscale("GREGORIAN")
	if name != "" {
		cal.SetXWRCalName(oneLine(name))
	}
	for _, e := range events {
		if err := check(e); err != nil {
			return nil, err
		}
		addEvent(cal, e, ics.MethodPublish, ics.ObjectStatusConfirmed)
	}
	var b strings.Builder
	if err := cal.SerializeTo(&b, ics.WithNewLine("\r\n")); err != nil {
		return nil, fmt.Errorf("calendar: write feed: %w", err)
	}
	return []byte(b.String()), nil
}

// check refuses an event no client could file correctly.
func check(e Event) error {
	switch {
	case e.UID == "" || strings.ContainsAny(e.UID, "\r\n"):
		return fmt.Errorf("calendar: event needs a one-line UID")
	case !e.End.After(e.Start):
		return fmt.Errorf("calendar: event %s ends before it starts", e.UID)
	case e.Organizer.Email == "":
		return fmt.Errorf("calendar: event %s needs an organizer", e.UID)
	case e.Sequence < 0:
		return fmt.Errorf("calendar: event %s has a negative sequence", e.UID)
	}
	return nil
}

func write(e Event, method ics.Method, status ics.ObjectStatus) ([]byte, error) {
	if err := check(e); err != nil {
		return nil, err
	}
	cal := ics.NewCalendarFor("")
	cal.SetProductId(ProductID)
	cal.SetMethod(method)
	cal.SetCalscale("GREGORIAN")
	addEvent(cal, e, method, status)
	var b strings.Builder
	if err := cal.SerializeTo(&b, ics.WithNewLine("\r\n")); err != nil {
		return nil, fmt.Errorf("calendar: write %s: %w", e.UID, err)
	}
	return []byte(b.String()), nil
}

// addEvent adds e to cal as a VEVENT.
func addEvent(cal *ics.Calendar, e Event, method ics.Method, status ics.ObjectStatus) {
	ev := cal.AddEvent(e.UID)
	ev.SetDtStampTime(e.Stamp)
	ev.SetSequence(e.Sequence)
	if e.AllDay {
		ev.SetAllDayStartAt(e.Start)
		ev.SetAllDayEndAt(e.End)
	} else {
		ev.SetStartAt(e.Start)
		ev.SetEndAt(e.End)
	}
	ev.SetSummary(oneLine(e.Summary))
	if e.Description != "" {
		ev.SetDescription(e.Description)
	}
	if e.Location != "" {
		ev.SetLocation(oneLine(e.Location))
	}
	if e.URL != "" {
		ev.SetURL(e.URL)
	}
	ev.SetStatus(status)
	ev.SetTimeTransparency(ics.TransparencyOpaque)
	ev.SetOrganizer("mailto:"+e.Organizer.Email, cn(e.Organizer.Name)...)
	for _, a := range e.Attendees {
		params := append(cn(a.Name),
			ics.WithRSVP(false),
			ics.ParticipationRoleReqParticipant,
			ics.CalendarUserTypeIndividual,
		)
		if method == ics.MethodRequest {
			params = append(params, ics.ParticipationStatusNeedsAction)
		}
		ev.AddAttendee("mailto:"+a.Email, params...)
	}
}

// cn is the CN parameter of a name, none for an empty one. RFC 5545 allows a parameter
// value with a comma, semicolon or colon only inside double quotes, and golang-ical
// escapes those with backslashes instead (which clients show literally or misparse), so
// they become spaces here; a double quote or backslash cannot appear in a parameter at all.
func cn(name string) []ics.PropertyParameter {
	name = oneLine(strings.Map(func(r rune) rune {
		switch r {
		case ',', ';', ':', '"', '\\':
			return ' '
		}
		return r
	}, name))
	if name == "" {
		return nil
	}
	return []ics.PropertyParameter{ics.WithCN(name)}
}

// oneLine folds line breaks into spaces for properties that are one line by nature.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
