package notify_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/templates"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the rendered emails")

var common = notify.Common{
	SiteName:     "European CAR-T Coalition",
	PublicURL:    "https://coalition.example.org",
	SupportEmail: "support@coalition.example.org",
}

// fixtures holds the data each email's golden files are rendered from; every email in
// templates/email must have one.
var fixtures = map[string]any{
	"review_committee": notify.ReviewCommitteeData{
		Name: "Ana Novak", CallTitle: "Observership pilot, Q1 2027", Assigned: 3, Total: 5,
	},
	"newsletter_confirm": notify.NewsletterConfirmData{
		Name: "Ana Novak", Email: "ana.novak@fnol.example", Lists: []string{"Quarterly newsletter", "Policy statements"},
		URL:       "https://coalition.example.org/newsletter/confirm?token=nc_4f9c2a7e1b3d5f60",
		ValidDays: 7,
	},
	"data_export_ready": notify.DataExportData{
		URL:     "https://coalition.example.org/exports/download?token=dx_4f9c2a7e1b3d5f60",
		Expires: "12 March 2027, 10:00 UTC",
	},
	"login_link": notify.LoginLinkData{
		Email:        "ana.novak@fnol.example",
		URL:          "https://coalition.example.org/signin?token=lt_4f9c2a7e1b3d5f60",
		ValidMinutes: 15,
		RequestedIP:  "192.0.2.10",
	},
	"membership_invitation": notify.MembershipInvitationData{
		Name: "Ana Novak", GroupName: "Pharmacist Working Group", WorkPackage: "Standards of care",
		Role: "Member", Organisation: "Fakultní nemocnice Olomouc", TermStart: "2027-02-01", TermEnd: "2029-01-31",
		AcceptURL:  "https://coalition.example.org/signin?token=lt_accept",
		DeclineURL: "https://coalition.example.org/signin?token=lt_decline",
		ValidDays:  14,
	},
	"membership_answered": notify.MembershipAnsweredData{
		Name: "Ana Novak", GroupName: "Pharmacist Working Group", Role: "Member",
		TermStart: "2027-02-01", TermEnd: "2029-01-31", Accepted: true,
	},
	"membership_ended": notify.MembershipEndedData{
		Name: "Ana Novak", GroupName: "Pharmacist Working Group", Role: "Member",
		LastDay: "2027-06-30", Reason: "Moved to another hospital & handed over <her> role.",
	},
	"meeting_invitation": notify.MeetingData{
		Kind: notify.MeetingUpdated, Name: "Ana Novak", GroupName: "Pharmacist Working Group", Title: "Quarterly meeting",
		When: "Thursday 4 March 2027, 14:00–15:30 (Europe/Paris)", WhenUTC: "Thursday 4 March 2027, 13:00–14:30 (UTC)",
		Location: "Hôpital Saint-Louis, Paris (fictional), room 3", VideoURL: "https://meet.example.org/pharm-q1",
		Agenda: "1. Survey on **CAR-T** handling\n2. <script>x</script> AOB", AgendaHTML: "<ol><li>Survey on <strong>CAR-T</strong> handling</li><li>AOB</li></ol>",
		Changes: []string{"time", "location"},
	},
	"meeting_cancelled": notify.MeetingData{
		Kind: notify.MeetingCancelled, Name: "Ana Novak", GroupName: "Pharmacist Working Group", Title: "Quarterly meeting",
		When: "Thursday 4 March 2027, 14:00–15:30 (Europe/Paris)", WhenUTC: "Thursday 4 March 2027, 13:00–14:30 (UTC)",
		Reason: "The chair & two members are at <ASH>.",
	},
	"declaration_reminder": notify.DeclarationReminderData{
		Name: "Ana Novak", LastDeclared: "2026-02-10", RenewBy: "2027-02-10",
		Groups: []string{"Delphi Expert Panel", "Pharmacist Working Group"},
	},
	"call_deadline": notify.CallDeadlineData{
		Kind: notify.CallApplicationsClosed, Name: "Office", CallTitle: "Observership pilot, Q1 2027 <&>",
		Deadline: "2027-02-15T17:00 (Europe/Brussels)", Submitted: 3, Drafts: 1,
	},
	"slot_decision": notify.SlotDecisionData{
		Name: "Claire Martin", CallTitle: "Observership pilot, Q1 2027", CentreName: "CAR-T Unit, Hôpital Saint-Exemple",
		StartDate: "2027-03-01", EndDate: "2027-03-12", Capacity: 2, Approved: false, Reason: "Overlaps the JACIE audit & <inspection>.",
	},
	"application_status": notify.ApplicationData{
		Kind: notify.ApplicationSubmitted, Name: "Marek Dvořák", CallTitle: "Observership pilot, Q1 2027",
		Deadline: "2027-02-15T17:00 (Europe/Brussels)", HomeCentre: "Fakultní nemocnice Brno (fictional) (CZ)",
		Role: "Haematology consultant", Years: 3, Languages: "cs, en, de", PreferredWeeks: 2,
		Availability: []string{"2027-03-01 to 2027-03-26"},
		Hosts:        []string{"1. CAR-T Unit, Hôpital Saint-Exemple", "2. Zentrum für Zelltherapie <Musterstadt>"},
		Documents:    []string{"CV: cv-dvorak.pdf", "motivation letter: motivation.pdf"},
	},
	"referee_request": notify.RefereeRequestData{
		RefereeName: "Prof. Eva Horáková", TraineeName: "Marek Dvořák", CallTitle: "Observership pilot, Q1 2027",
		URL: "https://coalition.example.org/referee?token=rl_abc", ValidUntil: "14 February 2027", Waived: true,
	},
	"referee_letter_received": notify.RefereeLetterData{Name: "Marek Dvořák", RefereeName: "Prof. Eva Horáková", CallTitle: "Observership pilot, Q1 2027"},
	"application_deadline_reminder": notify.DeadlineReminderData{
		Name: "Marek Dvořák", CallTitle: "Observership pilot, Q1 2027", Deadline: "2027-02-15T17:00 (Europe/Brussels)", Days: 7,
		Missing: []string{"Upload your CV (PDF).", "0 of 1 referee letters have arrived; ask your referees to upload theirs."},
	},
	"match_result": notify.MatchResultData{
		Kind: notify.MatchUnmatched, Name: "Aoife Byrne", CallTitle: "Observership pilot, Q1 2027",
		Reasons: []string{"CAR-T Unit, Hôpital Saint-Exemple, 2027-03-01 to 2027-03-12: its 2 place(s) went to applicants the centre ranked higher (2).",
			"Zentrum für Zelltherapie, 2027-04-05 to 2027-04-09: the centre did not rank your application."},
	},
	"placement_update": notify.PlacementData{
		Kind: notify.PlacementDeclined, Name: "Claire Martin", TraineeName: "Marek Dvořák", CentreName: "CAR-T Unit, Hôpital Saint-Exemple",
		City: "Lyon", CallTitle: "Observership pilot, Q1 2027", Start: "Monday 12 April 2027", End: "Friday 23 April 2027",
		Reason: "Family emergency & <travel> cancelled.",
	},
	"newsletter": notify.NewsletterData{
		Subject: "Quarterly newsletter, spring 2027", Preheader: "Three new host centres & the pilot's results",
		BodyHTML: "<h1>Spring 2027</h1>\n<p>Three new <strong>host centres</strong> joined.</p>",
		BodyText: "# Spring 2027\n\nThree new **host centres** joined.", Audience: "the Quarterly newsletter list",
		Email: "ana.novak@fnol.example", UnsubscribeURL: "https://coalition.example.org/newsletter/unsubscribe?token=t_4f9c2a",
		PreferencesURL: "https://coalition.example.org/newsletter/preferences?token=t_4f9c2a",
		ArchiveURL:     "https://coalition.example.org/newsletter/quarterly-newsletter-spring-2027-cmp0",
	},
	"application_retention_warning": notify.RetentionWarningData{
		Name: "Ana Novak", CallTitle: "Winter <2027> observerships",
		Documents: []string{"CV: cv.pdf", "Motivation letter: motivation & goals.pdf"}, Letters: 1, On: "2028-03-01",
	},
	"campaign_late": notify.CampaignLateData{
		Name: "Coalition Office", Subject: "Call for hosts <2027>", Scheduled: "2027-03-01 09:00 UTC", LateAfter: "1h0m0s",
		ID: "cmp_01JTESTTESTTESTTESTTESTTEST",
	},
	"statement_signoffs_voided": notify.SignoffsVoidedData{
		Name: "Ana Novak", Title: "Proportionate risk management for autologous CAR-T", Organisation: "Société <Exemple>",
		Voided: 2, Revision: 3, Hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ID: "pst_01JTESTTESTTESTTESTTESTTEST",
	},
	"statement_late": notify.StatementLateData{
		Name: "Coalition Office", Title: "Hospital exemption for ATMPs", Scheduled: "2027-03-01 09:00 UTC", LateAfter: "1h0m0s",
		ID: "pst_01JTESTTESTTESTTESTTESTTEST",
	},
	"statement_review_due": notify.StatementReviewDueData{
		Name: "Coalition Office", Title: "Hospital exemption for ATMPs", ReviewBy: "2027-03-01", ID: "pst_01JTESTTESTTESTTESTTESTTEST",
	},
	"membership_term_warning": notify.TermWarningData{
		RecipientName: "Coalition Office", MemberName: "Ana Novak", GroupName: "Pharmacist Working Group",
		Role: "Chair", TermEnd: "2027-02-11", DaysLeft: 30,
	},
}

// variants are further golden renderings of emails whose kinds differ in what they ask:
// "<email>.<variant>" → data; golden files testdata/<email>.<variant>.<part>.golden.
var variants = map[string]any{
	"match_result.offered": notify.MatchResultData{
		Kind: notify.MatchOffered, Name: "Marek Dvořák", CallTitle: "Observership pilot, Q1 2027",
		CentreName: "CAR-T Unit, Hôpital Saint-Exemple", City: "Lyon", Start: "Monday 1 March 2027", End: "Friday 12 March 2027",
		Deadline:  "Friday 5 February 2027, 17:00 (Europe/Brussels)",
		AcceptURL: "https://coalition.example.org/signin?token=lt_accept", DeclineURL: "https://coalition.example.org/signin?token=lt_decline",
	},
	"match_result.host": notify.MatchResultData{
		Kind: notify.MatchHost, Name: "Claire Martin", CallTitle: "Observership pilot, Q1 2027", CentreName: "CAR-T Unit, Hôpital Saint-Exemple",
		Start: "Monday 1 March 2027", End: "Friday 12 March 2027", Trainees: []string{"Marek Dvořák (FN Brno)"},
		Deadline: "Friday 5 February 2027, 17:00 (Europe/Brussels)",
	},
	"placement_update.accepted": notify.PlacementData{
		Kind: notify.PlacementAccepted, Name: "Claire Martin", TraineeName: "Marek Dvořák", CentreName: "CAR-T Unit, Hôpital Saint-Exemple",
		City: "Lyon", CallTitle: "Observership pilot, Q1 2027", Start: "Monday 1 March 2027", End: "Friday 12 March 2027",
		ConfirmURL: "https://coalition.example.org/signin?token=lt_confirm",
	},
	"placement_update.waitlist_offer": notify.PlacementData{
		Kind: notify.PlacementWaitlistOffer, Name: "Aoife Byrne", ToTrainee: true, TraineeName: "Aoife Byrne", CentreName: "CAR-T Unit, Hôpital Saint-Exemple",
		City: "Lyon", CallTitle: "Observership pilot, Q1 2027", Start: "Monday 1 March 2027", End: "Friday 12 March 2027",
		Deadline:  "Friday 5 February 2027, 17:00 (Europe/Brussels)",
		AcceptURL: "https://coalition.example.org/signin?token=lt_accept", DeclineURL: "https://coalition.example.org/signin?token=lt_decline",
	},
	"placement_update.dates_proposed": notify.PlacementData{
		Kind: notify.PlacementDatesProposed, Name: "Marek Dvořák", ToTrainee: true, TraineeName: "Marek Dvořák", CentreName: "CAR-T Unit, Hôpital Saint-Exemple",
		Start: "Monday 1 March 2027", End: "Friday 12 March 2027", ProposedStart: "Monday 15 March 2027", ProposedEnd: "Friday 26 March 2027",
		AcceptURL: "https://coalition.example.org/signin?token=lt_accept", DeclineURL: "https://coalition.example.org/signin?token=lt_decline",
	},
	"placement_update.completed": notify.PlacementData{
		Kind: notify.PlacementCompleted, Name: "Marek Dvořák", ToTrainee: true, TraineeName: "Marek Dvořák", CentreName: "CAR-T Unit, Hôpital Saint-Exemple",
		Start: "Monday 1 March 2027", End: "Friday 12 March 2027",
	},
}

// TestRenderGoldenVariants renders the variants against their golden files.
func TestRenderGoldenVariants(t *testing.T) {
	r := newRenderer(t)
	for name, data := range variants {
		t.Run(name, func(t *testing.T) {
			email, _, _ := strings.Cut(name, ".")
			got, err := r.Render(email, data)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			for _, part := range []struct{ ext, got string }{{"subject", got.Subject + "\n"}, {"txt", got.Text}, {"html", got.HTML}} {
				golden := filepath.Join("testdata", name+"."+part.ext+".golden")
				if *update {
					if err := os.WriteFile(golden, []byte(part.got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./internal/notify -run TestRenderGolden -update)", err)
				}
				if diff := cmp.Diff(string(want), part.got); diff != "" {
					t.Errorf("%s differs from %s (-want +got):\n%s", part.ext, golden, diff)
				}
			}
		})
	}
}

// TestEmailsThatAskCarryTheWay: every email that asks for an action says how to do it —
// a button (link) or the way to sign in and the mutation to use.
func TestEmailsThatAskCarryTheWay(t *testing.T) {
	r := newRenderer(t)
	for name, want := range map[string][]string{
		"match_result.offered":            {"lt_accept", "lt_decline", "Accept the offer", "Decline the offer", "Friday 5 February 2027, 17:00"},
		"placement_update.waitlist_offer": {"lt_accept", "lt_decline", "Accept the offer", "Decline the offer", "Friday 5 February 2027, 17:00"},
		"placement_update.dates_proposed": {"lt_accept", "lt_decline", "Accept the new dates", "answerDateChange"},
		"placement_update.accepted":       {"lt_confirm", "Confirm the placement", "confirmPlacement"},
		"placement_update.completed":      {common.PublicURL, "submitPlacementReport"},
	} {
		email, _, _ := strings.Cut(name, ".")
		got, err := r.Render(email, variants[name])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, w := range want {
			if !strings.Contains(got.HTML, w) {
				t.Errorf("%s: the HTML lacks %q", name, w)
			}
			if !strings.HasPrefix(w, "Accept the") && !strings.HasPrefix(w, "Decline the") && !strings.HasPrefix(w, "Confirm the") && !strings.Contains(got.Text, w) {
				t.Errorf("%s: the text lacks %q", name, w)
			}
		}
	}
	for name, want := range map[string]string{"application_deadline_reminder": "submitApplication", "declaration_reminder": "declareConflictsOfInterest"} {
		got, err := r.Render(name, fixtures[name])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got.Text, want) || !strings.Contains(got.HTML, want) || !strings.Contains(got.Text, common.PublicURL) {
			t.Errorf("%s does not say how to act (%s)", name, want)
		}
	}
}

func newRenderer(t *testing.T) *notify.Renderer {
	t.Helper()
	r, err := notify.NewRenderer(templates.FS, common)
	if err != nil {
		t.Fatalf("NewRenderer(templates.FS): %v", err)
	}
	return r
}

func TestRenderGolden(t *testing.T) {
	r := newRenderer(t)
	for _, name := range r.Names() {
		t.Run(name, func(t *testing.T) {
			data, ok := fixtures[name]
			if !ok {
				t.Fatalf("no fixture for email %q: add one to fixtures", name)
			}
			got, err := r.Render(name, data)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			for _, part := range []struct{ ext, got string }{
				{"subject", got.Subject + "\n"},
				{"txt", got.Text},
				{"html", got.HTML},
			} {
				golden := filepath.Join("testdata", name+"."+part.ext+".golden")
				if *update {
					if err := os.WriteFile(golden, []byte(part.got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./internal/notify -run TestRenderGolden -update)", err)
				}
				if diff := cmp.Diff(string(want), part.got); diff != "" {
					t.Errorf("%s differs from %s (-want +got):\n%s", part.ext, golden, diff)
				}
			}
		})
	}
	for name := range fixtures {
		if !contains(r.Names(), name) {
			t.Errorf("fixture %q has no templates", name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestLoginLinkSaysWhatMatters(t *testing.T) {
	r := newRenderer(t)
	got, err := r.Render("login_link", fixtures["login_link"])
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	for _, body := range []struct{ name, s string }{{"text", got.Text}, {"html", got.HTML}} {
		for _, want := range []string{
			"https://coalition.example.org/signin?token=lt_4f9c2a7e1b3d5f60",
			"15 minutes",
			"works once",
			"192.0.2.10",
			"Nobody can sign in without the link",
			"a sign-in link was requested for ana.novak@fnol.example",
			"support@coalition.example.org",
		} {
			if !strings.Contains(body.s, want) {
				t.Errorf("%s body does not contain %q", body.name, want)
			}
		}
	}
	if strings.Contains(got.HTML, "<img") || strings.Contains(got.HTML, "<link") {
		t.Errorf("html loads external resources:\n%s", got.HTML)
	}

	// The IP line is optional.
	data := fixtures["login_link"].(notify.LoginLinkData)
	data.RequestedIP = ""
	got, err = r.Render("login_link", data)
	if err != nil {
		t.Fatalf("Render without IP: %v", err)
	}
	if strings.Contains(got.Text, "IP address") || strings.Contains(got.HTML, "IP address") {
		t.Errorf("rendered an IP line without an IP")
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	r := newRenderer(t)
	got, err := r.Render("login_link", notify.LoginLinkData{
		Email:        `<script>alert("x")</script>@example.org`,
		URL:          `javascript:alert("x")`,
		ValidMinutes: 15,
		RequestedIP:  `<b>10.0.0.1</b>`,
	})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	for _, bad := range []string{"<script>", "<b>10.0.0.1", `href="javascript:`} {
		if strings.Contains(got.HTML, bad) {
			t.Errorf("html contains unescaped %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;", "&lt;b&gt;10.0.0.1", `href="#ZgotmplZ"`} {
		if !strings.Contains(got.HTML, want) {
			t.Errorf("html does not contain escaped %q", want)
		}
	}
	// The text part is plain text: it shows the data as it is.
	if !strings.Contains(got.Text, `<script>alert("x")</script>@example.org`) {
		t.Errorf("text part altered the data:\n%s", got.Text)
	}
}

// emailFS is a minimal template tree with one email, "hello"; tests break one file at a time.
func emailFS() fstest.MapFS {
	return fstest.MapFS{
		"email/layout.txt.tmpl":    {Data: []byte(`{{template "content" .}}` + "\n-- \n{{.Site.SiteName}}\n")},
		"email/layout.html.tmpl":   {Data: []byte(`<html><title>{{.Subject}}</title>{{template "content" .}}</html>`)},
		"email/hello.subject.tmpl": {Data: []byte("Hello {{.Data.Name}}\n")},
		"email/hello.txt.tmpl":     {Data: []byte(`{{define "content"}}Hi {{.Data.Name}}{{end}}`)},
		"email/hello.html.tmpl":    {Data: []byte(`{{define "content"}}<p>Hi {{.Data.Name}}</p>{{end}}`)},
	}
}

func TestRenderWithMinimalTree(t *testing.T) {
	r, err := notify.NewRenderer(emailFS(), common)
	if err != nil {
		t.Fatalf("NewRenderer: %v", err)
	}
	got, err := r.Render("hello", map[string]string{"Name": "Ana"})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	want := notify.Rendered{
		Subject: "Hello Ana",
		Text:    "Hi Ana\n-- \nEuropean CAR-T Coalition\n",
		HTML:    "<html><title>Hello Ana</title><p>Hi Ana</p></html>\n",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Render (-want +got):\n%s", diff)
	}
}

func TestRenderErrors(t *testing.T) {
	r, err := notify.NewRenderer(emailFS(), common)
	if err != nil {
		t.Fatalf("NewRenderer: %v", err)
	}
	tests := []struct {
		name, email string
		data        any
		wantErr     string
	}{
		{"unknown email", "nope", map[string]string{"Name": "Ana"}, "no such template"},
		{"missing map key", "hello", map[string]string{"Nom": "Ana"}, "map has no entry for key"},
		{"missing struct field", "hello", struct{ Nom string }{"Ana"}, "can't evaluate field Name"},
		{"newline in subject", "hello", map[string]string{"Name": "Ana\r\nBcc: victim@example.org"}, "more than one line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Render(tt.email, tt.data)
			if err == nil {
				t.Fatalf("Render(%q, %v) = nil error, want one containing %q", tt.email, tt.data, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Render error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestRenderRejectsEmptySubject(t *testing.T) {
	f := emailFS()
	f["email/hello.subject.tmpl"] = &fstest.MapFile{Data: []byte("{{.Data.Name}}\n")}
	r, err := notify.NewRenderer(f, common)
	if err != nil {
		t.Fatalf("NewRenderer: %v", err)
	}
	if _, err := r.Render("hello", map[string]string{"Name": " \t"}); err == nil || !strings.Contains(err.Error(), "subject is empty") {
		t.Errorf("Render error = %v, want subject is empty", err)
	}
}

func TestNewRendererRejectsBrokenTemplates(t *testing.T) {
	tests := map[string]func(fstest.MapFS){
		"missing html part":   func(f fstest.MapFS) { delete(f, "email/hello.html.tmpl") },
		"missing subject":     func(f fstest.MapFS) { delete(f, "email/hello.subject.tmpl") },
		"missing text layout": func(f fstest.MapFS) { delete(f, "email/layout.txt.tmpl") },
		"missing html layout": func(f fstest.MapFS) { delete(f, "email/layout.html.tmpl") },
		"text parse error": func(f fstest.MapFS) {
			f["email/hello.txt.tmpl"] = &fstest.MapFile{Data: []byte(`{{define "content"}}{{.Data.Name}`)}
		},
		"html parse error": func(f fstest.MapFS) { f["email/hello.html.tmpl"] = &fstest.MapFile{Data: []byte(`{{if}}`)} },
		"no content block": func(f fstest.MapFS) { f["email/hello.txt.tmpl"] = &fstest.MapFile{Data: []byte(`Hi`)} },
		"no emails": func(f fstest.MapFS) {
			delete(f, "email/hello.subject.tmpl")
			delete(f, "email/hello.txt.tmpl")
			delete(f, "email/hello.html.tmpl")
		},
	}
	for name, breakIt := range tests {
		t.Run(name, func(t *testing.T) {
			f := emailFS()
			breakIt(f)
			if _, err := notify.NewRenderer(f, common); err == nil {
				t.Errorf("NewRenderer = nil error, want an error")
			}
		})
	}
}
