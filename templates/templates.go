package templates

import "embed"

// FS holds the email/ and web/ template directories, with paths such as
// "email/login_link.subject.tmpl" and "web/signin.html.tmpl".
//
//go:embed email web
var FS embed.FS
