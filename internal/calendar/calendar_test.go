package calendar

import (
	"bytes"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/gocart-coalition/coalition/internal/mail"
)

func event() Event {
	return Event{
		UID:         "mtg_01JTEST@coalition.test",
		Sequence:    2,
		Summary:     "Pharmacist WG; dosing, handling\nand storage",
		Description: "Agenda:\n1. Minutes, last meeting\n2. Survey; next steps",
		Location:    "Hôpital Saint-Louis, Paris",
		URL:         "https://video.example.org/j/123?pwd=a,b",
		Start:       time.Date(2027, 3, 28, 13, 30, 0, 0, time.FixedZone("CEST", 2*3600)),
		End:         time.Date(2027, 3, 28, 15, 0, 0, 0, time.FixedZone("CEST", 2*3600)),
		Organizer:   mail.Address{Name: "European CAR-T Coalition", Email: "office@coalition.test"},
		Attendees:   []mail.Address{{Name: "Dvořák, Marek", Email: "marek.dvorak@example.cz"}},
		Stamp:       time.Date(2027, 1, 12, 9, 0, 0, 0, time.UTC),
	}
}

func parse(t *testing.T, b []byte) (*ics.Calendar, *ics.VEvent) {
	t.Helper()
	if !bytes.HasSuffix(b, []byte("\r\n")) || bytes.Contains(bytes.ReplaceAll(b, []byte("\r\n"), nil), []byte("\n")) {
		t.Errorf("lines must end in CRLF:\n%q", b)
	}
	for _, line := range strings.Split(string(b), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line longer than 75 octets: %q", line)
		}
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, b)
	}
	evs := cal.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	return cal, evs[0]
}

func prop(c interface {
	GetProperty(ics.ComponentProperty) *ics.IANAProperty
}, p ics.ComponentProperty) string {
	if v := c.GetProperty(p); v != nil {
		return v.Value
	}
	return ""
}

func calProp(cal *ics.Calendar, p ics.Property) string {
	for _, cp := range cal.CalendarProperties {
		if cp.IANAToken == string(p) {
			return cp.Value
		}
	}
	return ""
}

func TestRequestFieldByField(t *testing.T) {
	b, err := Request(event())
	if err != nil {
		t.Fatal(err)
	}
	cal, ev := parse(t, b)
	for p, want := range map[ics.Property]string{
		ics.PropertyMethod: "REQUEST", ics.PropertyVersion: "2.0", ics.PropertyProductId: ProductID, ics.PropertyCalscale: "GREGORIAN",
	} {
		if got := calProp(cal, p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	for p, want := range map[ics.ComponentProperty]string{
		ics.ComponentPropertyUniqueId:    "mtg_01JTEST@coalition.test",
		ics.ComponentPropertySequence:    "2",
		ics.ComponentPropertyDtStart:     "20270328T113000Z",
		ics.ComponentPropertyDtEnd:       "20270328T130000Z",
		ics.ComponentPropertyDtstamp:     "20270112T090000Z",
		ics.ComponentPropertySummary:     "Pharmacist WG; dosing, handling and storage",
		ics.ComponentPropertyDescription: "Agenda:\n1. Minutes, last meeting\n2. Survey; next steps",
		ics.ComponentPropertyLocation:    "Hôpital Saint-Louis, Paris",
		ics.ComponentPropertyUrl:         "https://video.example.org/j/123?pwd=a,b",
		ics.ComponentPropertyStatus:      "CONFIRMED",
		ics.ComponentPropertyOrganizer:   "mailto:office@coalition.test",
		ics.ComponentPropertyAttendee:    "mailto:marek.dvorak@example.cz",
	} {
		if got := prop(ev, p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	att := ev.Attendees()
	if len(att) != 1 || att[0].Email() != "marek.dvorak@example.cz" ||
		att[0].ICalParameters["CN"][0] != "Dvořák Marek" || att[0].ParticipationStatus() != ics.ParticipationStatusNeedsAction ||
		!strings.EqualFold(att[0].ICalParameters["RSVP"][0], "FALSE") {
		t.Errorf("attendee: %+v", att)
	}
	if org := ev.GetProperty(ics.ComponentPropertyOrganizer); org.ICalParameters["CN"][0] != "European CAR-T Coalition" {
		t.Errorf("organizer: %+v", org)
	}
}

func TestCancel(t *testing.T) {
	e := event()
	e.Sequence = 3
	b, err := Cancel(e)
	if err != nil {
		t.Fatal(err)
	}
	cal, ev := parse(t, b)
	if calProp(cal, ics.PropertyMethod) != "CANCEL" || prop(ev, ics.ComponentPropertyStatus) != "CANCELLED" ||
		prop(ev, ics.ComponentPropertySequence) != "3" || prop(ev, ics.ComponentPropertyUniqueId) != e.UID {
		t.Errorf("cancel:\n%s", b)
	}
	if att := ev.Attendees(); len(att) != 1 || len(att[0].ICalParameters["PARTSTAT"]) != 0 {
		t.Errorf("cancel attendee: %+v", att)
	}
}

func TestRefusesBrokenEvents(t *testing.T) {
	for name, change := range map[string]func(*Event){
		"no uid":        func(e *Event) { e.UID = "" },
		"uid two lines": func(e *Event) { e.UID = "a\nb" },
		"ends first":    func(e *Event) { e.End = e.Start },
		"no organizer":  func(e *Event) { e.Organizer = mail.Address{} },
		"negative seq":  func(e *Event) { e.Sequence = -1 },
	} {
		e := event()
		change(&e)
		if _, err := Request(e); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestAllDayFeed(t *testing.T) {
	e := event()
	e.AllDay = true
	e.Start = time.Date(2027, 4, 12, 0, 0, 0, 0, time.UTC)
	e.End = time.Date(2027, 4, 24, 0, 0, 0, 0, time.UTC)
	f := event()
	f.UID = "plc_2@coalition.test"
	b, err := Feed("Observerships", []Event{e, f})
	if err != nil {
		t.Fatal(err)
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	evs := cal.Events()
	if calProp(cal, ics.PropertyMethod) != "PUBLISH" || len(evs) != 2 {
		t.Fatalf("feed:\n%s", b)
	}
	start := evs[0].GetProperty(ics.ComponentPropertyDtStart)
	if start.Value != "20270412" || start.ICalParameters["VALUE"][0] != "DATE" || prop(evs[0], ics.ComponentPropertyDtEnd) != "20270424" {
		t.Errorf("all-day event: %+v\n%s", start, b)
	}
	if _, err := Feed("x", []Event{{UID: "a"}}); err == nil {
		t.Errorf("a broken event in a feed is accepted")
	}
}
