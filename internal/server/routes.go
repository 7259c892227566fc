package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gocart-coalition/coalition/graph"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/privacy"
)

// routes declares every route of the service in one place.
func (s *srv) routes() (*http.ServeMux, error) {
	p, err := newPages(s.cfg)
	if err != nil {
		return nil, err
	}
	gqlCfg := s.cfg.GraphQL
	gqlCfg.Introspection = s.cfg.Introspection
	gqlCfg.Suggestions = s.cfg.Introspection
	gqlCfg.MaxUploadBytes = s.cfg.MaxUploadBytes
	schema := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{
		Client: s.cfg.Client, Auth: s.cfg.Auth, Directory: s.cfg.Directory, Groups: s.cfg.WorkingGroups, Programme: s.cfg.Programme, Matches: s.cfg.MatchRuns, Placements: s.cfg.Placement, Newsletter: s.cfg.Newsletter, Campaigns: s.cfg.Campaigns, Privacy: s.cfg.Privacy, Consent: s.cfg.Consent, Statements: s.cfg.Statements, Now: s.cfg.Now,
	}})
	h := NewGraphQLHandler(schema, s.cfg.Client, gqlCfg, s.cfg.Logger)
	h.AroundOperations(graph.WithBatches) // per-row fields load for a whole list at once
	gql := graphqlHTTP(s.authenticate(h))

	mux := http.NewServeMux()
	mux.Handle("POST /graphql", graphqlUploads(s.cfg.MaxUploadBytes, gql))
	mux.Handle("GET /graphql", gql)
	mux.Handle("GET /documents/{id}", s.authenticate(http.HandlerFunc(s.document)))
	mux.HandleFunc("GET /{$}", p.home)
	mux.HandleFunc("GET "+publicAssetsPath+"{name}", assetHandler(p.public))
	mux.HandleFunc("GET /signin", p.signinForm)
	mux.HandleFunc("POST /signin", p.signinRedeem)
	mux.HandleFunc("GET "+refereePath, p.refereeForm)
	mux.HandleFunc("GET "+privacy.DownloadPath, p.exportForm)
	mux.HandleFunc("POST "+privacy.DownloadPath, p.exportDownload)
	mux.HandleFunc("POST "+refereePath, p.refereeUpload)
	mux.HandleFunc("GET /newsletter", p.newsletterArchive)
	mux.HandleFunc("GET /newsletter/{slug}", p.newsletterIssue)
	mux.HandleFunc("GET /newsletter.atom", p.newsletterFeed)
	mux.HandleFunc("GET /statements", p.statementsList)
	mux.HandleFunc("GET /statements/{slug}", p.statementPage)
	mux.HandleFunc("GET /statements/{slug}/v/{n}", p.statementPage)
	mux.HandleFunc("GET /statements.atom", p.statementsFeed)
	mux.HandleFunc("POST "+newsletter.SubscribePath, p.newsletterSubscribe)
	mux.HandleFunc("GET "+newsletter.ConfirmPath, p.newsletterConfirmForm)
	mux.HandleFunc("POST "+newsletter.ConfirmPath, p.newsletterConfirm)
	mux.HandleFunc("GET "+newsletter.UnsubscribePath, p.newsletterUnsubscribeForm)
	mux.HandleFunc("POST "+newsletter.UnsubscribePath, p.newsletterUnsubscribe)
	mux.HandleFunc("POST "+newsletter.WebhookPath, p.newsletterWebhook)
	if s.cfg.GraphiQL {
		mux.HandleFunc("GET /graphiql", p.graphiql)
		mux.HandleFunc("GET "+graphiqlAssetsPath+"{name}", assetHandler(p.assets))
	}
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{}))
	return mux, nil
}
