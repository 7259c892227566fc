package privacy_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/consentevidence"
	"github.com/gocart-coalition/coalition/ent/dataexport"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/app"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/directory"
	"github.com/gocart-coalition/coalition/internal/privacy"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// twins is a fixture of two similar people with data in every domain: Marek Novák (the
// World's trainee) and Marek Novak, a different person whose address differs by a letter
// of its domain, each with an affiliation, a working-group membership, a declaration, a
// newsletter subscription with its consent evidence, a directory-profile consent, mail and
// audit events; Marek and Ioana (the other trainee) have applications, and a placement
// each after the match, which Marek accepted; Marek has an uploaded document.
//
// Every row is written the way people write it, through the services the mutations call,
// as the person who acts: staff set affiliations, create the group and the list, invite
// members and publish the consent text; Marek applies (ranking hosts, uploading his CV to
// the draft, then submitting) and accepts his offer; each Marek accepts his invitation,
// files his declaration, subscribes and confirms through the link in the confirmation
// email, and gives his consent. So the erasure scan finds what real use leaves behind,
// including the emails those steps send.
type twins struct {
	w       *testkit.World
	twin    *ent.User
	ranked  testkit.RankedCall
	group   *ent.WorkingGroup
	mine    []string // ids and values that must be in Marek's export
	foreign []string // ids and values of the others that must not
	docText string
}

func newTwins(t *testing.T, s *testkit.Services) *twins {
	t.Helper()
	w, twin := testkit.MustTwins(t, s)
	x := &twins{w: w, twin: twin, docText: "Curriculum vitae, FN Brno"}

	// The call: Marek applies to A then B and uploads his CV to his draft before he
	// submits it; Ioana applies to A; the match places Marek at B and Ioana at A; Marek
	// accepts his offer.
	o := testkit.MustOpenCall(t, s, w)
	draft := testkit.MustApply(t, s, w.Trainee, testkit.CompleteDraft(o.Call, w.Brno, w.CentreA, w.CentreB), false)
	doc := testkit.MustUpload(t, s, w.Trainee, draft, vocab.DocumentCV, "marek-cv.pdf", testkit.PDF(x.docText))
	x.ranked = testkit.MustRankCall(t, s, w, o, testkit.MustSubmit(t, s, w.Trainee, draft),
		testkit.MustApply(t, s, w.OtherTrainee, testkit.CompleteDraft(o.Call, w.Bucharest, w.CentreA), true))
	placements := testkit.MustPublish(t, s, w, testkit.MustStartRun(t, s, w, x.ranked.Call, false))
	testkit.MustDo(t, s, s.As(w.Trainee), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.Placement.Accept(ctx, tx, placements[x.ranked.Marek.ID].ID)
		return err
	})

	var affMarek, affTwin *ent.Affiliation
	testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
		if affMarek, err = s.Directory.SetAffiliation(ctx, tx, directory.SetAffiliationInput{UserID: w.Trainee.ID, OrganisationID: w.Brno.ID, Position: "Consultant haematologist"}); err != nil {
			return err
		}
		affTwin, err = s.Directory.SetAffiliation(ctx, tx, directory.SetAffiliationInput{UserID: twin.ID, OrganisationID: w.Brno.ID, Position: "Registrar in cell therapy"})
		return err
	})
	g := testkit.MustWorkingGroup(t, s, w.Staff, "Pharmacist Working Group", "Standards of care for CAR-T pharmacy.")
	x.group = g
	memMarek := testkit.MustMember(t, s, w.Staff, g, w.Trainee, membership.RoleMEMBER)
	memTwin := testkit.MustMember(t, s, w.Staff, g, twin, membership.RoleMEMBER)
	declMarek := testkit.MustDeclare(t, s, w.Trainee, vocab.InterestAdvisoryBoard, "Kite Alpha", "Advisory board of Kite Alpha")
	declTwin := testkit.MustDeclare(t, s, twin, vocab.InterestSpeakerFees, "Novartis Beta", "Speaker fees from Novartis Beta")
	list := testkit.MustMailingList(t, s, w.Staff, "Quarterly newsletter", "quarterly")
	subMarek := testkit.MustSubscribe(t, s, w.Trainee, "198.51.100.7", list)
	subTwin := testkit.MustSubscribe(t, s, twin, "203.0.113.99", list)
	evMarek, evTwin := signupOf(t, s, subMarek), signupOf(t, s, subTwin)
	testkit.MustPublishConsentText(t, s, w.Staff, vocab.ConsentDirectoryProfile, "List me in the coalition's directory.")
	profMarek := testkit.MustGiveConsent(t, s, w.Trainee, vocab.ConsentDirectoryProfile)
	profTwin := testkit.MustGiveConsent(t, s, twin, vocab.ConsentDirectoryProfile)

	x.mine = []string{string(w.Trainee.ID), w.Trainee.Email, string(affMarek.ID), "Consultant haematologist", string(memMarek.ID),
		string(declMarek.ID), "Kite Alpha", string(subMarek.ID), string(evMarek.ID), "198.51.100.7", string(profMarek.ID),
		string(x.ranked.Marek.ID), string(doc.ID), "marek-cv.pdf", string(placements[x.ranked.Marek.ID].ID)}
	x.foreign = []string{string(twin.ID), twin.Email, twin.Name, string(affTwin.ID), "Registrar in cell therapy", string(memTwin.ID),
		string(declTwin.ID), "Novartis Beta", string(subTwin.ID), string(evTwin.ID), "203.0.113.99", string(profTwin.ID),
		string(w.OtherTrainee.ID), w.OtherTrainee.Email, "Ioana", string(x.ranked.Ioana.ID), string(placements[x.ranked.Ioana.ID].ID),
		w.Host.Email, w.OtherHost.Email, w.Staff.Email}
	return x
}

// signupOf is the consent evidence of sub's signup.
func signupOf(t *testing.T, s *testkit.Services, sub *ent.Subscriber) *ent.ConsentEvidence {
	t.Helper()
	ev, err := s.DB.Client.ConsentEvidence.Query().Where(consentevidence.EventEQ(consentevidence.EventSIGNUP),
		consentevidence.HasSubscriptionWith(newslettersubscription.SubscriberID(sub.ID))).Only(s.System())
	if err != nil {
		t.Fatalf("signup evidence of %s: %v", sub.Email, err)
	}
	return ev
}

// request asks for person's export as ctx and returns the export or the error.
func request(s *testkit.Services, ctx context.Context, person pulid.ID) (*ent.DataExport, error) {
	var e *ent.DataExport
	err := s.Do(ctx, func(ctx context.Context, tx *ent.Client) (err error) {
		e, err = s.Privacy.RequestExport(ctx, tx, person)
		return err
	})
	return e, err
}

// linkOf returns the secret of the download link in the last data-export email to address.
func linkOf(t *testing.T, s *testkit.Services, address string) string {
	t.Helper()
	m, err := s.DB.Client.OutboxMessage.Query().
		Where(outboxmessage.Recipient(address), outboxmessage.Template("data_export_ready")).
		Order(ent.Desc(outboxmessage.FieldCreatedAt), ent.Desc(outboxmessage.FieldID)).First(s.System())
	if err != nil {
		t.Fatalf("data export email to %s: %v", address, err)
	}
	u := regexp.MustCompile(`https://\S+/exports/download\?token=\S+`).FindString(m.TextBody)
	if u == "" {
		t.Fatalf("no download link in %q", m.TextBody)
	}
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Query().Get("token")
}

// unzip returns the files of a ZIP by name.
func unzip(t *testing.T, r io.Reader) map[string][]byte {
	t.Helper()
	raw, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}

// TestExportHoldsEverythingOfThePersonAndNothingOfAnyoneElse requests Marek's export, runs
// the job, downloads the ZIP through the emailed link and checks its layout, that it holds
// every row of Marek's in every domain (his document's bytes included) and none of his
// near-namesake's, Ioana's, the hosts' or staff's.
func TestExportHoldsEverythingOfThePersonAndNothingOfAnyoneElse(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		x := newTwins(t, s)
		marek := x.w.Trainee
		e, err := request(s, s.As(marek), "")
		if err != nil {
			t.Fatal(err)
		}
		if e.Status != dataexport.StatusQUEUED || e.PersonID != marek.ID {
			t.Fatalf("export = %s for %s, want QUEUED for %s", e.Status, e.PersonID, marek.ID)
		}
		built, _, err := s.Privacy.RunExports(s.System())
		if err != nil || built != 1 {
			t.Fatalf("RunExports built %d, %v; want 1", built, err)
		}
		f, got, err := s.Privacy.Download(context.Background(), linkOf(t, s, marek.Email))
		if err != nil {
			t.Fatal(err)
		}
		files := unzip(t, f)
		f.Close()
		if got.ID != e.ID {
			t.Fatalf("downloaded %s, want %s", got.ID, e.ID)
		}

		reg, _ := testkitRegistry(t)
		var m privacy.Manifest
		if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
			t.Fatalf("manifest.json: %v", err)
		}
		if m.Person.ID != marek.ID || m.Person.Email != marek.Email {
			t.Errorf("manifest person = %+v, want %s", m.Person, marek.ID)
		}
		for _, d := range reg.Domains() {
			if _, ok := files[d.Name()+".json"]; !ok {
				t.Errorf("ZIP has no %s.json", d.Name())
			}
		}
		if len(files) != len(m.Files)+1 {
			t.Errorf("ZIP has %d files, manifest lists %d (+ itself)", len(files), len(m.Files))
		}
		var all strings.Builder
		var docs int
		for name, b := range files {
			if strings.HasPrefix(name, "documents/") {
				docs++
				if !bytes.Equal(b, testkit.PDF(x.docText)) {
					t.Errorf("%s is not Marek's uploaded CV", name)
				}
				if !strings.HasPrefix(name, "documents/"+string(x.ranked.Marek.ID)+"/") {
					t.Errorf("document at %s, want under documents/%s/", name, x.ranked.Marek.ID)
				}
			}
			all.Write(b)
			all.WriteString("\n")
		}
		if docs != 1 {
			t.Errorf("ZIP has %d documents, want Marek's 1", docs)
		}
		text := all.String()
		for _, v := range x.mine {
			if !strings.Contains(text, v) {
				t.Errorf("Marek's export lacks %q", v)
			}
		}
		for _, v := range x.foreign {
			if strings.Contains(text, v) {
				t.Errorf("Marek's export holds %q, which is someone else's", v)
			}
		}
		if strings.Contains(text, "token_hash") || strings.Contains(text, "dx_") {
			t.Errorf("the export holds a secret or its hash")
		}
	})
}

func testkitRegistry(t *testing.T) (*privacy.Registry, error) {
	t.Helper()
	return app.PrivacyRegistry()
}

func firstPage(n int) db.Page { return db.Page{First: &n} }

// filesIn lists the files of dir.
func filesIn(dir string) ([]string, error) {
	es, err := os.ReadDir(dir)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names, err
}

// TestExportRequestsFromBothSides is the permission table of RequestExport: anonymous is
// refused; a person asks for their own; no one but staff asks for another person's; an
// unknown person is a user error; a second request while one waits returns the same
// export (one job); after it is built a new request makes a new export.
func TestExportRequestsFromBothSides(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		marek := w.Trainee.ID
		for _, a := range w.Actors(s) {
			_, err := request(s, a.Ctx, marek)
			got := testkit.Outcome(err)
			want := "FORBIDDEN"
			switch a.Name {
			case "anonymous":
				want = "UNAUTHENTICATED"
			case "trainee", "staff":
				want = "ok"
			}
			if got != want {
				t.Errorf("%s asks for Marek's export: %s, want %s", a.Name, got, want)
			}
		}
		n, err := s.DB.Client.DataExport.Query().Count(s.System())
		if err != nil || n != 1 {
			t.Fatalf("%d exports after Marek's and staff's requests, %v; want 1 (a double request is one export)", n, err)
		}
		if _, err := request(s, s.As(w.Staff), "usr_01JNOSUCHPERSON0000000000"); !isUserError(err, apperr.CodeNotFound) {
			t.Errorf("export of an unknown person: %v, want the user error NOT_FOUND", err)
		}
		// Ioana asks for her own.
		if _, err := request(s, s.As(w.OtherTrainee), ""); err != nil {
			t.Fatal(err)
		}
		if built, _, err := s.Privacy.RunExports(s.System()); err != nil || built != 2 {
			t.Fatalf("RunExports built %d, %v; want 2", built, err)
		}
		again, err := request(s, s.As(w.Trainee), "")
		if err != nil || again.Status != dataexport.StatusQUEUED {
			t.Fatalf("new request after the build: %v %v, want a new QUEUED export", again, err)
		}
		// Reads: the person sees their own exports, staff anyone's, others none.
		for _, a := range w.Actors(s) {
			conn, err := s.Privacy.Exports(a.Ctx, marek, firstPage(10))
			got := testkit.Outcome(err)
			if err == nil {
				got = map[bool]string{true: "ok", false: "empty"}[len(conn.Edges) == 2]
			}
			want := map[string]string{"anonymous": "UNAUTHENTICATED", "trainee": "ok", "staff": "ok"}[a.Name]
			if want == "" {
				want = "FORBIDDEN"
			}
			if got != want {
				t.Errorf("%s reads Marek's exports: %s, want %s", a.Name, got, want)
			}
			// Through ent directly (node(id:) and every other read): the policy filters.
			n, err := s.DB.Client.DataExport.Query().Count(a.Ctx)
			if err != nil {
				t.Fatal(err)
			}
			wantN := map[string]int{"trainee": 2, "other trainee": 1, "staff": 3}[a.Name]
			if n != wantN {
				t.Errorf("%s reads %d exports through ent, want %d", a.Name, n, wantN)
			}
		}
	})
}

// TestDownloadLinkWorksOnceAndExpires: the link downloads once (ALREADY_USED after), a
// link past its 7 days is EXPIRED and its file deleted by the job, a made-up link is
// NOT_FOUND.
func TestDownloadLinkWorksOnceAndExpires(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		for _, u := range []*ent.User{w.Trainee, w.OtherTrainee} {
			if _, err := request(s, s.As(u), ""); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.Privacy.RunExports(s.System()); err != nil {
			t.Fatal(err)
		}
		marekLink, ioanaLink := linkOf(t, s, w.Trainee.Email), linkOf(t, s, w.OtherTrainee.Email)
		code := func(err error) string {
			if ue, ok := apperr.AsUserErrors(err); ok && len(ue) > 0 {
				return string(ue[0].Code)
			}
			return testkit.Outcome(err)
		}
		f, _, err := s.Privacy.Download(context.Background(), marekLink)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if _, _, err := s.Privacy.Download(context.Background(), marekLink); code(err) != "ALREADY_USED" {
			t.Errorf("second download: %s, want ALREADY_USED", code(err))
		}
		for _, bad := range []string{"", "dx_nonsense", "dx_" + strings.Repeat("A", 43)} {
			if _, _, err := s.Privacy.Download(context.Background(), bad); code(err) != "NOT_FOUND" {
				t.Errorf("download with %q: %s, want NOT_FOUND", bad, code(err))
			}
		}
		s.Clock.Advance(privacy.LinkValidity)
		if _, _, err := s.Privacy.Download(context.Background(), ioanaLink); code(err) != "EXPIRED" {
			t.Errorf("download after 7 days: %s, want EXPIRED", code(err))
		}
		_, expired, err := s.Privacy.RunExports(s.System())
		if err != nil || expired != 1 {
			t.Fatalf("RunExports expired %d, %v; want Ioana's 1", expired, err)
		}
		left, err := filesIn(s.Config.ExportsDir())
		if err != nil || len(left) != 0 {
			t.Errorf("files left in the exports directory: %v %v, want none (downloaded and expired are deleted)", left, err)
		}
		if _, _, err := s.Privacy.Download(context.Background(), ioanaLink); code(err) != "EXPIRED" {
			t.Errorf("download of an expired export after the job: %s, want EXPIRED", code(err))
		}
	})
}

func isUserError(err error, code apperr.UserCode) bool {
	ue, ok := apperr.AsUserErrors(err)
	return ok && len(ue) == 1 && ue[0].Code == code
}

// TestExportsJobSweepsAndCarriesOn: a document whose file is gone is listed as missing in
// the manifest instead of failing the export, and the job deletes stray ZIPs in the
// exports directory that no ready export names (a run that died before recording).
func TestExportsJobSweepsAndCarriesOn(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		o := testkit.MustOpenCall(t, s, w)
		draft := testkit.MustApply(t, s, w.Trainee, testkit.CompleteDraft(o.Call, w.Brno, w.CentreA), false)
		if _, err := s.DB.Client.Document.Create().SetApplicationID(draft.ID).SetKind(vocab.DocumentCV).
			SetFilename("gone.pdf").SetSha256(strings.Repeat("b", 64)).SetSize(10).Save(s.System()); err != nil {
			t.Fatal(err)
		}
		stray := s.Config.ExportsDir() + "/dex_01JSTRAY000000000000000000.zip"
		if err := os.WriteFile(stray, []byte("left by a crash"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := request(s, s.As(w.Trainee), ""); err != nil {
			t.Fatal(err)
		}
		built, _, err := s.Privacy.RunExports(s.System())
		if err != nil || built != 1 {
			t.Fatalf("RunExports built %d, %v; want 1", built, err)
		}
		if _, err := os.Stat(stray); !os.IsNotExist(err) {
			t.Errorf("stray ZIP still there (%v)", err)
		}
		left, _ := filesIn(s.Config.ExportsDir())
		if len(left) != 1 {
			t.Errorf("exports directory holds %v, want the one ready ZIP", left)
		}
		f, _, err := s.Privacy.Download(context.Background(), linkOf(t, s, w.Trainee.Email))
		if err != nil {
			t.Fatal(err)
		}
		files := unzip(t, f)
		f.Close()
		var m privacy.Manifest
		if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
			t.Fatal(err)
		}
		if len(m.MissingDocuments) != 1 || !strings.HasSuffix(m.MissingDocuments[0], "gone.pdf") {
			t.Errorf("manifest missing_documents = %v, want gone.pdf", m.MissingDocuments)
		}
	})
}
