package server_test

import (
	"context"
	stdsql "database/sql"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// tcpProxy forwards 127.0.0.1:port to a database server; Down closes the listener and
// every connection (the database "goes away"), Up listens again on the same port.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{t: t, target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(p.Down)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			upstream, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			if p.ln != ln { // went down meanwhile
				p.mu.Unlock()
				c.Close()
				upstream.Close()
				return
			}
			p.conns[c], p.conns[upstream] = struct{}{}, struct{}{}
			p.mu.Unlock()
			p.wg.Add(2)
			pipe := func(dst, src net.Conn) {
				defer p.wg.Done()
				_, _ = io.Copy(dst, src)
				dst.Close()
				src.Close()
			}
			go pipe(upstream, c)
			go pipe(c, upstream)
		}
	}()
}

// Down stops the proxy and cuts every connection through it; it returns when all of its
// goroutines have ended.
func (p *tcpProxy) Down() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// Up listens again on the same address.
func (p *tcpProxy) Up() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy up again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// driverText is what a client must not see while the database is away.
var driverText = append([]string{"dial", "connection refused", "EOF", "127.0.0.1", "database is locked", "busy"}, libraryText...)

type probe struct {
	name   string
	method string
	path   string
	body   string
	ctype  string
	token  bool
	// client, when set, sends the request (a browser with cookies).
	client *http.Client
}

func (pr probe) send(t *testing.T, e *testkit.Env, token string) (int, http.Header, string) {
	t.Helper()
	var body io.Reader = http.NoBody
	if pr.body != "" {
		body = strings.NewReader(pr.body)
	}
	req, err := http.NewRequest(pr.method, e.Server.URL+pr.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if pr.ctype != "" {
		req.Header.Set("Content-Type", pr.ctype)
	}
	req.Header.Set("Origin", e.Server.URL)
	if pr.token {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := e.Server.Client()
	if pr.client != nil {
		client = pr.client
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", pr.method, pr.path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func gqlProbe(name, query string, token bool) probe {
	return probe{name: name, method: http.MethodPost, path: "/graphql", ctype: "application/json",
		body: string(jsonBody(map[string]any{"query": query})), token: token}
}

var (
	anonymousQuery    = gqlProbe("anonymous query", `{ organisations(first: 5) { totalCount } }`, false)
	signedInQuery     = gqlProbe("signed-in query", `{ me { id } users(first: 5) { totalCount } }`, true)
	anonymousMutation = gqlProbe("anonymous mutation", `mutation { requestLoginLink(input: {email: "someone@example.org"}) { userErrors { code } } }`, false)
	signedInMutation  = gqlProbe("signed-in mutation", `mutation { createWorkingGroup(input: {name: "Pharmacists", workPackage: POLICY_AND_ADVOCACY, visibility: PUBLIC}) { userErrors { code } } }`, true)
)

func wantUnavailable(t *testing.T, pr probe, status int, header http.Header, body string) {
	t.Helper()
	if status != http.StatusServiceUnavailable {
		t.Errorf("%s: status %d, want 503: %s", pr.name, status, body)
	}
	if ra := header.Get("Retry-After"); ra != "5" {
		t.Errorf("%s: Retry-After %q, want 5", pr.name, ra)
	}
	if strings.HasPrefix(header.Get("Content-Type"), "application/json") && !strings.Contains(body, `"code":"UNAVAILABLE"`) {
		t.Errorf("%s: body %s, want extensions.code UNAVAILABLE", pr.name, body)
	}
	if strings.Contains(body, `"code":"INTERNAL"`) {
		t.Errorf("%s: an INTERNAL error among the answers: %s", pr.name, body)
	}
	for _, bad := range driverText {
		if strings.Contains(strings.ToLower(body), strings.ToLower(bad)) {
			t.Errorf("%s: answer contains %q: %s", pr.name, bad, body)
		}
	}
}

func wantOK(t *testing.T, pr probe, status int, body string) {
	t.Helper()
	if status != http.StatusOK || strings.Contains(body, `"errors"`) {
		t.Errorf("%s: status %d, body %s; want 200 without errors", pr.name, status, body)
	}
}

// TestPostgresGoneIsUnavailable puts a TCP proxy between the service and PostgreSQL, cuts
// it, and expects 503 UNAVAILABLE with Retry-After from every entry point (GraphQL queries
// and mutations, anonymous and with a bearer token, whose lookup fails first; a document
// download; the sign-in page), then brings it back and expects the same requests to work.
func TestPostgresGoneIsUnavailable(t *testing.T) {
	if os.Getenv(testkit.PostgresEnv) == "" {
		t.Skip(testkit.PostgresEnv + " is not set")
	}
	raw := testkit.MigratedURL(t, dialect.Postgres)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	proxy := startProxy(t, target)
	u.Host = proxy.addr
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	const maxConns = 3
	d, err := db.Open(context.Background(), u.String(), db.Options{MaxConns: maxConns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	e := testkit.NewEnvOn(t, d)
	_, staff := e.NewUser("staff@coalition.test", "Stella Staff", viewer.RoleStaff)

	probes := []probe{anonymousQuery, signedInQuery, anonymousMutation, signedInMutation}
	for _, pr := range probes {
		status, _, body := pr.send(t, e, staff.Token)
		wantOK(t, pr, status, body)
	}

	// The sign-in form, opened while the database answers (a browser with its cookie and
	// the page's form token), is posted while it does not.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(e.Server.URL + "/signin?token=lnk_whatever")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="form_token" value="([^"]*)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no form token on the sign-in page:\n%s", page)
	}

	proxy.Down()
	down := append(probes,
		probe{name: "document download", method: http.MethodGet, path: "/documents/" + string(pulid.New("doc")), token: true},
		probe{name: "anonymous document download", method: http.MethodGet, path: "/documents/" + string(pulid.New("doc"))},
		probe{name: "sign-in page", method: http.MethodGet, path: "/signin?token=lnk_whatever"},
		probe{name: "sign-in button", method: http.MethodPost, path: "/signin", ctype: "application/x-www-form-urlencoded",
			body: url.Values{"token": {"lnk_whatever"}, "form_token": {string(m[1])}}.Encode(), client: browser},
	)
	for _, pr := range down {
		status, header, body := pr.send(t, e, staff.Token)
		wantUnavailable(t, pr, status, header, body)
	}
	if logs := e.Logs.String(); strings.Contains(logs, "level=ERROR") {
		t.Errorf("unavailability was logged as an error:\n%s", logs)
	}

	proxy.Up()
	for _, pr := range probes {
		// A connection the pool kept from before may turn out dead only when used: that
		// request is answered 503 too, and the pool drops the connection. There are at
		// most maxConns of them.
		var status int
		var body string
		for range maxConns + 1 {
			var header http.Header
			status, header, body = pr.send(t, e, staff.Token)
			if status != http.StatusServiceUnavailable {
				break
			}
			wantUnavailable(t, pr, status, header, body)
		}
		wantOK(t, pr, status, body)
	}
}

// TestSQLiteLockedIsUnavailable holds SQLite's write lock from another connection for
// longer than the busy timeout: a mutation is answered 503 UNAVAILABLE with Retry-After;
// queries still work (WAL readers do not wait for the writer); once the lock is released
// the mutation works.
func TestSQLiteLockedIsUnavailable(t *testing.T) {
	raw := testkit.MigratedURL(t, dialect.SQLite)
	d, err := db.Open(context.Background(), raw, db.Options{BusyTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	e := testkit.NewEnvOn(t, d)
	_, staff := e.NewUser("staff@coalition.test", "Stella Staff", viewer.RoleStaff)

	other, err := stdsql.Open("sqlite3", "file:"+strings.TrimPrefix(raw, "sqlite:")+"?_busy_timeout=0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	locked := true
	release := func() {
		if locked {
			if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil && !errors.Is(err, stdsql.ErrConnDone) {
				t.Fatal(err)
			}
			locked = false
		}
	}
	defer release()

	for _, pr := range []probe{anonymousMutation, signedInMutation} {
		status, header, body := pr.send(t, e, staff.Token)
		wantUnavailable(t, pr, status, header, body)
	}
	for _, pr := range []probe{anonymousQuery, signedInQuery} {
		status, _, body := pr.send(t, e, staff.Token)
		wantOK(t, pr, status, body)
	}
	release()
	for _, pr := range []probe{anonymousMutation, signedInMutation} {
		status, _, body := pr.send(t, e, staff.Token)
		wantOK(t, pr, status, body)
	}
}
