package statements

import (
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/notify"
)

// DefaultLateAfter is how long after its embargo a scheduled statement may still be
// published by the job (COALITION_STATEMENTS_LATE_AFTER); later, staff decide.
const DefaultLateAfter = time.Hour

// Config configures Service.
type Config struct {
	Client   *ent.Client
	Now      func() time.Time
	Notifier *notify.Notifier
	// Campaigns writes the announcement campaigns; Lists finds or creates the statements list.
	Campaigns *newsletter.Campaigns
	Lists     *newsletter.Service
	// PublicURL is the service's public address, for links in emails.
	PublicURL string
	// LateAfter is DefaultLateAfter when zero.
	LateAfter time.Duration
	Logger    *slog.Logger
}

// Service runs policy statements.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Client == nil || cfg.Now == nil {
		return nil, errors.New("statements: Client and Now are required")
	}
	if cfg.LateAfter <= 0 {
		cfg.LateAfter = DefaultLateAfter
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Service{cfg: cfg, log: log}, nil
}

// LateAfter is how long after its embargo a statement may still be published by the job.
func (s *Service) LateAfter() time.Duration { return s.cfg.LateAfter }

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }
