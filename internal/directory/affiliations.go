package directory

import (
	"context"
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/affiliation"
	"github.com/gocart-coalition/coalition/ent/organisation"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/db"
)

// SetAffiliationInput says that a person belongs to an organisation, with a position there.
type SetAffiliationInput struct {
	UserID         pulid.ID
	OrganisationID pulid.ID
	// Position is the title there; it may be empty.
	Position string
}

// SetAffiliation records that a user belongs to an organisation, or changes their position
// there (one affiliation per user and organisation). Staff only. User errors: NOT_FOUND for
// an unknown user or organisation, TOO_LONG for a position over 200 characters.
func (d *Directory) SetAffiliation(ctx context.Context, tx *ent.Client, in SetAffiliationInput) (*ent.Affiliation, error) {
	if err := access.Require(ctx, access.CanManageDirectory, "manage the directory"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	position := check.Text(&errs, in.Position, maxPositionLen, "The position", check.Path("position"))
	if check.HasControl(position) {
		errs.Add(apperr.CodeInvalid, "The position must be a single line of text.", check.Path("position")...)
	}
	if ok, err := tx.User.Query().Where(user.ID(in.UserID)).Exist(ctx); err != nil {
		return nil, fmt.Errorf("check user %s: %w", in.UserID, err)
	} else if !ok {
		errs.Add(apperr.CodeNotFound, "No such user.", check.Path("userId")...)
	}
	if ok, err := tx.Organisation.Query().Where(organisation.ID(in.OrganisationID)).Exist(ctx); err != nil {
		return nil, fmt.Errorf("check organisation %s: %w", in.OrganisationID, err)
	} else if !ok {
		errs.Add(apperr.CodeNotFound, "No such organisation.", check.Path("organisationId")...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	a, err := tx.Affiliation.Query().
		Where(affiliation.UserID(in.UserID), affiliation.OrganisationID(in.OrganisationID)).
		Only(ctx)
	switch {
	case ent.IsNotFound(err):
		a, err = tx.Affiliation.Create().
			SetUserID(in.UserID).SetOrganisationID(in.OrganisationID).SetPosition(position).
			Save(ctx)
		if err != nil {
			return nil, db.Conflict(err, "the affiliation was recorded at the same time by someone else", "create affiliation")
		}
		return a, nil
	case err != nil:
		return nil, fmt.Errorf("load affiliation: %w", err)
	case a.Position == position:
		return a, nil
	}
	a, err = tx.Affiliation.UpdateOne(a).SetPosition(position).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("update affiliation %s: %w", a.ID, err)
	}
	return a, nil
}

// RemoveAffiliation deletes an affiliation and returns its id. Staff only. User error:
// NOT_FOUND for an unknown id.
func (d *Directory) RemoveAffiliation(ctx context.Context, tx *ent.Client, id pulid.ID) (pulid.ID, error) {
	if err := access.Require(ctx, access.CanManageDirectory, "manage the directory"); err != nil {
		return "", err
	}
	a, err := tx.Affiliation.Get(ctx, id)
	if ent.IsNotFound(err) {
		return "", apperr.Invalid(apperr.CodeNotFound, "No such affiliation.", check.Path("id")...)
	}
	if err != nil {
		return "", fmt.Errorf("load affiliation %s: %w", id, err)
	}
	if err := tx.Affiliation.DeleteOne(a).Exec(ctx); err != nil {
		return "", fmt.Errorf("remove affiliation %s: %w", id, err)
	}
	return a.ID, nil
}
