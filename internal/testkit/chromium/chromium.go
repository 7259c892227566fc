package chromium

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Marker is what Open writes to the page's console after the page has loaded; reading the
// console up to it is how Open knows it has every message the load caused (events arrive
// in order on one connection), without waiting for a time.
const marker = "coalition-test:end-of-load"

// Browser is one headless Chromium process for a test.
type Browser struct {
	tb  testing.TB
	ctx context.Context
}

// Path is the Chromium executable: $COALITION_CHROMIUM, else `chromium` on PATH (Debian's
// package; .ci/run installs it).
func Path() (string, error) {
	if p := os.Getenv("COALITION_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium is not installed: apt-get install chromium (or set COALITION_CHROMIUM to its path)")
}

// Start launches headless Chromium for tb, closed when tb ends. A machine without
// Chromium fails the test: the browser tests are part of the suite, not optional.
func Start(tb testing.TB) *Browser {
	tb.Helper()
	path, err := Path()
	if err != nil {
		tb.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI and the developers' machines run the tests as root
		chromedp.DisableGPU,
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1024, 768),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	tb.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser; it must not carry a timeout (that would stop it).
	if err := chromedp.Do(ctx); err != nil {
		tb.Fatalf("start chromium (%s): %v", path, err)
	}
	return &Browser{tb: tb, ctx: ctx}
}

// Page is one page loaded in its own tab.
type Page struct {
	tb  testing.TB
	ctx context.Context
	// URL is the address loaded; Status its HTTP status.
	URL    string
	Status int64
	// Console is every console message, uncaught exception and browser log entry (failed
	// loads, Content-Security-Policy violations) of the load.
	Console []chromedp.ConsoleMessage
}

// Width and height of the window of a page opened with Phone.
const (
	phoneWidth  = 390
	phoneHeight = 844
)

// Options of Open.
type Options struct {
	// Phone emulates a phone's screen (390 × 844 CSS pixels, touch, mobile viewport).
	Phone bool
	// Print renders the page with its print stylesheet (media type print).
	Print bool
}

// Open loads url in a new tab and waits for its load event and its console messages.
func (b *Browser) Open(url string, o Options) *Page {
	b.tb.Helper()
	tab, cancel := chromedp.NewContext(b.ctx)
	b.tb.Cleanup(cancel)
	ctx, stop := context.WithTimeout(tab, 60*time.Second)
	b.tb.Cleanup(stop)
	// Subscribe before anything happens in the tab (Console starts the tab).
	messages := chromedp.Console(ctx)
	p := &Page{tb: b.tb, ctx: ctx, URL: url}
	var steps []chromedp.Action[chromedp.Void]
	if o.Phone {
		steps = append(steps, chromedp.EmulateViewport(phoneWidth, phoneHeight, chromedp.EmulateMobile, chromedp.EmulateTouch))
	}
	if o.Print {
		steps = append(steps, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
			return err
		}))
	}
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.tb.Fatalf("chromium: %v", err)
	}
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		b.tb.Fatalf("chromium: load %s: %v", url, err)
	}
	p.Status = resp.Status
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("console.debug(%q)", marker))); err != nil {
		b.tb.Fatalf("chromium: %v", err)
	}
	for m, err := range messages {
		if err != nil {
			b.tb.Fatalf("chromium: reading the console of %s: %v", url, err)
		}
		if m.Text == marker {
			break
		}
		p.Console = append(p.Console, m)
	}
	return p
}

// Errors are the console messages of type error or exception, and warnings.
func (p *Page) Errors() []string {
	var out []string
	for _, m := range p.Console {
		switch m.Type {
		case chromedp.ConsoleError, chromedp.ConsoleException, chromedp.ConsoleWarning:
			s := m.String()
			if m.URL != "" {
				s += " (" + m.URL + ")"
			}
			out = append(out, s)
		}
	}
	return out
}

// Eval evaluates a JavaScript expression in the page (DevTools evaluation, which the page's
// Content-Security-Policy does not restrict) and decodes its JSON value into T.
func Eval[T any](p *Page, expr string) T {
	p.tb.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.tb.Fatalf("chromium: evaluate %s on %s: %v", expr, p.URL, err)
	}
	return v
}

// Text is the rendered text of the page (innerText of the body: what a reader sees).
func (p *Page) Text() string { return Eval[string](p, "document.body.innerText") }

// Title is the document's title.
func (p *Page) Title() string { return Eval[string](p, "document.title") }

// Screenshot writes a PNG of the whole page to the artifacts directory (ArtifactsDir) and
// returns its path.
func (p *Page) Screenshot(name string) string {
	p.tb.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.tb.Fatalf("chromium: screenshot of %s: %v", p.URL, err)
	}
	dir := ArtifactsDir(p.tb)
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.tb.Fatal(err)
	}
	p.tb.Logf("screenshot of %s: %s", p.URL, path)
	return path
}

// ArtifactsDir is where tests write files for people to look at: $COALITION_TEST_ARTIFACTS,
// else test-artifacts/ at the module's root (git-ignored).
func ArtifactsDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("COALITION_TEST_ARTIFACTS")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			tb.Fatal(err)
		}
		root := wd
		for {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(root)
			if parent == root {
				root = wd
				break
			}
			root = parent
		}
		dir = filepath.Join(root, "test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// SafeName turns a test name into a file name.
func SafeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}
