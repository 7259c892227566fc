package benchnews

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	stdsql "database/sql"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	netmail "net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/newsletter"
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
	// Keep leaves the database and the service's log in their temporary directory.
	Keep bool
}

// Result is what one run measured.
type Result struct {
	Recipients   int
	Rate         float64       // messages per second, end to end
	PeakRSS      int64         // bytes, VmHWM of the service
	BytesPerRcpt float64       // database growth per recipient
	FirstMessage time.Duration // sendCampaignNow sent → first message accepted
	Elapsed      time.Duration // sendCampaignNow answered → last message accepted
	// ServiceCPU and SinkCPU are the processor time (user + system) the service and this
	// process (the sink, mostly) used from sendCampaignNow to the last message: on a
	// shared, loaded machine they say more than the wall-clock rate.
	ServiceCPU, SinkCPU time.Duration
	// Growth is the database growth per recipient by table and index (when the sqlite3
	// shell is installed), e.g. "outbox_messages 301, outboxmessage_dedupe_key 92".
	Growth         string
	DKIMSigned     bool // the first message carried a DKIM-Signature
	ListUnsubHeads bool // the first message carried List-Unsubscribe(-Post) and List-Id
}

// String is the summary line of `make bench-newsletter`.
func (r Result) String() string {
	return fmt.Sprintf("newsletter-bench: %.0f msg/s, peak RSS %.0f MB, %.0f bytes/recipient, first message after %.2f s",
		r.Rate, float64(r.PeakRSS)/(1<<20), r.BytesPerRcpt, r.FirstMessage.Seconds())
}

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
	if cfg.Keep {
		fmt.Fprintf(cfg.Log, "benchnews: keeping %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}

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

	// Setup, not measured: two members of staff, a list, its confirmed subscribers, a
	// campaign written by one and approved by the other.
	author, err := staffToken(ctx, cfg.Bin, p, "author@bench.example")
	if err != nil {
		return res, err
	}
	approver, err := staffToken(ctx, cfg.Bin, p, "approver@bench.example")
	if err != nil {
		return res, err
	}
	var list struct {
		CreateMailingList struct {
			List       struct{ ID string }
			UserErrors []any
		}
	}
	if err := p.graphql(ctx, author, `mutation { createMailingList(input: {name: "Quarterly newsletter", slug: "quarterly"}) { list { id } userErrors { field code message } } }`, nil, &list); err != nil {
		return res, err
	}
	if len(list.CreateMailingList.UserErrors) > 0 {
		return res, fmt.Errorf("createMailingList: %v", list.CreateMailingList.UserErrors)
	}
	d, err := db.Open(ctx, "sqlite:"+dbPath, db.Options{})
	if err != nil {
		return res, err
	}
	defer d.Close()
	fmt.Fprintf(cfg.Log, "benchnews: service pid %d ready; adding %d confirmed subscribers (DKIM %v)\n", p.cmd.Process.Pid, cfg.Recipients, cfg.DKIM)
	if err := seed(ctx, d, pulid.ID(list.CreateMailingList.List.ID), cfg.Recipients); err != nil {
		return res, err
	}
	campaignID, err := approvedCampaign(ctx, p, author, approver, list.CreateMailingList.List.ID)
	if err != nil {
		return res, err
	}
	sizeBefore, err := dbSize(ctx, dbPath)
	if err != nil {
		return res, err
	}
	before, _ := tableSizes(ctx, dbPath)

	svcCPU0, _ := procCPU(p.cmd.Process.Pid)
	selfCPU0 := selfCPU()
	sendAt := time.Now()
	var sent struct {
		SendCampaignNow struct {
			Campaign   struct{ Status string }
			UserErrors []any
		}
	}
	if err := p.graphql(ctx, author, `mutation($id: ID!) { sendCampaignNow(input: {id: $id}) { campaign { status } userErrors { field code message } } }`,
		map[string]any{"id": campaignID}, &sent); err != nil {
		return res, err
	}
	if len(sent.SendCampaignNow.UserErrors) > 0 || sent.SendCampaignNow.Campaign.Status != "SENDING" {
		return res, fmt.Errorf("sendCampaignNow: %+v", sent.SendCampaignNow)
	}
	answered := time.Now()
	fmt.Fprintf(cfg.Log, "benchnews: campaign %s sending (the mutation took %.3f s)\n", campaignID, answered.Sub(sendAt).Seconds())

	if err := waitFor(ctx, 10*time.Minute, p, func() bool { return sink.count.Load() >= int64(cfg.Recipients) }); err != nil {
		return res, fmt.Errorf("sink received %d of %d: %w", sink.count.Load(), cfg.Recipients, err)
	}
	svcCPU1, err := procCPU(p.cmd.Process.Pid)
	if err != nil {
		return res, err
	}
	res.ServiceCPU, res.SinkCPU = svcCPU1-svcCPU0, selfCPU()-selfCPU0
	first, last := sink.times()
	res.FirstMessage = first.Sub(sendAt)
	res.Elapsed = last.Sub(answered)
	res.Rate = float64(cfg.Recipients) / res.Elapsed.Seconds()
	if res.PeakRSS, err = peakRSS(p.cmd.Process.Pid); err != nil {
		return res, err
	}
	if m, err := netmail.ReadMessage(strings.NewReader(sink.firstMessage())); err == nil {
		res.DKIMSigned = m.Header.Get("DKIM-Signature") != ""
		res.ListUnsubHeads = strings.HasPrefix(m.Header.Get("List-Unsubscribe"), "<http") &&
			m.Header.Get("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click" && m.Header.Get("List-Id") != ""
	}

	// The service records a result after the sink accepted it: wait for the last ones.
	sys := viewer.NewSystemContext(ctx)
	var counts newsletter.Counts
	if err := waitFor(ctx, time.Minute, p, func() bool {
		counts, err = newsletter.OutboxDeliveries{}.Counts(sys, d.Client, pulid.ID(campaignID))
		return err == nil && counts.Sent == cfg.Recipients
	}); err != nil {
		return res, fmt.Errorf("deliveries recorded sent: %+v: %w", counts, err)
	}
	sizeAfter, err := dbSize(ctx, dbPath)
	if err != nil {
		return res, err
	}
	res.BytesPerRcpt = float64(sizeAfter-sizeBefore) / float64(cfg.Recipients)
	if after, err := tableSizes(ctx, dbPath); err == nil && before != nil {
		res.Growth = growth(before, after, cfg.Recipients)
	}
	if n := sink.count.Load(); n != int64(cfg.Recipients) {
		return res, fmt.Errorf("sink received %d messages for %d recipients", n, cfg.Recipients)
	}
	return res, nil
}

// staffToken creates a member of staff with `coalition user create` (as a deployment
// does) and returns their API token.
func staffToken(ctx context.Context, bin string, p *proc, email string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, "user", "create", "--staff", "--token", "bench", "--print-token-only", email)
	cmd.Env = p.cmd.Env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("user create %s: %w: %s", email, err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// graphql posts query with variables as the bearer of token and decodes the answer's data
// into out; any GraphQL error is an error.
func (p *proc) graphql(ctx context.Context, token, query string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var answer struct {
		Data   json.RawMessage
		Errors []any
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return fmt.Errorf("graphql: %s: %w", resp.Status, err)
	}
	if len(answer.Errors) > 0 {
		return fmt.Errorf("graphql: %v", answer.Errors)
	}
	return json.Unmarshal(answer.Data, out)
}

// approvedCampaign writes the newsletter as author and approves it as approver.
func approvedCampaign(ctx context.Context, p *proc, author, approver, list string) (string, error) {
	var created struct {
		CreateCampaign struct {
			Campaign   struct{ ID string }
			UserErrors []any
		}
	}
	err := p.graphql(ctx, author, `mutation($in: CreateCampaignInput!) { createCampaign(input: $in) { campaign { id } userErrors { field code message } } }`,
		map[string]any{"in": map[string]any{
			"subject": "CAR-T Coalition newsletter, spring 2027", "preheader": "The quarter in brief",
			"body": markdownBody(), "listIds": []string{list},
		}}, &created)
	if err != nil {
		return "", err
	}
	if len(created.CreateCampaign.UserErrors) > 0 {
		return "", fmt.Errorf("createCampaign: %v", created.CreateCampaign.UserErrors)
	}
	id := created.CreateCampaign.Campaign.ID
	var approved struct {
		ApproveCampaign struct {
			Campaign   struct{ Status string }
			UserErrors []any
		}
	}
	err = p.graphql(ctx, approver, `mutation($id: ID!) { approveCampaign(input: {id: $id}) { campaign { status } userErrors { field code message } } }`,
		map[string]any{"id": id}, &approved)
	if err != nil {
		return "", err
	}
	if len(approved.ApproveCampaign.UserErrors) > 0 || approved.ApproveCampaign.Campaign.Status != "APPROVED" {
		return "", fmt.Errorf("approveCampaign: %+v", approved.ApproveCampaign)
	}
	return id, nil
}

// markdownBody is a newsletter of realistic size (about 2 KB of Markdown, 12 items with a
// link each).
func markdownBody() string {
	var b strings.Builder
	b.WriteString("Dear {{name}},\n\nThis is the quarterly newsletter of the **CAR-T Coalition**.\n\n")
	for i := range 12 {
		fmt.Fprintf(&b, "## News %d\n\nFrom the working groups: the [programme committee](https://coalition.example/groups) met and agreed on the next call for host centres.\n\n", i+1)
	}
	return b.String()
}

// seed adds n confirmed subscribers of list straight into the database, 10,000 per
// transaction (setup, before the measurement).
func seed(ctx context.Context, d *db.DB, list pulid.ID, n int) error {
	const perTx, perInsert = 10_000, 500
	sys := viewer.NewSystemContext(ctx)
	now := time.Now().UTC()
	for start := 0; start < n; start += perTx {
		err := db.InTx(sys, d.Client, func(ctx context.Context, tx *ent.Client) error {
			for from := start; from < min(n, start+perTx); from += perInsert {
				to := min(n, start+perTx, from+perInsert)
				subs := make([]*ent.SubscriberCreate, 0, to-from)
				ids := make([]pulid.ID, 0, to-from)
				for i := from; i < to; i++ {
					id := pulid.New("sbr")
					ids = append(ids, id)
					subs = append(subs, tx.Subscriber.Create().SetID(id).
						SetEmail(fmt.Sprintf("reader%06d@bench.example", i)).SetName(fmt.Sprintf("Reader %d", i)))
				}
				if err := tx.Subscriber.CreateBulk(subs...).Exec(ctx); err != nil {
					return fmt.Errorf("seed subscribers: %w", err)
				}
				confirmed := make([]*ent.NewsletterSubscriptionCreate, len(ids))
				for i, id := range ids {
					confirmed[i] = tx.NewsletterSubscription.Create().SetSubscriberID(id).SetListID(list).
						SetStatus(newslettersubscription.StatusCONFIRMED).SetConfirmedAt(now)
				}
				if err := tx.NewsletterSubscription.CreateBulk(confirmed...).Exec(ctx); err != nil {
					return fmt.Errorf("seed subscriptions: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// tableSizes returns the bytes of each table and index of the database (SQLite's dbstat,
// when the sqlite3 command-line shell, built with it, is installed; nil otherwise).
func tableSizes(ctx context.Context, path string) (map[string]int64, error) {
	out, err := exec.CommandContext(ctx, "sqlite3", "-readonly", path, "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").Output()
	if err != nil {
		return nil, err
	}
	sizes := map[string]int64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, n, ok := strings.Cut(line, "|")
		if !ok {
			continue
		}
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return nil, err
		}
		sizes[name] = v
	}
	return sizes, nil
}

// growth is the growth of each table and index per recipient, largest first.
func growth(before, after map[string]int64, n int) string {
	type g struct {
		name string
		per  float64
	}
	var gs []g
	for name, size := range after {
		if d := size - before[name]; d > 0 {
			gs = append(gs, g{name, float64(d) / float64(n)})
		}
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].per > gs[j].per })
	parts := make([]string, len(gs))
	for i, x := range gs {
		parts[i] = fmt.Sprintf("%s %.0f", x.name, x.per)
	}
	return strings.Join(parts, ", ")
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
	url  string
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
	p := &proc{cmd: cmd, url: "http://" + addr, log: logPath, done: make(chan struct{})}
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
// It stands in for a remote relay, so it is deliberately lean: one goroutine per
// connection reading the conversation line by line from a buffer (RFC 5321 commands,
// PIPELINING and 8BITMIME offered, replies flushed once the client's pipelined commands
// are read), and each message's content read up to its end-of-data line with the dot
// transparency undone, its size and line ends checked (a bare CR or LF, an unterminated
// line or more than MaxMessageBytes is refused with 5xx, as a relay would). The go-smtp
// server it replaced spent about as much CPU per message as the service's whole worker.
type sink struct {
	addr        string
	ln          net.Listener
	count       atomic.Int64
	mu          sync.Mutex
	conns       map[net.Conn]bool
	first, last time.Time
	firstRaw    string
	wg          sync.WaitGroup
}

// sinkMaxMessageBytes bounds one message's content.
const sinkMaxMessageBytes = 1 << 20

func startSink() (*sink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{addr: l.Addr().String(), ln: l, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serveConn(c)
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
		}
	}()
	return s, nil
}

func (s *sink) stop() {
	_ = s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

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

// serveConn speaks SMTP on c until QUIT, an error, or a minute without a command.
func (s *sink) serveConn(c net.Conn) {
	r := bufio.NewReaderSize(c, 64<<10)
	w := bufio.NewWriterSize(c, 4<<10)
	// reply writes a reply, and sends what is written once the client's pipelined
	// commands are all read (RFC 2920 §3.1: the server may group its replies).
	reply := func(lines string) bool {
		_, _ = w.WriteString(lines)
		if r.Buffered() > 0 {
			return true
		}
		return w.Flush() == nil
	}
	if !reply("220 sink.localhost ESMTP ready\r\n") {
		return
	}
	var mailFrom, rcpt bool
	for {
		if err := c.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
			return
		}
		line, err := r.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				_ = w.Flush()
			}
			return
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		verb := line
		if i := bytes.IndexByte(line, ' '); i >= 0 {
			verb = line[:i]
		}
		var ok bool
		switch {
		case asciiEqualFold(verb, "EHLO"):
			mailFrom, rcpt = false, false
			ok = reply("250-sink.localhost\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE " + strconv.Itoa(sinkMaxMessageBytes) + "\r\n")
		case asciiEqualFold(verb, "HELO"):
			mailFrom, rcpt = false, false
			ok = reply("250 sink.localhost\r\n")
		case asciiEqualFold(verb, "MAIL"):
			switch {
			case mailFrom:
				ok = reply("503 5.5.1 Error: nested MAIL command\r\n")
			case !hasPathPrefix(line, "MAIL FROM:"):
				ok = reply("501 5.5.4 Syntax: MAIL FROM:<address>\r\n")
			default:
				mailFrom = true
				ok = reply("250 2.1.0 OK\r\n")
			}
		case asciiEqualFold(verb, "RCPT"):
			switch {
			case !mailFrom:
				ok = reply("503 5.5.1 Error: need MAIL command\r\n")
			case !hasPathPrefix(line, "RCPT TO:"):
				ok = reply("501 5.5.4 Syntax: RCPT TO:<address>\r\n")
			default:
				rcpt = true
				ok = reply("250 2.1.5 OK\r\n")
			}
		case asciiEqualFold(verb, "DATA"):
			if !rcpt {
				ok = reply("503 5.5.1 Error: need RCPT command\r\n")
				break
			}
			if !reply("354 End data with <CR><LF>.<CR><LF>\r\n") {
				return
			}
			mailFrom, rcpt = false, false
			msgErr, err := s.readMessage(r)
			if err != nil {
				return
			}
			if msgErr != "" {
				ok = reply(msgErr)
				break
			}
			ok = reply("250 2.0.0 OK: queued\r\n")
		case asciiEqualFold(verb, "RSET"):
			mailFrom, rcpt = false, false
			ok = reply("250 2.0.0 OK\r\n")
		case asciiEqualFold(verb, "NOOP"):
			ok = reply("250 2.0.0 OK\r\n")
		case asciiEqualFold(verb, "QUIT"):
			_, _ = w.WriteString("221 2.0.0 Bye\r\n")
			_ = w.Flush()
			return
		default:
			ok = reply("502 5.5.2 Error: command not recognized\r\n")
		}
		if !ok {
			return
		}
	}
}

// readMessage reads one message's content up to its end-of-data line, undoing the dot
// transparency (RFC 5321 §4.5.2), and counts it; the first message's content is kept. It
// returns the 5xx reply for a message it refuses (read to its end all the same), or an
// error when the connection failed.
func (s *sink) readMessage(r *bufio.Reader) (refused string, err error) {
	keep := s.count.Load() == 0
	var raw []byte
	size := 0
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: no line of a message may exceed 1,000 bytes
			// (RFC 5321 §4.5.3.1.6); skip to its end.
			refused = "500 5.5.2 Line too long\r\n"
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			if err != nil {
				return "", err
			}
			continue
		}
		if err != nil {
			return "", err
		}
		if len(line) < 2 || line[len(line)-2] != '\r' {
			refused = "500 5.5.2 Bare LF in message\r\n"
		} else if bytes.IndexByte(line[:len(line)-2], '\r') >= 0 {
			refused = "500 5.5.2 Bare CR in message\r\n"
		}
		if line[0] == '.' {
			if len(line) == 3 && line[1] == '\r' {
				break
			}
			line = line[1:]
		}
		size += len(line)
		if size > sinkMaxMessageBytes {
			refused = "552 5.3.4 Message too big\r\n"
		}
		if keep && refused == "" {
			raw = append(raw, line...)
		}
	}
	if refused != "" {
		return refused, nil
	}
	now := time.Now()
	s.mu.Lock()
	if s.first.IsZero() {
		s.first = now
		s.firstRaw = string(raw)
	}
	s.last = now
	s.mu.Unlock()
	s.count.Add(1)
	return "", nil
}

// hasPathPrefix says line starts with prefix (ASCII case-insensitive) followed by "<".
func hasPathPrefix(line []byte, prefix string) bool {
	return len(line) > len(prefix) && asciiEqualFold(line[:len(prefix)], prefix) && line[len(prefix)] == '<'
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
