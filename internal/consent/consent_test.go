package consent_test

import (
	"context"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/consentevidence"
	"github.com/gocart-coalition/coalition/ent/mailinglist"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/app"
	"github.com/gocart-coalition/coalition/internal/consent"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/privacy"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

func ptr[T any](v T) *T { return &v }

// TestNewsletterConsentIsOneOfThePurposes: a newsletter signup records the NEWSLETTER text
// staff published (its version and a link to it), leaving the list withdraws that
// consent, and the person's export holds all their consent records — newsletter and
// personal purposes — and none of a similar person's.
func TestNewsletterConsentIsOneOfThePurposes(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		staff := testkit.MustUser(t, s, "office@coalition.test", "Coalition Office", viewer.RoleStaff)
		marek := testkit.MustUser(t, s, "marek.dvorak@example.cz", "Marek Dvořák", viewer.RoleTrainee)
		marta := testkit.MustUser(t, s, "marta.dvorakova@example.cz", "Marta Dvořáková", viewer.RoleTrainee)

		var news, contact *ent.ConsentText
		var list *ent.MailingList
		s.Must(s.As(staff), func(ctx context.Context, tx *ent.Client) (err error) {
			if news, err = s.Consent.Publish(ctx, tx, consent.PublishInput{Purpose: vocab.ConsentNewsletter, Body: "Send me the lists I chose."}); err != nil {
				return err
			}
			if contact, err = s.Consent.Publish(ctx, tx, consent.PublishInput{Purpose: vocab.ConsentDirectoryProfile, Body: "Show my profile."}); err != nil {
				return err
			}
			list, err = s.Newsletter.CreateList(ctx, tx, newsletter.ListInput{Name: ptr("Quarterly"), Slug: ptr("quarterly"), Visibility: ptr(mailinglist.VisibilityPUBLIC)})
			return err
		})
		for _, u := range []*ent.User{marek, marta} {
			s.Must(s.As(u), func(ctx context.Context, tx *ent.Client) error {
				if _, err := s.Newsletter.UpdateMySubscriptions(ctx, tx, []pulid.ID{list.ID}, nil); err != nil {
					return err
				}
				_, err := s.Consent.Give(ctx, tx, vocab.ConsentDirectoryProfile)
				return err
			})
		}
		signups := func(u *ent.User) []*ent.ConsentEvidence {
			t.Helper()
			ev, err := s.DB.Client.ConsentEvidence.Query().Where(consentevidence.EventEQ(consentevidence.EventSIGNUP),
				consentevidence.HasSubscription()).All(s.System())
			if err != nil {
				t.Fatal(err)
			}
			var out []*ent.ConsentEvidence
			for _, e := range ev {
				if e.ActorID == string(u.ID) {
					out = append(out, e)
				}
			}
			return out
		}
		ev := signups(marek)
		if len(ev) != 1 || ev[0].Purpose != vocab.ConsentNewsletter || ev[0].ConsentTextID == nil || *ev[0].ConsentTextID != news.ID ||
			ev[0].ConsentVersion != "v1" || ev[0].ConsentText != "Send me the lists I chose." || ev[0].WithdrawnAt != nil {
			t.Fatalf("Marek's signup evidence: %+v", ev)
		}

		// Leaving the list withdraws that consent (and only his).
		s.Clock.Advance(48 * time.Hour)
		s.Must(s.As(marek), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Newsletter.UpdateMySubscriptions(ctx, tx, nil, []pulid.ID{list.ID})
			return err
		})
		if ev := signups(marek); len(ev) != 1 || ev[0].WithdrawnAt == nil || !ev[0].WithdrawnAt.Equal(s.Clock.Now().UTC()) {
			t.Errorf("Marek's signup after leaving: %+v, want withdrawn now", ev)
		}
		if ev := signups(marta); len(ev) != 1 || ev[0].WithdrawnAt != nil {
			t.Errorf("Marta's signup: %+v, want standing", ev)
		}

		// The export: every consent record of the person, nobody else's.
		reg, err := app.PrivacyRegistry()
		if err != nil {
			t.Fatal(err)
		}
		if d := reg.Owner("ConsentEvidence"); d == nil || d.Name() != "consent" {
			t.Fatalf("ConsentEvidence is answered for by %v, want the consent domain", d)
		}
		part, err := consent.PrivacyDomain{}.Export(viewer.ForFacts(s.System()), s.DB.Client, privacy.Person{ID: marek.ID, Email: marek.Email})
		if err != nil {
			t.Fatal(err)
		}
		got := part.Data.(consent.Export)
		kinds := map[string]int{}
		for _, c := range got.Consents {
			if (c.UserID != nil && *c.UserID != marek.ID) || c.ActorID == string(marta.ID) {
				t.Errorf("Marek's export holds someone else's record: %+v", c)
			}
			kinds[string(c.Purpose)+"/"+string(c.Event)]++
		}
		if kinds["NEWSLETTER/SIGNUP"] != 1 || kinds["NEWSLETTER/CONFIRMATION"] != 1 || kinds["DIRECTORY_PROFILE/GIVEN"] != 1 || len(got.Consents) != 3 {
			t.Errorf("Marek's consents in the export: %v", kinds)
		}
		staffPart, err := consent.PrivacyDomain{}.Export(viewer.ForFacts(s.System()), s.DB.Client, privacy.Person{ID: staff.ID, Email: staff.Email})
		if err != nil {
			t.Fatal(err)
		}
		if p := staffPart.Data.(consent.Export).Published; len(p) != 2 || p[0].ID == p[1].ID || (p[0].ID != string(contact.ID) && p[1].ID != string(contact.ID)) {
			t.Errorf("staff's published texts in their export: %+v", p)
		}
	})
}
