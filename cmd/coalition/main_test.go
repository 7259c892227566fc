package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/internal/testkit"
)

// environment returns a getenv for a fresh data directory (SQLite, default settings).
func environment(t *testing.T, extra map[string]string) (func(string) string, string) {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{"COALITION_DATA_DIR": dir, "COALITION_LOG_FORMAT": "json"}
	for k, v := range extra {
		vars[k] = v
	}
	return func(k string) string { return vars[k] }, dir
}

func runCLI(t *testing.T, getenv func(string) string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, getenv, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestUsageAndUnknownCommand(t *testing.T) {
	getenv, _ := environment(t, nil)
	if _, stderr, err := runCLI(t, getenv); !errors.Is(err, errUsage) || !strings.Contains(stderr, "serve") {
		t.Errorf("no command: err %v, stderr %q", err, stderr)
	}
	if _, stderr, err := runCLI(t, getenv, "frobnicate"); !errors.Is(err, errUsage) || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: err %v, stderr %q", err, stderr)
	}
	if _, stderr, err := runCLI(t, getenv, "serve", "--help"); err == nil || !strings.Contains(stderr, "COALITION_SMTP_URL") {
		t.Errorf("serve --help: err %v, stderr lacks the variables: %q", err, stderr)
	}
}

var (
	linkRE  = regexp.MustCompile(`http://\S+/signin\?token=\S+`)
	tokenRE = regexp.MustCompile(`ct_[A-Za-z0-9_-]{43}`)
)

func TestOperatorCommands(t *testing.T) {
	getenv, dir := environment(t, nil)

	// Commands that need a database refuse to create one.
	if _, _, err := runCLI(t, getenv, "mail", "status"); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("mail status on no database: %v", err)
	}

	out, _, err := runCLI(t, getenv, "user", "create", "--staff", "--name", "Coalition Office", "--token", "bootstrap", "Office@Coalition.Example.org")
	if err != nil {
		t.Fatalf("user create: %v", err)
	}
	if !strings.Contains(out, "office@coalition.example.org") || !strings.Contains(out, "[STAFF]") ||
		!linkRE.MatchString(out) || !tokenRE.MatchString(out) {
		t.Fatalf("user create printed:\n%s", out)
	}
	// Running it again grants roles to the existing user instead of failing.
	if out, _, err = runCLI(t, getenv, "user", "create", "--host-coordinator", "office@coalition.example.org"); err != nil || !strings.Contains(out, "[STAFF HOST_COORDINATOR]") {
		t.Fatalf("second user create: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, getenv, "user", "create", "--staff", "not-an-address"); err == nil {
		t.Error("user create accepted a malformed address")
	}

	out, _, err = runCLI(t, getenv, "migrate", "status")
	if err != nil || !strings.Contains(out, "applied") || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate status: %v\n%s", err, out)
	}
	if out, _, err = runCLI(t, getenv, "migrate"); err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}

	out, _, err = runCLI(t, getenv, "mail", "status")
	if err != nil || !strings.Contains(out, "queued") || !strings.Contains(out, "oldest queued: none") {
		t.Fatalf("mail status: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, getenv, "mail", "retry", "msg_01JC3W7Q5T8R9XJ6M8F2K4N1PZ"); err == nil {
		t.Error("mail retry of an unknown message succeeded")
	}
	if out, _, err = runCLI(t, getenv, "mail", "retry", "--failed"); err != nil || !strings.Contains(out, "0 failed") {
		t.Fatalf("mail retry --failed: %v\n%s", err, out)
	}

	out, _, err = runCLI(t, getenv, "jobs")
	if err != nil || !strings.Contains(out, "outbox.dispatch") || !strings.Contains(out, "auth.cleanup") {
		t.Fatalf("jobs: %v\n%s", err, out)
	}

	backup := filepath.Join(dir, "backups", "copy.db")
	if out, _, err = runCLI(t, getenv, "backup", backup); err != nil || !strings.Contains(out, backup) {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if _, err := os.Stat(backup); err != nil {
		t.Fatalf("backup file: %v", err)
	}
	if _, _, err := runCLI(t, getenv, "backup"); err == nil {
		t.Error("backup without a path succeeded")
	}
	// The backup is a working database.
	bgetenv := func(k string) string {
		if k == "COALITION_DATABASE_URL" {
			return "sqlite:" + backup
		}
		return getenv(k)
	}
	if out, _, err = runCLI(t, bgetenv, "migrate", "status"); err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("backup status: %v\n%s", err, out)
	}
}

// addrWriter watches JSON log lines for the listening address.
type addrWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	addr chan string
	once sync.Once
}

func (w *addrWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	sc := bufio.NewScanner(bytes.NewReader(p))
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "coalition serving" {
			w.once.Do(func() { w.addr <- line.Addr })
		}
	}
	return len(p), nil
}

func (w *addrWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestServeEndToEnd(t *testing.T) {
	smtp := testkit.StartSMTP(t)
	getenv, _ := environment(t, map[string]string{
		"COALITION_HTTP_ADDR": "127.0.0.1:0",
		"COALITION_SMTP_URL":  smtp.URL(),
		"COALITION_MAIL_FROM": "CAR-T Coalition <office@coalition.test>",
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &addrWriter{addr: make(chan string, 1)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv, strings.NewReader(""), io.Discard, logs) }()

	var base string
	select {
	case a := <-logs.addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("serve stopped: %v\n%s", err, logs)
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not start:\n%s", logs)
	}

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, `"migrations":"current"`) {
		t.Errorf("/readyz: %d %s", code, body)
	}
	if code, _ := get("/graphiql"); code != http.StatusNotFound {
		t.Errorf("/graphiql when disabled: %d, want 404", code)
	}

	// A sign-in request goes out through the real outbox worker of `serve`, without
	// anyone draining by hand.
	resp, err := http.Post(base+"/graphql", "application/json", strings.NewReader(`{"query":"mutation { requestLoginLink(input: {email: \"tomas@example.cz\"}) { accepted } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	msgs := smtp.WaitForMessages(t, 1, 20*time.Second)
	if msgs[0].To[0] != "tomas@example.cz" || !linkRE.MatchString(msgs[0].TextBody()) {
		t.Errorf("email: to %v\n%s", msgs[0].To, msgs[0].TextBody())
	}

	code, metrics := get("/metrics")
	for _, want := range []string{"coalition_http_requests_total", "coalition_outbox_depth", `coalition_outbox_messages_total{result="sent"}`} {
		if code != 200 || !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after shutdown\n%s", err, logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Error("no shutdown log line")
	}
}

func TestMatchSolve(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "in.json")
	if err := os.WriteFile(good, []byte(`{"trainees": {"t1": ["s1", "s2"], "t2": ["s1"], "t3": ["s1"]},
		"slots": {"s1": {"capacity": 1, "ranking": ["t2", "t1", "t3"]}, "s2": {"capacity": 1, "ranking": ["t1"]}, "s3": {"capacity": 2, "ranking": []}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"match", "solve", good}, func(string) string { return "" }, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("solve: %v\n%s", err, errOut.String())
	}
	var got struct {
		Assignments   map[string][]string
		Unmatched     []string
		BlockingPairs int
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Assignments) != 3 || got.Assignments["s1"][0] != "t2" || got.Assignments["s2"][0] != "t1" || len(got.Assignments["s3"]) != 0 ||
		len(got.Unmatched) != 1 || got.Unmatched[0] != "t3" || got.BlockingPairs != 0 {
		t.Errorf("solve output: %s", out.String())
	}
	// From stdin; a name not defined exits with status 2 and names the problem.
	out.Reset()
	err := run(context.Background(), []string{"match", "solve"}, func(string) string { return "" },
		strings.NewReader(`{"trainees": {"t1": ["s9"]}, "slots": {}}`), &out, &errOut)
	var ec exitCoder
	if err == nil || !errors.As(err, &ec) || ec.ExitCode() != 2 || !strings.Contains(err.Error(), `unknown slot "s9"`) || out.Len() != 0 {
		t.Errorf("unknown name: %v, output %q", err, out.String())
	}
	err = run(context.Background(), []string{"match", "solve"}, func(string) string { return "" }, strings.NewReader(`{"trainees": `), &out, &errOut)
	if err == nil || !errors.As(err, &ec) || ec.ExitCode() != 2 {
		t.Errorf("malformed JSON: %v", err)
	}
}

func TestUserCreatePrintTokenOnly(t *testing.T) {
	getenv, _ := environment(t, nil)
	out, errOut, err := runCLI(t, getenv, "user", "create", "--staff", "--token", "setup", "--print-token-only", "office@coalition.example.org")
	if err != nil {
		t.Fatalf("user create: %v\n%s", err, errOut)
	}
	// Standard output is the token alone, so that TOKEN=$(coalition user create …) captures it.
	if !regexp.MustCompile(`^ct_[A-Za-z0-9_-]{43}\n$`).MatchString(out) {
		t.Errorf("stdout = %q, want the token on its own line", out)
	}
	if !linkRE.MatchString(errOut) || !strings.Contains(errOut, "[STAFF]") || tokenRE.MatchString(errOut) {
		t.Errorf("stderr should have the user and the sign-in link, not the token:\n%s", errOut)
	}
	if _, _, err := runCLI(t, getenv, "user", "create", "--print-token-only", "someone@coalition.example.org"); err == nil || !strings.Contains(err.Error(), "needs --token") {
		t.Errorf("--print-token-only without --token: %v", err)
	}
}
