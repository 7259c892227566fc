package app

import (
	"github.com/gocart-coalition/coalition/internal/auth"
	"github.com/gocart-coalition/coalition/internal/consent"
	"github.com/gocart-coalition/coalition/internal/directory"
	"github.com/gocart-coalition/coalition/internal/groups"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/placement"
	"github.com/gocart-coalition/coalition/internal/privacy"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/statements"
)

// PrivacyRegistry is every domain that holds personal data, in the order of the export and
// of the record of processing. A domain joins by implementing privacy.Domain and being
// listed here (internal/privacy's coverage test fails while a schema with personal data
// has no domain).
func PrivacyRegistry() (*privacy.Registry, error) { return privacyRegistry(nil, nil) }

// privacyRegistry is PrivacyRegistry with what the erasure needs: the newsletter key (the
// erased address is kept only as its keyed hash in the suppression list) and the placement
// service (a cancelled placement's host is told).
func privacyRegistry(newsletterKey []byte, placements *placement.Service) (*privacy.Registry, error) {
	return privacy.NewRegistry(
		auth.PrivacyDomain{},
		directory.PrivacyDomain{},
		groups.PrivacyDomain{},
		programme.PrivacyDomain{},
		placement.PrivacyDomain{Service: placements},
		newsletter.PrivacyDomain{Key: newsletterKey},
		consent.PrivacyDomain{},
		statements.PrivacyDomain{},
		privacy.MailDomain{},
		privacy.AuditDomain{},
		privacy.RequestsDomain{},
	)
}
