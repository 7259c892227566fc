package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/apitoken"
	"github.com/gocart-coalition/coalition/ent/loginlink"
	"github.com/gocart-coalition/coalition/ent/predicate"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/session"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/clip"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/secret"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// credentials returns ctx acting as the system viewer, for the credential rows — sign-in
// links and sessions — which no person may read or write (the LoginLink and Session
// policies allow the system alone), and for the account that signing in creates or marks
// as signed in. It is the one use of the system viewer in this package outside the CLI
// and its cleanup job, and it is narrow on purpose:
//
//   - requesting and redeeming a link and authenticating a bearer happen before anyone is
//     signed in, so there is no person to act as; sign-in, registration and sign-out are
//     recorded in the audit trail explicitly (audit.Record) with the person they concern;
//   - a link written for someone else (an invitation's accept and decline links) and the
//     sessions and links a disabled account loses are the service's own bookkeeping for a
//     change that is written, and audited, as the person acting (the membership, the
//     user's disabled flag).
//
// Facts about accounts (does this address have one, is it disabled, is it taken) are read
// with viewer.ForFacts, which cannot write.
func credentials(ctx context.Context) context.Context { return viewer.NewSystemContext(ctx) }

// Prefixes tell the kinds of bearer secret apart (and make leaked ones easy to grep for).
const (
	sessionPrefix = "cs_"
	tokenPrefix   = "ct_"
)

// Config of the auth service.
type Config struct {
	// Client is used outside transactions (authentication of requests).
	Client *ent.Client
	// Now is the service clock.
	Now func() time.Time
	// Notifier queues the sign-in email.
	Notifier *notify.Notifier
	// SignInURL is where emailed links point; the secret is appended as ?token=.
	SignInURL string
	// LinkTTL is how long a sign-in link works (default 15 minutes).
	LinkTTL time.Duration
	// SessionTTL is how long a session lasts (default 30 days).
	SessionTTL time.Duration
	// PerAddressLimit and PerIPLimit cap sign-in link requests per RateWindow
	// (defaults 5 and 30 per 15 minutes).
	PerAddressLimit, PerIPLimit int
	RateWindow                  time.Duration
	// RedeemFailuresPerIP caps failed sign-in link redemptions (an unknown, used or expired
	// link, a disabled account) per client address per RateWindow (default 20). Every
	// attempt is checked before it is evaluated, so guesses past the limit are refused
	// unseen, one by one, however they are batched. Counted in this process's memory.
	RedeemFailuresPerIP int
	Logger              *slog.Logger
}

// Service is the auth service.
type Service struct {
	cfg     Config
	log     *slog.Logger
	intents map[string]IntentHandler // by prefix: "membership" runs "membership.accept:…"
	// redeemFailures counts failed redemptions per client address.
	redeemFailures *failureLimiter
}

// IntentHandler carries out what a sign-in link does besides signing in (its intent, e.g.
// "membership.accept:mbr_…"). Domain packages implement it and the wiring registers one
// per prefix with RegisterIntent, so auth does not depend on them.
type IntentHandler interface {
	// RunIntent does intent as u, who has just signed in, inside the sign-in's transaction
	// (ctx carries u as the viewer). It returns a message for the person. An intent that
	// cannot be done (unknown, outdated, someone else's) must not fail the sign-in: say so
	// in the message and return a nil error; an error is for internal failures only and
	// rolls the sign-in back.
	RunIntent(ctx context.Context, tx *ent.Client, u *ent.User, intent string) (message string, err error)
	// DescribeIntent says what signing in with the link will also do, as a sentence for
	// the sign-in page (e.g. "Sign in and accept the invitation to …"), or "" when there is
	// nothing to say. It must not change anything. Nobody is signed in yet: ctx carries
	// the sign-in's system viewer (credentials), because the link's secret is its holder's
	// only credential and the link is for the person it describes to; read only what the
	// sentence needs.
	DescribeIntent(ctx context.Context, intent string) string
}

// RegisterIntent registers h to run the intents that start with prefix and a dot (prefix
// "placement" runs "placement.accept:plc_…"). Call it while wiring, before the service
// handles requests; registering a prefix twice, an empty prefix or one with a dot or a
// colon panics (a wiring mistake).
func (s *Service) RegisterIntent(prefix string, h IntentHandler) {
	if prefix == "" || strings.ContainsAny(prefix, ".:") || h == nil {
		panic(fmt.Sprintf("auth: bad intent prefix %q or nil handler", prefix))
	}
	if s.intents == nil {
		s.intents = map[string]IntentHandler{}
	}
	if _, dup := s.intents[prefix]; dup {
		panic(fmt.Sprintf("auth: intent prefix %q registered twice", prefix))
	}
	s.intents[prefix] = h
}

// intentHandler is the handler registered for intent's prefix, or nil.
func (s *Service) intentHandler(intent string) IntentHandler {
	prefix, _, ok := strings.Cut(intent, ".")
	if !ok {
		return nil
	}
	return s.intents[prefix]
}

// New checks cfg and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Client == nil || cfg.Now == nil || cfg.Notifier == nil {
		return nil, errors.New("auth: Client, Now and Notifier are required")
	}
	u, err := url.Parse(cfg.SignInURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("auth: sign-in URL %q must be an absolute http(s) URL", cfg.SignInURL)
	}
	if cfg.LinkTTL <= 0 {
		cfg.LinkTTL = 15 * time.Minute
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 30 * 24 * time.Hour
	}
	if cfg.PerAddressLimit <= 0 {
		cfg.PerAddressLimit = 5
	}
	if cfg.PerIPLimit <= 0 {
		cfg.PerIPLimit = 30
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = 15 * time.Minute
	}
	if cfg.RedeemFailuresPerIP <= 0 {
		cfg.RedeemFailuresPerIP = 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{
		cfg: cfg, log: cfg.Logger.With("op", "auth"),
		redeemFailures: newFailureLimiter(cfg.RedeemFailuresPerIP, cfg.RateWindow),
	}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// RequestLoginLink records a sign-in link for email and queues it by email through tx (the
// caller's transactional client). The answer is the same whether or not an account exists:
// anyone may sign in (a trainee account is created on first redemption), and a disabled
// account simply gets no email. Returns UserErrors for a malformed address or when the
// address or the client address has asked too often.
func (s *Service) RequestLoginLink(ctx context.Context, tx *ent.Client, email, ip string) error {
	var errs apperr.UserErrors
	addr := check.Email(&errs, email, check.Path("email"))
	if err := errs.Err(); err != nil {
		return err
	}
	sys := credentials(ctx)
	now := s.now()
	since := now.Add(-s.cfg.RateWindow)
	// Only links people asked for count: a link an email carries to do something (an
	// offer's buttons, an invitation's) was not requested (intent "").
	n, err := tx.LoginLink.Query().Where(loginlink.Email(addr), requested(), loginlink.RequestedAtGT(since)).Count(sys)
	if err != nil {
		return fmt.Errorf("count login links: %w", err)
	}
	if n >= s.cfg.PerAddressLimit {
		return apperr.Invalid(apperr.CodeRateLimited, "Too many sign-in links were requested for this address. Wait a few minutes and use the most recent email.", "input", "email")
	}
	if ip != "" {
		n, err = tx.LoginLink.Query().Where(loginlink.RequestedIP(ip), requested(), loginlink.RequestedAtGT(since)).Count(sys)
		if err != nil {
			return fmt.Errorf("count login links: %w", err)
		}
		if n >= s.cfg.PerIPLimit {
			return apperr.Invalid(apperr.CodeRateLimited, "Too many sign-in links were requested from your network. Try again later.")
		}
	}
	u, err := tx.User.Query().Where(user.Email(addr)).Only(viewer.ForFacts(ctx))
	if err != nil && !ent.IsNotFound(err) {
		return fmt.Errorf("look up user: %w", err)
	}
	// A disabled account gets the same work and the same answer, but its email is only
	// recorded (suppressed), never sent: the answer and its timing do not tell.
	disabled := u != nil && u.Disabled
	link, linkSecret, err := s.createLink(sys, tx, addr, ip, !disabled)
	if err != nil {
		return err
	}
	name := ""
	if u != nil {
		name = u.Name
	}
	return s.cfg.Notifier.LoginLink(ctx, tx, notify.Recipient{Email: addr, Name: name, Suppressed: disabled}, notify.LoginLinkData{
		Email:        addr,
		URL:          s.linkURL(linkSecret),
		ValidMinutes: int(s.cfg.LinkTTL / time.Minute),
		RequestedIP:  ip,
	}, "login_link:"+string(link.ID))
}

func (s *Service) createLink(sys context.Context, tx *ent.Client, addr, ip string, sent bool) (*ent.LoginLink, string, error) {
	return s.createLinkWith(sys, tx, addr, ip, sent, "", s.cfg.LinkTTL)
}

func (s *Service) createLinkWith(sys context.Context, tx *ent.Client, addr, ip string, sent bool, intent string, ttl time.Duration) (*ent.LoginLink, string, error) {
	linkSecret := secret.New("")
	link, err := linkCreate(tx, s.now(), addr, ip, sent, intent, ttl, linkSecret).Save(sys)
	if err != nil {
		return nil, "", fmt.Errorf("create login link: %w", err)
	}
	return link, linkSecret, nil
}

// linkCreate is the builder of a login link row for the link secret, requested at now.
// requested is intent = ” written literally: the links people asked for, as in the
// partial index on the requesting network (a bound parameter would keep SQLite's planner
// from using it).
func requested() predicate.LoginLink {
	return func(s *sql.Selector) { s.Where(sql.ExprP(s.C(loginlink.FieldIntent) + " = ''")) }
}

func linkCreate(tx *ent.Client, now time.Time, addr, ip string, sent bool, intent string, ttl time.Duration, linkSecret string) *ent.LoginLinkCreate {
	return tx.LoginLink.Create().
		SetEmail(addr).
		SetTokenHash(secret.Hash(linkSecret)).
		SetRequestedAt(now).
		SetExpiresAt(now.Add(ttl)).
		SetRequestedIP(ip).
		SetIntent(intent).
		SetSent(sent)
}

// IssueLoginLink creates a sign-in link for an existing, enabled user and returns its URL
// instead of emailing it: for an operator bootstrapping the first staff member from the
// command line (system viewer only).
func (s *Service) IssueLoginLink(ctx context.Context, tx *ent.Client, email string) (string, error) {
	if !viewer.FromContext(ctx).IsSystem() {
		return "", apperr.ErrForbidden
	}
	addr, err := check.NormaliseEmail(email)
	if err != nil {
		return "", fmt.Errorf("%q: %w", email, err)
	}
	sys := ctx // the CLI's system viewer, checked above
	u, err := tx.User.Query().Where(user.Email(addr)).Only(sys)
	if err != nil {
		return "", fmt.Errorf("look up %s: %w", addr, err)
	}
	if u.Disabled {
		return "", fmt.Errorf("%s is disabled", addr)
	}
	_, linkSecret, err := s.createLink(sys, tx, addr, "", false)
	if err != nil {
		return "", err
	}
	return s.linkURL(linkSecret), nil
}

// MaxIntentLen is the longest intent a sign-in link can carry.
const MaxIntentLen = 200

// IssueIntentLink creates a sign-in link for the existing user u that also does intent
// when redeemed (see IntentHandler), valid for ttl, and returns its URL for an email the
// caller sends (e.g. an invitation's accept and decline links). It writes through tx, the
// caller's transaction. The link is single-use like any other; it is not counted against
// the sign-in rate limits' budget of requests, since the person did not ask for it, but it
// is a row like the others.
func (s *Service) IssueIntentLink(ctx context.Context, tx *ent.Client, u *ent.User, intent string, ttl time.Duration) (string, error) {
	if err := checkIntentLink(IntentLinkRequest{User: u, Intent: intent, TTL: ttl}); err != nil {
		return "", fmt.Errorf("issue intent link: %w", err)
	}
	_, linkSecret, err := s.createLinkWith(credentials(ctx), tx, u.Email, "", !u.Disabled, intent, ttl)
	if err != nil {
		return "", err
	}
	return s.linkURL(linkSecret), nil
}

// IntentLinkRequest is one link for IssueIntentLinks: for User, doing Intent when
// redeemed, valid for TTL.
type IntentLinkRequest struct {
	User   *ent.User
	Intent string
	TTL    time.Duration
}

func checkIntentLink(r IntentLinkRequest) error {
	switch {
	case r.User == nil || r.User.Email == "":
		return errors.New("no user")
	case r.Intent == "" || len(r.Intent) > MaxIntentLen:
		return fmt.Errorf("intent must be 1-%d bytes", MaxIntentLen)
	case r.TTL <= 0:
		return errors.New("ttl must be positive")
	}
	return nil
}

// intentLinkBatch bounds the rows of one INSERT of IssueIntentLinks: a login link binds 11
// values, so 2,000 rows stay below both dialects' limits on bound parameters.
const intentLinkBatch = 2000

// IssueIntentLinks issues the links of reqs exactly as IssueIntentLink issues one (same
// checks, secrets, hashes, expiry, intent, single use), writing them through tx, the
// caller's transaction, with one INSERT per 2,000 links, and returns their URLs in the
// order of reqs. Nothing is written if any request is invalid: for a publication that
// emails hundreds of people their buttons at once.
func (s *Service) IssueIntentLinks(ctx context.Context, tx *ent.Client, reqs []IntentLinkRequest) ([]string, error) {
	for i, r := range reqs {
		if err := checkIntentLink(r); err != nil {
			return nil, fmt.Errorf("issue intent link %d (%q): %w", i, r.Intent, err)
		}
	}
	sys := credentials(ctx)
	now := s.now()
	urls := make([]string, len(reqs))
	creates := make([]*ent.LoginLinkCreate, 0, min(len(reqs), intentLinkBatch))
	for i, r := range reqs {
		linkSecret := secret.New("")
		creates = append(creates, linkCreate(tx, now, r.User.Email, "", !r.User.Disabled, r.Intent, r.TTL, linkSecret))
		urls[i] = s.linkURL(linkSecret)
		if len(creates) == intentLinkBatch || i == len(reqs)-1 {
			if err := tx.LoginLink.CreateBulk(creates...).Exec(sys); err != nil {
				return nil, fmt.Errorf("create %d login links: %w", len(creates), err)
			}
			creates = creates[:0]
		}
	}
	return urls, nil
}

// DescribeLink says what redeeming the link with this secret will do besides signing in
// (IntentHandler.DescribeIntent), without using the link up. It returns "" for a plain
// link and for one that is unknown, used or expired (redeeming then says why).
func (s *Service) DescribeLink(ctx context.Context, linkSecret string) (string, error) {
	linkSecret = strings.TrimSpace(linkSecret)
	if linkSecret == "" || len(s.intents) == 0 {
		return "", nil
	}
	sys := credentials(ctx)
	link, err := s.cfg.Client.LoginLink.Query().Where(loginlink.TokenHash(secret.Hash(linkSecret))).Only(sys)
	if ent.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up login link: %w", err)
	}
	if link.Intent == "" || link.UsedAt != nil || !s.now().Before(link.ExpiresAt) {
		return "", nil
	}
	h := s.intentHandler(link.Intent)
	if h == nil {
		return "", nil
	}
	return h.DescribeIntent(sys, link.Intent), nil
}

func (s *Service) linkURL(linkSecret string) string {
	u, _ := url.Parse(s.cfg.SignInURL) // checked in New
	q := u.Query()
	q.Set("token", linkSecret)
	u.RawQuery = q.Encode()
	return u.String()
}

// SignIn is the result of redeeming a link.
type SignIn struct {
	// Token is the session's bearer secret, shown once.
	Token     string
	ExpiresAt time.Time
	User      *ent.User
	Session   *ent.Session
	// Created reports that the account was created by this sign-in.
	Created bool
	// Message says what the link's intent did (or why it could not); "" for a plain link.
	Message string
}

// RedeemLoginLink exchanges a link secret for a session, creating a trainee account on the
// first sign-in of an address. A link works once and for LinkTTL. Returns UserErrors for an
// unknown, used or expired link and for a disabled account, and RATE_LIMITED, without
// looking at the link, once the client address ip has failed RedeemFailuresPerIP times in
// the window.
func (s *Service) RedeemLoginLink(ctx context.Context, tx *ent.Client, linkSecret, ip, userAgent string) (in *SignIn, err error) {
	now := s.now()
	if !s.redeemFailures.allow(ip, now) {
		return nil, apperr.Invalid(apperr.CodeRateLimited, "Too many sign-in attempts failed from your network. Wait a few minutes and use the link of your most recent email.", "input", "token")
	}
	defer func() {
		if _, refused := apperr.AsUserErrors(err); refused {
			s.redeemFailures.fail(ip, now)
		}
	}()
	return s.redeem(ctx, tx, linkSecret, ip, userAgent)
}

func (s *Service) redeem(ctx context.Context, tx *ent.Client, linkSecret, ip, userAgent string) (*SignIn, error) {
	sys := credentials(ctx)
	now := s.now()
	linkSecret = strings.TrimSpace(linkSecret)
	if linkSecret == "" {
		return nil, apperr.Invalid(apperr.CodeRequired, "The sign-in token is missing.", "input", "token")
	}
	link, err := tx.LoginLink.Query().Where(loginlink.TokenHash(secret.Hash(linkSecret))).Only(sys)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid(apperr.CodeInvalid, "This sign-in link is not valid. Request a new one.", "input", "token")
	}
	if err != nil {
		return nil, fmt.Errorf("look up login link: %w", err)
	}
	if link.UsedAt != nil {
		return nil, apperr.Invalid(apperr.CodeAlreadyUsed, "This sign-in link has already been used. Request a new one.", "input", "token")
	}
	if !now.Before(link.ExpiresAt) {
		return nil, apperr.Invalid(apperr.CodeExpired, "This sign-in link has expired. Request a new one.", "input", "token")
	}
	u, err := tx.User.Query().Where(user.Email(link.Email)).Only(sys)
	if err != nil && !ent.IsNotFound(err) {
		return nil, fmt.Errorf("look up user: %w", err)
	}
	if u != nil && u.Disabled {
		return nil, apperr.Invalid(apperr.CodeInvalid, "This account is disabled. Contact the coalition office.", "input", "token")
	}

	// Decided: from here on, write. Claim the link with a conditional update so two
	// concurrent redemptions cannot both succeed.
	claimed, err := tx.LoginLink.Update().
		Where(loginlink.ID(link.ID), loginlink.UsedAtIsNil()).
		SetUsedAt(now).
		Save(sys)
	if err != nil {
		return nil, fmt.Errorf("claim login link: %w", err)
	}
	if claimed != 1 {
		return nil, apperr.Invalid(apperr.CodeAlreadyUsed, "This sign-in link has already been used. Request a new one.", "input", "token")
	}
	created := false
	if u == nil {
		u, err = tx.User.Create().
			SetEmail(link.Email).
			SetRoles([]viewer.Role{viewer.RoleTrainee}).
			SetLastSignInAt(now).
			Save(sys)
		if err != nil {
			return nil, fmt.Errorf("create user: %w", err)
		}
		created = true
	} else if u, err = tx.User.UpdateOne(u).SetLastSignInAt(now).Save(sys); err != nil {
		return nil, fmt.Errorf("update user: %w", err)
	}
	token := secret.New(sessionPrefix)
	sess, err := tx.Session.Create().
		SetUserID(u.ID).
		SetTokenHash(secret.Hash(token)).
		SetExpiresAt(now.Add(s.cfg.SessionTTL)).
		SetIP(clip.String(ip, 64)).
		SetUserAgent(clip.String(userAgent, 512)).
		Save(sys)
	if err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	actor := audit.Event{ActorID: string(u.ID), ActorEmail: u.Email, ObjectType: "User", ObjectID: string(u.ID)}
	if created {
		ev := actor
		ev.Action = "user.register"
		ev.Details = map[string]any{"roles": "TRAINEE"}
		if err := audit.Record(ctx, tx, now, ev); err != nil {
			return nil, err
		}
	}
	ev := actor
	ev.Action = "auth.sign_in"
	ev.Details = map[string]any{"session": string(sess.ID)}
	if err := audit.Record(ctx, tx, now, ev); err != nil {
		return nil, err
	}
	in := &SignIn{Token: token, ExpiresAt: sess.ExpiresAt, User: u, Session: sess, Created: created}
	if link.Intent != "" {
		in.Message = "This link's action is no longer available; you are signed in."
		if h := s.intentHandler(link.Intent); h != nil {
			// The intent acts as the person who just signed in, in this transaction.
			uctx := viewer.NewContext(ctx, viewer.Viewer{
				Kind: viewer.User, UserID: string(u.ID), Email: u.Email, Roles: u.Roles,
				Scopes: viewer.AllScopes, SessionID: string(sess.ID),
			})
			if in.Message, err = h.RunIntent(uctx, tx, u, link.Intent); err != nil {
				return nil, fmt.Errorf("run intent of login link %s: %w", link.ID, err)
			}
		}
	}
	return in, nil
}

// touchEvery limits last_used_at writes to one per credential per interval.
const touchEvery = 5 * time.Minute

// Authenticate turns a bearer secret into a viewer. It returns apperr.ErrUnauthenticated
// (kind UNAUTHENTICATED) for an unknown, expired or revoked secret or a disabled user.
func (s *Service) Authenticate(ctx context.Context, bearer string) (viewer.Viewer, error) {
	sys := credentials(ctx)
	now := s.now()
	unauth := apperr.New(apperr.Unauthenticated, "the access token is invalid or has expired; sign in again")
	switch {
	case secret.Plausible(bearer, sessionPrefix):
		sess, err := s.cfg.Client.Session.Query().
			Where(session.TokenHash(secret.Hash(bearer))).
			WithUser().
			Only(sys)
		if ent.IsNotFound(err) {
			return viewer.Viewer{}, unauth
		}
		if err != nil {
			return viewer.Viewer{}, fmt.Errorf("look up session: %w", err)
		}
		u := sess.Edges.User
		if sess.RevokedAt != nil || !now.Before(sess.ExpiresAt) || u == nil || u.Disabled {
			return viewer.Viewer{}, unauth
		}
		if sess.LastUsedAt == nil || now.Sub(*sess.LastUsedAt) > touchEvery {
			if err := s.cfg.Client.Session.UpdateOne(sess).SetLastUsedAt(now).Exec(sys); err != nil {
				s.log.WarnContext(ctx, "touch session", "err", err)
			}
		}
		return viewer.Viewer{
			Kind: viewer.User, UserID: string(u.ID), Email: u.Email, Roles: u.Roles,
			Scopes: viewer.AllScopes, SessionID: string(sess.ID),
		}, nil
	case secret.Plausible(bearer, tokenPrefix):
		tok, err := s.cfg.Client.ApiToken.Query().
			Where(apitoken.TokenHash(secret.Hash(bearer))).
			WithUser().
			Only(sys)
		if ent.IsNotFound(err) {
			return viewer.Viewer{}, unauth
		}
		if err != nil {
			return viewer.Viewer{}, fmt.Errorf("look up api token: %w", err)
		}
		u := tok.Edges.User
		if tok.RevokedAt != nil || (tok.ExpiresAt != nil && !now.Before(*tok.ExpiresAt)) || u == nil || u.Disabled {
			return viewer.Viewer{}, unauth
		}
		if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) > touchEvery {
			if err := s.cfg.Client.ApiToken.UpdateOne(tok).SetLastUsedAt(now).Exec(sys); err != nil {
				s.log.WarnContext(ctx, "touch api token", "err", err)
			}
		}
		return viewer.Viewer{
			Kind: viewer.User, UserID: string(u.ID), Email: u.Email, Roles: u.Roles,
			Scopes: tok.Scopes, TokenID: string(tok.ID),
		}, nil
	default:
		return viewer.Viewer{}, unauth
	}
}

// SignOut revokes the session the viewer is using. It reports false for an anonymous
// viewer or an API token (tokens are revoked by staff).
func (s *Service) SignOut(ctx context.Context, tx *ent.Client) (bool, error) {
	v := viewer.FromContext(ctx)
	if v.SessionID == "" {
		return false, nil
	}
	n, err := tx.Session.Update().
		Where(session.ID(pulid.ID(v.SessionID)), session.RevokedAtIsNil()).
		SetRevokedAt(s.now()).
		Save(credentials(ctx))
	if err != nil {
		return false, fmt.Errorf("sign out: %w", err)
	}
	if n == 1 {
		if err := audit.Record(ctx, tx, s.now(), audit.Event{Action: "auth.sign_out", ObjectType: "Session", ObjectID: v.SessionID}); err != nil {
			return false, err
		}
	}
	return n == 1, nil
}

// DeleteExpired removes sessions, login links and API tokens that can no longer be used (expired or
// revoked more than a day ago). Run by the "auth.cleanup" job.
func (s *Service) DeleteExpired(ctx context.Context) (int, error) {
	sys := viewer.NewSystemContext(ctx)
	cutoff := s.now().Add(-24 * time.Hour)
	n1, err := s.cfg.Client.Session.Delete().
		Where(session.Or(session.ExpiresAtLT(cutoff), session.RevokedAtLT(cutoff))).
		Exec(sys)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	// Links are kept for the rate-limit window after expiry; a day is well beyond it.
	n2, err := s.cfg.Client.LoginLink.Delete().Where(loginlink.ExpiresAtLT(cutoff)).Exec(sys)
	if err != nil {
		return n1, fmt.Errorf("delete expired login links: %w", err)
	}
	// API tokens that no longer work are deleted likewise (retention.Rules).
	n3, err := s.cfg.Client.ApiToken.Delete().
		Where(apitoken.Or(apitoken.ExpiresAtLT(cutoff), apitoken.RevokedAtLT(cutoff))).
		Exec(sys)
	if err != nil {
		return n1 + n2, fmt.Errorf("delete expired API tokens: %w", err)
	}
	return n1 + n2 + n3, nil
}
