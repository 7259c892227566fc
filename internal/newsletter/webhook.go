package newsletter

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// The bounce and complaint webhook (POST /newsletter/webhook) lets the mail relay report
// bounces that arrive after the SMTP conversation, and complaints. The request:
//
//	X-Coalition-Timestamp: 1764892800                   (Unix seconds, within 5 minutes of now)
//	X-Coalition-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed by
//	                       COALITION_NEWSLETTER_WEBHOOK_SECRET>
//	Content-Type: application/json
//
//	{"events": [
//	  {"type": "bounce", "email": "a@example.org", "bounce": "hard", "detail": "550 5.1.1 no such user"},
//	  {"type": "complaint", "email": "b@example.org", "detail": "abuse report"}
//	]}
//
// A hard bounce suppresses the address (HARD_BOUNCE), a complaint too (COMPLAINT); a soft
// bounce is counted and ignored. A signature seen in the last 10 minutes is refused as a
// replay, and so is a timestamp outside the window, so a captured request cannot be sent
// again. The body is checked whole before anything is written.

// Webhook limits.
const (
	WebhookWindow    = 5 * time.Minute
	maxWebhookEvents = 1000
)

// Errors of the webhook; the page answers each with its own status.
var (
	ErrWebhookDisabled  = errors.New("the webhook is not configured")
	ErrWebhookSignature = errors.New("the signature does not match")
	ErrWebhookStale     = errors.New("the timestamp is missing or outside the 5-minute window")
	ErrWebhookReplay    = errors.New("this request was received already")
)

// WebhookError is a body the webhook refuses (400).
type WebhookError struct{ Msg string }

func (e WebhookError) Error() string { return e.Msg }

// WebhookEvent is one event of the webhook's body.
type WebhookEvent struct {
	Type   string `json:"type"`
	Email  string `json:"email"`
	Bounce string `json:"bounce,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// WebhookResult counts what a webhook request did.
type WebhookResult struct {
	Suppressed int `json:"suppressed"`
	Ignored    int `json:"ignored"`
}

// SignWebhook returns the X-Coalition-Signature value of body at timestamp ts with secret
// (for relays written in Go, and the tests).
func SignWebhook(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifyWebhook checks a request's signature and timestamp and remembers the signature,
// so the same request is refused next time.
func (s *Service) VerifyWebhook(timestamp, signature string, body []byte) error {
	if s.cfg.WebhookSecret == "" {
		return ErrWebhookDisabled
	}
	now := s.now()
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > WebhookWindow {
		return ErrWebhookStale
	}
	want := SignWebhook(s.cfg.WebhookSecret, ts, body)
	if !hmac.Equal([]byte(strings.TrimSpace(signature)), []byte(want)) {
		return ErrWebhookSignature
	}
	s.replayMu.Lock()
	defer s.replayMu.Unlock()
	for k, at := range s.replays {
		if now.Sub(at) > 2*WebhookWindow {
			delete(s.replays, k)
		}
	}
	if _, seen := s.replays[want]; seen {
		return ErrWebhookReplay
	}
	s.replays[want] = now
	return nil
}

// HandleWebhook applies a verified webhook body through tx, as the system (the relay is no
// person). A malformed body is a WebhookError and writes nothing.
func (s *Service) HandleWebhook(ctx context.Context, tx *ent.Client, body []byte) (WebhookResult, error) {
	var in struct {
		Events []WebhookEvent `json:"events"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || dec.More() {
		return WebhookResult{}, WebhookError{"the body must be one JSON object {\"events\": [...]} with the documented fields"}
	}
	if len(in.Events) == 0 || len(in.Events) > maxWebhookEvents {
		return WebhookResult{}, WebhookError{fmt.Sprintf("send 1 to %d events", maxWebhookEvents)}
	}
	type act struct {
		addr, detail string
		reason       Reason
	}
	var acts []act
	var res WebhookResult
	for i, e := range in.Events {
		addr, err := check.NormaliseEmail(e.Email)
		if err != nil {
			return WebhookResult{}, WebhookError{fmt.Sprintf("events[%d].email: not a valid address", i)}
		}
		switch {
		case e.Type == "complaint":
			acts = append(acts, act{addr, e.Detail, ReasonComplaint})
		case e.Type == "bounce" && e.Bounce == "hard":
			acts = append(acts, act{addr, e.Detail, ReasonHardBounce})
		case e.Type == "bounce" && e.Bounce == "soft":
			res.Ignored++
		default:
			return WebhookResult{}, WebhookError{fmt.Sprintf("events[%d]: type is bounce (with bounce hard or soft) or complaint", i)}
		}
	}
	sys := viewer.NewSystemContext(ctx)
	for _, a := range acts {
		if _, err := Suppress(sys, tx, a.addr, a.reason, a.detail); err != nil {
			return WebhookResult{}, err
		}
		res.Suppressed++
	}
	return res, nil
}
