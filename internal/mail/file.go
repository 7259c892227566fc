package mail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FileTransport writes each message as <dir>/<id>.eml, the complete RFC 5322 message the
// SMTP transport would send. It is the transport when no SMTP relay is configured, so that
// `coalition serve` works out of the box (ARCHITECTURE §6.12); a mail client opens the files.
type FileTransport struct {
	dir     string
	builder *builder
}

// NewFile creates dir if needed and returns a transport writing into it. messageIDDomain is
// the right-hand side of Message-IDs; empty means the domain of each From address.
func NewFile(dir string, messageIDDomain string) (*FileTransport, error) {
	if dir == "" {
		return nil, fmt.Errorf("file transport: directory is required")
	}
	if strings.ContainsAny(messageIDDomain, "<>@ \t\r\n") {
		return nil, fmt.Errorf("file transport: message-id domain %q is not a domain", messageIDDomain)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("file transport: %w", err)
	}
	return &FileTransport{dir: dir, builder: &builder{messageIDDomain: messageIDDomain, now: time.Now}}, nil
}

// Name returns "file".
func (t *FileTransport) Name() string { return "file" }

// Dir returns the directory the transport writes into.
func (t *FileTransport) Dir() string { return t.dir }

// NewSender returns a Sender writing into the transport's directory.
func (t *FileTransport) NewSender(context.Context) (Sender, error) {
	return fileSender{t: t}, nil
}

type fileSender struct {
	t *FileTransport
}

// Send writes m atomically: into a temporary file in the same directory, synced, then
// renamed to <id>.eml, so a reader never sees half a message and a retry replaces the file.
func (s fileSender) Send(ctx context.Context, m *Message) error {
	raw, _, err := s.t.builder.render(m)
	if err != nil {
		return messageError(err)
	}
	if err := ctx.Err(); err != nil {
		return &SendError{Err: err}
	}
	if err := writeFileAtomic(filepath.Join(s.t.dir, m.ID+".eml"), raw); err != nil {
		// A full disk or a permission fixed by the operator: worth retrying.
		return &SendError{Err: fmt.Errorf("message %s: %w", m.ID, err)}
	}
	return nil
}

// Close does nothing; a file sender holds no resources.
func (fileSender) Close() error { return nil }

func writeFileAtomic(name string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(name), ".tmp-*.eml")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(f.Name(), 0o640); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}
