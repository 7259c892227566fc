// Package benchnews is the newsletter sending benchmark of `make bench-newsletter`: it
// starts the built `coalition serve` as a separate process on a fresh SQLite database,
// with its default worker settings, pointed at a lean counting SMTP sink in this process (see sink),
// and sends a real campaign through it. Setup, not measured: two members of staff (`coalition
// user create --print-token-only`), a mailing list (createMailingList), N confirmed
// subscribers (100,000 by default) written straight into the database, and a campaign
// written by one member of staff (createCampaign) and approved by the other
// (approveCampaign), all over HTTP. Then sendCampaignNow, and it measures, end to end:
//
//   - messages per second, from the sendCampaignNow answer to the last message the sink
//     accepted (the campaigns job freezes the audience into deliveries while the worker
//     sends them);
//   - the service's peak resident memory (VmHWM of /proc/PID/status);
//   - the database's growth per recipient from just before sendCampaignNow until every
//     delivery is recorded sent (main file and WAL after a checkpoint), and, when the sqlite3
//     shell is installed, the same by table and index (dbstat);
//   - the time from sending the sendCampaignNow request to the first message the sink
//     accepted.
package benchnews
