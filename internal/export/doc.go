// Package export writes the staff exports: CSV tables (RFC 4180, UTF-8, CRLF, a header
// row) whose cells are defused against formula injection, so a name such as
// "=HYPERLINK(…)" opens in a spreadsheet as text.
package export
