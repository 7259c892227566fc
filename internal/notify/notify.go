package notify

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/schema/mailtype"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/outbox"
)

// Recipient is who an email goes to.
type Recipient struct {
	Email string
	Name  string
	// Suppressed: render and record the email, never send it (e.g. a disabled account).
	Suppressed bool
}

// Config of a Notifier.
type Config struct {
	Renderer *Renderer
	Now      func() time.Time
	// Wake, when set, is called after the transaction that queued an email commits, so
	// the outbox worker of this process sends it at once instead of at its next poll.
	Wake func()
	// ReplyTo, when set, is the Reply-To of the emails a person may want to answer
	// (ReplyTemplates): the coalition's contact address rather than the no-reply sender.
	ReplyTo string
}

// ReplyTemplates are the emails that carry Reply-To: offers and placement news,
// invitations, application status, slot decisions, meetings, referee requests. Sign-in
// links, reminders and warnings do not (a reply there reaches nobody useful).
var ReplyTemplates = map[string]bool{
	"match_result": true, "placement_update": true, "membership_invitation": true, "membership_ended": true,
	"application_status": true, "slot_decision": true, "meeting_invitation": true, "meeting_cancelled": true,
	"referee_request": true,
}

// Notifier turns domain events into rendered emails queued in the outbox, inside the
// caller's transaction: if the change rolls back, no email exists; if it commits, the
// email is sent even if the process stops a moment later.
type Notifier struct {
	cfg Config
}

// New checks cfg and returns a Notifier.
func New(cfg Config) (*Notifier, error) {
	if cfg.Renderer == nil || cfg.Now == nil {
		return nil, errors.New("notify: Renderer and Now are required")
	}
	return &Notifier{cfg: cfg}, nil
}

// LoginLink queues the sign-in link email.
func (n *Notifier) LoginLink(ctx context.Context, client *ent.Client, to Recipient, data LoginLinkData, key string) error {
	return n.queue(ctx, client, "login_link", to, data, key, nil)
}

// queue renders template for to and writes the outbox row through client.
func (n *Notifier) queue(ctx context.Context, client *ent.Client, template string, to Recipient, data any, key string, attachments []mailtype.Attachment) error {
	e, err := n.render(template, to, data, key, attachments)
	if err != nil {
		return err
	}
	if err := outbox.Enqueue(ctx, client, n.cfg.Now(), e); err != nil {
		return fmt.Errorf("queue %s: %w", template, err)
	}
	if !to.Suppressed {
		n.wakeAfterCommit(ctx)
	}
	return nil
}

// render renders template for to as an outbox email.
func (n *Notifier) render(template string, to Recipient, data any, key string, attachments []mailtype.Attachment) (outbox.Email, error) {
	r, err := n.cfg.Renderer.Render(template, data)
	if err != nil {
		return outbox.Email{}, fmt.Errorf("render %s: %w", template, err)
	}
	return outbox.Email{
		DedupeKey:   key,
		Template:    template,
		To:          mail.Address{Name: to.Name, Email: to.Email},
		Subject:     r.Subject,
		Text:        r.Text,
		HTML:        r.HTML,
		Attachments: attachments,
		Suppressed:  to.Suppressed,
		Headers:     n.headers(template),
	}, nil
}

// headers are the extra headers of template's emails: Reply-To for ReplyTemplates.
func (n *Notifier) headers(template string) map[string]string {
	if n.cfg.ReplyTo != "" && ReplyTemplates[template] {
		return map[string]string{"Reply-To": n.cfg.ReplyTo}
	}
	return nil
}

// Prepared is a batch of emails rendered ahead of queueing them (QueuePrepared), so a
// caller can render while it writes other rows: emails rendered whole, and bodies rendered
// once for several emails that differ only in their personal values (prepareShared).
type Prepared struct {
	template string
	emails   []outbox.Email
	shared   []outbox.Shared
	wake     bool
}

// queueBatch renders template for every email of batch and writes their outbox rows
// through client in a few statements (outbox.EnqueueBatch), with the same dedupe keys
// as queueing them one by one, and wakes the worker after the commit.
func queueBatch[D any](ctx context.Context, n *Notifier, client *ent.Client, template string, batch []Batched[D]) error {
	if len(batch) == 0 {
		return nil
	}
	es, err := renderEach(n, template, batch)
	if err != nil {
		return err
	}
	return n.QueuePrepared(ctx, client, &Prepared{template: template, emails: es, wake: true})
}

// renderEach renders template for every email of batch, whole (outbox.Email).
func renderEach[D any](n *Notifier, template string, batch []Batched[D]) ([]outbox.Email, error) {
	es := make([]outbox.Email, len(batch))
	// Rendering is pure CPU: spread it over the processors, keeping the batch's order.
	workers := min(runtime.GOMAXPROCS(0), max(len(batch)/50, 1))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(batch); i += workers {
				b := batch[i]
				if es[i], errs[w] = n.render(template, b.To, b.Data, b.Key, nil); errs[w] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return es, nil
}

// QueuePrepared writes the outbox rows of a prepared batch through client in a few
// statements (outbox.EnqueueBatch and outbox.EnqueueShared, inside the caller's
// transaction) and wakes the worker after the commit, as queueing the batch at once does.
func (n *Notifier) QueuePrepared(ctx context.Context, client *ent.Client, p *Prepared) error {
	if err := outbox.EnqueueBatch(ctx, client, n.cfg.Now(), p.emails); err != nil {
		return fmt.Errorf("queue %s: %w", p.template, err)
	}
	if err := outbox.EnqueueShared(ctx, client, n.cfg.Now(), p.shared); err != nil {
		return fmt.Errorf("queue %s: %w", p.template, err)
	}
	if p.wake {
		n.wakeAfterCommit(ctx)
	}
	return nil
}

// Batched is one email of a batch: to whom, its data, and its dedupe key.
type Batched[D any] struct {
	To   Recipient
	Data D
	Key  string
}

// WakeAfterCommit wakes this process's outbox worker after the transaction in ctx commits
// (at once without one): for rows queued in it by another path than the Notifier's own,
// e.g. a campaign's deliveries (outbox.EnqueueBulk).
func (n *Notifier) WakeAfterCommit(ctx context.Context) { n.wakeAfterCommit(ctx) }

func (n *Notifier) wakeAfterCommit(ctx context.Context) {
	if n.cfg.Wake == nil {
		return
	}
	tx := ent.TxFromContext(ctx)
	if tx == nil {
		n.cfg.Wake()
		return
	}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				n.cfg.Wake()
			}
			return err
		})
	})
}
