package directory

import (
	"context"
	"fmt"
	"strings"

	"entgo.io/contrib/entgql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/hostcentre"
	"github.com/gocart-coalition/coalition/ent/organisation"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// CreateOrganisationInput is what staff provide to add an organisation.
type CreateOrganisationInput struct {
	Name    string
	Kind    organisation.Kind
	Country string
	City    *string
	Website *string
}

// UpdateOrganisationInput changes an organisation; nil fields stay as they are.
type UpdateOrganisationInput struct {
	ID      pulid.ID
	Name    *string
	Kind    *organisation.Kind
	Country *string
	City    *string
	Website *string
	Active  *bool
}

// CreateOrganisation adds an organisation to the directory (active). Staff only. User
// errors: name missing or too long, kind unknown, country not an upper-case ISO 3166-1
// alpha-2 code, city or website too long, website not an http(s) URL, (name, country)
// taken (compared without regard to case).
func (d *Directory) CreateOrganisation(ctx context.Context, tx *ent.Client, in CreateOrganisationInput) (*ent.Organisation, error) {
	if err := access.Require(ctx, access.CanManageDirectory, "manage the directory"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	name := check.Name(&errs, in.Name, check.Path("name"))
	if organisation.KindValidator(in.Kind) != nil {
		errs.Add(apperr.CodeInvalid, "Choose what sort of organisation it is.", check.Path("kind")...)
	}
	country := check.Country(&errs, in.Country, check.Path("country"))
	var city, website string
	if in.City != nil {
		city = checkCity(&errs, *in.City, false, check.Path("city"))
	}
	if in.Website != nil {
		website = checkWebsite(&errs, *in.Website, check.Path("website"))
	}
	if len(errs) == 0 {
		if err := checkOrganisationNameFree(ctx, tx, &errs, name, country, ""); err != nil {
			return nil, err
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	o, err := tx.Organisation.Create().
		SetName(name).SetKind(in.Kind).SetCountry(country).SetCity(city).SetWebsite(website).
		Save(ctx)
	if err != nil {
		return nil, db.Conflict(err, "an organisation with this name already exists in this country", "create organisation")
	}
	return o, nil
}

// UpdateOrganisation changes an organisation, or deactivates it (hiding it, its host centres
// and its affiliations from everyone but staff). Staff only. User errors: as for
// CreateOrganisation, plus NOT_FOUND for an unknown id and INVALID_STATE for changing the
// kind of a hospital that has host centres.
func (d *Directory) UpdateOrganisation(ctx context.Context, tx *ent.Client, in UpdateOrganisationInput) (*ent.Organisation, error) {
	if err := access.Require(ctx, access.CanManageDirectory, "manage the directory"); err != nil {
		return nil, err
	}
	o, err := tx.Organisation.Get(ctx, in.ID)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid(apperr.CodeNotFound, "No such organisation.", check.Path("id")...)
	}
	if err != nil {
		return nil, fmt.Errorf("load organisation %s: %w", in.ID, err)
	}
	var errs apperr.UserErrors
	name, kind, country, city, website := o.Name, o.Kind, o.Country, o.City, o.Website
	if in.Name != nil {
		name = check.Name(&errs, *in.Name, check.Path("name"))
	}
	if in.Kind != nil {
		kind = *in.Kind
		if organisation.KindValidator(kind) != nil {
			errs.Add(apperr.CodeInvalid, "Choose what sort of organisation it is.", check.Path("kind")...)
		}
	}
	if in.Country != nil {
		country = check.Country(&errs, *in.Country, check.Path("country"))
	}
	if in.City != nil {
		city = checkCity(&errs, *in.City, false, check.Path("city"))
	}
	if in.Website != nil {
		website = checkWebsite(&errs, *in.Website, check.Path("website"))
	}
	if len(errs) == 0 && (name != o.Name || country != o.Country) {
		if err := checkOrganisationNameFree(ctx, tx, &errs, name, country, o.ID); err != nil {
			return nil, err
		}
	}
	if o.Kind == organisation.KindHOSPITAL && kind != o.Kind {
		n, err := tx.HostCentre.Query().Where(hostcentre.OrganisationID(o.ID)).Count(viewer.ForFacts(ctx)) // all of them, as the rule needs
		if err != nil {
			return nil, fmt.Errorf("count host centres of %s: %w", o.ID, err)
		}
		if n > 0 {
			errs.Add(apperr.CodeInvalidState, "This hospital has host centres, and only a hospital can have them.", check.Path("kind")...)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	// Only what changes is written, so the audit trail names the fields that changed.
	u := tx.Organisation.UpdateOne(o)
	m := u.Mutation()
	if name != o.Name {
		m.SetName(name)
	}
	if kind != o.Kind {
		m.SetKind(kind)
	}
	if country != o.Country {
		m.SetCountry(country)
	}
	if city != o.City {
		m.SetCity(city)
	}
	if website != o.Website {
		m.SetWebsite(website)
	}
	if in.Active != nil && *in.Active != o.Active {
		m.SetActive(*in.Active)
	}
	if len(m.Fields()) == 0 {
		return o, nil
	}
	o, err = u.Save(ctx)
	if err != nil {
		return nil, db.Conflict(err, "an organisation with this name already exists in this country", "update organisation")
	}
	return o, nil
}

// checkOrganisationNameFree adds TAKEN when another organisation (inactive ones included)
// has the name in the country, compared without regard to case.
func checkOrganisationNameFree(ctx context.Context, tx *ent.Client, errs *apperr.UserErrors, name, country string, self pulid.ID) error {
	q := tx.Organisation.Query().Where(organisation.NameEqualFold(name), organisation.Country(country))
	if self != "" {
		q.Where(organisation.IDNEQ(self))
	}
	taken, err := q.Exist(viewer.ForFacts(ctx)) // inactive ones too
	if err != nil {
		return fmt.Errorf("check organisation name: %w", err)
	}
	if taken {
		errs.Add(apperr.CodeTaken, "An organisation with this name already exists in this country.", check.Path("name")...)
	}
	return nil
}

// OrganisationFilter narrows the organisations directory; nil fields do not narrow it.
type OrganisationFilter struct {
	// Country is an upper-case ISO 3166-1 alpha-2 code.
	Country *string
	Kind    *organisation.Kind
	// Search is a case-insensitive part of the name (at most 100 characters).
	Search *string
	// IncludeInactive shows inactive organisations too; honoured for staff only (the
	// privacy policy hides them from everyone else in any case).
	IncludeInactive bool
}

// Organisations returns a page of the directory as the viewer may see it, by name unless
// order says otherwise. A malformed filter is BAD_REQUEST.
func (d *Directory) Organisations(ctx context.Context, f OrganisationFilter, p db.Page, order *ent.OrganisationOrder) (*ent.OrganisationConnection, error) {
	q := d.cfg.Client.Organisation.Query()
	if f.Country != nil {
		if err := filterCountry(*f.Country); err != nil {
			return nil, err
		}
		q.Where(organisation.Country(*f.Country))
	}
	if f.Kind != nil {
		if organisation.KindValidator(*f.Kind) != nil {
			return nil, apperr.New(apperr.BadRequest, "filter.kind: unknown kind of organisation")
		}
		q.Where(organisation.KindEQ(*f.Kind))
	}
	if f.Search != nil {
		s, err := check.Search(*f.Search)
		if err != nil {
			return nil, err
		}
		if s != "" {
			q.Where(organisation.NameContainsFold(s))
		}
	}
	if !f.IncludeInactive || !access.CanManageDirectory(viewer.FromContext(ctx)) {
		q.Where(organisation.Active(true))
	}
	if order == nil {
		order = &ent.OrganisationOrder{Field: ent.OrganisationOrderFieldName, Direction: entgql.OrderDirectionAsc}
	}
	conn, err := q.Paginate(ctx, p.After, p.First, p.Before, p.Last, ent.WithOrganisationOrder(order))
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	return conn, nil
}

// filterCountry refuses a country filter that is not an upper-case ISO 3166-1 alpha-2 code.
func filterCountry(c string) error {
	var errs apperr.UserErrors
	check.Country(&errs, c, nil)
	if len(errs) > 0 || c != strings.TrimSpace(c) {
		return apperr.New(apperr.BadRequest, "filter.country: use an ISO 3166-1 alpha-2 code in upper case, e.g. FR")
	}
	return nil
}
