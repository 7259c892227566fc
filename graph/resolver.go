// Package graph is the GraphQL API: hand-written schema files per domain (*.graphqls),
// the entgql-generated ent.graphqls, and thin resolvers that convert input, call one
// service or query, and convert the result.
package graph

import (
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/auth"
	"github.com/gocart-coalition/coalition/internal/consent"
	"github.com/gocart-coalition/coalition/internal/directory"
	"github.com/gocart-coalition/coalition/internal/groups"
	"github.com/gocart-coalition/coalition/internal/matchrun"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/placement"
	"github.com/gocart-coalition/coalition/internal/privacy"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/statements"
)

// Resolver holds the services the resolvers delegate to (no globals).
type Resolver struct {
	Client *ent.Client
	Auth   *auth.Service
	// Directory manages organisations, host centres and affiliations.
	Directory *directory.Directory
	// Groups manages working groups and memberships.
	Groups *groups.WorkingGroups
	// Programme runs calls and their slots.
	Programme *programme.Service
	// Matches runs, compares and publishes calls' matches.
	Matches *matchrun.Service
	// Placements runs the placements' lifecycle.
	Placements *placement.Service
	// Campaigns writes, approves, schedules and sends newsletter campaigns.
	Campaigns *newsletter.Campaigns
	// Statements runs policy statements.
	Statements *statements.Service
	// Newsletter owns mailing lists, subscribers and suppression.
	Newsletter *newsletter.Service
	// Consent publishes consent texts and records consent.
	Consent *consent.Service
	// Privacy answers data-subject requests (data exports).
	Privacy *privacy.Service
	Now     func() time.Time
}
