package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/auditcheckpoint"
	"github.com/gocart-coalition/coalition/ent/auditevent"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// MinKeyLen is the least length of the key that signs checkpoints.
const MinKeyLen = 32

// verifyPage is how many events Verify reads at a time.
const verifyPage = 2000

// Report is what Verify found.
type Report struct {
	// Events is how many chained events were checked.
	Events int
	// Legacy counts events written before the chain existed (no position); they are not
	// covered by any hash.
	Legacy int
	// Checkpoints is how many signed checkpoints were checked; the chain is verified from
	// the last one (Start).
	Checkpoints int
	// Pruned is how many events the checkpoints say were deleted.
	Pruned int64
	// Start is the position the chain was expected to start at (1, or the last checkpoint's
	// through_seq + 1); Last the position of the last event checked.
	Start, Last int64
	// Broken is the first broken link, nil when the chain holds.
	Broken *Break
}

// Break names the first broken link of the chain.
type Break struct {
	// EventID is the event where the chain breaks (empty for a checkpoint's break).
	EventID string
	// Position is that event's position (its expected one when it has none).
	Position int64
	// Checkpoint is the checkpoint that failed, when the break is one.
	Checkpoint string
	// Reason says what does not hold, e.g. "its hash does not match its contents".
	Reason string
}

// Line is the last line `coalition audit verify` prints: "audit verify: ok events=N" or
// "audit verify: BROKEN at event <id> (position N): <why>" (or "at checkpoint <id>").
func (r Report) Line() string {
	switch b := r.Broken; {
	case b == nil:
		return fmt.Sprintf("audit verify: ok events=%d", r.Events)
	case b.Checkpoint != "":
		return fmt.Sprintf("audit verify: BROKEN at checkpoint %s: %s", b.Checkpoint, b.Reason)
	default:
		return fmt.Sprintf("audit verify: BROKEN at event %s (position %d): %s", b.EventID, b.Position, b.Reason)
	}
}

// ErrNoKey is returned by Prune without a key, and reported by Verify when there are
// checkpoints to check and no key to check them with.
var ErrNoKey = errors.New("no audit key configured (COALITION_AUDIT_KEY)")

// Verify checks the whole chain through client: every checkpoint's signature under key
// (when there are checkpoints), then every event from the last checkpoint on, in order of
// position: that positions follow one another with none missing, that each event's
// prev_hash is the hash of the one before, and that each event's hash is the hash of its
// stored contents. It stops at the first break. An error is returned only when the
// database cannot be read.
func Verify(ctx context.Context, client *ent.Client, key []byte) (Report, error) {
	sys := viewer.NewSystemContext(ctx)
	var rep Report
	cps, err := client.AuditCheckpoint.Query().Order(ent.Asc(auditcheckpoint.FieldThroughSeq)).All(sys)
	if err != nil {
		return rep, fmt.Errorf("read audit checkpoints: %w", err)
	}
	prev := head{}
	for _, cp := range cps {
		rep.Checkpoints++
		switch {
		case len(key) == 0:
			rep.Broken = &Break{Checkpoint: string(cp.ID), Reason: "cannot check its signature: " + ErrNoKey.Error()}
			return rep, nil
		case !hmac.Equal([]byte(cp.Signature), []byte(checkpointSignature(key, cp))):
			rep.Broken = &Break{Checkpoint: string(cp.ID), Reason: "its signature does not match its contents (edited, or another key)"}
			return rep, nil
		case cp.ThroughSeq <= prev.seq:
			rep.Broken = &Break{Checkpoint: string(cp.ID), Reason: "it covers fewer events than the checkpoint before it"}
			return rep, nil
		}
		prev = head{seq: cp.ThroughSeq, hash: cp.ThroughHash}
		rep.Pruned = cp.PrunedCount
	}
	rep.Start = prev.seq + 1
	if rep.Legacy, err = client.AuditEvent.Query().Where(auditevent.SeqIsNil()).Count(sys); err != nil {
		return rep, fmt.Errorf("count legacy audit events: %w", err)
	}
	for {
		page, err := client.AuditEvent.Query().
			Where(auditevent.SeqGT(prev.seq)).
			Order(ent.Asc(auditevent.FieldSeq)).
			Limit(verifyPage).
			All(sys)
		if err != nil {
			return rep, fmt.Errorf("read audit events after position %d: %w", prev.seq, err)
		}
		for _, e := range page {
			r := rowOf(e)
			b := &Break{EventID: string(e.ID), Position: r.Seq}
			want, err := eventHash(r)
			switch {
			case err != nil:
				b.Reason = "its contents cannot be encoded: " + err.Error()
			case r.Seq != prev.seq+1:
				b.Reason = fmt.Sprintf("the event at position %d is missing", prev.seq+1)
				if r.Seq-prev.seq > 2 {
					b.Reason = fmt.Sprintf("the events at positions %d to %d are missing", prev.seq+1, r.Seq-1)
				}
			case r.PrevHash != prev.hash:
				b.Reason = "its prev_hash is not the hash of the event before it"
			case e.Hash != want:
				b.Reason = "its hash does not match its contents (edited)"
			default:
				b.Reason = personalBreak(r)
			}
			if b.Reason != "" {
				rep.Broken = b
				return rep, nil
			}
			prev = head{seq: r.Seq, hash: e.Hash}
			rep.Events++
			rep.Last = r.Seq
		}
		if len(page) < verifyPage {
			return rep, nil
		}
	}
}

// checkpointSignature is the hex HMAC-SHA256 under key of a checkpoint's canonical
// encoding (a JSON array of the version, id, position, hash, count, cutoff and creation
// time).
func checkpointSignature(key []byte, cp *ent.AuditCheckpoint) string {
	enc, _ := json.Marshal([]any{ // strings and integers: cannot fail
		chainVersion + "-checkpoint", string(cp.ID), cp.ThroughSeq, cp.ThroughHash, cp.PrunedCount,
		cp.Cutoff.UTC().Format(time.RFC3339Nano), cp.CreatedAt.UTC().Format(time.RFC3339Nano),
	})
	m := hmac.New(sha256.New, key)
	m.Write(enc)
	return hex.EncodeToString(m.Sum(nil))
}

// lastCheckpoint returns the checkpoint that covers the most events (nil when none).
func lastCheckpoint(ctx context.Context, client *ent.Client) (*ent.AuditCheckpoint, error) {
	cp, err := client.AuditCheckpoint.Query().
		Order(ent.Desc(auditcheckpoint.FieldThroughSeq)).
		First(viewer.NewSystemContext(ctx))
	switch {
	case ent.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("audit: read the last checkpoint: %w", err)
	}
	return cp, nil
}

// personalBreak checks a v2 event's personal fields against their digest: while the salt
// is kept they must match it; once erased (salt empty) they must all be empty. It returns
// why they do not hold, or "".
func personalBreak(r row) string {
	if r.PersonalDigest == "" {
		return "" // v1: the hash covers the fields themselves
	}
	details, err := detailsJSON(r.Details)
	if err != nil {
		return "its details cannot be encoded: " + err.Error()
	}
	if r.Salt == "" {
		if r.ActorEmail != "" || r.IP != "" || details != "" {
			return "its personal fields were erased but some are set again (edited)"
		}
		return ""
	}
	if personalDigest(r.Salt, r.ActorEmail, r.IP, details) != r.PersonalDigest {
		return "its personal fields do not match their digest (edited)"
	}
	return ""
}
