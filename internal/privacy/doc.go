// Package privacy owns the data-subject requests that cut across every domain: the
// registry of domains holding personal data (each implements Domain), the "my data"
// export (a ZIP built by the privacy.exports job, downloaded once through an emailed link)
// and the record of processing printed by `coalition privacy report`.
package privacy
