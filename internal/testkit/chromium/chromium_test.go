package chromium_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/internal/testkit/chromium"
)

// TestConsoleCatchesWhatBreaks: the harness reports a Content-Security-Policy violation,
// a resource that does not load and an uncaught exception, and nothing for a clean page,
// so a browser test that finds no console error has looked.
func TestConsoleCatchesWhatBreaks(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/clean":
			_, _ = w.Write([]byte(`<!doctype html><title>Clean</title><p>Hello</p>`))
		case "/csp":
			w.Header().Set("Content-Security-Policy", "default-src 'none'")
			_, _ = w.Write([]byte(`<!doctype html><title>CSP</title><script>window.ran = true</script><p>Hello</p>`))
		case "/missing":
			_, _ = w.Write([]byte(`<!doctype html><title>Missing</title><img src="/nothing.png" alt=""><p>Hello</p>`))
		case "/throws":
			_, _ = w.Write([]byte(`<!doctype html><title>Throws</title><script>throw new Error("boom")</script>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	b := chromium.Start(t)

	clean := b.Open(srv.URL+"/clean", chromium.Options{})
	if errs := clean.Errors(); len(errs) != 0 || clean.Title() != "Clean" || clean.Text() != "Hello" {
		t.Errorf("clean page: %v %q %q", errs, clean.Title(), clean.Text())
	}
	for path, want := range map[string]string{"/csp": "Content Security Policy", "/missing": "404", "/throws": "boom"} {
		p := b.Open(srv.URL+path, chromium.Options{})
		if errs := p.Errors(); len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), want) {
			t.Errorf("%s: console errors %q, want one mentioning %q", path, errs, want)
		}
	}
	if ran := chromium.Eval[bool](b.Open(srv.URL+"/csp", chromium.Options{}), `window.ran === true`); ran {
		t.Error("the script the policy forbids ran")
	}
}
