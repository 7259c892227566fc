// Package mail owns the shape of an outgoing email on the wire: it renders a Message into
// one RFC 5322 byte stream (multipart/alternative text and HTML, attachments, calendar
// invitations in the form calendar clients recognise, our own Message-ID derived from the
// outbox row, DKIM signature) and hands those bytes to a Transport — SMTP through go-mail,
// or a directory of .eml files when no SMTP relay is configured.
//
// The package decides nothing about who gets which email (that is internal/notify) nor
// when to retry (that is internal/outbox); it only reports, through SendError and
// IsPermanent, whether a failure is worth retrying.
//
// A Sender belongs to one goroutine: the outbox worker asks the Transport for one Sender per
// worker goroutine and sends its messages one after the other over the Sender's connection.
package mail
