package testkit

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// SMTPServer is a real SMTP server on 127.0.0.1 that keeps every message it accepts, for
// tests that assert what was sent. It speaks plain SMTP (no TLS, no AUTH), so transports
// reach it with tls=none. It can be told to reject (Reject), and stopped and restarted on
// the same port to play a relay that is down (Stop, Restart).
type SMTPServer struct {
	addr string

	mu       sync.Mutex
	messages []ReceivedMessage
	// arrived is closed and replaced on every accepted message, waking WaitForMessages.
	arrived chan struct{}
	// rejectCode answers the next rejectLeft RCPT or DATA commands; rejectLeft < 0 means
	// until ClearRejects.
	rejectCode int
	rejectLeft int
	// rejectRcpt answers RCPT of these addresses (lower case) with its code, whatever
	// else the server is told.
	rejectRcpt map[string]int
	// gate, when set, holds the DATA of the message after gate.after deliveries.
	gate *smtpGate
	// delay is how long each DATA takes; inFlight counts DATA commands in progress.
	delay    time.Duration
	inFlight int

	srv      *smtp.Server
	listener net.Listener
	served   chan struct{} // closed when srv.Serve returns
}

// StartSMTP starts a server on 127.0.0.1 with a free port and stops it at tb.Cleanup.
func StartSMTP(tb testing.TB) *SMTPServer {
	tb.Helper()
	s, err := NewSMTPServer()
	if err != nil {
		tb.Fatalf("start smtp server: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// NewSMTPServer starts a server on 127.0.0.1 with a free port, for programs outside
// tests (the fault scenarios of `make faults`); the caller stops it.
func NewSMTPServer() (*SMTPServer, error) {
	s := &SMTPServer{arrived: make(chan struct{})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.addr = l.Addr().String()
	s.serve(l)
	return s, nil
}

// SetDelay makes the server take d to accept each message's data, as a distant relay
// does, so that messages are in flight for a while.
func (s *SMTPServer) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// InFlight returns the number of messages whose data the server is receiving now.
func (s *SMTPServer) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight
}

func (s *SMTPServer) serve(l net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{server: s}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 50
	// Connections cut by Stop are expected; keep test output (and benchmarks) quiet.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	served := make(chan struct{})
	s.mu.Lock()
	s.srv, s.listener, s.served = srv, l, served
	s.mu.Unlock()
	go func() {
		defer close(served)
		_ = srv.Serve(l)
	}()
}

// Addr returns the server's address, "127.0.0.1:port".
func (s *SMTPServer) Addr() string { return s.addr }

// URL returns an SMTP URL for the server in the form internal/mail parses,
// "smtp://127.0.0.1:port?tls=none".
func (s *SMTPServer) URL() string { return "smtp://" + s.addr + "?tls=none" }

// Messages returns a copy of the messages accepted so far, in arrival order.
func (s *SMTPServer) Messages() []ReceivedMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ReceivedMessage(nil), s.messages...)
}

// WaitForMessages blocks until at least n messages have arrived and returns them all (a
// copy, in arrival order). It fails tb if they have not arrived within timeout.
func (s *SMTPServer) WaitForMessages(tb testing.TB, n int, timeout time.Duration) []ReceivedMessage {
	tb.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if len(s.messages) >= n {
			msgs := append([]ReceivedMessage(nil), s.messages...)
			s.mu.Unlock()
			return msgs
		}
		arrived, got := s.arrived, len(s.messages)
		s.mu.Unlock()
		select {
		case <-arrived:
		case <-timer.C:
			tb.Fatalf("smtp server %s: got %d messages within %s, want %d", s.addr, got, timeout, n)
			return nil
		}
	}
}

// Reject makes the server answer the next n RCPT or DATA commands (each one counts) with
// code, e.g. 451 (temporary) or 550 (permanent); n < 0 rejects until ClearRejects.
func (s *SMTPServer) Reject(code int, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectCode, s.rejectLeft = code, n
}

// RejectRecipients makes the server answer RCPT of each of addrs (case-insensitively)
// with code from now on, e.g. 550 for mailboxes that do not exist; ClearRejects does not
// undo it. Other recipients are answered as before.
func (s *SMTPServer) RejectRecipients(code int, addrs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rejectRcpt == nil {
		s.rejectRcpt = map[string]int{}
	}
	for _, a := range addrs {
		s.rejectRcpt[strings.ToLower(a)] = code
	}
}

// Count returns the number of messages accepted so far, without copying them.
func (s *SMTPServer) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

// MessagesSince returns a copy of the messages accepted after the first n, in arrival
// order: a caller that keeps its own tally reads each message once.
func (s *SMTPServer) MessagesSince(n int) []ReceivedMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n >= len(s.messages) {
		return nil
	}
	return append([]ReceivedMessage(nil), s.messages[max(0, n):]...)
}

// ClearRejects makes the server accept mail again.
func (s *SMTPServer) ClearRejects() {
	s.Reject(0, 0)
}

// Stop closes the listener and every open connection, like a relay that went down. It is
// safe to call more than once.
func (s *SMTPServer) Stop() {
	s.mu.Lock()
	srv, l, served := s.srv, s.listener, s.served
	s.srv, s.listener = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	// srv.Close closes the listeners Serve has registered and every connection; closing
	// l as well covers a Stop that runs before the Serve goroutine has registered it.
	_ = srv.Close()
	_ = l.Close()
	<-served
}

// Restart listens again on the same port after Stop, keeping the messages received so far.
func (s *SMTPServer) Restart(tb testing.TB) {
	tb.Helper()
	if err := s.Listen(); err != nil {
		tb.Fatal(err)
	}
}

// Listen is Restart for programs outside tests.
func (s *SMTPServer) Listen() error {
	s.Stop()
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("restart smtp server on %s: %w", s.addr, err)
	}
	s.serve(l)
	return nil
}

type smtpGate struct {
	after   int
	held    chan struct{} // closed when the gated DATA arrives
	release chan struct{} // closed to let it through
}

// Hold makes the server hold the DATA of the next message once `after` messages in all
// have been accepted, as a slow relay would: held is closed when that message is being
// held, and release lets it (and every later message) through.
func (s *SMTPServer) Hold(after int) (held <-chan struct{}, release func()) {
	g := &smtpGate{after: after, held: make(chan struct{}), release: make(chan struct{})}
	s.mu.Lock()
	s.gate = g
	s.mu.Unlock()
	var once sync.Once
	return g.held, func() { once.Do(func() { close(g.release) }) }
}

// wait holds a DATA at the gate, if one is set and reached.
func (s *SMTPServer) wait() {
	s.mu.Lock()
	g := s.gate
	reached := g != nil && len(s.messages) >= g.after
	if reached {
		s.gate = nil
	}
	s.mu.Unlock()
	if reached {
		close(g.held)
		<-g.release
	}
}

// reject returns the error to answer a RCPT or DATA with, consuming one rejection.
func (s *SMTPServer) reject(command string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rejectLeft == 0 {
		return nil
	}
	if s.rejectLeft > 0 {
		s.rejectLeft--
	}
	return &smtp.SMTPError{
		Code:         s.rejectCode,
		EnhancedCode: smtp.EnhancedCode{s.rejectCode / 100, 0, 0},
		Message:      fmt.Sprintf("%s rejected by the test server", command),
	}
}

func (s *SMTPServer) deliver(m ReceivedMessage) {
	s.mu.Lock()
	s.messages = append(s.messages, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
	s.mu.Unlock()
}

// smtpSession is one SMTP transaction's state on one connection.
type smtpSession struct {
	server *SMTPServer
	from   string
	to     []string
}

// Mail starts a transaction.
func (ss *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

// Rcpt adds a recipient unless the server is told to reject.
func (ss *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.server.mu.Lock()
	code := ss.server.rejectRcpt[strings.ToLower(to)]
	ss.server.mu.Unlock()
	if code != 0 {
		return &smtp.SMTPError{
			Code:         code,
			EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1},
			Message:      "no such mailbox here (test server)",
		}
	}
	if err := ss.server.reject("RCPT"); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

// Data stores the message unless the server is told to reject.
func (ss *smtpSession) Data(r io.Reader) error {
	if err := ss.server.reject("DATA"); err != nil {
		return err
	}
	ss.server.mu.Lock()
	ss.server.inFlight++
	delay := ss.server.delay
	ss.server.mu.Unlock()
	defer func() {
		ss.server.mu.Lock()
		ss.server.inFlight--
		ss.server.mu.Unlock()
	}()
	data, err := io.ReadAll(r)
	ss.server.wait()
	if delay > 0 {
		time.Sleep(delay) // the relay's own pace, not synchronisation
	}
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "unparseable message: " + err.Error()}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	ss.server.deliver(ReceivedMessage{
		From:      ss.from,
		To:        ss.to,
		Data:      data,
		Header:    msg.Header,
		MessageID: msg.Header.Get("Message-ID"),
		Subject:   subject,
	})
	return nil
}

// Reset aborts the transaction (RSET, or after DATA).
func (ss *smtpSession) Reset() {
	ss.from, ss.to = "", nil
}

// Logout ends the session; nothing to release.
func (ss *smtpSession) Logout() error { return nil }

// ReceivedMessage is one message the server accepted.
type ReceivedMessage struct {
	// From and To are the envelope (MAIL FROM and RCPT TO) addresses.
	From string
	To   []string
	// Data is the message exactly as received, headers and body.
	Data   []byte
	Header mail.Header
	// MessageID is the Message-ID header as sent, angle brackets included.
	MessageID string
	// Subject is the Subject header with RFC 2047 encoded words decoded.
	Subject string
}

// MIMEPart is one leaf part of a received message, its body decoded from base64 or
// quoted-printable.
type MIMEPart struct {
	// ContentType is the Content-Type header as sent, parameters included.
	ContentType string
	// MediaType is the lower-case media type of ContentType, e.g. "text/calendar".
	MediaType string
	// Params are the parameters of ContentType, e.g. method and charset.
	Params map[string]string
	// Disposition is "attachment", "inline" or "" (no Content-Disposition).
	Disposition string
	// Filename is the filename of Content-Disposition, or else the name of Content-Type.
	Filename string
	Content  []byte
}

// Parts returns the leaf parts of the message in order, descending into every multipart.
func (m ReceivedMessage) Parts() ([]MIMEPart, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return nil, fmt.Errorf("parse message: %w", err)
	}
	var parts []MIMEPart
	err = walkPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"),
		msg.Header.Get("Content-Disposition"), msg.Body, &parts)
	return parts, err
}

func walkPart(contentType, encoding, disposition string, body io.Reader, parts *[]MIMEPart) error {
	if contentType == "" {
		contentType = "text/plain; charset=us-ascii"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", mediaType, err)
			}
			err = walkPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"),
				p.Header.Get("Content-Disposition"), p, parts)
			if err != nil {
				return err
			}
		}
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, newlineStripper{body})
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	}
	content, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("%s body: %w", mediaType, err)
	}
	part := MIMEPart{ContentType: contentType, MediaType: mediaType, Params: params, Content: content}
	if disposition != "" {
		d, dparams, err := mime.ParseMediaType(disposition)
		if err != nil {
			return fmt.Errorf("content disposition %q: %w", disposition, err)
		}
		part.Disposition, part.Filename = d, dparams["filename"]
	}
	if part.Filename == "" {
		part.Filename = params["name"]
	}
	if name, err := new(mime.WordDecoder).DecodeHeader(part.Filename); err == nil {
		part.Filename = name
	}
	*parts = append(*parts, part)
	return nil
}

// newlineStripper drops CR and LF so base64 bodies wrapped at 76 columns decode.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// TextBody returns the first text/plain part that is not an attachment, decoded, or "".
func (m ReceivedMessage) TextBody() string { return m.body("text/plain") }

// HTMLBody returns the first text/html part that is not an attachment, decoded, or "".
func (m ReceivedMessage) HTMLBody() string { return m.body("text/html") }

func (m ReceivedMessage) body(mediaType string) string {
	parts, _ := m.Parts()
	for _, p := range parts {
		if p.MediaType == mediaType && p.Disposition != "attachment" {
			return string(p.Content)
		}
	}
	return ""
}

// Attachments returns the parts sent with Content-Disposition: attachment, decoded.
func (m ReceivedMessage) Attachments() []MIMEPart {
	parts, _ := m.Parts()
	var out []MIMEPart
	for _, p := range parts {
		if p.Disposition == "attachment" {
			out = append(out, p)
		}
	}
	return out
}
