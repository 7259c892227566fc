package placement

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/auth"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Intents of the sign-in links placement emails carry ("<intent>:<placement id>"); the
// wiring registers the service for the prefix IntentPrefix (auth.RegisterIntent).
const (
	IntentPrefix       = "placement"
	IntentAccept       = "placement.accept"        // the trainee accepts an offer
	IntentDecline      = "placement.decline"       // the trainee declines an offer
	IntentConfirm      = "placement.confirm"       // a coordinator confirms an accepted placement
	IntentAcceptDates  = "placement.accept_dates"  // the trainee accepts the dates a host proposed
	IntentDeclineDates = "placement.decline_dates" // the trainee declines them
)

// LinkTTL is how long a confirmation or change-of-dates link works; offer links work until
// the offer's deadline.
const LinkTTL = 14 * 24 * time.Hour

// DeclinedByLink is the reason recorded (and shown to the host) for an offer declined with
// the email's button.
const DeclinedByLink = "Declined with the button in the offer email."

// LinkIssuer issues sign-in links that also carry out an intent (auth.Service), one at a
// time or in bulk (a match's offers).
type LinkIssuer interface {
	IssueIntentLink(ctx context.Context, tx *ent.Client, u *ent.User, intent string, ttl time.Duration) (string, error)
	IssueIntentLinks(ctx context.Context, tx *ent.Client, reqs []auth.IntentLinkRequest) ([]string, error)
}

func parseIntent(intent string) (action string, id pulid.ID, ok bool) {
	action, rest, ok := strings.Cut(intent, ":")
	switch action {
	case IntentAccept, IntentDecline, IntentConfirm, IntentAcceptDates, IntentDeclineDates:
	default:
		return "", "", false
	}
	if !ok || !strings.HasPrefix(rest, "plc_") {
		return "", "", false
	}
	return action, pulid.ID(rest), true
}

// linkTTL is how long a link valid for ttl is issued for: at least a minute.
func linkTTL(ttl time.Duration) time.Duration { return max(ttl, time.Minute) }

// issueLinks issues to's links for the intents, each valid for ttl, in order.
func (s *Service) issueLinks(ctx context.Context, tx *ent.Client, to *ent.User, p *ent.Placement, ttl time.Duration, intents ...string) ([]string, error) {
	ttl = linkTTL(ttl)
	out := make([]string, len(intents))
	for i, in := range intents {
		u, err := s.cfg.Links.IssueIntentLink(ctx, tx, to, in+":"+string(p.ID), ttl)
		if err != nil {
			return nil, fmt.Errorf("issue %s link: %w", in, err)
		}
		out[i] = u
	}
	return out, nil
}

// offerLinks are the accept and decline links of an offer, valid until its deadline.
func (s *Service) offerLinks(ctx context.Context, tx *ent.Client, t *ent.User, p *ent.Placement) (accept, decline string, err error) {
	links, err := s.issueLinks(ctx, tx, t, p, p.OfferDeadline.Sub(s.cfg.Now()), IntentAccept, IntentDecline)
	if err != nil {
		return "", "", err
	}
	return links[0], links[1], nil
}

// OfferLinkRequests are the accept and decline links of the offer id to t, valid until
// deadline (now being the current time), for IssueIntentLinks: the same links an offer
// made one at a time carries (a match's offers are issued in bulk by internal/matchrun).
func OfferLinkRequests(now time.Time, t *ent.User, id pulid.ID, deadline time.Time) [2]auth.IntentLinkRequest {
	ttl := linkTTL(deadline.Sub(now))
	return [2]auth.IntentLinkRequest{
		{User: t, Intent: IntentAccept + ":" + string(id), TTL: ttl},
		{User: t, Intent: IntentDecline + ":" + string(id), TTL: ttl},
	}
}

// RunIntent carries out a placement email's button as u, who has just signed in
// (auth.IntentHandler), through the same service methods as the API, so the same rules
// apply. What cannot be done (someone else's placement, the offer answered or lapsed, the
// slot full) does not fail the sign-in: the message says so. Only internal errors return.
func (s *Service) RunIntent(ctx context.Context, tx *ent.Client, u *ent.User, intent string) (string, error) {
	action, id, ok := parseIntent(intent)
	if !ok {
		return "You are signed in. The link's action is not one we know, so nothing else was done.", nil
	}
	// Read as the person who signed in: privacy decides, so someone else's placement is
	// as absent as a deleted one.
	p, err := tx.Placement.Get(ctx, id)
	if ent.IsNotFound(err) {
		return "You are signed in. This placement no longer exists or is not for your account, so nothing was changed.", nil
	}
	if err != nil {
		return "", fmt.Errorf("load placement %s: %w", id, err)
	}
	if (action == IntentAccept || action == IntentDecline) && p.Status != placement.StatusOFFERED {
		return fmt.Sprintf("You are signed in. This offer is no longer open (the placement is %s), so nothing was changed.", p.Status), nil
	}
	switch action {
	case IntentAccept:
		p, err = s.Accept(ctx, tx, id)
	case IntentDecline:
		p, err = s.Decline(ctx, tx, id, DeclinedByLink)
	case IntentConfirm:
		p, err = s.Confirm(ctx, tx, id)
	case IntentAcceptDates:
		p, err = s.AnswerDateChange(ctx, tx, id, true)
	case IntentDeclineDates:
		p, err = s.AnswerDateChange(ctx, tx, id, false)
	}
	if err != nil {
		if ue, ok := apperr.AsUserErrors(err); ok {
			return "You are signed in. " + ue[0].Message + " Nothing was changed.", nil
		}
		switch apperr.KindOf(err) {
		case apperr.NotFound, apperr.Forbidden:
			return "You are signed in. This placement is not for your account, so nothing was changed.", nil
		}
		return "", err
	}
	l, err := s.loadAs(viewer.ForFacts(ctx), tx, p)
	if err != nil {
		return "", err
	}
	where := fmt.Sprintf("the observership at %s from %s to %s", l.centre.Name, p.StartDate, p.EndDate)
	switch action {
	case IntentAccept:
		return "You accepted " + where + ". The host centre's coordinators are asked to confirm it; you will then receive a calendar invitation.", nil
	case IntentDecline:
		return "You declined " + where + ". The place goes to the next applicant on the waiting list.", nil
	case IntentConfirm:
		return fmt.Sprintf("You confirmed the observership of %s at %s from %s to %s. Everyone receives a calendar invitation.", l.t.Name, l.centre.Name, p.StartDate, p.EndDate), nil
	case IntentAcceptDates:
		return "You accepted the new dates: " + where + ".", nil
	default:
		return "You declined the new dates: " + where + " stays as it was.", nil
	}
}

// DescribeIntent says what signing in with a placement link will do, for the sign-in page;
// "" for an intent it does not know or a placement that is gone or no longer waiting for it.
func (s *Service) DescribeIntent(ctx context.Context, intent string) string {
	action, id, ok := parseIntent(intent)
	if !ok {
		return ""
	}
	// Nobody is signed in yet: the link (its secret) is the authority, and what it names is
	// read as a fact for the page, never written.
	sys := viewer.ForFacts(ctx)
	p, err := s.cfg.Client.Placement.Get(sys, id)
	if err != nil {
		if !ent.IsNotFound(err) {
			s.log.WarnContext(ctx, "describe intent", "err", err)
		}
		return ""
	}
	l, err := s.loadAs(sys, s.cfg.Client, p)
	if err != nil {
		s.log.WarnContext(ctx, "describe intent", "err", err)
		return ""
	}
	where := fmt.Sprintf("the observership at %s from %s to %s", l.centre.Name, p.StartDate, p.EndDate)
	deadline := p.OfferDeadline.In(l.loc).Format("Monday 2 January 2006, 15:04") + " (" + l.c.TimeZone + ")"
	switch {
	case action == IntentAccept && p.Status == placement.StatusOFFERED:
		return "Sign in and accept " + where + ". The offer is open until " + deadline + "."
	case action == IntentDecline && p.Status == placement.StatusOFFERED:
		return "Sign in and decline " + where + ". The place then goes to the next applicant on the waiting list."
	case action == IntentConfirm && p.Status == placement.StatusACCEPTED:
		return fmt.Sprintf("Sign in and confirm the observership of %s at %s from %s to %s.", l.t.Name, l.centre.Name, p.StartDate, p.EndDate)
	case (action == IntentAcceptDates || action == IntentDeclineDates) && p.ProposedStart != nil:
		verb := "accept"
		if action == IntentDeclineDates {
			verb = "decline"
		}
		return fmt.Sprintf("Sign in and %s the new dates of %s: %s to %s.", verb, where, *p.ProposedStart, *p.ProposedEnd)
	}
	return ""
}
