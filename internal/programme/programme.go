package programme

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/docstore"
	"github.com/gocart-coalition/coalition/internal/notify"
)

// DefaultRefereeLinkTTL is how long a referee's upload link works.
const DefaultRefereeLinkTTL = 30 * 24 * time.Hour

// DefaultMaxDocumentBytes is the largest document accepted.
const DefaultMaxDocumentBytes = 10 << 20

// Config is what the programme service needs.
type Config struct {
	// Client is used for reads outside mutations and by jobs.
	Client *ent.Client
	// Dialect of the database (dialect.SQLite or dialect.Postgres).
	Dialect string
	// Now is the service clock.
	Now func() time.Time
	// Notifier queues the emails.
	Notifier *notify.Notifier
	// Documents stores the PDF documents of applications.
	Documents *docstore.Store
	// PublicURL is where people reach the service, for links in emails (referee upload
	// pages) and document download URLs.
	PublicURL string
	// RefereeLinkTTL is how long a referee's upload link works (DefaultRefereeLinkTTL when zero).
	RefereeLinkTTL time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// RetentionMonths is how many months after a call ends its unsuccessful applications
	// (with their documents and referee letters) are kept (ApplyRetention;
	// DefaultRetentionMonths when zero).
	RetentionMonths int
}

// Service runs calls and slots.
//
// Write methods take the mutation's transactional client and return, besides internal
// errors: apperr.UserErrors for input the caller can fix or a state that forbids the
// change (nothing is written then), UNAUTHENTICATED for an anonymous caller and FORBIDDEN
// for a caller without the right.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Client == nil || cfg.Now == nil || cfg.Notifier == nil || cfg.Documents == nil || cfg.PublicURL == "" {
		return nil, errors.New("programme: Client, Now, Notifier, Documents and PublicURL are required")
	}
	if cfg.RefereeLinkTTL <= 0 {
		cfg.RefereeLinkTTL = DefaultRefereeLinkTTL
	}
	if cfg.Dialect != dialect.SQLite && cfg.Dialect != dialect.Postgres {
		return nil, fmt.Errorf("programme: unknown dialect %q", cfg.Dialect)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RetentionMonths == 0 {
		cfg.RetentionMonths = DefaultRetentionMonths
	}
	if cfg.RetentionMonths < 1 {
		return nil, fmt.Errorf("programme: RetentionMonths must be positive, got %d", cfg.RetentionMonths)
	}
	return &Service{cfg: cfg, log: cfg.Logger.With("op", "programme")}, nil
}

// today is the service's date in the coalition's zone.
func (s *Service) today() vocab.Date { return vocab.Today(s.cfg.Now()) }

// notFound is the user error of an id that does not resolve for the caller.
func notFound(what string, field []string) error {
	return apperr.Invalid(apperr.CodeNotFound, "No such "+what+".", field...)
}

// Among returns whether a user id is one of users', for access.ActsForCentre and
// access.CanActForCentre.
func Among(users []*ent.User) func(userID string) bool {
	return func(id string) bool {
		return slices.ContainsFunc(users, func(u *ent.User) bool { return string(u.ID) == id })
	}
}
