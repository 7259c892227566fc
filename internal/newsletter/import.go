package newsletter

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/consentevidence"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/subscriber"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/consent"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/secret"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// importChunk is how many rows one statement of an import reads or writes: about a dozen
// values a row keeps it far below SQLite's and PostgreSQL's limits on bound parameters.
const importChunk = 500

// chunks calls fn with consecutive pieces of xs of at most importChunk elements.
func chunks[T any](xs []T, fn func([]T) error) error {
	for start := 0; start < len(xs); start += importChunk {
		if err := fn(xs[start:min(start+importChunk, len(xs))]); err != nil {
			return err
		}
	}
	return nil
}

// importing is one row of an import on its way to the database.
type importing struct {
	row  importRow
	sub  *ent.Subscriber
	cur  *ent.NewsletterSubscription // nil: no subscription to the list yet
	to   Status
	link string // the new confirmation secret, when an email goes out
}

// importRows writes checked rows into list l through tx as the staff member in ctx, the
// same changes Subscribe/Join would make one by one (subscriber, subscription with the
// table's next status, consent evidence, the opt-in email unless attested or sent within
// the hour), in a constant number of statements per importChunk rows: reads by IN lists,
// bulk inserts, one conditional UPDATE per status step, audit events in multi-row inserts
// (audit.Bulk), the emails through notify's batch path.
func (s *Service) importRows(ctx context.Context, tx *ent.Client, l *ent.MailingList, rows []importRow, attest bool, reason string) (ImportResult, error) {
	v := viewer.FromContext(ctx)
	now := s.now()
	var res ImportResult
	addrs := make([]string, len(rows))
	for i, r := range rows {
		addrs[i] = r.email
	}
	supp, err := IsSuppressedKeyed(ctx, tx, s.cfg.Key, addrs)
	if err != nil {
		return res, err
	}
	var todo []*importing
	for _, r := range rows {
		if supp[r.email] {
			res.Skipped++
			continue
		}
		todo = append(todo, &importing{row: r})
	}
	err = audit.Bulk(ctx, tx, now, func(ctx context.Context) error {
		if err := s.importSubscribers(ctx, tx, todo, attest, now); err != nil {
			return err
		}
		if err := importCurrent(ctx, tx, l.ID, todo); err != nil {
			return err
		}
		event := Signup
		if attest {
			event = Join
		}
		kept := todo[:0]
		for _, it := range todo {
			from := None
			if it.cur != nil {
				from = it.cur.Status
			}
			if from == confirmed {
				res.Skipped++
				continue
			}
			to, err := Next(from, event)
			if err != nil {
				return apperr.OnField(err, "csv")
			}
			it.to = to
			kept = append(kept, it)
		}
		todo = kept
		res.Imported = len(todo)
		ids, err := importSubscriptions(ctx, tx, l.ID, todo, now)
		if err != nil {
			return err
		}
		text, version := s.ConsentText(), s.ConsentVersion()
		published, err := consent.Current(ctx, tx, vocab.ConsentNewsletter)
		if err != nil {
			return err
		}
		if published != nil {
			text, version = published.Body, consent.Version(published)
		}
		evidence := make([]*ent.ConsentEvidenceCreate, 0, len(ids))
		for _, id := range ids {
			c := tx.ConsentEvidence.Create().SetPurpose(vocab.ConsentNewsletter).SetSubscriptionID(id).SetSource(SourceImport).SetAt(now).
				SetIP("").SetActorID(v.UserID).SetConsentText(text).SetConsentVersion(version)
			if published != nil {
				c.SetConsentTextID(published.ID)
			}
			if attest {
				c.SetEvent(consentevidence.EventATTESTATION).SetNote(reason)
			} else {
				c.SetEvent(consentevidence.EventSIGNUP).SetNote("")
			}
			evidence = append(evidence, c)
		}
		if err := chunks(evidence, func(cs []*ent.ConsentEvidenceCreate) error {
			return tx.ConsentEvidence.CreateBulk(cs...).Exec(ctx)
		}); err != nil {
			return fmt.Errorf("record consent: %w", err)
		}
		if attest {
			return nil
		}
		return s.importConfirmations(ctx, tx, l.Name, todo, now)
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// importSubscribers finds or creates the subscriber of every row: existing ones by
// address (their empty name filled in), new ones in bulk, linked to the account with the
// address if there is one. Without attest, a new subscriber gets its confirmation link
// with the row (it is new: none was sent within the hour).
func (s *Service) importSubscribers(ctx context.Context, tx *ent.Client, todo []*importing, attest bool, now time.Time) error {
	byAddr := make(map[string]*importing, len(todo))
	addrs := make([]string, len(todo))
	for i, it := range todo {
		byAddr[it.row.email] = it
		addrs[i] = it.row.email
	}
	users := map[string]pulid.ID{}
	err := chunks(addrs, func(as []string) error {
		found, err := tx.Subscriber.Query().Where(subscriber.EmailIn(as...)).All(ctx)
		if err != nil {
			return fmt.Errorf("read subscribers: %w", err)
		}
		for _, sub := range found {
			byAddr[sub.Email].sub = sub
		}
		// Accounts with these addresses: a fact, read as the system.
		us, err := tx.User.Query().Where(user.EmailIn(as...)).Select(user.FieldID, user.FieldEmail).All(viewer.ForFacts(ctx))
		if err != nil {
			return fmt.Errorf("read users: %w", err)
		}
		for _, u := range us {
			users[u.Email] = u.ID
		}
		return nil
	})
	if err != nil {
		return err
	}
	var creates []*ent.SubscriberCreate
	var created []*importing
	for _, it := range todo {
		if it.sub != nil {
			if it.row.name != "" && it.sub.Name == "" {
				if it.sub, err = tx.Subscriber.UpdateOne(it.sub).SetName(it.row.name).Save(ctx); err != nil {
					return fmt.Errorf("name subscriber: %w", err)
				}
			}
			continue
		}
		c := tx.Subscriber.Create().SetEmail(it.row.email).SetName(it.row.name)
		if id, ok := users[it.row.email]; ok {
			c.SetUserID(id)
		}
		if !attest {
			it.link = secret.New(confirmPrefix)
			c.SetConfirmTokenHash(secret.Hash(it.link)).SetConfirmSentAt(now).SetConfirmExpiresAt(now.Add(ConfirmTTL))
		}
		creates = append(creates, c)
		created = append(created, it)
	}
	done := 0
	return chunks(creates, func(cs []*ent.SubscriberCreate) error {
		subs, err := tx.Subscriber.CreateBulk(cs...).Save(ctx)
		if err != nil {
			return fmt.Errorf("create subscribers: %w", err)
		}
		for i, sub := range subs {
			created[done+i].sub = sub
		}
		done += len(subs)
		return nil
	})
}

// importCurrent reads the rows' current subscriptions to the list.
func importCurrent(ctx context.Context, tx *ent.Client, list pulid.ID, todo []*importing) error {
	bySub := make(map[pulid.ID]*importing, len(todo))
	ids := make([]pulid.ID, len(todo))
	for i, it := range todo {
		bySub[it.sub.ID] = it
		ids[i] = it.sub.ID
	}
	return chunks(ids, func(ids []pulid.ID) error {
		found, err := tx.NewsletterSubscription.Query().Where(newslettersubscription.SubscriberIDIn(ids...), newslettersubscription.ListID(list)).All(ctx)
		if err != nil {
			return fmt.Errorf("read subscriptions: %w", err)
		}
		for _, row := range found {
			bySub[row.SubscriberID].cur = row
		}
		return nil
	})
}

// importSubscriptions applies each row's step: new subscriptions in bulk, existing ones
// with one conditional UPDATE per (from, to) pair (a row changed meanwhile is a lost
// race). It returns the ids of the subscriptions that get a consent record: all of them
// (a signup to a subscription already waiting records the new request too).
func importSubscriptions(ctx context.Context, tx *ent.Client, list pulid.ID, todo []*importing, now time.Time) ([]pulid.ID, error) {
	var ids []pulid.ID
	var creates []*ent.NewsletterSubscriptionCreate
	type step struct{ from, to Status }
	steps := map[step][]pulid.ID{}
	for _, it := range todo {
		switch {
		case it.cur == nil:
			c := tx.NewsletterSubscription.Create().SetSubscriberID(it.sub.ID).SetListID(list).SetStatus(it.to)
			if it.to == confirmed {
				c.SetConfirmedAt(now)
			}
			creates = append(creates, c)
		case it.cur.Status != it.to:
			k := step{it.cur.Status, it.to}
			steps[k] = append(steps[k], it.cur.ID)
			ids = append(ids, it.cur.ID)
		default:
			ids = append(ids, it.cur.ID)
		}
	}
	for k, rows := range steps {
		err := chunks(rows, func(rows []pulid.ID) error {
			u := tx.NewsletterSubscription.Update().Where(newslettersubscription.IDIn(rows...), newslettersubscription.StatusEQ(k.from)).
				SetStatus(k.to).ClearUnsubscribedAt()
			if k.to == confirmed {
				u.SetConfirmedAt(now)
			}
			n, err := u.Save(ctx)
			if err != nil {
				return fmt.Errorf("save subscriptions: %w", err)
			}
			if n != len(rows) {
				return apperr.LostRace("subscription")
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	err := chunks(creates, func(cs []*ent.NewsletterSubscriptionCreate) error {
		rows, err := tx.NewsletterSubscription.CreateBulk(cs...).Save(ctx)
		if err != nil {
			return fmt.Errorf("create subscriptions: %w", err)
		}
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		return nil
	})
	return ids, err
}

// importConfirmations queues the opt-in emails of an import (not attested): one per
// address, naming every list it waits for, with the link made when its subscriber was
// created; an existing subscriber gets a new link unless one went out within the hour
// (that link, still valid, confirms the new list too). A blocked address (bounced,
// complained, suppressed by staff) never gets here: importRows skipped every suppressed one.
func (s *Service) importConfirmations(ctx context.Context, tx *ent.Client, listName string, todo []*importing, now time.Time) error {
	var existing []pulid.ID
	for _, it := range todo {
		if it.link == "" {
			existing = append(existing, it.sub.ID)
		}
	}
	pending := map[pulid.ID][]string{}
	err := chunks(existing, func(ids []pulid.ID) error {
		rows, err := tx.NewsletterSubscription.Query().Where(newslettersubscription.SubscriberIDIn(ids...), newslettersubscription.StatusEQ(unconfirmed)).
			WithList().All(viewer.ForFacts(ctx))
		if err != nil {
			return fmt.Errorf("read pending lists: %w", err)
		}
		for _, r := range rows {
			pending[r.SubscriberID] = append(pending[r.SubscriberID], r.Edges.List.Name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	batch := make([]notify.Batched[notify.NewsletterConfirmData], 0, len(todo))
	for _, it := range todo {
		sub, lists := it.sub, []string(nil)
		if it.link == "" {
			if sub.ConfirmSentAt != nil && now.Sub(*sub.ConfirmSentAt) < ConfirmEvery && sub.ConfirmUsedAt == nil {
				continue
			}
			it.link = secret.New(confirmPrefix)
			sub, err = tx.Subscriber.UpdateOne(sub).SetConfirmTokenHash(secret.Hash(it.link)).SetConfirmSentAt(now).
				SetConfirmExpiresAt(now.Add(ConfirmTTL)).ClearConfirmUsedAt().Save(ctx)
			if err != nil {
				return fmt.Errorf("save confirmation link: %w", err)
			}
			lists = pending[sub.ID]
			sort.Strings(lists)
		} else {
			lists = []string{listName}
		}
		batch = append(batch, notify.Batched[notify.NewsletterConfirmData]{
			To: notify.Recipient{Email: sub.Email, Name: sub.Name},
			Data: notify.NewsletterConfirmData{
				Name: sub.Name, Email: sub.Email, Lists: lists, URL: s.confirmURL(it.link), ValidDays: int(ConfirmTTL / (24 * time.Hour)),
			},
			Key: fmt.Sprintf("newsletter_confirm:%s:%d", sub.ID, now.UnixNano()),
		})
	}
	return s.cfg.Notifier.NewsletterConfirms(ctx, tx, batch)
}
