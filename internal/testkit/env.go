package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/app"
	"github.com/gocart-coalition/coalition/internal/auth"
	"github.com/gocart-coalition/coalition/internal/clock"
	"github.com/gocart-coalition/coalition/internal/config"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Env is a whole coalition service for one test: a fresh database, the app wired exactly
// as `coalition serve` wires it, served over real HTTP on loopback, a fixed clock, and
// a capturing SMTP server that receives the outbox's mail over a real SMTP conversation.
type Env struct {
	TB      testing.TB
	Dialect string
	DB      *db.DB
	Clock   *Clock
	SMTP    *SMTPServer
	App     *app.App
	Server  *httptest.Server
	Queries *QueryCounter
	Logs    *LogBuffer
}

// EnvOption tunes NewEnv.
type EnvOption func(*config.Config)

// WithConfig changes the configuration before the app is built.
func WithConfig(f func(*config.Config)) EnvOption { return EnvOption(f) }

// NewEnv builds an Env on the given dialect.
func NewEnv(tb testing.TB, dialectName string, opts ...EnvOption) *Env {
	tb.Helper()
	q := &QueryCounter{}
	return newEnv(tb, NewDB(tb, dialectName, WithQueryCounter(q)), q, opts...)
}

// NewEnvOn builds an Env on a database the test opened itself (e.g. through a proxy it
// controls, or with other db.Options), migrated, from MigratedURL. The test closes d. The
// Env's Queries counts nothing: d has no counting driver.
func NewEnvOn(tb testing.TB, d *db.DB, opts ...EnvOption) *Env {
	tb.Helper()
	return newEnv(tb, d, &QueryCounter{}, opts...)
}

func newEnv(tb testing.TB, d *db.DB, q *QueryCounter, opts ...EnvOption) *Env {
	tb.Helper()
	e := &Env{TB: tb, Dialect: d.Dialect, DB: d, Clock: NewClock(DefaultNow), Queries: q, Logs: &LogBuffer{}}
	e.SMTP = StartSMTP(tb)

	cfg := config.Defaults()
	cfg.DataDir = tb.TempDir()
	cfg.DatabaseURL = "unused: the test passes its database"
	cfg.MailFrom = "CAR-T Coalition <office@coalition.test>"
	cfg.ContactEmail = "" // falls back to MailFrom's address, as in serve without the variable
	cfg.MailWorkers = 2
	for _, o := range opts {
		o(&cfg)
	}
	sc, err := mail.ParseSMTPURL(e.SMTP.URL())
	if err != nil {
		tb.Fatalf("smtp url: %v", err)
	}
	sc.MessageIDDomain = "coalition.test"
	sc.Timeout = 5 * time.Second
	if cfg.DKIMKeyFile != "" {
		// As serve does (app.newTransport): sign with the configured key, for the domain of
		// MAIL_FROM unless another is configured.
		d := cfg.DKIMDomain
		if d == "" {
			d = "coalition.test"
		}
		sc.DKIM = &mail.DKIMConfig{Domain: d, Selector: cfg.DKIMSelector, KeyFile: cfg.DKIMKeyFile}
	}
	transport, err := mail.NewSMTP(sc)
	if err != nil {
		tb.Fatalf("smtp transport: %v", err)
	}

	// The handler must know its public URL before the server starts: start unstarted.
	e.Server = httptest.NewUnstartedServer(nil)
	e.Server.Start()
	tb.Cleanup(e.Server.Close)
	cfg.PublicURL = e.Server.URL
	cfg.SignInURL = e.Server.URL + "/signin"
	logger := slog.New(slog.NewTextHandler(e.Logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e.App, err = app.New(context.Background(), app.Options{
		Config: cfg, Logger: logger, Now: e.Clock.Now, DB: e.DB, Transport: transport,
	})
	if err != nil {
		tb.Fatalf("app: %v", err)
	}
	e.Server.Config.Handler = e.App.Handler
	return e
}

// EachEnv runs fn as a subtest per dialect with a fresh Env.
func EachEnv(t *testing.T, fn func(t *testing.T, e *Env), opts ...EnvOption) {
	t.Helper()
	for _, name := range Dialects() {
		t.Run(name, func(t *testing.T) { fn(t, NewEnv(t, name, opts...)) })
	}
}

// System returns a context acting as the system viewer, with the test clock.
func (e *Env) System() context.Context {
	return clock.WithNow(viewer.NewSystemContext(context.Background()), e.Clock.Now)
}

// DrainOutbox sends every due email now and returns how many were sent.
func (e *Env) DrainOutbox() int {
	e.TB.Helper()
	sent, _, _, err := e.App.Outbox.DrainOnce(e.System())
	if err != nil {
		e.TB.Fatalf("drain outbox: %v", err)
	}
	return sent
}

// Anonymous returns a client without credentials.
func (e *Env) Anonymous() *Client { return &Client{env: e} }

// AsToken returns a client that sends token as its bearer credential.
func (e *Env) AsToken(token string) *Client { return &Client{env: e, Token: token} }

// NewUser creates a user with roles and returns it with a client signed in as them through
// the real flow: a sign-in link redeemed over the API for a real session token.
func (e *Env) NewUser(email, name string, roles ...viewer.Role) (*ent.User, *Client) {
	e.TB.Helper()
	ctx := e.System()
	if len(roles) == 0 {
		roles = []viewer.Role{viewer.RoleTrainee}
	}
	u, err := e.App.Auth.CreateUser(ctx, e.DB.Client, auth.CreateUserInput{Email: email, Name: name, Roles: roles})
	if err != nil {
		e.TB.Fatalf("create user %s: %v", email, err)
	}
	return u, e.SignIn(email)
}

// SignIn signs an existing user in through redeemLoginLink and returns their client.
func (e *Env) SignIn(email string) *Client {
	e.TB.Helper()
	link, err := e.App.Auth.IssueLoginLink(e.System(), e.DB.Client, email)
	if err != nil {
		e.TB.Fatalf("issue login link: %v", err)
	}
	token := link[strings.Index(link, "token=")+len("token="):]
	var out struct {
		RedeemLoginLink struct {
			SessionToken string
			UserErrors   []struct{ Code, Message string }
		}
	}
	e.Anonymous().MustDo(`mutation($t: String!) { redeemLoginLink(input: {token: $t}) { sessionToken userErrors { code message } } }`,
		map[string]any{"t": token}, &out)
	if len(out.RedeemLoginLink.UserErrors) > 0 || out.RedeemLoginLink.SessionToken == "" {
		e.TB.Fatalf("sign in %s: %+v", email, out.RedeemLoginLink.UserErrors)
	}
	return e.AsToken(out.RedeemLoginLink.SessionToken)
}

// Client is a GraphQL client over real HTTP.
type Client struct {
	env   *Env
	Token string
	// Header is added to every request.
	Header http.Header
}

// Response is a GraphQL response with its HTTP status.
type Response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []GQLError      `json:"errors"`
	Body   []byte          `json:"-"`
}

// GQLError is one GraphQL error.
type GQLError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns extensions.code of the first error, or "".
func (r *Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// Do posts a query and returns the response, failing the test only on transport errors.
func (c *Client) Do(query string, vars map[string]any) *Response {
	c.env.TB.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return c.Post(body)
}

// Post sends a raw body to /graphql.
func (c *Client) Post(body []byte) *Response {
	c.env.TB.Helper()
	req, err := http.NewRequest(http.MethodPost, c.env.Server.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		c.env.TB.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	resp, err := c.env.Server.Client().Do(req)
	if err != nil {
		c.env.TB.Fatalf("post /graphql: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.env.TB.Fatalf("read response: %v", err)
	}
	r := &Response{Status: resp.StatusCode, Body: raw}
	if err := json.Unmarshal(raw, r); err != nil && resp.Header.Get("Content-Type") == "application/json" {
		c.env.TB.Fatalf("decode response %q: %v", raw, err)
	}
	return r
}

// MustDo posts a query, fails the test on any error, and decodes data into out.
func (c *Client) MustDo(query string, vars map[string]any, out any) {
	c.env.TB.Helper()
	r := c.Do(query, vars)
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		c.env.TB.Fatalf("query failed (HTTP %d): %s", r.Status, r.Body)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			c.env.TB.Fatalf("decode data %s: %v", r.Data, err)
		}
	}
}

// LogBuffer collects log output safely across goroutines.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
