package server

import (
	"encoding/xml"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

// The public newsletter archive: GET /newsletter (the list), GET /newsletter/{slug} (one
// campaign) and GET /newsletter.atom (the feed). They read as the anonymous viewer, so
// the Campaign privacy policy (access.FilterArchivedCampaigns) shows only sent campaigns
// of public lists: a draft, a scheduled, sending, paused or cancelled campaign, or one sent
// only to private lists or working groups, is not found. The body is the Markdown rendered
// and sanitised, its personal parts neutral; no tracking pixel, no rewritten link.

// archiveLimit is how many campaigns the archive page and the feed show.
const archiveLimit = 50

type archiveEntry struct {
	Subject, Preheader, URL, Date string
	Body                          template.HTML
}

type archivePage struct {
	SiteName, FeedURL string
	Entries           []archiveEntry
	Entry             *archiveEntry
}

func (p *pages) archiveEntry(c *ent.Campaign) archiveEntry {
	e := archiveEntry{Subject: c.Subject, Preheader: c.Preheader, URL: p.cfg.Campaigns.ArchiveURL(c),
		Body: template.HTML(p.cfg.Campaigns.BodyHTML(c))}
	if c.SentAt != nil {
		e.Date = c.SentAt.UTC().Format("2 January 2006")
	}
	return e
}

func (p *pages) newsletterArchive(w http.ResponseWriter, r *http.Request) {
	n := nonce()
	cs, err := p.cfg.Campaigns.Archive(r.Context(), archiveLimit)
	if err != nil {
		p.fail(w, r, n, err)
		return
	}
	d := archivePage{SiteName: p.cfg.SiteName, FeedURL: strings.TrimRight(p.cfg.PublicURL, "/") + "/newsletter.atom"}
	for _, c := range cs {
		d.Entries = append(d.Entries, p.archiveEntry(c))
	}
	p.render(w, http.StatusOK, "newsletter_archive.html.tmpl", pageCSP, d)
}

func (p *pages) newsletterIssue(w http.ResponseWriter, r *http.Request) {
	n := nonce()
	c, err := p.cfg.Campaigns.ArchivedBySlug(r.Context(), r.PathValue("slug"))
	d := archivePage{SiteName: p.cfg.SiteName, FeedURL: strings.TrimRight(p.cfg.PublicURL, "/") + "/newsletter.atom"}
	switch {
	case apperr.KindOf(err) == apperr.NotFound:
		p.render(w, http.StatusNotFound, "newsletter_archive.html.tmpl", pageCSP, d)
		return
	case err != nil:
		p.fail(w, r, n, err)
		return
	}
	e := p.archiveEntry(c)
	d.Entry = &e
	p.render(w, http.StatusOK, "newsletter_archive.html.tmpl", pageCSP, d)
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr,omitempty"`
	Body string `xml:",chardata"`
}

// atomEntry is an entry of the newsletter's and the statements' feeds (Published and
// Categories only in the statements').
type atomEntry struct {
	Title      string         `xml:"title"`
	ID         string         `xml:"id"`
	Published  string         `xml:"published,omitempty"`
	Updated    string         `xml:"updated"`
	Link       atomLink       `xml:"link"`
	Categories []atomCategory `xml:"category"`
	Summary    *atomText      `xml:"summary,omitempty"`
	Content    atomText       `xml:"content"`
}

type atomFeed struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string   `xml:"title"`
	ID      string   `xml:"id"`
	Updated string   `xml:"updated"`
	Author  struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

func (p *pages) newsletterFeed(w http.ResponseWriter, r *http.Request) {
	cs, err := p.cfg.Campaigns.Archive(r.Context(), archiveLimit)
	if err != nil {
		p.fail(w, r, nonce(), err)
		return
	}
	base := strings.TrimRight(p.cfg.PublicURL, "/")
	f := atomFeed{Title: p.cfg.SiteName + " newsletter", ID: base + "/newsletter",
		Updated: time.Unix(0, 0).UTC().Format(time.RFC3339),
		Links:   []atomLink{{Rel: "self", Href: base + "/newsletter.atom"}, {Rel: "alternate", Href: base + "/newsletter", Type: "text/html"}}}
	f.Author.Name = p.cfg.SiteName
	for i, c := range cs {
		updated := c.UpdatedAt
		if c.SentAt != nil {
			updated = *c.SentAt
		}
		if i == 0 {
			f.Updated = updated.UTC().Format(time.RFC3339)
		}
		e := atomEntry{Title: c.Subject, ID: p.cfg.Campaigns.ArchiveURL(c), Updated: updated.UTC().Format(time.RFC3339),
			Link:    atomLink{Rel: "alternate", Href: p.cfg.Campaigns.ArchiveURL(c), Type: "text/html"},
			Content: atomText{Type: "html", Body: p.cfg.Campaigns.BodyHTML(c)}}
		if c.Preheader != "" {
			e.Summary = &atomText{Body: c.Preheader}
		}
		f.Entries = append(f.Entries, e)
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
