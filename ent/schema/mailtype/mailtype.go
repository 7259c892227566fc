// Package mailtype holds the value types stored inside outbox rows (JSON columns), kept
// apart so the generated ent code does not depend on the mail transports.
package mailtype

// Attachment is a file attached to an email, e.g. an .ics invitation.
type Attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"contentType"`
	// Content is the raw bytes (base64 in JSON).
	Content []byte `json:"content"`
	// Inline marks a text/calendar part that calendar clients should offer as an invitation.
	Inline bool `json:"inline,omitempty"`
}
