// Package notify owns which email goes to whom and what it says: it turns a domain event
// into an email rendered from the templates (the only package that knows them) and queues
// it as an outbox row in the caller's transaction.
//
// Rendering is Renderer: every template parsed once at start from templates.FS, text and
// HTML on a shared layout, the HTML escaped by html/template, a missing field an error.
package notify
