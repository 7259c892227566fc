package newsletter_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/consentevidence"
	"github.com/gocart-coalition/coalition/ent/mailinglist"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/subscriber"
	"github.com/gocart-coalition/coalition/ent/suppression"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// mustList creates a list as staff.
func mustList(t *testing.T, s *testkit.Services, w *testkit.World, name, slug string, vis mailinglist.Visibility) *ent.MailingList {
	t.Helper()
	var l *ent.MailingList
	testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
		var err error
		l, err = s.Newsletter.CreateList(ctx, tx, newsletter.ListInput{Name: &name, Slug: &slug, Visibility: &vis})
		return err
	})
	return l
}

func subscribe(s *testkit.Services, email, name string, lists ...string) error {
	return s.Do(s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.Newsletter.Subscribe(ctx, tx, newsletter.SubscribeInput{Email: email, Name: name, Lists: lists, Source: newsletter.SourceAPI, IP: "192.0.2.7"})
		return err
	})
}

var confirmRE = regexp.MustCompile(`/newsletter/confirm\?token=(nc_[A-Za-z0-9_-]+)`)

// confirmTokens returns the confirmation secrets emailed to addr, oldest first.
func confirmTokens(t *testing.T, s *testkit.Services, addr string) []string {
	t.Helper()
	rows, err := s.DB.Client.OutboxMessage.Query().Where(outboxmessage.Recipient(addr), outboxmessage.Template("newsletter_confirm")).
		Order(ent.Asc(outboxmessage.FieldCreatedAt)).All(s.System())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		m := confirmRE.FindStringSubmatch(r.TextBody)
		if m == nil {
			t.Fatalf("no confirmation link in %q", r.TextBody)
		}
		out = append(out, m[1])
	}
	return out
}

func confirm(s *testkit.Services, token string) ([]string, error) {
	var lists []string
	err := s.Do(s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
		var err error
		lists, err = s.Newsletter.Confirm(ctx, tx, token, "198.51.100.4", newsletter.SourceForm)
		return err
	})
	return lists, err
}

func status(t *testing.T, s *testkit.Services, addr string, l *ent.MailingList) string {
	t.Helper()
	r, err := s.DB.Client.NewsletterSubscription.Query().Where(newslettersubscription.HasSubscriberWith(subscriber.Email(addr)), newslettersubscription.ListID(l.ID)).Only(s.System())
	if ent.IsNotFound(err) {
		return "none"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(r.Status)
}

// TestDoubleOptIn: subscribe → one confirmation email (none within the hour after it) →
// confirm (evidence: signup with the consent text and version and IP; confirmation with
// its IP) → the link a second time is ALREADY_USED; an expired link is EXPIRED; an
// unknown one NOT_FOUND.
func TestDoubleOptIn(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		q := mustList(t, s, w, "Quarterly newsletter", "quarterly", mailinglist.VisibilityPUBLIC)
		p := mustList(t, s, w, "Policy statements", "policy", mailinglist.VisibilityPUBLIC)
		const addr = "ana.novak@fnol.example"
		if err := subscribe(s, "  Ana.Novak@FNOL.example ", "Ana Novák", "quarterly"); err != nil {
			t.Fatal(err)
		}
		if err := subscribe(s, addr, "", "policy"); err != nil { // within the hour: no second email
			t.Fatal(err)
		}
		tokens := confirmTokens(t, s, addr)
		if len(tokens) != 1 {
			t.Fatalf("confirmation emails: %d, want 1", len(tokens))
		}
		if got := status(t, s, addr, q) + " " + status(t, s, addr, p); got != "UNCONFIRMED UNCONFIRMED" {
			t.Fatalf("before confirming: %s", got)
		}
		lists, err := confirm(s, tokens[0])
		if err != nil || len(lists) != 2 {
			t.Fatalf("confirm: %v %v", lists, err)
		}
		if got := status(t, s, addr, q) + " " + status(t, s, addr, p); got != "CONFIRMED CONFIRMED" {
			t.Fatalf("after confirming: %s", got)
		}
		ev, err := s.DB.Client.ConsentEvidence.Query().Order(ent.Asc(consentevidence.FieldAt), ent.Asc(consentevidence.FieldID)).All(s.System())
		if err != nil {
			t.Fatal(err)
		}
		if len(ev) != 4 {
			t.Fatalf("evidence rows: %d, want 4", len(ev))
		}
		for _, e := range ev {
			switch e.Event {
			case consentevidence.EventSIGNUP:
				if e.ConsentText != s.Newsletter.ConsentText() || e.ConsentVersion != s.Newsletter.ConsentVersion() || e.IP != "192.0.2.7" || e.Source != consentevidence.SourceAPI {
					t.Errorf("signup evidence: %+v", e)
				}
			case consentevidence.EventCONFIRMATION:
				if e.IP != "198.51.100.4" {
					t.Errorf("confirmation evidence: %+v", e)
				}
			}
		}
		if _, err := confirm(s, tokens[0]); testkit.Outcome(err) != "ALREADY_USED" {
			t.Errorf("second use: %v", err)
		}
		if _, err := confirm(s, "nc_"+strings.Repeat("A", 43)); testkit.Outcome(err) != "NOT_FOUND" {
			t.Errorf("unknown link: %v", err)
		}
		if _, err := confirm(s, "not a token"); testkit.Outcome(err) != "NOT_FOUND" {
			t.Errorf("malformed link: %v", err)
		}

		// Expiry: a new address, the clock moved past 7 days.
		if err := subscribe(s, "late@example.org", "", "quarterly"); err != nil {
			t.Fatal(err)
		}
		late := confirmTokens(t, s, "late@example.org")
		s.Clock.Advance(newsletter.ConfirmTTL + time.Minute)
		if _, err := confirm(s, late[0]); testkit.Outcome(err) != "EXPIRED" {
			t.Errorf("expired link: %v", err)
		}
		if got := status(t, s, "late@example.org", q); got != "UNCONFIRMED" {
			t.Errorf("expired link changed the subscription: %s", got)
		}
	})
}

// TestSubscribeBadInput: each bad request is a clear user error and writes nothing; the
// answer for a known, an unknown and a suppressed address is the same.
func TestSubscribeBadInput(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		mustList(t, s, w, "Quarterly newsletter", "quarterly", mailinglist.VisibilityPUBLIC)
		mustList(t, s, w, "Board", "board", mailinglist.VisibilityPRIVATE)
		for _, c := range []struct {
			name, email, who string
			lists            []string
			want             string
		}{
			{"malformed", "not-an-address", "", []string{"quarterly"}, "INVALID"},
			{"no domain dot", "a@localhost", "", []string{"quarterly"}, "INVALID"},
			{"overlong", strings.Repeat("a", 250) + "@example.org", "", []string{"quarterly"}, "INVALID"},
			{"zero-width", "a\u200b@example.org", "", []string{"quarterly"}, "INVALID"},
			{"IDN label over 63 octets once encoded", "a@bücherstraßeöffnungszeitenübersichtsverzeichnisgemeinschaftsausschussvorsitzender.example", "", []string{"quarterly"}, "INVALID"},
			{"IDN address over 254 octets once encoded", strings.Repeat("a", 60) + "@" + strings.Repeat(strings.Repeat("ü", 20)+".", 8) + "example", "", []string{"quarterly"}, "INVALID"},
			{"IDN with a space", "a@bü cher.example", "", []string{"quarterly"}, "INVALID"},
			{"right-to-left override in the domain", "a@b\u202eücher.example", "", []string{"quarterly"}, "INVALID"},
			{"empty", "", "", []string{"quarterly"}, "REQUIRED"},
			{"CR LF in name", "a@example.org", "Ana\r\nBcc: x@example.org", []string{"quarterly"}, "INVALID"},
			{"overlong name", "a@example.org", strings.Repeat("n", 201), []string{"quarterly"}, "TOO_LONG"},
			{"no list", "a@example.org", "", nil, "REQUIRED"},
			{"unknown list", "a@example.org", "", []string{"nope"}, "NOT_FOUND"},
			{"private list", "a@example.org", "", []string{"board"}, "NOT_FOUND"},
		} {
			if got := testkit.Outcome(subscribe(s, c.email, c.who, c.lists...)); got != c.want {
				t.Errorf("%s: %s, want %s", c.name, got, c.want)
			}
		}
		if n := testkit.Count(s, s.DB.Client.Subscriber.Query()) + testkit.Count(s, s.DB.Client.OutboxMessage.Query().Where(outboxmessage.Template("newsletter_confirm"))); n != 0 {
			t.Errorf("bad input wrote %d rows", n)
		}
		// IDN: the domain is stored in ASCII.
		if err := subscribe(s, "jan@bücher.example", "", "quarterly"); err != nil {
			t.Fatal(err)
		}
		if testkit.Count(s, s.DB.Client.Subscriber.Query().Where(subscriber.Email("jan@xn--bcher-kva.example"))) != 1 {
			t.Error("IDN address not normalised")
		}
		// Suppressed (hard bounce): the same answer, no email.
		testkit.MustDo(t, s, s.System(), func(ctx context.Context, tx *ent.Client) error {
			_, err := newsletter.Suppress(ctx, tx, "bounced@example.org", newsletter.ReasonHardBounce, "550 no such user")
			return err
		})
		var msg string
		s.Must(s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
			var err error
			msg, err = s.Newsletter.Subscribe(ctx, tx, newsletter.SubscribeInput{Email: "bounced@example.org", Lists: []string{"quarterly"}, IP: "192.0.2.8", Source: newsletter.SourceForm})
			return err
		})
		if msg != newsletter.SubscribedMessage || len(confirmTokens(t, s, "bounced@example.org")) != 0 {
			t.Errorf("suppressed address: %q, emails %d", msg, len(confirmTokens(t, s, "bounced@example.org")))
		}
		// Rate limit per address: the sixth request within the hour.
		for i := range 6 {
			err := subscribe(s, "eager@example.org", "", "quarterly")
			if got, want := testkit.Outcome(err), map[bool]string{true: "RATE_LIMITED", false: "ok"}[i == 5]; got != want {
				t.Errorf("request %d: %s, want %s", i+1, got, want)
			}
		}
	})
}

// TestNewsletterPermissions is the table of the newsletter's operations × every role.
func TestNewsletterPermissions(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		pub := mustList(t, s, w, "Quarterly newsletter", "quarterly", mailinglist.VisibilityPUBLIC)
		priv := mustList(t, s, w, "Board", "board", mailinglist.VisibilityPRIVATE)
		n := 0
		ops := []struct {
			name string
			do   func(ctx context.Context, tx *ent.Client) error
			want map[string]string // by actor; missing: FORBIDDEN (anonymous: UNAUTHENTICATED)
		}{
			{"createMailingList", func(ctx context.Context, tx *ent.Client) error {
				n++
				name, slug := "List "+string(rune('a'+n)), "list-"+string(rune('a'+n))
				_, err := s.Newsletter.CreateList(ctx, tx, newsletter.ListInput{Name: &name, Slug: &slug})
				return err
			}, map[string]string{"staff": "ok"}},
			{"subscribers", func(ctx context.Context, _ *ent.Client) error {
				_, err := s.Newsletter.Subscribers(ctx, newsletter.SubscriberFilter{}, newsletter.Page{First: ptr(10)}, nil)
				return err
			}, map[string]string{"staff": "ok"}},
			{"suppressions", func(ctx context.Context, _ *ent.Client) error {
				_, err := s.Newsletter.Suppressions(ctx, nil, newsletter.Page{First: ptr(10)}, nil)
				return err
			}, map[string]string{"staff": "ok"}},
			{"subscribersCsv", func(ctx context.Context, _ *ent.Client) error {
				_, err := s.Newsletter.ExportCSV(ctx, pub.ID)
				return err
			}, map[string]string{"staff": "ok"}},
			{"importSubscribers", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Newsletter.Import(ctx, tx, newsletter.ImportInput{ListID: pub.ID, CSV: "email\r\nx@example.org\r\n"})
				return err
			}, map[string]string{"staff": "ok"}},
			{"suppressAddress", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Newsletter.SuppressAddress(ctx, tx, "spam@example.org", "asked by phone")
				return err
			}, map[string]string{"staff": "ok"}},
			{"eraseSubscriber", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Newsletter.Erase(ctx, tx, "gone@example.org")
				return err
			}, map[string]string{"staff": "ok"}},
			{"updateMySubscriptions join public", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Newsletter.UpdateMySubscriptions(ctx, tx, []pulid.ID{pub.ID}, nil)
				return err
			}, map[string]string{"trainee": "ok", "other trainee": "ok", "host": "ok", "other host": "ok", "former host": "ok", "staff": "ok"}},
			{"updateMySubscriptions join private", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Newsletter.UpdateMySubscriptions(ctx, tx, []pulid.ID{priv.ID}, nil)
				return err
			}, map[string]string{"trainee": "NOT_FOUND", "other trainee": "NOT_FOUND", "host": "NOT_FOUND", "other host": "NOT_FOUND", "former host": "NOT_FOUND", "staff": "INVALID"}},
			{"mySubscriber", func(ctx context.Context, _ *ent.Client) error {
				_, err := s.Newsletter.MySubscriber(ctx)
				return err
			}, map[string]string{"trainee": "ok", "other trainee": "ok", "host": "ok", "other host": "ok", "former host": "ok", "staff": "ok"}},
		}
		for _, op := range ops {
			for _, a := range w.Actors(s) {
				want, ok := op.want[a.Name]
				if !ok {
					want = "FORBIDDEN"
					if a.Name == "anonymous" {
						want = "UNAUTHENTICATED"
					}
				}
				if err := s.Do(a.Ctx, op.do); testkit.Outcome(err) != want {
					got := testkit.Outcome(err) + " " + fmtErr(err)
					t.Errorf("%s as %s: %s, want %s", op.name, a.Name, got, want)
				}
			}
		}
		// Reads through privacy: each person sees only their own subscriber row and subscriptions;
		// anonymous none; a trainee sees the public list but not the private one.
		for _, a := range w.Actors(s) {
			subs, err := s.DB.Client.Subscriber.Query().All(a.Ctx)
			if err != nil {
				t.Fatal(err)
			}
			switch a.Name {
			case "anonymous":
				if len(subs) != 0 {
					t.Errorf("anonymous reads %d subscribers", len(subs))
				}
			case "staff":
				if len(subs) < 6 {
					t.Errorf("staff reads %d subscribers", len(subs))
				}
			default:
				if len(subs) != 1 {
					t.Errorf("%s reads %d subscribers, want their own", a.Name, len(subs))
				}
			}
			lists, err := s.DB.Client.MailingList.Query().Where(mailinglist.ID(priv.ID)).Count(a.Ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 1, false: 0}[a.Name == "staff"]; lists != want {
				t.Errorf("%s sees the private list %d times, want %d", a.Name, lists, want)
			}
			ev, err := s.DB.Client.ConsentEvidence.Query().Count(a.Ctx)
			if err != nil {
				t.Fatal(err)
			}
			if a.Name == "anonymous" && ev != 0 {
				t.Errorf("anonymous reads %d consent records", ev)
			}
		}
		// A person cannot change another's subscription through the ent client directly.
		other, err := s.DB.Client.NewsletterSubscription.Query().Where(newslettersubscription.HasSubscriberWith(subscriber.Email(w.OtherTrainee.Email))).Only(s.System())
		if err != nil {
			t.Fatal(err)
		}
		err = s.Do(s.As(w.Trainee), func(ctx context.Context, tx *ent.Client) error {
			return tx.NewsletterSubscription.UpdateOneID(other.ID).SetStatus(newslettersubscription.StatusUNSUBSCRIBED).Exec(ctx)
		})
		if err == nil {
			t.Error("a trainee changed another's subscription")
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestOwnSubscriptions: a signed-in person joins (CONFIRMED at once, evidence source API),
// leaves the last list (suppressed as unsubscribed) and joins again (lifted), without email.
func TestOwnSubscriptions(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		q := mustList(t, s, w, "Quarterly newsletter", "quarterly", mailinglist.VisibilityPUBLIC)
		me := s.As(w.Trainee)
		do := func(join, leave []pulid.ID) {
			t.Helper()
			testkit.MustDo(t, s, me, func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Newsletter.UpdateMySubscriptions(ctx, tx, join, leave)
				return err
			})
		}
		do([]pulid.ID{q.ID}, nil)
		if got := status(t, s, w.Trainee.Email, q); got != "CONFIRMED" {
			t.Fatalf("joined: %s", got)
		}
		supp := func() bool {
			m, err := newsletter.IsSuppressed(s.System(), s.DB.Client, []string{w.Trainee.Email})
			if err != nil {
				t.Fatal(err)
			}
			return m[w.Trainee.Email]
		}
		do(nil, []pulid.ID{q.ID})
		if got := status(t, s, w.Trainee.Email, q); got != "UNSUBSCRIBED" || !supp() {
			t.Fatalf("left: %s, suppressed %v", got, supp())
		}
		do([]pulid.ID{q.ID}, nil)
		if got := status(t, s, w.Trainee.Email, q); got != "CONFIRMED" || supp() {
			t.Fatalf("joined again: %s, suppressed %v", got, supp())
		}
		if n := testkit.Count(s, s.DB.Client.OutboxMessage.Query()); n != 0 {
			t.Errorf("own subscriptions sent %d emails", n)
		}
		sub, err := s.Newsletter.MySubscriber(me)
		if err != nil || sub == nil || sub.UserID == nil || *sub.UserID != w.Trainee.ID {
			t.Fatalf("mySubscriber: %+v %v", sub, err)
		}
	})
}

// TestUnsubscribeTokens: a token names one subscriber (and list); tampering is refused;
// one-click leaves the list and suppresses an address left on none.
func TestUnsubscribeTokens(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		q := mustList(t, s, w, "Quarterly newsletter", "quarterly", mailinglist.VisibilityPUBLIC)
		for _, who := range []string{"a@example.org", "b@example.org"} {
			if err := subscribe(s, who, "", "quarterly"); err != nil {
				t.Fatal(err)
			}
			if _, err := confirm(s, confirmTokens(t, s, who)[0]); err != nil {
				t.Fatal(err)
			}
		}
		subA := s.DB.Client.Subscriber.Query().Where(subscriber.Email("a@example.org")).OnlyX(s.System())
		subB := s.DB.Client.Subscriber.Query().Where(subscriber.Email("b@example.org")).OnlyX(s.System())
		tok := s.Newsletter.Token(subA.ID, q.ID)
		if id, l, err := s.Newsletter.ParseToken(tok); err != nil || id != subA.ID || l != q.ID {
			t.Fatalf("ParseToken: %s %s %v", id, l, err)
		}
		if len(tok) != 67 {
			t.Errorf("token %q is %d characters, want 67 (two ULIDs as bytes and an 18-byte MAC)", tok, len(tok))
		}
		// The signature of A's token does not work for B, nor for A on every list.
		rawA, errA := base64.RawURLEncoding.DecodeString(tok)
		rawB, errB := base64.RawURLEncoding.DecodeString(s.Newsletter.Token(subB.ID, q.ID))
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		forged := base64.RawURLEncoding.EncodeToString(append(slices.Clone(rawB[:32]), rawA[32:]...))
		widened := base64.RawURLEncoding.EncodeToString(append(slices.Clone(rawA[:16]), rawA[32:]...))
		for _, bad := range []string{forged, widened, "", "x.y", tok + "A", tok[:len(tok)-1]} {
			if _, _, err := s.Newsletter.ParseToken(bad); err == nil {
				t.Errorf("ParseToken(%q) accepted", bad)
			}
			err := s.Do(s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Newsletter.UnsubscribeByToken(ctx, tx, bad)
				return err
			})
			if testkit.Outcome(err) != "NOT_FOUND" {
				t.Errorf("unsubscribe with %q: %v", bad, err)
			}
		}
		if status(t, s, "b@example.org", q) != "CONFIRMED" {
			t.Fatal("a bad token changed B")
		}
		// Describing changes nothing; one-click leaves.
		if _, err := s.Newsletter.DescribeUnsubscribe(s.Anonymous(), tok); err != nil || status(t, s, "a@example.org", q) != "CONFIRMED" {
			t.Fatalf("describe: %v", err)
		}
		s.Must(s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Newsletter.UnsubscribeByToken(ctx, tx, tok)
			return err
		})
		m, _ := newsletter.IsSuppressed(s.System(), s.DB.Client, []string{"A@example.org", "b@example.org"})
		if status(t, s, "a@example.org", q) != "UNSUBSCRIBED" || !m["A@example.org"] || m["b@example.org"] {
			t.Errorf("after one-click: %s, suppressed %v", status(t, s, "a@example.org", q), m)
		}
		if u := s.Newsletter.UnsubscribeURL(subA.ID, ""); !strings.HasPrefix(u, testkit.PublicURL+"/newsletter/unsubscribe?t=") {
			t.Errorf("UnsubscribeURL = %s", u)
		}
	})
}

// TestImportCSV: a bad file is refused whole with line numbers; a good one imports.
func TestImportCSV(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		q := mustList(t, s, w, "Quarterly newsletter", "quarterly", mailinglist.VisibilityPUBLIC)
		imp := func(csv string, attest bool, reason string) (newsletter.ImportResult, error) {
			var res newsletter.ImportResult
			err := s.Do(s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
				var err error
				res, err = s.Newsletter.Import(ctx, tx, newsletter.ImportInput{ListID: q.ID, CSV: csv, Attest: attest, Reason: reason})
				return err
			})
			return res, err
		}
		for _, c := range []struct {
			name, csv, want, field string
		}{
			{"wrong columns", "mail,full name\r\na@example.org,A\r\n", "INVALID", "line 1"},
			{"extra column", "email,name,phone\r\na@example.org,A,1\r\n", "INVALID", "line 1"},
			{"not UTF-8 (Latin-1)", "email,name\r\na@example.org,Ren\xe9\r\n", "INVALID", ""},
			{"UTF-16 with its byte order mark", "\xff\xfee\x00m\x00a\x00i\x00l\x00\r\x00\n\x00", "INVALID", ""},
			{"formula cell in the address column", "email\r\n@SUM(1+1)@example.org\r\n", "INVALID", "line 2"},
			{"formula cell after a space-free plus", "email,name\r\n+33@example.org,A\r\n", "INVALID", "line 2"},
			{"formula cell", "email,name\r\na@example.org,A\r\nb@example.org,=HYPERLINK(\"http://x\")\r\n", "INVALID", "line 3"},
			{"bad address", "email,name\r\na@example.org,A\r\nnot-an-address,B\r\n", "INVALID", "line 3"},
			{"CR LF in a quoted name", "email,name\r\na@example.org,\"A\r\nB\"\r\n", "INVALID", "line 2"},
			{"duplicate", "email\r\na@example.org\r\nA@Example.org\r\n", "INVALID", "line 3"},
			{"ragged row", "email,name\r\na@example.org\r\n", "INVALID", "line 2"},
			{"empty", "", "REQUIRED", ""},
			{"header only", "email,name\r\n", "REQUIRED", ""},
		} {
			_, err := imp(c.csv, false, "")
			if got := testkit.Outcome(err); got != c.want {
				t.Errorf("%s: %s, want %s (%v)", c.name, got, c.want, err)
				continue
			}
			if c.field != "" && !strings.Contains(err.Error()+fieldsOf(err), c.field) {
				t.Errorf("%s: %v does not name %s", c.name, err, c.field)
			}
		}
		if n := testkit.Count(s, s.DB.Client.Subscriber.Query()); n != 0 {
			t.Fatalf("refused imports wrote %d subscribers", n)
		}
		if _, err := imp("email\r\na@example.org\r\n", true, ""); testkit.Outcome(err) != "REQUIRED" {
			t.Errorf("attestation without a reason: %v", err)
		}
		res, err := imp("\ufeffEmail,Name\r\nana@example.org,Ana\r\nben@example.org,Ben\r\n", true, "Signed paper forms at the 2026 congress")
		if err != nil || res.Imported != 2 {
			t.Fatalf("attested import: %+v %v", res, err)
		}
		if status(t, s, "ana@example.org", q) != "CONFIRMED" {
			t.Error("attested import not confirmed")
		}
		ev := s.DB.Client.ConsentEvidence.Query().Where(consentevidence.EventEQ(consentevidence.EventATTESTATION)).AllX(s.System())
		if len(ev) != 2 || ev[0].Source != consentevidence.SourceIMPORT || ev[0].Note != "Signed paper forms at the 2026 congress" || ev[0].ActorID != string(w.Staff.ID) {
			t.Errorf("attestation evidence: %+v", ev)
		}
		res, err = imp("email,name\r\ncara@example.org,Cara\r\nana@example.org,Ana\r\n", false, "")
		if err != nil || res.Imported != 1 || res.Skipped != 1 {
			t.Fatalf("opt-in import: %+v %v", res, err)
		}
		if status(t, s, "cara@example.org", q) != "UNCONFIRMED" || len(confirmTokens(t, s, "cara@example.org")) != 1 {
			t.Error("opt-in import: no pending subscription and email")
		}
		csv, err := s.Newsletter.ExportCSV(s.As(w.Staff), q.ID)
		if err != nil || !strings.HasPrefix(csv, "email,name,status,") || !strings.Contains(csv, "ana@example.org,Ana,CONFIRMED,") {
			t.Errorf("export: %v\n%s", err, csv)
		}
	})
}

func fieldsOf(err error) string {
	var b strings.Builder
	if ue, ok := asUserErrors(err); ok {
		for _, e := range ue {
			b.WriteString(strings.Join(e.Field, "/") + " ")
		}
	}
	return b.String()
}

// TestWebhook: a signed, fresh, unseen request suppresses; a bad signature, a stale
// timestamp, a replay or a malformed body is refused and writes nothing.
func TestWebhook(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		svc, err := newsletter.New(newsletter.Config{Client: s.DB.Client, Now: s.Clock.Now, Notifier: s.Notifier, PublicURL: testkit.PublicURL,
			Key: []byte(strings.Repeat("k", 32)), WebhookSecret: "whsec-0123456789abcdef"})
		if err != nil {
			t.Fatal(err)
		}
		body := []byte(`{"events":[{"type":"bounce","email":"Gone@Example.org","bounce":"hard","detail":"550 5.1.1 no such user"},{"type":"complaint","email":"angry@example.org"},{"type":"bounce","email":"full@example.org","bounce":"soft"}]}`)
		now := s.Clock.Now().Unix()
		ts := func(t int64) string { return strconvI(t) }
		sig := newsletter.SignWebhook("whsec-0123456789abcdef", now, body)
		for _, c := range []struct {
			name, ts, sig string
			want          error
		}{
			{"wrong secret", ts(now), newsletter.SignWebhook("other-secret-0123", now, body), newsletter.ErrWebhookSignature},
			{"body changed", ts(now), newsletter.SignWebhook("whsec-0123456789abcdef", now, append([]byte(" "), body...)), newsletter.ErrWebhookSignature},
			{"stale", ts(now - 600), newsletter.SignWebhook("whsec-0123456789abcdef", now-600, body), newsletter.ErrWebhookStale},
			{"no timestamp", "", sig, newsletter.ErrWebhookStale},
		} {
			if err := svc.VerifyWebhook(c.ts, c.sig, body); err != c.want {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
		}
		if err := svc.VerifyWebhook(ts(now), sig, body); err != nil {
			t.Fatalf("good request: %v", err)
		}
		if err := svc.VerifyWebhook(ts(now), sig, body); err != newsletter.ErrWebhookReplay {
			t.Errorf("replay: %v", err)
		}
		for _, bad := range []string{`{"events":[{"type":"bounce","email":"x@example.org","bounce":"hard"},{"type":"bounce","email":"nope"}]}`, `{"events":[]}`, `[1]`, `{"events":[{"type":"unsubscribe","email":"x@example.org"}]}`, `{"events":[],"extra":1}`} {
			err := s.Do(s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
				_, err := svc.HandleWebhook(ctx, tx, []byte(bad))
				return err
			})
			var we newsletter.WebhookError
			if !asWebhookError(err, &we) {
				t.Errorf("%s: %v", bad, err)
			}
		}
		if n := testkit.Count(s, s.DB.Client.Suppression.Query()); n != 0 {
			t.Fatalf("refused bodies wrote %d suppressions", n)
		}
		var res newsletter.WebhookResult
		s.Must(s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
			var err error
			res, err = svc.HandleWebhook(ctx, tx, body)
			return err
		})
		if res.Suppressed != 2 || res.Ignored != 1 {
			t.Errorf("result %+v", res)
		}
		rows := s.DB.Client.Suppression.Query().Order(ent.Asc(suppression.FieldEmail)).AllX(s.System())
		if len(rows) != 2 || rows[0].Email != "angry@example.org" || rows[0].Reason != suppression.ReasonCOMPLAINT || rows[1].Email != "gone@example.org" || rows[1].Reason != suppression.ReasonHARD_BOUNCE {
			t.Errorf("suppressions: %+v", rows)
		}
	})
}

// TestErase: the person's rows are deleted; only the hash of the address stays, suppressed;
// an audit event records it.
func TestErase(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		mustList(t, s, w, "Quarterly newsletter", "quarterly", mailinglist.VisibilityPUBLIC)
		if err := subscribe(s, "erase.me@example.org", "Erase Me", "quarterly"); err != nil {
			t.Fatal(err)
		}
		if _, err := confirm(s, confirmTokens(t, s, "erase.me@example.org")[0]); err != nil {
			t.Fatal(err)
		}
		var existed bool
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
			var err error
			existed, err = s.Newsletter.Erase(ctx, tx, "Erase.Me@example.org")
			return err
		})
		if !existed {
			t.Error("erase: not found")
		}
		if n := testkit.Count(s, s.DB.Client.Subscriber.Query()) + testkit.Count(s, s.DB.Client.NewsletterSubscription.Query()) + testkit.Count(s, s.DB.Client.ConsentEvidence.Query()); n != 0 {
			t.Errorf("%d rows left", n)
		}
		// The address is kept only as its keyed hash (not the plain one, which anyone can
		// compute from a guessed address).
		key, err := os.ReadFile(s.Config.NewsletterKeyFile())
		if err != nil {
			t.Fatal(err)
		}
		rows := s.DB.Client.Suppression.Query().AllX(s.System())
		if len(rows) != 1 || rows[0].Email != "" || rows[0].Reason != suppression.ReasonERASED || rows[0].EmailHash != newsletter.KeyedHash(key, "erase.me@example.org") {
			t.Errorf("suppression: %+v", rows)
		}
		m, _ := newsletter.IsSuppressedKeyed(s.System(), s.DB.Client, key, []string{"erase.me@example.org"})
		if !m["erase.me@example.org"] {
			t.Error("erased address not suppressed")
		}
		if n := testkit.Count(s, s.DB.Client.AuditEvent.Query()); n == 0 {
			t.Error("no audit event")
		}
	})
}

// TestTokensMisused: a confirmation link confirms its own address only, never another
// waiting one, and a refused link writes nothing; an unsubscribe link used twice answers
// the same and writes nothing the second time; unsubscribe links do not expire (a
// recipient may click one in a year-old email), confirmation links do.
func TestTokensMisused(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		q := mustList(t, s, w, "Quarterly newsletter", "quarterly", mailinglist.VisibilityPUBLIC)
		for _, a := range []string{"ana@example.org", "ben@example.org"} {
			if err := subscribe(s, a, "", "quarterly"); err != nil {
				t.Fatal(err)
			}
		}
		rows := func() int {
			return testkit.Count(s, s.DB.Client.ConsentEvidence.Query()) + 100*testkit.Count(s, s.DB.Client.Suppression.Query())
		}
		ana := confirmTokens(t, s, "ana@example.org")[0]
		if lists, err := confirm(s, ana); err != nil || len(lists) != 1 {
			t.Fatalf("confirm: %v %v", lists, err)
		}
		if got := status(t, s, "ben@example.org", q); got != "UNCONFIRMED" {
			t.Fatalf("Ana's link confirmed Ben: %s", got)
		}
		before := rows()
		ben := confirmTokens(t, s, "ben@example.org")[0]
		changed := "x"
		if ben[10] == 'x' { // a random secret may already hold the letter
			changed = "y"
		}
		for name, tok := range map[string]string{"used twice": ana, "another's secret with one letter changed": ben[:10] + changed + ben[11:]} {
			if _, err := confirm(s, tok); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
		if rows() != before || status(t, s, "ben@example.org", q) != "UNCONFIRMED" {
			t.Errorf("refused links wrote")
		}
		// Unsubscribe twice: the same answer, one change.
		sub := s.DB.Client.Subscriber.Query().Where(subscriber.Email("ana@example.org")).OnlyX(s.System())
		tok := s.Newsletter.Token(sub.ID, q.ID)
		s.Clock.Advance(400 * 24 * time.Hour) // links in old emails still work
		var first, second []string
		for i, out := range []*[]string{&first, &second} {
			s.Must(s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
				r, err := s.Newsletter.UnsubscribeByToken(ctx, tx, tok)
				*out = append(*out, fmt.Sprint(r))
				return err
			})
			if i == 0 {
				before = rows()
			}
		}
		if status(t, s, "ana@example.org", q) != "UNSUBSCRIBED" || rows() != before {
			t.Errorf("unsubscribe twice: %s, rows %d → %d", status(t, s, "ana@example.org", q), before, rows())
		}
		if first[0] != second[0] {
			t.Errorf("unsubscribe twice answers differently: %v, %v", first, second)
		}
	})
}
