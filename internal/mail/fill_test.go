package mail_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

var boundaryRE = regexp.MustCompile(`boundary=([0-9a-f]+)`)

// sameBoundary replaces raw's multipart boundary (random per rendering) by a fixed one.
func sameBoundary(raw []byte) []byte {
	m := boundaryRE.FindSubmatch(raw)
	if m == nil {
		return raw
	}
	return bytes.ReplaceAll(raw, m[1], []byte("BOUNDARY"))
}

// renderFile renders m through a file transport into a fresh directory and returns the file.
func renderFile(t *testing.T, m *mail.Message) []byte {
	t.Helper()
	tr, err := mail.NewFile(t.TempDir(), idDomain)
	if err != nil {
		t.Fatal(err)
	}
	s, err := tr.NewSender(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), m); err != nil {
		t.Fatalf("Send %s: %v", m.ID, err)
	}
	raw, err := os.ReadFile(filepath.Join(tr.Dir(), m.ID+".eml"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// A message whose bodies are filled (frozen pieces and personal values) is byte for byte
// the message with the same bodies given whole (but for the random boundary), wherever
// the values fall: at a line's start or end, in lines longer than the 76 characters of a
// quoted-printable line, before trailing white space, next to '=' and non-ASCII text,
// with LF and CRLF line ends, in one part or both. The frozen lines come from the builder's
// cache after the first message; the second round checks that.
func TestFilledBodiesRenderAsWholeBodies(t *testing.T) {
	long := strings.Repeat("abcdefghij", 9)
	cases := map[string]struct{ text, html mail.Filled }{
		"newsletter": {
			text: mail.Filled{"Dear ", "Zoë Novák", ",\n\nThe quarter in brief.\n\n" + long + " x=1 \n\nYou receive this because ", "ana@hospital.example", " is on the list.\nUnsubscribe: ", "https://coalition.example/u/tok_abc", "\n"},
			html: mail.Filled{"<html>\n<body>\n<p>Dear ", "Zo&euml; &lt;N&gt;", ",</p>\n<p>" + long + long + "</p>\n<a href=\"", "https://coalition.example/u/tok_abc", "\">Unsubscribe</a>\n</body>\n</html>\n"},
		},
		"value at the start and the end": {
			text: mail.Filled{"", "Ana", " one\ntwo\nthree ", "end"},
			html: mail.Filled{"", "<b>", ""},
		},
		"a value in a long line": {
			text: mail.Filled{long, "Ana Novák Ana Novák Ana Novák", long + "\n" + long + "\n", "x", " \n"},
			html: mail.Filled{"<p>" + long, "é", long + "</p>"},
		},
		"CRLF line ends and trailing white space": {
			text: mail.Filled{"line one \r\nDear ", "Ana", " \r\n\r\n=\r\nbye\t\r\n"},
			html: mail.Filled{"<p>\r\n", "Ana", "\r\n</p>\r\n"},
		},
		"text only": {
			text: mail.Filled{"Hello ", "Ana", "\nno html here\n"},
		},
		"html only": {
			html: mail.Filled{"<p>Hello ", "Ana", "</p>\n<p>more</p>"},
		},
		"no values": {
			text: mail.Filled{"only frozen\ntext\n"},
			html: mail.Filled{"<p>only frozen</p>\n"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			for round := range 2 {
				whole := sampleMessage("msg_whole")
				whole.Attachments = nil
				whole.Text, whole.HTML = c.text.String(), c.html.String()
				filled := sampleMessage("msg_whole")
				filled.Attachments = nil
				filled.Text, filled.HTML = "", ""
				filled.TextFill, filled.HTMLFill = c.text, c.html
				want, got := sameBoundary(renderFile(t, whole)), sameBoundary(renderFile(t, filled))
				if !bytes.Equal(got, want) {
					t.Fatalf("round %d: filled rendering differs from the whole one:\n--- filled\n%s\n--- whole\n%s", round, got, want)
				}
			}
		})
	}
}

// Filled bodies are refused with anything that would not fit them: a whole body or an
// attachment beside them, a personal value holding a line break, nothing at all.
func TestFilledBodiesRejectBadInput(t *testing.T) {
	tr, err := mail.NewFile(t.TempDir(), idDomain)
	if err != nil {
		t.Fatal(err)
	}
	s, err := tr.NewSender(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(m *mail.Message){
		"text beside a fill":     func(m *mail.Message) { m.Text = "x" },
		"attachment with a fill": func(m *mail.Message) { m.Attachments = sampleMessage("x").Attachments },
		"line break in a value":  func(m *mail.Message) { m.TextFill = mail.Filled{"Dear ", "Ana\r\nBcc: x@evil.example", "\n"} },
		"empty fills":            func(m *mail.Message) { m.TextFill, m.HTMLFill = mail.Filled{""}, mail.Filled{} },
	} {
		t.Run(name, func(t *testing.T) {
			m := sampleMessage("msg_bad_fill")
			m.Attachments = nil
			m.Text, m.HTML = "", ""
			m.TextFill = mail.Filled{"Dear ", "Ana", "\n"}
			change(m)
			err := s.Send(t.Context(), m)
			if err == nil || !mail.IsPermanent(err) {
				t.Fatalf("Send: %v, want a permanent error", err)
			}
			if entries, _ := os.ReadDir(tr.Dir()); len(entries) != 0 {
				t.Errorf("%d files written, want none", len(entries))
			}
		})
	}
}

// A message with filled bodies is signed over its final bytes: the DKIM signature of what
// the relay received verifies.
func TestFilledBodiesAreDKIMSigned(t *testing.T) {
	key := newRSAKey(t)
	srv := testkit.StartSMTP(t)
	tr := newSMTP(t, srv, &mail.DKIMConfig{Domain: "coalition.example", Selector: "sel2026", KeyFile: key.file})
	sender := newSender(t, tr)
	for _, id := range []string{"msg_fill_1", "msg_fill_2"} {
		m := sampleMessage(id)
		m.Attachments = nil
		m.Text, m.HTML = "", ""
		m.TextFill = mail.Filled{"Dear ", "Ana " + id, ",\n\nnews\n"}
		m.HTMLFill = mail.Filled{"<p>Dear ", "Ana " + id, ",</p>\n<p>news</p>\n"}
		if err := sender.Send(t.Context(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	for _, got := range srv.WaitForMessages(t, 2, waitTimeout) {
		v := verify(t, got.Data, key)
		if len(v) != 1 || v[0].Err != nil {
			t.Errorf("%s: signature does not verify: %+v", got.MessageID, v)
		}
		if !bytes.Contains(got.Data, []byte("Dear Ana "+strings.TrimSuffix(strings.TrimPrefix(got.MessageID, "<"), "@"+idDomain+">"))) {
			t.Errorf("%s: personal value missing:\n%s", got.MessageID, got.Data)
		}
	}
}
