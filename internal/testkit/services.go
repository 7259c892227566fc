package testkit

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/app"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/clock"
	"github.com/gocart-coalition/coalition/internal/config"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Services is the app wired exactly as `coalition serve` wires it (app.New), over a fresh
// database, with a fixed clock and without an HTTP server: package-level tests call its
// services directly, as each viewer. Mail goes to the outbox (a file transport that
// nothing drains unless the test does); tests count outbox rows.
type Services struct {
	*app.App
	TB    testing.TB
	Clock *Clock
}

// PublicURL is the public URL of Services (links in emails start with it).
const PublicURL = "https://coalition.test"

// NewServices wires the app over d.
func NewServices(tb testing.TB, d *db.DB) *Services {
	tb.Helper()
	return NewServicesWith(tb, d, nil)
}

// NewServicesWith wires the app over d with the configuration changed by configure (when
// not nil), e.g. a retention period or a key.
func NewServicesWith(tb testing.TB, d *db.DB, configure func(*config.Config)) *Services {
	tb.Helper()
	s := &Services{TB: tb, Clock: NewClock(DefaultNow)}
	cfg := config.Defaults()
	cfg.DataDir = tb.TempDir()
	cfg.DatabaseURL = "unused: the test passes its database"
	cfg.MailFrom = "CAR-T Coalition <office@coalition.test>"
	cfg.PublicURL = PublicURL
	cfg.SignInURL = PublicURL + "/signin"
	if configure != nil {
		configure(&cfg)
	}
	a, err := app.New(context.Background(), app.Options{
		Config: cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: s.Clock.Now, DB: d,
	})
	if err != nil {
		tb.Fatalf("app: %v", err)
	}
	s.App = a
	return s
}

// EachServices runs fn as a subtest per dialect with fresh Services.
func EachServices(t *testing.T, fn func(t *testing.T, s *Services)) {
	t.Helper()
	EachDialect(t, func(t *testing.T, d *db.DB) { fn(t, NewServices(t, d)) })
}

// ctx is a background context with the test clock, as the server middleware and the job
// runner give every request and run.
func (s *Services) ctx() context.Context {
	return clock.WithNow(context.Background(), s.Clock.Now)
}

// System is a context acting as the system viewer.
func (s *Services) System() context.Context { return viewer.NewSystemContext(s.ctx()) }

// Anonymous is a context with nobody signed in.
func (s *Services) Anonymous() context.Context { return viewer.NewContext(s.ctx(), viewer.Viewer{}) }

// As is a context acting as u signed in with a session (both scopes), holding the roles u
// holds now: pass a user reloaded after a role change (Reload).
func (s *Services) As(u *ent.User) context.Context {
	return viewer.NewContext(s.ctx(), viewer.Viewer{
		Kind: viewer.User, UserID: string(u.ID), Email: u.Email, Roles: u.Roles,
		Scopes: viewer.AllScopes, SessionID: "ses_test",
	})
}

// Reload reads u again (as the system), e.g. after a role was revoked.
func (s *Services) Reload(u *ent.User) *ent.User {
	s.TB.Helper()
	u, err := s.DB.Client.User.Get(s.System(), u.ID)
	if err != nil {
		s.TB.Fatalf("reload user: %v", err)
	}
	return u
}

// Do runs fn in one transaction opened like /graphql's transactioner (in the context, so
// commit hooks and the outbox see it) and commits it whatever fn returns, as a mutation
// that answers with userErrors commits: a refused call that wrote anything would leave it
// in the database, where the test's counts find it. On PostgreSQL a transaction in which a
// statement failed cannot commit; it is then rolled back. fn's error is returned.
func (s *Services) Do(ctx context.Context, fn func(ctx context.Context, tx *ent.Client) error) error {
	s.TB.Helper()
	txCtx, _, err := s.DB.Client.OpenTx(ctx)
	if err != nil {
		s.TB.Fatalf("begin: %v", err)
	}
	tx := ent.TxFromContext(txCtx)
	ferr := fn(txCtx, tx.Client())
	if cerr := tx.Commit(); cerr != nil {
		_ = tx.Rollback()
		if ferr == nil {
			s.TB.Fatalf("commit: %v", cerr)
		}
	}
	return ferr
}

// Must runs fn as Do does and fails the test on any error.
func (s *Services) Must(ctx context.Context, fn func(ctx context.Context, tx *ent.Client) error) {
	s.TB.Helper()
	if err := s.Do(ctx, fn); err != nil {
		s.TB.Fatalf("unexpected error: %v", err)
	}
}

// Count counts the rows of q as the system (e.g. s.Count(s.DB.Client.Call.Query())).
func Count[Q interface {
	Count(context.Context) (int, error)
}](s *Services, q Q) int {
	s.TB.Helper()
	n, err := q.Count(s.System())
	if err != nil {
		s.TB.Fatalf("count: %v", err)
	}
	return n
}

// Outcome names what a service answered, for table tests: "ok" for no error, the user
// error codes in order, each once and joined by spaces ("REQUIRED INVALID"), or the
// error's kind (UNAUTHENTICATED, FORBIDDEN, CONFLICT…; INTERNAL for anything else).
func Outcome(err error) string {
	if err == nil {
		return "ok"
	}
	if ue, ok := apperr.AsUserErrors(err); ok {
		var codes []string
		for _, e := range ue {
			if !slices.Contains(codes, string(e.Code)) {
				codes = append(codes, string(e.Code))
			}
		}
		return strings.Join(codes, " ")
	}
	return string(apperr.KindOf(err))
}
