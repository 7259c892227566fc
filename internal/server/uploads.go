package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"sync/atomic"

	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/programme"
)

// DefaultMaxUploadBytes is the default Config.MaxUploadBytes: the largest document the
// programme accepts (programme.DefaultMaxDocumentBytes, 10 MiB) plus 1 MiB for the rest of
// the form (the operations and map parts of a GraphQL upload, the referee page's token,
// the multipart boundaries and part headers).
const DefaultMaxUploadBytes = programme.DefaultMaxDocumentBytes + 1<<20

// uploadMaxMemory is how much of a GraphQL multipart request gqlgen keeps in memory:
// requests at least this large have their files spooled to temporary files.
const uploadMaxMemory = 1 << 20

// isUpload reports whether r is a file upload: a multipart/form-data POST to one of the
// two routes that take files, POST /graphql (uploadDocument) and POST /referee (a
// referee's letter). Only those may send up to Config.MaxUploadBytes instead of
// DefaultMaxBodyBytes. The path is compared before ServeMux cleans it: a request to an
// unclean path keeps the small limit and is redirected or refused by the mux anyway.
func isUpload(r *http.Request) bool {
	if r.Method != http.MethodPost || (r.URL.Path != "/graphql" && r.URL.Path != refereePath) {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// bodyLimit applies the body limits: DefaultMaxBodyBytes (BodyLimit, which may buffer the
// body) to everything but uploads (isUpload); StreamBodyLimit(MaxUploadBytes) to GraphQL
// uploads. The referee page limits its body itself, with the same MaxUploadBytes, so that
// a referee's browser gets an HTML page rather than the API's JSON answer.
func (s *srv) bodyLimit(next http.Handler) http.Handler {
	small := BodyLimit(DefaultMaxBodyBytes)(next)
	large := StreamBodyLimit(s.cfg.MaxUploadBytes)(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case !isUpload(r):
			small.ServeHTTP(w, r)
		case r.URL.Path == refereePath:
			next.ServeHTTP(w, r) // refereeUpload: http.MaxBytesReader(MaxUploadBytes)
		default:
			large.ServeHTTP(w, r)
		}
	})
}

// StreamBodyLimit refuses request bodies larger than maxBytes without reading them into
// memory, for uploads: a declared Content-Length over the limit is refused with 413 up
// front; otherwise the handler reads the body through http.MaxBytesReader as it goes.
//
// A handler reading past the limit gets a *http.MaxBytesError. Whatever it answers then
// (gqlgen's multipart transport answers 422 with a message of its own) is replaced by the
// same 413 BODY_TOO_LARGE answer as BodyLimit's, unless the handler answers 413 itself.
// The replacement only works while the handler has not started its answer, which is the
// case for a handler that reads the body before answering, as gqlgen's multipart
// transport does.
func StreamBodyLimit(maxBytes int64) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody {
				next.ServeHTTP(w, r)
				return
			}
			if r.ContentLength > maxBytes {
				tooLarge(w, r, maxBytes)
				return
			}
			body := &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, maxBytes)}
			lw := &limitWriter{ResponseWriter: w, body: body, r: r, max: maxBytes}
			r2 := *r
			r2.Body = body
			next.ServeHTTP(lw, &r2)
		})
	}
}

// limitedBody records that a read went past the limit.
type limitedBody struct {
	io.ReadCloser
	exceeded atomic.Bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooBig *http.MaxBytesError
	if err != nil && errors.As(err, &tooBig) {
		b.exceeded.Store(true)
	}
	return n, err
}

// limitWriter replaces the handler's answer with 413 once its body went past the limit.
type limitWriter struct {
	http.ResponseWriter
	body     *limitedBody
	r        *http.Request
	max      int64
	started  bool
	replaced bool
}

func (w *limitWriter) WriteHeader(code int) {
	if w.started || (code >= 100 && code < 200) {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.started = true
	if w.body.exceeded.Load() && code != http.StatusRequestEntityTooLarge {
		w.replaced = true
		// The handler's framing does not fit our body (tooLarge sets Content-Type).
		w.Header().Del("Content-Length")
		w.Header().Del("Content-Encoding")
		tooLarge(w.ResponseWriter, w.r, w.max)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *limitWriter) Write(b []byte) (int, error) {
	if !w.started {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *limitWriter) Flush() {
	if !w.started {
		w.WriteHeader(http.StatusOK)
	}
	if !w.replaced {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

func (w *limitWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// graphqlUploads prepares multipart requests for gqlgen's MultipartForm transport:
//
//   - They must carry an Authorization header. The only mutation that takes a file
//     (uploadDocument) needs a signed-in trainee anyway, and a cross-site HTML form can
//     send multipart/form-data without a CORS preflight but cannot set Authorization, so
//     this closes the one "simple request" way into /graphql (JSON bodies need a preflight).
//   - gqlgen keeps a request's files in memory when its Content-Length is under MaxMemory
//     and spools them to temporary files otherwise; a chunked request (length unknown, -1)
//     would be read into memory whole (up to MaxUploadBytes). Such a request is presented
//     to gqlgen with the largest allowed length, so its files go to temporary files.
func graphqlUploads(maxBytes int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" {
			next.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="coalition"`)
			writeJSONError(w, http.StatusUnauthorized, string(apperr.Unauthenticated), "",
				"uploads need Authorization: Bearer <token>", RequestIDFromContext(r.Context()))
			return
		}
		if r.ContentLength < 0 {
			r2 := *r
			r2.ContentLength = maxBytes
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}
