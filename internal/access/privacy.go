package access

import (
	"context"
	"reflect"

	"entgo.io/ent"
	"entgo.io/ent/privacy"

	"github.com/gocart-coalition/coalition/internal/viewer"
)

// CanExportPersonalData reports whether v may ask for a copy of person's data: the person
// themselves, staff (a request made by post, say), and the system.
func CanExportPersonalData(v viewer.Viewer, person string) bool {
	return (v.Kind == viewer.User && v.UserID != "" && v.UserID == person) || v.IsStaff() || runsAsSystem(v)
}

// CanManagePersonalData reports whether v may act on anyone's data-protection requests
// and read every export: staff and the system.
func CanManagePersonalData(v viewer.Viewer) bool { return v.IsStaff() || runsAsSystem(v) }

// FilterOwnDataExports narrows DataExport reads to the viewer's own exports (the person
// whose data they hold); anonymous viewers see none.
var FilterOwnDataExports = queryRule(func(ctx context.Context, q ent.Query) error {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || v.UserID == "" {
		f, ok := filterOf(q)
		if !ok {
			return privacy.Denyf("query %T cannot be filtered", q)
		}
		f.Where(nothing)
		return privacy.Allow
	}
	return filterEQ(ctx, q, "person_id")
})

// AllowDataExportRequest lets a viewer create a DataExport for a person
// CanExportPersonalData allows, and nothing else (the job and the download page update
// them as the system).
var AllowDataExportRequest = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	v := viewer.FromContext(ctx)
	if !m.Op().Is(ent.OpCreate) {
		return privacy.Skip
	}
	if person, ok := m.Field("person_id"); ok {
		if id := reflect.ValueOf(person); id.Kind() == reflect.String && CanExportPersonalData(v, id.String()) {
			return privacy.Allow
		}
	}
	return privacy.Skip
})

// CanRequestErasure reports whether v may ask for person's erasure: the person
// themselves, staff (a request made by post, say), and the system.
func CanRequestErasure(v viewer.Viewer, person string) bool { return CanExportPersonalData(v, person) }

// CanDecideErasure reports whether v may approve or refuse an erasure: staff and the
// system.
func CanDecideErasure(v viewer.Viewer) bool { return CanManagePersonalData(v) }

// FilterOwnErasureRequests narrows ErasureRequest reads to the viewer's own (the person to
// be erased); anonymous viewers see none.
var FilterOwnErasureRequests = FilterOwnDataExports

// AllowErasureRequest lets a viewer create an ErasureRequest for a person
// CanRequestErasure allows, and nothing else.
var AllowErasureRequest = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	v := viewer.FromContext(ctx)
	if !m.Op().Is(ent.OpCreate) {
		return privacy.Skip
	}
	if person, ok := m.Field("person_id"); ok {
		if id := reflect.ValueOf(person); id.Kind() == reflect.String && CanRequestErasure(v, id.String()) {
			return privacy.Allow
		}
	}
	return privacy.Skip
})
