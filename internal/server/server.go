package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/auth"
	"github.com/gocart-coalition/coalition/internal/clock"
	"github.com/gocart-coalition/coalition/internal/consent"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/directory"
	"github.com/gocart-coalition/coalition/internal/groups"
	"github.com/gocart-coalition/coalition/internal/matchrun"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/placement"
	"github.com/gocart-coalition/coalition/internal/privacy"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/statements"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Config is what the HTTP surface needs.
type Config struct {
	Client *ent.Client
	DB     *db.DB
	Auth   *auth.Service
	// Directory is the organisations and host-centre directory.
	Directory *directory.Directory
	// WorkingGroups manages working groups and memberships.
	WorkingGroups *groups.WorkingGroups
	// Programme runs calls, slots and applications; it serves GET /documents/{id} and the
	// referee upload page.
	Programme *programme.Service
	// MatchRuns runs, compares and publishes calls' matches.
	MatchRuns *matchrun.Service
	// Placement runs the placements' lifecycle.
	Placement *placement.Service
	// Campaigns writes, approves, schedules and sends newsletter campaigns, and serves the archive.
	Campaigns *newsletter.Campaigns
	// Statements runs policy statements and serves their public read API.
	Statements *statements.Service
	// Newsletter serves the subscribe form, confirmation, unsubscribe and webhook pages.
	Newsletter *newsletter.Service
	// Privacy answers data-subject requests; it serves the data-export download page.
	Privacy *privacy.Service
	// Consent publishes consent texts and records consent.
	Consent *consent.Service
	// FormOrigins are the web sites allowed to post the subscribe form (empty: any).
	FormOrigins []string
	// Now is the service clock; every request's context carries it (internal/clock), so
	// rules that depend on today's date read the same clock as the services.
	Now      func() time.Time
	Logger   *slog.Logger
	Registry *prometheus.Registry

	PublicURL string
	SiteName  string
	// ContactEmail is where people write with questions (the home page shows it).
	ContactEmail   string
	GraphiQL       bool
	Introspection  bool
	CORSOrigins    []string
	TrustProxy     bool
	RequestTimeout time.Duration
	// MaxUploadBytes is the largest request body of an upload: a multipart/form-data POST to
	// /graphql (uploadDocument) or /referee (a referee's letter). Zero means
	// DefaultMaxUploadBytes (the 10 MiB document limit plus 1 MiB for the rest of the form).
	// Such bodies are streamed (gqlgen spools files over 1 MiB to temporary files; the
	// referee page spools the letter to one), never read into memory whole, and a body
	// over the limit is answered 413. Every other body stays limited to DefaultMaxBodyBytes.
	// The documents themselves are limited by the document store (TOO_LONG user errors).
	MaxUploadBytes int64
	// GraphQL overrides the /graphql limits (zero fields take the defaults).
	GraphQL GraphQLConfig
}

type srv struct {
	cfg Config
}

// New returns the service's http.Handler.
func New(cfg Config) (http.Handler, error) {
	if cfg.Client == nil || cfg.DB == nil || cfg.Auth == nil || cfg.Directory == nil || cfg.WorkingGroups == nil || cfg.Programme == nil || cfg.Newsletter == nil || cfg.Now == nil || cfg.Logger == nil || cfg.Registry == nil {
		return nil, errors.New("server: Client, DB, Auth, Directory, WorkingGroups, Programme, Newsletter, Now, Logger and Registry are required")
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = DefaultMaxUploadBytes
	}
	s := &srv{cfg: cfg}
	mux, err := s.routes()
	if err != nil {
		return nil, err
	}
	metrics, err := Metrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	return Chain(metrics(mux),
		RequestID,
		RealIP(cfg.TrustProxy),
		AccessLog(cfg.Logger),
		Recover(cfg.Logger),
		SecurityHeaders(cfg.PublicURL),
		CORS(cfg.CORSOrigins),
		s.bodyLimit,
		s.requestInfo,
		s.timeout,
	), nil
}

// requestInfo makes the request id and client address available to the audit trail, and
// the service clock to rules that have only the context (internal/clock).
func (s *srv) requestInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := audit.WithRequest(r.Context(), audit.RequestInfo{
			ID: RequestIDFromContext(r.Context()), IP: ClientIP(r), UserAgent: r.UserAgent(),
		})
		ctx = clock.WithNow(ctx, s.cfg.Now)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// timeout bounds the work of one request: the context is cancelled after RequestTimeout,
// which stops database work in progress.
func (s *srv) timeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// authenticate turns `Authorization: Bearer …` into the viewer of the request. No header
// means an anonymous viewer; a header that does not name a valid credential is refused with
// 401, so a client with an expired token learns it at once instead of seeing empty data.
func (s *srv) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r.WithContext(viewer.NewContext(r.Context(), viewer.Viewer{})))
			return
		}
		scheme, secret, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="coalition"`)
			writeJSONError(w, http.StatusUnauthorized, string(apperr.Unauthenticated), "", "use Authorization: Bearer <token>", RequestIDFromContext(r.Context()))
			return
		}
		v, err := s.cfg.Auth.Authenticate(r.Context(), strings.TrimSpace(secret))
		if err != nil {
			if apperr.KindOf(err) == apperr.Unauthenticated {
				w.Header().Set("WWW-Authenticate", `Bearer realm="coalition", error="invalid_token"`)
				writeJSONError(w, http.StatusUnauthorized, string(apperr.Unauthenticated), "", apperr.MessageOf(err), RequestIDFromContext(r.Context()))
				return
			}
			if db.IsUnavailable(err) {
				s.cfg.Logger.WarnContext(r.Context(), "authenticate: database unavailable", "err", err, "request_id", RequestIDFromContext(r.Context()))
				writeUnavailable(w, r)
				return
			}
			s.cfg.Logger.ErrorContext(r.Context(), "authenticate", "err", err, "request_id", RequestIDFromContext(r.Context()))
			writeJSONError(w, http.StatusInternalServerError, string(apperr.Internal), "", "internal error", RequestIDFromContext(r.Context()))
			return
		}
		next.ServeHTTP(w, r.WithContext(viewer.NewContext(r.Context(), v)))
	})
}
