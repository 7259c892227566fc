package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Middleware wraps an http.Handler with behaviour shared by every route.
type Middleware func(http.Handler) http.Handler

// Chain wraps h in mws so that mws[0] is the outermost: Chain(h, a, b) serves a(b(h)).
func Chain(h http.Handler, mws ...Middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// RequestIDHeader carries the request id in both directions.
const RequestIDHeader = "X-Request-Id"

// DefaultMaxBodyBytes is the largest request body accepted (ARCHITECTURE §6.6).
const DefaultMaxBodyBytes = 1 << 20

type requestIDKey struct{}

type clientIPKey struct{}

// RequestIDFromContext returns the request id set by RequestID, or "" outside a request.
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// RequestID gives every request an id: a sane incoming X-Request-Id (1–64 characters of
// [A-Za-z0-9-_.], so it is safe in logs and headers) is kept, anything else is replaced by
// a fresh random one. The id is echoed in the response and available through
// RequestIDFromContext.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = rand.Text()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

// RealIP records the client address for ClientIP. Without trustProxy it is the peer
// address (RemoteAddr). With trustProxy the service is taken to sit behind exactly one
// reverse proxy that appends the peer it saw to X-Forwarded-For, so the rightmost valid
// entry is used: entries to its left are whatever the client chose to send and can be forged.
func RealIP(trustProxy bool) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := remoteIP(r)
			if trustProxy {
				if fwd := forwardedIP(r.Header.Values("X-Forwarded-For")); fwd != "" {
					ip = fwd
				}
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientIPKey{}, ip)))
		})
	}
}

// ClientIP returns the client address of r as recorded by RealIP, or the host part of
// RemoteAddr when RealIP did not run.
func ClientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey{}).(string); ok && ip != "" {
		return ip
	}
	return remoteIP(r)
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		return addr.Unmap().String()
	}
	return host
}

func forwardedIP(values []string) string {
	for i := len(values) - 1; i >= 0; i-- {
		parts := strings.Split(values[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			if addr, err := netip.ParseAddr(strings.TrimSpace(parts[j])); err == nil {
				return addr.Unmap().String()
			}
		}
	}
	return ""
}

// responseRecorder remembers the status and size of a response for logs and metrics.
// Unwrap lets http.ResponseController reach the underlying writer.
type responseRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func newResponseRecorder(w http.ResponseWriter) *responseRecorder {
	return &responseRecorder{ResponseWriter: w, status: http.StatusOK}
}

func (rec *responseRecorder) WriteHeader(code int) {
	// 1xx responses are informational and may precede the real status.
	if !rec.wroteHeader && (code < 100 || code >= 200) {
		rec.status = code
		rec.wroteHeader = true
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *responseRecorder) Write(b []byte) (int, error) {
	if !rec.wroteHeader {
		rec.WriteHeader(http.StatusOK)
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

func (rec *responseRecorder) Flush() {
	if !rec.wroteHeader {
		rec.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(rec.ResponseWriter).Flush()
}

func (rec *responseRecorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// AccessLog logs one line per request at info level: method, path, status, bytes,
// duration, request id and client address. Only the path is logged, never the query
// string, which may carry secrets (a GET query's variables, a sign-in token).
func AccessLog(log *slog.Logger) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := newResponseRecorder(w)
			// Deferred so a request that ends in a panic (re-raised as http.ErrAbortHandler
			// by Recover) is still logged.
			defer func() {
				log.LogAttrs(r.Context(), slog.LevelInfo, "http request",
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.Int("status", rec.status),
					slog.Int64("bytes", rec.bytes),
					slog.Duration("duration", time.Since(start)),
					slog.String("request_id", RequestIDFromContext(r.Context())),
					slog.String("remote_ip", ClientIP(r)),
				)
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// Recover turns a panic in a handler into a 500 JSON answer that says only "internal error",
// and logs the panic once, at error level, with its stack and the request id. When the
// response had already started it cannot be changed, so the connection is aborted instead.
// http.ErrAbortHandler passes through untouched.
func Recover(log *slog.Logger) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := newResponseRecorder(w)
			defer func() {
				p := recover()
				if p == nil {
					return
				}
				if p == http.ErrAbortHandler { //nolint:errorlint // the sentinel is compared by identity, as net/http does
					panic(p)
				}
				id := RequestIDFromContext(r.Context())
				log.LogAttrs(r.Context(), slog.LevelError, "http handler panic",
					slog.String("request_id", id),
					slog.String("method", r.Method),
					slog.String("path", r.URL.Path),
					slog.String("panic", fmt.Sprint(p)),
					slog.String("stack", string(debug.Stack())),
				)
				if rec.wroteHeader {
					panic(http.ErrAbortHandler)
				}
				writeJSONError(w, http.StatusInternalServerError, "INTERNAL", "", "internal error", id)
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// BodyLimit refuses request bodies larger than maxBytes with 413. A declared
// Content-Length is checked up front; a body of unknown length (chunked) is read through
// http.MaxBytesReader into memory first, so the handler never sees a truncated body and
// the client always gets 413 rather than whatever the handler makes of a read error.
func BodyLimit(maxBytes int64) Middleware {
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
			body := http.MaxBytesReader(w, r.Body, maxBytes)
			if r.ContentLength >= 0 {
				r2 := *r
				r2.Body = body
				next.ServeHTTP(w, &r2)
				return
			}
			buf, err := io.ReadAll(body)
			if err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					tooLarge(w, r, maxBytes)
					return
				}
				writeJSONError(w, http.StatusBadRequest, "BAD_REQUEST", "", "could not read request body", RequestIDFromContext(r.Context()))
				return
			}
			r2 := *r
			r2.Body = io.NopCloser(bytes.NewReader(buf))
			r2.ContentLength = int64(len(buf))
			next.ServeHTTP(w, &r2)
		})
	}
}

func tooLarge(w http.ResponseWriter, r *http.Request, maxBytes int64) {
	// The rest of the body is not read: close the connection rather than drain it.
	w.Header().Set("Connection", "close")
	writeJSONError(w, http.StatusRequestEntityTooLarge, "BAD_REQUEST", "BODY_TOO_LARGE",
		"request body is larger than "+strconv.FormatInt(maxBytes, 10)+" bytes", RequestIDFromContext(r.Context()))
}

// DefaultContentSecurityPolicy is sent unless a handler sets its own: the API serves JSON,
// which needs nothing loaded and no framing.
const DefaultContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'"

// SecurityHeaders sets conservative response headers before the handler runs, so a handler
// may still replace them (e.g. GraphiQL sets a Content-Security-Policy that allows its
// scripts). Strict-Transport-Security is sent only when publicURL is https: on plain http
// it is ignored by browsers anyway, and on a development host it would pin https.
func SecurityHeaders(publicURL string) Middleware {
	hsts := false
	if u, err := url.Parse(publicURL); err == nil && strings.EqualFold(u.Scheme, "https") {
		hsts = true
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Content-Security-Policy", DefaultContentSecurityPolicy)
			if hsts {
				h.Set("Strict-Transport-Security", "max-age=31536000")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// CORS allows cross-origin calls from exactly the listed origins (scheme://host[:port],
// compared byte for byte; "*" is not special). Preflight requests are answered here:
// methods GET and POST, headers Authorization, Content-Type and X-Request-Id, no
// credentials (the API uses bearer tokens, not cookies). Requests from other origins get
// no CORS headers at all, and their preflights are refused with 403.
func CORS(allowed []string) Middleware {
	origins := make(map[string]bool, len(allowed))
	for _, o := range allowed {
		if o = strings.TrimSuffix(strings.TrimSpace(o), "/"); o != "" {
			origins[o] = true
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			if origin == "" {
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			h.Add("Vary", "Origin")
			ok := origins[origin]
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Add("Vary", "Access-Control-Request-Method")
				h.Add("Vary", "Access-Control-Request-Headers")
				if !ok {
					w.WriteHeader(http.StatusForbidden)
					return
				}
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Methods", "GET, POST")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			if ok {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Expose-Headers", RequestIDHeader)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Metrics counts requests (coalition_http_requests_total by method, route and status class)
// and times them (coalition_http_request_duration_seconds by method and route), registered
// on reg. The route label is the ServeMux pattern that matched (r.Pattern), so its values
// are bounded by the routes we declare; unmatched requests are "unmatched". ServeMux
// records the pattern on the *http.Request it is given, so Metrics must wrap the mux
// directly (be the innermost middleware). Calling Metrics twice with one registry reuses
// the collectors.
func Metrics(reg prometheus.Registerer) (Middleware, error) {
	requests, err := registerOrReuse(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "coalition_http_requests_total",
		Help: "HTTP requests served, by method, route pattern and status class.",
	}, []string{"method", "route", "status"}))
	if err != nil {
		return nil, err
	}
	durations, err := registerOrReuse(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "coalition_http_request_duration_seconds",
		Help:    "Time to serve an HTTP request, by method and route pattern.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route"}))
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			rec := newResponseRecorder(w)
			defer func() {
				route := r.Pattern
				if route == "" {
					route = "unmatched"
				}
				method := methodLabel(r.Method)
				requests.WithLabelValues(method, route, statusClass(rec.status)).Inc()
				durations.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
			}()
			next.ServeHTTP(rec, r)
		})
	}, nil
}

func registerOrReuse[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) {
			if existing, ok := already.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		var zero C
		return zero, fmt.Errorf("register http metrics: %w", err)
	}
	return c, nil
}

func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

func statusClass(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code/100) + "xx"
}

// writeJSONError answers with a GraphQL-shaped error body, so API clients can read every
// error the same way.
func writeJSONError(w http.ResponseWriter, status int, code, reason, message, requestID string) {
	ext := map[string]any{"code": code}
	if reason != "" {
		ext["reason"] = reason
	}
	if requestID != "" {
		ext["requestId"] = requestID
	}
	body, _ := json.Marshal(map[string]any{
		"errors": []map[string]any{{"message": message, "extensions": ext}},
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
