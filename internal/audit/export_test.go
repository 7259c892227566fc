package audit

import (
	"context"

	"entgo.io/ent/dialect/sql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/auditevent"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// RewriteAsV1 rewrites every chained event as the v1 chain wrote it (no salt or digest, the
// hash over the personal fields), as a database from before chain v2 holds it. The
// guards must be dropped first.
func RewriteAsV1(ctx context.Context, client *ent.Client) error {
	sys := viewer.NewSystemContext(ctx)
	es, err := client.AuditEvent.Query().Where(auditevent.SeqNotNil()).Order(ent.Asc(auditevent.FieldSeq)).All(sys)
	if err != nil {
		return err
	}
	prev := ""
	for i, e := range es {
		r := rowOf(e)
		if i == 0 {
			prev = r.PrevHash
		}
		r.Salt, r.PersonalDigest, r.PrevHash = "", "", prev
		h, err := eventHash(r)
		if err != nil {
			return err
		}
		q, args := sql.Dialect(client.Dialect()).Update(auditevent.Table).
			SetNull(auditevent.FieldSalt).SetNull(auditevent.FieldPersonalDigest).
			Set(auditevent.FieldPrevHash, prev).Set(auditevent.FieldHash, h).
			Where(sql.EQ(auditevent.FieldID, string(e.ID))).Query()
		if _, err := client.RawExec(sys, q, args...); err != nil {
			return err
		}
		prev = h
	}
	return nil
}
