package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/gocart-coalition/coalition/internal/secret"
)

// The service's own pages that act on a POST (the sign-in page, the referee's upload page)
// check where the form comes from, and the sign-in page also that the form is the one it
// served to this browser. Without it, a page elsewhere (even a file:// page, whose origin
// is "null") could post its author's own sign-in link and sign the visitor's browser in as
// that author (login CSRF), so that what the visitor then types is the author's to read.
//
// The origin check (sameOrigin): when the browser sends Origin, it must be the public
// URL's origin, and "null" is refused; when it sends Sec-Fetch-Site, it must be
// same-origin or none (typed or bookmarked). Clients that send neither (command-line
// tools, old browsers) pass this check and meet the next.
//
// The binding (double submit, no server state): the GET sets a random cookie (HttpOnly,
// SameSite=Strict, Secure behind https) and puts in the form a token that is the
// HMAC-SHA256, keyed by the cookie, of the form's purpose and the hash of the link's
// secret. The POST must carry both and they must agree. A page elsewhere can neither read
// the cookie nor make the browser send it (SameSite=Strict leaves it off cross-site
// requests), so it cannot produce a matching pair; and a token fits one link only.

const (
	// formCookie names the cookie that keys the form tokens.
	formCookie = "coalition_form"
	// formTokenField names the hidden field that carries the form token.
	formTokenField = "form_token"
	// purposeSignIn binds a token to the sign-in form.
	purposeSignIn = "signin"
)

// publicOrigin is the origin (scheme://host[:port], default port left out) of rawURL.
func publicOrigin(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return ""
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6
	}
	if p := u.Port(); p != "" && !(scheme == "http" && p == "80") && !(scheme == "https" && p == "443") {
		host += ":" + p
	}
	return scheme + "://" + host
}

// sameOrigin reports whether a form POST may come from the service's own pages as far as
// the browser tells (see above).
func (p *pages) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		if o == "null" || publicOrigin(o) != publicOrigin(p.cfg.PublicURL) {
			return false
		}
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// formKey returns this browser's form cookie, setting a new one when it has none (or a
// malformed one).
func (p *pages) formKey(w http.ResponseWriter, r *http.Request) []byte {
	if c, err := r.Cookie(formCookie); err == nil {
		if k, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil && len(k) == 32 {
			return k
		}
	}
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	http.SetCookie(w, &http.Cookie{
		Name: formCookie, Value: base64.RawURLEncoding.EncodeToString(k), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: strings.HasPrefix(strings.ToLower(p.cfg.PublicURL), "https:"),
	})
	return k
}

// formToken is the token of a form with purpose for the link secret, keyed by key.
func formToken(key []byte, purpose, linkSecret string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose + "\x00" + secret.Hash(strings.TrimSpace(linkSecret))))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// issueFormToken returns the token the form served to this browser carries for linkSecret,
// setting the browser's form cookie when needed.
func (p *pages) issueFormToken(w http.ResponseWriter, r *http.Request, purpose, linkSecret string) string {
	return formToken(p.formKey(w, r), purpose, linkSecret)
}

// validFormToken reports whether got is the token of purpose and linkSecret for the form
// cookie the request carries.
func validFormToken(r *http.Request, purpose, linkSecret, got string) bool {
	c, err := r.Cookie(formCookie)
	if err != nil || got == "" {
		return false
	}
	k, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(k) != 32 {
		return false
	}
	return hmac.Equal([]byte(got), []byte(formToken(k, purpose, linkSecret)))
}
