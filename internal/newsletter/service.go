package newsletter

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/notify"
)

// DefaultConsentText is the consent text shown on subscribe forms when none is configured.
const DefaultConsentText = "I agree to receive the newsletters I chose by email. I can unsubscribe at any time with the link in every email."

// Limits of the double opt-in.
const (
	// ConfirmTTL is how long a confirmation link works.
	ConfirmTTL = 7 * 24 * time.Hour
	// ConfirmEvery is the least time between two confirmation emails to one address.
	ConfirmEvery = time.Hour
	// confirmPrefix starts every confirmation secret.
	confirmPrefix = "nc_"
	// maxLists bounds the lists of one subscribe request.
	maxLists = 20
	// maxName is the longest subscriber name, in characters.
	maxName = 200
)

// Config of a Service.
type Config struct {
	Client   *ent.Client
	Dialect  string
	Now      func() time.Time
	Notifier *notify.Notifier
	Logger   *slog.Logger
	// PublicURL starts the links in emails (confirmation, unsubscribe).
	PublicURL string
	// Key signs unsubscribe tokens (HMAC-SHA256): at least 32 bytes, the same in every
	// process of a deployment and kept across restarts, or old links stop working.
	Key []byte
	// WebhookSecret verifies the bounce/complaint webhook; empty disables the webhook.
	WebhookSecret string
	// ConsentText is the consent text shown on subscribe forms; its version is a hash of it,
	// so a new text is a new version for new signups and old evidence keeps its own.
	ConsentText string
	// SubscribeLimitPerIP and SubscribeLimitPerAddress bound subscribe requests per hour
	// (in this process's memory); zero takes 30 and 5.
	SubscribeLimitPerIP, SubscribeLimitPerAddress int
}

// Service is the newsletter lists and subscribers.
type Service struct {
	cfg      Config
	byIP     *limiter
	byAddr   *limiter
	replayMu sync.Mutex
	replays  map[string]time.Time
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Client == nil || cfg.Now == nil || cfg.Notifier == nil || cfg.PublicURL == "" {
		return nil, errors.New("newsletter: Client, Now, Notifier and PublicURL are required")
	}
	if len(cfg.Key) < 32 {
		return nil, errors.New("newsletter: the unsubscribe key must have at least 32 bytes")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if strings.TrimSpace(cfg.ConsentText) == "" {
		cfg.ConsentText = DefaultConsentText
	}
	if cfg.SubscribeLimitPerIP <= 0 {
		cfg.SubscribeLimitPerIP = 30
	}
	if cfg.SubscribeLimitPerAddress <= 0 {
		cfg.SubscribeLimitPerAddress = 5
	}
	return &Service{
		cfg: cfg, replays: map[string]time.Time{},
		byIP:   newLimiter(cfg.SubscribeLimitPerIP, time.Hour),
		byAddr: newLimiter(cfg.SubscribeLimitPerAddress, time.Hour),
	}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// ConsentText is the consent text new signups are shown, and ConsentVersion its version.
func (s *Service) ConsentText() string { return strings.TrimSpace(s.cfg.ConsentText) }

// ConsentVersion is the version of the consent text: the first 12 hex digits of its SHA-256.
func (s *Service) ConsentVersion() string {
	h := sha256.Sum256([]byte(s.ConsentText()))
	return hex.EncodeToString(h[:6])
}

// HashAddress is what the suppression list keys an address by: SHA-256 (hex) of its
// normal form (an address that does not normalise is hashed lower-cased and trimmed).
func HashAddress(address string) string {
	h := sha256.Sum256([]byte(normalOrLower(address)))
	return hex.EncodeToString(h[:])
}

func (s *Service) base() string { return strings.TrimRight(s.cfg.PublicURL, "/") }

// Paths of the newsletter's pages.
const (
	SubscribePath   = "/newsletter/subscribe"
	ConfirmPath     = "/newsletter/confirm"
	UnsubscribePath = "/newsletter/unsubscribe"
	WebhookPath     = "/newsletter/webhook"
)

// confirmURL is the confirmation page of secret.
func (s *Service) confirmURL(secret string) string {
	return s.base() + ConfirmPath + "?token=" + url.QueryEscape(secret)
}

// Token is the unsubscribe token of a subscriber, for one list or (list "") for every
// list: the ids and an HMAC-SHA256 over them with the configured key, so nothing is
// stored per message and a token for one subscriber cannot be turned into another's. It
// is short because every delivery of a campaign stores two (in its outbox row): the ids'
// ULIDs as 16 bytes each, then the MAC's first 18 bytes, in one base64url word (46
// characters for every list, 67 for one).
func (s *Service) Token(subscriber, list pulid.ID) string {
	payload := ulidBytes(subscriber, "sbr")
	if list != "" {
		payload = append(payload, ulidBytes(list, "mls")...)
	}
	return base64.RawURLEncoding.EncodeToString(append(payload, s.mac(payload)...))
}

// ulidBytes is the ULID of id, a prefixed ULID with prefix (pulid.New), as 16 bytes; an
// id of another form gives 16 zero bytes, whose token names no subscriber or list.
func ulidBytes(id pulid.ID, prefix string) []byte {
	u, err := ulid.ParseStrict(strings.TrimPrefix(string(id), prefix+"_"))
	if err != nil || !strings.HasPrefix(string(id), prefix+"_") {
		return make([]byte, 16)
	}
	return u[:]
}

const tokenMACLen = 18

func (s *Service) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, s.cfg.Key)
	m.Write([]byte("newsletter-unsubscribe\x00"))
	m.Write(payload)
	return m.Sum(nil)[:tokenMACLen]
}

// ErrBadToken is a token that is malformed or not signed with this service's key.
var ErrBadToken = errors.New("newsletter: not a valid unsubscribe token")

// ParseToken returns the subscriber and list (empty for every list) of a token made by Token.
func (s *Service) ParseToken(t string) (subscriber, list pulid.ID, err error) {
	if len(t) > 300 {
		return "", "", ErrBadToken
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(t))
	if err != nil || (len(b) != 16+tokenMACLen && len(b) != 32+tokenMACLen) {
		return "", "", ErrBadToken
	}
	payload, mac := b[:len(b)-tokenMACLen], b[len(b)-tokenMACLen:]
	if !hmac.Equal(mac, s.mac(payload)) {
		return "", "", ErrBadToken
	}
	subscriber = pulid.ID("sbr_" + ulid.ULID(payload[:16]).String())
	if len(payload) == 32 {
		list = pulid.ID("mls_" + ulid.ULID(payload[16:]).String())
	}
	return subscriber, list, nil
}

// UnsubscribeURL is the https URL of a subscriber's unsubscribe page for list ("" for
// every list): the List-Unsubscribe header of campaign emails (its POST is the RFC 8058
// one-click) and the footer link.
func (s *Service) UnsubscribeURL(subscriber, list pulid.ID) string {
	return s.UnsubscribeURLOf(s.Token(subscriber, list))
}

// UnsubscribeURLOf is the URL of the unsubscribe page for token (made by Token, or a
// placeholder that becomes one).
func (s *Service) UnsubscribeURLOf(token string) string {
	return s.base() + UnsubscribePath + "?t=" + token
}

// limiter counts attempts per key over a sliding window, in memory.
type limiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	hits   map[string][]time.Time
}

func newLimiter(limit int, window time.Duration) *limiter {
	return &limiter{limit: limit, window: window, hits: map[string][]time.Time{}}
}

// take records an attempt of key at now and reports whether it is within the limit.
func (l *limiter) take(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.hits) > 100_000 {
		for k, ts := range l.hits {
			if len(ts) == 0 || !ts[len(ts)-1].After(now.Add(-l.window)) {
				delete(l.hits, k)
			}
		}
	}
	ts := l.hits[key]
	i := 0
	for i < len(ts) && !ts[i].After(now.Add(-l.window)) {
		i++
	}
	ts = ts[i:]
	if len(ts) >= l.limit {
		l.hits[key] = ts
		return false
	}
	l.hits[key] = append(ts, now)
	return true
}
