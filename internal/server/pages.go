package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/auth"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/templates"
)

// pages renders the service's own minimal web pages: the home page, the sign-in page that
// emailed links open (it redeems only on POST, so mail scanners that fetch links cannot use
// them up) and GraphiQL.
type pages struct {
	cfg    Config
	tmpl   *template.Template
	assets map[string]asset
	public map[string]asset
}

func newPages(cfg Config) (*pages, error) {
	public, err := publicAssets()
	if err != nil {
		return nil, fmt.Errorf("public assets: %w", err)
	}
	t, err := template.New("web").Funcs(assetFuncs(public)).ParseFS(templates.FS, "web/*.html.tmpl")
	if err != nil {
		return nil, err
	}
	assets, err := graphiqlAssets()
	if err != nil {
		return nil, fmt.Errorf("graphiql assets: %w", err)
	}
	return &pages{cfg: cfg, tmpl: t, assets: assets, public: public}, nil
}

func nonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}

type signinPage struct {
	SiteName, Nonce, Action, Token, Error string
	// FormToken binds the form to this page and browser (formguard.go).
	FormToken                            string
	Done, GraphiQL                       bool
	Name, Email, ExpiresAt, GraphiQLPath string
	// Intent says what the button does besides signing in (GET); Message what it did (POST).
	Intent, Message string
}

func (p *pages) render(w http.ResponseWriter, status int, name, csp string, data any) {
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = p.tmpl.ExecuteTemplate(w, name, data)
}

// signinCSP is the policy of the pages with a form (sign-in, subscription, referee): the
// shared stylesheet and icon, the page's own script element (the sign-in page stores the
// token for GraphiQL), and forms posted to this origin only.
func signinCSP(n string) string {
	return "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'nonce-" + n + "'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
}

// homePage is the data of the home page.
type homePage struct {
	SiteName, ContactEmail                          string
	GraphQLPath, GraphQLURL, SignInPath, HealthPath string
	GraphiQL                                        bool
	GraphiQLPath                                    string
}

// home is the service's root: what it is, how to sign in, and its public pages, readable
// without JavaScript (every email links here).
func (p *pages) home(w http.ResponseWriter, _ *http.Request) {
	p.render(w, http.StatusOK, "home.html.tmpl", pageCSP, homePage{
		SiteName: p.cfg.SiteName, ContactEmail: p.cfg.ContactEmail,
		GraphQLPath: "/graphql", GraphQLURL: strings.TrimRight(p.cfg.PublicURL, "/") + "/graphql",
		SignInPath: "/signin", HealthPath: "/healthz", GraphiQL: p.cfg.GraphiQL, GraphiQLPath: "/graphiql",
	})
}

// pageCSP is the policy of the pages people read (home, newsletter archive, policy
// statements): the shared stylesheet and images from this origin, and nothing else: no
// script, no style element or attribute, no form, no frame.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

// signinForm shows the button that redeems the link. GET never redeems.
func (p *pages) signinForm(w http.ResponseWriter, r *http.Request) {
	n := nonce()
	data := signinPage{SiteName: p.cfg.SiteName, Nonce: n, Action: "/signin", Token: r.URL.Query().Get("token")}
	status := http.StatusOK
	if strings.TrimSpace(data.Token) == "" {
		data.Error, status = "This page needs the link from your sign-in email.", http.StatusBadRequest
	} else {
		// Looks the link up without using it: the button still does the sign-in.
		intent, err := p.cfg.Auth.DescribeLink(r.Context(), data.Token)
		if db.IsUnavailable(err) {
			p.fail(w, r, n, err)
			return
		}
		if err != nil {
			p.cfg.Logger.WarnContext(r.Context(), "describe sign-in link", "err", err, "request_id", audit.RequestFrom(r.Context()).ID)
		}
		data.Intent = intent
		data.FormToken = p.issueFormToken(w, r, purposeSignIn, data.Token)
	}
	p.render(w, status, "signin.html.tmpl", signinCSP(n), data)
}

// signinRedeem redeems the link (POST) and shows the session token. The form must come
// from this service's page (sameOrigin) and carry the token that page put in it for this
// browser and link (formguard.go); otherwise nothing is looked up and the answer is 403.
func (p *pages) signinRedeem(w http.ResponseWriter, r *http.Request) {
	n := nonce()
	data := signinPage{SiteName: p.cfg.SiteName, Nonce: n, Action: "/signin"}
	if !p.sameOrigin(r) {
		data.Error = "This sign-in form was sent from another site, so it was not used. Open the link from your sign-in email and press the button there."
		p.render(w, http.StatusForbidden, "signin.html.tmpl", signinCSP(n), data)
		return
	}
	if err := r.ParseForm(); err != nil {
		data.Error = "The form could not be read."
		p.render(w, http.StatusBadRequest, "signin.html.tmpl", signinCSP(n), data)
		return
	}
	if !validFormToken(r, purposeSignIn, r.PostForm.Get("token"), r.PostForm.Get(formTokenField)) {
		data.Error = "This sign-in form was not opened from your sign-in email in this browser, or your browser refused its cookie. Open the link from your sign-in email again and press the button there."
		p.render(w, http.StatusForbidden, "signin.html.tmpl", signinCSP(n), data)
		return
	}
	ctx := r.Context()
	req := audit.RequestFrom(ctx)
	var res *auth.SignIn
	// One transaction, in the context: an email an intent queues (e.g. the chair told
	// that an invitation was accepted) wakes the outbox only after the commit.
	err := db.InTx(ctx, p.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
		var err error
		res, err = p.cfg.Auth.RedeemLoginLink(ctx, tx, r.PostForm.Get("token"), req.IP, req.UserAgent)
		return err
	})
	if err != nil {
		if ue, ok := apperr.AsUserErrors(err); ok {
			data.Error = ue[0].Message
			p.render(w, http.StatusBadRequest, "signin.html.tmpl", signinCSP(n), data)
			return
		}
		p.fail(w, r, n, err)
		return
	}
	data.Done, data.GraphiQL, data.GraphiQLPath = true, p.cfg.GraphiQL, "/graphiql"
	data.Token, data.Name, data.Email, data.Message = res.Token, res.User.Name, res.User.Email, res.Message
	data.ExpiresAt = res.ExpiresAt.UTC().Format(time.RFC1123)
	p.render(w, http.StatusOK, "signin.html.tmpl", signinCSP(n), data)
}

func (p *pages) fail(w http.ResponseWriter, r *http.Request, n string, err error) {
	if db.IsUnavailable(err) {
		p.cfg.Logger.WarnContext(r.Context(), "sign-in page: database unavailable", "err", err, "request_id", audit.RequestFrom(r.Context()).ID)
		setUnavailableHeaders(w.Header())
		p.render(w, http.StatusServiceUnavailable, "signin.html.tmpl", signinCSP(n),
			signinPage{SiteName: p.cfg.SiteName, Nonce: n, Error: pageUnavailableMessage})
		return
	}
	p.cfg.Logger.ErrorContext(r.Context(), "sign-in page", "err", err, "request_id", audit.RequestFrom(r.Context()).ID)
	p.render(w, http.StatusInternalServerError, "signin.html.tmpl", signinCSP(n),
		signinPage{SiteName: p.cfg.SiteName, Nonce: n, Error: "Something went wrong on our side. Please try again."})
}

// pageUnavailableMessage is what a page says while the database is unavailable (503).
const pageUnavailableMessage = "The service cannot reach its database right now. Please try again in a few seconds."

// graphiql serves GraphiQL from the binary's embedded files (graphiql.go), sending the
// token that the sign-in page stored in this browser.
func (p *pages) graphiql(w http.ResponseWriter, _ *http.Request) {
	a := p.assets
	p.render(w, http.StatusOK, "graphiql.html.tmpl", graphiqlCSP, struct {
		SiteName, Endpoint, CSS, PageCSS, React, ReactDOM, GraphiQL, Init string
	}{p.cfg.SiteName, "/graphql", graphiqlURL(a, "graphiql.min.css"), graphiqlURL(a, "page.css"), graphiqlURL(a, "react.production.min.js"),
		graphiqlURL(a, "react-dom.production.min.js"), graphiqlURL(a, "graphiql.min.js"), graphiqlURL(a, "init.js")})
}
