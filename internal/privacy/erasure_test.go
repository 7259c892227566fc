package privacy_test

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/apitoken"
	"github.com/gocart-coalition/coalition/ent/auditevent"
	"github.com/gocart-coalition/coalition/ent/erasurerequest"
	"github.com/gocart-coalition/coalition/ent/loginlink"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/session"
	"github.com/gocart-coalition/coalition/ent/subscriber"
	"github.com/gocart-coalition/coalition/ent/suppression"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/ent/workinggroup"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/auth"
	"github.com/gocart-coalition/coalition/internal/config"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/docstore"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/outbox"
	"github.com/gocart-coalition/coalition/internal/privacy"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// erasureKey is the newsletter key of the erasure tests.
const erasureKey = "a newsletter key of at least 32 characters, for erasure"

func erasureServices(t *testing.T, d *db.DB) *testkit.Services {
	return testkit.NewServicesWith(t, d, func(c *config.Config) { c.NewsletterKey = erasureKey })
}

// platformErasure is a privacy service whose registry holds the platform's own domains
// (account, newsletter, mail, audit, requests): the erasures this helper writes. The
// app's registry also holds the other domains, erased by theirs.
func platformErasure(t *testing.T, s *testkit.Services) *privacy.Service {
	t.Helper()
	reg, err := privacy.NewRegistry(auth.PrivacyDomain{}, newsletter.PrivacyDomain{Key: []byte(erasureKey)},
		privacy.MailDomain{}, privacy.AuditDomain{}, privacy.RequestsDomain{})
	if err != nil {
		t.Fatal(err)
	}
	store, err := docstore.New(s.Config.DocumentsDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := privacy.New(privacy.Config{Client: s.DB.Client, Now: s.Clock.Now, Notifier: s.Notifier, Registry: reg,
		Dir: filepath.Join(t.TempDir(), "exports"), Documents: store})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func userCode(t *testing.T, err error) apperr.UserCode {
	t.Helper()
	u, ok := apperr.AsUserErrors(err)
	if !ok || len(u) == 0 {
		t.Fatalf("got %v, want a user error", err)
	}
	return u[0].Code
}

func errCode(err error) apperr.Code {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// TestErasureRequestsFromBothSides: who may ask for whose erasure, who may decide, a
// double request, self-service for a person with nothing in progress and approval for
// one with a working-group role, and bad input (nothing written).
func TestErasureRequestsFromBothSides(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		s := erasureServices(t, d)
		w := testkit.NewWorld(t, s)
		p := s.Privacy
		request := func(ctx context.Context, person pulid.ID) (r *ent.ErasureRequest, err error) {
			_ = s.Do(ctx, func(ctx context.Context, tx *ent.Client) error {
				r, err = p.RequestErasure(ctx, tx, person)
				return err
			})
			return r, err
		}
		decide := func(ctx context.Context, approve bool, id pulid.ID, reason string) (r *ent.ErasureRequest, err error) {
			_ = s.Do(ctx, func(ctx context.Context, tx *ent.Client) error {
				if approve {
					r, err = p.ApproveErasure(ctx, tx, id, reason)
				} else {
					r, err = p.RefuseErasure(ctx, tx, id, reason)
				}
				return err
			})
			return r, err
		}
		count := func() int {
			n, err := s.DB.Client.ErasureRequest.Query().Count(s.System())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		// Someone else's erasure: refused to everyone but the person and staff.
		for _, a := range w.Actors(s) {
			if a.Name == "trainee" || a.Name == "staff" {
				continue
			}
			_, err := request(a.Ctx, w.Trainee.ID)
			want := apperr.Forbidden
			if a.Name == "anonymous" {
				want = apperr.Unauthenticated
			}
			if errCode(err) != want {
				t.Errorf("%s asking for the trainee's erasure: got %v, want %s", a.Name, err, want)
			}
		}
		if n := count(); n != 0 {
			t.Fatalf("%d requests after refusals", n)
		}
		if _, err := request(s.As(w.Staff), "usr_01J0000000000000000000000"); userCode(t, err) != apperr.CodeNotFound {
			t.Fatalf("unknown person: %v", err)
		}

		// The trainee has nothing in progress: self-service, queued at once; asking
		// again (or staff asking) finds the same request.
		r, err := request(s.As(w.Trainee), "")
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != erasurerequest.StatusQUEUED || !r.SelfService || len(r.Blockers) != 0 || r.PersonID != w.Trainee.ID {
			t.Fatalf("self-service request: %+v", r)
		}
		again, err := request(s.As(w.Trainee), w.Trainee.ID)
		if err != nil || again.ID != r.ID {
			t.Fatalf("double request: %v %v, want %s", again, err, r.ID)
		}
		byStaff, err := request(s.As(w.Staff), w.Trainee.ID)
		if err != nil || byStaff.ID != r.ID || count() != 1 {
			t.Fatalf("staff's request for the same person: %v %v (%d rows)", byStaff, err, count())
		}
		// Nothing to decide on a queued request.
		if _, err := decide(s.As(w.Staff), true, r.ID, ""); userCode(t, err) != apperr.CodeInvalidState {
			t.Fatalf("approve a queued request: %v", err)
		}

		// The other trainee holds a role in a working group: staff must approve.
		g, err := s.DB.Client.WorkingGroup.Create().SetName("Pharmacist Working Group").SetWorkPackage(workinggroup.WorkPackageSTANDARDS_OF_CARE).Save(s.System())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB.Client.Membership.Create().SetGroupID(g.ID).SetUserID(w.OtherTrainee.ID).SetRole(membership.RoleMEMBER).
			SetTermStart("2027-01-01").SetTermEnd("2028-12-31").SetAnswer(membership.AnswerACCEPTED).Save(s.System()); err != nil {
			t.Fatal(err)
		}
		pending, err := request(s.As(w.OtherTrainee), "")
		if err != nil {
			t.Fatal(err)
		}
		if pending.Status != erasurerequest.StatusPENDING || pending.SelfService || len(pending.Blockers) != 1 ||
			!regexp.MustCompile(`MEMBER in the working group "Pharmacist Working Group"`).MatchString(pending.Blockers[0]) {
			t.Fatalf("request with a role: %+v", pending)
		}
		// Only staff decide.
		for _, a := range w.Actors(s) {
			if a.Name == "staff" {
				continue
			}
			for _, approve := range []bool{true, false} {
				_, err := decide(a.Ctx, approve, pending.ID, "because")
				want := apperr.Forbidden
				if a.Name == "anonymous" {
					want = apperr.Unauthenticated
				}
				if errCode(err) != want {
					t.Errorf("%s deciding (approve %v): got %v, want %s", a.Name, approve, err, want)
				}
			}
		}
		// Bad input: a refusal needs a reason; an unknown request.
		if _, err := decide(s.As(w.Staff), false, pending.ID, "  "); userCode(t, err) != apperr.CodeRequired {
			t.Fatalf("refusal without a reason: %v", err)
		}
		if _, err := decide(s.As(w.Staff), true, "era_01J0000000000000000000000", ""); userCode(t, err) != apperr.CodeNotFound {
			t.Fatalf("unknown request: %v", err)
		}
		if got, _ := s.DB.Client.ErasureRequest.Get(s.System(), pending.ID); got.Status != erasurerequest.StatusPENDING || got.DecidedAt != nil {
			t.Fatalf("bad input changed the request: %+v", got)
		}
		refused, err := decide(s.As(w.Staff), false, pending.ID, "Your term as a member runs until 2028; leave the group first.")
		if err != nil || refused.Status != erasurerequest.StatusREFUSED || refused.Reason == "" || refused.DecidedAt == nil {
			t.Fatalf("refuse: %+v %v", refused, err)
		}
		// A refused request is closed: the person may ask again, and staff approve.
		second, err := request(s.As(w.OtherTrainee), "")
		if err != nil || second.ID == pending.ID || second.Status != erasurerequest.StatusPENDING {
			t.Fatalf("second request: %+v %v", second, err)
		}
		approved, err := decide(s.As(w.Staff), true, second.ID, "")
		if err != nil || approved.Status != erasurerequest.StatusQUEUED {
			t.Fatalf("approve: %+v %v", approved, err)
		}

		// Reading: the person sees their own, staff see all, others none.
		mine, err := p.ErasureRequests(s.As(w.OtherTrainee), w.OtherTrainee.ID, nil, db.Page{})
		if err != nil || mine.TotalCount != 2 {
			t.Fatalf("own requests: %v %v", mine, err)
		}
		if _, err := p.ErasureRequests(s.As(w.Trainee), w.OtherTrainee.ID, nil, db.Page{}); errCode(err) != apperr.Forbidden {
			t.Fatalf("someone else's requests: %v", err)
		}
		if _, err := p.ErasureRequests(s.As(w.Host), "", nil, db.Page{}); errCode(err) != apperr.Forbidden {
			t.Fatalf("every request, as a host: %v", err)
		}
		st := erasurerequest.StatusQUEUED
		all, err := p.ErasureRequests(s.As(w.Staff), "", &st, db.Page{})
		if err != nil || all.TotalCount != 2 {
			t.Fatalf("staff's queued requests: %v %v", all, err)
		}
		// The privacy rules hold for direct reads too (node(id:)).
		if _, err := s.DB.Client.ErasureRequest.Get(s.As(w.Host), r.ID); !ent.IsNotFound(err) {
			t.Fatalf("a host reading the trainee's request: %v", err)
		}
		if _, err := s.DB.Client.ErasureRequest.Get(s.As(w.Trainee), r.ID); err != nil {
			t.Fatalf("the trainee reading their request: %v", err)
		}
	})
}

var confirmRE = regexp.MustCompile(`/newsletter/confirm\?token=(nc_[A-Za-z0-9_-]+)`)

// TestErasureOfThePlatformDomains erases a person with an account, a session, an API
// token, a sign-in link, a newsletter subscription, mail sent and queued, and audit events
// in the platform's own domains, next to a similar person, and checks what is gone, what
// is kept, that the credentials stop working at once, that the audit chain still
// verifies, and what a later subscribe and sign-in of the address do.
func TestErasureOfThePlatformDomains(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		s := erasureServices(t, d)
		w := testkit.NewWorld(t, s)
		c := s.DB.Client
		sys := s.System()
		twin := testkit.MustUser(t, s, "marek.novak@fnbrno.example.com", "Marek Novak", viewer.RoleTrainee)
		marek := w.Trainee

		// Credentials: a session by a redeemed sign-in link, an API token, a spare link.
		var signIn *auth.SignIn
		for _, u := range []*ent.User{marek, twin} {
			in := signInAs(t, s, u.Email)
			if u == marek {
				signIn = in
			}
			testkit.MustDo(t, s, s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
				return s.Auth.RequestLoginLink(ctx, tx, u.Email, "198.51.100.8")
			})
		}
		var token string
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
			_, token, err = s.Auth.CreateAPIToken(ctx, tx, auth.CreateAPITokenInput{UserID: marek.ID, Name: "CRM sync", Scopes: []viewer.Scope{viewer.AllScopes[0]}})
			return err
		})
		if _, err := s.Auth.Authenticate(s.Anonymous(), signIn.Token); err != nil {
			t.Fatalf("session before erasure: %v", err)
		}
		// Newsletter: both subscribe and confirm.
		if _, err := c.MailingList.Create().SetName("Quarterly newsletter").SetSlug("quarterly").Save(sys); err != nil {
			t.Fatal(err)
		}
		subscribe := func(email, name string) {
			t.Helper()
			testkit.MustDo(t, s, s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Newsletter.Subscribe(ctx, tx, newsletter.SubscribeInput{Email: email, Name: name, Lists: []string{"quarterly"}, Source: newsletter.SourceForm, IP: "203.0.113.5"})
				return err
			})
		}
		confirm := func(email string) {
			t.Helper()
			m, err := c.OutboxMessage.Query().Where(outboxmessage.Recipient(email), outboxmessage.Template("newsletter_confirm")).
				Order(ent.Desc(outboxmessage.FieldCreatedAt)).First(sys)
			if err != nil {
				t.Fatalf("confirmation to %s: %v", email, err)
			}
			link := confirmRE.FindStringSubmatch(m.TextBody)
			if link == nil {
				t.Fatalf("no confirmation link in %q", m.TextBody)
			}
			testkit.MustDo(t, s, s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Newsletter.Confirm(ctx, tx, link[1], "203.0.113.5", newsletter.SourceForm)
				return err
			})
		}
		for _, u := range []*ent.User{marek, twin} {
			subscribe(u.Email, u.Name)
			confirm(u.Email)
		}
		// Mail: a sent message (marked sent as the worker does) and a queued one.
		if _, err := c.OutboxMessage.Update().Where(outboxmessage.Recipient(marek.Email), outboxmessage.Template("newsletter_confirm")).
			SetState(outboxmessage.StateSent).SetSentAt(s.Clock.Now()).Save(sys); err != nil {
			t.Fatal(err)
		}
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
			for _, u := range []*ent.User{marek, twin} {
				if err := s.Notifier.DataExportReady(ctx, tx, notify.Recipient{Email: u.Email, Name: u.Name},
					notify.DataExportData{URL: "https://coalition.test/x", Expires: "soon"}, "test:"+string(u.ID)); err != nil {
					return err
				}
			}
			return nil
		})
		// Audit: Marek acts (the hook records him with his address).
		testkit.MustDo(t, s, s.As(marek), func(ctx context.Context, tx *ent.Client) error {
			return audit.Record(ctx, tx, s.Clock.Now(), audit.Event{Action: "test.act", ObjectType: "User", ObjectID: string(marek.ID),
				Details: map[string]any{"note": "written by " + marek.Email}})
		})

		svc := platformErasure(t, s)
		testkit.MustDo(t, s, s.As(marek), func(ctx context.Context, tx *ent.Client) error {
			_, err := svc.RequestErasure(ctx, tx, "")
			return err
		})
		n, err := svc.RunErasures(s.System())
		if err != nil || n != 1 {
			t.Fatalf("run erasures: %d, %v", n, err)
		}
		if n, err := svc.RunErasures(s.System()); err != nil || n != 0 {
			t.Fatalf("second run: %d, %v", n, err)
		}
		req, err := c.ErasureRequest.Query().Where(erasurerequest.PersonID(marek.ID)).Only(sys)
		if err != nil || req.Status != erasurerequest.StatusERASED || req.ErasedAt == nil || req.Rows == 0 {
			t.Fatalf("request after the job: %+v %v", req, err)
		}

		// Account: anonymous, disabled; credentials gone and refused at once.
		u, err := c.User.Get(sys, marek.ID)
		if err != nil || u.Email != auth.ErasedEmail(marek.ID) || u.Name != "" || !u.Disabled || len(u.Roles) != 0 {
			t.Fatalf("account after erasure: %+v %v", u, err)
		}
		if _, err := s.Auth.Authenticate(s.Anonymous(), signIn.Token); err == nil {
			t.Fatal("the session still works")
		}
		if _, err := s.Auth.Authenticate(s.Anonymous(), token); err == nil {
			t.Fatal("the API token still works")
		}
		if n := testkit.Count(s, c.Session.Query().Where(session.UserID(marek.ID))); n != 0 {
			t.Fatalf("%d sessions left", n)
		}
		if n := testkit.Count(s, c.ApiToken.Query().Where(apitoken.UserID(marek.ID))); n != 0 {
			t.Fatalf("%d tokens left", n)
		}
		if n := testkit.Count(s, c.LoginLink.Query().Where(loginlink.Email(marek.Email))); n != 0 {
			t.Fatalf("%d sign-in links left", n)
		}
		// Newsletter: no subscriber; the address only as its keyed hash.
		if n := testkit.Count(s, c.Subscriber.Query().Where(subscriber.Email(marek.Email))); n != 0 {
			t.Fatalf("%d subscribers left", n)
		}
		rows, err := c.Suppression.Query().Where(suppression.ReasonEQ(suppression.ReasonERASED)).All(sys)
		if err != nil || len(rows) != 1 || rows[0].Email != "" || rows[0].EmailHash != newsletter.KeyedHash([]byte(erasureKey), marek.Email) ||
			rows[0].EmailHash == newsletter.HashAddress(marek.Email) {
			t.Fatalf("suppression: %+v %v", rows, err)
		}
		supp, err := newsletter.IsSuppressedKeyed(sys, c, []byte(erasureKey), []string{marek.Email, twin.Email})
		if err != nil || !supp[marek.Email] || supp[twin.Email] {
			t.Fatalf("suppressed: %v %v", supp, err)
		}
		// Mail: nothing to the address any more; the queued message cancelled.
		if n := testkit.Count(s, c.OutboxMessage.Query().Where(outboxmessage.Recipient(marek.Email))); n != 0 {
			t.Fatalf("%d messages still name the address", n)
		}
		redacted, err := c.OutboxMessage.Query().Where(outboxmessage.Recipient(outbox.RedactedAddress(marek.Email))).All(sys)
		if err != nil || len(redacted) < 3 {
			t.Fatalf("redacted messages: %d %v", len(redacted), err)
		}
		for _, m := range redacted {
			if m.TextBody != "" || m.HTMLBody != "" || m.RecipientName != "" || m.State == outboxmessage.StateQueued {
				t.Fatalf("message left: %+v", m)
			}
		}
		// Audit: the chain verifies; Marek's events keep ids and actions, not his address.
		rep, err := audit.Verify(context.Background(), c, nil)
		if err != nil || rep.Broken != nil {
			t.Fatalf("audit verify: %v %+v", err, rep.Broken)
		}
		mine, err := c.AuditEvent.Query().Where(auditevent.ActorID(string(marek.ID))).All(sys)
		if err != nil || len(mine) == 0 {
			t.Fatalf("Marek's events: %d %v", len(mine), err)
		}
		for _, e := range mine {
			if e.ActorEmail != "" || e.IP != "" || e.Details != nil || e.Action == "" {
				t.Fatalf("event left: %+v", e)
			}
		}
		// The twin is untouched.
		tw, err := c.User.Get(sys, twin.ID)
		if err != nil || tw.Email != twin.Email || tw.Name != "Marek Novak" || tw.Disabled {
			t.Fatalf("twin: %+v %v", tw, err)
		}
		if n := testkit.Count(s, c.Session.Query().Where(session.UserID(twin.ID))); n != 1 {
			t.Fatalf("twin sessions %d", n)
		}
		if n := testkit.Count(s, c.Subscriber.Query().Where(subscriber.Email(twin.Email))); n != 1 {
			t.Fatalf("twin subscriber %d", n)
		}
		if n := testkit.Count(s, c.OutboxMessage.Query().Where(outboxmessage.Recipient(twin.Email), outboxmessage.TextBodyNEQ(""))); n < 2 {
			t.Fatalf("twin mail %d", n)
		}

		// Later: a subscribe of the address gets one confirmation email (the person asked
		// again); newsletters stay suppressed until they confirm, which lifts it.
		before := testkit.Count(s, c.OutboxMessage.Query().Where(outboxmessage.Recipient(marek.Email)))
		subscribe(marek.Email, "")
		if n := testkit.Count(s, c.OutboxMessage.Query().Where(outboxmessage.Recipient(marek.Email), outboxmessage.Template("newsletter_confirm"))); n != before+1 {
			t.Fatalf("confirmations after a new subscribe: %d", n)
		}
		if supp, _ := newsletter.IsSuppressedKeyed(sys, c, []byte(erasureKey), []string{marek.Email}); !supp[marek.Email] {
			t.Fatal("suppression lifted before confirmation")
		}
		confirm(marek.Email)
		if supp, _ := newsletter.IsSuppressedKeyed(sys, c, []byte(erasureKey), []string{marek.Email}); supp[marek.Email] {
			t.Fatal("suppression kept after a new confirmed subscription")
		}
		// Later: a sign-in with the address makes a new, empty account, not the erased one.
		again := signInAs(t, s, marek.Email)
		if again.User.ID == marek.ID || !again.Created {
			t.Fatalf("sign-in after erasure: %+v", again.User)
		}
		if n := testkit.Count(s, c.User.Query().Where(user.Email(marek.Email))); n != 1 {
			t.Fatalf("%d accounts with the address", n)
		}
	})
}

var tokenRE = regexp.MustCompile(`[?&]token=([A-Za-z0-9_-]+)`)

// signInAs asks for a sign-in link for email as anyone can, takes it from the email and
// redeems it.
func signInAs(t *testing.T, s *testkit.Services, email string) *auth.SignIn {
	t.Helper()
	testkit.MustDo(t, s, s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
		return s.Auth.RequestLoginLink(ctx, tx, email, "198.51.100.7")
	})
	m, err := s.DB.Client.OutboxMessage.Query().Where(outboxmessage.Recipient(email), outboxmessage.Template("login_link")).
		Order(ent.Desc(outboxmessage.FieldCreatedAt), ent.Desc(outboxmessage.FieldID)).First(s.System())
	if err != nil {
		t.Fatalf("sign-in email to %s: %v", email, err)
	}
	tok := tokenRE.FindStringSubmatch(m.TextBody)
	if tok == nil {
		t.Fatalf("no link in %q", m.TextBody)
	}
	var in *auth.SignIn
	testkit.MustDo(t, s, s.Anonymous(), func(ctx context.Context, tx *ent.Client) (err error) {
		in, err = s.Auth.RedeemLoginLink(ctx, tx, tok[1], "198.51.100.7", "Firefox")
		return err
	})
	return in
}
