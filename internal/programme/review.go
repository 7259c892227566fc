package programme

import (
	"context"

	"fmt"
	"slices"
	"strconv"
	"strings"

	"entgo.io/ent/dialect/sql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/applicationchoice"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/callreviewer"
	"github.com/gocart-coalition/coalition/ent/document"
	"github.com/gocart-coalition/coalition/ent/hostcentre"
	"github.com/gocart-coalition/coalition/ent/hostranking"
	"github.com/gocart-coalition/coalition/ent/review"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/export"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Limits of a review.
const (
	maxCommentLen = 2000
	minScore      = 1
	maxScore      = 5
)

// reviewable loads an application the caller may review (access.CanReviewApplication:
// staff, or a reviewer of its call to whom it is assigned and who has not recused), read
// as the caller, when the review table allows ev: ELIGIBLE, of a call in REVIEW whose
// aggregate is not published.
func (s *Service) reviewable(ctx context.Context, tx *ent.Client, id pulid.ID, ev ReviewEvent) (*ent.Application, error) {
	v := viewer.FromContext(ctx)
	if v.IsAnonymous() {
		return nil, apperr.New(apperr.Unauthenticated, "sign in to review applications")
	}
	// Someone who reviews no call at all is refused before anything is read, as before
	// committees existed (they learn nothing from the answer).
	if !access.CanManageReviews(v) {
		reviews, err := tx.CallReviewer.Query().Where(callreviewer.UserID(pulid.ID(v.UserID))).Exist(ctx)
		if err != nil {
			return nil, fmt.Errorf("appointments: %w", err)
		}
		if !reviews {
			return nil, apperr.New(apperr.Forbidden, "only coalition staff and the reviewers it is assigned to can review this application")
		}
	}
	a, err := tx.Application.Query().Where(application.ID(id)).WithCall().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("application", check.Path("applicationId"))
	}
	if err != nil {
		return nil, fmt.Errorf("load application %s: %w", id, err)
	}
	st, err := s.standing(ctx, tx, a)
	if err != nil {
		return nil, err
	}
	if !access.CanReviewApplication(viewer.FromContext(ctx), st) {
		return nil, apperr.New(apperr.Forbidden, "only coalition staff and the reviewers it is assigned to can review this application")
	}
	c := a.Edges.Call
	if err := DecideReview(c.Status, ev, ReviewFacts{Published: c.ReviewPublishedAt != nil}); err != nil {
		return nil, apperr.OnField(err, check.Path("applicationId")...)
	}
	if a.Status != application.StatusELIGIBLE {
		return nil, apperr.Invalid(apperr.CodeInvalidState, fmt.Sprintf("This application is %s; only eligible applications are reviewed.", a.Status), check.Path("applicationId")...)
	}
	return a, nil
}

// CriterionScore is one criterion's score in a review.
type CriterionScore struct {
	Key   string
	Score int
}

// Score records the caller's scores of an eligible application (one 1–5 score for every
// criterion of the call, and an optional comment), replacing earlier ones. Staff, or a
// reviewer of the call to whom it is assigned (reviewable). User errors: NOT_FOUND,
// INVALID_STATE (not eligible, the call not in REVIEW or its aggregate published, the
// caller declared a conflict with it), INVALID (a missing, unknown or repeated criterion,
// a score outside 1–5), TOO_LONG (the comment).
func (s *Service) Score(ctx context.Context, tx *ent.Client, appID pulid.ID, given []CriterionScore, comment string) (*ent.Review, error) {
	a, err := s.reviewable(ctx, tx, appID, ReviewScore)
	if err != nil {
		return nil, err
	}
	scores := make(map[string]int, len(given))
	keys := make([]string, len(given))
	for i, g := range given {
		keys[i] = g.Key
		if _, dup := scores[g.Key]; !dup {
			scores[g.Key] = g.Score
		}
	}
	me := pulid.ID(viewer.FromContext(ctx).UserID)
	existing, err := tx.Review.Query().Where(review.ApplicationID(a.ID), review.ReviewerID(me)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, fmt.Errorf("load review: %w", err)
	}
	var errs apperr.UserErrors
	if existing != nil && existing.Conflict {
		errs.Add(apperr.CodeInvalidState, "You declared a conflict of interest with this application, so you cannot score it.", check.Path("applicationId")...)
	}
	criteria := a.Edges.Call.ReviewCriteria
	for i, k := range keys {
		p := check.Path("scores", strconv.Itoa(i))
		switch {
		case !slices.ContainsFunc(criteria, func(c vocab.Criterion) bool { return c.Key == k }):
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("The call has no criterion %q.", k), p...)
		case slices.Contains(keys[:i], k):
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("The criterion %s is scored twice.", k), p...)
		case scores[k] < minScore || scores[k] > maxScore:
			errs.Add(apperr.CodeInvalid, "Scores are 1 to 5.", p...)
		}
	}
	for _, c := range criteria {
		if !slices.Contains(keys, c.Key) {
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("Score %s (%s) too.", c.Key, c.Name), check.Path("scores")...)
		}
	}
	comment = check.Text(&errs, comment, maxCommentLen, "The comment", check.Path("comment"))
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if existing == nil {
		return tx.Review.Create().SetApplicationID(a.ID).SetReviewerID(me).SetScores(scores).SetComment(comment).Save(ctx)
	}
	return tx.Review.UpdateOne(existing).SetScores(scores).SetComment(comment).Save(ctx)
}

// DeclareConflict records that the caller has a conflict of interest with an eligible
// application, with a reason (1–500 characters): their scores of it are dropped and no
// longer count, they cannot score it, and a reviewer who is not staff no longer sees it
// (access.ReviewerSeesApplication). Staff, or a reviewer to whom it is assigned.
func (s *Service) DeclareConflict(ctx context.Context, tx *ent.Client, appID pulid.ID, reason string) (*ent.Review, error) {
	a, err := s.reviewable(ctx, tx, appID, ReviewRecuse)
	if err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	reason = check.RequiredText(&errs, reason, maxReasonLen, "The reason", "Say what the conflict is, e.g. the applicant works in your department.", check.Path("reason"))
	if err := errs.Err(); err != nil {
		return nil, err
	}
	me := pulid.ID(viewer.FromContext(ctx).UserID)
	existing, err := tx.Review.Query().Where(review.ApplicationID(a.ID), review.ReviewerID(me)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return tx.Review.Create().SetApplicationID(a.ID).SetReviewerID(me).SetConflict(true).SetConflictReason(reason).Save(ctx)
	case err != nil:
		return nil, fmt.Errorf("load review: %w", err)
	}
	return tx.Review.UpdateOne(existing).SetConflict(true).SetConflictReason(reason).SetScores(map[string]int{}).SetComment("").Save(ctx)
}

// ApplicationScore is an application's aggregated review score.
type ApplicationScore struct {
	Application *ent.Application
	// Score is the weighted mean of the counted reviews on the 1–5 scale; nil without any.
	Score   *float64
	Reviews int
	// Rank is the place by score in the whole call (ties share a place); nil without a score.
	Rank *int
}

// weightedScore is the weighted mean of one review's scores.
func weightedScore(criteria []vocab.Criterion, scores map[string]int) (float64, bool) {
	var sum, weights float64
	for _, c := range criteria {
		v, ok := scores[c.Key]
		if !ok {
			return 0, false
		}
		sum += float64(c.Weight) * float64(v)
		weights += float64(c.Weight)
	}
	if weights == 0 {
		return 0, false
	}
	return sum / weights, true
}

// aggregate is the mean of the weighted scores of the reviews that count.
func aggregate(criteria []vocab.Criterion, reviews []*ent.Review) (*float64, int) {
	var total float64
	n := 0
	for _, r := range reviews {
		if r.Conflict {
			continue
		}
		if v, ok := weightedScore(criteria, r.Scores); ok {
			total += v
			n++
		}
	}
	if n == 0 {
		return nil, 0
	}
	mean := total / float64(n)
	return &mean, n
}

// appointedCalls returns which of callIDs the caller is a reviewer of (their own
// appointments, read as them; one statement). Empty for staff and anyone not signed in.
func (s *Service) appointedCalls(ctx context.Context, callIDs []pulid.ID) (map[pulid.ID]bool, error) {
	out := map[pulid.ID]bool{}
	v := viewer.FromContext(ctx)
	if access.CanManageReviews(v) || v.Kind != viewer.User || len(callIDs) == 0 {
		return out, nil
	}
	own, err := s.cfg.Client.CallReviewer.Query().Where(callreviewer.CallIDIn(callIDs...), callreviewer.UserID(pulid.ID(v.UserID))).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("appointments: %w", err)
	}
	for _, r := range own {
		out[r.CallID] = true
	}
	return out, nil
}

// ReviewRefusal is the error for review data the caller may not see: UNAUTHENTICATED for
// an anonymous caller, FORBIDDEN for anyone else.
func ReviewRefusal(ctx context.Context, what string) error {
	if viewer.FromContext(ctx).IsAnonymous() {
		return apperr.New(apperr.Unauthenticated, "sign in to see %s", what)
	}
	return apperr.New(apperr.Forbidden, "only coalition staff and the call's reviewers can see %s", what)
}

// aggregateSeers returns the calls of calls whose aggregate the caller may see
// (access.CanSeeReviewAggregate): all for staff; for anyone else those they are appointed
// to (their own appointments, read as them) once published.
func (s *Service) aggregateSeers(ctx context.Context, calls []*ent.Call) (map[pulid.ID]bool, error) {
	v := viewer.FromContext(ctx)
	out := make(map[pulid.ID]bool, len(calls))
	ids := make([]pulid.ID, len(calls))
	for i, c := range calls {
		ids[i] = c.ID
	}
	appointed, err := s.appointedCalls(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, c := range calls {
		out[c.ID] = access.CanSeeReviewAggregate(v, appointed[c.ID], c.ReviewPublishedAt != nil)
	}
	return out, nil
}

// aggregates computes the aggregated score of every eligible application of calls, and
// its place in its call, from every counted review: facts the caller may not read review
// by review (a reviewer never sees another's scores), so they are read with
// viewer.ForFacts, and only the numbers leave this function. Two statements.
func (s *Service) aggregates(ctx context.Context, calls []*ent.Call) (map[pulid.ID]ApplicationScore, error) {
	out := map[pulid.ID]ApplicationScore{}
	if len(calls) == 0 {
		return out, nil
	}
	byCall := make(map[pulid.ID]*ent.Call, len(calls))
	ids := make([]pulid.ID, len(calls))
	for i, c := range calls {
		byCall[c.ID], ids[i] = c, c.ID
	}
	apps, err := s.cfg.Client.Application.Query().
		Where(application.CallIDIn(ids...), application.StatusEQ(application.StatusELIGIBLE)).
		Select(application.FieldID, application.FieldCallID, application.FieldSubmittedAt).
		WithReviews().Order(application.BySubmittedAt(), application.ByID()).All(viewer.ForFacts(ctx))
	if err != nil {
		return nil, fmt.Errorf("eligible applications: %w", err)
	}
	perCall := map[pulid.ID][]ApplicationScore{}
	for _, a := range apps {
		score, n := aggregate(byCall[a.CallID].ReviewCriteria, a.Edges.Reviews)
		perCall[a.CallID] = append(perCall[a.CallID], ApplicationScore{Application: a, Score: score, Reviews: n})
	}
	for _, list := range perCall {
		rankScores(list)
		for _, sc := range list {
			out[sc.Application.ID] = sc
		}
	}
	return out, nil
}

// rankScores sorts scores best first (stable, so submission order breaks ties in the
// list) and gives each scored one its place; equal scores share a place.
func rankScores(out []ApplicationScore) {
	slices.SortStableFunc(out, func(x, y ApplicationScore) int {
		switch {
		case x.Score == nil && y.Score == nil:
			return 0
		case x.Score == nil:
			return 1
		case y.Score == nil:
			return -1
		case *x.Score > *y.Score:
			return -1
		case *x.Score < *y.Score:
			return 1
		}
		return 0
	})
	for i := range out {
		if out[i].Score == nil {
			continue
		}
		rank := i + 1
		if i > 0 && out[i-1].Score != nil && *out[i-1].Score == *out[i].Score {
			rank = *out[i-1].Rank
		}
		out[i].Rank = &rank
	}
}

// Collect adds what a request selects to an application query (entgql field collection);
// nil adds nothing.
type Collect func(*ent.ApplicationQuery) (*ent.ApplicationQuery, error)

// ReviewRankings returns, for each call whose ranking the caller may see, its eligible
// applications by aggregated score, best first: for staff every one; for a reviewer of
// the call, once the aggregate is published, those assigned to them, each with its place
// in the whole call. A call the caller may not see the ranking of is absent (see
// RankingRefusal). A constant number of statements for any number of calls.
func (s *Service) ReviewRankings(ctx context.Context, calls []*ent.Call, collect Collect) (map[pulid.ID][]ApplicationScore, error) {
	out := make(map[pulid.ID][]ApplicationScore, len(calls))
	if viewer.FromContext(ctx).Kind != viewer.User {
		return out, nil
	}
	seers, err := s.aggregateSeers(ctx, calls)
	if err != nil {
		return nil, err
	}
	var allowed []*ent.Call
	for _, c := range calls {
		if seers[c.ID] {
			allowed = append(allowed, c)
			out[c.ID] = []ApplicationScore{}
		}
	}
	if len(allowed) == 0 {
		return out, nil
	}
	facts, err := s.aggregates(ctx, allowed)
	if err != nil {
		return nil, err
	}
	apps, err := s.visibleForReview(ctx, allowed, collect)
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		sc := facts[a.ID]
		sc.Application = a
		out[a.CallID] = append(out[a.CallID], sc)
	}
	for _, list := range out {
		slices.SortStableFunc(list, func(x, y ApplicationScore) int {
			switch {
			case x.Rank == nil && y.Rank == nil:
				return 0
			case x.Rank == nil:
				return 1
			case y.Rank == nil:
				return -1
			}
			return *x.Rank - *y.Rank
		})
	}
	return out, nil
}

// RankingRefusal is the error for a call ReviewRankings left out: UNAUTHENTICATED for an
// anonymous caller, FORBIDDEN for anyone else.
func RankingRefusal(ctx context.Context) error {
	if viewer.FromContext(ctx).IsAnonymous() {
		return apperr.New(apperr.Unauthenticated, "sign in to see review rankings")
	}
	return apperr.New(apperr.Forbidden, "only coalition staff, and the call's reviewers once the aggregate is published, can see its review ranking")
}

// visibleForReview reads, as the caller, the eligible applications of calls they may
// review: staff every one, anyone else those access.ReviewerSeesApplication gives them.
func (s *Service) visibleForReview(ctx context.Context, calls []*ent.Call, collect Collect, more ...func(*ent.ApplicationQuery)) ([]*ent.Application, error) {
	ids := make([]pulid.ID, len(calls))
	for i, c := range calls {
		ids[i] = c.ID
	}
	q := s.cfg.Client.Application.Query().Where(application.CallIDIn(ids...), application.StatusEQ(application.StatusELIGIBLE))
	if v := viewer.FromContext(ctx); !access.CanManageReviews(v) {
		q.Filter().Where(access.ReviewerSeesApplication(v.UserID))
	}
	for _, m := range more {
		m(q)
	}
	if collect != nil {
		var err error
		if q, err = collect(q); err != nil {
			return nil, err
		}
		// Field collection may select only the columns the request asks for; the
		// answer is grouped by call, so call_id is always read.
		q.Modify(func(s *sql.Selector) {
			if cols := s.SelectedColumns(); len(cols) > 0 && !slices.Contains(cols, s.C(application.FieldCallID)) {
				s.AppendSelect(s.C(application.FieldCallID))
			}
		})
	}
	apps, err := q.Order(application.BySubmittedAt(), application.ByID()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("applications for review: %w", err)
	}
	return apps, nil
}

// ReviewRanking is ReviewRankings of one call.
func (s *Service) ReviewRanking(ctx context.Context, c *ent.Call) ([]ApplicationScore, error) {
	m, err := s.ReviewRankings(ctx, []*ent.Call{c}, nil)
	if err != nil {
		return nil, err
	}
	list, ok := m[c.ID]
	if !ok {
		return nil, RankingRefusal(ctx)
	}
	return list, nil
}

// ScoresOf returns the aggregated score of each application the caller may see it of
// (access.CanSeeReviewAggregate on its call, and for a reviewer an application they
// review): nil without counted reviews; absent for the others (see ReviewRefusal). A
// constant number of statements for any number of applications.
func (s *Service) ScoresOf(ctx context.Context, apps []*ent.Application) (map[pulid.ID]*float64, error) {
	out := map[pulid.ID]*float64{}
	if viewer.FromContext(ctx).Kind != viewer.User || len(apps) == 0 {
		return out, nil
	}
	var callIDs []pulid.ID
	for _, a := range apps {
		if !containsID(callIDs, a.CallID) {
			callIDs = append(callIDs, a.CallID)
		}
	}
	// The calls are read as the caller: an application they see has a call they see.
	calls, err := s.cfg.Client.Call.Query().Where(call.IDIn(callIDs...)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("calls: %w", err)
	}
	seers, err := s.aggregateSeers(ctx, calls)
	if err != nil {
		return nil, err
	}
	var allowed []*ent.Call
	for _, c := range calls {
		if seers[c.ID] {
			allowed = append(allowed, c)
		}
	}
	facts, err := s.aggregates(ctx, allowed)
	if err != nil {
		return nil, err
	}
	// A reviewer sees the aggregate of the applications they review, and of no other
	// application they may read for another reason (their own, a host's applicants).
	reviewed := map[pulid.ID]bool{}
	if v := viewer.FromContext(ctx); !access.CanManageReviews(v) && len(allowed) > 0 {
		ids := make([]pulid.ID, len(apps))
		for i, a := range apps {
			ids[i] = a.ID
		}
		q := s.cfg.Client.Application.Query().Where(application.IDIn(ids...))
		q.Filter().Where(access.ReviewerSeesApplication(v.UserID))
		seen, err := q.IDs(ctx)
		if err != nil {
			return nil, fmt.Errorf("reviewed applications: %w", err)
		}
		for _, id := range seen {
			reviewed[id] = true
		}
	}
	for _, a := range apps {
		if seers[a.CallID] && (access.CanManageReviews(viewer.FromContext(ctx)) || reviewed[a.ID]) {
			out[a.ID] = facts[a.ID].Score
		}
	}
	return out, nil
}

// ApplicationScoreOf is ScoresOf of one application: nil without a counted review,
// ReviewRefusal when the caller may not see it.
func (s *Service) ApplicationScoreOf(ctx context.Context, a *ent.Application) (*float64, error) {
	m, err := s.ScoresOf(ctx, []*ent.Application{a})
	if err != nil {
		return nil, err
	}
	sc, ok := m[a.ID]
	if !ok {
		return nil, ReviewRefusal(ctx, "aggregated scores (reviewers once the aggregate is published)")
	}
	return sc, nil
}

// ReviewsOf returns the reviews of applications as the caller may see them (staff all,
// less the others' on an application they declared a conflict with; a reviewer of the
// application's call their own), oldest first; an application whose reviews the caller
// may not see at all (neither staff nor a reviewer of its call) is absent (see
// ReviewRefusal). Two statements at most.
func (s *Service) ReviewsOf(ctx context.Context, apps []*ent.Application) (map[pulid.ID][]*ent.Review, error) {
	out := make(map[pulid.ID][]*ent.Review, len(apps))
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || len(apps) == 0 {
		return out, nil
	}
	var callIDs, appIDs []pulid.ID
	for _, a := range apps {
		appIDs = append(appIDs, a.ID)
		if !containsID(callIDs, a.CallID) {
			callIDs = append(callIDs, a.CallID)
		}
	}
	appointed, err := s.appointedCalls(ctx, callIDs)
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		if access.CanManageReviews(v) || appointed[a.CallID] {
			out[a.ID] = []*ent.Review{}
		}
	}
	if len(out) == 0 {
		return out, nil
	}
	rs, err := s.cfg.Client.Review.Query().Where(review.ApplicationIDIn(appIDs...)).Order(review.ByCreatedAt(), review.ByID()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("reviews: %w", err)
	}
	for _, r := range rs {
		if list, ok := out[r.ApplicationID]; ok {
			out[r.ApplicationID] = append(list, r)
		}
	}
	return out, nil
}

// Reviews is ReviewsOf one application.
func (s *Service) Reviews(ctx context.Context, a *ent.Application) ([]*ent.Review, error) {
	m, err := s.ReviewsOf(ctx, []*ent.Application{a})
	if err != nil {
		return nil, err
	}
	list, ok := m[a.ID]
	if !ok {
		return nil, ReviewRefusal(ctx, "reviews")
	}
	return list, nil
}

// ReviewQueues returns, for each call the caller reviews (staff: every call; a reviewer:
// the calls they are appointed to; absent otherwise, see ReviewRefusal), the eligible
// applications they may review (visibleForReview) and have neither reviewed nor declared
// a conflict with, oldest submission first. Two statements (plus what collect adds).
func (s *Service) ReviewQueues(ctx context.Context, calls []*ent.Call, collect Collect) (map[pulid.ID][]*ent.Application, error) {
	out := make(map[pulid.ID][]*ent.Application, len(calls))
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || len(calls) == 0 {
		return out, nil
	}
	ids := make([]pulid.ID, len(calls))
	for i, c := range calls {
		ids[i] = c.ID
	}
	appointed, err := s.appointedCalls(ctx, ids)
	if err != nil {
		return nil, err
	}
	var allowed []*ent.Call
	for _, c := range calls {
		if access.CanManageReviews(v) || appointed[c.ID] {
			allowed = append(allowed, c)
			out[c.ID] = []*ent.Application{}
		}
	}
	if len(allowed) == 0 {
		return out, nil
	}
	me := pulid.ID(v.UserID)
	apps, err := s.visibleForReview(ctx, allowed, collect, func(q *ent.ApplicationQuery) {
		q.Where(application.Not(application.HasReviewsWith(review.ReviewerID(me))))
	})
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		out[a.CallID] = append(out[a.CallID], a)
	}
	return out, nil
}

// ReviewQueue is ReviewQueues of one call.
func (s *Service) ReviewQueue(ctx context.Context, c *ent.Call) ([]*ent.Application, error) {
	m, err := s.ReviewQueues(ctx, []*ent.Call{c}, nil)
	if err != nil {
		return nil, err
	}
	list, ok := m[c.ID]
	if !ok {
		return nil, ReviewRefusal(ctx, "review queues")
	}
	return list, nil
}

// SubmitHostRanking replaces a host centre's ranking of its applicants in a call: the
// eligible applications that listed the centre, most preferred first, no ties (each once);
// an application left out is not acceptable to the centre. A coordinator of the centre or
// staff, while the call is in RANKING and before its ranking deadline. User errors:
// NOT_FOUND (call, centre), INVALID_STATE (status, deadline), INVALID (an application that
// is not an eligible applicant of the centre in this call, or listed twice).
func (s *Service) SubmitHostRanking(ctx context.Context, tx *ent.Client, callID, centreID pulid.ID, appIDs []pulid.ID) ([]*ent.Application, error) {
	if err := access.RequireSignedIn(ctx, "rank applicants"); err != nil {
		return nil, err
	}
	// The call's row lock and the centre's applicants are facts of the rule; the answer is
	// read as the caller (HostRankingOf).
	facts := viewer.ForFacts(ctx)
	centre, err := tx.HostCentre.Query().Where(hostcentre.ID(centreID)).WithCoordinators().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("host centre", check.Path("hostCentreId"))
	}
	if err != nil {
		return nil, fmt.Errorf("load centre: %w", err)
	}
	if err := access.RequireThat(ctx, access.CanRankApplicants(viewer.FromContext(ctx), Among(centre.Edges.Coordinators)),
		"rank applicants", "the centre's coordinators and coalition staff can rank its applicants"); err != nil {
		return nil, err
	}
	// On PostgreSQL the call's row is locked, as a match run locks it, so a ranking never
	// changes while a run reads the preferences; SQLite's single writer does the same.
	c, err := db.LockRows(s.cfg.Dialect, tx.Call.Query().Where(call.ID(callID)), call.Table).Only(facts)
	if ent.IsNotFound(err) {
		return nil, notFound("call", check.Path("callId"))
	}
	if err != nil {
		return nil, fmt.Errorf("load call: %w", err)
	}
	var errs apperr.UserErrors
	if _, err := NextCallStatus(c.Status, CallRank, CallFactsOf(c, s.cfg.Now())); err != nil {
		errs.AddRefusal(err, check.Path("callId")...)
	}
	applicants, err := s.hostApplicants(facts, tx, c.ID, centre.ID)
	if err != nil {
		return nil, err
	}
	for i, id := range appIDs {
		p := check.Path("applicationIds", strconv.Itoa(i))
		switch {
		case slices.Contains(appIDs[:i], id):
			errs.Add(apperr.CodeInvalid, "This application is ranked twice; a ranking has no ties.", p...)
		case !slices.ContainsFunc(applicants, func(a *ent.Application) bool { return a.ID == id }):
			errs.Add(apperr.CodeInvalid, "This is not an eligible applicant of the centre in this call.", p...)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if _, err := tx.HostRanking.Delete().Where(hostranking.CallID(c.ID), hostranking.HostCentreID(centre.ID)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("clear ranking: %w", err)
	}
	for i, id := range appIDs {
		if err := tx.HostRanking.Create().SetCallID(c.ID).SetHostCentreID(centre.ID).SetApplicationID(id).SetRank(i + 1).Exec(ctx); err != nil {
			return nil, fmt.Errorf("save ranking: %w", err)
		}
	}
	return s.HostRankingOf(ctx, tx, c.ID, centre.ID)
}

// hostApplicants are the eligible applications of a call that listed a centre.
func (s *Service) hostApplicants(ctx context.Context, client *ent.Client, callID, centreID pulid.ID) ([]*ent.Application, error) {
	apps, err := client.Application.Query().
		Where(application.CallID(callID), application.StatusEQ(application.StatusELIGIBLE),
			application.HasChoicesWith(applicationchoice.HostCentreID(centreID))).
		Order(application.ByID()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("applicants of %s: %w", centreID, err)
	}
	return apps, nil
}

// HostRankingOf returns a centre's submitted ranking in a call, most preferred first, as
// the caller may see it (the centre's coordinators and staff; nobody else sees any).
func (s *Service) HostRankingOf(ctx context.Context, client *ent.Client, callID, centreID pulid.ID) ([]*ent.Application, error) {
	out, err := s.HostRankingsOf(ctx, client, []pulid.ID{callID}, centreID)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// HostRankingsOf is HostRankingOf for one centre in several calls (one ranking per call,
// in order), in two statements.
func (s *Service) HostRankingsOf(ctx context.Context, client *ent.Client, callIDs []pulid.ID, centreID pulid.ID) ([][]*ent.Application, error) {
	rows, err := client.HostRanking.Query().
		Where(hostranking.CallIDIn(callIDs...), hostranking.HostCentreID(centreID)).
		Order(hostranking.ByRank(), hostranking.ByID()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("ranking of %s: %w", centreID, err)
	}
	out := make([][]*ent.Application, len(callIDs))
	for i := range out {
		out[i] = []*ent.Application{}
	}
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]pulid.ID, len(rows))
	for i, r := range rows {
		ids[i] = r.ApplicationID
	}
	// The rows are visible, so the applications are the centre's applicants, which its
	// coordinators read anyway (staff read everything): read them as the caller.
	apps, err := client.Application.Query().Where(application.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("ranked applications: %w", err)
	}
	byID := make(map[pulid.ID]*ent.Application, len(apps))
	for _, a := range apps {
		byID[a.ID] = a
	}
	byCall := make(map[pulid.ID][]*ent.Application, len(callIDs))
	for _, r := range rows {
		if a := byID[r.ApplicationID]; a != nil {
			byCall[r.CallID] = append(byCall[r.CallID], a)
		}
	}
	for i, id := range callIDs {
		if byCall[id] != nil {
			out[i] = byCall[id]
		}
	}
	return out, nil
}

// csvHeader are the columns of the applications export, in order; never reordered, only
// appended to.
var csvHeader = []string{
	"application_id", "status", "status_reason", "submitted_at", "decided_at", "withdrawn_at",
	"trainee_id", "trainee_name", "trainee_email", "home_organisation", "home_country", "role",
	"cart_experience_years", "languages", "focus_areas", "availability", "preferred_weeks",
	"choice_1", "choice_2", "choice_3", "more_choices", "documents", "referee_letters_received",
	"reviews", "score",
}

// ApplicationsCSV writes every application of a call (drafts included) as CSV (see
// internal/export): a header row, then one row per application ordered by id, times in
// UTC (RFC 3339), lists joined with "; ". Staff only.
func (s *Service) ApplicationsCSV(ctx context.Context, c *ent.Call) (string, error) {
	if err := access.Require(ctx, access.CanExportApplications, "export applications"); err != nil {
		return "", err
	}
	apps, err := s.cfg.Client.Application.Query().Where(application.CallID(c.ID)).
		WithTrainee().WithHomeOrganisation().WithReviews().
		WithChoices(func(q *ent.ApplicationChoiceQuery) { q.WithHostCentre().Order(applicationchoice.ByRank()) }).
		WithDocuments(func(q *ent.DocumentQuery) { q.Order(document.ByKind(), document.ByID()) }).
		Order(application.ByID()).All(ctx)
	if err != nil {
		return "", fmt.Errorf("applications of %s: %w", c.ID, err)
	}
	rows := make([][]string, 0, len(apps))
	for _, a := range apps {
		var org, country, weeks, score string
		if o := a.Edges.HomeOrganisation; o != nil {
			org, country = o.Name, o.Country
		}
		if a.PreferredWeeks != nil {
			weeks = strconv.Itoa(*a.PreferredWeeks)
		}
		var ranges, areas, docs, choices []string
		for _, r := range a.Availability {
			ranges = append(ranges, string(r.From)+"/"+string(r.To))
		}
		for _, f := range a.FocusAreas {
			areas = append(areas, string(f))
		}
		letters := 0
		for _, d := range a.Edges.Documents {
			docs = append(docs, string(d.Kind))
			if d.Kind == vocab.DocumentRefereeLetter {
				letters++
			}
		}
		for _, ch := range a.Edges.Choices {
			choices = append(choices, ch.Edges.HostCentre.Name)
		}
		choice := func(i int) string {
			if i < len(choices) {
				return choices[i]
			}
			return ""
		}
		more := ""
		if len(choices) > 3 {
			more = strings.Join(choices[3:], "; ")
		}
		agg, n := aggregate(c.ReviewCriteria, a.Edges.Reviews)
		if agg != nil {
			score = strconv.FormatFloat(*agg, 'f', 3, 64)
		}
		t := a.Edges.Trainee
		rows = append(rows, []string{
			string(a.ID), string(a.Status), a.StatusReason, export.Time(a.SubmittedAt), export.Time(a.DecidedAt), export.Time(a.WithdrawnAt),
			string(t.ID), t.Name, t.Email, org, country, a.Role,
			strconv.Itoa(a.CartExperienceYears), strings.Join(a.Languages, "; "), strings.Join(areas, "; "), strings.Join(ranges, "; "), weeks,
			choice(0), choice(1), choice(2), more, strings.Join(docs, "; "), strconv.Itoa(letters),
			strconv.Itoa(n), score,
		})
	}
	return export.CSV(csvHeader, rows)
}
