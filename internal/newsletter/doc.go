// Package newsletter owns the newsletter lists and their subscribers: mailing lists,
// subscribers (one per normalised address), subscriptions (UNCONFIRMED → CONFIRMED →
// UNSUBSCRIBED, decided by the pure transition table Next), the double opt-in with its
// consent evidence (append-only), the unsubscribe tokens and pages' operations
// (UnsubscribeURL, one-click, preferences), suppression (IsSuppressed and Suppress, which
// the outbox's send-time filter and bounce callback call), the signed bounce/complaint
// webhook, and staff's import, export and erasure. Campaigns are not here.
package newsletter
