// Package benchnews is the newsletter sending benchmark of `make bench-newsletter`: it
// starts the built `coalition serve` as a separate process on a fresh SQLite database,
// with its default worker settings, pointed at a counting go-smtp sink in this process;
// queues a newsletter to N recipients (100,000 by default) straight into the database
// file through outbox.SaveBody and outbox.EnqueueBulk — the path campaigns will call;
// until campaigns exist, the harness does it here while the service runs, in
// transactions of 10,000 recipients — and measures, end to end:
//
//   - messages per second, from the commit of the first transaction to the last message
//     the sink accepted;
//   - the service's peak resident memory (VmHWM of /proc/PID/status);
//   - the database's growth per recipient once every delivery is recorded sent (main
//     file and WAL after a checkpoint, minus the size before the send);
//   - the time from the first commit to the first message the sink accepted.
package benchnews
