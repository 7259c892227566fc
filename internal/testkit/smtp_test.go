package testkit_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/gocart-coalition/coalition/internal/testkit"
)

const rawMessage = "From: Coalition <noreply@coalition.example>\r\n" +
	"To: Ana <ana@hospital.example>\r\n" +
	"Subject: =?UTF-8?q?Observership_confirm=C3=A9?=\r\n" +
	"Message-ID: <msg_01@coalition.example>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=outer\r\n" +
	"\r\n" +
	"--outer\r\n" +
	"Content-Type: multipart/alternative; boundary=inner\r\n" +
	"\r\n" +
	"--inner\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Confirm=C3=A9, a long line that is soft-=\r\n" +
	"wrapped.\r\n" +
	"--inner\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"\r\n" +
	"<p>Confirmed</p>\r\n" +
	"--inner--\r\n" +
	"--outer\r\n" +
	"Content-Type: text/calendar; method=REQUEST; charset=UTF-8; name=\"invite.ics\"\r\n" +
	"Content-Disposition: attachment; filename=\"invite.ics\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"QkVHSU46VkNBTEVOREFSDQpNRVRIT0Q6UkVR\r\n" +
	"VUVTVA0KRU5EOlZDQUxFTkRBUg0K\r\n" +
	"--outer--\r\n"

// send delivers rawMessage with Message-ID <id@coalition.example> over a new plain
// connection (smtp.SendMail insists on STARTTLS, which the test server does not offer).
func send(t *testing.T, addr, id string) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	msg := strings.Replace(rawMessage, "msg_01", id, 1)
	if err := c.SendMail("noreply@coalition.example", []string{"ana@hospital.example"}, strings.NewReader(msg)); err != nil {
		return err
	}
	return c.Quit()
}

func TestSMTPServerCapturesAndParses(t *testing.T) {
	srv := testkit.StartSMTP(t)
	if got, want := srv.URL(), "smtp://"+srv.Addr()+"?tls=none"; got != want {
		t.Errorf("URL() = %q, want %q", got, want)
	}
	if !strings.HasPrefix(srv.Addr(), "127.0.0.1:") {
		t.Errorf("Addr() = %q, want 127.0.0.1:port", srv.Addr())
	}
	if err := send(t, srv.Addr(), "msg_01"); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	got := srv.WaitForMessages(t, 1, 10*time.Second)
	if len(got) != 1 {
		t.Fatalf("got %d messages, want 1", len(got))
	}
	m := got[0]
	if m.From != "noreply@coalition.example" {
		t.Errorf("From = %q", m.From)
	}
	if diff := cmp.Diff([]string{"ana@hospital.example"}, m.To); diff != "" {
		t.Errorf("To (-want +got):\n%s", diff)
	}
	if m.MessageID != "<msg_01@coalition.example>" {
		t.Errorf("MessageID = %q", m.MessageID)
	}
	if m.Subject != "Observership confirmé" {
		t.Errorf("Subject = %q, want the decoded subject", m.Subject)
	}
	if got := m.Header.Get("To"); got != "Ana <ana@hospital.example>" {
		t.Errorf("Header To = %q", got)
	}
	if got, want := m.TextBody(), "Confirmé, a long line that is soft-wrapped."; got != want {
		t.Errorf("TextBody = %q, want %q", got, want)
	}
	if got, want := m.HTMLBody(), "<p>Confirmed</p>"; got != want {
		t.Errorf("HTMLBody = %q, want %q", got, want)
	}
	atts := m.Attachments()
	if len(atts) != 1 {
		t.Fatalf("got %d attachments, want 1", len(atts))
	}
	a := atts[0]
	if a.Filename != "invite.ics" || a.MediaType != "text/calendar" || a.Params["method"] != "REQUEST" || a.Disposition != "attachment" {
		t.Errorf("attachment = %+v", a)
	}
	if got, want := string(a.Content), "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"; got != want {
		t.Errorf("attachment content = %q, want %q", got, want)
	}
}

func TestSMTPServerRejects(t *testing.T) {
	srv := testkit.StartSMTP(t)

	srv.Reject(451, 1)
	var se *smtp.SMTPError
	if err := send(t, srv.Addr(), "msg_r1"); !errors.As(err, &se) || se.Code != 451 {
		t.Errorf("first send after Reject(451, 1) = %v, want a 451", err)
	}
	if err := send(t, srv.Addr(), "msg_ok1"); err != nil {
		t.Errorf("send after the one rejection = %v, want success", err)
	}

	srv.Reject(550, -1)
	for i := range 3 {
		if err := send(t, srv.Addr(), fmt.Sprintf("msg_r550_%d", i)); !errors.As(err, &se) || se.Code != 550 {
			t.Errorf("send %d under Reject(550, -1) = %v, want a 550", i, err)
		}
	}
	srv.ClearRejects()
	if err := send(t, srv.Addr(), "msg_ok2"); err != nil {
		t.Errorf("send after ClearRejects = %v, want success", err)
	}

	var ids []string
	for _, m := range srv.Messages() {
		ids = append(ids, m.MessageID)
	}
	if diff := cmp.Diff([]string{"<msg_ok1@coalition.example>", "<msg_ok2@coalition.example>"}, ids); diff != "" {
		t.Errorf("accepted (-want +got):\n%s", diff)
	}
}

func TestSMTPServerRejectsChosenRecipients(t *testing.T) {
	srv := testkit.StartSMTP(t)
	sendTo := func(rcpt, id string) error {
		c, err := smtp.Dial(srv.Addr())
		if err != nil {
			return err
		}
		defer c.Close()
		msg := strings.Replace(rawMessage, "msg_01", id, 1)
		if err := c.SendMail("noreply@coalition.example", []string{rcpt}, strings.NewReader(msg)); err != nil {
			return err
		}
		return c.Quit()
	}
	srv.RejectRecipients(550, "Gone@Hospital.example")
	srv.Reject(451, -1)
	srv.ClearRejects() // leaves the chosen recipients refused
	var se *smtp.SMTPError
	if err := sendTo("gone@hospital.example", "msg_gone"); !errors.As(err, &se) || se.Code != 550 {
		t.Errorf("send to a refused recipient = %v, want a 550", err)
	}
	if err := sendTo("ana@hospital.example", "msg_ana"); err != nil {
		t.Errorf("send to another recipient = %v, want success", err)
	}
	if err := sendTo("bo@hospital.example", "msg_bo"); err != nil {
		t.Errorf("send to another recipient = %v, want success", err)
	}
	if n := srv.Count(); n != 2 {
		t.Errorf("Count() = %d, want 2", n)
	}
	var ids []string
	for _, m := range srv.MessagesSince(1) {
		ids = append(ids, m.MessageID)
	}
	if diff := cmp.Diff([]string{"<msg_bo@coalition.example>"}, ids); diff != "" {
		t.Errorf("MessagesSince(1) (-want +got):\n%s", diff)
	}
	if got := srv.MessagesSince(2); got != nil {
		t.Errorf("MessagesSince(2) = %d messages, want none", len(got))
	}
}

func TestSMTPServerStopAndRestartOnTheSamePort(t *testing.T) {
	srv := testkit.StartSMTP(t)
	addr := srv.Addr()
	if err := send(t, addr, "msg_before"); err != nil {
		t.Fatalf("send: %v", err)
	}
	srv.Stop()
	if err := send(t, addr, "msg_down"); err == nil {
		t.Errorf("send to a stopped server succeeded")
	}
	srv.Restart(t)
	if srv.Addr() != addr {
		t.Errorf("Addr after Restart = %q, want %q", srv.Addr(), addr)
	}
	if err := send(t, addr, "msg_after"); err != nil {
		t.Fatalf("send after Restart: %v", err)
	}
	if n := len(srv.WaitForMessages(t, 2, 10*time.Second)); n != 2 {
		t.Errorf("got %d messages, want 2 (kept across the restart)", n)
	}
	srv.Stop()
	srv.Stop() // idempotent; Cleanup stops once more
}

func TestWaitForMessagesWakesOnArrival(t *testing.T) {
	srv := testkit.StartSMTP(t)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { errs <- send(t, srv.Addr(), fmt.Sprintf("msg_c%d", i)) })
	}
	got := srv.WaitForMessages(t, n, 10*time.Second)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("send: %v", err)
		}
	}
	if len(got) != n {
		t.Errorf("got %d messages, want %d", len(got), n)
	}
}

// fatalRecorder is a testing.TB whose Fatalf records instead of stopping the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }

func TestWaitForMessagesFailsAfterTimeout(t *testing.T) {
	srv := testkit.StartSMTP(t)
	rec := &fatalRecorder{TB: t}
	if got := srv.WaitForMessages(rec, 1, 20*time.Millisecond); got != nil {
		t.Errorf("WaitForMessages = %v, want nil", got)
	}
	if !strings.Contains(rec.msg, "got 0 messages") {
		t.Errorf("failure message = %q, want it to say how many arrived", rec.msg)
	}
}
