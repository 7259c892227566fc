package audit

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// RequestInfo says which request caused an event.
type RequestInfo struct {
	ID        string
	IP        string
	UserAgent string
}

type requestKey struct{}

// WithRequest returns ctx carrying the request's id and client address.
func WithRequest(ctx context.Context, r RequestInfo) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request info in ctx (zero outside a request, e.g. in the CLI).
func RequestFrom(ctx context.Context) RequestInfo {
	r, _ := ctx.Value(requestKey{}).(RequestInfo)
	return r
}

// Event is one thing that happened.
type Event struct {
	// Action is dotted and lower-case, e.g. "auth.sign_in", "user.create".
	Action     string
	ObjectType string
	ObjectID   string
	Details    map[string]any
	// ActorID and ActorEmail default to the viewer in the context.
	ActorID    string
	ActorEmail string
}

// Record appends e through client (pass the caller's transactional client, so the event
// commits or rolls back with the change it describes) at the end of the hash chain.
func Record(ctx context.Context, client *ent.Client, now time.Time, e Event) error {
	if err := appendEvents(ctx, client, now, []Event{e}); err != nil {
		return fmt.Errorf("record audit event %s: %w", e.Action, err)
	}
	return nil
}

// unaudited types change as a side effect of system work or are the trail itself.
var unaudited = []string{"AuditEvent", "Session", "LoginLink", "OutboxMessage", "Job"}

// Install adds the hook that records every mutation a signed-in user makes (staff
// administration and, in later domains, every user action). System work is not recorded
// here; services record the events that matter explicitly.
func Install(client *ent.Client, now func() time.Time) {
	client.Use(func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			v := viewer.FromContext(ctx)
			if v.Kind != viewer.User || slices.Contains(unaudited, m.Type()) {
				return next.Mutate(ctx, m)
			}
			var ids []pulid.ID
			if !m.Op().Is(ent.OpCreate) {
				// Resolve the targets before the change (a delete removes them).
				if idm, ok := m.(interface {
					IDs(context.Context) ([]pulid.ID, error)
				}); ok {
					got, err := idm.IDs(ctx)
					if err != nil {
						return nil, err
					}
					ids = got
				}
			}
			val, err := next.Mutate(ctx, m)
			if err != nil {
				return val, err
			}
			if m.Op().Is(ent.OpCreate) {
				if idm, ok := m.(interface{ ID() (pulid.ID, bool) }); ok {
					if id, ok := idm.ID(); ok {
						ids = []pulid.ID{id}
					}
				}
			}
			fields := append(m.Fields(), m.ClearedFields()...)
			sort.Strings(fields)
			fields = slices.DeleteFunc(fields, func(f string) bool { return f == "updated_at" || f == "created_at" })
			action := snake(m.Type()) + "." + opName(m.Op())
			client := clientOf(m)
			if client == nil {
				return val, fmt.Errorf("audit: mutation %T has no client", m)
			}
			if b, ok := ctx.Value(bulkKey{}).(*bulk); ok {
				details := b.details(strings.Join(fields, ","))
				for _, id := range ids {
					b.events = append(b.events, Event{Action: action, ObjectType: m.Type(), ObjectID: string(id), Details: details})
				}
				return val, nil
			}
			details := map[string]any{"fields": strings.Join(fields, ",")}
			for _, id := range ids {
				if err := Record(ctx, client, now(), Event{
					Action: action, ObjectType: m.Type(), ObjectID: string(id), Details: details,
				}); err != nil {
					return val, err
				}
			}
			return val, nil
		})
	})
}

type bulkKey struct{}

// bulk collects the events the hook records inside Bulk.
type bulk struct {
	events []Event
	// lastFields and lastDetails are the details of the last event: the many rows of one
	// CreateBulk set the same fields, so their events share one details map, which
	// appendEvents then normalises and encodes once (sameMap) instead of once per row.
	lastFields  string
	lastDetails map[string]any
}

// details are the details of an event that changed fields (a comma-separated list), the
// last event's map when it changed the same fields. The maps are never modified.
func (b *bulk) details(fields string) map[string]any {
	if b.lastDetails == nil || b.lastFields != fields {
		b.lastFields, b.lastDetails = fields, map[string]any{"fields": fields}
	}
	return b.lastDetails
}

// bulkRows is how many audit rows one INSERT carries: about ten values a row keeps it
// below both dialects' limits on bound parameters.
const bulkRows = 1000

// Bulk runs write (typically an ent CreateBulk of many rows) with the hook collecting the
// events of every mutation it makes, instead of inserting one audit row per entity, and
// then records them all through client in multi-row inserts: the same rows, naming the
// person acting, in a constant number of statements. Pass the caller's transactional
// client, as for Record.
func Bulk(ctx context.Context, client *ent.Client, now time.Time, write func(ctx context.Context) error) error {
	b := &bulk{}
	if err := write(context.WithValue(ctx, bulkKey{}, b)); err != nil {
		return err
	}
	return RecordAll(ctx, client, now, b.events)
}

// RecordAll appends events as Record does, in multi-row inserts, one run of the chain.
func RecordAll(ctx context.Context, client *ent.Client, now time.Time, events []Event) error {
	if err := appendEvents(ctx, client, now, events); err != nil {
		return fmt.Errorf("record %d audit events: %w", len(events), err)
	}
	return nil
}

// appendEvents writes events at the end of the chain: the chain's lock and head first
// (chain.go), then each event's position, prev_hash and hash computed here, then
// multi-row inserts.
func appendEvents(ctx context.Context, client *ent.Client, now time.Time, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	v := viewer.FromContext(ctx)
	req := RequestFrom(ctx)
	sys := viewer.NewSystemContext(ctx)
	at := occurredAt(now)
	// The hook gives every event of one mutation the same details map: normalise and
	// encode it once.
	var (
		lastIn   map[string]any
		lastNorm map[string]any
		lastJSON string
	)
	return inChainTx(sys, client, func(tx *ent.Client, prev head) error {
		for start := 0; start < len(events); start += bulkRows {
			chunk := events[start:min(start+bulkRows, len(events))]
			creates := make([]*ent.AuditEventCreate, len(chunk))
			for i, e := range chunk {
				if e.ActorID == "" {
					e.ActorID, e.ActorEmail = v.UserID, v.Email
				}
				if e.ActorID == "" {
					e.ActorEmail = "" // an address is kept only with the actor's id
				}
				if lastIn == nil || !sameMap(lastIn, e.Details) {
					norm, err := normalDetails(e.Details)
					if err != nil {
						return err
					}
					enc, err := detailsJSON(norm)
					if err != nil {
						return err
					}
					lastIn, lastNorm, lastJSON = e.Details, norm, enc
				}
				details := lastNorm
				r := row{
					ID: pulid.New(idPrefix), Seq: prev.seq + 1, OccurredAt: at,
					ActorID: e.ActorID, ActorEmail: e.ActorEmail, Action: e.Action,
					ObjectType: e.ObjectType, ObjectID: e.ObjectID, RequestID: req.ID, IP: req.IP,
					Details: details, PrevHash: prev.hash, Salt: newSalt(),
				}
				r.PersonalDigest = personalDigest(r.Salt, r.ActorEmail, r.IP, lastJSON)
				hash, err := hashWith(r, lastJSON)
				if err != nil {
					return err
				}
				c := tx.AuditEvent.Create().
					SetID(r.ID).
					SetSeq(r.Seq).
					SetPrevHash(r.PrevHash).
					SetSalt(r.Salt).
					SetPersonalDigest(r.PersonalDigest).
					SetHash(hash).
					SetOccurredAt(r.OccurredAt).
					SetAction(r.Action).
					SetObjectType(r.ObjectType).
					SetObjectID(r.ObjectID).
					SetRequestID(r.RequestID).
					SetIP(r.IP)
				if r.ActorID != "" {
					c.SetActorID(r.ActorID).SetActorEmail(r.ActorEmail)
				}
				if len(details) > 0 {
					c.SetDetails(details)
				}
				creates[i] = c
				prev = head{seq: r.Seq, hash: hash}
			}
			if err := tx.AuditEvent.CreateBulk(creates...).Exec(sys); err != nil {
				return err
			}
		}
		return nil
	})
}

// sameMap reports whether a and b are the same map (not equal contents: the same one).
func sameMap(a, b map[string]any) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// idPrefix is AuditEvent's id prefix (ent/schema/auditevent.go).
const idPrefix = "aud"

func clientOf(m ent.Mutation) *ent.Client {
	if c, ok := m.(interface{ Client() *ent.Client }); ok {
		return c.Client()
	}
	return nil
}

func opName(op ent.Op) string {
	switch {
	case op.Is(ent.OpCreate):
		return "create"
	case op.Is(ent.OpUpdate | ent.OpUpdateOne):
		return "update"
	case op.Is(ent.OpDelete | ent.OpDeleteOne):
		return "delete"
	}
	return strings.ToLower(op.String())
}

// snake turns "ApiToken" into "api_token".
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
