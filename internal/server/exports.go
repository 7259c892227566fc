package server

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/privacy"
)

// exportPage is the data of the data-export download page.
type exportPage struct {
	SiteName, Nonce, Action, Token, Problem, ContactEmail string
}

// exportForm shows the button that downloads a data export (GET): opening the emailed
// link uses nothing up, so a mail scanner that follows it does no harm.
func (p *pages) exportForm(w http.ResponseWriter, r *http.Request) {
	n := nonce()
	data := exportPage{SiteName: p.cfg.SiteName, Nonce: n, Action: privacy.DownloadPath, ContactEmail: p.cfg.ContactEmail,
		Token: strings.TrimSpace(r.URL.Query().Get("token"))}
	if data.Token == "" {
		data.Problem = "This page needs the link from the email that said your data is ready."
		p.render(w, http.StatusBadRequest, "data_export.html.tmpl", signinCSP(n), data)
		return
	}
	p.render(w, http.StatusOK, "data_export.html.tmpl", signinCSP(n), data)
}

// exportDownload streams a data export once (POST) and deletes its file.
func (p *pages) exportDownload(w http.ResponseWriter, r *http.Request) {
	n := nonce()
	data := exportPage{SiteName: p.cfg.SiteName, Nonce: n, Action: privacy.DownloadPath, ContactEmail: p.cfg.ContactEmail}
	if !p.sameOrigin(r) {
		data.Problem = "This form was sent from another site, so it was not used. Open the link from the email and press the button on that page."
		p.render(w, http.StatusForbidden, "data_export.html.tmpl", signinCSP(n), data)
		return
	}
	f, e, err := p.cfg.Privacy.Download(r.Context(), strings.TrimSpace(r.PostFormValue("token")))
	if err != nil {
		status := http.StatusInternalServerError
		if ue, ok := apperr.AsUserErrors(err); ok && len(ue) > 0 {
			data.Problem = ue[0].Message
			status = http.StatusGone
			if ue[0].Code == apperr.CodeNotFound {
				status = http.StatusNotFound
			}
		} else if db.IsUnavailable(err) {
			data.Problem = pageUnavailableMessage
			setUnavailableHeaders(w.Header())
			status = http.StatusServiceUnavailable
		} else {
			p.cfg.Logger.ErrorContext(r.Context(), "data export download", "err", err, "request_id", audit.RequestFrom(r.Context()).ID)
			data.Problem = "Something went wrong on our side. Please try again later."
		}
		p.render(w, status, "data_export.html.tmpl", signinCSP(n), data)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		p.cfg.Logger.ErrorContext(r.Context(), "data export download", "err", err)
		http.Error(w, "Something went wrong on our side.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="my-data-`+string(e.ID)+`.zip"`)
	h.Set("Content-Length", strconv.FormatInt(st.Size(), 10))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, f); err != nil && !errors.Is(err, http.ErrAbortHandler) {
		p.cfg.Logger.WarnContext(r.Context(), "data export download interrupted", "export", e.ID, "err", err)
	}
}
