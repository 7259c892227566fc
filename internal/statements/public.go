package statements

import (
	"context"
	"fmt"
	"html/template"
	"slices"
	"sort"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/policystatement"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/statementrevision"
	"github.com/gocart-coalition/coalition/ent/workinggroup"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/markdown"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Public is a published statement as the public reads it (the web pages, the feed): one
// published revision, with the signers and declarations it was published with.
type Public struct {
	Slug, Title, Summary string
	Topics               []string
	// BodyHTML is the revision's Markdown rendered and sanitised (internal/markdown).
	BodyHTML template.HTML
	// Version is this revision's public version (1 = first publication); Versions how
	// many published versions the statement has.
	Version, Versions int
	// Status is PUBLISHED, CORRECTED or WITHDRAWN.
	Status string
	// PublishedAt is when this version was published; FirstPublishedAt when version 1 was.
	PublishedAt, FirstPublishedAt time.Time
	// Withdrawn is set when the statement was withdrawn (it stays readable).
	Withdrawn *Withdrawal
	// Corrections are the corrections published up to this version, oldest first.
	Corrections []Correction
	// CoAuthors signed this version off; Endorsers confirmed it.
	CoAuthors, Endorsers []Signer
	// Authors are the authors' names.
	Authors []string
	// WorkingGroup is the authoring working group's name, "" when none.
	WorkingGroup string
	// Declarations are the authors' conflict-of-interest declarations this version was
	// published with.
	Declarations []Declaration
}

// Withdrawal says when and why a statement was withdrawn.
type Withdrawal struct {
	At     time.Time
	Reason string
}

// Correction is one published correction: the version it made, when, its note and
// whether it changed the substance.
type Correction struct {
	Version  int
	At       time.Time
	Note     string
	Material bool
}

// Signer is an organisation that signed off (co-author) or endorsed a version, with the
// date it signed and the people who signed for it.
type Signer struct {
	Organisation, Country string
	SignedAt              time.Time
	People                []string
}

// Declaration is an author's conflict-of-interest declaration as published.
type Declaration struct {
	Person, Statement string
	DeclaredAt        time.Time
}

// anonymous is ctx reading as the public: privacy decides what leaks, so nothing
// unpublished can.
func anonymous(ctx context.Context) context.Context {
	return viewer.NewContext(ctx, viewer.Viewer{Kind: viewer.Anonymous})
}

// PublicList returns the published statements (withdrawn ones included, marked), newest
// publication first; with topic, only those of that topic.
func (s *Service) PublicList(ctx context.Context, topic string) ([]Public, error) {
	ctx = anonymous(ctx)
	sts, err := s.cfg.Client.PolicyStatement.Query().
		Where(policystatement.PublishedRevisionIDNotNil()).
		Order(ent.Desc(policystatement.FieldPublishedAt), ent.Desc(policystatement.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list published statements: %w", err)
	}
	if topic != "" {
		sts = slices.DeleteFunc(sts, func(st *ent.PolicyStatement) bool { return !slices.Contains(st.Topics, topic) })
	}
	if len(sts) == 0 {
		return nil, nil
	}
	ids := make([]pulid.ID, 0, len(sts))
	for _, st := range sts {
		ids = append(ids, st.ID)
	}
	revs, err := s.cfg.Client.StatementRevision.Query().
		Where(statementrevision.StatementIDIn(ids...), statementrevision.VersionNotNil()).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list published revisions: %w", err)
	}
	byStatement := map[string][]*ent.StatementRevision{}
	for _, r := range revs {
		byStatement[string(r.StatementID)] = append(byStatement[string(r.StatementID)], r)
	}
	groups, err := s.groupNames(ctx, sts)
	if err != nil {
		return nil, err
	}
	out := make([]Public, 0, len(sts))
	for _, st := range sts {
		p, ok := publicOf(st, byStatement[string(st.ID)], 0, groups)
		if ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// PublicGet returns version of the published statement slug (0: its current version).
// NOT_FOUND when there is no such published statement or version: an unpublished
// statement is not told apart from one that does not exist.
func (s *Service) PublicGet(ctx context.Context, slug string, version int) (Public, error) {
	ctx = anonymous(ctx)
	notFound := apperr.New(apperr.NotFound, "no published statement %q", slug)
	st, err := s.cfg.Client.PolicyStatement.Query().
		Where(policystatement.Slug(slug), policystatement.PublishedRevisionIDNotNil()).
		Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return Public{}, notFound
	case err != nil:
		return Public{}, fmt.Errorf("read statement %q: %w", slug, err)
	}
	revs, err := st.QueryRevisions().Where(statementrevision.VersionNotNil()).All(ctx)
	if err != nil {
		return Public{}, fmt.Errorf("read revisions of %q: %w", slug, err)
	}
	groups, err := s.groupNames(ctx, []*ent.PolicyStatement{st})
	if err != nil {
		return Public{}, err
	}
	p, ok := publicOf(st, revs, version, groups)
	if !ok {
		return Public{}, apperr.New(apperr.NotFound, "statement %q has no published version %d", slug, version)
	}
	return p, nil
}

// PublicOf returns version (0: the current one) of each statement of sts as the public
// reads it, in one batch of statements whatever their number (for the API's lists);
// ok[i] is false for a statement that is not published or has no such version.
func (s *Service) PublicOf(ctx context.Context, sts []*ent.PolicyStatement, version int) ([]Public, []bool, error) {
	ctx = anonymous(ctx)
	out := make([]Public, len(sts))
	ok := make([]bool, len(sts))
	ids := make([]pulid.ID, 0, len(sts))
	for _, st := range sts {
		ids = append(ids, st.ID)
	}
	client := ent.FromContext(ctx) // a mutation's transaction: its payload sees what it wrote
	if client == nil {
		client = s.cfg.Client
	}
	// Read again as the public: what the caller holds may be an unpublished statement.
	pub, err := client.PolicyStatement.Query().
		Where(policystatement.IDIn(ids...), policystatement.PublishedRevisionIDNotNil()).All(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read published statements: %w", err)
	}
	if len(pub) == 0 {
		return out, ok, nil
	}
	revs, err := client.StatementRevision.Query().
		Where(statementrevision.StatementIDIn(ids...), statementrevision.VersionNotNil()).All(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("read published revisions: %w", err)
	}
	byStatement := map[pulid.ID][]*ent.StatementRevision{}
	for _, r := range revs {
		byStatement[r.StatementID] = append(byStatement[r.StatementID], r)
	}
	groups, err := s.groupNames(ctx, pub)
	if err != nil {
		return nil, nil, err
	}
	for _, st := range pub {
		i := slices.IndexFunc(sts, func(x *ent.PolicyStatement) bool { return x.ID == st.ID })
		out[i], ok[i] = publicOf(st, byStatement[st.ID], version, groups)
	}
	return out, ok, nil
}

// PublicTopics returns the topics of the published statements, sorted.
func (s *Service) PublicTopics(ctx context.Context) ([]string, error) {
	sts, err := s.cfg.Client.PolicyStatement.Query().
		Where(policystatement.PublishedRevisionIDNotNil()).
		Select(policystatement.FieldTopics).
		All(anonymous(ctx))
	if err != nil {
		return nil, fmt.Errorf("list statement topics: %w", err)
	}
	var out []string
	for _, st := range sts {
		for _, t := range st.Topics {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// groupNames returns the names of the working groups of sts the public may read (a
// group that is not public is not named).
func (s *Service) groupNames(ctx context.Context, sts []*ent.PolicyStatement) (map[string]string, error) {
	var ids []pulid.ID
	for _, st := range sts {
		if st.WorkingGroupID != nil {
			ids = append(ids, *st.WorkingGroupID)
		}
	}
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	gs, err := s.cfg.Client.WorkingGroup.Query().Where(workinggroup.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read working groups: %w", err)
	}
	for _, g := range gs {
		out[string(g.ID)] = g.Name
	}
	return out, nil
}

// publicOf builds version (0: the latest) of st from its published revisions revs.
func publicOf(st *ent.PolicyStatement, revs []*ent.StatementRevision, version int, groups map[string]string) (Public, bool) {
	sort.Slice(revs, func(i, j int) bool { return *revs[i].Version < *revs[j].Version })
	if len(revs) == 0 {
		return Public{}, false
	}
	if version == 0 {
		version = *revs[len(revs)-1].Version
	}
	i := slices.IndexFunc(revs, func(r *ent.StatementRevision) bool { return *r.Version == version })
	if i < 0 {
		return Public{}, false
	}
	r := revs[i]
	p := Public{
		Slug: st.Slug, Title: r.Title, Summary: r.Summary, Topics: slices.Clone(st.Topics),
		BodyHTML: template.HTML(markdown.HTML(r.Body)), //nolint:gosec // sanitised by internal/markdown
		Version:  version, Versions: len(revs), Status: string(st.Status),
		PublishedAt: r.PublishedAt.UTC(), FirstPublishedAt: revs[0].PublishedAt.UTC(),
	}
	if st.Status == policystatement.StatusWITHDRAWN && st.WithdrawnAt != nil {
		p.Withdrawn = &Withdrawal{At: st.WithdrawnAt.UTC(), Reason: st.WithdrawalReason}
	}
	for _, c := range revs[1 : i+1] {
		p.Corrections = append(p.Corrections, Correction{Version: *c.Version, At: c.PublishedAt.UTC(), Note: c.CorrectionNote, Material: c.Material})
	}
	for _, sg := range r.Signers {
		x := Signer{Organisation: sg.Organisation, Country: sg.Country, SignedAt: sg.SignedAt.UTC(), People: slices.Clone(sg.People)}
		if sg.Role == "ENDORSER" {
			p.Endorsers = append(p.Endorsers, x)
		} else {
			p.CoAuthors = append(p.CoAuthors, x)
		}
	}
	for _, d := range r.Declarations {
		p.Authors = append(p.Authors, d.Person)
		p.Declarations = append(p.Declarations, Declaration{Person: d.Person, Statement: d.Statement, DeclaredAt: d.DeclaredOn.Time()})
	}
	if st.WorkingGroupID != nil {
		p.WorkingGroup = groups[string(*st.WorkingGroupID)]
	}
	return p, true
}
