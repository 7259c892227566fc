package mail

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"

	"github.com/emersion/go-msgauth/dkim"
	gomail "github.com/wneessen/go-mail"
)

// DKIMConfig names the key that signs outgoing mail and where receivers find its public half
// (the TXT record <Selector>._domainkey.<Domain>).
type DKIMConfig struct {
	Domain, Selector string
	// KeyFile is a PEM private key: RSA (PKCS #1 or PKCS #8, at least 1024 bits) or Ed25519
	// (PKCS #8).
	KeyFile string
}

// dkimSignedHeaders are the header fields every signature covers (ARCHITECTURE §6.13).
// A field the message lacks is signed as absent (RFC 6376 §5.4), so nobody can add a
// List-Unsubscribe to a transactional email without breaking the signature.
var dkimSignedHeaders = []string{
	"From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post",
}

// DKIMSigner signs rendered messages. It is immutable and safe for concurrent use.
//
// We sign the rendered bytes with github.com/emersion/go-msgauth/dkim instead of go-mail's
// signer. go-mail v0.8.1 signs the h= tag unfolded but writes it folded in the middle of a
// field name once the list passes one line, so its signatures stop verifying as soon as the
// list grows beyond ours by one field (measured against go-msgauth's verifier); its Signer
// also caches the algorithm on first use, a data race when Senders share it. go-msgauth is
// the implementation our tests verify with, works on any byte stream (the file transport
// shares it) and keeps no state between messages.
type DKIMSigner struct {
	options dkim.SignOptions
}

// LoadDKIM reads and checks cfg's key and returns a signer for it. It fails at start on a
// missing domain or selector, an unreadable or unsupported key, or a key that cannot sign.
func LoadDKIM(cfg DKIMConfig) (*DKIMSigner, error) {
	if cfg.Domain == "" || cfg.Selector == "" {
		return nil, errors.New("dkim: domain and selector are required")
	}
	pemBytes, err := os.ReadFile(cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("dkim: read key: %w", err)
	}
	key, err := gomail.PrivKeyFromPEM(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("dkim: parse key %s: %w", cfg.KeyFile, err)
	}
	return newDKIMSigner(cfg.Domain, cfg.Selector, key)
}

func newDKIMSigner(domain, selector string, key crypto.Signer) (*DKIMSigner, error) {
	if rsaKey, ok := key.(*rsa.PrivateKey); ok && rsaKey.N.BitLen() < 1024 {
		// RFC 8301 §3.2: verifiers must not accept RSA keys below 1024 bits.
		return nil, fmt.Errorf("dkim: rsa key of %d bits is too short (want at least 1024, better 2048)", rsaKey.N.BitLen())
	}
	s := &DKIMSigner{options: dkim.SignOptions{
		Domain:   domain,
		Selector: selector,
		Signer:   key,
		// relaxed/relaxed survives relays that re-fold headers or trim trailing space.
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             dkimSignedHeaders,
	}}
	// Sign a minimal message once so a key go-msgauth cannot use fails at start, not on
	// the first email.
	if _, err := s.Sign([]byte("From: check@" + domain + "\r\n\r\ncheck\r\n")); err != nil {
		return nil, err
	}
	return s, nil
}

// Sign returns raw (a complete RFC 5322 message with CRLF line ends) with a DKIM-Signature
// header field prepended.
func (s *DKIMSigner) Sign(raw []byte) ([]byte, error) {
	options := s.options // Sign reads the options; a copy keeps the signer immutable.
	var out bytes.Buffer
	out.Grow(len(raw) + 512)
	if err := dkim.Sign(&out, bytes.NewReader(raw), &options); err != nil {
		return nil, fmt.Errorf("dkim: sign: %w", err)
	}
	return out.Bytes(), nil
}
