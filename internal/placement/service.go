package placement

import (
	"errors"
	"log/slog"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/notify"
)

// Config is what the service needs.
type Config struct {
	Client   *ent.Client
	Dialect  string
	Now      func() time.Time
	Notifier *notify.Notifier
	Logger   *slog.Logger
	// Organizer is the ORGANIZER of placement calendar entries (the mail sender).
	Organizer mail.Address
	// CalendarDomain ends every placement's calendar UID ("<placement id>@<domain>").
	CalendarDomain string
	// Wake, when set, is called after a change that freed a place, so the waiting-list job
	// runs at once instead of at its next hour.
	Wake func()
	// Links issues the sign-in links of the emails' buttons (accept, decline, confirm).
	Links LinkIssuer
}

// Service runs the placement lifecycle: offers answered, placements confirmed, moved,
// cancelled, reported on, and the hourly job that keeps them moving.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Client == nil || cfg.Now == nil || cfg.Notifier == nil || cfg.Links == nil || cfg.Organizer.Email == "" || cfg.CalendarDomain == "" {
		return nil, errors.New("placement: Client, Now, Notifier, Links, Organizer and CalendarDomain are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg, log: cfg.Logger.With("op", "placement")}, nil
}

// AddHoursExcludingWeekends returns t plus hours, not counting Saturdays and Sundays in
// loc: time that falls on a weekend does not use up the window.
func AddHoursExcludingWeekends(t time.Time, hours int, loc *time.Location) time.Time {
	cur := t.In(loc)
	left := time.Duration(hours) * time.Hour
	for left > 0 {
		if wd := cur.Weekday(); wd == time.Saturday || wd == time.Sunday {
			y, m, d := cur.Date()
			cur = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
			continue
		}
		y, m, d := cur.Date()
		midnight := time.Date(y, m, d+1, 0, 0, 0, 0, loc)
		if step := midnight.Sub(cur); step < left {
			left -= step
			cur = midnight
			continue
		}
		cur = cur.Add(left)
		left = 0
	}
	return cur.UTC()
}
