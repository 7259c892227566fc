package auth

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/apitoken"
	"github.com/gocart-coalition/coalition/ent/loginlink"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/session"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/secret"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Limits of user-supplied text.
const (
	maxNameLen      = 200
	maxTokenNameLen = 100
)

// CreateUserInput is what staff provide to create a user.
type CreateUserInput struct {
	Email string
	Name  string
	Roles []viewer.Role
}

// CreateUser creates a user (e.g. a host coordinator or another staff member). Staff only.
// Returns UserErrors for a malformed or taken address, a missing or too long name, or no
// roles.
func (s *Service) CreateUser(ctx context.Context, tx *ent.Client, in CreateUserInput) (*ent.User, error) {
	if err := access.Require(ctx, access.CanManageUsers, "manage users and tokens"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	addr := check.Email(&errs, in.Email, check.Path("email"))
	name := check.RequiredText(&errs, in.Name, maxNameLen, "The name", "Enter the person's name.", check.Path("name"))
	if check.HasControl(name) {
		errs.Add(apperr.CodeInvalid, "The name must be a single line of text without invisible characters.", check.Path("name")...)
	}
	roles := normaliseRoles(in.Roles)
	if len(roles) == 0 {
		errs.Add(apperr.CodeRequired, "Give the user at least one role.", "input", "roles")
	}
	if addr != "" {
		taken, err := tx.User.Query().Where(user.Email(addr)).Exist(viewer.ForFacts(ctx)) // disabled users too
		if err != nil {
			return nil, fmt.Errorf("check email: %w", err)
		}
		if taken {
			errs.Add(apperr.CodeTaken, "A user with this email address already exists.", "input", "email")
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	u, err := tx.User.Create().SetEmail(addr).SetName(name).SetRoles(roles).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

func normaliseRoles(in []viewer.Role) []viewer.Role {
	out := make([]viewer.Role, 0, len(in))
	for _, r := range viewer.AllRoles { // stable order, no duplicates
		if slices.Contains(in, r) {
			out = append(out, r)
		}
	}
	return out
}

// loadUser loads a user for administration; NOT_FOUND as a user error when it does not exist.
func loadUser(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.User, error) {
	u, err := tx.User.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid(apperr.CodeNotFound, "No such user.", "input", "userId")
	}
	if err != nil {
		return nil, fmt.Errorf("load user %s: %w", id, err)
	}
	return u, nil
}

// SetUserDisabled disables or re-enables a user. Disabling revokes all their sessions and
// API tokens and expires their unused sign-in links, for good: re-enabling restores the
// account, not its credentials. Staff cannot disable themselves.
func (s *Service) SetUserDisabled(ctx context.Context, tx *ent.Client, id pulid.ID, disabled bool) (*ent.User, error) {
	if err := access.Require(ctx, access.CanManageUsers, "manage users and tokens"); err != nil {
		return nil, err
	}
	u, err := loadUser(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if disabled && string(u.ID) == viewer.FromContext(ctx).UserID {
		return nil, apperr.Invalid(apperr.CodeInvalidState, "You cannot disable your own account.", "input", "userId")
	}
	if u.Disabled == disabled {
		return u, nil
	}
	u, err = tx.User.UpdateOne(u).SetDisabled(disabled).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("set disabled: %w", err)
	}
	if disabled {
		if err := s.endCredentials(ctx, tx, u); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// endCredentials revokes, for good, everything that lets u in: their sessions, their API
// tokens, and their sign-in links not used yet (an invitation's links last two weeks; they
// are marked used, as their expiry cannot change). It
// runs in the transaction that disables u, so re-enabling the account brings none of them
// back: the person signs in afresh and staff mint new tokens.
func (s *Service) endCredentials(ctx context.Context, tx *ent.Client, u *ent.User) error {
	sys := credentials(ctx)
	now := s.now()
	if _, err := tx.Session.Update().
		Where(session.UserID(u.ID), session.RevokedAtIsNil()).
		SetRevokedAt(now).
		Save(sys); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	if _, err := tx.ApiToken.Update().
		Where(apitoken.UserID(u.ID), apitoken.RevokedAtIsNil()).
		SetRevokedAt(now).
		Save(ctx); err != nil { // as the person disabling: API tokens are theirs to manage
		return fmt.Errorf("revoke api tokens: %w", err)
	}
	if _, err := tx.LoginLink.Update().
		Where(loginlink.Email(u.Email), loginlink.UsedAtIsNil(), loginlink.ExpiresAtGT(now)).
		SetUsedAt(now).
		Save(sys); err != nil {
		return fmt.Errorf("use up sign-in links: %w", err)
	}
	return nil
}

// GrantRole adds a role to a user (no change if they hold it).
func (s *Service) GrantRole(ctx context.Context, tx *ent.Client, id pulid.ID, role viewer.Role) (*ent.User, error) {
	return s.changeRole(ctx, tx, id, role, true)
}

// RevokeRole removes a role from a user. Staff cannot revoke their own STAFF role (someone
// else must), so the coalition cannot lock itself out by accident.
func (s *Service) RevokeRole(ctx context.Context, tx *ent.Client, id pulid.ID, role viewer.Role) (*ent.User, error) {
	return s.changeRole(ctx, tx, id, role, false)
}

func (s *Service) changeRole(ctx context.Context, tx *ent.Client, id pulid.ID, role viewer.Role, grant bool) (*ent.User, error) {
	if err := access.Require(ctx, access.CanManageUsers, "manage users and tokens"); err != nil {
		return nil, err
	}
	if !role.Valid() {
		return nil, apperr.Invalid(apperr.CodeInvalid, "Unknown role.", "input", "role")
	}
	u, err := loadUser(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if !grant && role == viewer.RoleStaff && string(u.ID) == viewer.FromContext(ctx).UserID {
		return nil, apperr.Invalid(apperr.CodeInvalidState, "You cannot revoke your own staff role.", "input", "role")
	}
	roles := slices.Clone(u.Roles)
	switch has := slices.Contains(roles, role); {
	case grant && !has:
		roles = append(roles, role)
	case !grant && has:
		roles = slices.DeleteFunc(roles, func(r viewer.Role) bool { return r == role })
	default:
		return u, nil
	}
	u, err = tx.User.UpdateOne(u).SetRoles(normaliseRoles(roles)).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("change roles: %w", err)
	}
	return u, nil
}

// CreateAPITokenInput is what staff provide to mint a token.
type CreateAPITokenInput struct {
	UserID    pulid.ID
	Name      string
	Scopes    []viewer.Scope
	ExpiresAt *time.Time
}

// CreateAPIToken mints a named, scoped token acting for a user and returns it with its
// secret, which is shown only this once.
func (s *Service) CreateAPIToken(ctx context.Context, tx *ent.Client, in CreateAPITokenInput) (*ent.ApiToken, string, error) {
	if err := access.Require(ctx, access.CanManageUsers, "manage users and tokens"); err != nil {
		return nil, "", err
	}
	var errs apperr.UserErrors
	name := check.RequiredText(&errs, in.Name, maxTokenNameLen, "The name", "Name the token after what it is for.", check.Path("name"))
	if check.HasControl(name) {
		errs.Add(apperr.CodeInvalid, "The name must be a single line of text without invisible characters.", check.Path("name")...)
	}
	var scopes []viewer.Scope
	for _, sc := range viewer.AllScopes {
		if slices.Contains(in.Scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if len(scopes) == 0 {
		errs.Add(apperr.CodeRequired, "Give the token at least one scope.", "input", "scopes")
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(s.now()) {
		errs.Add(apperr.CodeInvalid, "The expiry must be in the future.", "input", "expiresAt")
	}
	u, err := loadUser(ctx, tx, in.UserID)
	if ue, ok := apperr.AsUserErrors(err); ok {
		errs = append(errs, ue...)
	} else if err != nil {
		return nil, "", err
	} else if u.Disabled {
		errs.Add(apperr.CodeInvalidState, "The user is disabled.", "input", "userId")
	}
	if err := errs.Err(); err != nil {
		return nil, "", err
	}
	bearer := secret.New(tokenPrefix)
	c := tx.ApiToken.Create().
		SetUserID(u.ID).
		SetName(name).
		SetTokenHash(secret.Hash(bearer)).
		SetHint(bearer[:len(tokenPrefix)+6]).
		SetScopes(scopes).
		SetCreatedByID(pulid.ID(viewer.FromContext(ctx).UserID))
	if in.ExpiresAt != nil {
		c.SetExpiresAt(in.ExpiresAt.UTC())
	}
	tok, err := c.Save(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("create api token: %w", err)
	}
	return tok, bearer, nil
}

// RevokeAPIToken revokes a token; revoking a revoked token changes nothing.
func (s *Service) RevokeAPIToken(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.ApiToken, error) {
	if err := access.Require(ctx, access.CanManageUsers, "manage users and tokens"); err != nil {
		return nil, err
	}
	tok, err := tx.ApiToken.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid(apperr.CodeNotFound, "No such API token.", "input", "id")
	}
	if err != nil {
		return nil, fmt.Errorf("load api token: %w", err)
	}
	if tok.RevokedAt != nil {
		return tok, nil
	}
	tok, err = tx.ApiToken.UpdateOne(tok).SetRevokedAt(s.now()).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("revoke api token: %w", err)
	}
	return tok, nil
}
