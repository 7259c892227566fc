package directory

import (
	"errors"
	"log/slog"
	"time"

	"github.com/gocart-coalition/coalition/ent"
)

// DirectoryConfig is what the directory service needs.
type DirectoryConfig struct {
	// Client is used for reads outside mutations (the directory connections).
	Client *ent.Client
	// Now is the service clock.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Directory manages organisations, host centres, their coordinators and affiliations.
//
// Write methods take the mutation's transactional client and return, besides internal
// errors: apperr.UserErrors for input the caller can fix (nothing is written then),
// UNAUTHENTICATED for an anonymous caller, FORBIDDEN for a caller without the right, and
// CONFLICT when a concurrent write took a unique name first.
type Directory struct {
	cfg DirectoryConfig
	log *slog.Logger
}

// NewDirectory checks cfg and returns the service.
func NewDirectory(cfg DirectoryConfig) (*Directory, error) {
	if cfg.Client == nil || cfg.Now == nil {
		return nil, errors.New("directory: Client and Now are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Directory{cfg: cfg, log: cfg.Logger.With("op", "directory")}, nil
}
