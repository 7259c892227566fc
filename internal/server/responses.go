package server

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"github.com/gocart-coalition/coalition/internal/apperr"
)

// RetryAfterSeconds is the Retry-After of a 503 answer: how long a client should wait
// before it sends the request again while the database is unavailable.
const RetryAfterSeconds = 5

// setUnavailable answers 503 with Retry-After from here on.
func setUnavailableHeaders(h http.Header) {
	h.Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
	h.Set("Cache-Control", "no-store")
}

// writeUnavailable answers a non-GraphQL route (the bearer lookup, a download) whose
// database work failed with db.IsUnavailable.
func writeUnavailable(w http.ResponseWriter, r *http.Request) {
	setUnavailableHeaders(w.Header())
	writeJSONError(w, http.StatusServiceUnavailable, string(apperr.Unavailable), "", unavailableMessage, RequestIDFromContext(r.Context()))
}

type statusHintKey struct{}

// statusHint carries, from the GraphQL executor (unavailableStatus) to the HTTP layer
// (graphqlHTTP), that the answer is one of unavailability.
type statusHint struct{ unavailable bool }

// unavailableStatus is a response interceptor, the outermost one, that marks a response
// whose errors are all UNAVAILABLE, so that graphqlHTTP answers it 503 with Retry-After.
type unavailableStatus struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = unavailableStatus{}

func (unavailableStatus) ExtensionName() string                   { return "UnavailableStatus" }
func (unavailableStatus) Validate(graphql.ExecutableSchema) error { return nil }

func (unavailableStatus) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	hint, _ := ctx.Value(statusHintKey{}).(*statusHint)
	if hint == nil || resp == nil || len(resp.Errors) == 0 {
		return resp
	}
	for _, e := range resp.Errors {
		if e == nil || e.Extensions["code"] != string(apperr.Unavailable) {
			return resp
		}
	}
	hint.unavailable = true
	return resp
}

// graphqlHTTP wraps the gqlgen handler:
//
//   - a POST whose Content-Type no transport takes is answered 415 BAD_REQUEST here (gqlgen
//     would say "transport not supported" without a code);
//   - an answer whose errors are all UNAVAILABLE gets 503 and Retry-After (unavailableStatus
//     tells which);
//   - an error answer (status 400 and up) that gqlgen wrote itself, past the error presenter,
//     gets extensions.code BAD_REQUEST on every error without a code: the last net under
//     gqlgen's own answers (today only GET's "GET requests only allow query operations").
func graphqlHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || (mt != "application/json" && mt != "multipart/form-data") {
				unsupportedMediaType(w, r)
				return
			}
		}
		hint := &statusHint{}
		gw := &graphqlWriter{ResponseWriter: w, hint: hint}
		next.ServeHTTP(gw, r.WithContext(context.WithValue(r.Context(), statusHintKey{}, hint)))
		gw.finish()
	})
}

// graphqlWriter applies graphqlHTTP's rules to the status and, for error answers, the body.
type graphqlWriter struct {
	http.ResponseWriter
	hint        *statusHint
	wroteHeader bool
	buffering   bool
	status      int
	buf         []byte
}

func (w *graphqlWriter) WriteHeader(code int) {
	if w.wroteHeader || (code >= 100 && code < 200) {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.wroteHeader = true
	if code == http.StatusOK && w.hint.unavailable {
		setUnavailableHeaders(w.Header())
		code = http.StatusServiceUnavailable
	}
	if code >= 400 && code != http.StatusServiceUnavailable {
		w.buffering, w.status = true, code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *graphqlWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.buffering {
		w.buf = append(w.buf, b...)
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *graphqlWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish writes a buffered error answer, with a code on every error.
func (w *graphqlWriter) finish() {
	if !w.buffering {
		return
	}
	body := w.buf
	var resp map[string]any
	if json.Unmarshal(body, &resp) == nil {
		if errs, ok := resp["errors"].([]any); ok {
			changed := false
			for _, e := range errs {
				em, ok := e.(map[string]any)
				if !ok {
					continue
				}
				ext, _ := em["extensions"].(map[string]any)
				if ext == nil {
					ext = map[string]any{}
					em["extensions"] = ext
				}
				if _, ok := ext["code"]; !ok {
					ext["code"] = string(apperr.BadRequest)
					changed = true
				}
			}
			if changed {
				if b, err := json.Marshal(resp); err == nil {
					body = b
				}
			}
		}
	}
	w.Header().Del("Content-Length")
	w.ResponseWriter.WriteHeader(w.status)
	_, _ = w.ResponseWriter.Write(body)
}
