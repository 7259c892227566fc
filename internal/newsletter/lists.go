package newsletter

import (
	"context"
	"fmt"
	"regexp"

	"entgo.io/contrib/entgql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/mailinglist"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Page is a connection's page arguments.
type Page struct {
	After  *ent.Cursor
	First  *int
	Before *ent.Cursor
	Last   *int
}

// ListInput creates or changes a list; nil fields stay as they are in an update.
type ListInput struct {
	Name, Slug, Description *string
	Visibility              *mailinglist.Visibility
	Archived                *bool
}

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// CreateList creates a mailing list (staff).
func (s *Service) CreateList(ctx context.Context, tx *ent.Client, in ListInput) (*ent.MailingList, error) {
	if err := access.Require(ctx, access.CanManageNewsletter, "manage mailing lists"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	name, slug, desc := s.checkList(ctx, tx, &errs, in, "")
	if in.Slug == nil || slug == "" {
		errs.Add(apperr.CodeRequired, "Give the list a slug, e.g. quarterly.", check.Path("slug")...)
	}
	if in.Name == nil || name == "" {
		errs.Add(apperr.CodeRequired, "Give the list a name.", check.Path("name")...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	c := tx.MailingList.Create().SetName(name).SetSlug(slug).SetDescription(desc)
	if in.Visibility != nil {
		c.SetVisibility(*in.Visibility)
	}
	l, err := c.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create list: %w", err)
	}
	return l, nil
}

// UpdateList changes a list (staff); the slug never changes (forms embed it).
func (s *Service) UpdateList(ctx context.Context, tx *ent.Client, id pulid.ID, in ListInput) (*ent.MailingList, error) {
	if err := access.Require(ctx, access.CanManageNewsletter, "manage mailing lists"); err != nil {
		return nil, err
	}
	l, err := tx.MailingList.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid(apperr.CodeNotFound, "There is no such list.", check.Path("id")...)
	}
	if err != nil {
		return nil, fmt.Errorf("read list: %w", err)
	}
	var errs apperr.UserErrors
	in.Slug = nil
	name, _, desc := s.checkList(ctx, tx, &errs, in, id)
	if in.Name != nil && name == "" {
		errs.Add(apperr.CodeRequired, "Give the list a name.", check.Path("name")...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	u := tx.MailingList.UpdateOne(l)
	if in.Name != nil && name != l.Name {
		u.SetName(name)
	}
	if in.Description != nil && desc != l.Description {
		u.SetDescription(desc)
	}
	if in.Visibility != nil && *in.Visibility != l.Visibility {
		u.SetVisibility(*in.Visibility)
	}
	if in.Archived != nil && *in.Archived != l.Archived {
		u.SetArchived(*in.Archived)
	}
	return u.Save(ctx)
}

// checkList validates the given fields of in; self is the list being changed ("" on create).
func (s *Service) checkList(ctx context.Context, tx *ent.Client, errs *apperr.UserErrors, in ListInput, self pulid.ID) (name, slug, desc string) {
	facts := viewer.ForFacts(ctx)
	if in.Name != nil {
		name = check.Text(errs, *in.Name, 200, "The name", check.Path("name"))
		if check.HasControl(name) {
			errs.Add(apperr.CodeInvalid, "The name must be one line of text.", check.Path("name")...)
		} else if name != "" {
			if taken, err := tx.MailingList.Query().Where(mailinglist.Name(name), mailinglist.IDNEQ(self)).Exist(facts); err == nil && taken {
				errs.Add(apperr.CodeTaken, "Another list has this name.", check.Path("name")...)
			}
		}
	}
	if in.Slug != nil {
		slug = *in.Slug
		switch {
		case slug == "":
		case len(slug) > 60 || !slugRE.MatchString(slug):
			errs.Add(apperr.CodeInvalid, "A slug is at most 60 lower-case letters, digits and single hyphens, e.g. quarterly-news.", check.Path("slug")...)
		default:
			if taken, err := tx.MailingList.Query().Where(mailinglist.Slug(slug)).Exist(facts); err == nil && taken {
				errs.Add(apperr.CodeTaken, "Another list has this slug.", check.Path("slug")...)
			}
		}
	}
	if in.Description != nil {
		desc = check.Text(errs, *in.Description, 2000, "The description", check.Path("description"))
	}
	return name, slug, desc
}

// Lists returns a page of the lists the viewer may see (privacy decides), by name.
func (s *Service) Lists(ctx context.Context, p Page, order *ent.MailingListOrder) (*ent.MailingListConnection, error) {
	if order == nil {
		order = &ent.MailingListOrder{Field: ent.MailingListOrderFieldName, Direction: entgql.OrderDirectionAsc}
	}
	return s.cfg.Client.MailingList.Query().Paginate(ctx, p.After, p.First, p.Before, p.Last, ent.WithMailingListOrder(order))
}

// ConfirmedCount is the number of confirmed subscriptions of a list, for staff (nil for others).
func (s *Service) ConfirmedCount(ctx context.Context, list pulid.ID) (*int, error) {
	if !access.CanManageNewsletter(viewer.FromContext(ctx)) {
		return nil, nil
	}
	n, err := s.cfg.Client.NewsletterSubscription.Query().Where(newslettersubscription.ListID(list), newslettersubscription.StatusEQ(confirmed)).Count(ctx)
	if err != nil {
		return nil, err
	}
	return &n, nil
}
