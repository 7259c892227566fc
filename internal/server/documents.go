package server

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/db"
)

// documentCSP keeps a document that a browser would render anyway (a download opened from
// the downloads list is a new navigation) from running anything in our origin.
const documentCSP = "sandbox"

// document serves GET /documents/{id}: the PDF of an application document to a viewer who
// may read it (authenticate put the viewer in the context, as for /graphql). The answers:
//
//   - 200 (206 for a Range request) with the file as an attachment;
//   - 401 for an Authorization header that names no valid credential (authenticate);
//   - 404 for a document that does not exist or that the viewer may not read (the privacy
//     rules hide it, so the two cannot be told apart), which includes every document for
//     an anonymous viewer;
//   - 503 UNAVAILABLE with Retry-After while the database is unavailable (db.IsUnavailable);
//   - 500 for anything else, logged with the request id.
func (s *srv) document(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rid := RequestIDFromContext(ctx)
	// Anything but a document id is absent without asking the database (PostgreSQL would
	// refuse bytes that are not UTF-8 with an error).
	id := pulid.ID(r.PathValue("id"))
	if !id.Valid() || id.Prefix() != "doc" {
		writeJSONError(w, http.StatusNotFound, string(apperr.NotFound), "", "not found", rid)
		return
	}
	d, f, err := s.cfg.Programme.OpenDocument(ctx, id)
	if err != nil {
		if apperr.KindOf(err) == apperr.NotFound {
			writeJSONError(w, http.StatusNotFound, string(apperr.NotFound), "", "not found", rid)
			return
		}
		if db.IsUnavailable(err) {
			s.cfg.Logger.WarnContext(ctx, "open document: database unavailable", "err", err, "document", string(id), "request_id", rid)
			writeUnavailable(w, r)
			return
		}
		s.cfg.Logger.ErrorContext(ctx, "open document", "err", err, "document", string(id), "request_id", rid)
		writeJSONError(w, http.StatusInternalServerError, string(apperr.Internal), "", internalMessage, rid)
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", contentDisposition(d.Filename))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Security-Policy", documentCSP)
	// ServeContent answers Range (206) and conditional requests from the file.
	http.ServeContent(w, r, "", d.CreatedAt, f)
}

// contentDisposition is `attachment` with the file name twice (RFC 6266): an ASCII
// fallback in filename="…" for old clients, and the exact name, percent-encoded UTF-8, in
// filename*= (RFC 8187), which clients that know it prefer.
func contentDisposition(name string) string {
	if name == "" || !utf8.ValidString(name) {
		name = "document.pdf"
	}
	return `attachment; filename="` + asciiFilename(name) + `"; filename*=UTF-8''` + encodeRFC8187(name)
}

// asciiFilename replaces everything but printable ASCII, and the characters that a quoted
// string or a file system treats specially, with "_".
func asciiFilename(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r >= 0x7f, r == '"', r == '\\', r == '/', r == '%', r == ';':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// encodeRFC8187 percent-encodes the UTF-8 bytes of s except attr-char (RFC 8187 §3.2.1).
func encodeRFC8187(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}
