package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// The referee upload page: a referee (a person without an account) follows the link of
// their email, PUBLIC_URL/referee?token=rl_…, and uploads their letter as a PDF. The
// secret token is the only credential: there are no cookies, so there is no session for
// a cross-site request to ride on and no CSRF token; a POST from another origin is still
// refused (403, formguard.go's sameOrigin), since the page is the only place the form
// belongs.
//
// GET shows the form and never uses the link up:
//
//	200  the link works: the form
//	400  no token in the URL
//	404  the token names no request
//	410  the link cannot be used any more: the letter has been received, the link has
//	     expired, or the call's deadline has passed (the page says which)
//
// POST (multipart/form-data, at most Config.MaxUploadBytes) stores the letter:
//
//	200  stored: a thank-you page
//	400  the form is unusable (no token, the file before the token, no file) or a user
//	     error of the service: an unknown link, not a PDF, an empty or too large file
//	409  the letter has been received already (ALREADY_USED)
//	410  the link has expired or the call's deadline has passed (EXPIRED)
//	413  the body is larger than Config.MaxUploadBytes
//	500  anything else, logged with the request id
//
// The form's parts are read in order as they arrive, so the token field must come before
// the file: browsers send fields in the order of the form, and the page's hidden token
// field comes first. A file before the token is refused with 400 rather than buffered.

// The page's path and the names of its form's parts.
const (
	refereePath       = "/referee"
	refereeTokenField = "token"
	refereeFileField  = "letter"
	// maxRefereeToken bounds the token part; real tokens are well under 100 bytes.
	maxRefereeToken = 512
)

type refereePage struct {
	SiteName, Nonce, Action, Token      string
	RefereeName, TraineeName, CallTitle string
	// Problem says why the link cannot be used: shown instead of the form.
	Problem string
	// Error says why an upload was refused: shown above the form.
	Error string
	// Done: the letter has been stored.
	Done  bool
	MaxMB int64
}

func (p *pages) refereeData(n string) refereePage {
	return refereePage{SiteName: p.cfg.SiteName, Nonce: n, Action: refereePath, MaxMB: programme.DefaultMaxDocumentBytes >> 20}
}

func (d *refereePage) describe(v programme.RefereeView) {
	d.RefereeName, d.TraineeName, d.CallTitle, d.Problem = v.RefereeName, v.TraineeName, v.CallTitle, v.Problem
}

// refereeForm shows the upload form of a link (GET). It never uses the link up.
func (p *pages) refereeForm(w http.ResponseWriter, r *http.Request) {
	n := nonce()
	data := p.refereeData(n)
	data.Token = strings.TrimSpace(r.URL.Query().Get("token"))
	if data.Token == "" {
		data.Problem = "This page needs the link from the email that asked you for a reference."
		p.render(w, http.StatusBadRequest, "referee.html.tmpl", signinCSP(n), data)
		return
	}
	v, err := p.cfg.Programme.DescribeRefereeLink(r.Context(), data.Token)
	if err != nil {
		p.refereeFail(w, r, n, err)
		return
	}
	data.describe(v)
	status := http.StatusOK
	switch {
	case v.Problem != "" && v.RefereeName == "":
		status = http.StatusNotFound // no request has this token
	case v.Problem != "":
		status = http.StatusGone
	}
	p.render(w, status, "referee.html.tmpl", signinCSP(n), data)
}

// refereeUpload stores a referee's letter (POST), streaming the form: the token part, then
// the letter, which is spooled to a temporary file before the transaction starts.
//
// The spool keeps the transaction short: on SQLite a write transaction holds the
// database's single writer from its first statement, so receiving a 10 MiB letter from a
// slow connection inside it would stall every other write of the service.
func (p *pages) refereeUpload(w http.ResponseWriter, r *http.Request) {
	n := nonce()
	data := p.refereeData(n)
	ctx := viewer.NewContext(r.Context(), viewer.Viewer{Kind: viewer.Anonymous})
	if !p.sameOrigin(r) {
		// Refused before the body is read: the form must be this page's (formguard.go).
		w.Header().Set("Connection", "close")
		data.Problem = "This form was sent from another site, so it was not used. Open the link from the email that asked you for a reference and send your letter from that page."
		p.render(w, http.StatusForbidden, "referee.html.tmpl", signinCSP(n), data)
		return
	}
	// refuse answers with the form again and msg above it, or with only the problem when
	// the link cannot be used (or is not known yet).
	refuse := func(status int, msg string) {
		data.Error = msg
		if data.Token != "" {
			v, err := p.cfg.Programme.DescribeRefereeLink(ctx, data.Token)
			if err != nil {
				p.cfg.Logger.ErrorContext(ctx, "describe referee link", "err", err, "request_id", audit.RequestFrom(ctx).ID)
			}
			data.describe(v)
		}
		if data.RefereeName == "" && data.Problem == "" {
			data.Problem = msg + " Open the link from the email that asked you for a reference and try again."
		}
		p.render(w, status, "referee.html.tmpl", signinCSP(n), data)
	}
	tooLarge := func() {
		w.Header().Set("Connection", "close") // the rest of the body is not read
		refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is too large: send a PDF of at most %d MB.", data.MaxMB))
	}
	formError := func(msg string) {
		// Read the rest (bounded by the limit) so that the browser, still sending, gets
		// the page rather than a reset connection.
		_, _ = io.Copy(io.Discard, r.Body)
		refuse(http.StatusBadRequest, msg)
	}
	// The body middleware leaves this route's multipart bodies to the handler (bodyLimit),
	// so that the answer is a page.
	if r.ContentLength > p.cfg.MaxUploadBytes {
		tooLarge()
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, p.cfg.MaxUploadBytes)
	readError := func(err error) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			tooLarge()
			return
		}
		p.cfg.Logger.InfoContext(ctx, "referee upload not read", "err", err, "request_id", audit.RequestFrom(ctx).ID)
		formError("The upload did not arrive completely. Please try again.")
	}

	mr, err := r.MultipartReader()
	if err != nil {
		formError("The form could not be read. Use the form on this page to send your letter.")
		return
	}
	var spool *os.File
	var filename string
	tokenSeen := false
	defer func() {
		if spool != nil {
			_ = spool.Close()
			_ = os.Remove(spool.Name())
		}
	}()
parts:
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readError(err)
			return
		}
		switch part.FormName() {
		case refereeTokenField:
			b, err := io.ReadAll(io.LimitReader(part, maxRefereeToken+1))
			if err != nil {
				readError(err)
				return
			}
			if len(b) > maxRefereeToken {
				formError("The form could not be read. Use the form on this page to send your letter.")
				return
			}
			data.Token, tokenSeen = strings.TrimSpace(string(b)), true
		case refereeFileField:
			if !tokenSeen {
				formError("The form sent the file before the link's token, so it could not be read. Use the form on this page to send your letter.")
				return
			}
			filename = part.FileName()
			spool, err = os.CreateTemp("", "coalition-letter-*")
			if err != nil {
				p.refereeFail(w, r, n, fmt.Errorf("spool referee letter: %w", err))
				return
			}
			if _, err := io.Copy(spool, part); err != nil {
				readError(err)
				return
			}
			if _, err := spool.Seek(0, io.SeekStart); err != nil {
				p.refereeFail(w, r, n, fmt.Errorf("spool referee letter: %w", err))
				return
			}
			break parts
		default:
			// Other fields (a named submit button) are read past.
			if _, err := io.Copy(io.Discard, part); err != nil {
				readError(err)
				return
			}
		}
	}
	switch {
	case data.Token == "":
		formError("The form did not carry the link's token.")
		return
	case spool == nil:
		formError("Choose the PDF file of your letter.")
		return
	}

	// Emails queued in the transaction wake the outbox once it commits.
	err = db.InTx(ctx, p.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
		return p.cfg.Programme.ReceiveRefereeLetter(ctx, tx, data.Token, filename, spool)
	})
	if err != nil {
		ue, ok := apperr.AsUserErrors(err)
		if !ok || len(ue) == 0 {
			p.refereeFail(w, r, n, err)
			return
		}
		status := http.StatusBadRequest
		switch ue[0].Code {
		case apperr.CodeAlreadyUsed:
			status = http.StatusConflict
		case apperr.CodeExpired:
			status = http.StatusGone
		}
		// Whether the form is shown again depends on the link as it is now.
		refuse(status, ue[0].Message)
		return
	}
	// The link is used up now: the view carries the names and a Problem that the page,
	// being Done, does not show.
	v, err := p.cfg.Programme.DescribeRefereeLink(ctx, data.Token)
	if err != nil {
		p.cfg.Logger.WarnContext(ctx, "describe referee link", "err", err, "request_id", audit.RequestFrom(ctx).ID)
	}
	data.describe(v)
	data.Done, data.Problem, data.Token = true, "", ""
	p.render(w, http.StatusOK, "referee.html.tmpl", signinCSP(n), data)
}

func (p *pages) refereeFail(w http.ResponseWriter, r *http.Request, n string, err error) {
	data := p.refereeData(n)
	if db.IsUnavailable(err) {
		p.cfg.Logger.WarnContext(r.Context(), "referee page: database unavailable", "err", err, "request_id", audit.RequestFrom(r.Context()).ID)
		data.Problem = pageUnavailableMessage
		setUnavailableHeaders(w.Header())
		p.render(w, http.StatusServiceUnavailable, "referee.html.tmpl", signinCSP(n), data)
		return
	}
	p.cfg.Logger.ErrorContext(r.Context(), "referee page", "err", err, "request_id", audit.RequestFrom(r.Context()).ID)
	data.Problem = "Something went wrong on our side. Please try again later."
	p.render(w, http.StatusInternalServerError, "referee.html.tmpl", signinCSP(n), data)
}
