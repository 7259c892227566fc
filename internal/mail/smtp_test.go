package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gocart-coalition/coalition/ent/schema/mailtype"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

const (
	idDomain    = "coalition.example"
	waitTimeout = 10 * time.Second
)

var testDate = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

const inviteICS = "BEGIN:VCALENDAR\r\n" +
	"VERSION:2.0\r\n" +
	"PRODID:-//gocart coalition//observership//EN\r\n" +
	"METHOD:REQUEST\r\n" +
	"BEGIN:VEVENT\r\n" +
	"UID:plc_01JNV8Q4ZV3X0A7M1N2B3C4D5E@coalition.example\r\n" +
	"SEQUENCE:0\r\n" +
	"DTSTAMP:20260302T093000Z\r\n" +
	"DTSTART;VALUE=DATE:20260413\r\n" +
	"DTEND;VALUE=DATE:20260425\r\n" +
	"SUMMARY:Observership at Hôpital Saint-Louis\r\n" +
	"ORGANIZER;CN=Coalition:mailto:noreply@coalition.example\r\n" +
	"ATTENDEE;CN=Dr Ana Novák;RSVP=TRUE:mailto:ana@hospital.example\r\n" +
	"END:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

// sampleMessage is a full message: both bodies, unsubscribe headers, an invitation shown
// inline and an ordinary attachment.
func sampleMessage(id string) *mail.Message {
	return &mail.Message{
		ID:      id,
		From:    mail.Address{Name: "CAR-T Coalition", Email: "noreply@coalition.example"},
		To:      mail.Address{Name: "Dr Ana Novák", Email: "ana@hospital.example"},
		Subject: "Your observership in Paris — confirmed",
		Text:    "Dear Dr Novák,\n\nyour placement is confirmed.\n",
		HTML:    "<p>Dear Dr Novák,</p><p>your placement is <strong>confirmed</strong>.</p>\n",
		Headers: map[string]string{
			"List-Unsubscribe":      "<https://coalition.example/unsubscribe/tok_abc>, <mailto:unsubscribe+tok_abc@coalition.example>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
		Attachments: []mailtype.Attachment{
			{Filename: "invite.ics", ContentType: "text/calendar", Content: []byte(inviteICS), Inline: true},
			{Filename: "programme.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.7 not really\n")},
		},
		Date: testDate,
	}
}

func newSMTP(tb testing.TB, srv *testkit.SMTPServer, dkim *mail.DKIMConfig) *mail.SMTPTransport {
	tb.Helper()
	cfg, err := mail.ParseSMTPURL(srv.URL())
	if err != nil {
		tb.Fatalf("ParseSMTPURL(%q): %v", srv.URL(), err)
	}
	cfg.MessageIDDomain = idDomain
	cfg.HeloName = "worker.coalition.example"
	cfg.Timeout = waitTimeout
	cfg.DKIM = dkim
	tr, err := mail.NewSMTP(cfg)
	if err != nil {
		tb.Fatalf("NewSMTP: %v", err)
	}
	return tr
}

func newSender(tb testing.TB, tr mail.Transport) mail.Sender {
	tb.Helper()
	s, err := tr.NewSender(context.Background())
	if err != nil {
		tb.Fatalf("NewSender: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close sender: %v", err)
		}
	})
	return s
}

func TestSMTPSendDeliversTheWholeMessage(t *testing.T) {
	srv := testkit.StartSMTP(t)
	sender := newSender(t, newSMTP(t, srv, nil))

	if err := sender.Send(t.Context(), sampleMessage("msg_01JNV8Q4ZV3X0A7M1N2B3C4D5E")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.WaitForMessages(t, 1, waitTimeout)[0]

	if got.From != "noreply@coalition.example" {
		t.Errorf("envelope from = %q, want noreply@coalition.example", got.From)
	}
	if diff := cmp.Diff([]string{"ana@hospital.example"}, got.To); diff != "" {
		t.Errorf("envelope to (-want +got):\n%s", diff)
	}
	if want := "<msg_01JNV8Q4ZV3X0A7M1N2B3C4D5E@coalition.example>"; got.MessageID != want {
		t.Errorf("Message-ID = %q, want %q", got.MessageID, want)
	}
	if want := mail.MessageID("msg_01JNV8Q4ZV3X0A7M1N2B3C4D5E", idDomain); got.MessageID != want {
		t.Errorf("Message-ID = %q, want MessageID() = %q", got.MessageID, want)
	}
	if want := "Your observership in Paris — confirmed"; got.Subject != want {
		t.Errorf("Subject = %q, want %q", got.Subject, want)
	}
	from, err := got.Header.AddressList("From")
	if err != nil {
		t.Fatalf("From header: %v", err)
	}
	if diff := cmp.Diff([]*netmail.Address{{Name: "CAR-T Coalition", Address: "noreply@coalition.example"}}, from); diff != "" {
		t.Errorf("From header (-want +got):\n%s", diff)
	}
	to, err := got.Header.AddressList("To")
	if err != nil {
		t.Fatalf("To header: %v", err)
	}
	if diff := cmp.Diff([]*netmail.Address{{Name: "Dr Ana Novák", Address: "ana@hospital.example"}}, to); diff != "" {
		t.Errorf("To header (-want +got):\n%s", diff)
	}
	date, err := got.Header.Date()
	if err != nil || !date.Equal(testDate) {
		t.Errorf("Date = %v (%v), want %v", date, err, testDate)
	}
	if got, want := got.Header.Get("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click"; got != want {
		t.Errorf("List-Unsubscribe-Post = %q, want %q", got, want)
	}
	if got, want := got.Header.Get("List-Unsubscribe"), "<https://coalition.example/unsubscribe/tok_abc>, <mailto:unsubscribe+tok_abc@coalition.example>"; got != want {
		t.Errorf("List-Unsubscribe = %q, want %q", got, want)
	}
	if ua := got.Header.Get("User-Agent") + got.Header.Get("X-Mailer"); ua != "" {
		t.Errorf("User-Agent/X-Mailer = %q, want none", ua)
	}
	if ct := got.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/mixed;") {
		t.Errorf("top-level Content-Type = %q, want multipart/mixed", ct)
	}
	if !strings.Contains(string(got.Data), "Content-Type: multipart/alternative;") {
		t.Errorf("no multipart/alternative part in:\n%s", got.Data)
	}

	if got, want := got.TextBody(), "Dear Dr Novák,\n\nyour placement is confirmed.\n"; normalise(got) != want {
		t.Errorf("text body = %q, want %q", got, want)
	}
	if got, want := got.HTMLBody(), "<p>Dear Dr Novák,</p><p>your placement is <strong>confirmed</strong>.</p>\n"; normalise(got) != want {
		t.Errorf("html body = %q, want %q", got, want)
	}

	parts, err := got.Parts()
	if err != nil {
		t.Fatalf("Parts: %v", err)
	}
	type partSummary struct{ MediaType, Method, Charset, Disposition, Filename string }
	var summary []partSummary
	for _, p := range parts {
		summary = append(summary, partSummary{p.MediaType, p.Params["method"], p.Params["charset"], p.Disposition, p.Filename})
	}
	wantSummary := []partSummary{
		{"text/plain", "", "UTF-8", "", ""},
		{"text/html", "", "UTF-8", "", ""},
		{"text/calendar", "REQUEST", "UTF-8", "", ""},
		{"text/calendar", "REQUEST", "UTF-8", "attachment", "invite.ics"},
		{"application/pdf", "", "", "attachment", "programme.pdf"},
	}
	if diff := cmp.Diff(wantSummary, summary); diff != "" {
		t.Errorf("MIME parts (-want +got):\n%s", diff)
	}

	atts := got.Attachments()
	if len(atts) != 2 {
		t.Fatalf("got %d attachments, want 2", len(atts))
	}
	if want := `text/calendar; method=REQUEST; charset=UTF-8; name="invite.ics"`; atts[0].ContentType != want {
		t.Errorf("calendar attachment Content-Type = %q, want %q", atts[0].ContentType, want)
	}
	if string(atts[0].Content) != inviteICS {
		t.Errorf("calendar attachment content = %q, want %q", atts[0].Content, inviteICS)
	}
	if string(atts[1].Content) != "%PDF-1.7 not really\n" {
		t.Errorf("pdf attachment content = %q", atts[1].Content)
	}
	if normalise(string(parts[2].Content)) != strings.ReplaceAll(inviteICS, "\r\n", "\n") {
		t.Errorf("inline calendar part = %q, want the ics", parts[2].Content)
	}
}

// normalise turns CRLF line ends into LF, as a mail client would show them.
func normalise(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

func TestSMTPCalendarWithoutInlineIsAnAttachmentOnly(t *testing.T) {
	srv := testkit.StartSMTP(t)
	sender := newSender(t, newSMTP(t, srv, nil))
	m := sampleMessage("msg_cancel")
	cancel := strings.Replace(inviteICS, "METHOD:REQUEST", "METHOD:CANCEL", 1)
	m.Attachments = []mailtype.Attachment{{Filename: "cancel.ics", Content: []byte(cancel)}}

	if err := sender.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.WaitForMessages(t, 1, waitTimeout)[0]
	parts, err := got.Parts()
	if err != nil {
		t.Fatalf("Parts: %v", err)
	}
	var calendars []string
	for _, p := range parts {
		if p.MediaType == "text/calendar" {
			calendars = append(calendars, p.Disposition+" "+p.ContentType)
		}
	}
	want := []string{`attachment text/calendar; method=CANCEL; charset=UTF-8; name="cancel.ics"`}
	if diff := cmp.Diff(want, calendars); diff != "" {
		t.Errorf("calendar parts (-want +got):\n%s", diff)
	}
}

func TestSMTPTextOnlyIsSinglePart(t *testing.T) {
	srv := testkit.StartSMTP(t)
	sender := newSender(t, newSMTP(t, srv, nil))
	m := sampleMessage("msg_text")
	m.HTML, m.Attachments = "", nil

	if err := sender.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.WaitForMessages(t, 1, waitTimeout)[0]
	if ct := got.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type = %q, want text/plain; charset=UTF-8", ct)
	}
	if normalise(got.TextBody()) != m.Text {
		t.Errorf("text body = %q, want %q", got.TextBody(), m.Text)
	}
}

func TestSMTPRejectionsAreClassified(t *testing.T) {
	tests := []struct {
		code      int
		permanent bool
	}{
		{421, false},
		{450, false},
		{451, false},
		{452, false},
		{550, true},
		{552, true},
		{554, true},
	}
	srv := testkit.StartSMTP(t)
	sender := newSender(t, newSMTP(t, srv, nil))
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			srv.Reject(tt.code, 1)
			err := sender.Send(t.Context(), sampleMessage(fmt.Sprintf("msg_reject_%d", tt.code)))
			var se *mail.SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send error = %v (%T), want a *mail.SendError", err, err)
			}
			if se.Code != tt.code {
				t.Errorf("Code = %d, want %d", se.Code, tt.code)
			}
			if se.Permanent != tt.permanent || mail.IsPermanent(err) != tt.permanent {
				t.Errorf("Permanent = %v, IsPermanent = %v, want %v", se.Permanent, mail.IsPermanent(err), tt.permanent)
			}
			if !strings.Contains(err.Error(), "RCPT TO") || !strings.Contains(err.Error(), fmt.Sprint(tt.code)) {
				t.Errorf("error %q does not name the step and the code", err)
			}

			// The same sender recovers: the failed transaction was reset (or, after
			// 421, the connection replaced) and the next message goes through.
			id := fmt.Sprintf("msg_after_%d", tt.code)
			if err := sender.Send(t.Context(), sampleMessage(id)); err != nil {
				t.Fatalf("Send after rejection: %v", err)
			}
			msgs := srv.Messages()
			if last := msgs[len(msgs)-1].MessageID; last != mail.MessageID(id, idDomain) {
				t.Errorf("last received Message-ID = %q, want %q", last, mail.MessageID(id, idDomain))
			}
		})
	}
	for _, m := range srv.Messages() {
		if strings.Contains(m.MessageID, "msg_reject_") {
			t.Errorf("rejected message %s was received", m.MessageID)
		}
	}
}

func TestSMTPServerDownIsTemporary(t *testing.T) {
	srv := testkit.StartSMTP(t)
	tr := newSMTP(t, srv, nil)
	srv.Stop()

	sender := newSender(t, tr)
	err := sender.Send(t.Context(), sampleMessage("msg_down"))
	var se *mail.SendError
	if !errors.As(err, &se) {
		t.Fatalf("Send error = %v (%T), want a *mail.SendError", err, err)
	}
	if se.Permanent || mail.IsPermanent(err) {
		t.Errorf("connection refused is permanent, want temporary: %v", err)
	}
	if se.Code != 0 {
		t.Errorf("Code = %d, want 0", se.Code)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("error %v does not wrap ECONNREFUSED", err)
	}

	// The relay comes back: the same sender connects and delivers.
	srv.Restart(t)
	if err := sender.Send(t.Context(), sampleMessage("msg_back")); err != nil {
		t.Fatalf("Send after restart: %v", err)
	}
	if got := srv.WaitForMessages(t, 1, waitTimeout)[0].MessageID; got != mail.MessageID("msg_back", idDomain) {
		t.Errorf("Message-ID = %q, want msg_back", got)
	}
}

func TestSMTPStartTLSIsMandatory(t *testing.T) {
	srv := testkit.StartSMTP(t) // plain SMTP: it does not offer STARTTLS
	cfg, err := mail.ParseSMTPURL(strings.Replace(srv.URL(), "tls=none", "tls=starttls", 1))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = newSender(t, tr).Send(t.Context(), sampleMessage("msg_plain"))
	if err == nil || mail.IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("Send to a relay without STARTTLS = %v, want a temporary STARTTLS error", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages in plain text, want 0", n)
	}
}

func TestSMTPSenderReconnectsAfterTheRelayDroppedIt(t *testing.T) {
	srv := testkit.StartSMTP(t)
	sender := newSender(t, newSMTP(t, srv, nil))
	if err := sender.Send(t.Context(), sampleMessage("msg_first")); err != nil {
		t.Fatalf("first Send: %v", err)
	}
	// Stop closes the sender's open connection; Restart listens again. The sender
	// finds its connection dead on MAIL FROM and must reconnect without failing the
	// message.
	srv.Restart(t)
	if err := sender.Send(t.Context(), sampleMessage("msg_second")); err != nil {
		t.Fatalf("Send over a dropped connection: %v", err)
	}
	msgs := srv.WaitForMessages(t, 2, waitTimeout)
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.MessageID)
	}
	want := []string{mail.MessageID("msg_first", idDomain), mail.MessageID("msg_second", idDomain)}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("received (-want +got):\n%s", diff)
	}
}

func TestSMTPCancelledContextIsTemporary(t *testing.T) {
	srv := testkit.StartSMTP(t)
	sender := newSender(t, newSMTP(t, srv, nil))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	err := sender.Send(ctx, sampleMessage("msg_cancelled"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Send error = %v, want context.Canceled", err)
	}
	if mail.IsPermanent(err) {
		t.Errorf("cancelled send is permanent: %v", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages, want 0", n)
	}
}

func TestSMTPMalformedMessageIsPermanent(t *testing.T) {
	srv := testkit.StartSMTP(t)
	sender := newSender(t, newSMTP(t, srv, nil))
	tests := map[string]func(m *mail.Message){
		"bad recipient":       func(m *mail.Message) { m.To.Email = "not an address" },
		"recipient with name": func(m *mail.Message) { m.To.Email = "Ana <ana@hospital.example>" },
		"subject injection":   func(m *mail.Message) { m.Subject = "hi\r\nBcc: victim@example.org" },
		"header injection":    func(m *mail.Message) { m.Headers["X-Tag"] = "a\nBcc: victim@example.org" },
		"reserved header":     func(m *mail.Message) { m.Headers["message-id"] = "<forged@example.org>" },
		"bad header name":     func(m *mail.Message) { m.Headers["X Tag"] = "a" },
		"path in id":          func(m *mail.Message) { m.ID = "../../etc/passwd" },
		"empty id":            func(m *mail.Message) { m.ID = "" },
		"no body":             func(m *mail.Message) { m.Text, m.HTML = "", "" },
		"bad content type":    func(m *mail.Message) { m.Attachments[1].ContentType = "application/" },
		"bad calendar method": func(m *mail.Message) { m.Attachments[0].Content = []byte("BEGIN:VCALENDAR\r\nMETHOD:RE QUEST\r\n") },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			m := sampleMessage("msg_bad")
			mutate(m)
			err := sender.Send(t.Context(), m)
			var se *mail.SendError
			if !errors.As(err, &se) || !se.Permanent || se.Code != 0 {
				t.Errorf("Send error = %#v, want a permanent SendError with code 0", err)
			}
		})
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("server received %d messages, want 0", n)
	}
}

func TestNewSMTPRejectsBadConfig(t *testing.T) {
	tests := map[string]mail.SMTPConfig{
		"no host":         {Port: 587, TLS: mail.TLSStartTLS},
		"bad port":        {Host: "smtp.example.org", Port: 70000, TLS: mail.TLSStartTLS},
		"bad tls":         {Host: "smtp.example.org", Port: 587, TLS: "ssl"},
		"negative time":   {Host: "smtp.example.org", Port: 587, TLS: mail.TLSNone, Timeout: -time.Second},
		"bad domain":      {Host: "smtp.example.org", Port: 587, TLS: mail.TLSNone, MessageIDDomain: "a b"},
		"missing dkim":    {Host: "smtp.example.org", Port: 587, TLS: mail.TLSNone, DKIM: &mail.DKIMConfig{Domain: "d", Selector: "s", KeyFile: "/nonexistent/key.pem"}},
		"empty tls mode":  {Host: "smtp.example.org", Port: 587},
		"empty tls port0": {Host: "smtp.example.org", TLS: mail.TLSNone},
	}
	for name, cfg := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := mail.NewSMTP(cfg); err == nil {
				t.Errorf("NewSMTP(%+v) = nil error, want an error", cfg)
			}
		})
	}
}

func TestIsPermanent(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("plain"), false},
		{&mail.SendError{Code: 451, Err: errors.New("try later")}, false},
		{&mail.SendError{Permanent: true, Code: 550, Err: errors.New("no such user")}, true},
		{fmt.Errorf("outbox: %w", &mail.SendError{Permanent: true, Code: 550, Err: errors.New("no such user")}), true},
	}
	for _, tt := range tests {
		if got := mail.IsPermanent(tt.err); got != tt.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	inner := errors.New("no such user")
	if err := (&mail.SendError{Permanent: true, Code: 550, Err: inner}); !errors.Is(err, inner) {
		t.Errorf("SendError does not unwrap to its Err")
	}
}

// BenchmarkSMTPSend sends through one Sender (one worker) to the in-process server: the
// ceiling of one outbox worker, without and with DKIM.
func BenchmarkSMTPSend(b *testing.B) {
	for _, bc := range []struct {
		name string
		key  func(testing.TB) dkimKey
	}{
		{"plain", nil},
		{"dkim-ed25519", newEd25519Key},
		{"dkim-rsa2048", newRSAKey},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := testkit.StartSMTP(b)
			var dkimCfg *mail.DKIMConfig
			if bc.key != nil {
				dkimCfg = &mail.DKIMConfig{Domain: idDomain, Selector: "sel2026", KeyFile: bc.key(b).file}
			}
			sender := newSender(b, newSMTP(b, srv, dkimCfg))
			m := sampleMessage("")
			m.Attachments = nil
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				m.ID = fmt.Sprintf("msg_bench_%d", i)
				if err := sender.Send(ctx, m); err != nil {
					b.Fatalf("Send: %v", err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// TestSMTPPipelinedDataIsDotStuffed: the relay offers PIPELINING, so MAIL, RCPT and DATA
// go out in one write and the message is dot-stuffed in one pass; lines that begin with a
// dot, and a line that is a single dot, arrive exactly as written (not ending the DATA
// early, not losing their dot), and the next message on the same connection is intact.
func TestSMTPPipelinedDataIsDotStuffed(t *testing.T) {
	srv := testkit.StartSMTP(t)
	sender := newSender(t, newSMTP(t, srv, nil))
	text := ".starts with a dot\n.\n..two dots\nmiddle . dot\n."
	m := &mail.Message{
		ID: "msg_dots", From: mail.Address{Email: "noreply@coalition.example"}, To: mail.Address{Email: "ana@hospital.example"},
		Subject: "Dots", Text: text, Date: testDate,
	}
	if err := sender.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := sender.Send(t.Context(), sampleMessage("msg_after_dots")); err != nil {
		t.Fatalf("Send after: %v", err)
	}
	got := srv.WaitForMessages(t, 2, waitTimeout)
	if !bytes.Contains(got[0].Data, []byte("\r\n.\r\n")) || !bytes.Contains(got[0].Data, []byte("\r\n..two")) {
		t.Fatalf("the message as received has no line of a single dot or starting with two dots; the test checks nothing: %q", got[0].Data)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(got[0].Data[bytes.Index(got[0].Data, []byte("\r\n\r\n"))+4:])))
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(text, "\n", "\r\n"); strings.TrimRight(string(body), "\r\n") != want {
		t.Errorf("received text = %q, want %q", body, want)
	}
	if got[1].MessageID != mail.MessageID("msg_after_dots", idDomain) || got[1].Subject != "Your observership in Paris — confirmed" {
		t.Errorf("next message = %s %q", got[1].MessageID, got[1].Subject)
	}
}
