package mail_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/google/go-cmp/cmp"

	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// wantSignedHeaders is ARCHITECTURE §6.13's list, in order.
var wantSignedHeaders = []string{"From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"}

// dkimKey is a freshly generated key written as PEM, and the TXT record publishing it.
type dkimKey struct {
	file string
	txt  string
}

func newRSAKey(t testing.TB) dkimKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	// PKCS #1, as `openssl genrsa -traditional` and most DKIM guides write it.
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}
	return dkimKey{file: writePEM(t, block), txt: "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)}
}

func newEd25519Key(t testing.TB) dkimKey {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// RFC 8463 §4: the p= of an ed25519 key is the raw 32-byte public key.
	return dkimKey{file: writePEM(t, &pem.Block{Type: "PRIVATE KEY", Bytes: der}), txt: "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}
}

func writePEM(t testing.TB, block *pem.Block) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// verify checks raw's DKIM signatures, serving key as the TXT record of
// sel2026._domainkey.coalition.example.
func verify(t *testing.T, raw []byte, key dkimKey) []*dkim.Verification {
	t.Helper()
	verifications, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != "sel2026._domainkey.coalition.example" {
				t.Errorf("LookupTXT(%q), want sel2026._domainkey.coalition.example", domain)
			}
			return []string{key.txt}, nil
		},
	})
	if err != nil {
		t.Fatalf("dkim.Verify: %v", err)
	}
	return verifications
}

func TestDKIMSignatureVerifies(t *testing.T) {
	for name, newKey := range map[string]func(testing.TB) dkimKey{"rsa": newRSAKey, "ed25519": newEd25519Key} {
		t.Run(name, func(t *testing.T) {
			key := newKey(t)
			srv := testkit.StartSMTP(t)
			tr := newSMTP(t, srv, &mail.DKIMConfig{Domain: "coalition.example", Selector: "sel2026", KeyFile: key.file})
			sender := newSender(t, tr)

			// One message with the unsubscribe headers, one without.
			withList := sampleMessage("msg_dkim_list")
			transactional := sampleMessage("msg_dkim_plain")
			transactional.Headers = nil
			for _, m := range []*mail.Message{withList, transactional} {
				if err := sender.Send(t.Context(), m); err != nil {
					t.Fatalf("Send %s: %v", m.ID, err)
				}
			}

			for _, got := range srv.WaitForMessages(t, 2, waitTimeout) {
				if !bytes.HasPrefix(got.Data, []byte("DKIM-Signature: ")) {
					t.Errorf("%s: message does not start with DKIM-Signature:\n%.300s", got.MessageID, got.Data)
				}
				verifications := verify(t, got.Data, key)
				if len(verifications) != 1 {
					t.Fatalf("%s: got %d signatures, want 1", got.MessageID, len(verifications))
				}
				v := verifications[0]
				if v.Err != nil {
					t.Errorf("%s: signature does not verify: %v", got.MessageID, v.Err)
				}
				if v.Domain != "coalition.example" {
					t.Errorf("%s: d= %q, want coalition.example", got.MessageID, v.Domain)
				}
				if diff := cmp.Diff(wantSignedHeaders, v.HeaderKeys); diff != "" {
					t.Errorf("%s: signed headers (-want +got):\n%s", got.MessageID, diff)
				}

				// The signature covers what it claims: a changed subject or an
				// added unsubscribe header no longer verifies.
				tampered := bytes.Replace(got.Data, []byte("Subject: "), []byte("Subject: FW: "), 1)
				if v := verify(t, tampered, key); v[0].Err == nil {
					t.Errorf("%s: signature still verifies after the subject changed", got.MessageID)
				}
				if got.Header.Get("List-Unsubscribe") == "" {
					added := bytes.Replace(got.Data, []byte("\r\nSubject: "), []byte("\r\nList-Unsubscribe: <https://evil.example/>\r\nSubject: "), 1)
					if v := verify(t, added, key); v[0].Err == nil {
						t.Errorf("%s: signature still verifies after a List-Unsubscribe was added", got.MessageID)
					}
				}
			}
		})
	}
}

func TestDKIMSignerSignsAnyRenderedMessage(t *testing.T) {
	key := newEd25519Key(t)
	signer, err := mail.LoadDKIM(mail.DKIMConfig{Domain: "coalition.example", Selector: "sel2026", KeyFile: key.file})
	if err != nil {
		t.Fatalf("LoadDKIM: %v", err)
	}
	raw := []byte("From: a@coalition.example\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nbody\r\n")
	signed, err := signer.Sign(raw)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if !bytes.HasSuffix(signed, raw) {
		t.Errorf("Sign changed the message:\n%s", signed)
	}
	if v := verify(t, signed, key); len(v) != 1 || v[0].Err != nil {
		t.Errorf("signature does not verify: %+v", v)
	}
}

func TestLoadDKIMRejectsBadKeys(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	good := newEd25519Key(t).file
	tests := []struct {
		name    string
		cfg     mail.DKIMConfig
		wantErr string
	}{
		{"missing file", mail.DKIMConfig{Domain: "d.example", Selector: "s", KeyFile: filepath.Join(t.TempDir(), "nope.pem")}, "read key"},
		{"not pem", mail.DKIMConfig{Domain: "d.example", Selector: "s", KeyFile: writeFile(t, "not a key")}, "parse key"},
		{"ecdsa", mail.DKIMConfig{Domain: "d.example", Selector: "s", KeyFile: writePEM(t, &pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})}, "unsupported"},
		{"certificate", mail.DKIMConfig{Domain: "d.example", Selector: "s", KeyFile: writePEM(t, &pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})}, "unsupported"},
		{"no domain", mail.DKIMConfig{Selector: "s", KeyFile: good}, "domain and selector"},
		{"no selector", mail.DKIMConfig{Domain: "d.example", KeyFile: good}, "domain and selector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mail.LoadDKIM(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("LoadDKIM error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}
