package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/testkit/chromium"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// sentCampaign makes a public list and a campaign to it, approved by a second member of
// staff and sent, and returns the campaign's archive path (/newsletter/{slug}).
func sentCampaign(t *testing.T, e *testkit.Env, subject, body string) string {
	t.Helper()
	_, office := e.NewUser("office@coalition.test", "Office", viewer.RoleStaff)
	_, editor := e.NewUser("editor@coalition.test", "Editor", viewer.RoleStaff)
	var list struct {
		CreateMailingList struct{ List struct{ ID string } }
	}
	office.MustDo(`mutation($in: CreateMailingListInput!) { createMailingList(input: $in) { list { id } } }`,
		map[string]any{"in": map[string]any{"name": "Quarterly newsletter", "slug": "quarterly", "visibility": "PUBLIC"}}, &list)
	// One reader, so the campaign has an audience (a send to nobody is refused).
	office.MustDo(`mutation($in: ImportSubscribersInput!) { importSubscribers(input: $in) { imported } }`,
		map[string]any{"in": map[string]any{"listId": list.CreateMailingList.List.ID, "csv": "email,name\r\nreader@example.org,Reader\r\n",
			"attestConsent": true, "attestReason": "Signed up on paper at the coalition meeting"}}, nil)
	var c struct {
		CreateCampaign struct{ Campaign struct{ ID string } }
	}
	office.MustDo(`mutation($in: CreateCampaignInput!) { createCampaign(input: $in) { campaign { id } } }`,
		map[string]any{"in": map[string]any{"subject": subject, "preheader": "News from the coalition", "body": body,
			"listIds": []string{list.CreateMailingList.List.ID}}}, &c)
	id := c.CreateCampaign.Campaign.ID
	editor.MustDo(`mutation($id: ID!) { approveCampaign(input: {id: $id}) { campaign { id } } }`, map[string]any{"id": id}, nil)
	office.MustDo(`mutation($id: ID!) { sendCampaignNow(input: {id: $id}) { campaign { id } } }`, map[string]any{"id": id}, nil)
	for range 2 {
		if _, _, err := e.App.Campaigns.Run(context.Background()); err != nil {
			t.Fatalf("campaigns job: %v", err)
		}
		e.DrainOutbox()
	}
	var out struct {
		Node struct {
			Status     string
			ArchiveURL *string
		}
	}
	office.MustDo(`query($id: ID!) { node(id: $id) { ... on Campaign { status archiveUrl } } }`, map[string]any{"id": id}, &out)
	if out.Node.Status != "SENT" || out.Node.ArchiveURL == nil {
		t.Fatalf("campaign not sent: %+v", out.Node)
	}
	return strings.TrimPrefix(*out.Node.ArchiveURL, e.Server.URL)
}

// noConsoleErrors fails the test for every console error, warning or exception of the page
// (a failed load or a Content-Security-Policy violation is one).
func noConsoleErrors(t *testing.T, p *chromium.Page) {
	t.Helper()
	for _, m := range p.Errors() {
		t.Errorf("%s: console: %s", p.URL, m)
	}
}

// TestNewsletterArchiveInChromium loads the newsletter archive and a sent campaign's page in
// headless Chromium, as a reader's browser shows them, on a desktop and on a phone screen,
// and checks what they rendered, that the stylesheet applied, and that the load reported
// no console error; screenshots go to test-artifacts/.
func TestNewsletterArchiveInChromium(t *testing.T) {
	e := testkit.NewEnv(t, testkit.Dialects()[0])
	issue := sentCampaign(t, e, "Spring news", "# Spring news\n\nThree new **host centres** joined the programme.")
	b := chromium.Start(t)

	list := b.Open(e.Server.URL+"/newsletter", chromium.Options{})
	if list.Status != http.StatusOK || !strings.Contains(list.Title(), "newsletter") || !strings.Contains(list.Text(), "Spring news") {
		t.Fatalf("archive: %d %q\n%s", list.Status, list.Title(), list.Text())
	}
	noConsoleErrors(t, list)
	list.Screenshot("newsletter-archive")

	for _, o := range []chromium.Options{{}, {Phone: true}} {
		p := b.Open(e.Server.URL+issue, o)
		text := p.Text()
		if p.Status != http.StatusOK || !strings.HasPrefix(p.Title(), "Spring news") ||
			!strings.Contains(text, "Three new host centres joined the programme.") {
			t.Fatalf("issue: %d %q\n%s", p.Status, p.Title(), text)
		}
		if bold := chromium.Eval[string](p, `getComputedStyle(document.querySelector("article strong")).fontWeight`); bold != "700" {
			t.Errorf("font weight of <strong>: %q", bold)
		}
		// The shared stylesheet applied: the page's background is its colour, not the default.
		if bg := chromium.Eval[string](p, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(244, 246, 249)" {
			t.Errorf("body background %q: the stylesheet did not apply", bg)
		}
		if o.Phone {
			// Readable on a phone: nothing wider than the screen.
			if w := chromium.Eval[int](p, `document.documentElement.scrollWidth`); w > 390 {
				t.Errorf("page is %d px wide on a 390 px phone screen", w)
			}
			p.Screenshot("newsletter-issue-phone")
		} else {
			p.Screenshot("newsletter-issue")
		}
		noConsoleErrors(t, p)
	}
}

// hostileBody is Markdown that tries to run script every way a statement's author could:
// raw script, iframe, event handler, javascript: links (Markdown and raw).
const hostileBody = `<script>window.pwned = "script"</script>

<iframe src="javascript:parent.pwned='iframe'"></iframe>

<img src="x" onerror="window.pwned='img'">

<a href="javascript:window.pwned='raw-link'">raw link</a>

[click me](javascript:window.pwned='link') and [this one](JaVaScRiPt:window.pwned='mixed-case')

**Position**: risk measures should be proportionate to autologous products.`

// TestStatementInChromium loads a published, corrected statement in headless Chromium and
// checks what a reader sees: the title, the co-authors and endorser with the dates they
// signed, the declarations, the correction note; that the hostile Markdown of its body
// came out inert (no script ran, no script, frame or javascript: link is in the page, even
// after clicking every link of the body); the print stylesheet; a phone screen; no console
// error. Screenshots go to test-artifacts/.
func TestStatementInChromium(t *testing.T) {
	e := testkit.NewEnv(t, testkit.Dialects()[0])
	w := publishStatement(t, e, hostileBody)
	b := chromium.Start(t)

	p := b.Open(e.Server.URL+"/statements/"+w.Slug, chromium.Options{})
	text := p.Text()
	if p.Status != http.StatusOK || p.Title() != statementTitle+" · CAR-T Coalition" {
		t.Fatalf("statement: %d %q", p.Status, p.Title())
	}
	for _, want := range []string{
		statementTitle, statementSummary, "Position: risk measures should be proportionate to autologous products.",
		"European Haematology Society (NL): signed off 12 January 2027 by Piet Janssen",
		"Cell Therapy Society (FR): signed off 12 January 2027 by Claire Martin",
		"Patients for CAR-T (DE): endorsed 12 January 2027 by Jonas Weber",
		"Ana Author (declared 12 January 2027)", "Kite Pharma",
		"Correction, 13 January 2027 (version 2): " + correctionNote, "Version 1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q:\n%s", want, text)
		}
	}
	noConsoleErrors(t, p)
	inert := func(p *chromium.Page) {
		t.Helper()
		if got := chromium.Eval[string](p, `String(window.pwned)`); got != "undefined" {
			t.Errorf("the body's script ran: window.pwned = %q", got)
		}
		if n := chromium.Eval[int](p, `document.querySelectorAll("script, iframe, object, embed, [onerror], [onclick]").length`); n != 0 {
			t.Errorf("%d active elements in the page", n)
		}
		if bad := chromium.Eval[[]string](p, `[...document.querySelectorAll("a")].map(a => a.href).filter(h => !/^https?:/.test(h))`); len(bad) != 0 {
			t.Errorf("links that are not http(s): %q", bad)
		}
	}
	inert(p)
	// Clicking every link of the body runs nothing either (the body has no link left that
	// would leave the page: the javascript: ones are plain text).
	chromium.Eval[int](p, `[...document.querySelectorAll(".statement-body a")].map(a => a.click()).length`)
	inert(p)
	p.Screenshot("statement")

	phone := b.Open(e.Server.URL+"/statements/"+w.Slug, chromium.Options{Phone: true})
	if w := chromium.Eval[int](phone, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("statement is %d px wide on a 390 px phone screen", w)
	}
	noConsoleErrors(t, phone)
	inert(phone)
	phone.Screenshot("statement-phone")

	print := b.Open(e.Server.URL+"/statements/"+w.Slug, chromium.Options{Print: true})
	if d := chromium.Eval[string](print, `getComputedStyle(document.querySelector("nav.crumbs")).display`); d != "none" {
		t.Errorf("print: the navigation is shown (display %q)", d)
	}
	if bg := chromium.Eval[string](print, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(255, 255, 255)" {
		t.Errorf("print: background %q", bg)
	}
	noConsoleErrors(t, print)
	print.Screenshot("statement-print")

	list := b.Open(e.Server.URL+"/statements", chromium.Options{})
	if !strings.Contains(list.Text(), statementTitle) || strings.Contains(list.Text(), "Hospital exemption") {
		t.Errorf("list:\n%s", list.Text())
	}
	noConsoleErrors(t, list)
	list.Screenshot("statements")

	draft := b.Open(e.Server.URL+"/statements/"+w.DraftSlug, chromium.Options{})
	if draft.Status != http.StatusNotFound || strings.Contains(draft.Text(), "Secret draft") {
		t.Errorf("draft: %d\n%s", draft.Status, draft.Text())
	}
}
