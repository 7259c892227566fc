package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of coalition.
type Config struct {
	HTTPAddr    string
	DataDir     string
	DatabaseURL string
	PublicURL   string
	SignInURL   string

	SMTPURL  string
	MailFrom string
	// ContactEmail is where people write with questions: every email's footer, the home
	// page, and the Reply-To of emails a reply makes sense for (default: MailFrom's address).
	ContactEmail string
	DKIMKeyFile  string
	DKIMSelector string
	DKIMDomain   string
	MailWorkers  int
	MailRate     float64
	// MailBulkRate caps bulk mail (newsletters) in messages per second, 0 = no cap.
	MailBulkRate float64
	// MailRetryBase is the least delay before a message that met a temporary failure is
	// tried again (the back-off doubles from there, with jitter, up to an hour).
	MailRetryBase time.Duration
	// NewsletterLateAfter is how long after its slot a scheduled campaign may still start
	// by itself; later, it waits for a staff decision.
	NewsletterLateAfter time.Duration
	// StatementsLateAfter is how long after its embargo a scheduled policy statement may
	// still be published by the job; later, staff decide.
	StatementsLateAfter time.Duration

	GraphiQL       bool
	Introspection  bool
	CORSOrigins    []string
	TrustProxy     bool
	LogFormat      string
	LogLevel       string
	NoMigrate      bool
	ShutdownGrace  time.Duration
	RequestTimeout time.Duration
	// MaxUploadBytes is the largest body of an upload (server.Config.MaxUploadBytes).
	MaxUploadBytes int64

	// NewsletterKey signs unsubscribe links (HMAC-SHA256); empty: a random key kept in
	// DATA_DIR/newsletter.key (NewsletterKeyFile), made on first start.
	NewsletterKey string
	// NewsletterWebhookSecret verifies the bounce/complaint webhook; empty disables it.
	NewsletterWebhookSecret string
	// NewsletterConsentText is the consent text subscribe forms show (its hash is its version).
	NewsletterConsentText string
	// NewsletterFormOrigins are the web sites allowed to post the subscribe form.
	NewsletterFormOrigins []string

	// AuditKey signs the audit trail's checkpoints (HMAC-SHA256); empty: the audit trail
	// is never pruned.
	AuditKey string
	// RetentionAuditYears is how many years audit events are kept.
	RetentionAuditYears int
	// RetentionMailBodyDays is how many days the bodies of sent emails are kept.
	RetentionMailBodyDays int
	// RetentionUnconfirmedDays is how many days an unconfirmed newsletter subscription is kept.
	RetentionUnconfirmedDays int
	// RetentionApplicationsMonths is how many months after a call ends its unsuccessful
	// applications (with their documents and referee letters) are kept.
	RetentionApplicationsMonths int
}

type option struct {
	flag, env, def, usage string
	set                   func(c *Config, v string) error
}

// isBool reports a true/false option (all of them default to false or true, and no other
// option does); the value is still checked by its set function.
func (o option) isBool() bool { return o.def == "false" || o.def == "true" }

// boolText is a flag.Value for a boolean option kept as text until the Config is built
// (so the environment and the flag are checked in one place). IsBoolFlag makes the flag
// package list it without a type, like a bool flag, and accept --flag alone.
type boolText struct{ p *string }

func (b boolText) String() string {
	if b.p == nil {
		return "false" // the zero value, so --help omits "(default false)" as for a bool
	}
	return *b.p
}

func (b boolText) Set(v string) error { *b.p = v; return nil }

func (b boolText) IsBoolFlag() bool { return true }

func str(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func boolean(p func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false, got %q", v)
		}
		*p(c) = b
		return nil
	}
}

// intIn parses a whole number from lo to hi.
func intIn(lo, hi int, p func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("want a whole number from %d to %d, got %q", lo, hi, v)
		}
		*p(c) = n
		return nil
	}
}

func duration(p func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("want a positive duration such as 30s, got %q", v)
		}
		*p(c) = d
		return nil
	}
}

var options = []option{
	{"http-addr", "COALITION_HTTP_ADDR", "127.0.0.1:8080", "address to listen on", str(func(c *Config) *string { return &c.HTTPAddr })},
	{"data-dir", "COALITION_DATA_DIR", "./data", "directory for the SQLite database, the mail spool and uploads", str(func(c *Config) *string { return &c.DataDir })},
	{"database-url", "COALITION_DATABASE_URL", "", "sqlite:PATH or postgres://user:pass@host:5432/db (default sqlite:DATA_DIR/coalition.db)", str(func(c *Config) *string { return &c.DatabaseURL })},
	{"public-url", "COALITION_PUBLIC_URL", "", "URL people reach the service at, used in emails (default http://HTTP_ADDR)", str(func(c *Config) *string { return &c.PublicURL })},
	{"signin-url", "COALITION_SIGNIN_URL", "", "page that emailed sign-in links open, e.g. a front end's (default PUBLIC_URL/signin)", str(func(c *Config) *string { return &c.SignInURL })},
	{"smtp-url", "COALITION_SMTP_URL", "", "smtp://user:pass@host:587?tls=starttls|tls|none; empty writes .eml files under DATA_DIR/mail", str(func(c *Config) *string { return &c.SMTPURL })},
	{"mail-from", "COALITION_MAIL_FROM", "Coalition <no-reply@localhost>", "From address of every email", str(func(c *Config) *string { return &c.MailFrom })},
	{"contact-email", "COALITION_CONTACT_EMAIL", "", "address people write to with questions: shown in every email's footer and on the home page, and the Reply-To of emails that invite a reply (default: the address of MAIL_FROM)", func(c *Config, v string) error {
		c.ContactEmail = ""
		if v = strings.TrimSpace(v); v == "" {
			return nil
		}
		a, err := mail.ParseAddress(v)
		if err != nil || a.Name != "" || a.Address != v {
			return fmt.Errorf("want an email address such as office@coalition.example.org, got %q", v)
		}
		c.ContactEmail = a.Address
		return nil
	}},
	{"dkim-key-file", "COALITION_DKIM_KEY_FILE", "", "PEM private key (RSA or Ed25519) to DKIM-sign mail; empty disables signing", str(func(c *Config) *string { return &c.DKIMKeyFile })},
	{"dkim-selector", "COALITION_DKIM_SELECTOR", "coalition", "DKIM selector (DNS: SELECTOR._domainkey.DOMAIN)", str(func(c *Config) *string { return &c.DKIMSelector })},
	{"dkim-domain", "COALITION_DKIM_DOMAIN", "", "DKIM signing domain (default: the domain of MAIL_FROM)", str(func(c *Config) *string { return &c.DKIMDomain })},
	{"mail-workers", "COALITION_MAIL_WORKERS", "8", "concurrent SMTP connections of the outbox worker", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			return fmt.Errorf("want 1..64, got %q", v)
		}
		c.MailWorkers = n
		return nil
	}},
	{"mail-rate", "COALITION_MAIL_RATE", "0", "maximum messages per second sent by this process (0 = unlimited)", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return fmt.Errorf("want a number ≥ 0, got %q", v)
		}
		c.MailRate = f
		return nil
	}},
	{"mail-bulk-rate", "COALITION_MAIL_BULK_RATE", "0", "maximum bulk messages (newsletters) per second sent by this process, within MAIL_RATE (0 = unlimited); transactional mail is always sent first", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return fmt.Errorf("want a number ≥ 0, got %q", v)
		}
		c.MailBulkRate = f
		return nil
	}},
	{"mail-retry-base", "COALITION_MAIL_RETRY_BASE", "30s", "least delay before a message that met a temporary failure (4xx, relay down) is tried again; doubles per attempt up to 1h", duration(func(c *Config) *time.Duration { return &c.MailRetryBase })},
	{"newsletter-late-after", "COALITION_NEWSLETTER_LATE_AFTER", "1h", "how long after its scheduled time a newsletter campaign may still start by itself; later, it waits for staff to send it, reschedule it or cancel it", duration(func(c *Config) *time.Duration { return &c.NewsletterLateAfter })},
	{"statements-late-after", "COALITION_STATEMENTS_LATE_AFTER", "1h", "how long after its embargo a scheduled policy statement may still be published by itself; later, it waits for staff to publish it or schedule it again", duration(func(c *Config) *time.Duration { return &c.StatementsLateAfter })},
	{"graphiql", "COALITION_GRAPHIQL", "false", "serve GraphiQL at /graphiql (turns on introspection)", boolean(func(c *Config) *bool { return &c.GraphiQL })},
	{"introspection", "COALITION_INTROSPECTION", "false", "allow GraphQL introspection and \"did you mean\" suggestions", boolean(func(c *Config) *bool { return &c.Introspection })},
	{"cors-origins", "COALITION_CORS_ORIGINS", "", "comma-separated origins allowed to call the API from a browser", func(c *Config, v string) error {
		c.CORSOrigins = nil
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o == "" {
				continue
			}
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
				return fmt.Errorf("origin %q must look like https://app.example.org", o)
			}
			c.CORSOrigins = append(c.CORSOrigins, u.Scheme+"://"+u.Host)
		}
		return nil
	}},
	{"trust-proxy", "COALITION_TRUST_PROXY", "false", "take the client address from X-Forwarded-For (only behind a reverse proxy)", boolean(func(c *Config) *bool { return &c.TrustProxy })},
	{"log-format", "COALITION_LOG_FORMAT", "text", "log format: text or json", func(c *Config, v string) error {
		if v != "text" && v != "json" {
			return fmt.Errorf("want text or json, got %q", v)
		}
		c.LogFormat = v
		return nil
	}},
	{"log-level", "COALITION_LOG_LEVEL", "info", "log level: debug, info, warn or error", func(c *Config, v string) error {
		switch v {
		case "debug", "info", "warn", "error":
			c.LogLevel = v
			return nil
		}
		return fmt.Errorf("want debug, info, warn or error, got %q", v)
	}},
	{"no-migrate", "COALITION_NO_MIGRATE", "false", "refuse to start if migrations are pending instead of applying them", boolean(func(c *Config) *bool { return &c.NoMigrate })},
	{"shutdown-grace", "COALITION_SHUTDOWN_GRACE", "30s", "how long shutdown waits for requests and the outbox to finish", duration(func(c *Config) *time.Duration { return &c.ShutdownGrace })},
	{"request-timeout", "COALITION_REQUEST_TIMEOUT", "30s", "maximum time to handle one request", duration(func(c *Config) *time.Duration { return &c.RequestTimeout })},
	// The default is server.DefaultMaxUploadBytes: the 10 MiB document limit + 1 MiB.
	{"max-upload-bytes", "COALITION_MAX_UPLOAD_BYTES", "11534336", "largest request body in bytes of a file upload (multipart POST to /graphql or /referee), streamed to temporary files; other bodies stay limited to 1 MiB and documents to 10 MiB, so keep it at least 1 MiB above that", func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1<<20 || n > 1<<30 {
			return fmt.Errorf("want a number of bytes from 1048576 (1 MiB) to 1073741824 (1 GiB), got %q", v)
		}
		c.MaxUploadBytes = n
		return nil
	}},
	{"newsletter-key", "COALITION_NEWSLETTER_KEY", "", "secret (at least 32 characters) that signs newsletter unsubscribe links; the same in every process, and kept: changing it breaks the links in mail already sent (default: a random key kept in DATA_DIR/newsletter.key)", func(c *Config, v string) error {
		if v != "" && len(v) < 32 {
			return fmt.Errorf("want at least 32 characters, got %d", len(v))
		}
		c.NewsletterKey = v
		return nil
	}},
	{"newsletter-webhook-secret", "COALITION_NEWSLETTER_WEBHOOK_SECRET", "", "shared secret of the bounce/complaint webhook POST /newsletter/webhook (HMAC-SHA256; see the README); empty disables the webhook", func(c *Config, v string) error {
		if v != "" && len(v) < 16 {
			return fmt.Errorf("want at least 16 characters, got %d", len(v))
		}
		c.NewsletterWebhookSecret = v
		return nil
	}},
	{"audit-key", "COALITION_AUDIT_KEY", "", "secret (at least 32 characters) that signs the audit trail's checkpoints when old events are pruned, and that `coalition audit verify` checks them with; the same in every process, and kept; empty: audit events are never pruned", func(c *Config, v string) error {
		if v != "" && len(v) < 32 {
			return fmt.Errorf("want at least 32 characters, got %d", len(v))
		}
		c.AuditKey = v
		return nil
	}},
	{"retention-audit-years", "COALITION_RETENTION_AUDIT_YEARS", "6", "years audit events are kept before they are pruned from the start of the chain under a signed checkpoint (needs COALITION_AUDIT_KEY)", intIn(1, 100, func(c *Config) *int { return &c.RetentionAuditYears })},
	{"retention-mail-body-days", "COALITION_RETENTION_MAIL_BODY_DAYS", "30", "days after sending that an email's body and personal values are kept; the delivery record (recipient, subject, status) stays", intIn(1, 3650, func(c *Config) *int { return &c.RetentionMailBodyDays })},
	{"retention-unconfirmed-days", "COALITION_RETENTION_UNCONFIRMED_DAYS", "30", "days an unconfirmed newsletter subscription (double opt-in never completed) is kept", intIn(1, 3650, func(c *Config) *int { return &c.RetentionUnconfirmedDays })},
	{"retention-applications-months", "COALITION_RETENTION_APPLICATIONS_MONTHS", "12", "months after a call is completed or cancelled that its unsuccessful applications (with their documents and referee letters) are kept; the trainee is emailed a month before; placed applications are kept whole", intIn(1, 120, func(c *Config) *int { return &c.RetentionApplicationsMonths })},
	{"newsletter-consent-text", "COALITION_NEWSLETTER_CONSENT_TEXT", "", "consent text shown on subscribe forms and recorded with each signup; a new text is a new version for new signups (default: a plain sentence, see the README)", str(func(c *Config) *string { return &c.NewsletterConsentText })},
	{"newsletter-form-origins", "COALITION_NEWSLETTER_FORM_ORIGINS", "", "comma-separated origins of web sites allowed to post the subscribe form (POST /newsletter/subscribe); empty allows any site", func(c *Config, v string) error {
		c.NewsletterFormOrigins = nil
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o == "" {
				continue
			}
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
				return fmt.Errorf("origin %q must look like https://www.example.org", o)
			}
			c.NewsletterFormOrigins = append(c.NewsletterFormOrigins, u.Scheme+"://"+u.Host)
		}
		return nil
	}},
}

// Parse fills a Config from getenv and args (flags of `coalition serve`). It returns
// flag.ErrHelp after printing the usage when asked for --help.
func Parse(name string, args []string, getenv func(string) string, out io.Writer) (Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	load := Register(fs, getenv)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: coalition %s [flags]\n\nEvery flag can also be set by the environment variable named in its description.\n\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return load()
}

// Register adds every configuration flag to fs, with defaults from getenv, so that a
// subcommand can add flags of its own. After fs.Parse, call the returned function to get
// the Config.
func Register(fs *flag.FlagSet, getenv func(string) string) func() (Config, error) {
	vals := make([]string, len(options))
	for i, o := range options {
		v := o.def
		if e := getenv(o.env); e != "" {
			v = e
		}
		vals[i] = v
		usage := fmt.Sprintf("%s (env %s)", o.usage, o.env)
		if o.isBool() {
			// Listed as a boolean in --help, and --flag alone means --flag=true.
			fs.Var(boolText{&vals[i]}, o.flag, usage)
		} else {
			fs.StringVar(&vals[i], o.flag, v, usage)
		}
	}
	return func() (Config, error) {
		var c Config
		var errs []error
		for i, o := range options {
			if err := o.set(&c, vals[i]); err != nil {
				errs = append(errs, fmt.Errorf("%s / --%s: %w", o.env, o.flag, err))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return c, err
		}
		return c, c.complete()
	}
}

// complete derives defaults that depend on other options and checks the combination.
func (c *Config) complete() error {
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return fmt.Errorf("COALITION_HTTP_ADDR %q: %w", c.HTTPAddr, err)
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "coalition.db")
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.HTTPAddr
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("COALITION_PUBLIC_URL %q must be an absolute http(s) URL", c.PublicURL)
	}
	if c.SignInURL == "" {
		c.SignInURL = c.PublicURL + "/signin"
	}
	if u, err := url.Parse(c.SignInURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("COALITION_SIGNIN_URL %q must be an absolute http(s) URL", c.SignInURL)
	}
	if c.ContactEmail == "" {
		if a, err := mail.ParseAddress(c.MailFrom); err == nil {
			c.ContactEmail = a.Address
		}
	}
	if c.GraphiQL {
		c.Introspection = true
	}
	return nil
}

// MailDir is where the file mail transport writes .eml files.
func (c Config) MailDir() string { return filepath.Join(c.DataDir, "mail") }

// NewsletterKeyFile is where the generated unsubscribe key is kept when NewsletterKey is empty.
func (c Config) NewsletterKeyFile() string { return filepath.Join(c.DataDir, "newsletter.key") }

// DocumentsDir is where application documents are stored (content-addressed PDFs).
func (c Config) DocumentsDir() string { return filepath.Join(c.DataDir, "documents") }

// ExportsDir holds the data-export ZIP files until they are downloaded or expire.
func (c Config) ExportsDir() string { return filepath.Join(c.DataDir, "exports") }

// Defaults returns the configuration with no flags and no environment.
func Defaults() Config {
	c, err := Parse("serve", nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		panic("config defaults do not parse: " + err.Error())
	}
	return c
}
