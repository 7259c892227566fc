package outbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// States lists every state of an outbox row, in lifecycle order.
var States = []string{
	outboxmessage.StateQueued.String(),
	outboxmessage.StateSending.String(),
	outboxmessage.StateSent.String(),
	outboxmessage.StateFailed.String(),
	outboxmessage.StateSuppressed.String(),
	outboxmessage.StateCancelled.String(),
	outboxmessage.StatePaused.String(),
}

// Errors of the operator functions. They are wrapped in apperr errors of kind NotFound and
// Conflict respectively.
var (
	// ErrMessageNotFound: no outbox row has the id.
	ErrMessageNotFound = errors.New("outbox message not found")
	// ErrNotRetryable: the row is neither failed nor cancelled.
	ErrNotRetryable = errors.New("outbox message is not failed or cancelled")
)

// StatusReport is the outbox at a glance (`coalition mail status`, the depth gauges).
type StatusReport struct {
	// Counts has every state of States, 0 when no row is in it.
	Counts map[string]int
	// ByLane has the counts of every state of States per lane of Lanes.
	ByLane map[string]map[string]int
	// Due counts rows the worker would claim now: queued and due, or sending with a
	// lease that ran out.
	Due int
	// OldestQueued is when the oldest queued row was enqueued, nil when none is queued.
	OldestQueued *time.Time
}

// Status reports the outbox's rows by state as of now.
func Status(ctx context.Context, client *ent.Client, now time.Time) (StatusReport, error) {
	ctx = viewer.NewSystemContext(ctx)
	now = utc(now)
	var groups []struct {
		State string `json:"state"`
		Lane  string `json:"lane"`
		Count int    `json:"count"`
	}
	err := client.OutboxMessage.Query().
		GroupBy(outboxmessage.FieldState, outboxmessage.FieldLane).
		Aggregate(ent.Count()).
		Scan(ctx, &groups)
	if err != nil {
		return StatusReport{}, fmt.Errorf("outbox status: %w", err)
	}
	rep := StatusReport{Counts: make(map[string]int, len(States))}
	for _, s := range States {
		rep.Counts[s] = 0
	}
	rep.ByLane = make(map[string]map[string]int, len(Lanes))
	for _, l := range Lanes {
		rep.ByLane[l] = make(map[string]int, len(States))
		for _, st := range States {
			rep.ByLane[l][st] = 0
		}
	}
	for _, g := range groups {
		rep.Counts[g.State] += g.Count
		if rep.ByLane[g.Lane] != nil {
			rep.ByLane[g.Lane][g.State] = g.Count
		}
	}
	rep.Due, err = client.OutboxMessage.Query().Where(dueNow(now)).Count(ctx)
	if err != nil {
		return StatusReport{}, fmt.Errorf("outbox status: %w", err)
	}
	if rep.Counts[outboxmessage.StateQueued.String()] > 0 {
		oldest, err := client.OutboxMessage.Query().
			Where(outboxmessage.StateEQ(outboxmessage.StateQueued)).
			Order(outboxmessage.ByCreatedAt(), outboxmessage.ByID()).
			Select(outboxmessage.FieldID, outboxmessage.FieldCreatedAt).
			First(ctx)
		switch {
		case ent.IsNotFound(err): // sent meanwhile
		case err != nil:
			return StatusReport{}, fmt.Errorf("outbox status: %w", err)
		default:
			t := oldest.CreatedAt.UTC()
			rep.OldestQueued = &t
		}
	}
	return rep, nil
}

// Retry puts the failed or cancelled row id back in the queue, due at now, with a fresh
// budget of attempts. It returns an apperr NotFound error wrapping ErrMessageNotFound for
// an unknown id and an apperr Conflict error wrapping ErrNotRetryable for a row in
// another state.
func Retry(ctx context.Context, client *ent.Client, id string, now time.Time) error {
	ctx = viewer.NewSystemContext(ctx)
	n, err := requeue(client, now).
		Where(outboxmessage.IDEQ(pulid.ID(id)),
			outboxmessage.StateIn(outboxmessage.StateFailed, outboxmessage.StateCancelled)).
		Save(ctx)
	if err != nil {
		return fmt.Errorf("retry outbox message %s: %w", id, err)
	}
	if n == 1 {
		return nil
	}
	row, err := client.OutboxMessage.Get(ctx, pulid.ID(id))
	switch {
	case ent.IsNotFound(err):
		return apperr.Wrap(apperr.NotFound, ErrMessageNotFound, "outbox message %s not found", id)
	case err != nil:
		return fmt.Errorf("retry outbox message %s: %w", id, err)
	}
	return apperr.Wrap(apperr.Conflict, ErrNotRetryable,
		"outbox message %s is %s; only failed or cancelled messages can be retried", id, row.State)
}

// RetryFailed puts every failed row back in the queue, due at now, with a fresh budget of
// attempts, and returns how many it requeued. Cancelled rows stay cancelled: someone
// meant that; retry them one by one with Retry.
func RetryFailed(ctx context.Context, client *ent.Client, now time.Time) (int, error) {
	ctx = viewer.NewSystemContext(ctx)
	n, err := requeue(client, now).
		Where(outboxmessage.StateEQ(outboxmessage.StateFailed)).
		Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("retry failed outbox messages: %w", err)
	}
	return n, nil
}

func requeue(client *ent.Client, now time.Time) *ent.OutboxMessageUpdate {
	return client.OutboxMessage.Update().
		SetState(outboxmessage.StateQueued).
		SetNextAttemptAt(utc(now)).
		SetAttempts(0).
		ClearLeaseUntil().
		ClearLeaseOwner()
}
