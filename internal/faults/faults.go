package faults

import (
	"bytes"
	"context"
	stdsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for the admin connection

	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/predicate"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/outbox"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// MailWorkers is the outbox concurrency of every process started here: a crash may send
// again at most this many messages (the ones in flight).
const MailWorkers = 2

// newsletterKey signs the unsubscribe links of every process started here.
const newsletterKey = "faults-newsletter-key-0123456789abcdef"

// Targets of the issue, checked by Run.
const (
	StallAfterRestart  = 15 * time.Second // first email after a restart of the process
	StallSurvivor      = 30 * time.Second // first email from the surviving process
	StallAfterDBReturn = 15 * time.Second // first email after the database is back
	StallAfterRelay    = 15 * time.Second // first email after the relay is back
)

// Config says what to run against.
type Config struct {
	// Bin is the coalition binary.
	Bin string
	// PostgresURL is an admin URL of a PostgreSQL server where a scratch database may be
	// created and dropped (the two-process scenario); empty skips that scenario.
	PostgresURL string
	// PGBinDir holds initdb and pg_ctl (the database-restart scenario, which runs a
	// server of its own); empty looks under /usr/lib/postgresql.
	PGBinDir string
	// Log receives progress lines.
	Log io.Writer
	// Only, when set, runs just the scenarios whose names it matches (while working on
	// one); `make faults` runs them all.
	Only *regexp.Regexp
}

// Result is one scenario's outcome.
type Result struct {
	Name       string
	Queued     int
	Delivered  int           // distinct messages the relay accepted
	Duplicated int           // deliveries beyond the first of a message
	Failed     int           // recorded failed (permanent rejections): accounted for, not lost
	Lost       int           // neither delivered nor recorded failed
	InFlight   int           // SMTP transactions in progress when the fault struck
	Stall      time.Duration // how long mail stopped (see each scenario)
	StallLimit time.Duration
	Err        error
}

// OK reports whether the scenario met its targets.
func (r Result) OK() bool {
	return r.Err == nil && r.Lost == 0 && r.Duplicated <= MailWorkers && (r.StallLimit == 0 || r.Stall <= r.StallLimit)
}

// Run runs every scenario it can and returns their results.
func Run(ctx context.Context, cfg Config) []Result {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	type scenario struct {
		name string
		fn   func(context.Context, *run) error
		skip string
	}
	pgBin, pgErr := pgBinDir(cfg.PGBinDir)
	all := []scenario{
		{name: "sqlite-sigkill-restart", fn: sqliteKill},
		{name: "postgres-two-processes-one-killed", fn: postgresTwo, skip: skipIf(cfg.PostgresURL == "", "no PostgreSQL URL (set COALITION_TEST_POSTGRES_URL)")},
		{name: "postgres-restart-under-service", fn: func(ctx context.Context, r *run) error { return postgresRestart(ctx, r, pgBin) }, skip: skipIf(pgErr != nil, fmt.Sprint(pgErr))},
		{name: "relay-4xx", fn: relay4xx},
		{name: "relay-refused", fn: relayRefused},
		{name: "relay-5xx", fn: relay5xx},
		{name: "campaign-sigkill-restart", fn: campaignKill},
		{name: "campaign-relay-4xx-5xx", fn: campaignRelay},
		{name: "campaign-pause-kill-resume", fn: campaignPause},
		{name: "campaign-postgres-two-processes", fn: campaignPostgresTwo, skip: skipIf(cfg.PostgresURL == "", "no PostgreSQL URL (set COALITION_TEST_POSTGRES_URL)")},
	}
	var results []Result
	for _, s := range all {
		if cfg.Only != nil && !cfg.Only.MatchString(s.name) {
			continue
		}
		if s.skip != "" {
			// A scenario that cannot run is a failure, not a pass with fewer scenarios.
			fmt.Fprintf(cfg.Log, "faults: %s: FAILED: cannot run: %s\n", s.name, s.skip)
			results = append(results, Result{Name: s.name, Err: errors.New("cannot run: " + s.skip)})
			continue
		}
		fmt.Fprintf(cfg.Log, "faults: %s: running\n", s.name)
		r := &run{cfg: cfg, res: Result{Name: s.name}}
		start := time.Now()
		err := r.do(ctx, s.fn)
		r.res.Err = err
		results = append(results, r.res)
		fmt.Fprintf(cfg.Log, "faults: %s: %s (%.0f s)\n", s.name, r.res, time.Since(start).Seconds())
	}
	return results
}

func skipIf(cond bool, why string) string {
	if cond {
		return why
	}
	return ""
}

func (r Result) String() string {
	status := "ok"
	if !r.OK() {
		status = "FAILED"
	}
	s := fmt.Sprintf("%s queued=%d delivered=%d failed=%d lost=%d duplicated=%d in-flight=%d stall=%.1fs (limit %s)",
		status, r.Queued, r.Delivered, r.Failed, r.Lost, r.Duplicated, r.InFlight, r.Stall.Seconds(), r.StallLimit)
	if r.Err != nil {
		s += " error: " + r.Err.Error()
	}
	return s
}

// Summary is the last line `make faults` prints.
func Summary(results []Result) string {
	var lost, dup, inflight int
	var stall time.Duration
	for _, r := range results {
		lost += r.Lost
		dup += r.Duplicated
		inflight += r.InFlight
		stall = max(stall, r.Stall)
	}
	return fmt.Sprintf("faults: lost=%d duplicated=%d in-flight=%d scenarios=%d stall_max=%.1f s", lost, dup, inflight, len(results), stall.Seconds())
}

// run is one scenario's state: its relay, its processes, its scratch directory.
type run struct {
	cfg   Config
	res   Result
	dir   string
	smtp  *testkit.SMTPServer
	procs []*proc
	// subject prefix of this scenario's emails
	prefix string
}

func (r *run) do(ctx context.Context, fn func(context.Context, *run) error) (err error) {
	r.dir, err = os.MkdirTemp("", "coalition-faults-")
	if err != nil {
		return err
	}
	r.prefix = "faults " + r.res.Name
	r.smtp, err = testkit.NewSMTPServer()
	if err != nil {
		return err
	}
	defer func() {
		for _, p := range r.procs {
			p.stop()
		}
		r.smtp.Stop()
		if err != nil || !r.res.OK() {
			for _, p := range r.procs {
				fmt.Fprintf(r.cfg.Log, "--- last lines of %s ---\n%s\n", p.name, tail(p.logPath, 30))
			}
		}
		_ = os.RemoveAll(r.dir)
	}()
	return fn(ctx, r)
}

// proc is one `coalition serve`.
type proc struct {
	name    string
	cmd     *exec.Cmd
	addr    string
	logPath string
	done    chan struct{}
}

// serve starts `coalition serve` on dbURL with this run's relay and waits until it is ready.
func (r *run) serve(ctx context.Context, name, dbURL string) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	dataDir := filepath.Join(r.dir, "data-"+name)
	logPath := filepath.Join(r.dir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(r.cfg.Bin, "serve")
	cmd.Env = append(os.Environ(),
		"COALITION_HTTP_ADDR="+addr,
		"COALITION_DATA_DIR="+dataDir,
		"COALITION_DATABASE_URL="+dbURL,
		"COALITION_PUBLIC_URL=http://"+addr,
		"COALITION_SMTP_URL="+r.smtp.URL(),
		"COALITION_MAIL_FROM=CAR-T Coalition <no-reply@coalition.example>",
		"COALITION_MAIL_WORKERS="+strconv.Itoa(MailWorkers),
		"COALITION_MAIL_RETRY_BASE=1s",
		"COALITION_LOG_LEVEL=info",
		"COALITION_SHUTDOWN_GRACE=5s",
		// One key for every process of a scenario, as a deployment must have.
		"COALITION_NEWSLETTER_KEY="+newsletterKey,
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, addr: addr, logPath: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(p.done) }()
	r.procs = append(r.procs, p)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited while starting: %s", name, tail(logPath, 10))
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s not ready within a minute", name)
		}
	}
}

// kill ends the process with SIGKILL, as a crash or the OOM killer would.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop ends the process gracefully (SIGTERM), or kills it after 10 s.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.kill()
	}
}

// graphql posts a request anonymously and returns the HTTP status and body.
func (p *proc) graphql(query string, vars map[string]any) (int, []byte, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post("http://"+p.addr+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// requestLink asks for a sign-in link for email: one email queued through the service itself.
func (p *proc) requestLink(email string) error {
	status, body, err := p.graphql(`mutation($e: String!) { requestLoginLink(input: {email: $e}) { accepted } }`, map[string]any{"e": email})
	if err != nil {
		return err
	}
	if status != http.StatusOK || bytes.Contains(body, []byte(`"errors"`)) {
		return fmt.Errorf("requestLoginLink: HTTP %d %s", status, body)
	}
	return nil
}

// enqueue queues n emails straight into the outbox of dbURL, as the service's own
// transactions do, with subjects "<prefix> k00000"… .
func (r *run) enqueue(ctx context.Context, dbURL string, n int) error {
	d, err := db.Open(ctx, dbURL, db.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	sys := viewer.NewSystemContext(ctx)
	const perTx = 200
	for start := 0; start < n; start += perTx {
		tx, err := d.Client.Tx(sys)
		if err != nil {
			return err
		}
		for i := start; i < min(n, start+perTx); i++ {
			key := fmt.Sprintf("k%05d", i)
			e := outbox.Email{
				DedupeKey: "faults:" + r.res.Name + ":" + key,
				Template:  "faults",
				To:        mail.Address{Name: "Dr Test Recipient", Email: "recipient." + key + "@hospital.example"},
				Subject:   r.prefix + " " + key,
				Text:      "Fault scenario " + r.res.Name + ", message " + key + ".",
			}
			if err := outbox.Enqueue(sys, tx.Client(), time.Now(), e); err != nil {
				_ = tx.Rollback()
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	r.res.Queued += n
	return nil
}

// count returns, for this scenario's emails, how many distinct ones the relay accepted
// and how many deliveries repeated one.
func (r *run) count() (distinct, dup int) {
	seen := map[string]int{}
	for _, m := range r.smtp.Messages() {
		if strings.HasPrefix(m.Subject, r.prefix+" ") {
			seen[m.Subject]++
		}
	}
	for _, c := range seen {
		dup += c - 1
	}
	return len(seen), dup
}

// settled waits until the relay has finished the transactions that were in flight when
// the fault struck (the relay completes them even if the sender is gone) and returns the
// number of deliveries then: what came before the fault.
func (r *run) settled(ctx context.Context) (int, error) {
	if _, err := waitFor(ctx, 10*time.Second, func() bool { return r.smtp.InFlight() == 0 }); err != nil {
		return 0, fmt.Errorf("relay transactions in flight at the fault: %w", err)
	}
	return r.deliveries(), nil
}

// deliveries returns the number of messages the relay accepted so far (any subject).
func (r *run) deliveries() int { return len(r.smtp.Messages()) }

// waitFor polls until cond holds or limit passes, and returns how long it took.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) (time.Duration, error) {
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			return time.Since(start), fmt.Errorf("not within %s", limit)
		}
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return time.Since(start), nil
}

// waitAll waits until every queued email was delivered or recorded failed (in dbURL),
// then fills in the counts.
func (r *run) waitAll(ctx context.Context, dbURL string, limit time.Duration) error {
	_, werr := waitFor(ctx, limit, func() bool {
		d, _ := r.count()
		return d >= r.res.Queued-r.res.Failed
	})
	r.res.Delivered, r.res.Duplicated = r.count()
	r.res.Lost = r.res.Queued - r.res.Delivered - r.res.Failed
	if werr != nil {
		return fmt.Errorf("waiting for every email: %d of %d delivered: %w", r.res.Delivered, r.res.Queued, werr)
	}
	return nil
}

// rowsIn counts this scenario's outbox rows in dbURL that match where.
func (r *run) rowsIn(ctx context.Context, dbURL string, where ...predicate.OutboxMessage) (int, error) {
	d, err := db.Open(ctx, dbURL, db.Options{})
	if err != nil {
		return 0, err
	}
	defer d.Close()
	return d.Client.OutboxMessage.Query().
		Where(append(where, outboxmessage.SubjectHasPrefix(r.prefix+" "))...).
		Count(viewer.NewSystemContext(ctx))
}

// retriedIn counts this scenario's rows that met a temporary failure and wait for a retry.
func (r *run) retriedIn(ctx context.Context, dbURL string) (int, error) {
	return r.rowsIn(ctx, dbURL, outboxmessage.StateEQ(outboxmessage.StateQueued), outboxmessage.AttemptsGT(0))
}

// failedIn counts this scenario's rows recorded failed.
func (r *run) failedIn(ctx context.Context, dbURL string) (int, error) {
	return r.rowsIn(ctx, dbURL, outboxmessage.StateEQ(outboxmessage.StateFailed))
}

// sending waits until the first 100 of this scenario's emails went out: the fault then
// strikes in the middle of sending.
func (r *run) sending(ctx context.Context) error {
	if _, err := waitFor(ctx, time.Minute, func() bool { d, _ := r.count(); return d >= 100 }); err != nil {
		return fmt.Errorf("first 100 emails: %w", err)
	}
	return nil
}

// stallUntilMore waits for a delivery beyond the first `before` and records, as the
// scenario's stall, the time since from.
func (r *run) stallUntilMore(ctx context.Context, before int, from time.Time, limit time.Duration, what string) error {
	if _, err := waitFor(ctx, time.Minute, func() bool { return r.deliveries() > before }); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	r.res.Stall, r.res.StallLimit = time.Since(from), limit
	return nil
}

// sqliteKill: SIGKILL in the middle of sending, restart on the same file.
func sqliteKill(ctx context.Context, r *run) error {
	dbURL := "sqlite:" + filepath.Join(r.dir, "coalition.db")
	r.smtp.SetDelay(10 * time.Millisecond)
	a, err := r.serve(ctx, "serve-1", dbURL)
	if err != nil {
		return err
	}
	if err := r.enqueue(ctx, dbURL, 400); err != nil {
		return err
	}
	if err := r.sending(ctx); err != nil {
		return err
	}
	r.res.InFlight = r.smtp.InFlight()
	a.kill()
	before, err := r.settled(ctx)
	if err != nil {
		return err
	}
	restart := time.Now()
	b, err := r.serve(ctx, "serve-2", dbURL)
	if err != nil {
		return err
	}
	// A fresh sign-in link, queued by the restarted service itself, must not wait either.
	if err := b.requestLink("after.restart@hospital.example"); err != nil {
		return err
	}
	if err := r.stallUntilMore(ctx, before, restart, StallAfterRestart, "first email after the restart"); err != nil {
		return err
	}
	if _, err := waitFor(ctx, time.Minute, func() bool { return receivedFor(r.smtp, "after.restart@hospital.example") }); err != nil {
		return fmt.Errorf("sign-in link after the restart: %w", err)
	}
	return r.waitAll(ctx, dbURL, 2*time.Minute)
}

func receivedFor(s *testkit.SMTPServer, rcpt string) bool {
	for _, m := range s.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, rcpt) {
				return true
			}
		}
	}
	return false
}

// postgresTwo: two processes on one PostgreSQL database; the one sending is killed.
func postgresTwo(ctx context.Context, r *run) error {
	dbURL, drop, err := scratchDatabase(ctx, r.cfg.PostgresURL, "coalition_faults_"+strconv.Itoa(os.Getpid()))
	if err != nil {
		return err
	}
	defer drop()
	r.smtp.SetDelay(10 * time.Millisecond)
	a, err := r.serve(ctx, "serve-a", dbURL)
	if err != nil {
		return err
	}
	b, err := r.serve(ctx, "serve-b", dbURL)
	if err != nil {
		return err
	}
	if err := r.enqueue(ctx, dbURL, 400); err != nil {
		return err
	}
	if err := r.sending(ctx); err != nil {
		return err
	}
	// Kill the process that holds the outbox job now (its pid is in the lease owner).
	victim, survivor := a, b
	if owner, err := dispatchOwner(ctx, dbURL); err == nil && strings.Contains(owner, ":"+strconv.Itoa(b.cmd.Process.Pid)+":") {
		victim, survivor = b, a
	}
	r.res.InFlight = r.smtp.InFlight()
	victim.kill()
	killed := time.Now()
	before, err := r.settled(ctx)
	if err != nil {
		return err
	}
	if err := survivor.requestLink("survivor@hospital.example"); err != nil {
		return err
	}
	if err := r.stallUntilMore(ctx, before, killed, StallSurvivor, "first email from the survivor"); err != nil {
		return err
	}
	return r.waitAll(ctx, dbURL, 2*time.Minute)
}

// dispatchOwner returns the lease owner of the outbox job.
func dispatchOwner(ctx context.Context, dbURL string) (string, error) {
	conn, err := stdsql.Open("pgx", dbURL)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	var owner stdsql.NullString
	err = conn.QueryRowContext(ctx, `SELECT lease_owner FROM jobs WHERE name = $1`, outbox.DispatchJobName).Scan(&owner)
	return owner.String, err
}

// scratchDatabase creates a database on the admin URL's server and returns its URL and
// a function that drops it.
func scratchDatabase(ctx context.Context, adminURL, name string) (string, func(), error) {
	admin, err := stdsql.Open("pgx", adminURL)
	if err != nil {
		return "", nil, err
	}
	_, _ = admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create scratch database: %w", err)
	}
	u, err := replaceDatabase(adminURL, name)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	return u, func() {
		_, _ = admin.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		admin.Close()
	}, nil
}

func replaceDatabase(raw, name string) (string, error) {
	i := strings.Index(raw, "://")
	if i < 0 {
		return "", fmt.Errorf("not a URL: %q", raw)
	}
	rest := raw[i+3:]
	q := ""
	if j := strings.IndexByte(rest, '?'); j >= 0 {
		rest, q = rest[:j], rest[j:]
	}
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		rest = rest[:j]
	}
	return raw[:i+3] + rest + "/" + name + q, nil
}

// postgresRestart: the database restarts (immediate shutdown, as in a crash) under a
// running service. It runs a PostgreSQL server of its own, never the shared one.
func postgresRestart(ctx context.Context, r *run, bin string) error {
	pg, err := startPostgres(ctx, bin, filepath.Join(r.dir, "pg"))
	if err != nil {
		return err
	}
	defer pg.stop()
	dbURL := pg.url()
	r.smtp.SetDelay(10 * time.Millisecond)
	s, err := r.serve(ctx, "serve", dbURL)
	if err != nil {
		return err
	}
	if err := r.enqueue(ctx, dbURL, 1000); err != nil {
		return err
	}
	if err := r.sending(ctx); err != nil {
		return err
	}
	if err := pg.ctl("stop", "-m", "immediate"); err != nil {
		return err
	}
	r.res.InFlight = r.smtp.InFlight()
	// While the database is away, the API says so (503, retryable), not 500.
	status, body, err := s.graphql(`{ organisations(first: 1) { totalCount } }`, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.cfg.Log, "faults: %s: while the database is down, GraphQL answers HTTP %d %s\n", r.res.Name, status, bytes.TrimSpace(body))
	time.Sleep(time.Second) // the outage itself, about a second (not synchronisation)
	if err := pg.ctl("start", "-w"); err != nil {
		return err
	}
	back := time.Now()
	before, err := r.settled(ctx)
	if err != nil {
		return err
	}
	if err := r.stallUntilMore(ctx, before, back, StallAfterDBReturn, "first email after the database came back"); err != nil {
		return err
	}
	if err := r.waitAll(ctx, dbURL, 2*time.Minute); err != nil {
		return err
	}
	if status != http.StatusServiceUnavailable {
		return fmt.Errorf("GraphQL answered HTTP %d while the database was down, want 503", status)
	}
	return nil
}

// relay4xx: the relay answers 421 for a while; every message goes out once it is back.
func relay4xx(ctx context.Context, r *run) error {
	return relayOutage(ctx, r, func() { r.smtp.Reject(421, -1) }, func() error { r.smtp.ClearRejects(); return nil })
}

// relayRefused: the relay is down (connections refused), then back.
func relayRefused(ctx context.Context, r *run) error {
	return relayOutage(ctx, r, r.smtp.Stop, r.smtp.Listen)
}

func relayOutage(ctx context.Context, r *run, down func(), up func() error) error {
	dbURL := "sqlite:" + filepath.Join(r.dir, "coalition.db")
	if _, err := r.serve(ctx, "serve", dbURL); err != nil {
		return err
	}
	down()
	if err := r.enqueue(ctx, dbURL, 100); err != nil {
		return err
	}
	// The outage lasts until every queued message has met it (been tried and put back for
	// a retry), so the scenario exercises retries and not just a late first attempt.
	if _, err := waitFor(ctx, time.Minute, func() bool {
		n, err := r.retriedIn(ctx, dbURL)
		return err == nil && n >= r.res.Queued
	}); err != nil {
		return fmt.Errorf("messages meeting the outage: %w", err)
	}
	if err := up(); err != nil {
		return err
	}
	back := time.Now()
	if _, err := waitFor(ctx, time.Minute, func() bool { d, _ := r.count(); return d > 0 }); err != nil {
		return fmt.Errorf("first email after the relay came back: %w", err)
	}
	r.res.Stall, r.res.StallLimit = time.Since(back), StallAfterRelay
	return r.waitAll(ctx, dbURL, 2*time.Minute)
}

// relay5xx: the relay rejects some messages for good; they are recorded failed, the rest
// delivered, none lost.
func relay5xx(ctx context.Context, r *run) error {
	dbURL := "sqlite:" + filepath.Join(r.dir, "coalition.db")
	if _, err := r.serve(ctx, "serve", dbURL); err != nil {
		return err
	}
	const rejected = 10
	r.smtp.Reject(550, rejected)
	if err := r.enqueue(ctx, dbURL, 100); err != nil {
		return err
	}
	if _, err := waitFor(ctx, time.Minute, func() bool {
		n, err := r.failedIn(ctx, dbURL)
		return err == nil && n >= rejected
	}); err != nil {
		return fmt.Errorf("rejected messages recorded failed: %w", err)
	}
	n, err := r.failedIn(ctx, dbURL)
	if err != nil {
		return err
	}
	r.res.Failed = n
	if err := r.waitAll(ctx, dbURL, time.Minute); err != nil {
		return err
	}
	if n != rejected {
		return fmt.Errorf("%d messages recorded failed, want %d", n, rejected)
	}
	return nil
}

// postgres is a PostgreSQL server of the scenario's own.
type postgres struct {
	bin, dir string
	port     int
}

func (p *postgres) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

func pgBinDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(matches) == 0 {
		if p, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", errors.New("pg_ctl not found (install postgresql)")
	}
	sort.Strings(matches)
	return filepath.Dir(matches[len(matches)-1]), nil
}

// asPostgresUser runs a PostgreSQL program, as the postgres user when this process is
// root (initdb and postgres refuse to run as root).
func asPostgresUser(name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

func startPostgres(ctx context.Context, bin, dir string) (*postgres, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &postgres{bin: bin, dir: dir, port: port}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "-R", "postgres:postgres", filepath.Dir(dir)).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("chown %s: %v %s", dir, err, out)
		}
	}
	cmd := asPostgresUser(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if err := p.ctl("start", "-w"); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *postgres) ctl(args ...string) error {
	full := append([]string{"-D", filepath.Join(p.dir, "data"), "-l", filepath.Join(p.dir, "server.log"),
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", p.port, p.dir)}, args...)
	out, err := asPostgresUser(filepath.Join(p.bin, "pg_ctl"), full...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %v\n%s%s", strings.Join(args, " "), err, out, tail(filepath.Join(p.dir, "server.log"), 10))
	}
	return nil
}

func (p *postgres) stop() { _ = p.ctl("stop", "-m", "fast") }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
