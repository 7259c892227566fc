// Package markdown turns the Markdown that users write (host-centre descriptions, group
// purposes, agendas, minutes) into HTML that is safe to show in a browser: CommonMark and
// GitHub tables rendered by goldmark, then sanitised by bluemonday's user-content policy,
// so raw HTML, scripts, event handlers and javascript: links never get through.
package markdown
