package server_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/gocart-coalition/coalition/internal/testkit"
)

// TestPublicPagesLinksAndHTML crawls every public page from the home page, the
// newsletter archive and the statements (with a published statement and a sent campaign
// in place): every link, stylesheet and image on the service resolves (no 404, no server
// error), every page is valid HTML (tidy reports nothing), readable on a phone (viewport),
// and needs no JavaScript (no script, no inline style).
func TestPublicPagesLinksAndHTML(t *testing.T) {
	tidy, err := exec.LookPath("tidy")
	if err != nil {
		t.Fatal("tidy is not installed: apt-get install tidy (.ci/run installs it)")
	}
	e := testkit.NewEnv(t, testkit.Dialects()[0])
	w := publishStatement(t, e, "## Position\n\nRisk measures should be **proportionate**; see [the newsletter](/newsletter) and the [list](/statements).")
	issue := sentCampaign(t, e, "Spring news", "# Spring news\n\nRead our [statements]("+e.Server.URL+"/statements/"+w.Slug+").")

	base, _ := url.Parse(e.Server.URL)
	// /signin answers 400 without a link's token: it is where emailed links lead.
	needsToken := map[string]bool{"/signin": true}
	seen := map[string]int{}
	queue := []string{"/", "/newsletter", issue, "/newsletter.atom", "/statements", "/statements.atom", "/statements/" + w.Slug}
	from := map[string]string{}
	for len(queue) > 0 && len(seen) < 200 {
		path := queue[0]
		queue = queue[1:]
		if _, ok := seen[path]; ok {
			continue
		}
		resp, err := http.Get(e.Server.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(resp.Body)
		resp.Body.Close()
		seen[path] = resp.StatusCode
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode >= 500 || (resp.StatusCode != http.StatusOK && !needsToken[path]) {
			t.Errorf("GET %s (linked from %s): %d", path, from[path], resp.StatusCode)
			continue
		}
		var links []string
		ct := resp.Header.Get("Content-Type")
		switch {
		case strings.HasPrefix(ct, "text/html"):
			links = checkPage(t, tidy, path, body.Bytes(), resp.StatusCode == http.StatusOK)
		case strings.HasPrefix(ct, "application/atom+xml"):
			links = feedLinks(t, path, body.Bytes())
		}
		for _, l := range links {
			u, err := base.Parse(l)
			if err != nil {
				t.Errorf("%s: link %q: %v", path, l, err)
				continue
			}
			if u.Scheme == "mailto" || (u.Host != "" && u.Host != base.Host) {
				continue // not on the service
			}
			p := u.EscapedPath()
			if u.RawQuery != "" {
				p += "?" + u.RawQuery
			}
			if _, ok := seen[p]; !ok {
				if _, ok := from[p]; !ok {
					from[p] = path
				}
				queue = append(queue, p)
			}
		}
	}
	for _, want := range []string{"/", "/signin", "/newsletter", issue, "/statements", "/statements?topic=car-t", "/statements/" + w.Slug,
		"/statements/" + w.Slug + "/v/1", "/statements.atom?topic=car-t", "/healthz"} {
		if _, ok := seen[want]; !ok {
			t.Errorf("the crawl never reached %s (reached %v)", want, seen)
		}
	}
	assets := 0
	for p := range seen {
		if strings.HasPrefix(p, "/assets/") {
			assets++
		}
	}
	if assets != 2 {
		t.Errorf("reached %d assets, want the stylesheet and the icon: %v", assets, seen)
	}
}

// checkPage checks one HTML page and returns the addresses it links or loads.
func checkPage(t *testing.T, tidy, path string, page []byte, validate bool) []string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return nil
	}
	var links []string
	var viewport, title, stylesheet bool
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				switch {
				case a.Key == "href" || a.Key == "src" || (n.Data == "form" && a.Key == "action"):
					if !strings.HasPrefix(a.Val, "#") {
						links = append(links, a.Val)
					}
				case a.Key == "style" || strings.HasPrefix(a.Key, "on"):
					t.Errorf("%s: <%s %s=%q>: the policy forbids inline styles and handlers", path, n.Data, a.Key, a.Val)
				}
			}
			switch n.Data {
			case "script", "style", "iframe", "object", "embed":
				t.Errorf("%s: a <%s> element (the public pages need no JavaScript and no inline style)", path, n.Data)
			case "meta":
				for _, a := range n.Attr {
					if a.Key == "name" && a.Val == "viewport" {
						viewport = true
					}
				}
			case "title":
				title = n.FirstChild != nil && strings.TrimSpace(n.FirstChild.Data) != ""
			case "link":
				for _, a := range n.Attr {
					if a.Key == "rel" && a.Val == "stylesheet" {
						stylesheet = true
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if !viewport || !title || !stylesheet {
		t.Errorf("%s: viewport meta %v, title %v, stylesheet %v", path, viewport, title, stylesheet)
	}
	if validate {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, tidy, "-q", "-e", "-utf8", "--show-warnings", "yes", "--warn-proprietary-attributes", "no")
		cmd.Stdin = bytes.NewReader(page)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("tidy: %v", err)
		}
		if len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("%s: tidy:\n%s", path, out)
		}
	}
	return links
}

// feedLinks returns the links of an Atom feed and checks that it parses.
func feedLinks(t *testing.T, path string, body []byte) []string {
	t.Helper()
	var f struct {
		Links []struct {
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Entries []struct {
			Links []struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(body, &f); err != nil {
		t.Errorf("%s: %v", path, err)
		return nil
	}
	var out []string
	for _, l := range f.Links {
		out = append(out, l.Href)
	}
	for _, e := range f.Entries {
		for _, l := range e.Links {
			out = append(out, l.Href)
		}
	}
	return out
}
