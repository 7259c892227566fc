package directory

import (
	"context"
	"fmt"
	"slices"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/hostcentre"
	"github.com/gocart-coalition/coalition/ent/organisation"
	"github.com/gocart-coalition/coalition/ent/predicate"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// HostCentreProfile is the public profile of a host centre. On update, nil fields (and nil
// slices) stay as they are and an empty slice clears the list; on create, Name, City,
// Country, Languages, Adult and Paediatric are required.
type HostCentreProfile struct {
	Name, City, Country *string
	// Languages are ISO 639-1 codes, in any case (stored in lower case).
	Languages         []string
	Adult, Paediatric *bool
	FocusAreas        []vocab.FocusArea
	Accreditation     *string
	// AccreditationExpiresOn sets the expiry; ClearAccreditationExpiresOn removes it.
	AccreditationExpiresOn      *vocab.Date
	ClearAccreditationExpiresOn bool
	Products                    []string
	AnnualPatients              *int
	// Description is Markdown.
	Description        *string
	AcceptingObservers *bool
}

// CreateHostCentreInput is what staff provide to create the CAR-T centre of a hospital.
type CreateHostCentreInput struct {
	OrganisationID pulid.ID
	HostCentreProfile
}

// UpdateHostCentreInput changes the profile of a centre.
type UpdateHostCentreInput struct {
	ID pulid.ID
	HostCentreProfile
}

// profile is the complete profile a create or update results in.
type profile struct {
	name, city, country string
	languages           []string
	adult, paediatric   bool
	focusAreas          []vocab.FocusArea
	accreditation       string
	expiresOn           *vocab.Date
	products            []string
	annualPatients      int
	description         string
	acceptingObservers  bool
}

func profileOf(c *ent.HostCentre) profile {
	return profile{
		name: c.Name, city: c.City, country: c.Country, languages: c.Languages,
		adult: c.Adult, paediatric: c.Paediatric, focusAreas: c.FocusAreas,
		accreditation: c.Accreditation, expiresOn: c.AccreditationExpiresOn, products: c.Products,
		annualPatients: c.AnnualPatients, description: c.Description, acceptingObservers: c.AcceptingObservers,
	}
}

// apply validates ch and applies it to p. Every problem is reported, not only the first.
func (p profile) apply(ch HostCentreProfile, creating bool) (profile, apperr.UserErrors) {
	var errs apperr.UserErrors
	required := func(ok bool, field, message string) {
		if creating && !ok {
			errs.Add(apperr.CodeRequired, message, check.Path(field)...)
		}
	}
	required(ch.Name != nil, "name", "Enter the name of the centre.")
	if ch.Name != nil {
		p.name = check.Name(&errs, *ch.Name, check.Path("name"))
	}
	required(ch.City != nil, "city", "Enter the city.")
	if ch.City != nil {
		p.city = checkCity(&errs, *ch.City, true, check.Path("city"))
	}
	required(ch.Country != nil, "country", "Enter the country as an ISO 3166-1 alpha-2 code in upper case, e.g. FR.")
	if ch.Country != nil {
		p.country = check.Country(&errs, *ch.Country, check.Path("country"))
	}
	if ch.Languages != nil || creating {
		p.languages = check.Languages(&errs, ch.Languages, check.Path("languages"))
	}
	if ch.Adult != nil {
		p.adult = *ch.Adult
	}
	if ch.Paediatric != nil {
		p.paediatric = *ch.Paediatric
	}
	if !p.adult && !p.paediatric {
		errs.Add(apperr.CodeInvalid, "A centre treats adults, children or both: set adult, paediatric or both to true.", check.Path("adult")...)
	}
	if ch.FocusAreas != nil {
		p.focusAreas = check.FocusAreas(&errs, ch.FocusAreas, check.Path("focusAreas"))
	}
	if ch.Accreditation != nil {
		p.accreditation = check.Text(&errs, *ch.Accreditation, maxAccreditationLen, "The accreditation", check.Path("accreditation"))
	}
	switch {
	case ch.ClearAccreditationExpiresOn && ch.AccreditationExpiresOn != nil:
		errs.Add(apperr.CodeInvalid, "Either set the accreditation expiry date or clear it, not both.", check.Path("accreditationExpiresOn")...)
	case ch.ClearAccreditationExpiresOn:
		p.expiresOn = nil
	case ch.AccreditationExpiresOn != nil:
		if err := ch.AccreditationExpiresOn.Validate(); err != nil {
			errs.Add(apperr.CodeInvalid, "Enter the expiry as a date in the form YYYY-MM-DD.", check.Path("accreditationExpiresOn")...)
		} else {
			d := *ch.AccreditationExpiresOn
			p.expiresOn = &d
		}
	}
	if p.expiresOn != nil && p.accreditation == "" && !slices.ContainsFunc(errs, func(e apperr.UserError) bool {
		return slices.Equal(e.Field, check.Path("accreditation"))
	}) {
		errs.Add(apperr.CodeInvalid, "An expiry date needs an accreditation: name the accreditation (e.g. JACIE) or clear the date.", check.Path("accreditationExpiresOn")...)
	}
	if ch.Products != nil {
		p.products = checkProducts(&errs, ch.Products, check.Path("products"))
	}
	if ch.AnnualPatients != nil {
		if n := *ch.AnnualPatients; n < 0 || n > maxAnnualPatients {
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("Enter the number of CAR-T patients per year, from 0 to %d.", maxAnnualPatients), check.Path("annualPatients")...)
		} else {
			p.annualPatients = n
		}
	}
	if ch.Description != nil {
		p.description = check.Text(&errs, *ch.Description, maxDescriptionLen, "The description", check.Path("description"))
	}
	if ch.AcceptingObservers != nil {
		p.acceptingObservers = *ch.AcceptingObservers
	}
	return p, errs
}

// write sets on m the fields of p that differ from old (all of them when old is nil), so
// that an update writes, and the audit trail names, only what changed.
func (p profile) write(m *ent.HostCentreMutation, old *profile) {
	if old == nil {
		old = &profile{}
		m.SetLanguages(p.languages)
		m.SetFocusAreas(p.focusAreas)
		m.SetProducts(p.products)
	}
	if p.name != old.name {
		m.SetName(p.name)
	}
	if p.city != old.city {
		m.SetCity(p.city)
	}
	if p.country != old.country {
		m.SetCountry(p.country)
	}
	if !slices.Equal(p.languages, old.languages) {
		m.SetLanguages(p.languages)
	}
	if p.adult != old.adult {
		m.SetAdult(p.adult)
	}
	if p.paediatric != old.paediatric {
		m.SetPaediatric(p.paediatric)
	}
	if !slices.Equal(p.focusAreas, old.focusAreas) {
		m.SetFocusAreas(p.focusAreas)
	}
	if p.accreditation != old.accreditation {
		m.SetAccreditation(p.accreditation)
	}
	switch {
	case p.expiresOn == nil && old.expiresOn != nil:
		m.ClearAccreditationExpiresOn()
	case p.expiresOn != nil && (old.expiresOn == nil || *old.expiresOn != *p.expiresOn):
		m.SetAccreditationExpiresOn(*p.expiresOn)
	}
	if !slices.Equal(p.products, old.products) {
		m.SetProducts(p.products)
	}
	if p.annualPatients != old.annualPatients {
		m.SetAnnualPatients(p.annualPatients)
	}
	if p.description != old.description {
		m.SetDescription(p.description)
	}
	if p.acceptingObservers != old.acceptingObservers {
		m.SetAcceptingObservers(p.acceptingObservers)
	}
}

// CreateHostCentre creates the CAR-T centre profile of a hospital. Staff only. User errors:
// NOT_FOUND for an unknown organisation, INVALID when it is not a HOSPITAL, and the profile
// rules (see UpdateHostCentre).
func (d *Directory) CreateHostCentre(ctx context.Context, tx *ent.Client, in CreateHostCentreInput) (*ent.HostCentre, error) {
	if err := access.Require(ctx, access.CanManageDirectory, "manage the directory"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	org, err := tx.Organisation.Get(ctx, in.OrganisationID)
	switch {
	case ent.IsNotFound(err):
		errs.Add(apperr.CodeNotFound, "No such organisation.", check.Path("organisationId")...)
	case err != nil:
		return nil, fmt.Errorf("load organisation %s: %w", in.OrganisationID, err)
	case org.Kind != organisation.KindHOSPITAL:
		errs.Add(apperr.CodeInvalid, "A host centre belongs to a hospital: choose an organisation of kind HOSPITAL.", check.Path("organisationId")...)
	}
	p, perrs := profile{}.apply(in.HostCentreProfile, true)
	errs = append(errs, perrs...)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	c := tx.HostCentre.Create().SetOrganisationID(org.ID)
	p.write(c.Mutation(), nil)
	hc, err := c.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create host centre: %w", err)
	}
	return hc, nil
}

// UpdateHostCentre changes the profile of a centre: staff may change any centre, a host
// coordinator only a centre they coordinate (FORBIDDEN otherwise, as for anyone else
// signed in; UNAUTHENTICATED when anonymous). User errors: NOT_FOUND for an unknown
// centre; name (1–200), city (1–100), country (upper-case ISO 3166-1 alpha-2), 1–10
// distinct ISO 639-1 languages, adults and/or children, distinct focus areas,
// accreditation ≤ 100 and an expiry only with an accreditation, ≤ 20 distinct products of
// 1–100 characters, 0–10000 patients a year, a Markdown description ≤ 20000 characters.
func (d *Directory) UpdateHostCentre(ctx context.Context, tx *ent.Client, in UpdateHostCentreInput) (*ent.HostCentre, error) {
	if err := access.RequireThat(ctx, access.MayEditHostCentres(viewer.FromContext(ctx)), "edit a host-centre profile",
		"coalition staff and the centre's coordinators can edit a host-centre profile"); err != nil {
		return nil, err
	}
	c, err := loadCentre(ctx, tx, in.ID, "id")
	if err != nil {
		return nil, err
	}
	coordinators, err := c.QueryCoordinators().IDs(viewer.ForFacts(ctx))
	if err != nil {
		return nil, fmt.Errorf("load coordinators of %s: %w", c.ID, err)
	}
	if !access.CanEditHostCentre(viewer.FromContext(ctx), func(id string) bool { return slices.Contains(coordinators, pulid.ID(id)) }) {
		return nil, apperr.New(apperr.Forbidden, "you can only edit the profile of a centre you coordinate")
	}
	old := profileOf(c)
	p, errs := old.apply(in.HostCentreProfile, false)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	u := tx.HostCentre.UpdateOne(c)
	p.write(u.Mutation(), &old)
	if len(u.Mutation().Fields())+len(u.Mutation().ClearedFields()) == 0 {
		return c, nil
	}
	c, err = u.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("update host centre %s: %w", in.ID, err)
	}
	return c, nil
}

// loadCentre loads a centre as the viewer sees it; NOT_FOUND as a user error on field.
func loadCentre(ctx context.Context, tx *ent.Client, id pulid.ID, field string) (*ent.HostCentre, error) {
	c, err := tx.HostCentre.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid(apperr.CodeNotFound, "No such host centre.", check.Path(field)...)
	}
	if err != nil {
		return nil, fmt.Errorf("load host centre %s: %w", id, err)
	}
	return c, nil
}

// AddHostCoordinator makes a user a coordinator of a centre. Staff only. User errors:
// NOT_FOUND for an unknown centre or user, INVALID_STATE when the user does not hold
// HOST_COORDINATOR or is disabled. Adding a coordinator twice changes nothing.
func (d *Directory) AddHostCoordinator(ctx context.Context, tx *ent.Client, centreID, userID pulid.ID) (*ent.HostCentre, error) {
	if err := access.Require(ctx, access.CanManageDirectory, "manage the directory"); err != nil {
		return nil, err
	}
	c, u, errs, err := loadCentreAndUser(ctx, tx, centreID, userID)
	if err != nil {
		return nil, err
	}
	if u != nil {
		switch {
		case !slices.Contains(u.Roles, viewer.RoleHostCoordinator):
			errs.Add(apperr.CodeInvalidState, "The user does not hold the HOST_COORDINATOR role: grant it first.", check.Path("userId")...)
		case u.Disabled:
			errs.Add(apperr.CodeInvalidState, "The user is disabled.", check.Path("userId")...)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	already, err := isCoordinator(ctx, tx, c.ID, u.ID)
	if err != nil || already {
		return c, err
	}
	c, err = tx.HostCentre.UpdateOne(c).AddCoordinatorIDs(u.ID).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("add coordinator to %s: %w", centreID, err)
	}
	return c, nil
}

// RemoveHostCoordinator removes a user from the coordinators of a centre. Staff only. User
// errors: NOT_FOUND for an unknown centre or user, or a user who is not a coordinator of
// the centre.
func (d *Directory) RemoveHostCoordinator(ctx context.Context, tx *ent.Client, centreID, userID pulid.ID) (*ent.HostCentre, error) {
	if err := access.Require(ctx, access.CanManageDirectory, "manage the directory"); err != nil {
		return nil, err
	}
	c, u, errs, err := loadCentreAndUser(ctx, tx, centreID, userID)
	if err != nil {
		return nil, err
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	is, err := isCoordinator(ctx, tx, c.ID, u.ID)
	if err != nil {
		return nil, err
	}
	if !is {
		return nil, apperr.Invalid(apperr.CodeNotFound, "The user is not a coordinator of this centre.", check.Path("userId")...)
	}
	c, err = tx.HostCentre.UpdateOne(c).RemoveCoordinatorIDs(u.ID).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("remove coordinator from %s: %w", centreID, err)
	}
	return c, nil
}

func loadCentreAndUser(ctx context.Context, tx *ent.Client, centreID, userID pulid.ID) (*ent.HostCentre, *ent.User, apperr.UserErrors, error) {
	var errs apperr.UserErrors
	c, err := loadCentre(ctx, tx, centreID, "hostCentreId")
	if ue, ok := apperr.AsUserErrors(err); ok {
		errs = append(errs, ue...)
	} else if err != nil {
		return nil, nil, nil, err
	}
	u, err := tx.User.Get(ctx, userID)
	switch {
	case ent.IsNotFound(err):
		errs.Add(apperr.CodeNotFound, "No such user.", check.Path("userId")...)
		u = nil
	case err != nil:
		return nil, nil, nil, fmt.Errorf("load user %s: %w", userID, err)
	}
	return c, u, errs, nil
}

func isCoordinator(ctx context.Context, tx *ent.Client, centreID, userID pulid.ID) (bool, error) {
	ok, err := tx.HostCentre.Query().
		Where(hostcentre.ID(centreID), hostcentre.HasCoordinatorsWith(user.ID(userID))).
		Exist(ctx)
	if err != nil {
		return false, fmt.Errorf("check coordinator of %s: %w", centreID, err)
	}
	return ok, nil
}

// HostCentreFilter narrows the host-centre directory; nil fields do not narrow it.
type HostCentreFilter struct {
	// Country is an upper-case ISO 3166-1 alpha-2 code.
	Country *string
	// Language is an ISO 639-1 code (any case) of a language spoken with observers.
	Language           *string
	FocusArea          *vocab.FocusArea
	AcceptingObservers *bool
	Adult              *bool
	Paediatric         *bool
	// Search is a case-insensitive part of the centre's name or city (≤ 100 characters).
	Search *string
}

// HostCentres returns a page of host-centre profiles as the viewer may see them, by name
// unless order says otherwise. A malformed filter is BAD_REQUEST.
func (d *Directory) HostCentres(ctx context.Context, f HostCentreFilter, p db.Page, order *ent.HostCentreOrder) (*ent.HostCentreConnection, error) {
	q := d.cfg.Client.HostCentre.Query()
	if f.Country != nil {
		if err := filterCountry(*f.Country); err != nil {
			return nil, err
		}
		q.Where(hostcentre.Country(*f.Country))
	}
	if f.Language != nil {
		l, ok := check.NormaliseLanguage(*f.Language)
		if !ok {
			return nil, apperr.New(apperr.BadRequest, "filter.language: use an ISO 639-1 code, e.g. en")
		}
		q.Where(jsonArrayContains(hostcentre.FieldLanguages, l))
	}
	if f.FocusArea != nil {
		if !f.FocusArea.Valid() {
			return nil, apperr.New(apperr.BadRequest, "filter.focusArea: unknown focus area")
		}
		q.Where(jsonArrayContains(hostcentre.FieldFocusAreas, string(*f.FocusArea)))
	}
	if f.AcceptingObservers != nil {
		q.Where(hostcentre.AcceptingObservers(*f.AcceptingObservers))
	}
	if f.Adult != nil {
		q.Where(hostcentre.Adult(*f.Adult))
	}
	if f.Paediatric != nil {
		q.Where(hostcentre.Paediatric(*f.Paediatric))
	}
	if f.Search != nil {
		s, err := check.Search(*f.Search)
		if err != nil {
			return nil, err
		}
		if s != "" {
			q.Where(hostcentre.Or(hostcentre.NameContainsFold(s), hostcentre.CityContainsFold(s)))
		}
	}
	if order == nil {
		order = &ent.HostCentreOrder{Field: ent.HostCentreOrderFieldName, Direction: entgql.OrderDirectionAsc}
	}
	conn, err := q.Paginate(ctx, p.After, p.First, p.Before, p.Last, ent.WithHostCentreOrder(order))
	if err != nil {
		return nil, fmt.Errorf("list host centres: %w", err)
	}
	return conn, nil
}

// jsonArrayContains matches rows whose JSON array column holds the string v: JSON_EACH on
// SQLite, jsonb containment (@>) on PostgreSQL.
func jsonArrayContains(column, v string) predicate.HostCentre {
	return predicate.HostCentre(func(s *sql.Selector) {
		s.Where(sqljson.ValueContains(s.C(column), v))
	})
}
