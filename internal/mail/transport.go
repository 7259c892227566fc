package mail

import "context"

// Sender delivers messages one after the other. It belongs to one worker goroutine and is
// not safe for concurrent use: it keeps its connection open across messages and reconnects
// on the next Send after a failure. Send returns nil or a *SendError (see IsPermanent).
type Sender interface {
	Send(ctx context.Context, m *Message) error
	Close() error
}

// Transport makes Senders; it is safe for concurrent use and lives as long as the process.
type Transport interface {
	// NewSender returns a Sender for one worker goroutine; the caller closes it.
	NewSender(ctx context.Context) (Sender, error)
	// Name is a short label for logs and metrics, e.g. "smtp" or "file".
	Name() string
}
