package audit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/auditevent"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// The hash chain: every event stores its position (seq, 1, 2, …), the hash of the event
// before it (prev_hash, empty for the first) and its own hash, SHA-256 over the canonical
// encoding of its fields and prev_hash (eventHash). Editing, inserting or deleting a row
// anywhere but at the end breaks the chain at that row, which Verify finds.
//
// Appends are serialised per database: on PostgreSQL by a transaction-scoped advisory lock
// taken before the head is read and held until commit, so several serve processes append
// one after the other; on SQLite every write transaction already holds the database's
// write lock from BEGIN (_txlock=immediate). The unique index on seq is the last line: a
// fork cannot commit.

// chainLockKey is the PostgreSQL advisory lock of the chain (an arbitrary constant, distinct
// from the migration lock's).
const chainLockKey int64 = 0x636f61756469 // "coaudi"

// chainVersion starts every canonical encoding, so a future change of the encoding can be
// told apart. v1 hashed the personal fields themselves; v2 (chainVersion2) hashes their
// salted digest instead, so an erasure can blank them without breaking the chain. An
// event with a personal_digest is v2; Upgrade turns v1 events into v2 ones.
const (
	chainVersion  = "coalition-audit-v1"
	chainVersion2 = "coalition-audit-v2"
)

// head is the last event of the chain (zero for an empty chain).
type head struct {
	seq  int64
	hash string
}

// errInTx is ent's answer to Client.Tx on a transaction's client.
const errInTxText = "ent: cannot start a transaction within a transaction"

// inChainTx runs fn with the chain locked, in client's transaction, or in a transaction of
// its own when client is not transactional (so the head read and the append are atomic).
func inChainTx(ctx context.Context, client *ent.Client, fn func(tx *ent.Client, h head) error) error {
	tx, err := client.Tx(ctx)
	switch {
	case err != nil && err.Error() == errInTxText:
		return lockedAppend(ctx, client, fn)
	case err != nil:
		return fmt.Errorf("audit: begin transaction: %w", err)
	}
	if err := lockedAppend(ctx, tx.Client(), fn); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

func lockedAppend(ctx context.Context, tx *ent.Client, fn func(tx *ent.Client, h head) error) error {
	h, err := lockHead(ctx, tx)
	if err != nil {
		return err
	}
	return fn(tx, h)
}

// lockHead takes the chain's lock (PostgreSQL; see above) and reads its last event.
func lockHead(ctx context.Context, tx *ent.Client) (head, error) {
	if tx.Dialect() == dialect.Postgres {
		if _, err := tx.RawExec(ctx, "SELECT pg_advisory_xact_lock($1)", chainLockKey); err != nil {
			return head{}, fmt.Errorf("audit: lock the chain: %w", err)
		}
	}
	last, err := tx.AuditEvent.Query().
		Where(auditevent.SeqNotNil()).
		Order(ent.Desc(auditevent.FieldSeq)).
		Select(auditevent.FieldSeq, auditevent.FieldHash).
		First(viewer.NewSystemContext(ctx))
	switch {
	case ent.IsNotFound(err):
		return checkpointHead(ctx, tx)
	case err != nil:
		return head{}, fmt.Errorf("audit: read the chain's head: %w", err)
	}
	return head{seq: *last.Seq, hash: last.Hash}, nil
}

// checkpointHead is the head of a chain with no event left: the last checkpoint's, or the
// start.
func checkpointHead(ctx context.Context, tx *ent.Client) (head, error) {
	cp, err := lastCheckpoint(ctx, tx)
	if err != nil || cp == nil {
		return head{}, err
	}
	return head{seq: cp.ThroughSeq, hash: cp.ThroughHash}, nil
}

// row is what the hash covers: every field of an event.
type row struct {
	ID         pulid.ID
	Seq        int64
	OccurredAt time.Time
	ActorID    string
	ActorEmail string
	Action     string
	ObjectType string
	ObjectID   string
	RequestID  string
	IP         string
	Details    map[string]any
	PrevHash   string
	// Salt and PersonalDigest: v2 events (see personalDigest); empty for v1.
	Salt           string
	PersonalDigest string
}

func rowOf(e *ent.AuditEvent) row {
	r := row{
		ID: e.ID, OccurredAt: e.OccurredAt, ActorID: e.ActorID, ActorEmail: e.ActorEmail, Action: e.Action,
		ObjectType: e.ObjectType, ObjectID: e.ObjectID, RequestID: e.RequestID, IP: e.IP, Details: e.Details,
		PrevHash: e.PrevHash, Salt: e.Salt, PersonalDigest: e.PersonalDigest,
	}
	if e.Seq != nil {
		r.Seq = *e.Seq
	}
	return r
}

// eventHash is the hex SHA-256 of r's canonical encoding: a JSON array of the version, the
// fields in a fixed order (time in UTC, RFC 3339 with nanoseconds; details as JSON with
// sorted keys, empty when there are none) and prev_hash.
func eventHash(r row) (string, error) {
	details, err := detailsJSON(r.Details)
	if err != nil {
		return "", err
	}
	return hashWith(r, details)
}

// detailsJSON is the canonical text of details: JSON with sorted keys, empty for none.
func detailsJSON(details map[string]any) (string, error) {
	if len(details) == 0 {
		return "", nil
	}
	b, err := json.Marshal(details)
	if err != nil {
		return "", fmt.Errorf("audit: encode details: %w", err)
	}
	return string(b), nil
}

// hashWith is eventHash with the details already encoded (the bulk path encodes a
// mutation's shared details once for all its events). A v2 event (PersonalDigest set) is
// hashed over the digest in place of actor_email, ip and details.
func hashWith(r row, details string) (string, error) {
	var fields []any
	if r.PersonalDigest != "" {
		fields = []any{
			chainVersion2, r.Seq, string(r.ID), r.OccurredAt.UTC().Format(time.RFC3339Nano),
			r.ActorID, r.Action, r.ObjectType, r.ObjectID, r.RequestID, r.PersonalDigest, r.PrevHash,
		}
	} else {
		fields = []any{
			chainVersion, r.Seq, string(r.ID), r.OccurredAt.UTC().Format(time.RFC3339Nano),
			r.ActorID, r.ActorEmail, r.Action, r.ObjectType, r.ObjectID, r.RequestID, r.IP, details, r.PrevHash,
		}
	}
	enc, err := json.Marshal(fields)
	if err != nil {
		return "", fmt.Errorf("audit: encode event: %w", err)
	}
	sum := sha256.Sum256(enc)
	return hex.EncodeToString(sum[:]), nil
}

// personalDigest is the hex SHA-256 of the canonical encoding of an event's personal
// fields with its salt: a JSON array of the version, salt, actor_email, ip and details
// (canonical text, empty for none). The salt (random, per event) is emptied on erasure
// with the fields, so the digest left cannot be tested against a guessed address.
func personalDigest(salt, actorEmail, ip, details string) string {
	enc, _ := json.Marshal([]string{chainVersion2 + "-personal", salt, actorEmail, ip, details}) // strings: cannot fail
	sum := sha256.Sum256(enc)
	return hex.EncodeToString(sum[:])
}

// newSalt is a fresh random salt (hex of 16 bytes).
func newSalt() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail (Go 1.24+)
	return hex.EncodeToString(b)
}

// normalDetails returns details as they read back from the database (a JSON round trip:
// numbers become float64, nested values maps and slices), so the hash computed before the
// insert is the one Verify computes from the stored row.
func normalDetails(details map[string]any) (map[string]any, error) {
	if len(details) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(details)
	if err != nil {
		return nil, fmt.Errorf("audit: encode details: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("audit: decode details: %w", err)
	}
	return out, nil
}

// occurredAt is the stored form of an event's time: UTC, to the microsecond (PostgreSQL's
// precision), so that it reads back equal.
func occurredAt(now time.Time) time.Time { return now.UTC().Truncate(time.Microsecond) }
