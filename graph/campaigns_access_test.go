package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

const (
	updateCampM     = `mutation($in: UpdateCampaignInput!) { updateCampaign(input: $in) { ` + campaignF + ` } }`
	unscheduleCampM = `mutation($id: ID!) { unscheduleCampaign(input: {id: $id}) { ` + campaignF + ` } }`
	pauseCampM      = `mutation($id: ID!) { pauseCampaign(input: {id: $id}) { ` + campaignF + ` } }`
	resumeCampM     = `mutation($id: ID!) { resumeCampaign(input: {id: $id}) { ` + campaignF + ` } }`
	cancelCampM     = `mutation($id: ID!) { cancelCampaign(input: {id: $id}) { ` + campaignF + ` } }`
	testSendM       = `mutation($id: ID!, $to: [String!]!) { sendCampaignTest(input: {id: $id, to: $to}) { sent userErrors { field code message } } }`
	newsletterNodeQ = `query($id: ID!) { node(id: $id) { id } }`
)

// campaignsWorld is every role of the campaign tables and campaigns in every status:
// sent to the public list (the archive's one), sent to a private list, draft, approved,
// scheduled, sending.
type campaignsWorld struct {
	e                                   *testkit.Env
	anon, reader, plain, trainee, host  *testkit.Client
	staff, editor                       *testkit.Client
	public, private                     string
	sent, privateSent, draft, approved  string
	scheduled, sending                  string
	subscription, consent, suppression  string
	delivery, sentSlug, privateSentSlug string
	draftSlug                           string
	readerID                            string
}

func (w *campaignsWorld) create(t *testing.T, subject string, list string) string {
	t.Helper()
	var c struct{ CreateCampaign campaignOut }
	w.staff.MustDo(createCampM, map[string]any{"in": map[string]any{"subject": subject, "body": "# " + subject + "\n\nNews for {{email}}.", "listIds": []string{list}}}, &c)
	if c.CreateCampaign.Campaign == nil {
		t.Fatalf("create %s: %+v", subject, c.CreateCampaign.UserErrors)
	}
	return c.CreateCampaign.Campaign.ID
}

// step runs a campaign mutation that must succeed and returns the campaign's status.
func step(t *testing.T, cl *testkit.Client, query string, vars map[string]any) string {
	t.Helper()
	r := cl.Do(query, vars)
	var data map[string]campaignOut
	if err := json.Unmarshal(r.Data, &data); err != nil || len(r.Errors) > 0 {
		t.Fatalf("%s: %s", query, r.Body)
	}
	for _, p := range data {
		if len(p.UserErrors) > 0 || p.Campaign == nil {
			t.Fatalf("%s: %s", query, r.Body)
		}
		return p.Campaign.Status
	}
	t.Fatalf("%s: no payload: %s", query, r.Body)
	return ""
}

func newCampaignsWorld(t *testing.T, e *testkit.Env) *campaignsWorld {
	t.Helper()
	a := newActors(t, e)
	w := &campaignsWorld{e: e, anon: a.anon, trainee: a.trainee, host: a.host, staff: a.staff}
	_, w.editor = e.NewUser("editor@coalition.test", "Second Editor", viewer.RoleStaff)
	reader, readerCl := e.NewUser("reader@example.org", "Rita Reader")
	w.reader, w.readerID = readerCl, string(reader.ID)
	_, w.plain = e.NewUser("plain@example.org", "Paul Plain")
	var l struct {
		CreateMailingList struct{ List struct{ ID string } }
	}
	w.staff.MustDo(createListM, map[string]any{"in": map[string]any{"name": "Quarterly newsletter", "slug": "quarterly"}}, &l)
	w.public = l.CreateMailingList.List.ID
	w.staff.MustDo(createListM, map[string]any{"in": map[string]any{"name": "Board", "slug": "board", "visibility": "PRIVATE"}}, &l)
	w.private = l.CreateMailingList.List.ID

	// The reader subscribes while signed in; staff put someone on the private list and
	// suppress an address.
	var my struct {
		UpdateMySubscriptions struct{ UserErrors []userErr }
	}
	w.reader.MustDo(`mutation($id: ID!) { updateMySubscriptions(input: {subscribe: [$id]}) { userErrors { field code message } } }`, map[string]any{"id": w.public}, &my)
	if len(my.UpdateMySubscriptions.UserErrors) > 0 {
		t.Fatalf("reader subscribes: %+v", my)
	}
	var sub struct {
		MySubscriber struct {
			Subscriptions []struct {
				ID      string
				Consent []struct{ ID string }
			}
		}
	}
	w.reader.MustDo(`{ mySubscriber { subscriptions { id consent { id } } } }`, nil, &sub)
	if len(sub.MySubscriber.Subscriptions) != 1 || len(sub.MySubscriber.Subscriptions[0].Consent) == 0 {
		t.Fatalf("reader's subscription: %+v", sub)
	}
	w.subscription, w.consent = sub.MySubscriber.Subscriptions[0].ID, sub.MySubscriber.Subscriptions[0].Consent[0].ID
	var imp struct {
		ImportSubscribers struct {
			Imported   int
			UserErrors []userErr
		}
	}
	w.staff.MustDo(`mutation($in: ImportSubscribersInput!) { importSubscribers(input: $in) { imported userErrors { field code message } } }`,
		map[string]any{"in": map[string]any{"listId": w.private, "csv": "email,name\r\nboard.member@example.org,Bo\r\n", "attestConsent": true, "attestReason": "Board members, by their mandate"}}, &imp)
	if imp.ImportSubscribers.Imported != 1 {
		t.Fatalf("import: %+v", imp)
	}
	var sup struct {
		SuppressAddress struct {
			Suppression struct{ ID string }
			UserErrors  []userErr
		}
	}
	w.staff.MustDo(`mutation { suppressAddress(input: {email: "spam@example.org", detail: "asked by phone"}) { suppression { id } userErrors { field code message } } }`, nil, &sup)
	w.suppression = sup.SuppressAddress.Suppression.ID

	// Two campaigns sent (public list, private list), and one of each earlier status.
	w.sent = w.create(t, "Spring news", w.public)
	w.privateSent = w.create(t, "Board minutes", w.private)
	for _, id := range []string{w.sent, w.privateSent} {
		step(t, w.editor, approveCampM, map[string]any{"id": id})
		step(t, w.staff, sendNowM, map[string]any{"id": id})
	}
	for range 2 {
		if _, _, err := e.App.Campaigns.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.DrainOutbox()
	}
	w.draft = w.create(t, "Secret draft", w.public)
	w.approved = w.create(t, "Approved, not scheduled", w.public)
	step(t, w.editor, approveCampM, map[string]any{"id": w.approved})
	w.scheduled = w.create(t, "Scheduled for later", w.public)
	step(t, w.editor, approveCampM, map[string]any{"id": w.scheduled})
	step(t, w.staff, scheduleCampM, map[string]any{"id": w.scheduled, "at": e.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)})
	w.sending = w.create(t, "Sending now", w.public)
	step(t, w.editor, approveCampM, map[string]any{"id": w.sending})
	if got := step(t, w.staff, sendNowM, map[string]any{"id": w.sending}); got != "SENDING" {
		t.Fatalf("send now: %s", got)
	}

	var staffView struct {
		Campaigns struct {
			Edges []struct {
				Node struct{ ID, Slug, Status string }
			}
		}
	}
	w.staff.MustDo(`{ campaigns(first: 20) { edges { node { id slug status } } } }`, nil, &staffView)
	for _, ed := range staffView.Campaigns.Edges {
		switch ed.Node.ID {
		case w.sent:
			w.sentSlug = ed.Node.Slug
		case w.privateSent:
			w.privateSentSlug = ed.Node.Slug
		}
		if (ed.Node.ID == w.sent || ed.Node.ID == w.privateSent) && ed.Node.Status != "SENT" {
			t.Fatalf("campaign %s: %s, want SENT", ed.Node.ID, ed.Node.Status)
		}
	}
	var del struct {
		Node struct {
			Deliveries struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID, Email string } }
			}
		}
	}
	w.staff.MustDo(`query($id: ID!) { node(id: $id) { ... on Campaign { deliveries(first: 10) { totalCount edges { node { id email } } } } } }`, map[string]any{"id": w.sent}, &del)
	if del.Node.Deliveries.TotalCount != 1 || del.Node.Deliveries.Edges[0].Node.Email != "reader@example.org" {
		t.Fatalf("deliveries of the sent campaign: %+v", del)
	}
	w.delivery = del.Node.Deliveries.Edges[0].Node.ID
	return w
}

// campaignsSnapshot is what any campaign mutation could change: every campaign's state,
// and the number of outbox rows, shared bodies and audit events.
func campaignsSnapshot(t *testing.T, e *testkit.Env) string {
	t.Helper()
	ctx := e.System()
	cs, err := e.DB.Client.Campaign.Query().Order(ent.Asc("id")).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s %s %q %q %v %v %v %d %v|", c.ID, c.Status, c.Subject, c.Preheader, c.ApprovedByID, c.ScheduledAt, c.UpdatedAt, c.Recipients, c.FrozenAt)
	}
	for _, n := range []func(context.Context) (int, error){e.DB.Client.OutboxMessage.Query().Count, e.DB.Client.MailBody.Query().Count, e.DB.Client.AuditEvent.Query().Count} {
		c, err := n(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d ", c)
	}
	return b.String()
}

// TestCampaignMutationsPermissionTable: every campaign mutation × anonymous, subscriber,
// signed-in user, trainee, host coordinator: refused with the right code, and nothing
// written (campaigns, outbox, bodies, audit trail unchanged); the author approving their
// own campaign: FORBIDDEN, nothing written; then staff do each one.
func TestCampaignMutationsPermissionTable(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newCampaignsWorld(t, e)
		later := e.Clock.Now().Add(72 * time.Hour).Format(time.RFC3339)
		ops := []struct {
			name, query string
			vars        map[string]any
		}{
			{"createCampaign", createCampM, map[string]any{"in": map[string]any{"subject": "Mine", "body": "x", "listIds": []string{w.public}}}},
			{"updateCampaign", updateCampM, map[string]any{"in": map[string]any{"id": w.draft, "subject": "Hijacked"}}},
			{"approveCampaign", approveCampM, map[string]any{"id": w.draft}},
			{"scheduleCampaign", scheduleCampM, map[string]any{"id": w.approved, "at": later}},
			{"unscheduleCampaign", unscheduleCampM, map[string]any{"id": w.scheduled}},
			{"sendCampaignNow", sendNowM, map[string]any{"id": w.approved}},
			{"pauseCampaign", pauseCampM, map[string]any{"id": w.sending}},
			{"resumeCampaign", resumeCampM, map[string]any{"id": w.sending}},
			{"cancelCampaign", cancelCampM, map[string]any{"id": w.sending}},
			{"sendCampaignTest", testSendM, map[string]any{"id": w.draft, "to": []string{"someone@example.org"}}},
		}
		roles := []struct {
			name string
			cl   *testkit.Client
			want string
		}{
			{"anonymous", w.anon, "UNAUTHENTICATED"},
			{"subscriber", w.reader, "FORBIDDEN"},
			{"signed-in user", w.plain, "FORBIDDEN"},
			{"trainee", w.trainee, "FORBIDDEN"},
			{"host coordinator", w.host, "FORBIDDEN"},
		}
		for _, op := range ops {
			for _, r := range roles {
				before := campaignsSnapshot(t, e)
				res := r.cl.Do(op.query, op.vars)
				if res.Code() != r.want || !strings.Contains(string(res.Data), "null") {
					t.Errorf("%s as %s: %s, want %s", op.name, r.name, res.Body, r.want)
				}
				if after := campaignsSnapshot(t, e); after != before {
					t.Errorf("%s as %s was refused but wrote:\nbefore %s\nafter  %s", op.name, r.name, before, after)
				}
			}
		}
		// The author approving their own campaign.
		before := campaignsSnapshot(t, e)
		if r := w.staff.Do(approveCampM, map[string]any{"id": w.draft}); r.Code() != "FORBIDDEN" {
			t.Errorf("the author approves their own campaign: %s, want FORBIDDEN", r.Body)
		}
		if after := campaignsSnapshot(t, e); after != before {
			t.Errorf("a refused self-approval wrote:\nbefore %s\nafter  %s", before, after)
		}
		// Nor their own edit of another's campaign: the editor edits the approved one,
		// which withdraws its approval, and may then not approve it.
		if got := step(t, w.editor, updateCampM, map[string]any{"in": map[string]any{"id": w.approved, "preheader": "Edited by the editor"}}); got != "DRAFT" {
			t.Fatalf("edit after approval: %s, want DRAFT", got)
		}
		before = campaignsSnapshot(t, e)
		if r := w.editor.Do(approveCampM, map[string]any{"id": w.approved}); r.Code() != "FORBIDDEN" {
			t.Errorf("the last editor approves: %s, want FORBIDDEN", r.Body)
		}
		if after := campaignsSnapshot(t, e); after != before {
			t.Errorf("a refused approval by the last editor wrote something")
		}
		_, third := e.NewUser("third@coalition.test", "Third Staff", viewer.RoleStaff)
		step(t, third, approveCampM, map[string]any{"id": w.approved})

		// Staff, each in turn.
		for _, c := range []struct {
			name  string
			cl    *testkit.Client
			query string
			vars  map[string]any
			want  string
		}{
			{"createCampaign", w.staff, createCampM, ops[0].vars, "DRAFT"},
			{"updateCampaign", w.staff, updateCampM, ops[1].vars, "DRAFT"},
			{"approveCampaign by another member of staff", w.editor, approveCampM, ops[2].vars, "APPROVED"},
			{"scheduleCampaign", w.staff, scheduleCampM, ops[3].vars, "SCHEDULED"},
			{"unscheduleCampaign", w.staff, unscheduleCampM, ops[4].vars, "APPROVED"},
			{"sendCampaignNow", w.staff, sendNowM, map[string]any{"id": w.scheduled}, "SENDING"},
			{"pauseCampaign", w.staff, pauseCampM, ops[6].vars, "PAUSED"},
			{"resumeCampaign", w.staff, resumeCampM, ops[7].vars, "SENDING"},
			{"cancelCampaign", w.staff, cancelCampM, ops[8].vars, "CANCELLED"},
		} {
			if got := step(t, c.cl, c.query, c.vars); got != c.want {
				t.Errorf("staff %s: %s, want %s", c.name, got, c.want)
			}
		}
		var ts struct {
			SendCampaignTest struct {
				Sent       int
				UserErrors []userErr
			}
		}
		w.staff.MustDo(testSendM, ops[9].vars, &ts)
		if ts.SendCampaignTest.Sent != 1 || len(ts.SendCampaignTest.UserErrors) > 0 {
			t.Errorf("staff sendCampaignTest: %+v", ts)
		}
	})
}

// TestCampaignReadsPermissionTable: what each role reads of campaigns through the API
// (the list, a status filter, node(id:), preview, progress, deliveries) and the public
// pages: everyone but staff sees the sent campaign of the public list and nothing else,
// anywhere; staff see everything.
func TestCampaignReadsPermissionTable(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newCampaignsWorld(t, e)
		all := []string{w.sent, w.privateSent, w.draft, w.approved, w.scheduled, w.sending}
		for _, r := range []struct {
			name  string
			cl    *testkit.Client
			staff bool
		}{
			{"anonymous", w.anon, false},
			{"subscriber", w.reader, false},
			{"signed-in user", w.plain, false},
			{"trainee", w.trainee, false},
			{"host coordinator", w.host, false},
			{"staff", w.staff, true},
		} {
			var list struct {
				Campaigns struct {
					TotalCount int
					Edges      []struct{ Node struct{ ID string } }
				}
			}
			r.cl.MustDo(`{ campaigns(first: 20) { totalCount edges { node { id } } } }`, nil, &list)
			var got []string
			for _, ed := range list.Campaigns.Edges {
				got = append(got, ed.Node.ID)
			}
			want := []string{w.sent}
			if r.staff {
				want = all
			}
			if len(got) != len(want) || list.Campaigns.TotalCount != len(want) {
				t.Errorf("%s: campaigns = %v (total %d), want %d", r.name, got, list.Campaigns.TotalCount, len(want))
			}
			// A filter cannot probe what the list does not show.
			for _, st := range []string{"DRAFT", "APPROVED", "SCHEDULED", "SENDING"} {
				var f struct {
					Campaigns struct{ TotalCount int }
				}
				r.cl.MustDo(`query($s: CampaignStatus) { campaigns(first: 5, filter: {status: $s}) { totalCount } }`, map[string]any{"s": st}, &f)
				if (f.Campaigns.TotalCount > 0) != r.staff {
					t.Errorf("%s: campaigns with status %s: %d", r.name, st, f.Campaigns.TotalCount)
				}
			}
			for _, id := range all {
				res := r.cl.Do(`query($id: ID!) { node(id: $id) { id ... on Campaign { subject preview { subject } progress { total } } } }`, map[string]any{"id": id})
				var n struct {
					Node *struct {
						ID       string
						Preview  *struct{ Subject string }
						Progress *struct{ Total int }
					}
				}
				_ = json.Unmarshal(res.Data, &n)
				visible := r.staff || id == w.sent
				if (n.Node != nil) != visible {
					t.Errorf("%s: node(%s) = %s, want visible %v", r.name, id, res.Body, visible)
					continue
				}
				if !visible && (res.Code() != "NOT_FOUND" || strings.Contains(string(res.Body), "Secret") || strings.Contains(string(res.Body), "Board")) {
					t.Errorf("%s: node(%s) of an unpublished campaign: %s, want NOT_FOUND and no data", r.name, id, res.Body)
				}
				if n.Node != nil && (n.Node.Preview != nil || n.Node.Progress != nil) != r.staff {
					t.Errorf("%s: preview/progress of %s: %s", r.name, id, res.Body)
				}
			}
			res := r.cl.Do(`query($id: ID!) { node(id: $id) { ... on Campaign { deliveries(first: 10) { totalCount edges { node { email } } } } } }`, map[string]any{"id": w.sent})
			if leaked := strings.Contains(string(res.Body), "reader@example.org"); leaked != r.staff {
				t.Errorf("%s: deliveries of the sent campaign: %s", r.name, res.Body)
			}
			if !r.staff {
				want := "FORBIDDEN"
				if r.cl == w.anon {
					want = "UNAUTHENTICATED"
				}
				if res.Code() != want {
					t.Errorf("%s: deliveries: %s, want %s", r.name, res.Body, want)
				}
			}
		}

		// The public pages: the archive, an issue's page, the feed show the public sent
		// campaign only; the others' pages do not exist.
		page := get(t, e, "/newsletter")
		feed := get(t, e, "/newsletter.atom")
		for _, s := range []string{"Board minutes", "Secret draft", "Approved, not scheduled", "Scheduled for later", "Sending now"} {
			if strings.Contains(page, s) || strings.Contains(feed, s) {
				t.Errorf("the archive or the feed shows %q", s)
			}
		}
		if !strings.Contains(page, "Spring news") || !strings.Contains(feed, "Spring news") {
			t.Errorf("the archive or the feed lacks the sent campaign")
		}
		get(t, e, "/newsletter/"+w.sentSlug)
		// (A draft has no slug until it is sent, so no page to ask for.)
		for _, slug := range []string{w.privateSentSlug} {
			if slug == "" {
				t.Fatalf("no slug")
			}
			resp, err := e.Server.Client().Get(e.Server.URL + "/newsletter/" + slug)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("/newsletter/%s: %d, want 404", slug, resp.StatusCode)
			}
		}
	})
}

// TestNewsletterNodePermissionTable: node(id:) of each newsletter type from every caller:
// a subscription and its consent evidence to their subscriber and staff only; a
// suppression to staff only; a draft campaign to staff only, a sent public one to anyone;
// a campaign delivery is not a node for anyone (staff read it through Campaign.deliveries).
func TestNewsletterNodePermissionTable(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newCampaignsWorld(t, e)
		objects := []struct {
			name, id string
			seenBy   []string
		}{
			{"NewsletterSubscription", w.subscription, []string{"subscriber", "staff"}},
			{"ConsentEvidence", w.consent, []string{"subscriber", "staff"}},
			{"Suppression", w.suppression, []string{"staff"}},
			{"Campaign (draft)", w.draft, []string{"staff"}},
			{"Campaign (sent to a private list)", w.privateSent, []string{"staff"}},
			{"Campaign (sent to a public list)", w.sent, []string{"anonymous", "subscriber", "other signed-in user", "trainee", "host coordinator", "staff"}},
			{"CampaignDelivery", w.delivery, nil},
		}
		callers := []struct {
			name string
			cl   *testkit.Client
		}{
			{"anonymous", w.anon}, {"subscriber", w.reader}, {"other signed-in user", w.plain},
			{"trainee", w.trainee}, {"host coordinator", w.host}, {"staff", w.staff},
		}
		for _, o := range objects {
			if o.id == "" {
				t.Fatalf("%s: no id", o.name)
			}
			for _, c := range callers {
				res := c.cl.Do(newsletterNodeQ, map[string]any{"id": o.id})
				var n struct{ Node *struct{ ID string } }
				_ = json.Unmarshal(res.Data, &n)
				want := false
				for _, s := range o.seenBy {
					want = want || s == c.name
				}
				if (n.Node != nil) != want {
					t.Errorf("node(%s) as %s: %s, want visible %v", o.name, c.name, res.Body, want)
				}
				if !want && res.Code() != "NOT_FOUND" {
					t.Errorf("node(%s) as %s: %s, want NOT_FOUND", o.name, c.name, res.Body)
				}
			}
		}
	})
}
