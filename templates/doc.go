// Package templates owns the text of everything the service shows people: the email
// templates (email/<name>.{subject,txt,html}.tmpl on a shared layout, rendered by
// internal/notify) and the few web pages the server renders itself (web/*.html.tmpl),
// embedded into the binary so a deployment is one file.
package templates
