package server_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/organisation"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/directory"
	"github.com/gocart-coalition/coalition/internal/groups"
	"github.com/gocart-coalition/coalition/internal/statements"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// statementWorld is a published statement (corrected once) and a draft, made through the
// statements service as the people who act: staff open, designate, submit, publish and
// correct; two co-authoring organisations' signatories sign the revision; an endorser
// endorses; the author has declared an interest.
type statementWorld struct {
	Slug, DraftSlug string
	ID              pulid.ID
	s               *testkit.Services
	staff           *ent.User
}

const (
	statementTitle   = "Proportionate risk management for autologous CAR-T"
	statementSummary = "Member societies ask for risk measures that fit autologous products."
	correctionNote   = "Fixed the article number of the SoHO regulation."
)

func publishStatement(t *testing.T, e *testkit.Env, body string) statementWorld {
	t.Helper()
	s := &testkit.Services{App: e.App, TB: t, Clock: e.Clock}
	staff := testkit.MustUser(t, s, "staff@coalition.test", "Sam Staff", viewer.RoleStaff)
	author := testkit.MustUser(t, s, "ana.author@example.org", "Ana Author")
	org1 := testkit.MustOrganisation(t, s, "European Haematology Society", organisation.KindSOCIETY, "NL")
	org2 := testkit.MustOrganisation(t, s, "Cell Therapy Society", organisation.KindSOCIETY, "FR")
	org3 := testkit.MustOrganisation(t, s, "Patients for CAR-T", organisation.KindPATIENT_ORGANISATION, "DE")
	p1 := testkit.MustUser(t, s, "piet@example.nl", "Piet Janssen")
	p2 := testkit.MustUser(t, s, "claire@example.fr", "Claire Martin")
	p3 := testkit.MustUser(t, s, "jonas@example.de", "Jonas Weber")
	for _, a := range []struct {
		u *ent.User
		o *ent.Organisation
	}{{p1, org1}, {p2, org2}, {p3, org3}} {
		testkit.MustDo(t, s, s.As(staff), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Directory.SetAffiliation(ctx, tx, directory.SetAffiliationInput{UserID: a.u.ID, OrganisationID: a.o.ID})
			return err
		})
	}
	testkit.MustDo(t, s, s.As(author), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.WorkingGroups.Declare(ctx, tx, groups.DeclareInput{Interests: []groups.InterestInput{{
			Organisation: "Kite Pharma", Kind: vocab.InterestAdvisoryBoard, From: vocab.Date("2025-03-01"),
		}}})
		return err
	})
	var st *ent.PolicyStatement
	testkit.MustDo(t, s, s.As(staff), func(ctx context.Context, tx *ent.Client) (err error) {
		st, err = s.Statements.Open(ctx, tx, statements.OpenInput{Slug: "car-t-risk",
			Text:   statements.Text{Title: statementTitle, Summary: statementSummary, Body: body},
			Topics: []string{"car-t", "soho"}, AuthorIDs: []pulid.ID{author.ID},
			CoAuthorIDs: []pulid.ID{org1.ID, org2.ID}, EndorserIDs: []pulid.ID{org3.ID}})
		if err != nil {
			return err
		}
		for _, d := range []struct{ o, p pulid.ID }{{org1.ID, p1.ID}, {org2.ID, p2.ID}, {org3.ID, p3.ID}} {
			if _, err := s.Statements.DesignateSignatory(ctx, tx, st.ID, d.o, d.p); err != nil {
				return err
			}
		}
		st, err = s.Statements.Submit(ctx, tx, st.ID)
		return err
	})
	rev := *st.CurrentRevisionID
	for _, sg := range []struct {
		u *ent.User
		o pulid.ID
	}{{p1, org1.ID}, {p2, org2.ID}} {
		testkit.MustDo(t, s, s.As(sg.u), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Statements.Sign(ctx, tx, statements.SignInput{StatementID: st.ID, OrganisationID: sg.o, RevisionID: rev, Decision: statements.Approve})
			return err
		})
	}
	testkit.MustDo(t, s, s.As(p3), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.Statements.Endorse(ctx, tx, statements.SignInput{StatementID: st.ID, OrganisationID: org3.ID, RevisionID: rev})
		return err
	})
	testkit.MustDo(t, s, s.As(staff), func(ctx context.Context, tx *ent.Client) (err error) {
		st, err = s.Statements.PublishNow(ctx, tx, st.ID)
		return err
	})
	e.Clock.Advance(24 * time.Hour)
	testkit.MustDo(t, s, s.As(staff), func(ctx context.Context, tx *ent.Client) (err error) {
		st, err = s.Statements.Correct(ctx, tx, statements.CorrectInput{StatementID: st.ID, BaseRevisionID: *st.CurrentRevisionID,
			Text: statements.Text{Title: statementTitle, Summary: statementSummary, Body: body + "\n\nSee Article 2 of the SoHO regulation."},
			Note: correctionNote})
		return err
	})
	w := statementWorld{Slug: "car-t-risk", DraftSlug: "hospital-exemption", ID: st.ID, s: s, staff: staff}
	testkit.MustDo(t, s, s.As(staff), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.Statements.Open(ctx, tx, statements.OpenInput{Slug: w.DraftSlug,
			Text:   statements.Text{Title: "Hospital exemption for ATMPs (draft)", Summary: "Not yet.", Body: "Secret draft text."},
			Topics: []string{"atmp"}, AuthorIDs: []pulid.ID{author.ID}, CoAuthorIDs: []pulid.ID{org1.ID}})
		return err
	})
	return w
}

func getPage(t *testing.T, e *testkit.Env, path string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.Server.URL+path, nil)
	return fetch(t, req)
}

// TestStatementPages: the list (and its topic filter), the current version with its
// signatories, the dates they signed, the declarations and the correction note, the
// earlier version, the feeds; a draft is not found on any of them.
func TestStatementPages(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := publishStatement(t, e, "## Position\n\nRisk measures should be **proportionate**.")

		code, h, list := getPage(t, e, "/statements")
		if code != http.StatusOK || !strings.Contains(list, statementTitle) || strings.Contains(list, "Hospital exemption") {
			t.Fatalf("list: %d\n%s", code, list)
		}
		if h.Get("Content-Security-Policy") != "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'" {
			t.Errorf("CSP %q", h.Get("Content-Security-Policy"))
		}
		for _, want := range []string{`href="/statements?topic=car-t"`, `href="/statements?topic=soho"`, `type="application/atom+xml"`} {
			if !strings.Contains(list, want) {
				t.Errorf("list lacks %s", want)
			}
		}
		if strings.Contains(list, "atmp") {
			t.Errorf("a draft's topic is listed")
		}
		if code, _, body := getPage(t, e, "/statements?topic=soho"); code != http.StatusOK || !strings.Contains(body, statementTitle) {
			t.Errorf("topic soho: %d", code)
		}
		for _, path := range []string{"/statements?topic=atmp", "/statements?topic=nothing", "/statements.atom?topic=atmp",
			"/statements/" + w.DraftSlug, "/statements/" + w.DraftSlug + "/v/1", "/statements/nothing",
			"/statements/" + w.Slug + "/v/3", "/statements/" + w.Slug + "/v/0", "/statements/" + w.Slug + "/v/01", "/statements/" + w.Slug + "/v/x"} {
			if code, _, body := getPage(t, e, path); code != http.StatusNotFound || strings.Contains(body, "Secret draft") {
				t.Errorf("GET %s: %d, want 404", path, code)
			}
		}

		code, _, page := getPage(t, e, "/statements/"+w.Slug)
		if code != http.StatusOK {
			t.Fatalf("statement: %d", code)
		}
		for _, want := range []string{
			"<h1>" + statementTitle + "</h1>", "<strong>proportionate</strong>", "See Article 2 of the SoHO regulation.",
			"European Haematology Society</strong> (NL): signed off 12 January 2027 by Piet Janssen",
			"Cell Therapy Society</strong> (FR): signed off 12 January 2027 by Claire Martin",
			"Patients for CAR-T</strong> (DE): endorsed 12 January 2027 by Jonas Weber",
			"Ana Author</strong> (declared", "Kite Pharma", correctionNote, "<dd>2 of 2</dd>",
			`<a href="` + e.Server.URL + `/statements/` + w.Slug + `/v/1">Version 1</a>`,
			`<meta name="description" content="` + statementSummary + `">`,
			`<meta property="og:title" content="` + statementTitle + `">`,
			`<meta property="og:type" content="article">`,
			`<meta property="og:url" content="` + e.Server.URL + `/statements/` + w.Slug + `">`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("statement page lacks %q", want)
			}
		}
		code, _, v1 := getPage(t, e, "/statements/"+w.Slug+"/v/1")
		if code != http.StatusOK || strings.Contains(v1, "See Article 2") || !strings.Contains(v1, "This is version 1 of 2") || strings.Contains(v1, correctionNote) {
			t.Errorf("version 1: %d\n%s", code, v1)
		}

		// Withdrawn: still readable, marked, with the reason.
		testkit.MustDo(t, w.s, w.s.As(w.staff), func(ctx context.Context, tx *ent.Client) error {
			_, err := w.s.Statements.Withdraw(ctx, tx, w.ID, "Superseded by the 2027 joint position.")
			return err
		})
		_, _, page = getPage(t, e, "/statements/"+w.Slug)
		if !strings.Contains(page, `id="withdrawn"`) || !strings.Contains(page, "Superseded by the 2027 joint position.") {
			t.Errorf("withdrawn statement:\n%s", page)
		}

		for _, path := range []string{"/statements.atom", "/statements.atom?topic=car-t"} {
			code, h, body := getPage(t, e, path)
			var f struct {
				Title   string `xml:"title"`
				Entries []struct {
					Title      string `xml:"title"`
					ID         string `xml:"id"`
					Updated    string `xml:"updated"`
					Published  string `xml:"published"`
					Summary    string `xml:"summary"`
					Content    string `xml:"content"`
					Categories []struct {
						Term string `xml:"term,attr"`
					} `xml:"category"`
				} `xml:"entry"`
			}
			if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/atom+xml") || xml.Unmarshal([]byte(body), &f) != nil {
				t.Fatalf("%s: %d %s\n%s", path, code, h.Get("Content-Type"), body)
			}
			if len(f.Entries) != 1 || f.Entries[0].ID != e.Server.URL+"/statements/"+w.Slug || f.Entries[0].Title != "Withdrawn: "+statementTitle ||
				f.Entries[0].Summary != statementSummary || !strings.Contains(f.Entries[0].Content, "<strong>proportionate</strong>") || len(f.Entries[0].Categories) != 2 {
				t.Errorf("%s entries: %+v", path, f.Entries)
			}
			if strings.Contains(body, "Secret draft") || strings.Contains(body, "Hospital exemption") {
				t.Errorf("%s shows the draft", path)
			}
		}
	})
}
