package mail

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// TLSMode is how the SMTP transport protects the connection to the relay.
type TLSMode string

// The TLS modes of an SMTP URL's tls parameter.
const (
	// TLSStartTLS connects in plain text and requires STARTTLS (RFC 3207) before anything
	// else; a relay that does not offer it is an error. The default.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (RFC 8314 §3.3, "submissions", port 465).
	TLSImplicit TLSMode = "tls"
	// TLSNone never encrypts; for a relay on loopback or in tests.
	TLSNone TLSMode = "none"
)

// Default ports and timeout of the SMTP transport.
const (
	DefaultSMTPPort         = 587 // submission with STARTTLS (RFC 6409)
	DefaultSMTPImplicitPort = 465 // submissions (RFC 8314)
	DefaultSMTPTimeout      = 30 * time.Second
)

// SMTPConfig configures the SMTP transport.
type SMTPConfig struct {
	Host string
	Port int
	// Username and Password authenticate with the relay when Username is set; go-mail
	// picks SCRAM-SHA-256, SCRAM-SHA-1, PLAIN or LOGIN from what the relay offers and
	// refuses to send PLAIN or LOGIN credentials over an unencrypted connection to a host
	// other than localhost.
	Username, Password string
	TLS                TLSMode
	// Timeout bounds connecting and each message's SMTP transaction; 0 means
	// DefaultSMTPTimeout.
	Timeout time.Duration
	// HeloName is the name in EHLO; empty means the host name of this machine.
	HeloName string
	// MessageIDDomain is the right-hand side of Message-IDs; empty means the domain of
	// each message's From address.
	MessageIDDomain string
	// DKIM, when set, signs every message.
	DKIM *DKIMConfig
}

// ParseSMTPURL parses smtp://user:pass@host:port?tls=starttls|tls|none. The port defaults
// to 587 (465 with tls=tls, where 587 would never answer in TLS), tls to starttls; user and
// password are URL-decoded. Error messages never contain the password.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the whole URL, password included
		}
		return SMTPConfig{}, fmt.Errorf("parse smtp url: %w", err)
	}
	if u.Scheme != "smtp" {
		return SMTPConfig{}, fmt.Errorf("parse smtp url: scheme %q is not supported (want smtp://)", u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return SMTPConfig{}, errors.New("parse smtp url: missing host (want smtp://host:port)")
	}
	if u.Path != "" && u.Path != "/" {
		return SMTPConfig{}, fmt.Errorf("parse smtp url: unexpected path %q", u.Path)
	}
	cfg := SMTPConfig{Host: u.Hostname(), TLS: TLSStartTLS}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return SMTPConfig{}, fmt.Errorf("parse smtp url: query: %w", err)
	}
	for key, values := range query {
		if key != "tls" {
			return SMTPConfig{}, fmt.Errorf("parse smtp url: unknown parameter %q (only tls is supported)", key)
		}
		if len(values) != 1 {
			return SMTPConfig{}, errors.New("parse smtp url: tls given more than once")
		}
		cfg.TLS = TLSMode(values[0])
	}
	if err := cfg.TLS.validate(); err != nil {
		return SMTPConfig{}, fmt.Errorf("parse smtp url: %w", err)
	}
	switch {
	case u.Port() != "":
		port, err := strconv.Atoi(u.Port())
		if err != nil || port < 1 || port > 65535 {
			return SMTPConfig{}, fmt.Errorf("parse smtp url: port %q is not in 1–65535", u.Port())
		}
		cfg.Port = port
	case cfg.TLS == TLSImplicit:
		cfg.Port = DefaultSMTPImplicitPort
	default:
		cfg.Port = DefaultSMTPPort
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	return cfg, nil
}

func (m TLSMode) validate() error {
	switch m {
	case TLSStartTLS, TLSImplicit, TLSNone:
		return nil
	}
	return fmt.Errorf("tls mode %q is not one of starttls, tls, none", string(m))
}

// SMTPTransport sends through an SMTP relay with go-mail. It is safe for concurrent use;
// each Sender it makes has its own go-mail client and connection.
type SMTPTransport struct {
	cfg       SMTPConfig
	addr      string
	tlsConfig *tls.Config
	builder   *builder
}

// NewSMTP checks cfg, loads its DKIM key, and returns the transport. It does not connect:
// each Sender connects on its first Send, so a relay that is down delays mail instead of
// stopping the service.
func NewSMTP(cfg SMTPConfig) (*SMTPTransport, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtp transport: host is required")
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("smtp transport: port %d is not in 1–65535", cfg.Port)
	}
	if err := cfg.TLS.validate(); err != nil {
		return nil, fmt.Errorf("smtp transport: %w", err)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("smtp transport: negative timeout %s", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	if strings.ContainsAny(cfg.MessageIDDomain, "<>@ \t\r\n") {
		return nil, fmt.Errorf("smtp transport: message-id domain %q is not a domain", cfg.MessageIDDomain)
	}
	b := &builder{messageIDDomain: cfg.MessageIDDomain, now: time.Now}
	if cfg.DKIM != nil {
		signer, err := LoadDKIM(*cfg.DKIM)
		if err != nil {
			return nil, fmt.Errorf("smtp transport: %w", err)
		}
		b.dkim = signer
	}
	t := &SMTPTransport{
		cfg:       cfg,
		addr:      net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		tlsConfig: &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12},
		builder:   b,
	}
	// Build one client now so an option go-mail rejects fails at start.
	if _, err := t.newClient(func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("not dialling")
	}); err != nil {
		return nil, fmt.Errorf("smtp transport: %w", err)
	}
	return t, nil
}

// Name returns "smtp".
func (t *SMTPTransport) Name() string { return "smtp" }

// NewSender returns a Sender with its own go-mail client (clients shared between
// goroutines have raced, ARCHITECTURE §6.13). It connects on the first Send.
func (t *SMTPTransport) NewSender(context.Context) (Sender, error) {
	s := &smtpSender{t: t}
	client, err := t.newClient(s.dial)
	if err != nil {
		return nil, fmt.Errorf("smtp sender: %w", err)
	}
	s.client = client
	return s, nil
}

func (t *SMTPTransport) newClient(dial gomail.DialContextFunc) (*gomail.Client, error) {
	// go-mail's default policy is TLSMandatory, which a plain relay fails, so every mode
	// sets it explicitly (§6.13). Implicit TLS is done by dial, before the SMTP greeting,
	// so go-mail must not try STARTTLS on top of it.
	policy := gomail.NoTLS
	if t.cfg.TLS == TLSStartTLS {
		policy = gomail.TLSMandatory
	}
	opts := []gomail.Option{
		gomail.WithPort(t.cfg.Port),
		gomail.WithTimeout(t.cfg.Timeout),
		gomail.WithTLSConfig(t.tlsConfig),
		gomail.WithTLSPolicy(policy),
		// The NOOP before each message and the RSET after it cost a round trip each
		// (25–30% of bulk throughput, §6.13); a failed transaction is reset explicitly.
		gomail.WithoutNoop(),
		gomail.WithoutRset(),
		gomail.WithDialContextFunc(dial),
	}
	if t.cfg.HeloName != "" {
		opts = append(opts, gomail.WithHELO(t.cfg.HeloName))
	}
	if t.cfg.Username != "" {
		opts = append(opts,
			gomail.WithUsername(t.cfg.Username),
			gomail.WithPassword(t.cfg.Password),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1,
				gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
		)
	}
	return gomail.NewClient(t.cfg.Host, opts...)
}

// smtpSender is one worker's connection to the relay.
//
// go-mail's Client.Send renders the Msg straight into the DATA stream, so the bytes it
// sends are not the bytes a DKIM signature over our rendering covers. The sender therefore
// uses go-mail for what it is good at — building the MIME message, dialling, STARTTLS, AUTH
// — and runs the MAIL/RCPT/DATA transaction itself on go-mail's smtp.Client with the exact
// bytes that were signed (and that the file transport writes).
type smtpSender struct {
	t      *SMTPTransport
	client *gomail.Client
	// conn is the open SMTP session, nil when disconnected; netConn is its socket, kept
	// to apply deadlines and to abort a blocked read when ctx is cancelled.
	conn    *smtp.Client
	netConn net.Conn
}

// dial is the go-mail dial function: it connects to the relay (ignoring go-mail's address,
// which it formats without brackets for IPv6) and does the TLS handshake of implicit TLS.
func (s *smtpSender) dial(ctx context.Context, network, _ string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, s.t.addr)
	if err != nil {
		return nil, err
	}
	if s.t.cfg.TLS == TLSImplicit {
		tlsConn := tls.Client(conn, s.t.tlsConfig)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		conn = tlsConn
	}
	s.netConn = conn
	return conn, nil
}

// stage names the step of the SMTP transaction that failed.
type stage string

const (
	stageConnect stage = "connect"
	stageMail    stage = "MAIL FROM"
	stageRcpt    stage = "RCPT TO"
	stageData    stage = "DATA"
	stageDataEnd stage = "end of DATA"
)

// Send renders m and delivers it over the open connection, connecting first if needed.
// It returns nil or a *SendError.
func (s *smtpSender) Send(ctx context.Context, m *Message) error {
	raw, env, err := s.t.builder.render(m)
	if err != nil {
		return messageError(err)
	}
	if err := ctx.Err(); err != nil {
		return &SendError{Err: err}
	}
	reused := s.conn != nil
	st, err := s.attempt(ctx, env, raw)
	if err != nil && reused && st == stageMail && ctx.Err() == nil {
		// The relay may have closed our idle connection (silently, or with 421) since the
		// last message. Nothing of this message was accepted, so connect again and
		// retry once instead of costing the message a back-off.
		if code := replyCode(err); code == 0 || code == 421 {
			st, err = s.attempt(ctx, env, raw)
		}
	}
	if err != nil {
		var se *SendError
		if errors.As(err, &se) {
			se.Stage = string(st)
			se.Err = fmt.Errorf("message %s: %s: %w", m.ID, st, se.Err)
		}
		return err
	}
	return nil
}

// attempt runs one SMTP transaction and returns the stage it stopped at. On an error the
// connection is left clean for the next message or dropped.
func (s *smtpSender) attempt(ctx context.Context, env envelope, raw []byte) (stage, error) {
	if s.conn == nil {
		if err := s.connect(ctx); err != nil {
			return stageConnect, connectionError(withContext(ctx, fmt.Errorf("%s: %w", s.t.addr, err)))
		}
	}
	deadline := time.Now().Add(s.t.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := s.netConn.SetDeadline(deadline); err != nil {
		s.drop()
		return stageMail, connectionError(err)
	}
	// Cancelling ctx unblocks a read or write in progress by moving the deadline to the
	// past; the session is then in an unknown state and is dropped below.
	nc := s.netConn
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })

	st, err := s.transact(env, raw)

	cancelled := !stop()
	if err == nil {
		if cancelled {
			s.drop() // the deadline may already be in the past
		}
		return st, nil
	}
	se := transactionError(withContext(ctx, err))
	switch {
	case cancelled || se.Code == 0 || se.Code == 421:
		// Cancelled mid-command, an I/O error, a timeout, or the relay closing the
		// channel (RFC 5321 §3.8): the session is unusable.
		s.drop()
	case st != stageDataEnd:
		// A rejected MAIL, RCPT or DATA leaves a transaction open; reset it so the
		// next message starts clean.
		if rerr := s.conn.Reset(); rerr != nil {
			s.drop()
		}
	}
	return st, se
}

func (s *smtpSender) transact(env envelope, raw []byte) (stage, error) {
	if ok, _ := s.conn.Extension("PIPELINING"); ok && crlfOnly(raw) {
		return s.pipelined(env, raw)
	}
	if err := s.conn.Mail(env.from); err != nil {
		return stageMail, err
	}
	if err := s.conn.Rcpt(env.to); err != nil {
		return stageRcpt, err
	}
	w, err := s.conn.Data()
	if err != nil {
		return stageData, err
	}
	if _, err := w.Write(raw); err != nil {
		return stageData, err
	}
	if err := w.Close(); err != nil {
		return stageDataEnd, err
	}
	return stageDataEnd, nil
}

// pipelined runs the transaction with command pipelining (RFC 2920), which nearly every
// relay offers: MAIL, RCPT and DATA go out in one write and their three replies are read
// after it, then the message, already dot-stuffed, and its final dot in a second write.
// Two round trips and two writes instead of four of each, and no byte-by-byte copy
// through a dot-stuffing writer. The replies are read in order whatever they say, so the
// session stays in step; the first refusal is the error, with its stage.
func (s *smtpSender) pipelined(env envelope, raw []byte) (stage, error) {
	params := ""
	if ok, _ := s.conn.Extension("8BITMIME"); ok {
		params = " BODY=8BITMIME"
	}
	if strings.ContainsAny(env.from+env.to, "\r\n") {
		return stageMail, errors.New("smtp: envelope address contains a line break")
	}
	text := s.conn.Text
	w := text.W
	_, _ = w.WriteString("MAIL FROM:" + env.from + params + "\r\n")
	_, _ = w.WriteString("RCPT TO:" + env.to + "\r\n")
	_, _ = w.WriteString("DATA\r\n")
	if err := w.Flush(); err != nil {
		return stageMail, err
	}
	var first error
	firstAt, dataOpen := stageMail, false
	for _, step := range []struct {
		st   stage
		code int
	}{{stageMail, 250}, {stageRcpt, 25}, {stageData, 354}} {
		code, _, err := text.ReadResponse(step.code)
		if err != nil && replyCode(err) == 0 {
			// An I/O or protocol error: the session is lost. A refusal read before it
			// (421 closing the channel, typically) says more.
			if first != nil {
				return firstAt, first
			}
			return step.st, err
		}
		dataOpen = step.st == stageData && code == 354
		if err != nil && first == nil {
			first, firstAt = err, step.st
		}
	}
	if first != nil {
		if dataOpen {
			// A relay that opened DATA although MAIL or RCPT was refused: end the empty
			// message so the session is back between transactions.
			_, _ = w.WriteString(".\r\n")
			if err := w.Flush(); err != nil {
				return stageDataEnd, err
			}
			if _, _, err := text.ReadResponse(250); err != nil && replyCode(err) == 0 {
				return stageDataEnd, err
			}
		}
		return firstAt, first
	}
	if err := writeDotStuffed(w, raw); err != nil {
		return stageData, err
	}
	if err := w.Flush(); err != nil {
		return stageData, err
	}
	if _, _, err := text.ReadResponse(250); err != nil {
		return stageDataEnd, err
	}
	return stageDataEnd, nil
}

// crlfOnly says every line break of raw is CRLF (the rendered message's), so it can be
// dot-stuffed without converting line ends.
func crlfOnly(raw []byte) bool {
	return bytes.Count(raw, []byte("\n")) == bytes.Count(raw, []byte("\r\n")) && bytes.Count(raw, []byte("\r")) == bytes.Count(raw, []byte("\r\n"))
}

// writeDotStuffed writes raw as DATA content (RFC 5321 §4.5.2: a line that begins with a
// dot gets a second one) followed by the end-of-data line.
func writeDotStuffed(w *bufio.Writer, raw []byte) error {
	if len(raw) > 0 && raw[0] == '.' {
		_ = w.WriteByte('.')
	}
	for {
		i := bytes.Index(raw, []byte("\n."))
		if i < 0 {
			break
		}
		_, _ = w.Write(raw[:i+1])
		_ = w.WriteByte('.')
		raw = raw[i+1:]
	}
	_, _ = w.Write(raw)
	if len(raw) > 0 && !bytes.HasSuffix(raw, []byte("\r\n")) {
		_, _ = w.WriteString("\r\n")
	}
	_, err := w.WriteString(".\r\n")
	return err
}

func (s *smtpSender) connect(ctx context.Context) error {
	s.netConn = nil
	conn, err := s.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		// go-mail returns without closing the socket when EHLO, STARTTLS or AUTH fail.
		if s.netConn != nil {
			s.netConn.Close()
			s.netConn = nil
		}
		return err
	}
	s.conn = conn
	return nil
}

// drop closes the connection without QUIT; the next Send connects again.
func (s *smtpSender) drop() {
	if s.conn != nil {
		_ = s.conn.Close()
	} else if s.netConn != nil {
		_ = s.netConn.Close()
	}
	s.conn, s.netConn = nil, nil
}

// Close ends the session with QUIT, bounded by the transport's timeout.
func (s *smtpSender) Close() error {
	if s.conn == nil {
		return nil
	}
	defer s.drop()
	if err := s.netConn.SetDeadline(time.Now().Add(s.t.cfg.Timeout)); err != nil {
		return fmt.Errorf("smtp sender: close: %w", err)
	}
	if err := s.conn.Quit(); err != nil {
		return fmt.Errorf("smtp sender: quit: %w", err)
	}
	return nil
}

// withContext makes a failure caused by ctx ending recognisable with errors.Is.
func withContext(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%w: %w", ctxErr, err)
	}
	return err
}
