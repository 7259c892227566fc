package mail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"mime"
	netmail "net/mail"
	"net/textproto"
	"path"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/gocart-coalition/coalition/ent/schema/mailtype"
)

// Address is one mailbox: an optional display name and an email address (addr-spec).
type Address struct {
	Name, Email string
}

// String formats the address for a header, encoding a non-ASCII display name (RFC 2047).
func (a Address) String() string {
	return (&netmail.Address{Name: a.Name, Address: a.Email}).String()
}

// Message is one email to one recipient, as the outbox stores it.
type Message struct {
	// ID is the outbox row id, e.g. "msg_01J…"; the Message-ID header and the file
	// transport's file name are derived from it, so it may hold only letters, digits,
	// '.', '_' and '-'.
	ID       string
	From, To Address
	Subject  string
	// Text and HTML are the two alternative bodies; at least one must be set.
	Text, HTML string
	// TextFill and HTMLFill, when set, take the place of Text and HTML (which must then be
	// empty) for a message whose bodies are a shared frozen text with personal values
	// filled in: the same message, built faster (see Filled).
	TextFill, HTMLFill Filled
	// Headers are extra header fields, e.g. List-Unsubscribe and List-Unsubscribe-Post.
	// The fields the builder writes itself (From, To, Subject, Date, Message-ID, MIME and
	// DKIM fields) cannot be set here.
	Headers     map[string]string
	Attachments []mailtype.Attachment
	// Date is the Date header; the zero time means the moment the message is rendered.
	Date time.Time
}

// MessageID returns the Message-ID header value for the outbox row id at domain,
// "<id@domain>". It is a pure function of the row, so a retried send reuses it and
// receivers can recognise the duplicate.
func MessageID(id, domain string) string {
	return "<" + id + "@" + domain + ">"
}

// reservedHeaders are written by the builder; Message.Headers may not override them.
var reservedHeaders = map[string]bool{
	"From": true, "To": true, "Cc": true, "Bcc": true, "Subject": true, "Date": true,
	"Message-Id": true, "Mime-Version": true, "Content-Type": true,
	"Content-Transfer-Encoding": true, "Content-Disposition": true, "Dkim-Signature": true,
}

// envelope is the SMTP reverse-path and forward-path of a rendered message, each in the
// "<addr>" form the MAIL and RCPT commands take.
type envelope struct {
	from, to string
}

// builder renders Messages into signed RFC 5322 bytes. It is shared by every Sender of a
// transport and holds no per-message state, so concurrent use is safe.
type builder struct {
	// messageIDDomain is the right-hand side of Message-IDs; empty means the domain of
	// the From address.
	messageIDDomain string
	dkim            *DKIMSigner
	now             func() time.Time
	// qp caches the encoding of the frozen lines of Filled bodies.
	qp qpCache
}

// Stand-ins for filled bodies while go-mail renders the rest of the message: plain
// ASCII, which quoted-printable leaves as it is. They are found from the end of the
// rendering, after every header, so a header that happened to hold one is not mistaken.
const (
	textStandIn = "coalition-filled-text-3f9c2a"
	htmlStandIn = "coalition-filled-html-3f9c2a"
)

// render validates m and returns the complete message (DKIM-Signature first when a signer
// is configured) and its envelope.
func (b *builder) render(m *Message) ([]byte, envelope, error) {
	if err := validate(m); err != nil {
		return nil, envelope{}, err
	}
	domain := b.messageIDDomain
	if domain == "" {
		domain = m.From.Email[strings.LastIndexByte(m.From.Email, '@')+1:]
	}
	date := m.Date
	if date.IsZero() {
		date = b.now()
	}

	text, html := m.Text, m.HTML
	filled := m.TextFill != nil || m.HTMLFill != nil
	if filled {
		text, html = "", ""
		if !m.TextFill.empty() {
			text = textStandIn
		}
		if !m.HTMLFill.empty() {
			html = htmlStandIn
		}
	}

	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(&netmail.Address{Name: m.From.Name, Address: m.From.Email})
	msg.ToMailAddress(&netmail.Address{Name: m.To.Name, Address: m.To.Email})
	msg.Subject(m.Subject)
	// go-mail's SetMessageID uses the host name; ours is derived from the row so that
	// a retry carries the same id (ARCHITECTURE §6.12–6.13).
	msg.SetMessageIDWithValue(m.ID + "@" + domain)
	msg.SetDateWithValue(date)
	for name, value := range m.Headers {
		msg.SetGenHeader(gomail.Header(textproto.CanonicalMIMEHeaderKey(name)), value)
	}

	switch {
	case text != "" && html != "":
		msg.SetBodyString(gomail.TypeTextPlain, text)
		msg.AddAlternativeString(gomail.TypeTextHTML, html)
	case text != "":
		msg.SetBodyString(gomail.TypeTextPlain, text)
	default:
		msg.SetBodyString(gomail.TypeTextHTML, html)
	}
	for i, a := range m.Attachments {
		contentType, calendar, err := attachmentContentType(a)
		if err != nil {
			return nil, envelope{}, fmt.Errorf("attachment %d (%s): %w", i, a.Filename, err)
		}
		if calendar != "" {
			if a.Inline {
				// Outlook and Gmail offer Accept/Decline only when the iMIP object is an
				// alternative of the body (RFC 6047 §2.4); the same object also goes out
				// as an ordinary .ics attachment below for clients that only look there.
				// go-mail appends the part's charset (UTF-8) to alternative parts itself.
				msg.AddAlternativeString(gomail.ContentType(calendar), string(a.Content))
			}
			contentType = calendar + "; charset=UTF-8"
		}
		var opts []gomail.FileOption
		if contentType != "" {
			opts = append(opts, gomail.WithFileContentType(gomail.ContentType(contentType)))
		}
		err = msg.AttachReader(a.Filename, bytes.NewReader(a.Content), opts...)
		if err != nil {
			return nil, envelope{}, fmt.Errorf("attachment %d (%s): %w", i, a.Filename, err)
		}
	}

	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, envelope{}, fmt.Errorf("render message %s: %w", m.ID, err)
	}
	raw := buf.Bytes()
	if filled {
		var err error
		if raw, err = b.fill(raw, text, html, m); err != nil {
			return nil, envelope{}, fmt.Errorf("render message %s: %w", m.ID, err)
		}
	}
	if b.dkim != nil {
		signed, err := b.dkim.Sign(raw)
		if err != nil {
			return nil, envelope{}, fmt.Errorf("sign message %s: %w", m.ID, err)
		}
		raw = signed
	}
	env := envelope{
		from: (&netmail.Address{Address: m.From.Email}).String(),
		to:   (&netmail.Address{Address: m.To.Email}).String(),
	}
	return raw, env, nil
}

// fill replaces the stand-ins of raw by the encoded filled bodies of m.
func (b *builder) fill(raw []byte, text, html string, m *Message) ([]byte, error) {
	type part struct {
		at    int
		n     int
		value Filled
	}
	parts := make([]part, 0, 2)
	end := len(raw)
	for _, p := range []struct {
		standIn string
		value   Filled
	}{{html, m.HTMLFill}, {text, m.TextFill}} {
		if p.standIn == "" {
			continue
		}
		i := bytes.LastIndex(raw[:end], []byte(p.standIn))
		if i < 0 {
			return nil, errors.New("filled body: stand-in not found in the rendering")
		}
		parts = append(parts, part{at: i, n: len(p.standIn), value: p.value})
		end = i
	}
	size := len(raw)
	for _, p := range parts {
		for _, s := range p.value {
			size += len(s) + len(s)/8
		}
	}
	var out bytes.Buffer
	out.Grow(size)
	from := 0
	for k := len(parts) - 1; k >= 0; k-- {
		p := parts[k]
		out.Write(raw[from:p.at])
		b.qp.encodeFilled(&out, p.value)
		from = p.at + p.n
	}
	out.Write(raw[from:])
	return out.Bytes(), nil
}

// validate rejects what no retry could ever send: a malformed address, a header that
// would inject lines, an id that is not safe as a Message-ID and a file name.
func validate(m *Message) error {
	if m == nil {
		return errors.New("nil message")
	}
	if !validID(m.ID) {
		return fmt.Errorf("message id %q: want letters, digits, '.', '_' or '-'", m.ID)
	}
	if err := validAddress(m.From); err != nil {
		return fmt.Errorf("message %s: from: %w", m.ID, err)
	}
	if err := validAddress(m.To); err != nil {
		return fmt.Errorf("message %s: to: %w", m.ID, err)
	}
	if hasControl(m.Subject) {
		return fmt.Errorf("message %s: subject contains a control character", m.ID)
	}
	if (m.TextFill != nil || m.HTMLFill != nil) && (m.Text != "" || m.HTML != "" || len(m.Attachments) > 0) {
		return fmt.Errorf("message %s: filled bodies go without text, html and attachments", m.ID)
	}
	if m.Text == "" && m.HTML == "" && m.TextFill.empty() && m.HTMLFill.empty() {
		return fmt.Errorf("message %s: no text or html body", m.ID)
	}
	for _, f := range []Filled{m.TextFill, m.HTMLFill} {
		for i := 1; i < len(f); i += 2 {
			if strings.ContainsAny(f[i], "\r\n") {
				return fmt.Errorf("message %s: a personal value holds a line break", m.ID)
			}
		}
	}
	for name, value := range m.Headers {
		if !validFieldName(name) {
			return fmt.Errorf("message %s: header name %q is not a valid field name", m.ID, name)
		}
		if reservedHeaders[textproto.CanonicalMIMEHeaderKey(name)] {
			return fmt.Errorf("message %s: header %s is written by the builder", m.ID, name)
		}
		if hasControl(value) {
			return fmt.Errorf("message %s: header %s contains a control character", m.ID, name)
		}
	}
	for i, a := range m.Attachments {
		if a.Filename == "" || hasControl(a.Filename) {
			return fmt.Errorf("message %s: attachment %d: file name %q is empty or has control characters", m.ID, i, a.Filename)
		}
	}
	return nil
}

// validID accepts ids that are both dot-atom-text (RFC 5322 §3.2.3, for the Message-ID)
// and a plain file name: letters, digits, '_', '-' and inner dots.
func validID(id string) bool {
	if id == "" || len(id) > 200 || id[0] == '.' || id[len(id)-1] == '.' || strings.Contains(id, "..") {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func validAddress(a Address) error {
	if hasControl(a.Name) {
		return errors.New("display name contains a control character")
	}
	parsed, err := netmail.ParseAddress(a.Email)
	if err != nil {
		return fmt.Errorf("address %q: %w", a.Email, err)
	}
	if parsed.Name != "" || parsed.Address != a.Email {
		return fmt.Errorf("address %q: want a bare addr-spec such as name@example.org", a.Email)
	}
	return nil
}

// validFieldName follows RFC 5322 §3.6.8: printable US-ASCII except ':'.
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] < 33 || name[i] > 126 || name[i] == ':' {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// attachmentContentType returns the Content-Type an attachment goes out with. For a
// calendar object it returns instead, in calendar, "text/calendar" with the METHOD of the
// VCALENDAR as the method parameter (RFC 6047 §2.4, iMIP) and without a charset: without
// that parameter Outlook, Gmail and Apple Mail show a plain file instead of an invitation.
func attachmentContentType(a mailtype.Attachment) (contentType, calendar string, err error) {
	mediaType := ""
	if a.ContentType != "" {
		mediaType, _, err = mime.ParseMediaType(a.ContentType)
		if err != nil {
			return "", "", fmt.Errorf("content type %q: %w", a.ContentType, err)
		}
	}
	if mediaType != "text/calendar" && !strings.EqualFold(path.Ext(a.Filename), ".ics") {
		if a.ContentType == "" {
			// go-mail guesses from the file name, falling back to application/octet-stream.
			return "", "", nil
		}
		return a.ContentType, "", nil
	}
	method, err := calendarMethod(a.Content)
	if err != nil {
		return "", "", err
	}
	if method == "" {
		return "", "text/calendar", nil
	}
	return "", "text/calendar; method=" + method, nil
}

// calendarMethod returns the METHOD property of the top-level VCALENDAR (RFC 5545 §3.7.2),
// upper-cased, or "" when the object has none.
func calendarMethod(ics []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(ics))
	sc.Buffer(make([]byte, 0, 4096), len(ics)+1)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if strings.EqualFold(name, "BEGIN") && !strings.EqualFold(value, "VCALENDAR") {
			// METHOD is a calendar property: it comes before the first component.
			return "", nil
		}
		if !strings.EqualFold(name, "METHOD") {
			continue
		}
		method := strings.ToUpper(strings.TrimSpace(value))
		if method == "" || strings.ContainsFunc(method, func(r rune) bool { return !('A' <= r && r <= 'Z' || r == '-') }) {
			return "", fmt.Errorf("calendar METHOD %q is not a token", value)
		}
		return method, nil
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read calendar: %w", err)
	}
	return "", nil
}
