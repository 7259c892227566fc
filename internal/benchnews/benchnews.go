package benchnews

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	stdsql "database/sql"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"iter"
	"log"
	"net"
	"net/http"
	netmail "net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/outbox"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Config says what to run.
type Config struct {
	// Bin is the coalition binary.
	Bin string
	// Recipients is the size of the newsletter (100,000 by default).
	Recipients int
	// DKIM signs every message with a fresh 2048-bit RSA key.
	DKIM bool
	// Env is added to the service's environment (e.g. COALITION_MAIL_WORKERS=4), after
	// the harness's own settings.
	Env []string
	// Log receives progress lines.
	Log io.Writer
}

// Result is what one run measured.
type Result struct {
	Recipients   int
	Rate         float64       // messages per second, end to end
	PeakRSS      int64         // bytes, VmHWM of the service
	BytesPerRcpt float64       // database growth per recipient
	FirstMessage time.Duration // first commit → first message accepted
	EnqueueTime  time.Duration // all recipients queued
	Elapsed      time.Duration // first commit → last message accepted
	// ServiceCPU and SinkCPU are the processor time (user + system) the service and this
	// process (the sink, mostly) used from the first commit to the last message: on a
	// shared, loaded machine they say more than the wall-clock rate.
	ServiceCPU, SinkCPU time.Duration
	DKIMSigned          bool // the first message carried a DKIM-Signature
	ListUnsubHeads      bool // the first message carried List-Unsubscribe(-Post) and List-Id
}

// String is the summary line of `make bench-newsletter`.
func (r Result) String() string {
	return fmt.Sprintf("newsletter-bench: %.0f msg/s, peak RSS %.0f MB, %.0f bytes/recipient, first message after %.2f s",
		r.Rate, float64(r.PeakRSS)/(1<<20), r.BytesPerRcpt, r.FirstMessage.Seconds())
}

const batchKey = "bench:newsletter"

// Run runs the benchmark once.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Recipients <= 0 {
		cfg.Recipients = 100_000
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	res := Result{Recipients: cfg.Recipients}
	dir, err := os.MkdirTemp("", "coalition-benchnews-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)

	sink, err := startSink()
	if err != nil {
		return res, err
	}
	defer sink.stop()

	dbPath := filepath.Join(dir, "coalition.db")
	env := []string{
		"COALITION_DATABASE_URL=sqlite:" + dbPath,
		"COALITION_DATA_DIR=" + filepath.Join(dir, "data"),
		"COALITION_SMTP_URL=smtp://" + sink.addr + "?tls=none",
		"COALITION_MAIL_FROM=CAR-T Coalition <news@coalition.example>",
		"COALITION_LOG_LEVEL=warn",
		"COALITION_SHUTDOWN_GRACE=5s",
	}
	if cfg.DKIM {
		keyFile := filepath.Join(dir, "dkim.pem")
		if err := writeRSAKey(keyFile); err != nil {
			return res, err
		}
		env = append(env, "COALITION_DKIM_KEY_FILE="+keyFile, "COALITION_DKIM_DOMAIN=coalition.example")
	}
	env = append(env, cfg.Env...)
	p, err := serve(ctx, cfg.Bin, dir, env)
	if err != nil {
		return res, err
	}
	defer p.stop()
	fmt.Fprintf(cfg.Log, "benchnews: service pid %d ready; queueing %d recipients (DKIM %v)\n", p.cmd.Process.Pid, cfg.Recipients, cfg.DKIM)

	d, err := db.Open(ctx, "sqlite:"+dbPath, db.Options{})
	if err != nil {
		return res, err
	}
	defer d.Close()
	sizeBefore, err := dbSize(ctx, dbPath)
	if err != nil {
		return res, err
	}

	svcCPU0, _ := procCPU(p.cmd.Process.Pid)
	selfCPU0 := selfCPU()
	firstCommit, enqueued, err := enqueue(ctx, d, cfg.Recipients)
	if err != nil {
		return res, err
	}
	res.EnqueueTime = enqueued.Sub(firstCommit)
	fmt.Fprintf(cfg.Log, "benchnews: queued in %.2f s\n", res.EnqueueTime.Seconds())

	if err := waitFor(ctx, 10*time.Minute, p, func() bool { return sink.count.Load() >= int64(cfg.Recipients) }); err != nil {
		return res, fmt.Errorf("sink received %d of %d: %w", sink.count.Load(), cfg.Recipients, err)
	}
	svcCPU1, err := procCPU(p.cmd.Process.Pid)
	if err != nil {
		return res, err
	}
	res.ServiceCPU, res.SinkCPU = svcCPU1-svcCPU0, selfCPU()-selfCPU0
	first, last := sink.times()
	res.FirstMessage = first.Sub(firstCommit)
	res.Elapsed = last.Sub(firstCommit)
	res.Rate = float64(cfg.Recipients) / res.Elapsed.Seconds()
	if res.PeakRSS, err = peakRSS(p.cmd.Process.Pid); err != nil {
		return res, err
	}
	if m, err := netmail.ReadMessage(strings.NewReader(sink.firstMessage())); err == nil {
		res.DKIMSigned = m.Header.Get("DKIM-Signature") != ""
		res.ListUnsubHeads = strings.HasPrefix(m.Header.Get("List-Unsubscribe"), "<https://") &&
			m.Header.Get("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click" && m.Header.Get("List-Id") != ""
	}

	// The service records a result after the sink accepted it: wait for the last ones.
	sys := viewer.NewSystemContext(ctx)
	if err := waitFor(ctx, time.Minute, p, func() bool {
		n, err := d.Client.OutboxMessage.Query().Where(outboxmessage.BatchKeyEQ(batchKey), outboxmessage.StateEQ(outboxmessage.StateSent)).Count(sys)
		return err == nil && n == cfg.Recipients
	}); err != nil {
		counts, _ := outbox.BatchCounts(ctx, d.Client, batchKey)
		return res, fmt.Errorf("deliveries recorded sent: %v: %w", counts, err)
	}
	sizeAfter, err := dbSize(ctx, dbPath)
	if err != nil {
		return res, err
	}
	res.BytesPerRcpt = float64(sizeAfter-sizeBefore) / float64(cfg.Recipients)
	if n := sink.count.Load(); n != int64(cfg.Recipients) {
		return res, fmt.Errorf("sink received %d messages for %d recipients", n, cfg.Recipients)
	}
	return res, nil
}

// body is a newsletter of realistic size (about 2 KB of text, 5 KB of HTML).
func body() outbox.Body {
	var text, html strings.Builder
	text.WriteString("Dear {{name}},\n\nThis is the quarterly newsletter of the CAR-T Coalition.\n\n")
	html.WriteString(`<!doctype html><html><body style="font-family:sans-serif"><span style="display:none">The quarter in brief</span><p>Dear {{name}},</p><p>This is the quarterly newsletter of the CAR-T Coalition.</p>`)
	for i := range 12 {
		fmt.Fprintf(&text, "%d. News from the working groups: the programme committee met and agreed on the next call for host centres.\n", i+1)
		fmt.Fprintf(&html, `<h2>News %d</h2><p>From the working groups: the <a href="https://coalition.example/groups">programme committee</a> met and agreed on the next call for host centres.</p>`, i+1)
	}
	text.WriteString("\nUnsubscribe: {{unsubscribe_url}}\n")
	html.WriteString(`<p style="font-size:small"><a href="{{unsubscribe_url}}">Unsubscribe</a></p></body></html>`)
	return outbox.Body{
		Template:  "newsletter",
		Subject:   "CAR-T Coalition newsletter, {{name}}",
		Preheader: "The quarter in brief",
		Text:      text.String(),
		HTML:      html.String(),
		Headers:   map[string]string{"List-Id": "CAR-T Coalition newsletter <newsletter.coalition.example>"},
	}
}

// enqueue queues n recipients in transactions of 10,000 and returns when the first and
// the last committed.
func enqueue(ctx context.Context, d *db.DB, n int) (first, last time.Time, err error) {
	const perTx = 10_000
	sys := viewer.NewSystemContext(ctx)
	tx, err := d.Client.Tx(sys)
	if err != nil {
		return first, last, err
	}
	bodyID, err := outbox.SaveBody(sys, tx.Client(), time.Now(), body())
	if err != nil {
		return first, last, errors.Join(err, tx.Rollback())
	}
	for start := 0; start < n; start += perTx {
		if start > 0 {
			if tx, err = d.Client.Tx(sys); err != nil {
				return first, last, err
			}
		}
		if _, err := outbox.EnqueueBulk(sys, tx.Client(), time.Now(), bodyID, batchKey, recipients(start, min(n, start+perTx))); err != nil {
			return first, last, errors.Join(err, tx.Rollback())
		}
		if err := tx.Commit(); err != nil {
			return first, last, err
		}
		if start == 0 {
			first = time.Now()
		}
	}
	return first, time.Now(), nil
}

func recipients(from, to int) iter.Seq[outbox.Recipient] {
	return func(yield func(outbox.Recipient) bool) {
		token := make([]byte, 32)
		for i := from; i < to; i++ {
			_, _ = rand.Read(token)
			r := outbox.Recipient{
				To: mail.Address{Name: fmt.Sprintf("Reader %d", i), Email: fmt.Sprintf("reader%06d@bench.example", i)},
				Values: map[string]string{
					outbox.UnsubscribeURLKey: "https://coalition.example/newsletter/unsubscribe/" + base64.RawURLEncoding.EncodeToString(token),
				},
			}
			if !yield(r) {
				return
			}
		}
	}
}

// dbSize checkpoints the WAL and returns the size of the database file and its WAL.
func dbSize(ctx context.Context, path string) (int64, error) {
	conn, err := stdsql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	var total int64
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return 0, err
		default:
			total += fi.Size()
		}
	}
	return total, nil
}

// procCPU returns the user + system time of pid (/proc/PID/stat, clock ticks of 10 ms).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name, which is in parentheses and may hold spaces.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// selfCPU returns this process's user + system time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS returns VmHWM of pid, its peak resident set.
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

func writeRSAKey(path string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// proc is the `coalition serve` under test.
type proc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func serve(ctx context.Context, bin, dir string, env []string) (*proc, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	logPath := filepath.Join(dir, "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(append(os.Environ(), "COALITION_HTTP_ADDR="+addr, "COALITION_PUBLIC_URL=http://"+addr), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(p.done) }()
	err = waitFor(ctx, time.Minute, p, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("start service: %w", err)
	}
	return p, nil
}

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
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// waitFor polls cond every 20 ms until it holds, the service exits, or limit passes.
func waitFor(ctx context.Context, limit time.Duration, p *proc, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
			b, _ := os.ReadFile(p.log)
			return fmt.Errorf("service exited: %s", tailLines(string(b), 20))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", limit)
		}
	}
	return nil
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// sink is an SMTP server that accepts everything, counts messages and keeps the first.
type sink struct {
	addr        string
	srv         *smtp.Server
	count       atomic.Int64
	mu          sync.Mutex
	first, last time.Time
	firstRaw    string
}

func startSink() (*sink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{addr: l.Addr().String()}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }))
	s.srv.Domain = "sink.localhost"
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

func (s *sink) stop() { _ = s.srv.Close() }

func (s *sink) times() (first, last time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first, s.last
}

func (s *sink) firstMessage() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstRaw
}

type sinkSession struct{ s *sink }

func (ss *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (ss *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (ss *sinkSession) Reset()                               {}
func (ss *sinkSession) Logout() error                        { return nil }

// Data reads the message; the first is kept for the header checks.
func (ss *sinkSession) Data(r io.Reader) error {
	var raw []byte
	var err error
	if ss.s.count.Load() == 0 {
		raw, err = io.ReadAll(r)
	} else {
		_, err = io.Copy(io.Discard, r)
	}
	if err != nil {
		return err
	}
	now := time.Now()
	s := ss.s
	s.mu.Lock()
	if s.first.IsZero() {
		s.first = now
		s.firstRaw = string(raw)
	}
	s.last = now
	s.mu.Unlock()
	s.count.Add(1)
	return nil
}
