package server_test

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/ent/loginlink"
	"github.com/gocart-coalition/coalition/internal/config"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

func fetch(t *testing.T, req *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestSignInPageRedeemsOnlyOnPost(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		e.NewUser("ana.ionescu@example.ro", "Ana Ionescu", viewer.RoleTrainee)
		link, err := e.App.Auth.IssueLoginLink(e.System(), e.DB.Client, "ana.ionescu@example.ro")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(link)
		token := u.Query().Get("token")

		// GET (what a mail scanner does) shows a button and uses nothing up.
		for range 3 {
			req, _ := http.NewRequest(http.MethodGet, link, nil)
			code, h, body := fetch(t, req)
			if code != 200 || !strings.Contains(body, `method="post"`) || !strings.Contains(body, token) {
				t.Fatalf("GET sign-in page: %d\n%s", code, body)
			}
			if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("CSP %q", csp)
			}
		}
		unused, err := e.DB.Client.LoginLink.Query().Where(loginlink.UsedAtIsNil(), loginlink.Email("ana.ionescu@example.ro")).Count(e.System())
		if err != nil || unused != 1 { // NewUser's own link was used; this one must still be unused
			t.Fatalf("unused links = %d (%v), want 1 after GETs", unused, err)
		}

		browser := openSignIn(t, link)
		post := func() (int, string) {
			return browser.post(t, e.Server.URL, url.Values{"token": {token}, "form_token": {browser.formToken}}, nil)
		}
		code, body := post()
		if code != 200 || !strings.Contains(body, "You are signed in") || !strings.Contains(body, "<code>cs_") {
			t.Fatalf("POST sign-in: %d\n%s", code, body)
		}
		// The session token on the page works.
		sess := body[strings.Index(body, "<code>cs_")+len("<code>"):]
		sess = sess[:strings.Index(sess, "</code>")]
		var me struct{ Me struct{ Email string } }
		e.AsToken(sess).MustDo(`{ me { email } }`, nil, &me)
		if me.Me.Email != "ana.ionescu@example.ro" {
			t.Errorf("me = %q", me.Me.Email)
		}
		// A second POST with the same link is refused with a readable message.
		if code, body := post(); code != http.StatusBadRequest || !strings.Contains(body, "already been used") {
			t.Errorf("second POST: %d\n%s", code, body)
		}
		req, _ := http.NewRequest(http.MethodGet, e.Server.URL+"/signin", nil)
		if code, _, body := fetch(t, req); code != http.StatusBadRequest || !strings.Contains(body, "needs the link") {
			t.Errorf("GET without token: %d\n%s", code, body)
		}
	})
}

// signInBrowser is a browser that opened a sign-in page: its cookies and the page's form token.
type signInBrowser struct {
	client    *http.Client
	formToken string
}

var formTokenRE = regexp.MustCompile(`name="form_token" value="([^"]*)"`)

// openSignIn opens the sign-in page of link in a new browser (with a cookie jar).
func openSignIn(t *testing.T, link string) *signInBrowser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &signInBrowser{client: &http.Client{Jar: jar}}
	resp, err := b.client.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	m := formTokenRE.FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil || len(m[1]) == 0 {
		t.Fatalf("GET sign-in page: %d, no form token\n%s", resp.StatusCode, page)
	}
	b.formToken = string(m[1])
	return b
}

// post submits the sign-in form with form values and extra headers.
func (b *signInBrowser) post(t *testing.T, base string, form url.Values, header http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(page)
}

// TestSignInFormRefusesOtherOriginsAndUnboundPosts: the sign-in form is refused (403, the
// link left unused) when posted from another origin (Origin of another site or "null", as
// a file:// page sends; Sec-Fetch-Site cross-site), without the form token its page set,
// with a token of another browser or another link; it is accepted from the page itself.
func TestSignInFormRefusesOtherOriginsAndUnboundPosts(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		e.NewUser("ana.ionescu@example.ro", "Ana Ionescu", viewer.RoleTrainee)
		issue := func() (string, string) {
			link, err := e.App.Auth.IssueLoginLink(e.System(), e.DB.Client, "ana.ionescu@example.ro")
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(link)
			return link, u.Query().Get("token")
		}
		link, token := issue()
		_, otherToken := issue()
		browser := openSignIn(t, link)
		other := openSignIn(t, link) // another browser, its own cookie
		unused := func() int {
			n, err := e.DB.Client.LoginLink.Query().Where(loginlink.UsedAtIsNil(), loginlink.Email("ana.ionescu@example.ro")).Count(e.System())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		good := url.Values{"token": {token}, "form_token": {browser.formToken}}
		for _, c := range []struct {
			name   string
			b      *signInBrowser
			form   url.Values
			header http.Header
		}{
			{"Origin null (a file:// page)", browser, good, http.Header{"Origin": {"null"}}},
			{"Origin of another site", browser, good, http.Header{"Origin": {"https://attacker.example"}}},
			{"cross-site fetch", browser, good, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
			{"same-site but other origin", browser, good, http.Header{"Sec-Fetch-Site": {"same-site"}}},
			{"no form token", browser, url.Values{"token": {token}}, nil},
			{"no cookie", &signInBrowser{client: &http.Client{}}, good, nil},
			{"another browser's token", other, good, nil},
			{"the token of another link", browser, url.Values{"token": {otherToken}, "form_token": {browser.formToken}}, nil},
		} {
			code, body := c.b.post(t, e.Server.URL, c.form, c.header)
			if code != http.StatusForbidden || strings.Contains(body, "<code>cs_") {
				t.Errorf("%s: HTTP %d, want 403\n%s", c.name, code, body)
			}
		}
		if n := unused(); n != 2 {
			t.Fatalf("unused links after the refused posts: %d, want 2", n)
		}
		// The page's own form, with the headers a browser sends from it.
		code, body := browser.post(t, e.Server.URL, good, http.Header{"Origin": {e.Server.URL}, "Sec-Fetch-Site": {"same-origin"}})
		if code != http.StatusOK || !strings.Contains(body, "<code>cs_") {
			t.Fatalf("same-origin post: HTTP %d\n%s", code, body)
		}
	})
}

func TestGraphiQLOnlyWhenEnabled(t *testing.T) {
	off := testkit.NewEnv(t, testkit.Dialects()[0])
	req, _ := http.NewRequest(http.MethodGet, off.Server.URL+"/graphiql", nil)
	if code, _, _ := fetch(t, req); code != http.StatusNotFound {
		t.Errorf("GraphiQL disabled: %d, want 404", code)
	}
	if r := off.Anonymous().Do(`{ __schema { types { name } } }`, nil); r.Code() != "BAD_REQUEST" {
		t.Errorf("introspection disabled: %s", r.Body)
	}

	on := testkit.NewEnv(t, testkit.Dialects()[0], testkit.WithConfig(func(c *config.Config) { c.GraphiQL, c.Introspection = true, true }))
	req, _ = http.NewRequest(http.MethodGet, on.Server.URL+"/graphiql", nil)
	code, h, body := fetch(t, req)
	if code != 200 || !strings.Contains(h.Get("Content-Security-Policy"), "connect-src 'self'") {
		t.Errorf("GraphiQL enabled: %d %v", code, h)
	}
	// Everything the page loads is same-origin (no CDN), and its CSP allows nothing else.
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self';", "style-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "http") || strings.Contains(csp, "unpkg") || strings.Contains(csp, "nonce") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP allows more than this origin: %q", csp)
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(body, -1)
	if len(refs) != 6 || strings.Contains(body, "<script>") || strings.Contains(body, "<style") {
		t.Errorf("GraphiQL page: %d references or inline code:\n%s", len(refs), body)
	}
	types := map[string]string{}
	for _, ref := range refs {
		u := html.UnescapeString(ref[1])
		if !strings.HasPrefix(u, "/graphiql/assets/") || !strings.Contains(u, "?v=") {
			t.Errorf("GraphiQL page references %q, not a same-origin asset", u)
			continue
		}
		req, _ := http.NewRequest(http.MethodGet, on.Server.URL+u, nil)
		code, ah, asset := fetch(t, req)
		if code != 200 || len(asset) == 0 || !strings.Contains(ah.Get("Cache-Control"), "max-age=31536000") || ah.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d %v", u, code, ah)
		}
		types[u[len("/graphiql/assets/"):strings.Index(u, "?")]] = ah.Get("Content-Type")
	}
	for name, want := range map[string]string{"react.production.min.js": "text/javascript", "react-dom.production.min.js": "text/javascript",
		"graphiql.min.js": "text/javascript", "init.js": "text/javascript", "graphiql.min.css": "text/css", "page.css": "text/css"} {
		if !strings.HasPrefix(types[name], want) {
			t.Errorf("%s: Content-Type %q, want %s", name, types[name], want)
		}
	}
	req, _ = http.NewRequest(http.MethodGet, on.Server.URL+"/graphiql/assets/SHA256SUMS", nil)
	if code, _, _ := fetch(t, req); code != http.StatusNotFound {
		t.Errorf("the manifest is served: %d", code)
	}
	req, _ = http.NewRequest(http.MethodGet, off.Server.URL+"/graphiql/assets/init.js", nil)
	if code, _, _ := fetch(t, req); code != http.StatusNotFound {
		t.Errorf("assets served with GraphiQL off: %d", code)
	}
	if r := on.Anonymous().Do(`{ __schema { queryType { name } } }`, nil); len(r.Errors) != 0 {
		t.Errorf("introspection enabled: %s", r.Body)
	}
}

func TestHomePage(t *testing.T) {
	for _, graphiql := range []bool{false, true} {
		e := testkit.NewEnv(t, testkit.Dialects()[0], testkit.WithConfig(func(c *config.Config) {
			c.GraphiQL, c.Introspection, c.ContactEmail = graphiql, graphiql, "help@coalition.test"
		}))
		req, _ := http.NewRequest(http.MethodGet, e.Server.URL+"/", nil)
		code, h, body := fetch(t, req)
		if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Fatalf("GET /: %d %v", code, h)
		}
		for _, want := range []string{"observership programme", "coordination API", `href="/signin"`, `href="/healthz"`,
			"requestLoginLink", e.Server.URL + "/graphql", "mailto:help@coalition.test"} {
			if !strings.Contains(body, want) {
				t.Errorf("home page lacks %q:\n%s", want, body)
			}
		}
		if got := strings.Contains(body, `href="/graphiql"`); got != graphiql {
			t.Errorf("GraphiQL enabled %v, link on the home page %v", graphiql, got)
		}
		// Readable without JavaScript; the same headers as the other pages.
		if strings.Contains(body, "<script") {
			t.Errorf("home page has a script")
		}
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
			t.Errorf("CSP %q", csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("security headers %v", h)
		}
		// Only the root: other unknown paths still answer 404.
		req, _ = http.NewRequest(http.MethodGet, e.Server.URL+"/nothing-here", nil)
		if code, _, _ := fetch(t, req); code != http.StatusNotFound {
			t.Errorf("GET /nothing-here: %d", code)
		}
	}
}

// TestRefereeFormRefusesOtherOrigins: the referee's upload form posted from another origin
// is refused (403) before its body is read.
func TestRefereeFormRefusesOtherOrigins(t *testing.T) {
	e := testkit.NewEnv(t, testkit.Dialects()[0])
	for _, h := range []http.Header{
		{"Origin": {"null"}},
		{"Origin": {"https://attacker.example"}},
		{"Sec-Fetch-Site": {"cross-site"}},
	} {
		req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/referee", strings.NewReader("--x\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nrl_x\r\n--x--\r\n"))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		for k, v := range h {
			req.Header[k] = v
		}
		if code, _, body := fetch(t, req); code != http.StatusForbidden || !strings.Contains(body, "another site") {
			t.Errorf("%v: HTTP %d\n%s", h, code, body)
		}
	}
}
