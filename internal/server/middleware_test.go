package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// logSink collects JSON log lines written by slog from any goroutine.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// records returns the logged records, decoded.
func (s *logSink) records(tb testing.TB) []map[string]any {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			tb.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// withMessage returns the records whose msg is msg.
func (s *logSink) withMessage(tb testing.TB, msg string) []map[string]any {
	tb.Helper()
	var out []map[string]any
	for _, r := range s.records(tb) {
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// newTestLogger returns a debug-level JSON logger writing to a fresh sink.
func newTestLogger() (*slog.Logger, *logSink) {
	sink := &logSink{}
	return slog.New(slog.NewJSONHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug})), sink
}

// serve starts h on a loopback server for the test.
func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, body
}

func newRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, "ok")
})

func TestChainOrder(t *testing.T) {
	var order []string
	mark := func(name string) Middleware {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				order = append(order, name)
				next.ServeHTTP(w, r)
			})
		}
	}
	h := Chain(okHandler, mark("a"), mark("b"), mark("c"))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if got, want := strings.Join(order, ","), "a,b,c"; got != want {
		t.Errorf("order = %s, want %s", got, want)
	}
}

func TestRequestID(t *testing.T) {
	var seen string
	srv := serve(t, RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = RequestIDFromContext(r.Context())
	})))
	tests := []struct {
		name     string
		incoming string
		keep     bool
	}{
		{"none", "", false},
		{"sane", "abc-123_X.y", true},
		{"max length", strings.Repeat("a", 64), true},
		{"too long", strings.Repeat("a", 65), false},
		{"space", "abc 123", false},
		{"header injection", "abc\", \"x", false},
		{"unicode", "réquest", false},
		{"slash", "a/b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = ""
			req := newRequest(t, http.MethodGet, srv.URL, nil)
			if tt.incoming != "" {
				req.Header.Set(RequestIDHeader, tt.incoming)
			}
			resp, _ := do(t, req)
			echoed := resp.Header.Get(RequestIDHeader)
			if echoed != seen {
				t.Errorf("response header %q, context %q: want the same", echoed, seen)
			}
			if tt.keep && echoed != tt.incoming {
				t.Errorf("id = %q, want the incoming %q kept", echoed, tt.incoming)
			}
			if !tt.keep && (echoed == tt.incoming || !validRequestID(echoed)) {
				t.Errorf("id = %q, want a fresh sane id replacing %q", echoed, tt.incoming)
			}
		})
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	srv := serve(t, RequestID(okHandler))
	seen := map[string]bool{}
	for range 50 {
		resp, _ := do(t, newRequest(t, http.MethodGet, srv.URL, nil))
		id := resp.Header.Get(RequestIDHeader)
		if seen[id] {
			t.Fatalf("request id %q repeated", id)
		}
		seen[id] = true
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name       string
		trustProxy bool
		xff        []string
		want       string
	}{
		{"peer without proxy", false, nil, "127.0.0.1"},
		{"forwarded header ignored without trust", false, []string{"203.0.113.9"}, "127.0.0.1"},
		{"trusted proxy", true, []string{"203.0.113.9"}, "203.0.113.9"},
		{"rightmost entry wins", true, []string{"198.51.100.1, 203.0.113.9"}, "203.0.113.9"},
		{"last header wins", true, []string{"198.51.100.1", "203.0.113.9"}, "203.0.113.9"},
		{"garbage skipped", true, []string{"203.0.113.9, not-an-ip"}, "203.0.113.9"},
		{"only garbage", true, []string{"nonsense"}, "127.0.0.1"},
		{"ipv6", true, []string{"2001:db8::1"}, "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			srv := serve(t, RealIP(tt.trustProxy)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = ClientIP(r)
			})))
			req := newRequest(t, http.MethodGet, srv.URL, nil)
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			do(t, req)
			if got != tt.want {
				t.Errorf("ClientIP = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("without RealIP", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "[::ffff:192.0.2.7]:5555"
		if got, want := ClientIP(r), "192.0.2.7"; got != want {
			t.Errorf("ClientIP = %q, want %q", got, want)
		}
	})
}

func TestAccessLog(t *testing.T) {
	log, sink := newTestLogger()
	srv := serve(t, Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "short and stout")
	}), RequestID, RealIP(false), AccessLog(log)))

	req := newRequest(t, http.MethodPost, srv.URL+"/graphql?token=s3cret", strings.NewReader("{}"))
	req.Header.Set(RequestIDHeader, "req-1")
	do(t, req)

	recs := sink.withMessage(t, "http request")
	if len(recs) != 1 {
		t.Fatalf("got %d access log records, want 1: %s", len(recs), sink)
	}
	rec := recs[0]
	want := map[string]any{
		"method": "POST", "path": "/graphql", "status": float64(http.StatusTeapot),
		"bytes": float64(len("short and stout")), "request_id": "req-1", "remote_ip": "127.0.0.1",
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v", k, rec[k], v)
		}
	}
	if _, ok := rec["duration"]; !ok {
		t.Error("no duration logged")
	}
	if strings.Contains(sink.String(), "s3cret") {
		t.Errorf("query string leaked into the log: %s", sink)
	}
}

func TestRecover(t *testing.T) {
	log, sink := newTestLogger()
	srv := serve(t, Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("secret detail: password=hunter2")
	}), RequestID, AccessLog(log), Recover(log)))

	req := newRequest(t, http.MethodGet, srv.URL, nil)
	req.Header.Set(RequestIDHeader, "req-panic")
	resp, body := do(t, req)

	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", resp.StatusCode)
	}
	if strings.Contains(string(body), "hunter2") || strings.Contains(string(body), "secret") {
		t.Errorf("panic text reached the client: %s", body)
	}
	var got struct {
		Errors []struct {
			Message    string
			Extensions map[string]any
		}
	}
	if err := json.Unmarshal(body, &got); err != nil || len(got.Errors) != 1 {
		t.Fatalf("body %s: want one JSON error (%v)", body, err)
	}
	if got.Errors[0].Extensions["code"] != "INTERNAL" || got.Errors[0].Extensions["requestId"] != "req-panic" {
		t.Errorf("error = %+v, want code INTERNAL and the request id", got.Errors[0])
	}
	panics := sink.withMessage(t, "http handler panic")
	if len(panics) != 1 {
		t.Fatalf("panic logged %d times, want once: %s", len(panics), sink)
	}
	if panics[0]["level"] != "ERROR" || panics[0]["request_id"] != "req-panic" ||
		!strings.Contains(panics[0]["stack"].(string), "middleware_test.go") {
		t.Errorf("panic record = %v, want error level, request id and a stack", panics[0])
	}
	if access := sink.withMessage(t, "http request"); len(access) != 1 || access[0]["status"] != float64(500) {
		t.Errorf("access log = %v, want one record with status 500", access)
	}
}

func TestRecoverAfterResponseStarted(t *testing.T) {
	log, sink := newTestLogger()
	srv := serve(t, Recover(log)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "partial")
		http.NewResponseController(w).Flush()
		panic("late")
	})))
	resp, err := http.Get(srv.URL)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Error("response completed normally, want the connection aborted")
	}
	if n := len(sink.withMessage(t, "http handler panic")); n != 1 {
		t.Errorf("panic logged %d times, want once", n)
	}
}

// chunked hides a reader's length so the client sends it chunked.
type chunked struct{ io.Reader }

func TestBodyLimit(t *testing.T) {
	log, sink := newTestLogger()
	var gotLen int
	srv := serve(t, Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("handler read: %v", err)
		}
		gotLen = len(b)
	}), RequestID, Recover(log), BodyLimit(DefaultMaxBodyBytes)))

	tests := []struct {
		name       string
		body       io.Reader
		wantStatus int
		wantLen    int
	}{
		{"small", strings.NewReader(`{"query":"{ me { id } }"}`), http.StatusOK, 25},
		{"exactly 1 MiB", bytes.NewReader(make([]byte, DefaultMaxBodyBytes)), http.StatusOK, DefaultMaxBodyBytes},
		{"2 MiB declared", bytes.NewReader(make([]byte, 2<<20)), http.StatusRequestEntityTooLarge, -1},
		{"2 MiB chunked", chunked{bytes.NewReader(make([]byte, 2<<20))}, http.StatusRequestEntityTooLarge, -1},
		{"small chunked", chunked{strings.NewReader("hello")}, http.StatusOK, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotLen = -1
			resp, body := do(t, newRequest(t, http.MethodPost, srv.URL, tt.body))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%s)", resp.StatusCode, tt.wantStatus, body)
			}
			if gotLen != tt.wantLen {
				t.Errorf("handler read %d bytes, want %d", gotLen, tt.wantLen)
			}
			if tt.wantStatus == http.StatusRequestEntityTooLarge && !strings.Contains(string(body), "BODY_TOO_LARGE") {
				t.Errorf("body = %s, want reason BODY_TOO_LARGE", body)
			}
		})
	}
	if n := len(sink.withMessage(t, "http handler panic")); n != 0 {
		t.Errorf("%d panics logged, want none: %s", n, sink)
	}
}

func TestSecurityHeaders(t *testing.T) {
	tests := []struct {
		name      string
		publicURL string
		override  bool
		wantHSTS  bool
		wantCSP   string
	}{
		{"https", "https://coalition.example", false, true, DefaultContentSecurityPolicy},
		{"http", "http://localhost:8080", false, false, DefaultContentSecurityPolicy},
		{"unset", "", false, false, DefaultContentSecurityPolicy},
		{"handler overrides csp", "https://coalition.example", true, true, "default-src 'self'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serve(t, SecurityHeaders(tt.publicURL)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.override {
					w.Header().Set("Content-Security-Policy", "default-src 'self'")
				}
			})))
			resp, _ := do(t, newRequest(t, http.MethodGet, srv.URL, nil))
			for h, want := range map[string]string{
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "same-origin",
				"X-Frame-Options":         "DENY",
				"Content-Security-Policy": tt.wantCSP,
			} {
				if got := resp.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			if got := resp.Header.Get("Strict-Transport-Security"); (got != "") != tt.wantHSTS {
				t.Errorf("Strict-Transport-Security = %q, want present: %v", got, tt.wantHSTS)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	var reached bool
	srv := serve(t, CORS([]string{"https://app.example", "http://localhost:5173/"})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = true
	})))
	tests := []struct {
		name        string
		method      string
		origin      string
		preflight   bool
		wantStatus  int
		wantAllowed bool
		wantReached bool
	}{
		{"allowed origin", http.MethodPost, "https://app.example", false, http.StatusOK, true, true},
		{"allowed origin with trailing slash in config", http.MethodGet, "http://localhost:5173", false, http.StatusOK, true, true},
		{"unknown origin", http.MethodPost, "https://evil.example", false, http.StatusOK, false, true},
		{"prefix is not a match", http.MethodPost, "https://app.example.evil.example", false, http.StatusOK, false, true},
		{"no origin", http.MethodPost, "", false, http.StatusOK, false, true},
		{"preflight allowed", http.MethodOptions, "https://app.example", true, http.StatusNoContent, true, false},
		{"preflight unknown", http.MethodOptions, "https://evil.example", true, http.StatusForbidden, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reached = false
			req := newRequest(t, tt.method, srv.URL, nil)
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.preflight {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
			}
			resp, _ := do(t, req)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if reached != tt.wantReached {
				t.Errorf("handler reached = %v, want %v", reached, tt.wantReached)
			}
			acao := resp.Header.Get("Access-Control-Allow-Origin")
			if tt.wantAllowed && acao != tt.origin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", acao, tt.origin)
			}
			if !tt.wantAllowed {
				for h := range resp.Header {
					if strings.HasPrefix(h, "Access-Control-") {
						t.Errorf("unknown origin got %s: %q", h, resp.Header.Get(h))
					}
				}
			}
			if resp.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("credentials allowed, want never")
			}
			if tt.preflight && tt.wantAllowed {
				if got := resp.Header.Get("Access-Control-Allow-Methods"); got != "GET, POST" {
					t.Errorf("Allow-Methods = %q", got)
				}
				if got := resp.Header.Get("Access-Control-Allow-Headers"); got != "Authorization, Content-Type, X-Request-Id" {
					t.Errorf("Allow-Headers = %q", got)
				}
			}
			if tt.origin != "" && !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Origin") {
				t.Error("no Vary: Origin")
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics, err := Metrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Metrics(reg); err != nil {
		t.Fatalf("second Metrics on one registry: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	srv := serve(t, Chain(mux, RequestID, metrics))

	for _, p := range []string{"/things/1", "/things/2", "/things/3", "/nope"} {
		do(t, newRequest(t, http.MethodGet, srv.URL+p, nil))
	}
	do(t, newRequest(t, http.MethodPost, srv.URL+"/fail", nil))

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]float64{}
	var observed uint64
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch mf.GetName() {
			case "coalition_http_requests_total":
				counts[labels["method"]+" "+labels["route"]+" "+labels["status"]] = m.GetCounter().GetValue()
			case "coalition_http_request_duration_seconds":
				observed += m.GetHistogram().GetSampleCount()
			}
		}
	}
	want := map[string]float64{
		"GET GET /things/{id} 2xx": 3,
		"GET unmatched 4xx":        1,
		"POST POST /fail 5xx":      1,
	}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("requests_total{%s} = %v, want %v (all: %v)", k, counts[k], v, counts)
		}
	}
	if len(counts) != len(want) {
		t.Errorf("series = %v, want exactly %v", counts, want)
	}
	if observed != 5 {
		t.Errorf("duration samples = %d, want 5", observed)
	}
}
