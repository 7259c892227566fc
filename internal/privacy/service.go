package privacy

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/docstore"
	"github.com/gocart-coalition/coalition/internal/notify"
)

// ExportsJobName is the job that builds queued exports and deletes expired ones.
const ExportsJobName = "privacy.exports"

// ExportsJobInterval is how often the exports job runs (it is also woken after a request
// commits in this process).
const ExportsJobInterval = time.Minute

// LinkValidity is how long an export's download link works.
const LinkValidity = 7 * 24 * time.Hour

// linkPrefix marks a download link's secret.
const linkPrefix = "dx_"

// Config is what the privacy service needs.
type Config struct {
	Client   *ent.Client
	Now      func() time.Time
	Notifier *notify.Notifier
	Registry *Registry
	// Dir holds the built ZIP files (DATA_DIR/exports).
	Dir string
	// Documents is the store the uploaded documents are read from.
	Documents *docstore.Store
	// PublicURL is the service's address, for the download link.
	PublicURL string
	// Wake, when set, asks the exports job to run soon (after a request commits).
	Wake func()
	// WakeErasures, when set, asks the erasures job to run soon (after a self-service
	// request or an approval commits).
	WakeErasures func()
	Logger       *slog.Logger
}

// Service handles data-subject requests.
//
// Write methods take the mutation's transactional client and return, besides internal
// errors: apperr.UserErrors for input the caller can fix (nothing is written then),
// UNAUTHENTICATED for an anonymous caller and FORBIDDEN for a caller without the right.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg, creates Dir and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Client == nil || cfg.Now == nil || cfg.Notifier == nil || cfg.Registry == nil || cfg.Dir == "" || cfg.Documents == nil {
		return nil, errors.New("privacy: Client, Now, Notifier, Registry, Dir and Documents are required")
	}
	if len(cfg.Registry.Domains()) == 0 {
		return nil, ErrNoDomains
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("privacy: exports directory: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	if cfg.WakeErasures == nil {
		cfg.WakeErasures = func() {}
	}
	return &Service{cfg: cfg, log: cfg.Logger.With("op", "privacy")}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// DownloadURL is the page an export's link opens.
func (s *Service) DownloadURL(secret string) string {
	return strings.TrimRight(s.cfg.PublicURL, "/") + DownloadPath + "?token=" + secret
}

// DownloadPath is the download page's path.
const DownloadPath = "/exports/download"
