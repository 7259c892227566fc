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
