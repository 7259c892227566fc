package programme

import (
	"context"
	"fmt"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/document"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// DeadlineReminderJobName is the name of the hourly job that reminds trainees with an
// unsubmitted draft of the call's deadline.
const DeadlineReminderJobName = "programme.deadline_reminders"

// reminderDays are the days before a deadline when drafts are reminded, latest first.
var reminderDays = []int{1, 7}

// RemindDeadlines emails every trainee whose application to an OPEN call is still a draft
// when the deadline is 7 days or less away, and again when it is 1 day or less away, with
// what the draft still lacks. The dedupe key deadline_reminder:<application>:<days> makes
// each reminder go once however often the job runs, and a run that was missed sends the
// nearest reminder only. It returns how many reminders it queued.
func (s *Service) RemindDeadlines(ctx context.Context) (int, error) {
	sys := viewer.NewSystemContext(ctx)
	now := s.cfg.Now()
	drafts, err := s.cfg.Client.Application.Query().
		Where(application.StatusEQ(application.StatusDRAFT),
			application.HasCallWith(call.StatusEQ(call.StatusOPEN), call.ClosesAtGT(now), call.ClosesAtLTE(now.Add(7*24*time.Hour)))).
		WithCall().WithTrainee().
		Order(application.ByID()).
		All(sys)
	if err != nil {
		return 0, fmt.Errorf("find drafts: %w", err)
	}
	n := 0
	for _, a := range drafts {
		c, t := a.Edges.Call, a.Edges.Trainee
		left := c.ClosesAt.Sub(now)
		days := 0
		for _, d := range reminderDays {
			if left <= time.Duration(d)*24*time.Hour {
				days = d
				break
			}
		}
		if days == 0 || t.Disabled {
			continue
		}
		missing, err := s.Missing(sys, s.cfg.Client, a)
		if err != nil {
			return n, err
		}
		data := notify.DeadlineReminderData{
			Name: t.Name, CallTitle: c.Title, Deadline: LocalTime(c, c.ClosesAt) + " (" + c.TimeZone + ")", Days: days,
		}
		for _, m := range missing {
			data.Missing = append(data.Missing, m.Message)
		}
		key := fmt.Sprintf("deadline_reminder:%s:%d", a.ID, days)
		if err := db.InTx(sys, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
			return s.cfg.Notifier.DeadlineReminder(ctx, tx, notify.Recipient{Email: t.Email, Name: t.Name}, data, key)
		}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// DocumentsJobName is the name of the daily job that deletes stored documents no
// application refers to any more (CollectDocuments).
const DocumentsJobName = "programme.documents_gc"

// DocumentGrace is how long a stored file may go unreferenced before it is deleted: an
// upload stores its file before its transaction writes the row that refers to it.
const DocumentGrace = 24 * time.Hour

// CollectDocuments deletes the stored files that no document row refers to any more (a
// document replaced or removed by the trainee) and that were last written more than
// DocumentGrace ago, so a removed CV does not stay on disk. It returns how many it deleted.
func (s *Service) CollectDocuments(ctx context.Context) (int, error) {
	sys := viewer.NewSystemContext(ctx)
	cutoff := s.cfg.Now().Add(-DocumentGrace)
	var stale []string
	err := s.cfg.Documents.Walk(func(hash string, modified time.Time) bool {
		if modified.Before(cutoff) {
			stale = append(stale, hash)
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, hash := range stale {
		used, err := s.cfg.Client.Document.Query().Where(document.Sha256(hash)).Exist(sys)
		if err != nil {
			return n, fmt.Errorf("check document %s: %w", hash, err)
		}
		if used {
			continue
		}
		if err := s.cfg.Documents.Remove(hash); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
