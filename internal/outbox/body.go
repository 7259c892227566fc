package outbox

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Body is a rendered email stored once (a MailBody row) and shared by the rows of a bulk
// send, e.g. a newsletter campaign: each row carries only what is personal. Subject,
// Text, HTML and header values may hold placeholders {{key}}, replaced when the worker
// builds each message: {{name}} and {{email}} by the recipient's, any other key by the
// recipient's Values[key]. Substitution is one pass over the frozen text, not a template
// execution: a value is inserted as it is (HTML-escaped in the HTML part) and never read
// for placeholders itself.
type Body struct {
	// Template names what the body was rendered from, e.g. "newsletter".
	Template string
	// Subject is one line of at most 998 bytes.
	Subject string
	// Preheader is the preview text (already part of HTML); kept for the archive.
	Preheader string
	// Text and HTML are the two alternative bodies; at least one must be set.
	Text, HTML string
	// Headers are extra header fields of every message, e.g. List-Id.
	Headers map[string]string
}

// Recipient is one person of a bulk send.
type Recipient struct {
	To mail.Address
	// Values are the recipient's own values for the body's placeholders, e.g.
	// "unsubscribe_url". A value is one line of at most maxValueLen bytes. The value of
	// UnsubscribeURLKey, when present, must be an https URL (http only on loopback); it also
	// becomes the List-Unsubscribe header with List-Unsubscribe-Post: List-Unsubscribe=One-Click
	// (RFC 8058).
	Values map[string]string
}

// UnsubscribeURLKey is the personal value that is the recipient's one-click unsubscribe URL.
const UnsubscribeURLKey = "unsubscribe_url"

const (
	maxValueLen     = 2000
	maxValues       = 20
	maxPreheaderLen = 500
)

// Validate reports what makes b impossible to store. Its errors wrap ErrInvalidEmail.
func (b Body) Validate() error {
	e := Email{DedupeKey: "body", Template: b.Template, To: mail.Address{Email: "body@example.org"},
		Subject: b.Subject, Text: b.Text, HTML: b.HTML, Headers: b.Headers}
	if err := e.Validate(); err != nil {
		return err
	}
	if len(b.Preheader) > maxPreheaderLen || hasControl(b.Preheader) {
		return fmt.Errorf("%w: preheader is longer than %d bytes or has control characters", ErrInvalidEmail, maxPreheaderLen)
	}
	return nil
}

// SaveBody stores b, frozen, in the caller's transaction and returns its id for
// EnqueueBulk. Like Enqueue it needs a transactional client (ErrNoTransaction otherwise).
func SaveBody(ctx context.Context, client *ent.Client, now time.Time, b Body) (pulid.ID, error) {
	if err := b.Validate(); err != nil {
		return "", fmt.Errorf("save mail body: %w", err)
	}
	ctx = viewer.NewSystemContext(ctx)
	if err := requireTx(ctx, client); err != nil {
		return "", fmt.Errorf("save mail body: %w", err)
	}
	now = utc(now)
	c := client.MailBody.Create().
		SetCreatedAt(now).SetUpdatedAt(now).
		SetTemplate(b.Template).
		SetSubject(b.Subject).
		SetPreheader(b.Preheader).
		SetTextBody(b.Text).
		SetHTMLBody(b.HTML)
	if len(b.Headers) > 0 {
		c.SetHeaders(b.Headers)
	}
	row, err := c.Save(ctx)
	if err != nil {
		return "", fmt.Errorf("save mail body: %w", err)
	}
	return row.ID, nil
}

// validate checks r against the placeholders the body uses (keys): every one must have
// a value, so no message goes out with a hole in it.
func (r Recipient) validate(keys []string) error {
	e := Email{DedupeKey: "recipient", Template: "bulk", To: r.To, Text: "x"}
	if err := e.Validate(); err != nil {
		return err
	}
	if err := CheckValues(r.Values); err != nil {
		return err
	}
	if u, ok := r.Values[UnsubscribeURLKey]; ok {
		if err := checkUnsubscribeURL(u); err != nil {
			return err
		}
	}
	for _, k := range keys {
		if _, ok := r.Values[k]; !ok && k != "name" && k != "email" {
			return fmt.Errorf("%w: the body uses {{%s}} but recipient %s has no value for it", ErrInvalidEmail, k, r.To.Email)
		}
	}
	return nil
}

// CheckValues reports what makes values unfit as a recipient's personal values: more than
// 20 of them, a name other than lower-case letters, digits and '_' (at most 40), a value
// longer than 2,000 bytes or with control characters (a value is one line). Its errors
// wrap ErrInvalidEmail. A caller can check values before it hands them over, and render
// the email whole when they do not fit.
func CheckValues(values map[string]string) error {
	if len(values) > maxValues {
		return fmt.Errorf("%w: more than %d personal values", ErrInvalidEmail, maxValues)
	}
	for k, v := range values {
		if !validKey(k) {
			return fmt.Errorf("%w: personal value name %q: want lower-case letters, digits and '_'", ErrInvalidEmail, k)
		}
		if len(v) > maxValueLen || hasControl(v) {
			return fmt.Errorf("%w: personal value %s is longer than %d bytes or has control characters", ErrInvalidEmail, k, maxValueLen)
		}
	}
	return nil
}

func checkUnsubscribeURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || strings.ContainsAny(raw, "<> ") {
		return fmt.Errorf("%w: unsubscribe url %q is not an absolute URL", ErrInvalidEmail, raw)
	}
	loopback := u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1" || u.Hostname() == "::1"
	if u.Scheme != "https" && (u.Scheme != "http" || !loopback) {
		return fmt.Errorf("%w: unsubscribe url %q must be https (RFC 8058)", ErrInvalidEmail, raw)
	}
	return nil
}

func validKey(k string) bool {
	if k == "" || len(k) > 40 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// placeholders returns the distinct keys of the {{key}} placeholders in ss.
func placeholders(ss ...string) []string {
	seen := map[string]bool{}
	var keys []string
	for _, s := range ss {
		expand(s, func(k string) string {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
			return ""
		})
	}
	return keys
}

// expand replaces every {{key}} of s (key as validKey) by value(key), in one pass: what
// value returns is copied, never scanned. Anything else, "{{" included, stays as it is.
func expand(s string, value func(key string) string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 64)
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.Index(s[i+2:], "}}")
		if j < 0 || !validKey(s[i+2:i+2+j]) {
			b.WriteString(s[:i+2])
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(value(s[i+2 : i+2+j]))
		s = s[i+2+j+2:]
	}
}

// personalise builds the message of a row that shares body (Body.Personalise): the same
// message, with the bodies handed over as filled frozen texts (mail.Filled), so the
// builder encodes the frozen lines once per body instead of once per message.
func personalise(msg *mail.Message, body *ent.MailBody, values map[string]string) {
	value := personalValue(msg.To, values)
	msg.Subject = expand(body.Subject, value)
	msg.Text, msg.HTML = "", ""
	msg.TextFill = fill(body.TextBody, value)
	msg.HTMLFill = fill(body.HTMLBody, func(k string) string { return html.EscapeString(value(k)) })
	if h := personalHeaders(body.Headers, value, values); len(h) > 0 {
		msg.Headers = h
	}
}

// personalValue returns the value of a placeholder for to with values: {{name}} and
// {{email}} default to to's.
func personalValue(to mail.Address, values map[string]string) func(k string) string {
	return func(k string) string {
		switch {
		case k == "name" && values[k] == "":
			return to.Name
		case k == "email" && values[k] == "":
			return to.Email
		}
		return values[k]
	}
}

// personalHeaders returns headers with their placeholders filled, and the unsubscribe URL
// of values as List-Unsubscribe and List-Unsubscribe-Post; nil when there are none.
func personalHeaders(headers map[string]string, value func(string) string, values map[string]string) map[string]string {
	out := make(map[string]string, len(headers)+2)
	for k, v := range headers {
		out[k] = expand(v, value)
	}
	if u := values[UnsubscribeURLKey]; u != "" {
		out["List-Unsubscribe"] = "<" + u + ">"
		out["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// fill is expand giving the pieces: frozen pieces of s (even indexes) between the values
// of its placeholders (odd indexes); fill(s, v).String() == expand(s, v). nil for "".
func fill(s string, value func(key string) string) mail.Filled {
	if s == "" {
		return nil
	}
	var f mail.Filled
	start := 0 // of the frozen piece being built
	at := 0
	for {
		i := strings.Index(s[at:], "{{")
		if i < 0 {
			return append(f, s[start:])
		}
		i += at
		j := strings.Index(s[i+2:], "}}")
		if j < 0 || !validKey(s[i+2:i+2+j]) {
			at = i + 2
			continue
		}
		f = append(f, s[start:i], value(s[i+2:i+2+j]))
		start = i + 2 + j + 2
		at = start
	}
}

// Personalise returns b as the message to to with values is built by the worker: the
// placeholders filled in one pass ({{name}} and {{email}} default to to's; values
// HTML-escaped in the HTML part), the header values filled, and an unsubscribe URL added
// as List-Unsubscribe and List-Unsubscribe-Post. The result's Headers is nil when empty.
func (b Body) Personalise(to mail.Address, values map[string]string) Body {
	value := personalValue(to, values)
	escaped := func(k string) string { return html.EscapeString(value(k)) }
	return Body{
		Template:  b.Template,
		Subject:   expand(b.Subject, value),
		Preheader: b.Preheader,
		Text:      expand(b.Text, value),
		HTML:      expand(b.HTML, escaped),
		Headers:   personalHeaders(b.Headers, value, values),
	}
}
