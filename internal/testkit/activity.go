package testkit

import (
	"bytes"
	"context"
	"net/url"
	"regexp"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/mailinglist"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/subscriber"
	"github.com/gocart-coalition/coalition/ent/workinggroup"
	"github.com/gocart-coalition/coalition/internal/consent"
	"github.com/gocart-coalition/coalition/internal/groups"
	"github.com/gocart-coalition/coalition/internal/newsletter"
)

// The fixtures below are what people do beyond a call, each through the service that a
// mutation calls, as the person who does it (staff, the member, the subscriber).

// MustWorkingGroup creates a working group as staff.
func MustWorkingGroup(tb testing.TB, s *Services, staff *ent.User, name, purpose string) *ent.WorkingGroup {
	tb.Helper()
	var g *ent.WorkingGroup
	MustDo(tb, s, s.As(staff), func(ctx context.Context, tx *ent.Client) (err error) {
		g, err = s.WorkingGroups.CreateWorkingGroup(ctx, tx, groups.CreateWorkingGroupInput{
			Name: name, WorkPackage: workinggroup.WorkPackageSTANDARDS_OF_CARE, Purpose: &purpose, Visibility: workinggroup.VisibilityINTERNAL,
		})
		return err
	})
	return g
}

// MustMember invites u to g as staff, for role over 2027–2028, and accepts the invitation
// as u: the accepted membership.
func MustMember(tb testing.TB, s *Services, staff *ent.User, g *ent.WorkingGroup, u *ent.User, role membership.Role) *ent.Membership {
	tb.Helper()
	var m *ent.Membership
	MustDo(tb, s, s.As(staff), func(ctx context.Context, tx *ent.Client) (err error) {
		m, err = s.WorkingGroups.Invite(ctx, tx, groups.InviteInput{GroupID: g.ID, UserID: u.ID, Role: role, TermStart: "2027-01-01", TermEnd: "2028-12-31"})
		return err
	})
	MustDo(tb, s, s.As(u), func(ctx context.Context, tx *ent.Client) (err error) {
		m, err = s.WorkingGroups.Accept(ctx, tx, m.ID)
		return err
	})
	return m
}

// MustDeclare files u's declaration of one ongoing interest of kind with organisation (since
// 1 January 2026), as u.
func MustDeclare(tb testing.TB, s *Services, u *ent.User, kind vocab.InterestKind, organisation, description string) *ent.ConflictOfInterestDeclaration {
	tb.Helper()
	var d *ent.ConflictOfInterestDeclaration
	MustDo(tb, s, s.As(u), func(ctx context.Context, tx *ent.Client) (err error) {
		d, err = s.WorkingGroups.Declare(ctx, tx, groups.DeclareInput{Interests: []groups.InterestInput{
			{Organisation: organisation, Kind: kind, Description: &description, From: "2026-01-01"},
		}})
		return err
	})
	return d
}

// MustMailingList creates a public mailing list as staff.
func MustMailingList(tb testing.TB, s *Services, staff *ent.User, name, slug string) *ent.MailingList {
	tb.Helper()
	public := mailinglist.VisibilityPUBLIC
	var l *ent.MailingList
	MustDo(tb, s, s.As(staff), func(ctx context.Context, tx *ent.Client) (err error) {
		l, err = s.Newsletter.CreateList(ctx, tx, newsletter.ListInput{Name: &name, Slug: &slug, Visibility: &public})
		return err
	})
	return l
}

// MustSubscribe subscribes u's address, with u's name, to the lists from ip as anyone can
// (the subscribe mutation), and confirms it through the link the confirmation email
// carries, from the same address: the subscriber.
func MustSubscribe(tb testing.TB, s *Services, u *ent.User, ip string, lists ...*ent.MailingList) *ent.Subscriber {
	tb.Helper()
	slugs := make([]string, len(lists))
	for i, l := range lists {
		slugs[i] = l.Slug
	}
	MustDo(tb, s, s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.Newsletter.Subscribe(ctx, tx, newsletter.SubscribeInput{Email: u.Email, Name: u.Name, Lists: slugs, Source: newsletter.SourceAPI, IP: ip})
		return err
	})
	token := MailedToken(tb, s, u.Email, "newsletter_confirm")
	MustDo(tb, s, s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.Newsletter.Confirm(ctx, tx, token, ip, newsletter.SourceForm)
		return err
	})
	sub, err := s.DB.Client.Subscriber.Query().Where(subscriber.Email(u.Email)).Only(s.System())
	if err != nil {
		tb.Fatalf("subscriber %s: %v", u.Email, err)
	}
	return sub
}

// MustPublishConsentText publishes the next version of purpose's consent text as staff.
func MustPublishConsentText(tb testing.TB, s *Services, staff *ent.User, purpose vocab.ConsentPurpose, body string) *ent.ConsentText {
	tb.Helper()
	var t *ent.ConsentText
	MustDo(tb, s, s.As(staff), func(ctx context.Context, tx *ent.Client) (err error) {
		t, err = s.Consent.Publish(ctx, tx, consent.PublishInput{Purpose: purpose, Body: body})
		return err
	})
	return t
}

// MustGiveConsent gives u's consent to purpose (on its current text) as u.
func MustGiveConsent(tb testing.TB, s *Services, u *ent.User, purpose vocab.ConsentPurpose) *ent.ConsentEvidence {
	tb.Helper()
	var ev *ent.ConsentEvidence
	MustDo(tb, s, s.As(u), func(ctx context.Context, tx *ent.Client) (err error) {
		ev, err = s.Consent.Give(ctx, tx, purpose)
		return err
	})
	return ev
}

// MustUpload uploads content as a document of kind to trainee's draft a, as the trainee.
func MustUpload(tb testing.TB, s *Services, trainee *ent.User, a *ent.Application, kind vocab.DocumentKind, filename string, content []byte) *ent.Document {
	tb.Helper()
	var d *ent.Document
	MustDo(tb, s, s.As(trainee), func(ctx context.Context, tx *ent.Client) (err error) {
		d, err = s.Programme.UploadDocument(ctx, tx, a.ID, kind, filename, bytes.NewReader(content))
		return err
	})
	return d
}

// MustSubmit submits trainee's draft a as the trainee.
func MustSubmit(tb testing.TB, s *Services, trainee *ent.User, a *ent.Application) *ent.Application {
	tb.Helper()
	MustDo(tb, s, s.As(trainee), func(ctx context.Context, tx *ent.Client) (err error) {
		a, err = s.Programme.Submit(ctx, tx, a.ID)
		return err
	})
	return a
}

var tokenParam = regexp.MustCompile(`[?&]token=([^&\s"<>]+)`)

// MailedToken is the token parameter of the first link in the newest email of template
// queued to recipient (the outbox holds it, as the worker would send it).
func MailedToken(tb testing.TB, s *Services, recipient, template string) string {
	tb.Helper()
	m, err := s.DB.Client.OutboxMessage.Query().Where(outboxmessage.Recipient(recipient), outboxmessage.Template(template)).
		Order(ent.Desc(outboxmessage.FieldCreatedAt), ent.Desc(outboxmessage.FieldID)).First(s.System())
	if err != nil {
		tb.Fatalf("%s email to %s: %v", template, recipient, err)
	}
	match := tokenParam.FindStringSubmatch(m.TextBody)
	if match == nil {
		tb.Fatalf("no token link in the %s email to %s: %q", template, recipient, m.TextBody)
	}
	token, err := url.QueryUnescape(match[1])
	if err != nil {
		tb.Fatalf("token %q: %v", match[1], err)
	}
	return token
}
