package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/apitoken"
	"github.com/gocart-coalition/coalition/ent/loginlink"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/session"
	"github.com/gocart-coalition/coalition/internal/privacy"
	"github.com/gocart-coalition/coalition/internal/viewer"
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

// ErasedEmail is what an erased account's address becomes: unique, undeliverable (RFC 2606
// .invalid), and naming nobody.
func ErasedEmail(id pulid.ID) string {
	return "erased-" + strings.ToLower(string(id)) + "@erased.invalid"
}

// Erase implements privacy.Domain: the account stays as an anonymous row (other domains'
// rows keep pointing at its id) with its address replaced by ErasedEmail, its name
// emptied, no roles, disabled; its sessions, API tokens and sign-in links are deleted, so
// every one of them stops working at once.
func (PrivacyDomain) Erase(ctx context.Context, c *ent.Client, p privacy.Person) (privacy.Erased, error) {
	var out privacy.Erased
	n, err := c.Session.Delete().Where(session.UserID(p.ID)).Exec(ctx)
	if err != nil {
		return out, fmt.Errorf("erase sessions: %w", err)
	}
	out.Rows += n
	if n, err = c.ApiToken.Delete().Where(apitoken.UserID(p.ID)).Exec(ctx); err != nil {
		return out, fmt.Errorf("erase api tokens: %w", err)
	}
	out.Rows += n
	if n, err = c.LoginLink.Delete().Where(loginlink.Email(p.Email)).Exec(ctx); err != nil {
		return out, fmt.Errorf("erase sign-in links: %w", err)
	}
	out.Rows += n
	if err := c.User.UpdateOneID(p.ID).SetEmail(ErasedEmail(p.ID)).SetName("").SetRoles([]viewer.Role{}).
		SetDisabled(true).ClearLastSignInAt().Exec(ctx); err != nil {
		return out, fmt.Errorf("anonymise account: %w", err)
	}
	out.Rows++
	return out, nil
}
