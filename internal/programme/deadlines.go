package programme

import (
	"context"
	"fmt"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/applicationchoice"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/hostranking"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/groups"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// CallDeadlinesJobName is the name of the job that applies a call's deadlines
// (CloseDue): every 5 minutes, so a call's status follows its deadline within minutes.
const CallDeadlinesJobName = "programme.call_deadlines"

// CallDeadlinesInterval is how often the deadline job runs. The deadline itself is
// enforced at the instant by the steps that depend on it (AcceptingApplications, the
// ranking check), so the job only records the transition and tells staff; 5 minutes keeps
// what the API shows close to the deadline for the price of one indexed query.
const CallDeadlinesInterval = 5 * time.Minute

// CloseDue applies the time-driven transitions of calls, each through the transition table
// and a conditional update in its own transaction:
//
//   - an OPEN call whose application deadline has passed closes (CallDeadline: OPEN →
//     CLOSED, with no reason, as staff closing it on time would);
//   - a call in RANKING whose ranking deadline has passed has its ranking closed
//     (CallCloseRanking: ranking_closed_at is set, and host rankings no longer change).
//
// Staff get a call_deadline email about each (what was submitted or ranked, what comes
// next). The update is conditional on the state read (and the deadline), and the email's
// dedupe key names the call, the kind and the recipient, so a second run, or a second
// process running at the same time, changes nothing and sends nothing. It returns how many
// transitions it applied.
func (s *Service) CloseDue(ctx context.Context) (int, error) {
	sys := viewer.NewSystemContext(ctx)
	now := s.cfg.Now()
	due, err := s.cfg.Client.Call.Query().Where(call.Or(
		call.And(call.StatusEQ(call.StatusOPEN), call.ClosesAtLTE(now)),
		call.And(call.StatusEQ(call.StatusRANKING), call.RankingDeadlineLTE(now), call.RankingClosedAtIsNil()),
	)).Order(call.ByID()).All(sys)
	if err != nil {
		return 0, fmt.Errorf("find calls past a deadline: %w", err)
	}
	n := 0
	for _, c := range due {
		ev := CallDeadline
		if c.Status == call.StatusRANKING {
			ev = CallCloseRanking
		}
		to, err := NextCallStatus(c.Status, ev, CallFactsOf(c, now))
		if err != nil {
			continue // the query selects what the table allows; nothing to do otherwise
		}
		err = db.InTx(sys, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
			done, err := s.applyDeadline(ctx, tx, c, ev, to, now)
			if done {
				n++
			}
			return err
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// applyDeadline applies ev (decided: to) to c, as read, and emails staff; it reports
// whether it changed anything (false when another process did it first).
func (s *Service) applyDeadline(ctx context.Context, tx *ent.Client, c *ent.Call, ev CallEvent, to call.Status, now time.Time) (bool, error) {
	data := notify.CallDeadlineData{CallTitle: c.Title}
	switch ev {
	case CallDeadline:
		changed, err := tx.Call.Update().Where(call.ID(c.ID), call.StatusEQ(c.Status), call.ClosesAtLTE(now)).
			SetStatus(to).SetStatusReason("").Save(ctx)
		if err != nil || changed == 0 {
			return false, err
		}
		data.Kind, data.Deadline = notify.CallApplicationsClosed, LocalTime(c, c.ClosesAt)+" ("+c.TimeZone+")"
		if data.Submitted, err = tx.Application.Query().Where(application.CallID(c.ID), application.StatusEQ(application.StatusSUBMITTED)).Count(ctx); err != nil {
			return false, fmt.Errorf("count submitted applications: %w", err)
		}
		if data.Drafts, err = tx.Application.Query().Where(application.CallID(c.ID), application.StatusEQ(application.StatusDRAFT)).Count(ctx); err != nil {
			return false, fmt.Errorf("count drafts: %w", err)
		}
	case CallCloseRanking:
		changed, err := tx.Call.Update().Where(call.ID(c.ID), call.StatusEQ(c.Status), call.RankingClosedAtIsNil(), call.RankingDeadlineLTE(now)).
			SetRankingClosedAt(now.UTC()).Save(ctx)
		if err != nil || changed == 0 {
			return false, err
		}
		data.Kind, data.Deadline = notify.CallRankingClosed, LocalTime(c, *c.RankingDeadline)+" ("+c.TimeZone+")"
		var centres []pulid.ID
		err = tx.ApplicationChoice.Query().
			Where(applicationchoice.HasApplicationWith(application.CallID(c.ID), application.StatusEQ(application.StatusELIGIBLE))).
			Unique(true).Select(applicationchoice.FieldHostCentreID).Scan(ctx, &centres)
		if err != nil {
			return false, fmt.Errorf("centres with applicants: %w", err)
		}
		var ranked []pulid.ID
		err = tx.HostRanking.Query().Where(hostranking.CallID(c.ID)).Unique(true).Select(hostranking.FieldHostCentreID).Scan(ctx, &ranked)
		if err != nil {
			return false, fmt.Errorf("centres that ranked: %w", err)
		}
		data.Centres, data.Ranked = len(centres), len(ranked)
	default:
		return false, fmt.Errorf("not a deadline: %s", ev)
	}
	staff, err := groups.ActiveStaff(ctx, tx)
	if err != nil {
		return false, err
	}
	for _, u := range staff {
		d := data
		d.Name = u.Name
		key := fmt.Sprintf("call_deadline:%s:%s:%s", data.Kind, c.ID, u.ID)
		if err := s.cfg.Notifier.CallDeadline(ctx, tx, notify.Recipient{Email: u.Email, Name: u.Name}, d, key); err != nil {
			return false, err
		}
	}
	return true, nil
}
