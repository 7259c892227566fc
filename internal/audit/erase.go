package audit

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect/sql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/auditevent"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Erase blanks the personal fields (actor_email, ip, details) and the salt of the events
// matching where, through client (the erasure's transaction): ids, actions, objects and
// times stay, and the chain still verifies, since a v2 event's hash covers only the
// digest of those fields. The database trigger allows this one update (internal/db). v1
// events are upgraded first (Upgrade), so every event can be erased. It returns how many
// events it changed.
func Erase(ctx context.Context, client *ent.Client, where ...func(*sql.Selector)) (int, error) {
	sys := viewer.NewSystemContext(ctx)
	if err := Upgrade(sys, client); err != nil {
		return 0, err
	}
	ids, err := client.AuditEvent.Query().
		Where(func(s *sql.Selector) {
			for _, w := range where {
				w(s)
			}
		}).
		Where(auditevent.Or(auditevent.SaltNEQ(""), auditevent.ActorEmailNEQ(""), auditevent.IPNEQ(""), auditevent.DetailsNotNil())).
		IDs(sys)
	if err != nil {
		return 0, fmt.Errorf("audit: find the events to erase: %w", err)
	}
	n := 0
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = string(id)
		}
		q, qargs := sql.Dialect(client.Dialect()).Update(auditevent.Table).
			Set(auditevent.FieldActorEmail, "").Set(auditevent.FieldIP, "").Set(auditevent.FieldSalt, "").
			SetNull(auditevent.FieldDetails).
			Where(sql.And(sql.In(auditevent.FieldID, args...), sql.NEQ(auditevent.FieldPersonalDigest, ""))).
			Query()
		res, err := client.RawExec(sys, q, qargs...)
		if err != nil {
			return n, fmt.Errorf("audit: erase events: %w", err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return n, fmt.Errorf("audit: erase events: %w", err)
		}
		n += int(k)
	}
	return n, nil
}

// Upgrade turns the chain's v1 events (hashed over their personal fields) into v2 events
// (hashed over a salted digest of them), in order of position under the chain's lock:
// each gets a salt, a digest, the hash of the one before as prev_hash and a new hash. The
// first event keeps its prev_hash (the start, or the last checkpoint's hash); checkpoints
// do not change. v1 events all come before v2 ones, so when the first event of the chain is
// v2 there is nothing to do (one indexed read). `serve` and `migrate` run it at startup.
func Upgrade(ctx context.Context, client *ent.Client) error {
	sys := viewer.NewSystemContext(ctx)
	first, err := client.AuditEvent.Query().Where(auditevent.SeqNotNil()).
		Order(ent.Asc(auditevent.FieldSeq)).First(sys)
	switch {
	case ent.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("audit: read the chain's first event: %w", err)
	case first.PersonalDigest != "":
		return nil
	}
	return inChainTx(sys, client, func(tx *ent.Client, _ head) error {
		prev := ""
		started := false
		var after int64
		for {
			page, err := tx.AuditEvent.Query().Where(auditevent.SeqGT(after)).
				Order(ent.Asc(auditevent.FieldSeq)).Limit(verifyPage).All(sys)
			if err != nil {
				return fmt.Errorf("audit: read events after position %d: %w", after, err)
			}
			for _, e := range page {
				r := rowOf(e)
				if !started {
					prev, started = r.PrevHash, true
				}
				after = r.Seq
				if r.PersonalDigest != "" && r.PrevHash == prev {
					prev = e.Hash
					continue
				}
				details, err := detailsJSON(r.Details)
				if err != nil {
					return err
				}
				if r.PersonalDigest == "" {
					r.Salt = newSalt()
					r.PersonalDigest = personalDigest(r.Salt, r.ActorEmail, r.IP, details)
				}
				r.PrevHash = prev
				hash, err := hashWith(r, details)
				if err != nil {
					return err
				}
				q, args := sql.Dialect(tx.Dialect()).Update(auditevent.Table).
					Set(auditevent.FieldSalt, r.Salt).Set(auditevent.FieldPersonalDigest, r.PersonalDigest).
					Set(auditevent.FieldPrevHash, r.PrevHash).Set(auditevent.FieldHash, hash).
					Where(sql.EQ(auditevent.FieldID, string(r.ID))).Query()
				if _, err := tx.RawExec(sys, q, args...); err != nil {
					return fmt.Errorf("audit: upgrade event %s: %w", r.ID, err)
				}
				prev = hash
			}
			if len(page) < verifyPage {
				return nil
			}
		}
	})
}
