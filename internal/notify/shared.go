package notify

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/outbox"
)

// A shared body is rendered with a sentinel in place of each personal value, then each
// sentinel becomes the outbox's {{key}} placeholder. Sentinels are ASCII letters, digits
// and '_' only, so none of html/template's escapers (text, attribute, URL) changes them.
const (
	sentinelOpen  = "Zq7pH"
	sentinelClose = "Hp7qZ"
)

var sentinelRE = regexp.MustCompile(sentinelOpen + `([a-z0-9_]+)` + sentinelClose)

// splitter turns an email's data into its shape: the data with every personal value v
// replaced by value(key, v), which records v under key and returns what the body is
// rendered with instead (a sentinel; "" for an empty value, so that {{with}} and {{if}}
// on it render as they would). Emails whose shapes are equal share one body.
type splitter[D any] func(d D, value func(key, v string) string) D

// prepareShared renders template for every email of batch, once per shape instead of
// once per email: emails whose data differ only in their personal
// values (as split says) share one outbox body, and each email's row carries only its
// values, filled in by the worker when it builds the message (outbox.Body.Personalise).
// The message is the one rendering it whole gives, except that a value in the HTML part
// is escaped by html.EscapeString rather than html/template (which also writes '+' as
// "&#43;"). An email is rendered whole when its values do not fit the outbox
// (outbox.CheckValues: at most 20, one line each), or when the text around its values
// holds braces the worker would read as placeholders ("{{" in a call's title, say).
func prepareShared[D any](n *Notifier, template string, batch []Batched[D], split splitter[D]) (*Prepared, error) {
	p := &Prepared{template: template}
	type group struct {
		shape   D
		members []int
		values  []map[string]string
	}
	var (
		groups = map[string]*group{}
		order  []*group
		whole  []int // indices of the emails rendered whole
	)
	for i, b := range batch {
		p.wake = p.wake || !b.To.Suppressed
		values := map[string]string{}
		shape := split(b.Data, func(key, v string) string {
			if v == "" {
				return ""
			}
			values[key] = v
			return sentinelOpen + key + sentinelClose
		})
		// The shape's JSON is its identity; it names a sentinel once per value, unless the
		// data held a sentinel's text already.
		k, err := json.Marshal(shape)
		if err != nil || outbox.CheckValues(values) != nil || strings.Count(string(k), sentinelOpen) != len(values) {
			whole = append(whole, i)
			continue
		}
		g := groups[string(k)]
		if g == nil {
			g = &group{shape: shape}
			groups[string(k)] = g
			order = append(order, g)
		}
		g.members = append(g.members, i)
		g.values = append(g.values, values)
	}
	headers := n.headers(template)
	for _, g := range order {
		r, err := n.cfg.Renderer.Render(template, g.shape)
		if err != nil {
			return nil, fmt.Errorf("render %s: %w", template, err)
		}
		if !shareable(r, headers, g.values[0]) {
			whole = append(whole, g.members...)
			continue
		}
		s := outbox.Shared{
			Body: outbox.Body{
				Template: template,
				Subject:  placeholders(r.Subject),
				Text:     placeholders(r.Text),
				HTML:     placeholders(r.HTML),
				Headers:  headers,
			},
			Emails: make([]outbox.SharedEmail, len(g.members)),
		}
		for j, i := range g.members {
			b := batch[i]
			s.Emails[j] = outbox.SharedEmail{
				DedupeKey: b.Key, To: mail.Address{Name: b.To.Name, Email: b.To.Email},
				Values: g.values[j], Suppressed: b.To.Suppressed,
			}
		}
		p.shared = append(p.shared, s)
	}
	slices.Sort(whole)
	rest := make([]Batched[D], len(whole))
	for j, i := range whole {
		rest[j] = batch[i]
	}
	var err error
	if p.emails, err = renderEach(n, template, rest); err != nil {
		return nil, err
	}
	return p, nil
}

// shareable says whether r, rendered with sentinels, can become a shared body: the text
// around the sentinels holds no "{{" or "}}" and no brace touching a sentinel (the worker
// would read them as, or into, placeholders), and every sentinel has a value.
func shareable(r Rendered, headers map[string]string, values map[string]string) bool {
	for _, s := range append([]string{r.Subject, r.Text, r.HTML}, headerValues(headers)...) {
		if strings.Contains(s, "{{") || strings.Contains(s, "}}") ||
			strings.Contains(s, "{"+sentinelOpen) || strings.Contains(s, sentinelClose+"}") {
			return false
		}
		for _, m := range sentinelRE.FindAllStringSubmatch(s, -1) {
			if _, ok := values[m[1]]; !ok {
				return false
			}
		}
	}
	return true
}

func headerValues(h map[string]string) []string {
	vs := make([]string, 0, len(h))
	for _, v := range h {
		vs = append(vs, v)
	}
	return vs
}

// placeholders turns the sentinels of s into the outbox's {{key}} placeholders.
func placeholders(s string) string {
	return sentinelRE.ReplaceAllString(s, "{{$1}}")
}
