package graph

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/policystatement"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/statementrevision"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/graph/model"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/clock"
	"github.com/gocart-coalition/coalition/internal/groups"
	"github.com/gocart-coalition/coalition/internal/matchrun"
	"github.com/gocart-coalition/coalition/internal/statements"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// maxNodesPerRequest caps nodes(ids:), like the page-size cap of connections.
const maxNodesPerRequest = 100

// userErrors splits a service error: user errors become payload entries (and a nil error),
// anything else stays a top-level error.
func userErrors(err error) ([]*model.UserError, error) {
	if err == nil {
		return []*model.UserError{}, nil
	}
	ue, ok := apperr.AsUserErrors(err)
	if !ok {
		return nil, err
	}
	out := make([]*model.UserError, len(ue))
	for i, e := range ue {
		out[i] = &model.UserError{Field: e.Field, Code: model.UserErrorCode(e.Code), Message: e.Message}
	}
	return out, nil
}

// txClient is the transactional client of a mutation (entgql.Transactioner opened it).
func txClient(ctx context.Context) *ent.Client { return ent.FromContext(ctx) }

// requireSignedIn refuses anonymous callers with UNAUTHENTICATED.
func requireSignedIn(ctx context.Context) error {
	if viewer.FromContext(ctx).Kind == viewer.Anonymous {
		return apperr.New(apperr.Unauthenticated, "sign in to see this")
	}
	return nil
}

// split turns a service's (record, error) into what a payload holds: on user errors no
// record and the errors; on other errors a top-level error.
func split[T any](v *T, err error) (*T, []*model.UserError, error) {
	ue, err := userErrors(err)
	if err != nil {
		return nil, nil, err
	}
	if len(ue) > 0 {
		v = nil
	}
	return v, ue, nil
}

func userPayload(u *ent.User, err error) (*model.UserPayload, error) {
	u, ue, err := split(u, err)
	if err != nil {
		return nil, err
	}
	return &model.UserPayload{User: u, UserErrors: ue}, nil
}

func organisationPayload(o *ent.Organisation, err error) (*model.OrganisationPayload, error) {
	o, ue, err := split(o, err)
	if err != nil {
		return nil, err
	}
	return &model.OrganisationPayload{Organisation: o, UserErrors: ue}, nil
}

func hostCentrePayload(c *ent.HostCentre, err error) (*model.HostCentrePayload, error) {
	c, ue, err := split(c, err)
	if err != nil {
		return nil, err
	}
	return &model.HostCentrePayload{HostCentre: c, UserErrors: ue}, nil
}

func workingGroupPayload(g *ent.WorkingGroup, err error) (*model.WorkingGroupPayload, error) {
	g, ue, err := split(g, err)
	if err != nil {
		return nil, err
	}
	return &model.WorkingGroupPayload{WorkingGroup: g, UserErrors: ue}, nil
}

func membershipPayload(m *ent.Membership, err error) (*model.MembershipPayload, error) {
	m, ue, err := split(m, err)
	if err != nil {
		return nil, err
	}
	return &model.MembershipPayload{Membership: m, UserErrors: ue}, nil
}

// today is the request's date in the coalition's zone (the clock the privacy rules read).
func today(ctx context.Context) vocab.Date { return vocab.Today(clock.Now(ctx)) }

// localTime writes t in the named zone as LocalLayout.
func localTime(t time.Time, zone string) (string, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return "", fmt.Errorf("meeting zone %q: %w", zone, err)
	}
	return t.In(loc).Format(groups.LocalLayout), nil
}

func meetingPayload(m *ent.Meeting, err error) (*model.MeetingPayload, error) {
	m, ue, err := split(m, err)
	if err != nil {
		return nil, err
	}
	return &model.MeetingPayload{Meeting: m, UserErrors: ue}, nil
}

func callPayload(c *ent.Call, err error) (*model.CallPayload, error) {
	c, ue, err := split(c, err)
	if err != nil {
		return nil, err
	}
	return &model.CallPayload{Call: c, UserErrors: ue}, nil
}

func slotPayload(s *ent.HostSlot, err error) (*model.HostSlotPayload, error) {
	s, ue, err := split(s, err)
	if err != nil {
		return nil, err
	}
	return &model.HostSlotPayload{Slot: s, UserErrors: ue}, nil
}

// criteria converts review criteria; nil stays nil (unchanged in an update).
func criteria(in []*model.CriterionInput) []vocab.Criterion {
	if in == nil {
		return nil
	}
	out := make([]vocab.Criterion, len(in))
	for i, c := range in {
		out[i] = vocab.Criterion{Key: c.Key, Name: c.Name, Weight: c.Weight}
	}
	return out
}

func applicationPayload(a *ent.Application, err error) (*model.ApplicationPayload, error) {
	a, ue, err := split(a, err)
	if err != nil {
		return nil, err
	}
	return &model.ApplicationPayload{Application: a, UserErrors: ue}, nil
}

// reader is the client a field resolver reads with: the mutation's transaction when there
// is one (so a payload shows what the mutation just wrote), else the service client.
func (r *Resolver) reader(ctx context.Context) *ent.Client {
	if c := ent.FromContext(ctx); c != nil {
		return c
	}
	return r.Client
}

// applicationsByID loads applications in the order of ids, with one query (and one per
// edge the request selects under them); one deleted since is left out (pickLive).
func (r *Resolver) applicationsByID(ctx context.Context, ids []string) ([]*ent.Application, error) {
	pids := make([]pulid.ID, len(ids))
	for i, id := range ids {
		pids[i] = pulid.ID(id)
	}
	byID, err := r.applicationsIn(ctx, pids)
	if err != nil {
		return nil, err
	}
	return pickLive(ctx, byID, pids, r.reader(ctx).Application.Get)
}

// matchReasons converts explanations, with their slots loaded in one query (as the
// caller, who may see the slots of their own explanation). ctx is the field context of
// the list of reasons.
func (r *Resolver) matchReasons(ctx context.Context, rs []matchrun.Reason) ([]*model.MatchReason, error) {
	out := make([]*model.MatchReason, 0, len(rs))
	slots := map[pulid.ID]*ent.HostSlot{}
	if sctx, ok := childContext(ctx, "MatchReason", "slot"); ok && len(rs) > 0 {
		ids := make([]pulid.ID, len(rs))
		for i, x := range rs {
			ids[i] = x.SlotID
		}
		var err error
		if slots, err = r.slotsIn(sctx, ids); err != nil {
			return nil, err
		}
	}
	for _, x := range rs {
		out = append(out, &model.MatchReason{Slot: slots[x.SlotID], Code: x.Code, RankedHigher: x.RankedHigher, Message: x.Message})
	}
	return out, nil
}

func placementPayload(p *ent.Placement, err error) (*model.PlacementPayload, error) {
	p, ue, err := split(p, err)
	if err != nil {
		return nil, err
	}
	return &model.PlacementPayload{Placement: p, UserErrors: ue}, nil
}

func campaignPayload(c *ent.Campaign, err error) (*model.CampaignPayload, error) {
	c, ue, err := split(c, err)
	if err != nil {
		return nil, err
	}
	return &model.CampaignPayload{Campaign: c, UserErrors: ue}, nil
}

// idsOrEmpty is ids as an audience given on creation (none when nil).
func idsOrEmpty(ids []pulid.ID) *[]pulid.ID {
	if ids == nil {
		ids = []pulid.ID{}
	}
	return &ids
}

// deref is *p, or "" for nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func statementPayload(st *ent.PolicyStatement, err error) (*model.StatementPayload, error) {
	st, ue, err := split(st, err)
	if err != nil {
		return nil, err
	}
	return &model.StatementPayload{Statement: st, UserErrors: ue}, nil
}

func statementID(st *ent.PolicyStatement) pulid.ID { return st.ID }

// groupBy groups rows by key, keeping their order.
func groupBy[T any, K comparable](rows []*T, key func(*T) K) map[K][]*T {
	m := map[K][]*T{}
	for _, r := range rows {
		m[key(r)] = append(m[key(r)], r)
	}
	return m
}

// nonNil is s, or an empty list for a non-null list field.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// revisionPair is a statement's current and published revisions as the viewer may read them.
type revisionPair struct{ current, published *ent.StatementRevision }

// revisionsOf reads the current and published revisions of st (batched over the list st
// is part of) as the viewer may read them: nil where there is none or the viewer may not
// read it.
func revisionsOf(ctx context.Context, client *ent.Client, st *ent.PolicyStatement) (revisionPair, error) {
	v, _, err := batchedByKey(ctx, st, statementID, func(ctx context.Context, sts []*ent.PolicyStatement) (map[pulid.ID]revisionPair, error) {
		var ids []pulid.ID
		for _, s := range sts {
			if s.CurrentRevisionID != nil {
				ids = append(ids, *s.CurrentRevisionID)
			}
			if s.PublishedRevisionID != nil {
				ids = append(ids, *s.PublishedRevisionID)
			}
		}
		byID := map[pulid.ID]*ent.StatementRevision{}
		if len(ids) > 0 {
			rs, err := client.StatementRevision.Query().Where(statementrevision.IDIn(ids...)).All(ctx)
			if err != nil {
				return nil, err
			}
			for _, r := range rs {
				byID[r.ID] = r
			}
		}
		m := map[pulid.ID]revisionPair{}
		for _, s := range sts {
			var p revisionPair
			if s.CurrentRevisionID != nil {
				p.current = byID[*s.CurrentRevisionID]
			}
			if s.PublishedRevisionID != nil {
				p.published = byID[*s.PublishedRevisionID]
			}
			m[s.ID] = p
		}
		return m, nil
	})
	return v, err
}

// publicStatement is the API's form of a published version.
func publicStatement(p statements.Public) *model.PublicStatement {
	out := &model.PublicStatement{
		Slug: p.Slug, Title: p.Title, Summary: p.Summary, Topics: nonNil(p.Topics), BodyHTML: string(p.BodyHTML),
		Version: p.Version, Versions: p.Versions, Status: policystatement.Status(p.Status),
		PublishedAt: p.PublishedAt, FirstPublishedAt: p.FirstPublishedAt,
		Corrections: []*model.StatementCorrection{}, CoAuthors: signersOf(p.CoAuthors), Endorsers: signersOf(p.Endorsers),
		Authors: nonNil(p.Authors), WorkingGroup: p.WorkingGroup, Declarations: []*model.StatementDeclaration{},
	}
	if p.Withdrawn != nil {
		out.Withdrawn = &model.StatementWithdrawal{At: p.Withdrawn.At, Reason: p.Withdrawn.Reason}
	}
	for _, c := range p.Corrections {
		out.Corrections = append(out.Corrections, &model.StatementCorrection{Version: c.Version, At: c.At, Note: c.Note, Material: c.Material})
	}
	for _, d := range p.Declarations {
		out.Declarations = append(out.Declarations, &model.StatementDeclaration{Person: d.Person, Statement: d.Statement, DeclaredAt: d.DeclaredAt})
	}
	return out
}

func signersOf(ss []statements.Signer) []*model.StatementSigner {
	out := make([]*model.StatementSigner, 0, len(ss))
	for _, s := range ss {
		out = append(out, &model.StatementSigner{Organisation: s.Organisation, Country: s.Country, SignedAt: s.SignedAt, People: nonNil(s.People)})
	}
	return out
}

// readClient is the mutation's transaction when there is one (a payload's fields see what
// the mutation wrote), the service's client otherwise.
func (r *Resolver) readClient(ctx context.Context) *ent.Client {
	if c := ent.FromContext(ctx); c != nil {
		return c
	}
	return r.Client
}

// placementContacts says, for each of us, whether it is a coordinator of a host centre
// where v is placed (access.PlacementContacts), whose email v may read: one query, as v.
func (r *Resolver) placementContacts(ctx context.Context, v viewer.Viewer, us []*ent.User) ([]bool, error) {
	ids := make([]pulid.ID, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	q := r.reader(ctx).User.Query().Where(user.IDIn(ids...))
	q.Filter().Where(access.PlacementContacts(v.UserID))
	found, err := q.IDs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(us))
	for i, u := range us {
		out[i] = slices.Contains(found, u.ID)
	}
	return out, nil
}
