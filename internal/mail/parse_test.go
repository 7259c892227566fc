package mail_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gocart-coalition/coalition/internal/mail"
)

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		raw  string
		want mail.SMTPConfig
	}{
		{"smtp://smtp.example.org", mail.SMTPConfig{Host: "smtp.example.org", Port: 587, TLS: mail.TLSStartTLS}},
		{"smtp://smtp.example.org/", mail.SMTPConfig{Host: "smtp.example.org", Port: 587, TLS: mail.TLSStartTLS}},
		{"smtp://smtp.example.org:2525", mail.SMTPConfig{Host: "smtp.example.org", Port: 2525, TLS: mail.TLSStartTLS}},
		{"smtp://smtp.example.org?tls=starttls", mail.SMTPConfig{Host: "smtp.example.org", Port: 587, TLS: mail.TLSStartTLS}},
		{"smtp://smtp.example.org?tls=tls", mail.SMTPConfig{Host: "smtp.example.org", Port: 465, TLS: mail.TLSImplicit}},
		{"smtp://smtp.example.org:4650?tls=tls", mail.SMTPConfig{Host: "smtp.example.org", Port: 4650, TLS: mail.TLSImplicit}},
		{"smtp://127.0.0.1:2525?tls=none", mail.SMTPConfig{Host: "127.0.0.1", Port: 2525, TLS: mail.TLSNone}},
		{"smtp://[::1]:25?tls=none", mail.SMTPConfig{Host: "::1", Port: 25, TLS: mail.TLSNone}},
		{"smtp://mailer@smtp.example.org", mail.SMTPConfig{Host: "smtp.example.org", Port: 587, TLS: mail.TLSStartTLS, Username: "mailer"}},
		{
			"smtp://apikey:s3cr%40t%3A%2Fpass@smtp.example.org:587?tls=starttls",
			mail.SMTPConfig{Host: "smtp.example.org", Port: 587, TLS: mail.TLSStartTLS, Username: "apikey", Password: "s3cr@t:/pass"},
		},
		{
			"smtp://user%40example.org:p%20w@smtp.example.org",
			mail.SMTPConfig{Host: "smtp.example.org", Port: 587, TLS: mail.TLSStartTLS, Username: "user@example.org", Password: "p w"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := mail.ParseSMTPURL(tt.raw)
			if err != nil {
				t.Fatalf("ParseSMTPURL(%q): %v", tt.raw, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseSMTPURL(%q) (-want +got):\n%s", tt.raw, diff)
			}
		})
	}
}

func TestParseSMTPURLRejectsBadInput(t *testing.T) {
	tests := []struct {
		raw, wantErr string
	}{
		{"", "scheme"},
		{"smtp.example.org:587", "scheme"},
		{"smtps://smtp.example.org", "scheme"},
		{"http://smtp.example.org", "scheme"},
		{"smtp://", "missing host"},
		{"smtp://:587", "missing host"},
		{"smtp:smtp.example.org", "missing host"},
		{"smtp://user:pass@:587", "missing host"},
		{"smtp://smtp.example.org:0", "port"},
		{"smtp://smtp.example.org:65536", "port"},
		{"smtp://smtp.example.org:smtp", "port"},
		{"smtp://smtp.example.org?tls=ssl", `tls mode "ssl"`},
		{"smtp://smtp.example.org?tls=", `tls mode ""`},
		{"smtp://smtp.example.org?tls=none&tls=tls", "more than once"},
		{"smtp://smtp.example.org?tsl=none", `unknown parameter "tsl"`},
		{"smtp://smtp.example.org/relay", "path"},
		{"smtp://smtp.example.org?tls=%zz", "query"},
		{"smtp://user:hunter2@smtp.example.org:99999", "port"},
		{"smtp://user:hunter2@smtp.example.org:smtp", "port"},
		{"smtp://user:hunter2@smtp.example.org?tls=bogus", "tls mode"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, err := mail.ParseSMTPURL(tt.raw)
			if err == nil {
				t.Fatalf("ParseSMTPURL(%q) = nil error, want one containing %q", tt.raw, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseSMTPURL(%q) error = %q, want it to contain %q", tt.raw, err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}
