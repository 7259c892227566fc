package programme

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/applicationchoice"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/document"
	"github.com/gocart-coalition/coalition/ent/hostranking"
	"github.com/gocart-coalition/coalition/ent/matchoverride"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/refereerequest"
	"github.com/gocart-coalition/coalition/ent/review"
	"github.com/gocart-coalition/coalition/ent/reviewassignment"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// DefaultRetentionMonths is how many months after a call ends its unsuccessful
// applications (with their documents and referee letters) are kept, without configuration.
const DefaultRetentionMonths = 12

// placedStatuses are the placement statuses that make an application successful (placed,
// or an offer still open): such an application is kept whole, referee letters included
// (they are part of the record of the selection; the person's erasure deletes them).
var placedStatuses = []placement.Status{
	placement.StatusOFFERED, placement.StatusACCEPTED, placement.StatusCONFIRMED, placement.StatusCOMPLETED,
}

// Retained is what one ApplyRetention run did.
type Retained struct {
	// Warned is how many trainees were warned (one per application).
	Warned int
	// Applications is how many unsuccessful applications were deleted.
	Applications int
	// Letters is how many referee letters were deleted with the unsuccessful applications.
	Letters int
	// Files is how many stored documents were deleted from the document store.
	Files int
}

// RetentionDue is when the retention rule of an application of c falls due: RetentionMonths
// after the call was completed or cancelled (its updated_at for a call that ended before
// ended_at was recorded); ok is false while c has not ended.
func (s *Service) RetentionDue(c *ent.Call) (due time.Time, ok bool) {
	if c.Status != call.StatusCOMPLETED && c.Status != call.StatusCANCELLED {
		return time.Time{}, false
	}
	ended := c.UpdatedAt
	if c.EndedAt != nil {
		ended = *c.EndedAt
	}
	return ended.AddDate(0, s.cfg.RetentionMonths, 0), true
}

// ApplyRetention applies the applications' retention rule (job retention.applications,
// daily). For every call completed or cancelled at least RetentionMonths minus a month ago:
//
//   - an application that was not placed (no placement OFFERED, ACCEPTED, CONFIRMED or
//     COMPLETED) gets its trainee a warning email a month before the deletion, once:
//     retention_warned_at records it, set by a conditional update in the email's
//     transaction (so two processes send one);
//   - from the later of the due day and a month after the warning, it is deleted with its
//     host choices, documents, referee requests and letters, reviews, review assignments,
//     host rankings, overrides and lapsed placements, and the call's applications_deleted
//     grows by one (its totals stay right). One transaction per application, with an audit
//     event naming only ids and counts; the stored files no document row refers to any
//     more are deleted after the commit.
//
// A placed application is kept whole, its referee letters included: the rule
// ("unsuccessful applications and their documents …; referee letters likewise") is about
// the unsuccessful ones, and a placed application's letters are part of the record of why
// it was selected. They go when the person's data is erased.
//
// A second run finds nothing more to do.
func (s *Service) ApplyRetention(ctx context.Context) (Retained, error) {
	sys := viewer.NewSystemContext(ctx)
	now := s.cfg.Now()
	var out Retained
	calls, err := s.cfg.Client.Call.Query().
		Where(call.StatusIn(call.StatusCOMPLETED, call.StatusCANCELLED)).Order(call.ByID()).All(sys)
	if err != nil {
		return out, fmt.Errorf("find ended calls: %w", err)
	}
	for _, c := range calls {
		due, _ := s.RetentionDue(c)
		if now.Before(due.AddDate(0, -1, 0)) {
			continue
		}
		if err := s.retainCall(sys, c, due, &out); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (s *Service) retainCall(ctx context.Context, c *ent.Call, due time.Time, out *Retained) error {
	now := s.cfg.Now()
	placed, err := s.cfg.Client.Placement.Query().
		Where(placement.CallID(c.ID), placement.StatusIn(placedStatuses...)).
		Select(placement.FieldApplicationID).Strings(ctx)
	if err != nil {
		return fmt.Errorf("placed applications of call %s: %w", c.ID, err)
	}
	isPlaced := map[pulid.ID]bool{}
	for _, id := range placed {
		isPlaced[pulid.ID(id)] = true
	}
	apps, err := s.cfg.Client.Application.Query().Where(application.CallID(c.ID)).
		WithTrainee().
		WithDocuments(func(q *ent.DocumentQuery) { q.Order(document.ByKind(), document.ByID()) }).
		WithRefereeRequests().
		Order(application.ByID()).All(ctx)
	if err != nil {
		return fmt.Errorf("applications of call %s: %w", c.ID, err)
	}
	for _, a := range apps {
		if isPlaced[a.ID] {
			continue // kept whole, referee letters included
		}
		if a.RetentionWarnedAt == nil {
			if err := s.warnRetention(ctx, c, a, latest(due, now.AddDate(0, 1, 0))); err != nil {
				return err
			}
			out.Warned++
			continue
		}
		if now.Before(latest(due, a.RetentionWarnedAt.AddDate(0, 1, 0))) {
			continue
		}
		var hashes []string
		letters := 0
		err := db.InTx(ctx, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
			var err error
			if hashes, letters, err = deleteApplication(ctx, tx, a); err != nil {
				return err
			}
			return audit.Record(ctx, tx, now, audit.Event{
				Action: "retention.application_deleted", ObjectType: "Application", ObjectID: string(a.ID),
				Details: map[string]any{"call": string(c.ID), "documents": len(hashes), "referee_letters": letters},
			})
		})
		if errors.Is(err, errGone) {
			continue // another process deleted it meanwhile
		}
		if err != nil {
			return fmt.Errorf("retention of application %s: %w", a.ID, err)
		}
		out.Applications++
		out.Letters += letters
		n, err := s.removeUnreferenced(ctx, hashes)
		out.Files += n
		if err != nil {
			return err
		}
	}
	return nil
}

// warnRetention emails the trainee that a will be deleted on the day `on`, and records
// that it did, once: the update is conditional on no warning recorded yet.
func (s *Service) warnRetention(ctx context.Context, c *ent.Call, a *ent.Application, on time.Time) error {
	t := a.Edges.Trainee
	data := notify.RetentionWarningData{
		Name: t.Name, CallTitle: c.Title, Letters: len(a.Edges.RefereeRequests),
		On: on.UTC().Format(time.DateOnly),
	}
	for _, d := range a.Edges.Documents {
		if d.RefereeRequestID == nil {
			data.Documents = append(data.Documents, documentName(d.Kind)+": "+d.Filename)
		}
	}
	return db.InTx(ctx, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
		n, err := tx.Application.Update().
			Where(application.ID(a.ID), application.RetentionWarnedAtIsNil()).
			SetRetentionWarnedAt(s.cfg.Now()).Save(ctx)
		if err != nil || n == 0 || t.Disabled {
			return err // another process warned; a disabled account gets no email
		}
		return s.cfg.Notifier.RetentionWarning(ctx, tx, notify.Recipient{Email: t.Email, Name: t.Name}, data,
			"retention_warning:"+string(a.ID))
	})
}

// errGone rolls back the deletion of an application another process deleted meanwhile.
var errGone = errors.New("application deleted meanwhile")

// deleteApplication deletes a and every row that refers to it, and counts it on its call.
// It returns the stored files of its documents and how many referee letters it had.
func deleteApplication(ctx context.Context, tx *ent.Client, a *ent.Application) ([]string, int, error) {
	hashes, letters, err := documentsOf(ctx, tx, a.ID)
	if err != nil {
		return nil, 0, err
	}
	steps := []func() (int, error){
		func() (int, error) {
			return tx.ReviewAssignment.Delete().Where(reviewassignment.ApplicationID(a.ID)).Exec(ctx)
		},
		func() (int, error) { return tx.Review.Delete().Where(review.ApplicationID(a.ID)).Exec(ctx) },
		func() (int, error) { return tx.HostRanking.Delete().Where(hostranking.ApplicationID(a.ID)).Exec(ctx) },
		func() (int, error) {
			return tx.MatchOverride.Delete().Where(matchoverride.ApplicationID(a.ID)).Exec(ctx)
		},
		func() (int, error) {
			return tx.ApplicationChoice.Delete().Where(applicationchoice.ApplicationID(a.ID)).Exec(ctx)
		},
		func() (int, error) {
			return tx.Placement.Delete().
				Where(placement.ApplicationID(a.ID), placement.StatusNotIn(placedStatuses...)).Exec(ctx)
		},
		func() (int, error) { return tx.Document.Delete().Where(document.ApplicationID(a.ID)).Exec(ctx) },
		func() (int, error) {
			return tx.RefereeRequest.Delete().Where(refereerequest.ApplicationID(a.ID)).Exec(ctx)
		},
	}
	for _, step := range steps {
		if _, err := step(); err != nil {
			return nil, 0, err
		}
	}
	n, err := tx.Application.Delete().Where(application.ID(a.ID), application.RetentionWarnedAtNotNil()).Exec(ctx)
	if err != nil {
		return nil, 0, err
	}
	if n == 0 {
		return nil, 0, errGone
	}
	if err := tx.Call.UpdateOneID(a.CallID).AddApplicationsDeleted(1).Exec(ctx); err != nil {
		return nil, 0, err
	}
	return hashes, letters, nil
}

// documentsOf returns the stored files of the application's documents and how many of
// them are referee letters.
func documentsOf(ctx context.Context, tx *ent.Client, app pulid.ID) ([]string, int, error) {
	docs, err := tx.Document.Query().Where(document.ApplicationID(app)).All(ctx)
	if err != nil {
		return nil, 0, err
	}
	hashes := make([]string, 0, len(docs))
	letters := 0
	for _, d := range docs {
		hashes = append(hashes, d.Sha256)
		if d.RefereeRequestID != nil {
			letters++
		}
	}
	return hashes, letters, nil
}

// removeUnreferenced deletes the stored files among hashes that no document row refers to
// (the store deduplicates, so another application may hold the same file). A file left
// behind by a failure here is deleted later by programme.documents_gc.
func (s *Service) removeUnreferenced(ctx context.Context, hashes []string) (int, error) {
	n := 0
	for _, h := range hashes {
		used, err := s.cfg.Client.Document.Query().Where(document.Sha256(h)).Exist(ctx)
		if err != nil {
			return n, fmt.Errorf("check document %s: %w", h, err)
		}
		if used || !s.cfg.Documents.Exists(h) {
			continue
		}
		if err := s.cfg.Documents.Remove(h); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
