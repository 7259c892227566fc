package jobs

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/job"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Status is what operators see of one job (`coalition jobs`).
type Status struct {
	// Name, Interval and Timeout are as registered.
	Name     string
	Interval time.Duration
	Timeout  time.Duration
	// LastStartedAt and LastFinishedAt are nil before the first run (UTC).
	LastStartedAt  *time.Time
	LastFinishedAt *time.Time
	// LastOutcome is "ok", "error", or "" before the first completed run.
	LastOutcome string
	// LastError is the error of the last run when it failed.
	LastError string
	// LastDuration is how long the last completed run took.
	LastDuration time.Duration
	// Runs and Failures count completed runs and those that ended in an error.
	Runs     int64
	Failures int64
	// LeaseOwner and LeaseUntil name the process running the job now, if any.
	LeaseOwner string
	LeaseUntil *time.Time
	// Running reports whether a lease is held and has not run out.
	Running bool
	// NextDue is the earliest time the job will start again (its last start plus its
	// interval; the zero time if it never ran, i.e. due at once).
	NextDue time.Time
}

// List returns the status of every registered job, by name.
func (r *Runner) List(ctx context.Context) ([]Status, error) {
	r.mu.Lock()
	regs := make([]Job, 0, len(r.jobs))
	for _, j := range r.jobs {
		regs = append(regs, j)
	}
	r.mu.Unlock()
	slices.SortFunc(regs, func(a, b Job) int { return cmp.Compare(a.Name, b.Name) })
	names := make([]string, len(regs))
	for i, j := range regs {
		names[i] = j.Name
	}
	rows, err := r.client.Job.Query().Where(job.NameIn(names...)).All(viewer.NewSystemContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	byName := make(map[string]*ent.Job, len(rows))
	for _, row := range rows {
		byName[row.Name] = row
	}
	now := r.clock()
	out := make([]Status, len(regs))
	for i, j := range regs {
		st := Status{Name: j.Name, Interval: j.Interval, Timeout: j.timeout()}
		if row := byName[j.Name]; row != nil {
			st.LastStartedAt = utc(row.LastStartedAt)
			st.LastFinishedAt = utc(row.LastFinishedAt)
			if row.LastOutcome != nil {
				st.LastOutcome = row.LastOutcome.String()
			}
			st.LastError = row.LastError
			st.LastDuration = time.Duration(row.LastDurationMs) * time.Millisecond
			st.Runs, st.Failures = row.Runs, row.Failures
			st.LeaseOwner = row.LeaseOwner
			st.LeaseUntil = utc(row.LeaseUntil)
			st.Running = row.LeaseUntil != nil && !row.LeaseUntil.Before(now)
			if row.LastStartedAt != nil {
				st.NextDue = row.LastStartedAt.UTC().Add(j.Interval)
			}
		}
		out[i] = st
	}
	return out, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
