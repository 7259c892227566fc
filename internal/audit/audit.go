package audit

import (
	"context"
	"fmt"
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
// commits or rolls back with the change it describes).
func Record(ctx context.Context, client *ent.Client, now time.Time, e Event) error {
	v := viewer.FromContext(ctx)
	if e.ActorID == "" {
		e.ActorID, e.ActorEmail = v.UserID, v.Email
	}
	req := RequestFrom(ctx)
	c := client.AuditEvent.Create().
		SetOccurredAt(now.UTC()).
		SetAction(e.Action).
		SetObjectType(e.ObjectType).
		SetObjectID(e.ObjectID).
		SetRequestID(req.ID).
		SetIP(req.IP)
	if e.ActorID != "" {
		c.SetActorID(e.ActorID).SetActorEmail(e.ActorEmail)
	}
	if len(e.Details) > 0 {
		c.SetDetails(e.Details)
	}
	if err := c.Exec(viewer.NewSystemContext(ctx)); err != nil {
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
			details := map[string]any{"fields": strings.Join(fields, ",")}
			action := snake(m.Type()) + "." + opName(m.Op())
			client := clientOf(m)
			if client == nil {
				return val, fmt.Errorf("audit: mutation %T has no client", m)
			}
			if b, ok := ctx.Value(bulkKey{}).(*bulk); ok {
				for _, id := range ids {
					b.events = append(b.events, Event{Action: action, ObjectType: m.Type(), ObjectID: string(id), Details: details})
				}
				return val, nil
			}
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
type bulk struct{ events []Event }

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

// RecordAll appends events as Record does, in multi-row inserts.
func RecordAll(ctx context.Context, client *ent.Client, now time.Time, events []Event) error {
	v := viewer.FromContext(ctx)
	req := RequestFrom(ctx)
	sys := viewer.NewSystemContext(ctx)
	for start := 0; start < len(events); start += bulkRows {
		chunk := events[start:min(start+bulkRows, len(events))]
		creates := make([]*ent.AuditEventCreate, len(chunk))
		for i, e := range chunk {
			if e.ActorID == "" {
				e.ActorID, e.ActorEmail = v.UserID, v.Email
			}
			c := client.AuditEvent.Create().
				SetOccurredAt(now.UTC()).
				SetAction(e.Action).
				SetObjectType(e.ObjectType).
				SetObjectID(e.ObjectID).
				SetRequestID(req.ID).
				SetIP(req.IP)
			if e.ActorID != "" {
				c.SetActorID(e.ActorID).SetActorEmail(e.ActorEmail)
			}
			if len(e.Details) > 0 {
				c.SetDetails(e.Details)
			}
			creates[i] = c
		}
		if err := client.AuditEvent.CreateBulk(creates...).Exec(sys); err != nil {
			return fmt.Errorf("record %d audit events: %w", len(chunk), err)
		}
	}
	return nil
}

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
