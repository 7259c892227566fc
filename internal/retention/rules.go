package retention

import (
	"fmt"
	"time"
)

// Job names of the retention rules (the auth.cleanup job is auth's own).
const (
	JobAuthCleanup     = "auth.cleanup"
	JobMailBodies      = "retention.mail_bodies"
	JobUnconfirmedSubs = "retention.unconfirmed_subscriptions"
	JobAuditPrune      = "retention.audit"
	// JobApplications is programme's: it applies the applications rule (programme.ApplyRetention).
	JobApplications = "retention.applications"
)

// Settings are the configurable periods (from config.Config).
type Settings struct {
	// AuditYears is how many years audit events are kept (COALITION_RETENTION_AUDIT_YEARS).
	AuditYears int
	// MailBodyDays is how many days a sent email's body is kept (COALITION_RETENTION_MAIL_BODY_DAYS).
	MailBodyDays int
	// UnconfirmedDays is how many days an unconfirmed subscription is kept
	// (COALITION_RETENTION_UNCONFIRMED_DAYS).
	UnconfirmedDays int
	// ApplicationsMonths is how many months after a call ends its unsuccessful applications
	// (with their documents and referee letters) are kept
	// (COALITION_RETENTION_APPLICATIONS_MONTHS).
	ApplicationsMonths int
}

// DefaultSettings are the periods without configuration.
func DefaultSettings() Settings {
	return Settings{AuditYears: 6, MailBodyDays: 30, UnconfirmedDays: 30, ApplicationsMonths: 12}
}

// Rule is one retention rule, as the README's table and the record of processing list it.
type Rule struct {
	// Job is the job that applies it (`coalition jobs` lists its runs).
	Job string
	// Category is the personal-data category it is about.
	Category string
	// Deleted says what goes; Kept what stays.
	Deleted, Kept string
	// Period says when, in words, e.g. "30 days after sending".
	Period string
	// Variable is the COALITION_* variable that sets the period ("" when fixed).
	Variable string
	// Every is how often the job runs.
	Every time.Duration
}

// Rules lists the rules with the default periods.
func Rules() []Rule { return DefaultSettings().Rules() }

// Rules lists the rules with s's periods.
func (s Settings) Rules() []Rule {
	return []Rule{
		{
			Job: JobAuthCleanup, Category: "sign-in credentials",
			Deleted: "sign-in links, expired or revoked sessions, expired or revoked API tokens",
			Kept:    "nothing of them",
			Period:  "1 day after they expire or are revoked", Every: time.Hour,
		},
		{
			Job: JobMailBodies, Category: "email content",
			Deleted: "the text, HTML, headers, attachments and personal values of sent emails; shared newsletter bodies no campaign and no unsent email uses",
			Kept:    "the delivery record: recipient, subject, template, status, times",
			Period:  fmt.Sprintf("%d days after sending", s.MailBodyDays), Variable: "COALITION_RETENTION_MAIL_BODY_DAYS",
			Every: 24 * time.Hour,
		},
		{
			Job: JobUnconfirmedSubs, Category: "newsletter subscribers",
			Deleted: "subscriptions never confirmed (double opt-in), their consent evidence, and the subscriber when no subscription is left",
			Kept:    "confirmed and unsubscribed subscriptions",
			Period:  fmt.Sprintf("%d days after signing up", s.UnconfirmedDays), Variable: "COALITION_RETENTION_UNCONFIRMED_DAYS",
			Every: 24 * time.Hour,
		},
		{
			Job: JobApplications, Category: "applications and referee letters",
			Deleted: "unsuccessful applications (not placed) with their documents, host choices, reviews, rankings and referee letters (and the referees' names and addresses)",
			Kept:    "placed applications whole, their referee letters included (the record of the selection; deleted when the person's data is erased); the call's count of deleted applications; the trainee of an unsuccessful application is emailed a month before",
			Period:  fmt.Sprintf("%d months after the call is completed or cancelled", s.ApplicationsMonths), Variable: "COALITION_RETENTION_APPLICATIONS_MONTHS",
			Every: 24 * time.Hour,
		},
		{
			Job: JobAuditPrune, Category: "audit trail",
			Deleted: "audit events, from the start of the hash chain",
			Kept:    "a signed checkpoint (last pruned position, its hash, the count), so the rest of the chain still verifies",
			Period:  fmt.Sprintf("%d years after the event", s.AuditYears), Variable: "COALITION_RETENTION_AUDIT_YEARS",
			Every: 24 * time.Hour,
		},
	}
}
