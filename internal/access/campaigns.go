package access

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"github.com/gocart-coalition/coalition/internal/viewer"
)

// CanManageCampaigns reports whether v may write, edit, schedule, send, pause, cancel and
// read newsletter campaigns and their deliveries: coalition staff (and the system, for
// the sending job).
func CanManageCampaigns(v viewer.Viewer) bool { return v.IsStaff() || v.IsSystem() }

// CanApproveCampaign reports whether v may approve a campaign written by author and last
// changed by editor: a member of staff who is neither of them. Nobody approves their own
// campaign, nor their own changes to someone else's.
func CanApproveCampaign(v viewer.Viewer, author, editor string) bool {
	return v.IsStaff() && v.UserID != "" && v.UserID != author && v.UserID != editor
}

// ArchivedCampaign is the entql predicate of the campaigns the public archive shows: sent,
// and sent to a public list. A draft, an approved, scheduled, sending, paused or
// cancelled campaign, and one sent only to private lists or working groups, matches
// nothing.
func ArchivedCampaign() entql.P {
	return entql.And(entql.FieldEQ("public_archive", true), entql.FieldEQ("status", "SENT"))
}

// FilterArchivedCampaigns narrows a read of campaigns to the public archive
// (ArchivedCampaign) for everyone who is not staff or the system (allowed before this
// rule runs): anonymous visitors, subscribers, signed-in people of every other role.
var FilterArchivedCampaigns = queryRule(func(_ context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	f.Where(ArchivedCampaign())
	return privacy.Allow
})
