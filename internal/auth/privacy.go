package auth

import (
	"context"
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/apitoken"
	"github.com/gocart-coalition/coalition/ent/loginlink"
	"github.com/gocart-coalition/coalition/ent/session"
	"github.com/gocart-coalition/coalition/internal/privacy"
)

// PrivacyDomain is the account's part in data-subject requests: the user row, sessions,
// API tokens and sign-in links (never their secrets, which are stored only as hashes and
// not exported).
type PrivacyDomain struct{}

// Name implements privacy.Domain.
func (PrivacyDomain) Name() string { return "account" }

// Entities implements privacy.Domain.
func (PrivacyDomain) Entities() []string { return []string{"User", "Session", "ApiToken", "LoginLink"} }

// Categories implements privacy.Domain.
func (PrivacyDomain) Categories() []privacy.Category {
	return []privacy.Category{
		{Name: "Account", Data: "email address, name, roles, account status",
			Purpose: "identify the person and decide what they may do", LegalBasis: "Art. 6(1)(b) contract (programme participation); Art. 6(1)(f) legitimate interest (coalition work)",
			Retention: "while the account exists; erased on request", Recipients: "staff; co-members and hosts see the name where a domain shows it"},
		{Name: "Sign-in and sessions", Data: "sign-in link requests (address, IP address, time), sessions (IP address, user agent), API token names",
			Purpose: "passwordless sign-in, security and rate limits", LegalBasis: "Art. 6(1)(f) legitimate interest (security)",
			Retention: "links and sessions until expiry, then purged hourly by auth.cleanup; tokens until revoked", Recipients: "none"},
	}
}

// AccountExport is account.json.
type AccountExport struct {
	User        *ent.User        `json:"user"`
	Sessions    []*ent.Session   `json:"sessions"`
	APITokens   []*ent.ApiToken  `json:"api_tokens"`
	SignInLinks []*ent.LoginLink `json:"sign_in_links"`
}

// Export implements privacy.Domain.
func (PrivacyDomain) Export(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Part, error) {
	var out AccountExport
	var err error
	if out.User, err = c.User.Get(ctx, p.ID); err != nil {
		return privacy.Part{}, fmt.Errorf("user: %w", err)
	}
	if out.Sessions, err = c.Session.Query().Where(session.UserID(p.ID)).Order(ent.Asc(session.FieldCreatedAt)).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("sessions: %w", err)
	}
	if out.APITokens, err = c.ApiToken.Query().Where(apitoken.UserID(p.ID)).Order(ent.Asc(apitoken.FieldCreatedAt)).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("api tokens: %w", err)
	}
	if out.SignInLinks, err = c.LoginLink.Query().Where(loginlink.Email(p.Email)).Order(ent.Asc(loginlink.FieldRequestedAt)).All(ctx); err != nil {
		return privacy.Part{}, fmt.Errorf("sign-in links: %w", err)
	}
	return privacy.Part{Data: out}, nil
}

// Erase implements privacy.Domain.
func (PrivacyDomain) Erase(context.Context, *ent.Client, privacy.Person) (privacy.Erased, error) {
	return privacy.Erased{}, privacy.ErrEraseUnwritten
}
