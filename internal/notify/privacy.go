package notify

import (
	"context"

	"github.com/gocart-coalition/coalition/ent"
)

// DataExportData is the data of the data_export_ready email.
type DataExportData struct {
	// URL opens the download page (the link's secret in its query).
	URL string
	// Expires is when the link stops working, e.g. "12 March 2027, 10:00 UTC".
	Expires string
	// ByStaff is true when staff asked for the export on the person's behalf.
	ByStaff bool
}

// DataExportReady queues the email with a person's single-use data-export link.
func (n *Notifier) DataExportReady(ctx context.Context, client *ent.Client, to Recipient, data DataExportData, key string) error {
	return n.queue(ctx, client, "data_export_ready", to, data, key, nil)
}
