package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/auth"
	"github.com/gocart-coalition/coalition/internal/config"
	"github.com/gocart-coalition/coalition/internal/consent"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/directory"
	"github.com/gocart-coalition/coalition/internal/docstore"
	"github.com/gocart-coalition/coalition/internal/groups"
	"github.com/gocart-coalition/coalition/internal/jobs"
	cmail "github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/matchrun"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/outbox"
	"github.com/gocart-coalition/coalition/internal/placement"
	"github.com/gocart-coalition/coalition/internal/privacy"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/retention"
	"github.com/gocart-coalition/coalition/internal/server"
	"github.com/gocart-coalition/coalition/internal/statements"
	"github.com/gocart-coalition/coalition/templates"
)

// SiteName is how emails and pages name the service.
const SiteName = "CAR-T Coalition"

// Options are what New needs besides the configuration.
type Options struct {
	Config config.Config
	Logger *slog.Logger
	// Now is the clock of every service (default time.Now).
	Now func() time.Time
	// DB, when set, is used instead of opening Config.DatabaseURL (tests pass a fresh one).
	DB *db.DB
	// Transport, when set, replaces the transport chosen from the configuration.
	Transport cmail.Transport
}

// App is a wired coalition service.
type App struct {
	Config config.Config
	DB     *db.DB
	Auth   *auth.Service
	// Directory is the organisations and host-centre directory.
	Directory *directory.Directory
	// WorkingGroups manages working groups and memberships.
	WorkingGroups *groups.WorkingGroups
	// Programme runs calls and their slots.
	Programme *programme.Service
	// MatchRuns runs, compares and publishes calls' matches.
	MatchRuns *matchrun.Service
	// Placement runs the placements' lifecycle once a match is published.
	Placement *placement.Service
	// Newsletter owns the mailing lists, subscribers and suppression.
	Newsletter *newsletter.Service
	// Campaigns writes, approves, schedules and sends newsletter campaigns.
	Campaigns *newsletter.Campaigns
	// Privacy answers data-subject requests (data exports) across every domain.
	Privacy *privacy.Service
	// Consent publishes consent texts and records consent for every purpose.
	Consent *consent.Service
	// Statements runs policy statements: revisions, sign-off, publication.
	Statements *statements.Service
	// Retention applies the retention rules of internal/retention.
	Retention *retention.Service
	Notifier  *notify.Notifier
	Outbox    *outbox.Worker
	Jobs      *jobs.Runner
	Handler   http.Handler
	Registry  *prometheus.Registry

	log     *slog.Logger
	now     func() time.Time
	ownDB   bool
	closeMu sync.Mutex
	closed  bool
}

// Job names.
const (
	JobOutbox      = outbox.DispatchJobName
	JobAuthCleanup = retention.JobAuthCleanup
	JobTermWarning = groups.TermWarningJobName
	// JobDeclarationReminder asks members to declare or renew their interests.
	JobDeclarationReminder = groups.DeclarationReminderJobName
	// JobDeadlineReminder reminds trainees with unsubmitted drafts of a call's deadline.
	JobDeadlineReminder = programme.DeadlineReminderJobName
	// JobPlacements expires unanswered offers, offers free places to the waiting list,
	// completes past placements and sends placement reminders.
	JobPlacements = placement.JobName
	// JobCallDeadlines closes calls at their application deadline and ranking at the
	// ranking deadline.
	JobCallDeadlines = programme.CallDeadlinesJobName
	// JobDocumentsGC deletes stored documents no application refers to any more.
	JobDocumentsGC = programme.DocumentsJobName
	// JobCampaigns starts scheduled campaigns, writes their deliveries and marks them sent.
	JobCampaigns = newsletter.CampaignsJobName
	// JobExports builds requested data exports and deletes expired ones.
	JobExports = privacy.ExportsJobName
	// JobErasures erases the people whose erasure is queued (self-service or approved).
	JobErasures = privacy.ErasuresJobName
	// JobStatements publishes policy statements whose embargo has come.
	JobStatements = statements.JobName
	// JobStatementReviews reminds staff of statements due for review.
	JobStatementReviews = statements.ReviewJobName
)

// New opens (or adopts) the database, applies pending migrations unless Config.NoMigrate,
// and builds every service.
func New(ctx context.Context, opts Options) (_ *App, err error) {
	cfg := opts.Config
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	a := &App{Config: cfg, log: log, now: now, DB: opts.DB}
	if a.DB == nil {
		d, err := db.Open(ctx, cfg.DatabaseURL, db.Options{})
		if err != nil {
			return nil, err
		}
		a.DB, a.ownDB = d, true
	}
	defer func() {
		if err != nil && a.ownDB {
			a.DB.Close()
		}
	}()
	if err := a.migrate(ctx); err != nil {
		return nil, err
	}
	audit.Install(a.DB.Client, now)

	from, err := mail.ParseAddress(cfg.MailFrom)
	if err != nil {
		return nil, fmt.Errorf("COALITION_MAIL_FROM %q: %w", cfg.MailFrom, err)
	}
	transport := opts.Transport
	if transport == nil {
		if transport, err = newTransport(cfg, from.Address); err != nil {
			return nil, err
		}
	}

	a.Registry = prometheus.NewRegistry()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// The newsletter key signs unsubscribe links and keys the erased addresses' hashes in
	// the suppression list (checked again when newsletter mail is claimed).
	key, err := newsletterKey(cfg)
	if err != nil {
		return nil, err
	}
	owner := jobs.NewOwner()
	a.Jobs, err = jobs.NewRunner(jobs.RunnerConfig{Client: a.DB.Client, Now: now, Owner: owner, Logger: log})
	if err != nil {
		return nil, err
	}
	a.Outbox, err = outbox.NewWorker(outbox.WorkerConfig{
		Client:        a.DB.Client,
		Dialect:       a.DB.Dialect,
		Transport:     transport,
		From:          cmail.Address{Name: from.Name, Email: from.Address},
		Now:           now,
		Concurrency:   cfg.MailWorkers,
		RatePerSecond: cfg.MailRate,
		// Bulk lane: newsletters are paced separately and always claimed after
		// transactional mail.
		BulkRatePerSecond: cfg.MailBulkRate,
		BackoffBase:       cfg.MailRetryBase,
		Owner:             owner,
		Logger:            log,
		Metrics:           outbox.NewMetrics(a.Registry, a.DB.Client),
		// Newsletter mail is checked against the suppression list again when it is
		// claimed (an unsubscribe takes effect for every message not yet handed to the
		// relay), a paused or cancelled campaign holds whichever process claims its
		// deliveries (and after a crash), and a hard bounce of any lane suppresses the
		// address for newsletters.
		SuppressBulk: newsletter.SuppressBulkKeyed(key),
		HaltedBulk:   newsletter.HaltedBulk,
		OnHardBounce: func(ctx context.Context, b outbox.Bounce) {
			if err := newsletter.RecordBounce(ctx, a.DB.Client, b.Recipient, b.Err); err != nil {
				log.WarnContext(ctx, "record hard bounce", "message", b.MessageID, "err", err)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	contact := cfg.ContactEmail
	if contact == "" {
		contact = from.Address
	}
	renderer, err := notify.NewRenderer(templates.FS, notify.Common{SiteName: SiteName, PublicURL: cfg.PublicURL, SupportEmail: contact})
	if err != nil {
		return nil, err
	}
	a.Notifier, err = notify.New(notify.Config{
		Renderer: renderer,
		Now:      now,
		ReplyTo:  contact,
		// An email committed by this process goes out at once, not at the next poll.
		Wake: func() { _ = a.Jobs.Trigger(JobOutbox) },
	})
	if err != nil {
		return nil, err
	}
	a.Auth, err = auth.New(auth.Config{
		Client: a.DB.Client, Now: now, Notifier: a.Notifier, SignInURL: cfg.SignInURL, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	a.Directory, err = directory.NewDirectory(directory.DirectoryConfig{Client: a.DB.Client, Now: now, Logger: log})
	if err != nil {
		return nil, err
	}
	a.Consent, err = consent.New(consent.Config{Client: a.DB.Client, Now: now, Logger: log})
	if err != nil {
		return nil, err
	}
	public, err := url.Parse(cfg.PublicURL)
	if err != nil || public.Hostname() == "" {
		return nil, fmt.Errorf("COALITION_PUBLIC_URL %q: not an absolute URL", cfg.PublicURL)
	}
	a.WorkingGroups, err = groups.NewWorkingGroups(groups.WorkingGroupsConfig{
		Client: a.DB.Client, Dialect: a.DB.Dialect, Now: now, Notifier: a.Notifier, Links: a.Auth, Logger: log,
		Organizer:      cmail.Address{Name: from.Name, Email: from.Address},
		CalendarDomain: public.Hostname(),
	})
	if err != nil {
		return nil, err
	}
	documents, err := docstore.New(cfg.DocumentsDir(), programme.DefaultMaxDocumentBytes)
	if err != nil {
		return nil, fmt.Errorf("document store: %w", err)
	}
	a.Programme, err = programme.New(programme.Config{
		Client: a.DB.Client, Dialect: a.DB.Dialect, Now: now, Notifier: a.Notifier, Logger: log,
		Documents: documents, PublicURL: cfg.PublicURL, RetentionMonths: cfg.RetentionApplicationsMonths,
	})
	if err != nil {
		return nil, err
	}
	a.MatchRuns, err = matchrun.New(matchrun.Config{
		Client: a.DB.Client, Dialect: a.DB.Dialect, Now: now, Notifier: a.Notifier, Logger: log, Links: a.Auth,
	})
	if err != nil {
		return nil, err
	}
	a.Placement, err = placement.New(placement.Config{
		Client: a.DB.Client, Dialect: a.DB.Dialect, Now: now, Notifier: a.Notifier, Logger: log,
		Organizer: cmail.Address{Name: from.Name, Email: from.Address}, CalendarDomain: public.Hostname(),
		Wake:  func() { _ = a.Jobs.Trigger(JobPlacements) },
		Links: a.Auth,
	})
	if err != nil {
		return nil, err
	}
	// Emails carry sign-in links that also do what the email asks: answer an invitation
	// (membership.*), accept, decline or confirm a placement (placement.*).
	a.Newsletter, err = newsletter.New(newsletter.Config{
		Client: a.DB.Client, Dialect: a.DB.Dialect, Now: now, Notifier: a.Notifier, Logger: log,
		PublicURL: cfg.PublicURL, Key: key, WebhookSecret: cfg.NewsletterWebhookSecret, ConsentText: cfg.NewsletterConsentText,
	})
	if err != nil {
		return nil, err
	}
	a.Campaigns, err = newsletter.NewCampaigns(newsletter.CampaignsConfig{
		Client: a.DB.Client, Dialect: a.DB.Dialect, Now: now, Notifier: a.Notifier, Logger: log,
		PublicURL: cfg.PublicURL, LateAfter: cfg.NewsletterLateAfter,
		Outbox: newsletter.OutboxDeliveries{}, Links: a.Newsletter,
		Wake: func() { _ = a.Jobs.Trigger(JobCampaigns) },
	})
	if err != nil {
		return nil, err
	}
	if err := a.Campaigns.RegisterMetrics(a.Registry); err != nil {
		return nil, err
	}
	registry, err := privacyRegistry(key, a.Placement)
	if err != nil {
		return nil, err
	}
	a.Privacy, err = privacy.New(privacy.Config{
		Client: a.DB.Client, Now: now, Notifier: a.Notifier, Registry: registry, Dir: cfg.ExportsDir(),
		Documents: documents, PublicURL: cfg.PublicURL, Logger: log,
		Wake:         func() { _ = a.Jobs.Trigger(JobExports) },
		WakeErasures: func() { _ = a.Jobs.Trigger(JobErasures) },
	})
	if err != nil {
		return nil, err
	}
	a.Statements, err = statements.New(statements.Config{
		Client: a.DB.Client, Now: now, Notifier: a.Notifier, Logger: log,
		Campaigns: a.Campaigns, Lists: a.Newsletter, PublicURL: cfg.PublicURL, LateAfter: cfg.StatementsLateAfter,
	})
	if err != nil {
		return nil, err
	}
	a.Retention, err = retention.New(retention.Config{
		Client: a.DB.Client, Now: now, Logger: log, AuditKey: []byte(cfg.AuditKey),
		Settings: RetentionSettings(cfg),
	})
	if err != nil {
		return nil, err
	}
	a.Auth.RegisterIntent("membership", a.WorkingGroups)
	a.Auth.RegisterIntent("placement", a.Placement)
	for _, j := range []jobs.Job{
		// Every second: mail queued by another process (a bulk send started elsewhere, a
		// CLI) waits at most that long; mail queued here is sent at once (Notify). An idle
		// claim is two indexed lookups.
		a.Outbox.DispatchJob(time.Second),
		{Name: JobAuthCleanup, Interval: time.Hour, Run: func(ctx context.Context) error {
			_, err := a.Auth.DeleteExpired(ctx)
			return err
		}},
		// Daily; a day missed is caught up the next (the warning window is 30 days wide).
		{Name: JobTermWarning, Interval: 24 * time.Hour, Run: func(ctx context.Context) error {
			_, err := a.WorkingGroups.WarnTermsEnding(ctx)
			return err
		}},
		{Name: JobDeclarationReminder, Interval: 24 * time.Hour, Run: func(ctx context.Context) error {
			_, err := a.WorkingGroups.RemindDeclarations(ctx)
			return err
		}},
		{Name: JobDeadlineReminder, Interval: time.Hour, Run: func(ctx context.Context) error {
			_, err := a.Programme.RemindDeadlines(ctx)
			return err
		}},
		// Every 5 minutes: the steps that depend on a deadline check the instant
		// themselves; the job makes the call's status follow within minutes and tells staff.
		{Name: JobCallDeadlines, Interval: programme.CallDeadlinesInterval, Run: func(ctx context.Context) error {
			_, err := a.Programme.CloseDue(ctx)
			return err
		}},
		{Name: JobPlacements, Interval: time.Hour, Run: func(ctx context.Context) error {
			_, err := a.Placement.Maintain(ctx)
			return err
		}},
		{Name: JobDocumentsGC, Interval: 24 * time.Hour, Run: func(ctx context.Context) error {
			_, err := a.Programme.CollectDocuments(ctx)
			return err
		}},
		// Daily: the retention rule of applications and referee letters (internal/retention
		// lists it; the programme owns the rows and the documents).
		{Name: retention.JobApplications, Interval: 24 * time.Hour, Run: func(ctx context.Context) error {
			_, err := a.Programme.ApplyRetention(ctx)
			_ = a.Jobs.Trigger(JobOutbox) // the warnings leave now
			return err
		}},
		// Every 30 s, and at once after a commit that started or resumed a campaign.
		{Name: JobCampaigns, Interval: newsletter.CampaignsJobInterval, Run: func(ctx context.Context) error {
			_, _, err := a.Campaigns.Run(ctx)
			// Deliveries written by this run go out now, not at the outbox's next poll.
			_ = a.Jobs.Trigger(JobOutbox)
			return err
		}},
		// Every minute, and at once after a request commits in this process.
		{Name: JobExports, Interval: privacy.ExportsJobInterval, Run: func(ctx context.Context) error {
			_, _, err := a.Privacy.RunExports(ctx)
			_ = a.Jobs.Trigger(JobOutbox)
			return err
		}},
		// Every minute, and at once after a self-service request or an approval commits
		// in this process; the outbox then sends whatever the erasure did not cancel.
		{Name: JobErasures, Interval: privacy.ErasuresJobInterval, Run: func(ctx context.Context) error {
			_, err := a.Privacy.RunErasures(ctx)
			return err
		}},
		// Every 30 s: an embargo is kept to within the interval; a publication's
		// announcement starts sending at once (the campaigns job is woken by its commit).
		{Name: JobStatements, Interval: 30 * time.Second, Run: func(ctx context.Context) error {
			_, err := a.Statements.Run(ctx)
			return err
		}},
		{Name: JobStatementReviews, Interval: 24 * time.Hour, Run: func(ctx context.Context) error {
			_, err := a.Statements.RemindReviews(ctx)
			return err
		}},
	} {
		if err := a.Jobs.Register(j); err != nil {
			return nil, err
		}
	}
	for _, j := range a.Retention.Jobs() {
		if err := a.Jobs.Register(j); err != nil {
			return nil, err
		}
	}
	a.Handler, err = server.New(server.Config{
		Client:         a.DB.Client,
		DB:             a.DB,
		Auth:           a.Auth,
		Directory:      a.Directory,
		WorkingGroups:  a.WorkingGroups,
		Programme:      a.Programme,
		MatchRuns:      a.MatchRuns,
		Placement:      a.Placement,
		Newsletter:     a.Newsletter,
		Campaigns:      a.Campaigns,
		Privacy:        a.Privacy,
		Consent:        a.Consent,
		Statements:     a.Statements,
		FormOrigins:    cfg.NewsletterFormOrigins,
		MaxUploadBytes: cfg.MaxUploadBytes,
		Now:            now,
		Logger:         log,
		Registry:       a.Registry,
		PublicURL:      cfg.PublicURL,
		SiteName:       SiteName,
		ContactEmail:   contact,
		GraphiQL:       cfg.GraphiQL,
		Introspection:  cfg.Introspection,
		CORSOrigins:    cfg.CORSOrigins,
		TrustProxy:     cfg.TrustProxy,
		RequestTimeout: cfg.RequestTimeout,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (a *App) migrate(ctx context.Context) error {
	if a.Config.NoMigrate {
		st, err := a.DB.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		if !st.Current() {
			return fmt.Errorf("%d migration(s) pending (%s) and --no-migrate is set: run `coalition migrate`", len(st.Pending), strings.Join(st.Pending, ", "))
		}
		return nil
	}
	applied, err := a.DB.Migrate(ctx)
	if err != nil {
		return err
	}
	for _, f := range applied {
		a.log.InfoContext(ctx, "migration applied", "file", f)
	}
	return nil
}

func newTransport(cfg config.Config, fromAddr string) (cmail.Transport, error) {
	domain := fromAddr[strings.LastIndexByte(fromAddr, '@')+1:]
	if cfg.SMTPURL == "" {
		return cmail.NewFile(cfg.MailDir(), domain)
	}
	sc, err := cmail.ParseSMTPURL(cfg.SMTPURL)
	if err != nil {
		return nil, fmt.Errorf("COALITION_SMTP_URL: %w", err)
	}
	sc.MessageIDDomain = domain
	if cfg.DKIMKeyFile != "" {
		d := cfg.DKIMDomain
		if d == "" {
			d = domain
		}
		sc.DKIM = &cmail.DKIMConfig{Domain: d, Selector: cfg.DKIMSelector, KeyFile: cfg.DKIMKeyFile}
	}
	return cmail.NewSMTP(sc)
}

// Serve serves HTTP on ln and runs the scheduled jobs (the outbox among them) until ctx is
// cancelled, then shuts down gracefully: it stops accepting connections, lets in-flight
// requests finish, lets running jobs (an outbox batch in flight) finish, within
// Config.ShutdownGrace.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       a.Config.RequestTimeout,
		WriteTimeout:      a.Config.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	jobsDone := make(chan error, 1)
	go func() { jobsDone <- a.Jobs.Start(jobsCtx) }()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	a.log.InfoContext(ctx, "coalition serving", "addr", ln.Addr().String(), "public_url", a.Config.PublicURL, "database", a.DB.Dialect)

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.Config.ShutdownGrace)
	defer cancel()
	a.log.Info("shutting down", "grace", a.Config.ShutdownGrace.String())
	if serr := srv.Shutdown(grace); serr != nil {
		err = errors.Join(err, fmt.Errorf("http shutdown: %w", serr))
	}
	stopJobs()
	select {
	case jerr := <-jobsDone:
		if jerr != nil && !errors.Is(jerr, context.Canceled) {
			err = errors.Join(err, jerr)
		}
	case <-grace.Done():
		err = errors.Join(err, errors.New("jobs did not stop within the shutdown grace period"))
	}
	// Jobs have stopped: nobody sends any more; say goodbye to the SMTP server.
	if cerr := a.Outbox.Close(); cerr != nil {
		a.log.Warn("close outbox senders", "err", cerr)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close releases the database if New opened it.
func (a *App) Close() error {
	a.closeMu.Lock()
	defer a.closeMu.Unlock()
	if a.closed || !a.ownDB {
		return nil
	}
	a.closed = true
	return a.DB.Close()
}

// newsletterKey is the key that signs unsubscribe links: COALITION_NEWSLETTER_KEY, or a
// random one kept in DATA_DIR/newsletter.key (made on first start, mode 0600), so links
// keep working across restarts of a single-host deployment. Several processes must share
// one key: set the variable.
func newsletterKey(cfg config.Config) ([]byte, error) {
	if cfg.NewsletterKey != "" {
		return []byte(cfg.NewsletterKey), nil
	}
	path := cfg.NewsletterKeyFile()
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("newsletter key: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	key := []byte(hex.EncodeToString(b))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another process made it meanwhile: use theirs.
		if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
			return b, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("newsletter key: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(key); err != nil {
		return nil, fmt.Errorf("newsletter key: %w", err)
	}
	return key, nil
}

// RetentionSettings are the retention periods of cfg.
func RetentionSettings(cfg config.Config) retention.Settings {
	return retention.Settings{
		AuditYears: cfg.RetentionAuditYears, MailBodyDays: cfg.RetentionMailBodyDays,
		UnconfirmedDays: cfg.RetentionUnconfirmedDays, ApplicationsMonths: cfg.RetentionApplicationsMonths,
	}
}
