package newsletter_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/mailinglist"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/outbox"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// tableText is every value of every row of table as text, one row a line.
func tableText(t *testing.T, s *testkit.Services, table string) string {
	t.Helper()
	rows, err := s.DB.SQL().QueryContext(s.System(), "SELECT * FROM "+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for rows.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			b.Write(v)
			b.WriteByte('|')
		}
		b.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestEraseRedactsOutbox: erasing a subscriber also removes their address and name from
// the outbox: the confirmation email, the campaign delivery (sent or not) and a test send
// keep their rows and states, but no column of outbox_messages or mail_bodies holds the
// address or the name any more; a delivery not yet sent is cancelled; another
// subscriber's rows are untouched; the campaign's counts stay.
func TestEraseRedactsOutbox(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := newCampaignWorld(t, s)
		q := mustList(t, s, w.World, "Quarterly newsletter", "quarterly", mailinglist.VisibilityPUBLIC)
		const gone, goneName, kept = "erika.mustermann@example.org", "Erika Mustermann", "keep.me@example.org"
		for _, who := range []struct{ addr, name string }{{gone, goneName}, {kept, "Kept Reader"}} {
			if err := subscribe(s, who.addr, who.name, "quarterly"); err != nil {
				t.Fatal(err)
			}
			if _, err := confirm(s, confirmTokens(t, s, who.addr)[0]); err != nil {
				t.Fatal(err)
			}
		}
		var c *ent.Campaign
		s.Must(s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
			c, err = s.Campaigns.CreateCampaign(ctx, tx, newsletter.CampaignInput{
				Subject: ptr("Spring news"), Body: ptr("# Spring\n\nSent to {{email}}."), ListIDs: &[]pulid.ID{q.ID},
			})
			return err
		})
		s.Must(s.As(w.Staff2), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Campaigns.ApproveCampaign(ctx, tx, c.ID)
			return err
		})
		s.Must(s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
			if _, err := s.Campaigns.SendTest(ctx, tx, c.ID, []string{gone}); err != nil {
				return err
			}
			_, err := s.Campaigns.SendCampaignNow(ctx, tx, c.ID)
			return err
		})
		if _, _, err := s.Campaigns.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(deliveries(t, s, c.ID)); n != 2 {
			t.Fatalf("deliveries: %d, want 2", n)
		}
		// One delivery went out already (sent), the other is still queued.
		goneID := s.DB.Client.OutboxMessage.Query().Where(outboxmessage.Recipient(gone), outboxmessage.Template(newsletter.NewsletterTemplate)).OnlyIDX(s.System())
		s.DB.Client.OutboxMessage.UpdateOneID(goneID).SetState(outboxmessage.StateSent).SetLastError("250 ok for <" + gone + ">").ExecX(s.System())
		before := tableText(t, s, "outbox_messages") + tableText(t, s, "mail_bodies")
		if !strings.Contains(before, gone) || !strings.Contains(before, goneName) {
			t.Fatalf("the test cannot fail: the outbox never held %s / %s", gone, goneName)
		}
		rowsBefore := testkit.Count(s, s.DB.Client.OutboxMessage.Query())

		s.Must(s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Newsletter.Erase(ctx, tx, "Erika.Mustermann@Example.org")
			return err
		})
		after := tableText(t, s, "outbox_messages") + tableText(t, s, "mail_bodies")
		for _, personal := range []string{gone, goneName, strings.SplitN(gone, "@", 2)[0]} {
			if strings.Contains(strings.ToLower(after), strings.ToLower(personal)) {
				t.Errorf("the outbox still holds %q after the erasure:\n%s", personal, after)
			}
		}
		if !strings.Contains(after, kept) || !strings.Contains(after, "Kept Reader") {
			t.Errorf("the other subscriber's rows were redacted too")
		}
		if n := testkit.Count(s, s.DB.Client.OutboxMessage.Query()); n != rowsBefore {
			t.Errorf("outbox rows: %d, want %d kept", n, rowsBefore)
		}
		red := s.DB.Client.OutboxMessage.Query().Where(outboxmessage.Recipient(outbox.RedactedAddress(gone))).AllX(s.System())
		states := map[string]string{}
		for _, r := range red {
			states[r.Template] = string(r.State)
		}
		want := map[string]string{"newsletter": "sent", "newsletter_confirm": "cancelled", "newsletter_test": "cancelled"}
		if fmt.Sprint(states) != fmt.Sprint(want) {
			t.Errorf("redacted rows by template: %v, want %v", states, want)
		}
		counts, err := newsletter.OutboxDeliveries{}.Counts(s.System(), s.DB.Client, c.ID)
		if err != nil || counts.Sent != 1 || counts.Queued != 1 {
			t.Errorf("campaign counts after the erasure: %+v %v", counts, err)
		}
	})
}
