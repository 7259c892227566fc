package programme

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/callreviewer"
	"github.com/gocart-coalition/coalition/ent/review"
	"github.com/gocart-coalition/coalition/ent/reviewassignment"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Review committees: staff appoint reviewers per call, assign them eligible applications
// and publish the aggregate; the rules are in internal/access/reviews.go, the review
// steps' table in states_review.go.

// requireReviewManager refuses callers who may not run a call's review committee.
func requireReviewManager(ctx context.Context) error {
	return access.Require(ctx, access.CanManageReviews, "run review committees")
}

// lockedCall loads a call for a review step with its row locked (the call's status and
// publication decide the step), reading as the person (staff read every call).
func (s *Service) lockedCall(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Call, error) {
	c, err := db.LockRows(s.cfg.Dialect, tx.Call.Query().Where(call.ID(id)), call.Table).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("call", check.Path("callId"))
	}
	if err != nil {
		return nil, fmt.Errorf("load call %s: %w", id, err)
	}
	return c, nil
}

// AppointReviewer appoints a person to a call's review committee and emails them. Staff.
// User errors: NOT_FOUND (call, user), INVALID (a disabled account), TAKEN (already
// appointed), INVALID_STATE (the call is past REVIEW).
func (s *Service) AppointReviewer(ctx context.Context, tx *ent.Client, callID, userID pulid.ID) (*ent.CallReviewer, error) {
	if err := requireReviewManager(ctx); err != nil {
		return nil, err
	}
	c, err := s.lockedCall(ctx, tx, callID)
	if err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	if err := DecideReview(c.Status, ReviewAppoint, ReviewFacts{Published: c.ReviewPublishedAt != nil}); err != nil {
		errs.AddRefusal(err, check.Path("callId")...)
	}
	u, err := tx.User.Get(ctx, userID)
	switch {
	case ent.IsNotFound(err):
		errs.Add(apperr.CodeNotFound, "No such user.", check.Path("userId")...)
	case err != nil:
		return nil, fmt.Errorf("load user %s: %w", userID, err)
	case u.Disabled:
		errs.Add(apperr.CodeInvalid, "This account is disabled; enable it before appointing its owner.", check.Path("userId")...)
	}
	if u != nil {
		taken, err := tx.CallReviewer.Query().Where(callreviewer.CallID(c.ID), callreviewer.UserID(u.ID)).Exist(ctx)
		if err != nil {
			return nil, fmt.Errorf("appointment: %w", err)
		}
		if taken {
			errs.Add(apperr.CodeTaken, "This person is already a reviewer of the call.", check.Path("userId")...)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	me := pulid.ID(viewer.FromContext(ctx).UserID)
	r, err := tx.CallReviewer.Create().SetCallID(c.ID).SetUserID(u.ID).SetAppointedByID(me).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("appoint: %w", err)
	}
	err = s.cfg.Notifier.ReviewCommittee(ctx, tx, notify.Recipient{Email: u.Email, Name: u.Name},
		notify.ReviewCommitteeData{Name: u.Name, CallTitle: c.Title}, "review_appointed:"+string(r.ID))
	if err != nil {
		return nil, err
	}
	return r, nil
}

// RemoveReviewer removes a reviewer from a call: the appointment and their assignments in
// the call go in one transaction, so they lose every application of the call at once
// (their reviews stay on record for staff). Staff. User errors: NOT_FOUND (the call, or
// a person who is not a reviewer of it).
func (s *Service) RemoveReviewer(ctx context.Context, tx *ent.Client, callID, userID pulid.ID) (pulid.ID, error) {
	if err := requireReviewManager(ctx); err != nil {
		return "", err
	}
	c, err := s.lockedCall(ctx, tx, callID)
	if err != nil {
		return "", err
	}
	r, err := tx.CallReviewer.Query().Where(callreviewer.CallID(c.ID), callreviewer.UserID(userID)).Only(ctx)
	if ent.IsNotFound(err) {
		return "", apperr.Invalid(apperr.CodeNotFound, "This person is not a reviewer of the call.", check.Path("userId")...)
	}
	if err != nil {
		return "", fmt.Errorf("appointment: %w", err)
	}
	if _, err := tx.ReviewAssignment.Delete().Where(reviewassignment.ReviewerID(userID),
		reviewassignment.HasApplicationWith(application.CallID(c.ID))).Exec(ctx); err != nil {
		return "", fmt.Errorf("remove assignments: %w", err)
	}
	if err := tx.CallReviewer.DeleteOne(r).Exec(ctx); err != nil {
		return "", fmt.Errorf("remove reviewer: %w", err)
	}
	return r.ID, nil
}

// AssignReviews assigns eligible applications of a call to one of its reviewers (those
// already assigned stay as they are) and emails the reviewer how many are new. Staff.
// User errors: NOT_FOUND (call), INVALID (a reviewer who is not appointed to the call;
// an application that is not an eligible application of the call), CONFLICT_OF_INTEREST
// (the reviewer applied, coordinates a centre the application lists, or declared a
// conflict with it), INVALID_STATE (the call is not CLOSED or in REVIEW, or its aggregate
// is published).
func (s *Service) AssignReviews(ctx context.Context, tx *ent.Client, callID, reviewerID pulid.ID, appIDs []pulid.ID) ([]*ent.ReviewAssignment, error) {
	if err := requireReviewManager(ctx); err != nil {
		return nil, err
	}
	c, err := s.lockedCall(ctx, tx, callID)
	if err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	if err := DecideReview(c.Status, ReviewAssign, ReviewFacts{Published: c.ReviewPublishedAt != nil}); err != nil {
		errs.AddRefusal(err, check.Path("callId")...)
	}
	appointment, err := tx.CallReviewer.Query().Where(callreviewer.CallID(c.ID), callreviewer.UserID(reviewerID)).WithUser().Only(ctx)
	if ent.IsNotFound(err) {
		errs.Add(apperr.CodeInvalid, "This person is not a reviewer of the call; appoint them first.", check.Path("reviewerId")...)
		return nil, errs
	}
	if err != nil {
		return nil, fmt.Errorf("appointment: %w", err)
	}
	apps, err := tx.Application.Query().Where(application.IDIn(appIDs...), application.CallID(c.ID)).
		WithChoices(func(q *ent.ApplicationChoiceQuery) {
			q.WithHostCentre(func(q *ent.HostCentreQuery) { q.WithCoordinators(func(q *ent.UserQuery) { q.Select(user.FieldID) }) })
		}).
		WithReviews(func(q *ent.ReviewQuery) { q.Where(review.ReviewerID(reviewerID), review.Conflict(true)) }).
		WithReviewAssignments(func(q *ent.ReviewAssignmentQuery) { q.Where(reviewassignment.ReviewerID(reviewerID)) }).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("applications: %w", err)
	}
	byID := make(map[pulid.ID]*ent.Application, len(apps))
	for _, a := range apps {
		byID[a.ID] = a
	}
	var fresh []pulid.ID
	for i, id := range appIDs {
		p := check.Path("applicationIds", strconv.Itoa(i))
		a := byID[id]
		switch {
		case a == nil:
			errs.Add(apperr.CodeNotFound, "No such application in this call.", p...)
		case a.Status != application.StatusELIGIBLE:
			errs.Add(apperr.CodeInvalidState, fmt.Sprintf("This application is %s; only eligible applications are reviewed.", a.Status), p...)
		case access.IsPartyToApplication(string(reviewerID), string(a.TraineeID), coordinatorsOf(a)):
			errs.Add(apperr.CodeConflictOfInterest, "The reviewer is the applicant or coordinates a host centre the application lists.", p...)
		case len(a.Edges.Reviews) > 0:
			errs.Add(apperr.CodeConflictOfInterest, "The reviewer declared a conflict of interest with this application.", p...)
		case len(a.Edges.ReviewAssignments) == 0 && !containsID(fresh, id):
			fresh = append(fresh, id)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	me := pulid.ID(viewer.FromContext(ctx).UserID)
	if len(fresh) > 0 {
		creates := make([]*ent.ReviewAssignmentCreate, len(fresh))
		for i, id := range fresh {
			creates[i] = tx.ReviewAssignment.Create().SetApplicationID(id).SetReviewerID(reviewerID).SetAssignedByID(me)
		}
		if err := tx.ReviewAssignment.CreateBulk(creates...).Exec(ctx); err != nil {
			return nil, fmt.Errorf("assign: %w", err)
		}
	}
	all, err := tx.ReviewAssignment.Query().Where(reviewassignment.ReviewerID(reviewerID),
		reviewassignment.HasApplicationWith(application.CallID(c.ID))).Order(reviewassignment.ByID()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("assignments: %w", err)
	}
	if len(fresh) > 0 {
		u := appointment.Edges.User
		err = s.cfg.Notifier.ReviewCommittee(ctx, tx, notify.Recipient{Email: u.Email, Name: u.Name, Suppressed: u.Disabled},
			notify.ReviewCommitteeData{Name: u.Name, CallTitle: c.Title, Assigned: len(fresh), Total: len(all)},
			fmt.Sprintf("review_assigned:%s:%s", appointment.ID, all[len(all)-1].ID))
		if err != nil {
			return nil, err
		}
	}
	return all, nil
}

// coordinatorsOf lists the ids of the coordinators of every centre an application lists
// (loaded with its choices).
func coordinatorsOf(a *ent.Application) []string {
	var ids []string
	for _, ch := range a.Edges.Choices {
		if ch.Edges.HostCentre == nil {
			continue
		}
		for _, u := range ch.Edges.HostCentre.Edges.Coordinators {
			ids = append(ids, string(u.ID))
		}
	}
	return ids
}

func containsID(ids []pulid.ID, id pulid.ID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// PublishReviewAggregate publishes a call's review aggregate: its reviewers then see the
// aggregated scores of the applications assigned to them, and scores are final. Staff.
// User errors: NOT_FOUND, INVALID_STATE (not in REVIEW or RANKING, or already published).
func (s *Service) PublishReviewAggregate(ctx context.Context, tx *ent.Client, callID pulid.ID) (*ent.Call, error) {
	if err := requireReviewManager(ctx); err != nil {
		return nil, err
	}
	c, err := s.lockedCall(ctx, tx, callID)
	if err != nil {
		return nil, err
	}
	if err := DecideReview(c.Status, ReviewPublish, ReviewFacts{Published: c.ReviewPublishedAt != nil}); err != nil {
		return nil, apperr.OnField(err, check.Path("callId")...)
	}
	n, err := tx.Call.Update().Where(call.ID(c.ID), call.ReviewPublishedAtIsNil()).SetReviewPublishedAt(s.cfg.Now()).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("publish aggregate: %w", err)
	}
	if n == 0 {
		return nil, apperr.LostRace("call")
	}
	return tx.Call.Get(ctx, c.ID)
}

// Reviewers returns the appointments of each call, as the caller may see them (staff all,
// a reviewer their own), in one query.
func (s *Service) Reviewers(ctx context.Context, callIDs []pulid.ID) (map[pulid.ID][]*ent.CallReviewer, error) {
	rows, err := s.cfg.Client.CallReviewer.Query().Where(callreviewer.CallIDIn(callIDs...)).
		Order(callreviewer.ByCreatedAt(), callreviewer.ByID()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("reviewers: %w", err)
	}
	out := make(map[pulid.ID][]*ent.CallReviewer, len(callIDs))
	for _, r := range rows {
		out[r.CallID] = append(out[r.CallID], r)
	}
	return out, nil
}

// ReviewAssignments returns the assignments of each call's applications as the caller may
// see them (staff all, a reviewer their own while appointed), in one query.
func (s *Service) ReviewAssignments(ctx context.Context, callIDs []pulid.ID) (map[pulid.ID][]*ent.ReviewAssignment, error) {
	rows, err := s.cfg.Client.ReviewAssignment.Query().
		Where(reviewassignment.HasApplicationWith(application.CallIDIn(callIDs...))).
		WithApplication(func(q *ent.ApplicationQuery) { q.Select(application.FieldID, application.FieldCallID) }).
		Order(reviewassignment.ByID()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("assignments: %w", err)
	}
	out := make(map[pulid.ID][]*ent.ReviewAssignment, len(callIDs))
	for _, r := range rows {
		if a := r.Edges.Application; a != nil {
			out[a.CallID] = append(out[a.CallID], r)
		}
	}
	return out, nil
}

// standing loads the caller's place in the review of an application: appointed to its
// call, assigned it, recused from it. These are facts about the caller's own rows, read
// for the rule (viewer.ForFacts); nothing read here is returned.
func (s *Service) standing(ctx context.Context, tx *ent.Client, a *ent.Application) (access.ReviewerStanding, error) {
	me := pulid.ID(viewer.FromContext(ctx).UserID)
	facts := viewer.ForFacts(ctx)
	var st access.ReviewerStanding
	var err error
	if st.Appointed, err = tx.CallReviewer.Query().Where(callreviewer.CallID(a.CallID), callreviewer.UserID(me)).Exist(facts); err != nil {
		return st, fmt.Errorf("appointment: %w", err)
	}
	if st.Assigned, err = tx.ReviewAssignment.Query().Where(reviewassignment.ApplicationID(a.ID), reviewassignment.ReviewerID(me)).Exist(facts); err != nil {
		return st, fmt.Errorf("assignment: %w", err)
	}
	if st.Recused, err = tx.Review.Query().Where(review.ApplicationID(a.ID), review.ReviewerID(me), review.Conflict(true)).Exist(facts); err != nil {
		return st, fmt.Errorf("recusal: %w", err)
	}
	return st, nil
}
