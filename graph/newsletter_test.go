package graph_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/config"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

const (
	createListM = `mutation($in: CreateMailingListInput!) { createMailingList(input: $in) { list { id slug visibility } userErrors { field code message } } }`
	subscribeM  = `mutation($in: SubscribeInput!) { subscribe(input: $in) { message userErrors { field code message } } }`
	confirmM    = `mutation($t: String!) { confirmSubscription(input: {token: $t}) { lists userErrors { code message } } }`
	mySubQ      = `{ mySubscriber { id email subscriptions { status list { slug } consent { event source consentVersion ip } } } }`
)

var confirmLinkRE = regexp.MustCompile(`https?://\S+/newsletter/confirm\?token=(nc_[A-Za-z0-9_-]+)`)

// noRedirect is an HTTP client that shows redirects instead of following them, with no cookie jar.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func httpDo(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func postForm(t *testing.T, u string, form url.Values, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return httpDo(t, req)
}

// TestNewsletterEndToEnd: over real HTTP and SMTP, on both dialects: the subscribe form (from
// another site) and the mutation → one confirmation email each → the GET page does not
// confirm, its POST does → the link again is ALREADY_USED → the signed-in person sees their
// subscription and its consent evidence → the unsubscribe GET changes nothing → the RFC 8058
// one-click POST (no cookie, no redirect) unsubscribes → the address is suppressed, which
// staff see. Along the way: who may read what (node(id:) of every new type, the staff lists).
func TestNewsletterEndToEnd(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		a := newActors(t, e)
		base := e.Server.URL
		var cl struct {
			CreateMailingList struct {
				List       struct{ ID, Slug, Visibility string }
				UserErrors []userErr
			}
		}
		a.staff.MustDo(createListM, map[string]any{"in": map[string]any{"name": "Quarterly newsletter", "slug": "quarterly", "description": "Four times a year."}}, &cl)
		quarterly := cl.CreateMailingList.List.ID
		a.staff.MustDo(createListM, map[string]any{"in": map[string]any{"name": "Board", "slug": "board", "visibility": "PRIVATE"}}, &cl)
		board := cl.CreateMailingList.List.ID
		if r := a.trainee.Do(createListM, map[string]any{"in": map[string]any{"name": "Mine", "slug": "mine"}}); r.Code() != "FORBIDDEN" {
			t.Errorf("trainee creates a list: %s", r.Body)
		}
		e.DrainOutbox()
		seen := len(e.SMTP.Messages())

		// The form, posted from the coalition's web site (another origin), for the trainee's address.
		code, body := postForm(t, base+"/newsletter/subscribe", url.Values{"email": {"Marek.Dvorak@example.cz"}, "name": {"Marek"}, "list": {"quarterly"}, "website": {""}},
			map[string]string{"Origin": "https://www.coalition.example.org"})
		if code != http.StatusOK || !strings.Contains(body, "we have sent it an email") {
			t.Fatalf("form: %d %s", code, body)
		}
		// The honeypot: the same page, nothing done.
		code, body2 := postForm(t, base+"/newsletter/subscribe", url.Values{"email": {"bot@example.org"}, "list": {"quarterly"}, "website": {"http://spam.example"}}, nil)
		if code != http.StatusOK || !strings.Contains(body2, "we have sent it an email") {
			t.Errorf("honeypot: %d", code)
		}
		// Bad input on the form: a clear page, 400.
		if code, _ := postForm(t, base+"/newsletter/subscribe", url.Values{"email": {"not-an-address"}, "list": {"quarterly"}}, nil); code != http.StatusBadRequest {
			t.Errorf("bad form: %d", code)
		}
		// The mutation, for an unknown address and for a private list.
		var sub struct {
			Subscribe struct {
				Message    *string
				UserErrors []userErr
			}
		}
		a.anon.MustDo(subscribeM, map[string]any{"in": map[string]any{"email": "reader@example.org", "lists": []string{"quarterly"}}}, &sub)
		if sub.Subscribe.Message == nil || len(sub.Subscribe.UserErrors) != 0 {
			t.Fatalf("subscribe: %+v", sub)
		}
		a.anon.MustDo(subscribeM, map[string]any{"in": map[string]any{"email": "reader@example.org", "name": "Line\r\nBcc: x@example.org", "lists": []string{"quarterly"}}}, &sub)
		if len(sub.Subscribe.UserErrors) != 1 || sub.Subscribe.UserErrors[0].Code != "INVALID" {
			t.Errorf("CR LF in the name: %+v", sub.Subscribe.UserErrors)
		}
		a.anon.MustDo(subscribeM, map[string]any{"in": map[string]any{"email": "reader@example.org", "lists": []string{"board"}}}, &sub)
		if len(sub.Subscribe.UserErrors) != 1 || sub.Subscribe.UserErrors[0].Code != "NOT_FOUND" {
			t.Errorf("private list: %+v", sub.Subscribe.UserErrors)
		}
		e.DrainOutbox()
		msgs := e.SMTP.Messages()[seen:]
		if len(msgs) != 2 {
			t.Fatalf("confirmation emails: %q", subjects(msgs))
		}
		var token string
		for _, m := range msgs {
			if !strings.HasPrefix(m.Subject, "Confirm your subscription") {
				t.Errorf("subject %q", m.Subject)
			}
			if m.To[0] == "marek.dvorak@example.cz" {
				token = confirmLinkRE.FindStringSubmatch(m.TextBody())[1]
			}
		}
		if token == "" {
			t.Fatal("no confirmation for the form's address")
		}

		// GET shows the button and confirms nothing; the POST confirms.
		req, _ := http.NewRequest(http.MethodGet, base+"/newsletter/confirm?token="+token, nil)
		if code, page := httpDo(t, req); code != http.StatusOK || !strings.Contains(page, "Confirm my subscription") || !strings.Contains(page, "Quarterly newsletter") {
			t.Fatalf("confirm page: %d %s", code, page)
		}
		var my struct {
			MySubscriber *struct {
				ID            string
				Email         string
				Subscriptions []struct {
					Status  string
					List    struct{ Slug string }
					Consent []struct{ Event, Source, ConsentVersion, IP string }
				}
			}
		}
		a.trainee.MustDo(mySubQ, nil, &my)
		if my.MySubscriber == nil || my.MySubscriber.Subscriptions[0].Status != "UNCONFIRMED" {
			t.Fatalf("before confirming: %+v", my.MySubscriber)
		}
		if code, page := postForm(t, base+"/newsletter/confirm", url.Values{"token": {token}}, nil); code != http.StatusOK || !strings.Contains(page, "confirmed") {
			t.Fatalf("confirm POST: %d %s", code, page)
		}
		var again struct {
			ConfirmSubscription struct {
				Lists      []string
				UserErrors []userErr
			}
		}
		a.anon.MustDo(confirmM, map[string]any{"t": token}, &again)
		if len(again.ConfirmSubscription.UserErrors) != 1 || again.ConfirmSubscription.UserErrors[0].Code != "ALREADY_USED" {
			t.Errorf("second use: %+v", again)
		}
		a.trainee.MustDo(mySubQ, nil, &my)
		s0 := my.MySubscriber.Subscriptions[0]
		if s0.Status != "CONFIRMED" || len(s0.Consent) != 2 || s0.Consent[0].Event != "SIGNUP" || s0.Consent[0].Source != "FORM" || s0.Consent[0].ConsentVersion == "" || s0.Consent[1].Event != "CONFIRMATION" {
			t.Fatalf("after confirming: %+v", my.MySubscriber)
		}
		subID := my.MySubscriber.ID

		// Who sees the subscriber, the subscription's list and the private list by id.
		nodeQ := `query($id: ID!) { node(id: $id) { id } }`
		for _, c := range []struct {
			name string
			cl   *testkit.Client
			id   string
			seen bool
		}{
			{"anonymous subscriber", a.anon, subID, false},
			{"other trainee subscriber", a.other, subID, false},
			{"host subscriber", a.host, subID, false},
			{"own subscriber", a.trainee, subID, true},
			{"staff subscriber", a.staff, subID, true},
			{"anonymous public list", a.anon, quarterly, true},
			{"anonymous private list", a.anon, board, false},
			{"trainee private list", a.trainee, board, false},
			{"staff private list", a.staff, board, true},
		} {
			var out struct{ Node *struct{ ID string } }
			r := c.cl.Do(nodeQ, map[string]any{"id": c.id})
			_ = json.Unmarshal(r.Data, &out)
			if (out.Node != nil) != c.seen {
				t.Errorf("node(%s): %s", c.name, r.Body)
			}
		}
		subsQ := `query($f: SubscriberFilters) { subscribers(first: 10, filter: $f) { totalCount edges { node { email } } } }`
		for _, c := range []struct {
			cl   *testkit.Client
			want string
		}{{a.anon, "UNAUTHENTICATED"}, {a.trainee, "FORBIDDEN"}, {a.host, "FORBIDDEN"}} {
			if r := c.cl.Do(subsQ, nil); r.Code() != c.want {
				t.Errorf("subscribers: %s, want %s", r.Body, c.want)
			}
		}
		var subs struct {
			Subscribers struct{ TotalCount int }
		}
		a.staff.MustDo(subsQ, map[string]any{"f": map[string]any{"listId": quarterly, "status": "CONFIRMED"}}, &subs)
		if subs.Subscribers.TotalCount != 1 {
			t.Errorf("confirmed subscribers: %d", subs.Subscribers.TotalCount)
		}
		if r := a.staff.Do(`{ subscribers { totalCount } }`, nil); len(r.Errors) == 0 {
			t.Errorf("subscribers without a page size: %s", r.Body)
		}

		// Unsubscribe: the GET page changes nothing; the one-click POST leaves.
		unsub := e.App.Newsletter.UnsubscribeURL(pulid.ID(subID), pulid.ID(quarterly))
		req, _ = http.NewRequest(http.MethodGet, unsub, nil)
		if code, page := httpDo(t, req); code != http.StatusOK || !strings.Contains(page, ">Unsubscribe</button>") {
			t.Fatalf("unsubscribe page: %d %s", code, page)
		}
		a.trainee.MustDo(mySubQ, nil, &my)
		if my.MySubscriber.Subscriptions[0].Status != "CONFIRMED" {
			t.Fatal("the GET unsubscribed")
		}
		code, text := postForm(t, unsub, url.Values{"List-Unsubscribe": {"One-Click"}}, map[string]string{"Origin": "https://mail.example.net"})
		if code != http.StatusOK || !strings.Contains(text, "unsubscribed") {
			t.Fatalf("one-click: %d %s", code, text)
		}
		a.trainee.MustDo(mySubQ, nil, &my)
		if my.MySubscriber.Subscriptions[0].Status != "UNSUBSCRIBED" {
			t.Fatalf("after one-click: %+v", my.MySubscriber)
		}
		// A forged token: 404, nothing changes.
		if code, _ := postForm(t, base+"/newsletter/unsubscribe?t=x.y", url.Values{"List-Unsubscribe": {"One-Click"}}, nil); code != http.StatusNotFound {
			t.Errorf("forged one-click: %d", code)
		}
		var sup struct {
			Suppressions struct {
				Edges []struct {
					Node struct{ Email, Reason string }
				}
			}
		}
		a.staff.MustDo(`{ suppressions(first: 10) { edges { node { email reason } } } }`, nil, &sup)
		if len(sup.Suppressions.Edges) != 1 || sup.Suppressions.Edges[0].Node.Email != "marek.dvorak@example.cz" || sup.Suppressions.Edges[0].Node.Reason != "UNSUBSCRIBED" {
			t.Errorf("suppressions: %+v", sup)
		}
		if r := a.trainee.Do(`{ suppressions(first: 10) { totalCount } }`, nil); r.Code() != "FORBIDDEN" {
			t.Errorf("trainee reads suppressions: %s", r.Body)
		}
		m, err := newsletter.IsSuppressed(e.System(), e.DB.Client, []string{"marek.dvorak@example.cz"})
		if err != nil || !m["marek.dvorak@example.cz"] {
			t.Errorf("IsSuppressed: %v %v", m, err)
		}
		// Joining again through the API lifts it, without email.
		before := len(e.SMTP.Messages())
		var upd struct {
			UpdateMySubscriptions struct{ UserErrors []userErr }
		}
		a.trainee.MustDo(`mutation($id: ID!) { updateMySubscriptions(input: {subscribe: [$id]}) { userErrors { code message } } }`, map[string]any{"id": quarterly}, &upd)
		e.DrainOutbox()
		a.trainee.MustDo(mySubQ, nil, &my)
		if len(upd.UpdateMySubscriptions.UserErrors) != 0 || my.MySubscriber.Subscriptions[0].Status != "CONFIRMED" || len(e.SMTP.Messages()) != before {
			t.Errorf("join again: %+v %+v", upd, my.MySubscriber)
		}
	})
}

// TestNewsletterWebhookHTTP: the signed webhook over HTTP: 401 for a bad signature, 409 for
// a replay, 400 for a malformed body, 200 and a suppression for a good one.
func TestNewsletterWebhookHTTP(t *testing.T) {
	const secret = "whsec-test-0123456789"
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		post := func(body, sig string, ts int64) int {
			req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/newsletter/webhook", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Coalition-Timestamp", strconv.FormatInt(ts, 10))
			req.Header.Set("X-Coalition-Signature", sig)
			code, _ := httpDo(t, req)
			return code
		}
		now := e.Clock.Now().Unix()
		good := `{"events":[{"type":"bounce","email":"gone@example.org","bounce":"hard","detail":"550 5.1.1"}]}`
		if c := post(good, newsletter.SignWebhook("wrong-secret-01234", now, []byte(good)), now); c != http.StatusUnauthorized {
			t.Errorf("bad signature: %d", c)
		}
		bad := `{"events":[{"type":"bounce","email":"nope"}]}`
		if c := post(bad, newsletter.SignWebhook(secret, now, []byte(bad)), now); c != http.StatusBadRequest {
			t.Errorf("malformed: %d", c)
		}
		if c := post(good, newsletter.SignWebhook(secret, now-3600, []byte(good)), now-3600); c != http.StatusConflict {
			t.Errorf("stale: %d", c)
		}
		if n, _ := e.DB.Client.Suppression.Query().Count(e.System()); n != 0 {
			t.Fatalf("refused requests wrote %d rows", n)
		}
		sig := newsletter.SignWebhook(secret, now, []byte(good))
		if c := post(good, sig, now); c != http.StatusOK {
			t.Errorf("good: %d", c)
		}
		if c := post(good, sig, now); c != http.StatusConflict {
			t.Errorf("replay: %d", c)
		}
		if n, _ := e.DB.Client.Suppression.Query().Count(e.System()); n != 1 {
			t.Errorf("suppressions: %d", n)
		}
	}, testkit.WithConfig(func(c *config.Config) { c.NewsletterWebhookSecret = secret }))
}
