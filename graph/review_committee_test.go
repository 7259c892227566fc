package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/organisation"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

var reviewSeed int

// seedReview creates, straight in the database, nCalls calls in REVIEW with two criteria,
// each with nApps eligible applications, and returns the call ids and the applications'.
func seedReview(tb testing.TB, e *testkit.Env, nCalls, nApps int) ([]pulid.ID, [][]pulid.ID) {
	tb.Helper()
	reviewSeed++
	ctx, c := e.System(), e.DB.Client
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	home, err := c.Organisation.Create().SetName(fmt.Sprintf("Home %d", reviewSeed)).SetKind(organisation.KindHOSPITAL).SetCountry("CZ").SetCity("Brno").Save(ctx)
	must(err)
	var calls []pulid.ID
	var apps [][]pulid.ID
	for i := 0; i < nCalls; i++ {
		cl, err := c.Call.Create().SetTitle(fmt.Sprintf("Review call %d.%d", reviewSeed, i)).SetStatus(call.StatusREVIEW).
			SetOpensAt(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)).SetClosesAt(time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)).
			SetTimeZone("Europe/Brussels").SetPlacementStart("2027-03-01").SetPlacementEnd("2027-12-31").
			SetPlacementWeeks([]int{1}).SetEligibleCountries([]string{"CZ"}).SetRequiredDocuments([]vocab.DocumentKind{}).
			SetReviewCriteria([]vocab.Criterion{{Key: "motivation", Name: "Motivation", Weight: 2}, {Key: "experience", Name: "Experience", Weight: 1}}).Save(ctx)
		must(err)
		users := make([]*ent.UserCreate, nApps)
		for j := range users {
			users[j] = c.User.Create().SetEmail(fmt.Sprintf("applicant%d.%d.%d@centre.example.cz", reviewSeed, i, j)).
				SetName(fmt.Sprintf("Applicant %d", j)).SetRoles([]viewer.Role{viewer.RoleTrainee})
		}
		us, err := c.User.CreateBulk(users...).Save(ctx)
		must(err)
		creates := make([]*ent.ApplicationCreate, nApps)
		for j := range creates {
			creates[j] = c.Application.Create().SetCallID(cl.ID).SetTraineeID(us[j].ID).SetStatus("ELIGIBLE").
				SetHomeOrganisationID(home.ID).SetRole("Haematologist").SetMotivation("To learn.").
				SetSubmittedAt(time.Date(2027, 1, 5, 0, 0, j, 0, time.UTC))
		}
		as, err := c.Application.CreateBulk(creates...).Save(ctx)
		must(err)
		ids := make([]pulid.ID, len(as))
		for j, a := range as {
			ids[j] = a.ID
		}
		calls, apps = append(calls, cl.ID), append(apps, ids)
	}
	return calls, apps
}

// reviewer creates a user with no role (a physician of a member society) and signs them in.
func reviewer(tb testing.TB, e *testkit.Env, email, name string) (*ent.User, *testkit.Client) {
	tb.Helper()
	u, err := e.DB.Client.User.Create().SetEmail(email).SetName(name).SetRoles([]viewer.Role{}).Save(e.System())
	if err != nil {
		tb.Fatal(err)
	}
	return u, e.SignIn(email)
}

const (
	appointM  = `mutation($in: AppointCallReviewerInput!) { appointCallReviewer(input: $in) { reviewer { id user { id } appointedBy { id } } userErrors { field code message } } }`
	removeM   = `mutation($in: RemoveCallReviewerInput!) { removeCallReviewer(input: $in) { removedId userErrors { field code message } } }`
	assignM   = `mutation($in: AssignReviewsInput!) { assignReviews(input: $in) { assignments { id application { id } reviewer { id } } userErrors { field code message } } }`
	publishM  = `mutation($in: PublishReviewAggregateInput!) { publishReviewAggregate(input: $in) { call { id reviewPublishedAt } userErrors { field code message } } }`
	scoreM    = `mutation($in: ScoreApplicationInput!) { scoreApplication(input: $in) { review { id } userErrors { field code message } } }`
	conflictM = `mutation($in: DeclareReviewConflictInput!) { declareReviewConflict(input: $in) { review { id conflict } userErrors { field code message } } }`
	appQ      = `query($id: ID!) { node(id: $id) { ... on Application { id reviews { reviewerID scores { key score } } } } }`
	scoreQ    = `query($id: ID!) { node(id: $id) { ... on Application { id score reviews { reviewerID } } } }`
	queueQ    = `query($id: ID!) { node(id: $id) { ... on Call { reviewQueue { id } reviewers { user { id } } reviewAssignments { application { id } } } } }`
	rankingQ  = `query($id: ID!) { node(id: $id) { ... on Call { reviewRanking { rank score reviews application { id } } } } }`
)

type userErrs []struct {
	Field         []string
	Code, Message string
}

func ueCodes(ue userErrs) string {
	var out []string
	for _, e := range ue {
		out = append(out, e.Code)
	}
	return strings.Join(out, " ")
}

// TestReviewCommitteeOverHTTP: the whole flow as real users over GraphQL: staff appoint
// two physicians without any role, assign them applications (they are emailed), each sees
// only their own applications and scores, one recuses, staff publish the aggregate (the
// reviewers then see it), and a removed reviewer loses everything at once.
func TestReviewCommitteeOverHTTP(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		calls, apps := seedReview(t, e, 1, 3)
		callID, a1, a2, a3 := calls[0], apps[0][0], apps[0][1], apps[0][2]
		_, staff := e.NewUser("office@coalition.test", "Coalition Office", viewer.RoleStaff)
		rita, ritaC := reviewer(t, e, "rita@society.example", "Rita Reviewer")
		otto, ottoC := reviewer(t, e, "otto@society.example", "Otto Other")
		_, trainee := e.NewUser("someone@centre.example.cz", "Some Trainee", viewer.RoleTrainee)

		var ap struct {
			AppointCallReviewer struct {
				Reviewer   *struct{ ID string }
				UserErrors userErrs
			}
		}
		for _, u := range []*ent.User{rita, otto} {
			staff.MustDo(appointM, map[string]any{"in": map[string]any{"callId": callID, "userId": u.ID}}, &ap)
			if ap.AppointCallReviewer.Reviewer == nil {
				t.Fatalf("appoint %s: %v", u.Name, ap.AppointCallReviewer.UserErrors)
			}
		}
		if r := ritaC.Do(appointM, map[string]any{"in": map[string]any{"callId": callID, "userId": otto.ID}}); r.Code() != "FORBIDDEN" {
			t.Errorf("a reviewer appoints: %s", r.Body)
		}
		var as struct {
			AssignReviews struct {
				Assignments []struct{ ID string }
				UserErrors  userErrs
			}
		}
		staff.MustDo(assignM, map[string]any{"in": map[string]any{"callId": callID, "reviewerId": rita.ID, "applicationIds": []pulid.ID{a1, a2}}}, &as)
		if len(as.AssignReviews.Assignments) != 2 {
			t.Fatalf("assign to Rita: %+v", as.AssignReviews)
		}
		staff.MustDo(assignM, map[string]any{"in": map[string]any{"callId": callID, "reviewerId": otto.ID, "applicationIds": []pulid.ID{a1}}}, &as)
		staff.MustDo(assignM, map[string]any{"in": map[string]any{"callId": callID, "reviewerId": "usr_nobody", "applicationIds": []pulid.ID{a3}}}, &as)
		if got := ueCodes(as.AssignReviews.UserErrors); got != "INVALID" {
			t.Errorf("assign to a non-reviewer: %q, want INVALID", got)
		}
		if n, err := e.DB.Client.OutboxMessage.Query().Where(outboxmessage.TemplateEQ("review_committee")).Count(e.System()); err != nil || n != 4 {
			t.Errorf("review_committee emails: %d, want 4 (two appointments, two assignments)", n)
		}

		// Each reviewer sees their applications, by node(id:) and in the review queue, and
		// nothing else.
		var node struct {
			Node *struct {
				ID      string
				Score   *float64
				Reviews []struct {
					ReviewerID string
					Scores     []struct {
						Key   string
						Score int
					}
				}
			}
		}
		seen := func(c *testkit.Client, id pulid.ID) bool {
			node.Node = nil
			r := c.Do(appQ, map[string]any{"id": id})
			if r.Code() == "NOT_FOUND" {
				return false
			}
			if len(r.Errors) > 0 {
				t.Fatalf("read %s: %s", id, r.Body)
			}
			if err := json.Unmarshal(r.Data, &node); err != nil {
				t.Fatal(err)
			}
			return node.Node != nil && node.Node.ID == string(id)
		}
		if !seen(ritaC, a1) || !seen(ritaC, a2) || seen(ritaC, a3) || !seen(ottoC, a1) || seen(ottoC, a2) || seen(trainee, a1) {
			t.Errorf("who sees what is wrong")
		}
		var q struct {
			Node struct {
				ReviewQueue       []struct{ ID string }
				Reviewers         []struct{ User struct{ ID string } }
				ReviewAssignments []struct{ Application struct{ ID string } }
			}
		}
		ritaC.MustDo(queueQ, map[string]any{"id": callID}, &q)
		if len(q.Node.ReviewQueue) != 2 || len(q.Node.Reviewers) != 1 || len(q.Node.ReviewAssignments) != 2 {
			t.Errorf("Rita's queue %d, reviewers %d, assignments %d; want 2, 1 (herself), 2", len(q.Node.ReviewQueue), len(q.Node.Reviewers), len(q.Node.ReviewAssignments))
		}
		staff.MustDo(queueQ, map[string]any{"id": callID}, &q)
		if len(q.Node.ReviewQueue) != 3 || len(q.Node.Reviewers) != 2 || len(q.Node.ReviewAssignments) != 3 {
			t.Errorf("staff: queue %d, reviewers %d, assignments %d; want 3, 2, 3", len(q.Node.ReviewQueue), len(q.Node.Reviewers), len(q.Node.ReviewAssignments))
		}

		score := func(c *testkit.Client, app pulid.ID, m, x int) userErrs {
			var out struct {
				ScoreApplication struct{ UserErrors userErrs }
			}
			c.MustDo(scoreM, map[string]any{"in": map[string]any{"applicationId": app, "scores": []map[string]any{
				{"key": "motivation", "score": m}, {"key": "experience", "score": x}}}}, &out)
			return out.ScoreApplication.UserErrors
		}
		if ue := score(ritaC, a1, 5, 2); len(ue) > 0 {
			t.Fatalf("Rita scores: %v", ue)
		}
		if ue := score(ottoC, a1, 3, 3); len(ue) > 0 {
			t.Fatalf("Otto scores: %v", ue)
		}
		if got := ueCodes(score(ritaC, a1, 6, 3)); got != "INVALID" {
			t.Errorf("score 6: %q", got)
		}
		if r := ottoC.Do(scoreM, map[string]any{"in": map[string]any{"applicationId": a2, "scores": []map[string]any{}}}); !strings.Contains(string(r.Body), "NOT_FOUND") {
			t.Errorf("Otto scores an application not assigned to him: %s", r.Body)
		}
		// Rita sees her own review of a1, not Otto's, and no aggregate before publication.
		seen(ritaC, a1)
		if len(node.Node.Reviews) != 1 || node.Node.Reviews[0].ReviewerID != string(rita.ID) {
			t.Errorf("Rita reads a1 before publication: %+v", node.Node)
		}
		if r := ritaC.Do(scoreQ, map[string]any{"id": a1}); r.Code() != "FORBIDDEN" {
			t.Errorf("Rita reads the score before publication: %s", r.Body)
		}
		if r := ritaC.Do(rankingQ, map[string]any{"id": callID}); r.Code() != "FORBIDDEN" {
			t.Errorf("Rita's ranking before publication: %s", r.Body)
		}

		// Rita recuses herself from a2: it disappears for her.
		var cf struct {
			DeclareReviewConflict struct{ UserErrors userErrs }
		}
		ritaC.MustDo(conflictM, map[string]any{"in": map[string]any{"applicationId": a2, "reason": "A former colleague."}}, &cf)
		if len(cf.DeclareReviewConflict.UserErrors) > 0 || seen(ritaC, a2) {
			t.Errorf("recusal: %v, still seen %v", cf.DeclareReviewConflict.UserErrors, seen(ritaC, a2))
		}

		var pub struct {
			PublishReviewAggregate struct {
				Call       *struct{ ReviewPublishedAt *string }
				UserErrors userErrs
			}
		}
		staff.MustDo(publishM, map[string]any{"in": map[string]any{"callId": callID}}, &pub)
		if pub.PublishReviewAggregate.Call == nil || pub.PublishReviewAggregate.Call.ReviewPublishedAt == nil {
			t.Fatalf("publish: %+v", pub.PublishReviewAggregate)
		}
		// (5·2+2)/3 = 4 and (3·2+3)/3 = 3: the aggregate is 3.5.
		ritaC.MustDo(scoreQ, map[string]any{"id": a1}, &node)
		if node.Node.Score == nil || *node.Node.Score != 3.5 || len(node.Node.Reviews) != 1 {
			t.Errorf("Rita reads a1 after publication: %+v", node.Node)
		}
		var rk struct {
			Node struct {
				ReviewRanking []struct {
					Rank        *int
					Score       *float64
					Application struct{ ID string }
				}
			}
		}
		ritaC.MustDo(rankingQ, map[string]any{"id": callID}, &rk)
		if len(rk.Node.ReviewRanking) != 1 || rk.Node.ReviewRanking[0].Application.ID != string(a1) || *rk.Node.ReviewRanking[0].Rank != 1 {
			t.Errorf("Rita's ranking after publication: %+v", rk.Node.ReviewRanking)
		}
		if got := ueCodes(score(ottoC, a1, 1, 1)); got != "INVALID_STATE" {
			t.Errorf("score after publication: %q", got)
		}

		// Removing Rita takes everything at once.
		var rm struct {
			RemoveCallReviewer struct {
				RemovedID  *string
				UserErrors userErrs
			}
		}
		staff.MustDo(removeM, map[string]any{"in": map[string]any{"callId": callID, "userId": rita.ID}}, &rm)
		if rm.RemoveCallReviewer.RemovedID == nil {
			t.Fatalf("remove: %v", rm.RemoveCallReviewer.UserErrors)
		}
		q.Node.Reviewers, q.Node.ReviewAssignments = nil, nil
		ritaC.MustDo(`query($id: ID!) { node(id: $id) { ... on Call { reviewers { user { id } } reviewAssignments { application { id } } } } }`, map[string]any{"id": callID}, &q)
		if seen(ritaC, a1) || len(q.Node.Reviewers)+len(q.Node.ReviewAssignments) != 0 {
			t.Errorf("removed Rita still sees something: %+v", q.Node)
		}
		if r := ritaC.Do(queueQ, map[string]any{"id": callID}); r.Code() != "FORBIDDEN" {
			t.Errorf("removed Rita's review queue: %s", r.Body)
		}
		if r := ritaC.Do(rankingQ, map[string]any{"id": callID}); r.Code() != "FORBIDDEN" {
			t.Errorf("removed Rita's ranking: %s", r.Body)
		}
		if ok, _ := e.DB.Client.User.Query().Where(user.ID(rita.ID)).Exist(e.System()); !ok {
			t.Error("Rita's account went too")
		}
	})
}

// reviewPageQs select every batched review field on a page of calls, in three requests
// that each fit the node budget.
var reviewPageQs = []string{
	`{ calls(first: 2, orderBy: {field: TITLE, direction: DESC}) { edges { node { reviewQueue { id trainee { name } } } } } }`,
	`{ calls(first: 2, orderBy: {field: TITLE, direction: DESC}) { edges { node { reviewRanking { rank score reviews application { id } } } } } }`,
	`{ calls(first: 2, orderBy: {field: TITLE, direction: DESC}) { edges { node { applications(first: 50) { edges { node { id score reviews { reviewerID comment } } } } } } } }`,
}

// measureReview seeds nCalls calls of nApps applications, each scored by two reviewers,
// and counts the statements of one page of calls with every review field selected, as
// staff and as a reviewer after publication.
func measureReview(tb testing.TB, e *testkit.Env, nCalls, nApps int) (staffN, reviewerN int64) {
	tb.Helper()
	calls, apps := seedReview(tb, e, nCalls, nApps)
	ctx, c := e.System(), e.DB.Client
	var staffU *ent.User
	if u, err := c.User.Query().Where(user.Email("office@coalition.test")).Only(ctx); err == nil {
		staffU = u
	} else {
		staffU, _ = e.NewUser("office@coalition.test", "Coalition Office", viewer.RoleStaff)
	}
	staff := e.SignIn("office@coalition.test")
	var revs []*ent.User
	for i := 0; i < 2; i++ {
		u, err := c.User.Create().SetEmail(fmt.Sprintf("reviewer%d.%d@society.example", reviewSeed, i)).SetName("Reviewer").SetRoles([]viewer.Role{}).Save(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		revs = append(revs, u)
	}
	for i, cl := range calls {
		for _, u := range revs {
			if err := c.CallReviewer.Create().SetCallID(cl).SetUserID(u.ID).SetAppointedByID(staffU.ID).Exec(ctx); err != nil {
				tb.Fatal(err)
			}
			var as []*ent.ReviewAssignmentCreate
			var rs []*ent.ReviewCreate
			for j, a := range apps[i] {
				as = append(as, c.ReviewAssignment.Create().SetApplicationID(a).SetReviewerID(u.ID).SetAssignedByID(staffU.ID))
				rs = append(rs, c.Review.Create().SetApplicationID(a).SetReviewerID(u.ID).SetScores(map[string]int{"motivation": 1 + j%5, "experience": 3}))
			}
			if err := c.ReviewAssignment.CreateBulk(as...).Exec(ctx); err != nil {
				tb.Fatal(err)
			}
			if err := c.Review.CreateBulk(rs...).Exec(ctx); err != nil {
				tb.Fatal(err)
			}
		}
		if err := c.Call.UpdateOneID(cl).SetReviewPublishedAt(time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC)).Exec(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	rc := e.SignIn(revs[0].Email)
	staff.MustDo(`{ me { id } }`, nil, nil)
	rc.MustDo(`{ me { id } }`, nil, nil)
	for _, q := range reviewPageQs {
		n, _ := counted(tb, e, staff, q, nil, nil)
		staffN += n
		m, _ := counted(tb, e, rc, q, nil, nil)
		reviewerN += m
		tb.Logf("%d calls × %d: staff %d, reviewer %d statements: %s", nCalls, nApps, n, m, q)
	}
	return staffN, reviewerN
}

// TestReviewStatementsDoNotGrow: Application.reviews, Application.score, Call.reviewQueue
// and Call.reviewRanking load in batches: a page of calls with every one selected sends
// the same number of statements for a page of 2 calls of 3 applications as for a page of
// 2 calls of 40 (the newest seeded, by title). A batch serves one enclosing list (graph/batch.go), so
// applications nested in a page of calls cost one batch per call of the page, whatever
// the number of applications.
func TestReviewStatementsDoNotGrow(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		smallStaff, smallRev := measureReview(t, e, 2, 3)
		largeStaff, largeRev := measureReview(t, e, 2, 40)
		t.Logf("statements: staff %d → %d, reviewer %d → %d", smallStaff, largeStaff, smallRev, largeRev)
		if largeStaff != smallStaff || largeRev != smallRev {
			t.Errorf("statements grow with rows: staff %d → %d, reviewer %d → %d", smallStaff, largeStaff, smallRev, largeRev)
		}
	})
}
