package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// The newsletter's pages (newsletter.*Path):
//
// POST /newsletter/subscribe: the subscribe form, form-encoded (email, name, list — one
// or more slugs — and the honeypot field "website", which people leave empty). It is
// meant to be embedded in the coalition's web site, another origin, so unlike /signin it
// cannot require this service's origin or a form token: it is a cross-site form POST by
// design. That is safe because it carries no credential (no cookie or session is read)
// and does nothing without the confirmation link emailed to the address: a forged post can
// at most cause one confirmation email an hour to an address. When
// COALITION_NEWSLETTER_FORM_ORIGINS is set, a browser's Origin must be one of those or
// the service's own. The honeypot, when filled, gets the same thank-you page and nothing
// is done. Rate limits per client address and per address are the service's. The answer
// is a page (200 thanks, 400 bad input, 429 rate limited), the same whether or not the
// address is known.
//
// GET /newsletter/confirm?t=nc_… shows what the link confirms and a button; only the
// POST (from this page: origin-checked) confirms, so mail scanners cannot use it up.
//
// GET /newsletter/unsubscribe?t=… shows one button (and the lists to keep, for a token
// for every list): a GET never unsubscribes. POST to the same URL unsubscribes: the
// RFC 8058 one-click (body List-Unsubscribe=One-Click, form-encoded or multipart) works
// with no cookie, no redirect, no confirmation and from any origin (mail providers send
// it), answering 200 with a short text; the page's own buttons get a page.
//
// POST /newsletter/webhook: the signed bounce/complaint webhook (newsletter/webhook.go).

const honeypotField = "website"

type newsletterPage struct {
	SiteName, Nonce, Action, Token string
	Title, Message, Problem        string
	Email                          string
	Lists                          []string
	Prefs                          []newsletter.PreferenceList
	// Confirm: show the confirmation button; Unsubscribe: the unsubscribe button.
	Confirm, Unsubscribe, Done bool
	ListName                   string
}

func (p *pages) newsletterRender(w http.ResponseWriter, status int, d newsletterPage) {
	p.render(w, status, "newsletter.html.tmpl", signinCSP(d.Nonce), d)
}

func (p *pages) newsletterData() newsletterPage {
	return newsletterPage{SiteName: p.cfg.SiteName, Nonce: nonce()}
}

// formOriginAllowed applies COALITION_NEWSLETTER_FORM_ORIGINS to the subscribe form.
func (p *pages) formOriginAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || len(p.cfg.FormOrigins) == 0 {
		return true
	}
	o = publicOrigin(o)
	return o == publicOrigin(p.cfg.PublicURL) || slices.Contains(p.cfg.FormOrigins, o)
}

func (p *pages) newsletterSubscribe(w http.ResponseWriter, r *http.Request) {
	d := p.newsletterData()
	d.Title = "Subscribe"
	if !p.formOriginAllowed(r) {
		d.Problem = "This form was sent from a site that may not use it."
		p.newsletterRender(w, http.StatusForbidden, d)
		return
	}
	if err := r.ParseForm(); err != nil {
		d.Problem = "The form could not be read."
		p.newsletterRender(w, http.StatusBadRequest, d)
		return
	}
	if strings.TrimSpace(r.PostForm.Get(honeypotField)) != "" {
		d.Done, d.Message = true, newsletter.SubscribedMessage // a bot: the same answer, nothing done
		p.newsletterRender(w, http.StatusOK, d)
		return
	}
	ctx := viewer.NewContext(r.Context(), viewer.Viewer{})
	var msg string
	err := db.InTx(ctx, p.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
		var err error
		msg, err = p.cfg.Newsletter.Subscribe(ctx, tx, newsletter.SubscribeInput{
			Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name"), Lists: r.PostForm["list"],
			Source: newsletter.SourceForm, IP: audit.RequestFrom(ctx).IP,
		})
		return err
	})
	if ue, ok := apperr.AsUserErrors(err); ok {
		d.Problem = ue[0].Message
		status := http.StatusBadRequest
		if ue[0].Code == apperr.CodeRateLimited {
			status = http.StatusTooManyRequests
		}
		p.newsletterRender(w, status, d)
		return
	}
	if err != nil {
		p.newsletterFail(w, r, d, err)
		return
	}
	d.Done, d.Message = true, msg
	p.newsletterRender(w, http.StatusOK, d)
}

func (p *pages) newsletterConfirmForm(w http.ResponseWriter, r *http.Request) {
	d := p.newsletterData()
	d.Title, d.Action, d.Token = "Confirm your subscription", newsletter.ConfirmPath, strings.TrimSpace(r.URL.Query().Get("t"))
	v, err := p.cfg.Newsletter.DescribeConfirmation(r.Context(), d.Token)
	if err != nil {
		p.newsletterFail(w, r, d, err)
		return
	}
	d.Email, d.Lists, d.Problem = v.Email, v.Lists, v.Problem
	status := http.StatusOK
	if d.Problem != "" {
		status = http.StatusNotFound
	} else {
		d.Confirm = true
	}
	p.newsletterRender(w, status, d)
}

func (p *pages) newsletterConfirm(w http.ResponseWriter, r *http.Request) {
	d := p.newsletterData()
	d.Title = "Confirm your subscription"
	if !p.sameOrigin(r) {
		d.Problem = "This form was sent from another site, so it was not used. Open the link from your email and press the button there."
		p.newsletterRender(w, http.StatusForbidden, d)
		return
	}
	if err := r.ParseForm(); err != nil {
		d.Problem = "The form could not be read."
		p.newsletterRender(w, http.StatusBadRequest, d)
		return
	}
	var lists []string
	err := db.InTx(r.Context(), p.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
		var err error
		lists, err = p.cfg.Newsletter.Confirm(ctx, tx, r.PostForm.Get("t"), audit.RequestFrom(ctx).IP)
		return err
	})
	if ue, ok := apperr.AsUserErrors(err); ok {
		d.Problem = ue[0].Message
		status := http.StatusBadRequest
		switch ue[0].Code {
		case apperr.CodeAlreadyUsed:
			status = http.StatusConflict
		case apperr.CodeExpired:
			status = http.StatusGone
		}
		p.newsletterRender(w, status, d)
		return
	}
	if err != nil {
		p.newsletterFail(w, r, d, err)
		return
	}
	d.Done, d.Lists, d.Message = true, lists, "Your subscription is confirmed. Thank you."
	p.newsletterRender(w, http.StatusOK, d)
}

func (p *pages) newsletterUnsubscribeForm(w http.ResponseWriter, r *http.Request) {
	d := p.newsletterData()
	d.Title, d.Token = "Unsubscribe", strings.TrimSpace(r.URL.Query().Get("t"))
	d.Action = newsletter.UnsubscribePath + "?t=" + d.Token
	v, err := p.cfg.Newsletter.DescribeUnsubscribe(r.Context(), d.Token)
	if err != nil {
		p.newsletterFail(w, r, d, err)
		return
	}
	d.Email, d.ListName, d.Prefs, d.Problem = v.Email, v.List, v.Lists, v.Problem
	status := http.StatusOK
	if d.Problem != "" {
		status = http.StatusNotFound
	} else {
		d.Unsubscribe = true
	}
	p.newsletterRender(w, status, d)
}

// newsletterUnsubscribe is the POST of the unsubscribe URL: the RFC 8058 one-click or the
// page's buttons ("all": leave the token's list or every list; "keep": the preferences).
func (p *pages) newsletterUnsubscribe(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimSpace(r.URL.Query().Get("t"))
	if err := r.ParseMultipartForm(64 << 10); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		http.Error(w, "The request could not be read.", http.StatusBadRequest)
		return
	}
	if token == "" {
		token = strings.TrimSpace(r.PostFormValue("t"))
	}
	oneClick := r.PostFormValue("List-Unsubscribe") == "One-Click"
	prefs := r.PostFormValue("action") == "keep"
	var keep []pulid.ID
	for _, id := range r.PostForm["keep"] {
		keep = append(keep, pulid.ID(id))
	}
	var view newsletter.Preferences
	err := db.InTx(r.Context(), p.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
		var err error
		if prefs && !oneClick {
			view, err = p.cfg.Newsletter.SetPreferences(ctx, tx, token, keep)
		} else {
			view, err = p.cfg.Newsletter.UnsubscribeByToken(ctx, tx, token)
		}
		return err
	})
	if oneClick {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		switch ue, ok := apperr.AsUserErrors(err); {
		case ok:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, ue[0].Message+"\n")
		case err != nil:
			p.cfg.Logger.ErrorContext(r.Context(), "one-click unsubscribe", "err", err, "request_id", audit.RequestFrom(r.Context()).ID)
			if db.IsUnavailable(err) {
				setUnavailableHeaders(w.Header())
				w.WriteHeader(http.StatusServiceUnavailable)
			} else {
				w.WriteHeader(http.StatusInternalServerError)
			}
			_, _ = io.WriteString(w, "Something went wrong on our side; please try again.\n")
		default:
			_, _ = io.WriteString(w, "You are unsubscribed.\n")
		}
		return
	}
	d := p.newsletterData()
	d.Title = "Unsubscribe"
	if ue, ok := apperr.AsUserErrors(err); ok {
		d.Problem = ue[0].Message
		p.newsletterRender(w, http.StatusNotFound, d)
		return
	}
	if err != nil {
		p.newsletterFail(w, r, d, err)
		return
	}
	d.Done, d.Email, d.Prefs = true, view.Email, view.Lists
	d.Message = "You are unsubscribed."
	if prefs {
		d.Message = "Your choices are saved."
	}
	p.newsletterRender(w, http.StatusOK, d)
}

// newsletterWebhook is the signed bounce/complaint webhook: 204-free JSON answers, 401 for a
// bad signature, 409 for a replay or a stale timestamp, 404 when no secret is configured.
func (p *pages) newsletterWebhook(w http.ResponseWriter, r *http.Request) {
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		reply(http.StatusRequestEntityTooLarge, map[string]string{"error": "the body could not be read (at most 1 MiB)"})
		return
	}
	switch err := p.cfg.Newsletter.VerifyWebhook(r.Header.Get("X-Coalition-Timestamp"), r.Header.Get("X-Coalition-Signature"), body); {
	case errors.Is(err, newsletter.ErrWebhookDisabled):
		reply(http.StatusNotFound, map[string]string{"error": err.Error()})
		return
	case errors.Is(err, newsletter.ErrWebhookSignature):
		reply(http.StatusUnauthorized, map[string]string{"error": err.Error()})
		return
	case err != nil:
		reply(http.StatusConflict, map[string]string{"error": err.Error()})
		return
	}
	var res newsletter.WebhookResult
	err = db.InTx(r.Context(), p.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
		var err error
		res, err = p.cfg.Newsletter.HandleWebhook(ctx, tx, body)
		return err
	})
	var we newsletter.WebhookError
	switch {
	case errors.As(err, &we):
		reply(http.StatusBadRequest, map[string]string{"error": we.Msg})
	case err != nil:
		p.cfg.Logger.ErrorContext(r.Context(), "newsletter webhook", "err", err, "request_id", audit.RequestFrom(r.Context()).ID)
		if db.IsUnavailable(err) {
			setUnavailableHeaders(w.Header())
			reply(http.StatusServiceUnavailable, map[string]string{"error": "unavailable"})
			return
		}
		reply(http.StatusInternalServerError, map[string]string{"error": "internal error"})
	default:
		reply(http.StatusOK, res)
	}
}

func (p *pages) newsletterFail(w http.ResponseWriter, r *http.Request, d newsletterPage, err error) {
	d.Confirm, d.Unsubscribe, d.Done = false, false, false
	if db.IsUnavailable(err) {
		p.cfg.Logger.WarnContext(r.Context(), "newsletter page: database unavailable", "err", err, "request_id", audit.RequestFrom(r.Context()).ID)
		d.Problem = pageUnavailableMessage
		setUnavailableHeaders(w.Header())
		p.newsletterRender(w, http.StatusServiceUnavailable, d)
		return
	}
	p.cfg.Logger.ErrorContext(r.Context(), "newsletter page", "err", err, "request_id", audit.RequestFrom(r.Context()).ID)
	d.Problem = "Something went wrong on our side. Please try again later."
	p.newsletterRender(w, http.StatusInternalServerError, d)
}
