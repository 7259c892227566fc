// Command benchnews is `make bench-newsletter`: it sends a real campaign (created, approved
// by a second member of staff and sent over HTTP) to 100,000 subscribers through a built
// `coalition serve` (a separate process, default worker
// settings, fresh SQLite database) to a local SMTP sink, once without DKIM and once with
// it (fewer recipients, -dkim-recipients), and prints as its last line the figures of the
// run without DKIM:
//
//	newsletter-bench: R msg/s, peak RSS M MB, B bytes/recipient, first message after S s
//
// See internal/benchnews for what is measured and how.
package main
