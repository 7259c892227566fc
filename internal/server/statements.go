package server

import (
	"encoding/xml"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/statements"
)

// The public pages of policy statements: GET /statements (the list, ?topic= filters),
// GET /statements/{slug} (the current version), GET /statements/{slug}/v/{n} (an earlier
// published version) and GET /statements.atom (the feed, ?topic= per topic). They read
// through statements.Service's public API, which reads as the anonymous viewer, so the
// privacy rules decide: a statement that is not published is not found on any page or
// feed, exactly like one that does not exist. A withdrawn statement stays readable,
// marked. The body is the revision's Markdown rendered and sanitised (internal/markdown).

// pageMeta is what the "social" template writes: description, canonical address and
// Open Graph tags.
type pageMeta struct {
	Title, Description, URL, Type, SiteName string
	Published, Modified                     string
}

type statementSigner struct {
	Organisation, Country, SignedAt string
	People                          []string
}

type statementCorrection struct {
	Version  int
	At, Note string
	Material bool
	URL      string
}

type statementVersion struct {
	Version int
	URL     string
	Current bool
}

type statementView struct {
	Slug, Title, Summary, URL, Status string
	Topics                            []statementTopic
	Body                              template.HTML
	Version, Versions                 int
	IsCurrent                         bool
	CurrentURL                        string
	PublishedAt, FirstPublishedAt     string
	PublishedISO                      string
	Withdrawn                         bool
	WithdrawnAt, WithdrawnReason      string
	Corrections                       []statementCorrection
	CoAuthors, Endorsers              []statementSigner
	Authors                           []string
	WorkingGroup                      string
	Declarations                      []statementDeclaration
	Earlier                           []statementVersion
}

type statementDeclaration struct {
	Person, Statement, DeclaredAt string
}

type statementTopic struct {
	Name, URL string
	Current   bool
}

type statementsPage struct {
	SiteName, FeedURL, FeedTitle string
	Meta                         pageMeta
	// Topic is the list's filter; Topics every topic with a published statement.
	Topic     string
	Topics    []statementTopic
	List      []statementView
	Statement *statementView
	NotFound  bool
}

const statementDate = "2 January 2006"

func (p *pages) base() string { return strings.TrimRight(p.cfg.PublicURL, "/") }

func (p *pages) statementURL(slug string, version int) string {
	u := p.base() + "/statements/" + url.PathEscape(slug)
	if version > 0 {
		u += "/v/" + strconv.Itoa(version)
	}
	return u
}

func (p *pages) topicURL(topic string) string {
	if topic == "" {
		return "/statements"
	}
	return "/statements?topic=" + url.QueryEscape(topic)
}

func (p *pages) statementsFeedURL(topic string) string {
	u := p.base() + "/statements.atom"
	if topic != "" {
		u += "?topic=" + url.QueryEscape(topic)
	}
	return u
}

func signers(in []statements.Signer) []statementSigner {
	out := make([]statementSigner, 0, len(in))
	for _, s := range in {
		out = append(out, statementSigner{Organisation: s.Organisation, Country: s.Country, SignedAt: s.SignedAt.Format(statementDate), People: s.People})
	}
	return out
}

func (p *pages) statementView(s statements.Public) statementView {
	v := statementView{
		Slug: s.Slug, Title: s.Title, Summary: s.Summary, Status: s.Status, Body: s.BodyHTML,
		Version: s.Version, Versions: s.Versions, IsCurrent: s.Version == s.Versions,
		URL: p.statementURL(s.Slug, 0), CurrentURL: p.statementURL(s.Slug, 0),
		PublishedAt: s.PublishedAt.Format(statementDate), FirstPublishedAt: s.FirstPublishedAt.Format(statementDate),
		PublishedISO: s.PublishedAt.Format(time.RFC3339),
		CoAuthors:    signers(s.CoAuthors), Endorsers: signers(s.Endorsers),
		Authors: s.Authors, WorkingGroup: s.WorkingGroup,
	}
	if !v.IsCurrent {
		v.URL = p.statementURL(s.Slug, s.Version)
	}
	for _, t := range s.Topics {
		v.Topics = append(v.Topics, statementTopic{Name: t, URL: p.topicURL(t)})
	}
	if s.Withdrawn != nil {
		v.Withdrawn, v.WithdrawnAt, v.WithdrawnReason = true, s.Withdrawn.At.Format(statementDate), s.Withdrawn.Reason
	}
	for _, c := range s.Corrections {
		v.Corrections = append(v.Corrections, statementCorrection{Version: c.Version, At: c.At.Format(statementDate), Note: c.Note, Material: c.Material, URL: p.statementURL(s.Slug, c.Version)})
	}
	for _, d := range s.Declarations {
		v.Declarations = append(v.Declarations, statementDeclaration{Person: d.Person, Statement: d.Statement, DeclaredAt: d.DeclaredAt.Format(statementDate)})
	}
	for n := 1; n <= s.Versions; n++ {
		if n != s.Version {
			v.Earlier = append(v.Earlier, statementVersion{Version: n, URL: p.statementURL(s.Slug, n), Current: n == s.Versions})
		}
	}
	return v
}

func (p *pages) statementsData(topic string) statementsPage {
	return statementsPage{SiteName: p.cfg.SiteName, FeedURL: p.statementsFeedURL(topic),
		FeedTitle: p.cfg.SiteName + " policy statements", Topic: topic}
}

// statementsNotFound answers 404 with the statements page saying so.
func (p *pages) statementsNotFound(w http.ResponseWriter) {
	d := p.statementsData("")
	d.NotFound = true
	d.Meta = pageMeta{Title: "Not found", SiteName: p.cfg.SiteName}
	p.render(w, http.StatusNotFound, "statements.html.tmpl", pageCSP, d)
}

// statementsList is GET /statements: every published statement, newest first; ?topic=
// keeps those of one topic (an unknown topic is not found).
func (p *pages) statementsList(w http.ResponseWriter, r *http.Request) {
	topic := r.URL.Query().Get("topic")
	topics, err := p.cfg.Statements.PublicTopics(r.Context())
	if err != nil {
		p.fail(w, r, nonce(), err)
		return
	}
	if topic != "" && !slices.Contains(topics, topic) {
		p.statementsNotFound(w)
		return
	}
	list, err := p.cfg.Statements.PublicList(r.Context(), topic)
	if err != nil {
		p.fail(w, r, nonce(), err)
		return
	}
	d := p.statementsData(topic)
	title := "Policy statements"
	desc := "Joint statements of the " + p.cfg.SiteName + " and its member organisations on regulation and practice, with who signed them, the authors' declarations of interest and every correction."
	if topic != "" {
		title = "Policy statements on " + topic
	}
	d.Meta = pageMeta{Title: title, Description: desc, URL: p.base() + p.topicURL(topic), SiteName: p.cfg.SiteName}
	for _, t := range topics {
		d.Topics = append(d.Topics, statementTopic{Name: t, URL: p.topicURL(t), Current: t == topic})
	}
	for _, s := range list {
		d.List = append(d.List, p.statementView(s))
	}
	p.render(w, http.StatusOK, "statements.html.tmpl", pageCSP, d)
}

// statementPage is GET /statements/{slug} and /statements/{slug}/v/{n}.
func (p *pages) statementPage(w http.ResponseWriter, r *http.Request) {
	version := 0
	if n := r.PathValue("n"); n != "" {
		v, err := strconv.Atoi(n)
		if err != nil || v < 1 || strconv.Itoa(v) != n {
			p.statementsNotFound(w)
			return
		}
		version = v
	}
	s, err := p.cfg.Statements.PublicGet(r.Context(), r.PathValue("slug"), version)
	switch {
	case apperr.KindOf(err) == apperr.NotFound:
		p.statementsNotFound(w)
		return
	case err != nil:
		p.fail(w, r, nonce(), err)
		return
	}
	v := p.statementView(s)
	d := p.statementsData("")
	d.Statement = &v
	d.Meta = pageMeta{Title: s.Title, Description: s.Summary, URL: v.URL, Type: "article", SiteName: p.cfg.SiteName,
		Published: s.FirstPublishedAt.Format(time.RFC3339), Modified: s.PublishedAt.Format(time.RFC3339)}
	p.render(w, http.StatusOK, "statements.html.tmpl", pageCSP, d)
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

// statementsFeed is GET /statements.atom (?topic= per topic): one entry per published
// statement, its current version; a correction updates the entry (same id, new updated
// time), a withdrawal says so in the title.
func (p *pages) statementsFeed(w http.ResponseWriter, r *http.Request) {
	topic := r.URL.Query().Get("topic")
	if topic != "" {
		topics, err := p.cfg.Statements.PublicTopics(r.Context())
		if err != nil {
			p.fail(w, r, nonce(), err)
			return
		}
		if !slices.Contains(topics, topic) {
			p.statementsNotFound(w)
			return
		}
	}
	list, err := p.cfg.Statements.PublicList(r.Context(), topic)
	if err != nil {
		p.fail(w, r, nonce(), err)
		return
	}
	title := p.cfg.SiteName + " policy statements"
	if topic != "" {
		title += " on " + topic
	}
	f := atomFeed{Title: title, ID: p.base() + p.topicURL(topic), Updated: time.Unix(0, 0).UTC().Format(time.RFC3339),
		Links: []atomLink{{Rel: "self", Href: p.statementsFeedURL(topic)}, {Rel: "alternate", Href: p.base() + p.topicURL(topic), Type: "text/html"}}}
	f.Author.Name = p.cfg.SiteName
	var latest time.Time
	for _, s := range list {
		updated := s.PublishedAt
		if s.Withdrawn != nil && s.Withdrawn.At.After(updated) {
			updated = s.Withdrawn.At
		}
		if updated.After(latest) {
			latest = updated
		}
		t := s.Title
		if s.Withdrawn != nil {
			t = "Withdrawn: " + t
		}
		e := atomEntry{Title: t, ID: p.statementURL(s.Slug, 0), Published: s.FirstPublishedAt.Format(time.RFC3339),
			Updated: updated.UTC().Format(time.RFC3339), Link: atomLink{Rel: "alternate", Href: p.statementURL(s.Slug, 0), Type: "text/html"},
			Content: atomText{Type: "html", Body: string(s.BodyHTML)}}
		for _, tp := range s.Topics {
			e.Categories = append(e.Categories, atomCategory{Term: tp})
		}
		if s.Summary != "" {
			e.Summary = &atomText{Body: s.Summary}
		}
		f.Entries = append(f.Entries, e)
	}
	if !latest.IsZero() {
		f.Updated = latest.UTC().Format(time.RFC3339)
	}
	out, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		p.fail(w, r, nonce(), err)
		return
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}
