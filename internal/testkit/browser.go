package testkit

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"testing"
)

// Browser is a web browser with its cookies, for the service's own pages.
type Browser struct {
	env    *Env
	client *http.Client
}

// Browser returns a new browser (an empty cookie jar) for e's server.
func (e *Env) Browser() *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{env: e, client: &http.Client{Jar: jar}}
}

var formTokenRE = regexp.MustCompile(`name="form_token" value="([^"]*)"`)

// SignIn opens the sign-in page of an emailed link as a person does: GET shows the page
// (and uses nothing up); POST opens it and then presses its button, carrying the form
// token the page gave this browser. It returns the status and the page of the last step.
func (b *Browser) SignIn(tb testing.TB, method, link string) (int, string) {
	tb.Helper()
	u, err := url.Parse(link)
	if err != nil {
		tb.Fatal(err)
	}
	token := u.Query().Get("token")
	status, page := b.do(tb, func() (*http.Response, error) {
		return b.client.Get(b.env.Server.URL + "/signin?token=" + url.QueryEscape(token))
	})
	if method == http.MethodGet {
		return status, page
	}
	m := formTokenRE.FindStringSubmatch(page)
	if m == nil {
		tb.Fatalf("no form token on the sign-in page:\n%s", page)
	}
	return b.do(tb, func() (*http.Response, error) {
		return b.client.PostForm(b.env.Server.URL+"/signin", url.Values{"token": {token}, "form_token": {m[1]}})
	})
}

func (b *Browser) do(tb testing.TB, send func() (*http.Response, error)) (int, string) {
	tb.Helper()
	resp, err := send()
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
