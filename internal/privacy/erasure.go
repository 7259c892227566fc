package privacy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"entgo.io/contrib/entgql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/document"
	"github.com/gocart-coalition/coalition/ent/erasurerequest"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// ErasuresJobName is the job that erases the people whose erasure is queued.
const ErasuresJobName = "privacy.erasures"

// ErasuresJobInterval is how often the erasures job runs (it is also woken after a
// request or an approval commits in this process).
const ErasuresJobInterval = time.Minute

// maxReason is the longest reason staff may give.
const maxReason = 2000

// Blocker is implemented by a domain whose work in progress for a person needs staff to
// approve their erasure (an application in an open call, an active placement, a role in a
// working group). It is optional: a domain without it never blocks self-service.
type Blocker interface {
	// ErasureBlockers returns one sentence per thing in progress (none when there is
	// nothing), read through client as viewer.ForFacts.
	ErasureBlockers(ctx context.Context, client *ent.Client, p Person) ([]string, error)
}

// RequestErasure asks for person's erasure (the caller's own when person is empty). The
// person themselves and staff may ask (access.CanRequestErasure). When no domain reports
// anything in progress (Blocker) the request is QUEUED at once and the erasures job erases
// the person within minutes (self-service); otherwise it is PENDING, with the blockers,
// until staff decide. A request while one is open returns that one. User error: NOT_FOUND
// for an unknown person.
func (s *Service) RequestErasure(ctx context.Context, tx *ent.Client, person pulid.ID) (*ent.ErasureRequest, error) {
	if err := access.RequireSignedIn(ctx, "ask for an erasure"); err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	if person == "" {
		person = pulid.ID(v.UserID)
	}
	if err := access.RequireThat(ctx, access.CanRequestErasure(v, string(person)), "ask for an erasure", "the person themselves or staff may ask for a person's erasure"); err != nil {
		return nil, err
	}
	facts := viewer.ForFacts(ctx)
	u, err := tx.User.Query().Where(user.ID(person)).Only(facts)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid(apperr.CodeNotFound, "No such person.", "input", "personId")
	}
	if err != nil {
		return nil, fmt.Errorf("read person %s: %w", person, err)
	}
	if r, err := tx.ErasureRequest.Query().
		Where(erasurerequest.PersonID(person), erasurerequest.StatusIn(erasurerequest.StatusPENDING, erasurerequest.StatusQUEUED)).
		Only(ctx); err == nil {
		return r, nil
	} else if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("find open erasure request: %w", err)
	}
	blockers, err := s.Blockers(facts, tx, Person{ID: u.ID, Email: u.Email})
	if err != nil {
		return nil, err
	}
	by := pulid.ID(v.UserID)
	if by == "" {
		by = person // the system asking (CLI): recorded as the person's own request
	}
	c := tx.ErasureRequest.Create().SetPersonID(person).SetRequestedByID(by).SetSelfService(len(blockers) == 0)
	if len(blockers) == 0 {
		c.SetStatus(erasurerequest.StatusQUEUED)
	} else {
		c.SetBlockers(blockers)
	}
	r, err := c.Save(ctx)
	if err != nil {
		return nil, db.Conflict(err, "an erasure of this person was requested at the same time", "create erasure request")
	}
	if len(blockers) == 0 {
		s.wakeAfterCommit(ctx)
	}
	return r, nil
}

// Blockers asks every domain that implements Blocker what it has in progress for p.
func (s *Service) Blockers(ctx context.Context, client *ent.Client, p Person) ([]string, error) {
	var out []string
	for _, d := range s.cfg.Registry.Domains() {
		b, ok := d.(Blocker)
		if !ok {
			continue
		}
		got, err := b.ErasureBlockers(ctx, client, p)
		if err != nil {
			return nil, fmt.Errorf("%s: erasure blockers: %w", d.Name(), err)
		}
		out = append(out, got...)
	}
	return out, nil
}

// ApproveErasure approves a PENDING erasure (staff): it is QUEUED and the job erases the
// person within minutes. note is kept as the request's reason. User errors: NOT_FOUND for
// an unknown request, INVALID_STATE for one already decided, TOO_LONG for a long note.
func (s *Service) ApproveErasure(ctx context.Context, tx *ent.Client, id pulid.ID, note string) (*ent.ErasureRequest, error) {
	r, err := s.decide(ctx, tx, id, note, erasurerequest.StatusQUEUED)
	if err != nil {
		return nil, err
	}
	s.wakeAfterCommit(ctx)
	return r, nil
}

// RefuseErasure refuses a PENDING erasure (staff) with a reason (required). User errors as
// ApproveErasure, and REQUIRED for an empty reason.
func (s *Service) RefuseErasure(ctx context.Context, tx *ent.Client, id pulid.ID, reason string) (*ent.ErasureRequest, error) {
	return s.decide(ctx, tx, id, reason, erasurerequest.StatusREFUSED)
}

func (s *Service) decide(ctx context.Context, tx *ent.Client, id pulid.ID, reason string, to erasurerequest.Status) (*ent.ErasureRequest, error) {
	what := "approve erasures"
	if to == erasurerequest.StatusREFUSED {
		what = "refuse erasures"
	}
	if err := access.Require(ctx, access.CanDecideErasure, what); err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	var errs apperr.UserErrors
	switch {
	case to == erasurerequest.StatusREFUSED && reason == "":
		errs.Add(apperr.CodeRequired, "Say why the erasure is refused: the person reads it with their request.", "input", "reason")
	case len([]rune(reason)) > maxReason:
		errs.Add(apperr.CodeTooLong, fmt.Sprintf("The reason must be at most %d characters.", maxReason), "input", "reason")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	r, err := tx.ErasureRequest.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid(apperr.CodeNotFound, "No such erasure request.", "input", "id")
	}
	if err != nil {
		return nil, fmt.Errorf("read erasure request: %w", err)
	}
	if r.Status != erasurerequest.StatusPENDING {
		return nil, apperr.Invalid(apperr.CodeInvalidState, fmt.Sprintf("This erasure request is %s, not waiting for a decision.", r.Status), "input", "id")
	}
	v := viewer.FromContext(ctx)
	u := tx.ErasureRequest.Update().Where(erasurerequest.ID(id), erasurerequest.StatusEQ(erasurerequest.StatusPENDING)).
		SetStatus(to).SetReason(reason).SetDecidedAt(s.now())
	if v.UserID != "" {
		u.SetDecidedByID(pulid.ID(v.UserID))
	}
	n, err := u.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("decide erasure request: %w", err)
	}
	if n == 0 {
		return nil, apperr.LostRace("erasure request")
	}
	return tx.ErasureRequest.Get(ctx, id)
}

// wakeAfterCommit wakes the erasures job once ctx's transaction commits.
func (s *Service) wakeAfterCommit(ctx context.Context) {
	t := ent.TxFromContext(ctx)
	if t == nil {
		s.cfg.WakeErasures()
		return
	}
	t.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				s.cfg.WakeErasures()
			}
			return err
		})
	})
}

// ErasureRequests is a page of erasure requests, newest first: the person's own when
// person is set (the person and staff), every one (staff) otherwise, narrowed to status
// when it is set.
func (s *Service) ErasureRequests(ctx context.Context, person pulid.ID, status *erasurerequest.Status, p db.Page) (*ent.ErasureRequestConnection, error) {
	if err := access.RequireSignedIn(ctx, "read erasure requests"); err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	q := s.cfg.Client.ErasureRequest.Query()
	if person != "" {
		if err := access.RequireThat(ctx, access.CanRequestErasure(v, string(person)), "read erasure requests", "the person themselves or staff may read their erasure requests"); err != nil {
			return nil, err
		}
		q.Where(erasurerequest.PersonID(person))
	} else if err := access.Require(ctx, access.CanDecideErasure, "read every erasure request"); err != nil {
		return nil, err
	}
	if status != nil {
		q.Where(erasurerequest.StatusEQ(*status))
	}
	order := &ent.ErasureRequestOrder{Field: ent.ErasureRequestOrderFieldCreatedAt, Direction: entgql.OrderDirectionDesc}
	conn, err := q.Paginate(ctx, p.After, p.First, p.Before, p.Last, ent.WithErasureRequestOrder(order))
	if err != nil {
		return nil, fmt.Errorf("erasure requests: %w", err)
	}
	return conn, nil
}

// RunErasures is the erasures job: it erases the person of every QUEUED request, each in
// one transaction (every domain's Erase; any error rolls that person's erasure back and
// it is tried again at the next run), then deletes their documents from the store. It
// returns how many people it erased.
func (s *Service) RunErasures(ctx context.Context) (int, error) {
	ctx = viewer.NewSystemContext(ctx)
	queued, err := s.cfg.Client.ErasureRequest.Query().
		Where(erasurerequest.StatusEQ(erasurerequest.StatusQUEUED)).
		Order(ent.Asc(erasurerequest.FieldCreatedAt), ent.Asc(erasurerequest.FieldID)).
		All(ctx)
	if err != nil {
		return 0, fmt.Errorf("list queued erasures: %w", err)
	}
	var errs []error
	n := 0
	for _, r := range queued {
		if err := s.erase(ctx, r); err != nil {
			s.log.ErrorContext(ctx, "erase person", "request", r.ID, "err", err)
			errs = append(errs, fmt.Errorf("erasure %s: %w", r.ID, err))
			msg := err.Error()
			if len(msg) > maxReason {
				msg = msg[:maxReason]
			}
			if _, uerr := s.cfg.Client.ErasureRequest.Update().
				Where(erasurerequest.ID(r.ID), erasurerequest.StatusEQ(erasurerequest.StatusQUEUED)).
				SetLastError(msg).Save(ctx); uerr != nil {
				errs = append(errs, uerr)
			}
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// erase erases r's person in one transaction, then deletes the documents the domains
// named. A document that cannot be deleted now is left to the documents job, which
// deletes every stored file no row refers to (the rows no longer do).
func (s *Service) erase(ctx context.Context, r *ent.ErasureRequest) error {
	u, err := s.cfg.Client.User.Get(ctx, r.PersonID)
	if err != nil {
		return fmt.Errorf("load person: %w", err)
	}
	p := Person{ID: u.ID, Email: u.Email, Name: u.Name}
	var docs []Document
	err = db.InTx(ctx, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
		rows := 0
		for _, d := range s.cfg.Registry.Domains() {
			e, err := d.Erase(ctx, tx, p)
			if err != nil {
				return fmt.Errorf("erase %s: %w", d.Name(), err)
			}
			rows += e.Rows
			docs = append(docs, e.Documents...)
		}
		n, err := tx.ErasureRequest.Update().
			Where(erasurerequest.ID(r.ID), erasurerequest.StatusEQ(erasurerequest.StatusQUEUED)).
			SetStatus(erasurerequest.StatusERASED).SetErasedAt(s.now()).SetRows(rows).SetLastError("").
			Save(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return apperr.LostRace("erasure request")
		}
		return audit.Record(ctx, tx, s.now(), audit.Event{
			Action: "privacy.erase", ObjectType: "ErasureRequest", ObjectID: string(r.ID),
			Details: map[string]any{"rows": rows, "documents": len(docs)},
		})
	})
	if err != nil {
		return err
	}
	for _, d := range docs {
		// The same file may have been uploaded by someone else too: it stays while a
		// row refers to it.
		if kept, err := s.cfg.Client.Document.Query().Where(document.Sha256(d.SHA256)).Exist(ctx); err != nil || kept {
			continue
		}
		if err := s.cfg.Documents.Remove(d.SHA256); err != nil {
			s.log.WarnContext(ctx, "delete an erased person's document (the documents job retries)", "request", r.ID, "err", err)
		}
	}
	return nil
}
