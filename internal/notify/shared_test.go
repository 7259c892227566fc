package notify

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gocart-coalition/coalition/internal/outbox"
	"github.com/gocart-coalition/coalition/templates"
)

func testNotifier(t *testing.T) *Notifier {
	t.Helper()
	r, err := NewRenderer(templates.FS, Common{SiteName: "European CAR-T Coalition", PublicURL: "https://coalition.example.org", SupportEmail: "support@coalition.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Config{Renderer: r, Now: func() time.Time { return time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC) }, ReplyTo: "office@coalition.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func matchBatch() []Batched[MatchResultData] {
	const title, due = "Observership pilot, Q1 2027", "Tuesday 2 March 2027, 17:30 (Europe/Brussels)"
	offer := func(i int, name, centre, city string) Batched[MatchResultData] {
		return Batched[MatchResultData]{
			To: Recipient{Email: fmt.Sprintf("trainee%d@fnbrno.example.cz", i), Name: name},
			Data: MatchResultData{Kind: MatchOffered, Name: name, CallTitle: title, CentreName: centre, City: city,
				Start: "Monday 1 March 2027", End: fmt.Sprintf("Friday %d March 2027", 5+i), Deadline: due,
				AcceptURL:  fmt.Sprintf("https://coalition.example.org/signin?token=lt_accept%d", i),
				DeclineURL: fmt.Sprintf("https://coalition.example.org/signin?token=lt_decline%d", i)},
			Key: fmt.Sprintf("match_offer:plc_%d", i),
		}
	}
	host := func(i int, trainees ...string) Batched[MatchResultData] {
		return Batched[MatchResultData]{
			To: Recipient{Email: fmt.Sprintf("coordinator%d@host.example.fr", i), Name: fmt.Sprintf("Coordinator %d", i)},
			Data: MatchResultData{Kind: MatchHost, Name: fmt.Sprintf("Coordinator %d", i), CallTitle: title,
				CentreName: fmt.Sprintf("Centre %d", i), Start: "Monday 1 March 2027", End: "Friday 12 March 2027", Trainees: trainees, Deadline: due},
			Key: fmt.Sprintf("match_host:slot_%d", i),
		}
	}
	unmatched := func(i int, reasons ...string) Batched[MatchResultData] {
		return Batched[MatchResultData]{
			To:   Recipient{Email: fmt.Sprintf("unmatched%d@fnbrno.example.cz", i), Name: fmt.Sprintf("Trainee %d", i), Suppressed: i == 3},
			Data: MatchResultData{Kind: MatchUnmatched, Name: fmt.Sprintf("Trainee %d", i), CallTitle: title, Reasons: reasons},
			Key:  fmt.Sprintf("match_unmatched:app_%d", i),
		}
	}
	many := make([]string, 25)
	for i := range many {
		many[i] = fmt.Sprintf("Slot %d: the centre did not rank your application.", i)
	}
	odd := offer(9, "Ann {{accept_url}}", "Centre Zq7pHnameHp7qZ", "Lyon") // in values, only text
	odd.Data.CallTitle = "Pilot Zq7pHnameHp7qZ"                            // in the body, it would become {{name}}
	braces := offer(10, "Eve", "Centre {", "Lyon")                         // braces in a value are only text
	braces.Data.City = "} Lyon"
	return []Batched[MatchResultData]{
		offer(1, "Marek Dvořák", "CAR-T Unit, Hôpital Saint-Exemple", "Lyon"),
		offer(2, `<b>Ann & "Bob" O'Neil</b>`, "Zentrum für Zelltherapie <&>", "Köln"),
		offer(3, "", "Centre without city", ""), // no name, no city: a shape of its own
		offer(4, "Ioana {{name}} Popescu", "{{centre}}", "Iași"),
		host(1, "Marek Dvořák (FN Brno)"),
		host(2, "Ann (Home <1>)", "Bob & Co (Home 2)", "Eve (Home 3)"),
		host(3, "Carl (Home 4)", "Dora (Home 5)", "Fred (Home 6)"),
		unmatched(1, "CAR-T Unit, 2027-03-01 to 2027-03-12: its 2 place(s) went to applicants the centre ranked higher (2)."),
		unmatched(2),
		unmatched(3, "Line one", "Line <two> & three"),
		unmatched(4, many...),                    // more values than a row may carry: rendered whole
		unmatched(5, "A reason\nover two lines"), // a value of two lines: rendered whole
		odd,
		braces,
	}
}

// Every match_result email of a shared body is, once the worker fills in its values, the
// email rendered whole: same subject, text and headers, and the same HTML but for '+'
// (html/template writes "&#43;", html.EscapeString leaves it).
func TestSharedMatchResultsAreTheEmailsRenderedWhole(t *testing.T) {
	n := testNotifier(t)
	batch := matchBatch()
	p, err := n.PrepareMatchResults(batch)
	if err != nil {
		t.Fatal(err)
	}
	if !p.wake {
		t.Error("a batch with recipients to send to does not wake the worker")
	}
	whole, err := renderEach(n, "match_result", batch)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]outbox.Email{}
	for _, e := range whole {
		want[e.DedupeKey] = e
	}
	got := map[string]outbox.Email{}
	for _, e := range p.emails {
		got[e.DedupeKey] = e
	}
	for _, s := range p.shared {
		if strings.Contains(s.Body.Subject+s.Body.Text+s.Body.HTML, sentinelOpen) {
			t.Errorf("body keeps a sentinel:\n%s", s.Body.Text)
		}
		for _, e := range s.Emails {
			b := s.Body.Personalise(e.To, e.Values)
			got[e.DedupeKey] = outbox.Email{
				DedupeKey: e.DedupeKey, Template: b.Template, To: e.To, Subject: b.Subject, Text: b.Text, HTML: b.HTML,
				Headers: b.Headers, Suppressed: e.Suppressed,
			}
		}
	}
	plus := strings.NewReplacer("&#43;", "+")
	for k, w := range want {
		w.HTML = plus.Replace(w.HTML)
		if diff := cmp.Diff(w, got[k]); diff != "" {
			t.Errorf("%s (-rendered whole +shared):\n%s", k, diff)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d emails prepared, want %d", len(got), len(want))
	}

	// Whole: the emails that cannot share (too many values, a value of two lines, a
	// sentinel's text in the data). Shared: the others, by shape.
	var rendered []string
	for _, e := range p.emails {
		rendered = append(rendered, e.DedupeKey)
	}
	if diff := cmp.Diff([]string{"match_unmatched:app_4", "match_unmatched:app_5", "match_offer:plc_9"}, rendered); diff != "" {
		t.Errorf("emails rendered whole (-want +got):\n%s", diff)
	}
	bodies := map[string]int{}
	for _, s := range p.shared {
		bodies[fmt.Sprint(len(s.Emails))]++
	}
	// Offers with name and city (4: "{{…}}" and braces in values are only text), the offer without
	// them, hosts of 1 and of 3 trainees (2), unmatched with 1, 0 and 2 reasons.
	if len(p.shared) != 7 {
		t.Errorf("%d shared bodies, want 7: %v", len(p.shared), bodies)
	}
}

// A call title the worker would read as a placeholder keeps every email whole.
func TestSharedMatchResultsWithBracesInTheBodyAreRenderedWhole(t *testing.T) {
	n := testNotifier(t)
	batch := matchBatch()[:2]
	for i := range batch {
		batch[i].Data.CallTitle = "Call for {{name}}"
	}
	p, err := n.PrepareMatchResults(batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.shared) != 0 || len(p.emails) != 2 {
		t.Fatalf("%d shared bodies and %d whole emails, want 0 and 2", len(p.shared), len(p.emails))
	}
	if !strings.Contains(p.emails[0].Text, `"Call for {{name}}"`) {
		t.Errorf("title lost:\n%s", p.emails[0].Text)
	}
}

// Suppressed recipients keep their flag in a shared body, and a batch of suppressed
// recipients only wakes nobody.
func TestSharedMatchResultsKeepSuppression(t *testing.T) {
	n := testNotifier(t)
	batch := matchBatch()[7:10] // unmatched 1, 2, 3 (3 is suppressed)
	p, err := n.PrepareMatchResults(batch)
	if err != nil {
		t.Fatal(err)
	}
	suppressed := map[string]bool{}
	for _, s := range p.shared {
		for _, e := range s.Emails {
			suppressed[e.To.Email] = e.Suppressed
		}
	}
	if want := map[string]bool{"unmatched1@fnbrno.example.cz": false, "unmatched2@fnbrno.example.cz": false, "unmatched3@fnbrno.example.cz": true}; !cmp.Equal(suppressed, want) {
		t.Errorf("suppressed = %v, want %v", suppressed, want)
	}
	p, err = n.PrepareMatchResults(batch[2:])
	if err != nil {
		t.Fatal(err)
	}
	if p.wake {
		t.Error("a batch of suppressed recipients only wakes the worker")
	}
}
