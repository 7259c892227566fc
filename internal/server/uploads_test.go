package server

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestStreamBodyLimit(t *testing.T) {
	const limit = 64 << 10
	var gotLen int
	var gotCL int64
	// answer is what the handler answers after reading: 422 like gqlgen on a read error,
	// or 413 like the referee page.
	answer := http.StatusUnprocessableEntity
	srv := serve(t, Chain(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotCL = r.ContentLength
		b, err := io.ReadAll(r.Body)
		gotLen = len(b)
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(answer)
			_, _ = io.WriteString(w, `{"errors":[{"message":"failed to parse part"}]}`)
			return
		}
		_, _ = io.WriteString(w, "read")
	}), RequestID, StreamBodyLimit(limit)))

	tests := []struct {
		name       string
		body       io.Reader
		answer     int
		wantStatus int
		wantBody   string
		// wantCL is the Content-Length the handler sees (-2: it does not run); wantLen how
		// much it reads (-1: whatever it read before the error).
		wantCL, wantLen int64
	}{
		{"small", strings.NewReader("hello"), 422, http.StatusOK, "read", 5, 5},
		{"exactly the limit", bytes.NewReader(make([]byte, limit)), 422, http.StatusOK, "read", limit, limit},
		{"exactly the limit chunked", chunked{bytes.NewReader(make([]byte, limit))}, 422, http.StatusOK, "read", -1, limit},
		{"declared too large", bytes.NewReader(make([]byte, limit+1)), 422, http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE", -2, -1},
		{"chunked too large: the handler's answer is replaced", chunked{bytes.NewReader(make([]byte, 2*limit))}, 422, http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE", -1, -1},
		{"chunked too large: the handler's own 413 stays", chunked{bytes.NewReader(make([]byte, 2*limit))}, 413, http.StatusRequestEntityTooLarge, "failed to parse part", -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotLen, gotCL, answer = -1, -2, tt.answer
			resp, body := do(t, newRequest(t, http.MethodPost, srv.URL, tt.body))
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
				t.Fatalf("HTTP %d %s, want %d with %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if gotCL != tt.wantCL {
				t.Errorf("handler saw Content-Length %d, want %d", gotCL, tt.wantCL)
			}
			if tt.wantLen >= 0 && int64(gotLen) != tt.wantLen {
				t.Errorf("handler read %d bytes, want %d", gotLen, tt.wantLen)
			}
			if resp.Header.Get(RequestIDHeader) == "" {
				t.Error("no request id on the answer")
			}
		})
	}
}

func TestIsUpload(t *testing.T) {
	for _, tt := range []struct {
		method, path, ctype string
		want                bool
	}{
		{"POST", "/graphql", "multipart/form-data; boundary=x", true},
		{"POST", "/referee", "Multipart/Form-Data; boundary=x", true},
		{"POST", "/graphql", "application/json", false},
		{"POST", "/signin", "multipart/form-data; boundary=x", false},
		{"POST", "/graphql/", "multipart/form-data; boundary=x", false},
		{"GET", "/graphql", "multipart/form-data; boundary=x", false},
		{"POST", "/graphql", "multipart/form-data; boundary", false},
	} {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		r.Header.Set("Content-Type", tt.ctype)
		if got := isUpload(r); got != tt.want {
			t.Errorf("%s %s %q: %v, want %v", tt.method, tt.path, tt.ctype, got, tt.want)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"cv.pdf", `attachment; filename="cv.pdf"; filename*=UTF-8''cv.pdf`},
		{"CV final.PDF", `attachment; filename="CV final.PDF"; filename*=UTF-8''CV%20final.PDF`},
		{"Životopis.pdf", `attachment; filename="_ivotopis.pdf"; filename*=UTF-8''%C5%BDivotopis.pdf`},
		{`a"b\c;d%e.pdf`, `attachment; filename="a_b_c_d_e.pdf"; filename*=UTF-8''a%22b%5Cc%3Bd%25e.pdf`},
		{"line\r\nbreak.pdf", `attachment; filename="line__break.pdf"; filename*=UTF-8''line%0D%0Abreak.pdf`},
		{"", `attachment; filename="document.pdf"; filename*=UTF-8''document.pdf`},
		{"bad\xffutf8.pdf", `attachment; filename="document.pdf"; filename*=UTF-8''document.pdf`},
	} {
		if got := contentDisposition(tt.name); got != tt.want {
			t.Errorf("contentDisposition(%q) = %s, want %s", tt.name, got, tt.want)
		}
	}
}
