package programme

import (
	"context"
	"encoding/json"
	"fmt"

	"entgo.io/ent/dialect/sql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/hostslot"
	"github.com/gocart-coalition/coalition/ent/matchoverride"
	"github.com/gocart-coalition/coalition/ent/matchrun"
	"github.com/gocart-coalition/coalition/ent/predicate"
	"github.com/gocart-coalition/coalition/ent/review"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/matching"
	"github.com/gocart-coalition/coalition/internal/privacy"
)

// redactOthers replaces the person's name and address (values) with privacy.ErasedText
// inside the programme's free text written by other people, which is kept: the reasons
// of staff's match overrides and their copies frozen in match runs, other applications'
// status reasons and motivations, reviews of other applications, slots' notes and withdrawal reasons,
// and calls' descriptions and status reasons. The reason of an override of one of the
// person's own applications (own) is about them and is replaced as a whole, as their
// applications' status reasons are blanked. It returns the rows changed.
func redactOthers(ctx context.Context, c *ent.Client, values []string, own []pulid.ID) (int, error) {
	rows := 0
	mine := map[string]bool{}
	for _, id := range own {
		mine[string(id)] = true
	}

	// Match overrides (reason is immutable for everyone else; erasure is the one writer
	// allowed to change it).
	ovs, err := c.MatchOverride.Query().Where(matchoverride.Or(matchoverride.ApplicationIDIn(own...),
		privacy.Naming[predicate.MatchOverride](values, matchoverride.FieldReason))).All(ctx)
	if err != nil {
		return rows, fmt.Errorf("match overrides naming the person: %w", err)
	}
	for _, o := range ovs {
		reason, changed := privacy.Redact(o.Reason, values)
		if mine[string(o.ApplicationID)] {
			reason, changed = privacy.ErasedText, o.Reason != privacy.ErasedText
		}
		if !changed {
			continue
		}
		if err := c.MatchOverride.Update().Where(matchoverride.ID(o.ID)).
			Modify(func(u *sql.UpdateBuilder) { u.Set(matchoverride.FieldReason, reason) }).Exec(ctx); err != nil {
			return rows, fmt.Errorf("redact a match override: %w", err)
		}
		rows++
	}

	// Their copies in match runs (published or not: an override removed since still has
	// its copy). A run whose stored hash its stored input reproduces is hashed again, so
	// the hash stays that of what is stored (and a run not yet published can still be
	// published when nothing else changed).
	ownIDs := make([]string, 0, len(own))
	for id := range mine {
		ownIDs = append(ownIDs, id)
	}
	runs, err := c.MatchRun.Query().Where(privacy.Naming[predicate.MatchRun](append(ownIDs, values...), matchrun.FieldOverrides)).WithInput().All(ctx)
	if err != nil {
		return rows, fmt.Errorf("match runs naming the person: %w", err)
	}
	for _, r := range runs {
		redacted := make([]vocab.Override, len(r.Overrides))
		changed := false
		for i, o := range r.Overrides {
			redacted[i] = o
			if mine[o.ApplicationID] {
				redacted[i].Reason = privacy.ErasedText
			} else {
				redacted[i].Reason, _ = privacy.Redact(o.Reason, values)
			}
			changed = changed || redacted[i].Reason != o.Reason
		}
		if !changed {
			continue
		}
		b, err := json.Marshal(redacted)
		if err != nil {
			return rows, fmt.Errorf("encode a run's overrides: %w", err)
		}
		hash := r.InputHash
		if in := r.Edges.Input; in == nil {
			// No input to hash again (none is stored without one).
		} else if was, err := matching.InputHash(in.Instance, r.Pins, r.Overrides, r.Version); err == nil && was == r.InputHash {
			if hash, err = matching.InputHash(in.Instance, r.Pins, redacted, r.Version); err != nil {
				return rows, fmt.Errorf("hash a run's input: %w", err)
			}
		}
		if err := c.MatchRun.Update().Where(matchrun.ID(r.ID)).Modify(func(u *sql.UpdateBuilder) {
			u.Set(matchrun.FieldOverrides, b).Set(matchrun.FieldInputHash, hash)
		}).Exec(ctx); err != nil {
			return rows, fmt.Errorf("redact a match run's overrides: %w", err)
		}
		rows++
	}

	// Other applications' status reasons and motivations (the person's own are blanked
	// by Erase).
	apps, err := c.Application.Query().Where(application.IDNotIn(own...),
		privacy.Naming[predicate.Application](values, application.FieldStatusReason, application.FieldMotivation)).All(ctx)
	if err != nil {
		return rows, fmt.Errorf("applications naming the person: %w", err)
	}
	for _, a := range apps {
		reason, c1 := privacy.Redact(a.StatusReason, values)
		motivation, c2 := privacy.Redact(a.Motivation, values)
		if c1 || c2 {
			if err := c.Application.UpdateOneID(a.ID).SetStatusReason(reason).SetMotivation(motivation).Exec(ctx); err != nil {
				return rows, fmt.Errorf("redact an application: %w", err)
			}
			rows++
		}
	}

	// Reviews of other applications by other reviewers (those of the person's applications
	// and by the person lose their notes altogether).
	revs, err := c.Review.Query().Where(privacy.Naming[predicate.Review](values, review.FieldComment, review.FieldConflictReason)).All(ctx)
	if err != nil {
		return rows, fmt.Errorf("reviews naming the person: %w", err)
	}
	for _, rv := range revs {
		comment, c1 := privacy.Redact(rv.Comment, values)
		reason, c2 := privacy.Redact(rv.ConflictReason, values)
		if c1 || c2 {
			if err := c.Review.UpdateOneID(rv.ID).SetComment(comment).SetConflictReason(reason).Exec(ctx); err != nil {
				return rows, fmt.Errorf("redact a review: %w", err)
			}
			rows++
		}
	}

	// Slots' notes (the weekly programme may name a contact) and withdrawal reasons.
	slots, err := c.HostSlot.Query().Where(privacy.Naming[predicate.HostSlot](values, hostslot.FieldNote, hostslot.FieldStatusReason)).All(ctx)
	if err != nil {
		return rows, fmt.Errorf("slots naming the person: %w", err)
	}
	for _, sl := range slots {
		note, c1 := privacy.Redact(sl.Note, values)
		reason, c2 := privacy.Redact(sl.StatusReason, values)
		if c1 || c2 {
			if err := c.HostSlot.UpdateOneID(sl.ID).SetNote(note).SetStatusReason(reason).Exec(ctx); err != nil {
				return rows, fmt.Errorf("redact a slot: %w", err)
			}
			rows++
		}
	}

	// Calls' descriptions and the reasons staff gave for closing or cancelling them.
	calls, err := c.Call.Query().Where(privacy.Naming[predicate.Call](values, call.FieldDescription, call.FieldStatusReason)).All(ctx)
	if err != nil {
		return rows, fmt.Errorf("calls naming the person: %w", err)
	}
	for _, cl := range calls {
		desc, c1 := privacy.Redact(cl.Description, values)
		reason, c2 := privacy.Redact(cl.StatusReason, values)
		if c1 || c2 {
			if err := c.Call.UpdateOneID(cl.ID).SetDescription(desc).SetStatusReason(reason).Exec(ctx); err != nil {
				return rows, fmt.Errorf("redact a call: %w", err)
			}
			rows++
		}
	}
	return rows, nil
}
