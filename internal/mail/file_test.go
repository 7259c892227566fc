package mail_test

import (
	"bytes"
	"errors"
	netmail "net/mail"
	"os"
	"path/filepath"
	"testing"

	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

func TestFileTransportWritesParseableEML(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "outbox")
	tr, err := mail.NewFile(dir, idDomain)
	if err != nil {
		t.Fatalf("NewFile: %v", err)
	}
	if tr.Name() != "file" {
		t.Errorf("Name() = %q, want file", tr.Name())
	}
	sender := newSender(t, tr)

	if err := sender.Send(t.Context(), sampleMessage("msg_01JFILE")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "msg_01JFILE.eml"))
	if err != nil {
		t.Fatalf("read .eml: %v", err)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse .eml: %v", err)
	}
	if got, want := msg.Header.Get("Message-ID"), "<msg_01JFILE@coalition.example>"; got != want {
		t.Errorf("Message-ID = %q, want %q", got, want)
	}
	if got := msg.Header.Get("To"); got == "" {
		t.Errorf("no To header")
	}
	// The same bytes as the SMTP transport: parse them with the test server's MIME walker.
	received := testkit.ReceivedMessage{Data: raw}
	if got, want := normalise(received.TextBody()), sampleMessage("x").Text; got != want {
		t.Errorf("text body = %q, want %q", got, want)
	}
	if n := len(received.Attachments()); n != 2 {
		t.Errorf("got %d attachments, want 2", n)
	}

	// A retry replaces the file; nothing else is left in the directory.
	m := sampleMessage("msg_01JFILE")
	m.Subject = "Second attempt"
	if err := sender.Send(t.Context(), m); err != nil {
		t.Fatalf("second Send: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "msg_01JFILE.eml" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only msg_01JFILE.eml", names)
	}
	raw, err = os.ReadFile(filepath.Join(dir, "msg_01JFILE.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("Subject: Second attempt\r\n")) {
		t.Errorf("retry did not replace the file:\n%s", raw)
	}
}

func TestFileTransportRejectsUnsafeIDs(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "outbox")
	tr, err := mail.NewFile(dir, "")
	if err != nil {
		t.Fatalf("NewFile: %v", err)
	}
	sender := newSender(t, tr)
	for _, id := range []string{"../escape", "a/b", ".hidden", ""} {
		err := sender.Send(t.Context(), sampleMessage(id))
		if !mail.IsPermanent(err) {
			t.Errorf("Send(id %q) error = %v, want permanent", id, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "escape.eml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a message escaped the directory: %v", err)
	}
}

func TestFileTransportDerivesMessageIDDomainFromSender(t *testing.T) {
	dir := t.TempDir()
	tr, err := mail.NewFile(dir, "")
	if err != nil {
		t.Fatalf("NewFile: %v", err)
	}
	if err := newSender(t, tr).Send(t.Context(), sampleMessage("msg_domain")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "msg_domain.eml"))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	// sampleMessage is from noreply@coalition.example.
	if got, want := msg.Header.Get("Message-ID"), "<msg_domain@coalition.example>"; got != want {
		t.Errorf("Message-ID = %q, want %q", got, want)
	}
}

func TestNewFileFailsOnUnusableDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := mail.NewFile(filepath.Join(file, "outbox"), ""); err == nil {
		t.Errorf("NewFile under a regular file = nil error, want an error")
	}
	if _, err := mail.NewFile("", ""); err == nil {
		t.Errorf("NewFile(\"\") = nil error, want an error")
	}
}
