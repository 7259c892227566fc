package graph_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/gocart-coalition/coalition/internal/config"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

const (
	campaignF     = `campaign { id status slug archiveUrl late progress { total queued sent failed suppressed remaining } } userErrors { field code message }`
	createCampM   = `mutation($in: CreateCampaignInput!) { createCampaign(input: $in) { ` + campaignF + ` } }`
	approveCampM  = `mutation($id: ID!) { approveCampaign(input: {id: $id}) { ` + campaignF + ` } }`
	scheduleCampM = `mutation($id: ID!, $at: Time!) { scheduleCampaign(input: {id: $id, at: $at}) { ` + campaignF + ` } }`
	sendNowM      = `mutation($id: ID!) { sendCampaignNow(input: {id: $id}) { ` + campaignF + ` } }`
)

type campaignOut struct {
	Campaign *struct {
		ID, Status, Slug string
		ArchiveURL       *string
		Late             bool
		Progress         *struct{ Total, Queued, Sent, Failed, Suppressed, Remaining int }
	}
	UserErrors []struct {
		Field         []string
		Code, Message string
	}
}

// TestCampaignEndToEnd: subscribe (mutation and form) → confirmation email → confirm →
// campaign → approval by another member of staff → scheduled → the job starts it at its
// time → every confirmed subscriber and group member gets exactly one message, multipart
// text and HTML, DKIM-signed (the signature verifies against the key's TXT record and
// covers the unsubscribe headers), with working unsubscribe headers → one-click POST → the
// next campaign skips them; the archive shows the sent campaign to anyone and nothing else.
func TestCampaignEndToEnd(t *testing.T) {
	key := newDKIMKey(t)
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		_, office := e.NewUser("office@coalition.test", "Office", viewer.RoleStaff)
		_, editor := e.NewUser("editor@coalition.test", "Editor", viewer.RoleStaff)
		anon := e.Anonymous()
		var list struct {
			CreateMailingList struct{ List struct{ ID, Slug string } }
		}
		office.MustDo(createListM, map[string]any{"in": map[string]any{"name": "Quarterly newsletter", "slug": "quarterly", "visibility": "PUBLIC"}}, &list)
		listID := list.CreateMailingList.List.ID

		// Ana and Ben subscribe through the API, Cara through the HTML form.
		for _, a := range []string{"ana@example.org", "ben@example.org"} {
			var out struct{ Subscribe struct{ UserErrors []any } }
			anon.MustDo(subscribeM, map[string]any{"in": map[string]any{"email": a, "lists": []string{"quarterly"}}}, &out)
			if len(out.Subscribe.UserErrors) > 0 {
				t.Fatalf("subscribe %s: %v", a, out.Subscribe.UserErrors)
			}
		}
		resp, err := e.Server.Client().PostForm(e.Server.URL+"/newsletter/subscribe", url.Values{"email": {"Cara@Example.org"}, "name": {"Cara"}, "list": {"quarterly"}})
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("subscribe form: %v %v", resp, err)
		}
		resp.Body.Close()
		e.DrainOutbox()
		tokens := map[string]string{}
		for _, m := range e.SMTP.Messages() {
			if mm := confirmLinkRE.FindStringSubmatch(m.TextBody()); mm != nil {
				tokens[m.To[0]] = mm[1]
			}
		}
		// Ana and Cara confirm; Ben never does.
		for _, a := range []string{"ana@example.org", "cara@example.org"} {
			if tokens[a] == "" {
				t.Fatalf("no confirmation link for %s (got %v)", a, tokens)
			}
			anon.MustDo(confirmM, map[string]any{"t": tokens[a]}, nil)
		}

		send := func(subject string, at time.Time) string {
			var c struct{ CreateCampaign campaignOut }
			office.MustDo(createCampM, map[string]any{"in": map[string]any{
				"subject": subject, "preheader": "News from the coalition",
				"body": "# " + subject + "\n\nThree new **host centres** joined: see <https://example.org/centres>.", "listIds": []string{listID},
			}}, &c)
			id := c.CreateCampaign.Campaign.ID
			if r := office.Do(approveCampM, map[string]any{"id": id}); r.Code() != "FORBIDDEN" {
				t.Fatalf("the author approves: %s", r.Body)
			}
			var ap struct{ ApproveCampaign campaignOut }
			editor.MustDo(approveCampM, map[string]any{"id": id}, &ap)
			if ap.ApproveCampaign.Campaign == nil || ap.ApproveCampaign.Campaign.Status != "APPROVED" {
				t.Fatalf("approve: %+v", ap.ApproveCampaign.UserErrors)
			}
			var sc struct{ ScheduleCampaign campaignOut }
			office.MustDo(scheduleCampM, map[string]any{"id": id, "at": at.Format(time.RFC3339)}, &sc)
			if sc.ScheduleCampaign.Campaign == nil || sc.ScheduleCampaign.Campaign.Status != "SCHEDULED" {
				t.Fatalf("schedule: %+v", sc.ScheduleCampaign.UserErrors)
			}
			return id
		}
		messagesTo := func(subject string) map[string][]testkit.ReceivedMessage {
			got := map[string][]testkit.ReceivedMessage{}
			for _, m := range e.SMTP.Messages() {
				if m.Subject == subject {
					got[m.To[0]] = append(got[m.To[0]], m)
				}
			}
			return got
		}
		runJob := func() {
			t.Helper()
			if _, _, err := e.App.Campaigns.Run(context.Background()); err != nil {
				t.Fatalf("campaigns job: %v", err)
			}
		}

		at := e.Clock.Now().Add(time.Hour)
		id := send("Spring news", at)
		runJob()
		e.DrainOutbox()
		if got := messagesTo("Spring news"); len(got) != 0 {
			t.Fatalf("sent before its time: %v", got)
		}
		e.Clock.Set(at.Add(time.Minute))
		runJob()
		e.DrainOutbox()
		runJob()
		got := messagesTo("Spring news")
		if len(got) != 2 || len(got["ana@example.org"]) != 1 || len(got["cara@example.org"]) != 1 {
			t.Fatalf("recipients = %v, want Ana and Cara once each (Ben never confirmed)", keys(got))
		}
		var unsubscribe string
		for who, ms := range got {
			m := ms[0]
			key.verify(t, who, m.Data)
			ct := m.Header.Get("Content-Type")
			if !strings.Contains(ct, "multipart/alternative") || !strings.Contains(m.TextBody(), "Three new **host centres**") || !strings.Contains(m.HTMLBody(), "<strong>host centres</strong>") {
				t.Errorf("%s: not multipart text+HTML: %s", who, ct)
			}
			lu := m.Header.Get("List-Unsubscribe")
			if !strings.HasPrefix(lu, "<"+e.Server.URL+"/newsletter/unsubscribe?t=") || m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || m.Header.Get("List-Id") == "" {
				t.Errorf("%s: unsubscribe headers %q %q %q", who, lu, m.Header.Get("List-Unsubscribe-Post"), m.Header.Get("List-Id"))
			}
			if strings.Contains(m.TextBody()+m.HTMLBody(), "{{") || !strings.Contains(m.TextBody(), who) {
				t.Errorf("%s: a placeholder was left in the message", who)
			}
			if lid := m.Header.Get("List-Id"); !listIDRE.MatchString(lid) {
				t.Errorf("%s: List-Id %q, want a phrase and <list-id> (RFC 2919)", who, lid)
			}
			if who == "ana@example.org" {
				unsubscribe = strings.Trim(lu, "<>")
			}
		}
		var c struct {
			Node struct {
				Status   string
				Progress struct{ Total, Sent, Remaining int }
			}
		}
		office.MustDo(`query($id: ID!) { node(id: $id) { ... on Campaign { status progress { total sent remaining } } } }`, map[string]any{"id": id}, &c)
		if c.Node.Status != "SENT" || c.Node.Progress.Total != 2 || c.Node.Progress.Sent != 2 || c.Node.Progress.Remaining != 0 {
			t.Fatalf("campaign after sending: %+v", c.Node)
		}

		// Ana unsubscribes with one click (RFC 8058): no cookie, no redirect.
		req, _ := http.NewRequest(http.MethodPost, unsubscribe, strings.NewReader("List-Unsubscribe=One-Click"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err = http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("one-click unsubscribe: %v %v", resp, err)
		}
		resp.Body.Close()

		at2 := e.Clock.Now().Add(time.Hour)
		send("Summer news", at2)
		e.Clock.Set(at2.Add(time.Minute))
		runJob()
		e.DrainOutbox()
		runJob()
		got = messagesTo("Summer news")
		if len(got) != 1 || len(got["cara@example.org"]) != 1 {
			t.Fatalf("second campaign went to %v, want Cara only", keys(got))
		}

		// The archive: the sent campaigns to anyone; a draft nowhere.
		var draft struct{ CreateCampaign campaignOut }
		office.MustDo(createCampM, map[string]any{"in": map[string]any{"subject": "Secret draft", "body": "not yet", "listIds": []string{listID}}}, &draft)
		page := get(t, e, "/newsletter")
		if !strings.Contains(page, "Spring news") || strings.Contains(page, "Secret draft") {
			t.Fatalf("archive page: %s", page)
		}
		var slug struct {
			Campaigns struct {
				Edges []struct {
					Node struct{ Slug, Subject string }
				}
			}
		}
		anon.MustDo(`{ campaigns(first: 10) { edges { node { slug subject } } } }`, nil, &slug)
		if n := len(slug.Campaigns.Edges); n != 2 {
			t.Fatalf("anonymous sees %d campaigns, want the 2 sent", n)
		}
		issue := get(t, e, "/newsletter/"+slug.Campaigns.Edges[0].Node.Slug)
		if !strings.Contains(issue, "<strong>host centres</strong>") || strings.Contains(issue, "unsubscribe?t=") || strings.Contains(issue, "@example.org") {
			t.Fatalf("archive issue: %s", issue)
		}
		feed := get(t, e, "/newsletter.atom")
		if !strings.Contains(feed, "<feed xmlns=\"http://www.w3.org/2005/Atom\">") || !strings.Contains(feed, "Summer news") || strings.Contains(feed, "Secret draft") {
			t.Fatalf("feed: %s", feed)
		}
		if r := anon.Do(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": draft.CreateCampaign.Campaign.ID}); !strings.Contains(string(r.Body), `"node":null`) && r.Code() != "NOT_FOUND" {
			t.Fatalf("anonymous node(id:) of a draft: %s", r.Body)
		}
	}, testkit.WithConfig(func(c *config.Config) {
		c.DKIMKeyFile, c.DKIMDomain, c.DKIMSelector = key.file, "coalition.test", "news2026"
	}))
}

// listIDRE is RFC 2919's List-Id: an optional phrase, then <list-label "." list-id-namespace>.
var listIDRE = regexp.MustCompile(`^[^<>\r\n]*<[A-Za-z0-9!#$%&'*+/=?^_{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_{|}~-]+)+>$`)

// dkimKey is an RSA key written as PEM for COALITION_DKIM_KEY_FILE, and the TXT record
// that publishes it at news2026._domainkey.coalition.test.
type dkimKey struct{ file, txt string }

func newDKIMKey(t *testing.T) dkimKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600); err != nil {
		t.Fatal(err)
	}
	return dkimKey{file: file, txt: "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)}
}

// verify checks that raw carries exactly one DKIM signature, by coalition.test, that
// verifies with the published key and signs the unsubscribe headers.
func (k dkimKey) verify(t *testing.T, who string, raw []byte) {
	t.Helper()
	if vs, err := k.check(raw); err != nil || len(vs) != 1 {
		t.Errorf("%s: DKIM: %d signatures, %v", who, len(vs), err)
		return
	} else if v := vs[0]; v.Err != nil || v.Domain != "coalition.test" {
		t.Errorf("%s: DKIM signature by %q does not verify: %v", who, v.Domain, v.Err)
	} else {
		signed := strings.Split(strings.ToLower(strings.Join(v.HeaderKeys, ",")), ",")
		for _, h := range []string{"from", "to", "subject", "list-unsubscribe", "list-unsubscribe-post"} {
			if !slices.Contains(signed, h) {
				t.Errorf("%s: DKIM does not sign %s (signs %v)", who, h, signed)
			}
		}
	}
	// The check can fail: the same message with one word of its text changed does not verify.
	tampered := bytes.Replace(raw, []byte("host centres"), []byte("host centers"), 1)
	if vs, err := k.check(tampered); err != nil || len(vs) != 1 || vs[0].Err == nil {
		t.Errorf("%s: a changed message still verifies (%v)", who, err)
	}
}

func (k dkimKey) check(raw []byte) ([]*dkim.Verification, error) {
	return dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != "news2026._domainkey.coalition.test" {
				return nil, fmt.Errorf("no TXT record at %s", domain)
			}
			return []string{k.txt}, nil
		},
	})
}

func get(t *testing.T, e *testkit.Env, path string) string {
	t.Helper()
	resp, err := e.Server.Client().Get(e.Server.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}
