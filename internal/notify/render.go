package notify

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"sort"
	"strings"
	texttemplate "text/template"
)

// Common is what every email knows about the site that sends it; templates read it as
// .Site.
type Common struct {
	SiteName     string // e.g. "European CAR-T Coalition"
	PublicURL    string // e.g. "https://coalition.example.org"
	SupportEmail string // where people write with questions
}

// Rendered is one email rendered for one recipient.
type Rendered struct {
	// Subject is one trimmed line.
	Subject string
	Text    string
	HTML    string
}

// LoginLinkData is the data of the login_link email.
type LoginLinkData struct {
	Email        string // the address the link was requested for
	URL          string // the sign-in page with the token; it redeems only on POST
	ValidMinutes int
	RequestedIP  string // optional; shown so the recipient can recognise a stranger's request
}

// Renderer renders the email templates. It parses them all once, at construction, so a
// broken template stops the service at start instead of failing an email; it is safe for
// concurrent use.
//
// Each email <name> has three files under email/: <name>.subject.tmpl and <name>.txt.tmpl
// (text/template) and <name>.html.tmpl (html/template, so data is escaped for its context).
// The txt and html files define "content" and "reason" (why the recipient got this email)
// for the shared layout.txt.tmpl and layout.html.tmpl; the html file may define
// "preheader", the preview line. Every template sees the same dot:
//
//	.Site     Common
//	.Data     the value passed to Render, e.g. LoginLinkData
//	.Subject  the rendered subject (empty while rendering the subject itself)
//
// A field or map key that does not exist is an error, not an empty string.
type Renderer struct {
	common Common
	emails map[string]*emailTemplates
}

type emailTemplates struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// view is the dot of every email template.
type view struct {
	Site    Common
	Data    any
	Subject string
}

const (
	emailDir         = "email"
	layoutTextFile   = "layout.txt.tmpl"
	layoutHTMLFile   = "layout.html.tmpl"
	missingKeyOption = "missingkey=error"
	subjectSuffix    = ".subject.tmpl"
	textSuffix       = ".txt.tmpl"
	htmlSuffix       = ".html.tmpl"
	contentBlock     = "content"
	layoutPrefix     = "layout."
)

// NewRenderer parses every email under email/ in fsys (templates.FS in the service) with
// the layouts. It fails on a missing layout, an email missing one of its three parts or its
// "content", and any parse error.
func NewRenderer(fsys fs.FS, common Common) (*Renderer, error) {
	entries, err := fs.ReadDir(fsys, emailDir)
	if err != nil {
		return nil, fmt.Errorf("email templates: %w", err)
	}
	textLayout, err := texttemplate.New(layoutTextFile).Option(missingKeyOption).ParseFS(fsys, path.Join(emailDir, layoutTextFile))
	if err != nil {
		return nil, fmt.Errorf("email templates: %w", err)
	}
	htmlLayout, err := htmltemplate.New(layoutHTMLFile).Option(missingKeyOption).ParseFS(fsys, path.Join(emailDir, layoutHTMLFile))
	if err != nil {
		return nil, fmt.Errorf("email templates: %w", err)
	}

	// Collect the names of emails from any of their parts, so a missing part is reported
	// rather than the email silently skipped.
	names := map[string]bool{}
	for _, e := range entries {
		file := e.Name()
		if e.IsDir() || strings.HasPrefix(file, layoutPrefix) {
			continue
		}
		for _, suffix := range []string{subjectSuffix, textSuffix, htmlSuffix} {
			if name, ok := strings.CutSuffix(file, suffix); ok {
				names[name] = true
			}
		}
	}
	if len(names) == 0 {
		return nil, errors.New("email templates: no emails under email/")
	}

	r := &Renderer{common: common, emails: make(map[string]*emailTemplates, len(names))}
	for name := range names {
		et, err := parseEmail(fsys, name, textLayout, htmlLayout)
		if err != nil {
			return nil, fmt.Errorf("email template %s: %w", name, err)
		}
		r.emails[name] = et
	}
	return r, nil
}

func parseEmail(fsys fs.FS, name string, textLayout *texttemplate.Template, htmlLayout *htmltemplate.Template) (*emailTemplates, error) {
	file := func(suffix string) (string, error) {
		p := path.Join(emailDir, name+suffix)
		if _, err := fs.Stat(fsys, p); err != nil {
			return "", fmt.Errorf("missing %s: %w", p, err)
		}
		return p, nil
	}
	subjectFile, err := file(subjectSuffix)
	if err != nil {
		return nil, err
	}
	textFile, err := file(textSuffix)
	if err != nil {
		return nil, err
	}
	htmlFile, err := file(htmlSuffix)
	if err != nil {
		return nil, err
	}

	subject, err := texttemplate.New(path.Base(subjectFile)).Option(missingKeyOption).ParseFS(fsys, subjectFile)
	if err != nil {
		return nil, err
	}
	text, err := textLayout.Clone()
	if err != nil {
		return nil, err
	}
	if text, err = text.ParseFS(fsys, textFile); err != nil {
		return nil, err
	}
	html, err := htmlLayout.Clone()
	if err != nil {
		return nil, err
	}
	if html, err = html.ParseFS(fsys, htmlFile); err != nil {
		return nil, err
	}
	if text.Lookup(contentBlock) == nil {
		return nil, fmt.Errorf("%s does not define %q", textFile, contentBlock)
	}
	if html.Lookup(contentBlock) == nil {
		return nil, fmt.Errorf("%s does not define %q", htmlFile, contentBlock)
	}
	return &emailTemplates{
		subject: subject,
		text:    text.Lookup(layoutTextFile),
		html:    html.Lookup(layoutHTMLFile),
	}, nil
}

// Names returns the names of the emails the renderer knows, sorted.
func (r *Renderer) Names() []string {
	names := make([]string, 0, len(r.emails))
	for name := range r.emails {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Render renders email name with data. It fails on an unknown name, a missing field or
// key, and a subject that is empty or spans more than one line (a header injection
// waiting to happen).
func (r *Renderer) Render(name string, data any) (Rendered, error) {
	et, ok := r.emails[name]
	if !ok {
		return Rendered{}, fmt.Errorf("render email %q: no such template", name)
	}
	v := view{Site: r.common, Data: data}

	var buf bytes.Buffer
	if err := et.subject.Execute(&buf, v); err != nil {
		return Rendered{}, fmt.Errorf("render email %s: subject: %w", name, err)
	}
	subject := strings.TrimSpace(buf.String())
	if subject == "" {
		return Rendered{}, fmt.Errorf("render email %s: subject is empty", name)
	}
	if strings.ContainsAny(subject, "\r\n") {
		return Rendered{}, fmt.Errorf("render email %s: subject %q spans more than one line", name, subject)
	}
	v.Subject = subject

	buf.Reset()
	if err := et.text.Execute(&buf, v); err != nil {
		return Rendered{}, fmt.Errorf("render email %s: text: %w", name, err)
	}
	text := strings.TrimSpace(buf.String()) + "\n"

	buf.Reset()
	if err := et.html.Execute(&buf, v); err != nil {
		return Rendered{}, fmt.Errorf("render email %s: html: %w", name, err)
	}
	html := strings.TrimSpace(buf.String()) + "\n"

	return Rendered{Subject: subject, Text: text, HTML: html}, nil
}
