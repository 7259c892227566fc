package graph_test

import (
	"testing"

	"github.com/gocart-coalition/coalition/internal/testkit"
)

const (
	contactsQ    = `query($id: ID!) { node(id: $id) { ... on HostCentre { coordinators { id name email } } } }`
	contactNodeQ = `query($id: ID!) { node(id: $id) { ... on User { id name email } } }`
)

// contacts returns "name <email>" for each coordinator of centre that c sees (email empty
// when hidden), and what node(id:) shows c of the coordinator with id coord ("" when
// nothing).
func contacts(t *testing.T, c *testkit.Client, centre, coord string) ([]string, string) {
	t.Helper()
	type person struct {
		ID, Name string
		Email    *string
	}
	show := func(p person) string {
		if p.Email == nil {
			return p.Name + " <>"
		}
		return p.Name + " <" + *p.Email + ">"
	}
	var out struct {
		Node struct{ Coordinators []person }
	}
	c.MustDo(contactsQ, map[string]any{"id": centre}, &out)
	var list []string
	for _, p := range out.Node.Coordinators {
		list = append(list, show(p))
	}
	r := c.Do(contactNodeQ, map[string]any{"id": coord})
	if r.Code() == "NOT_FOUND" {
		return list, ""
	}
	var node struct{ Node *person }
	if len(r.Errors) > 0 || jsonUnmarshal(r.Data, &node) != nil {
		t.Fatalf("node(%s): %s", coord, r.Body)
	}
	if node.Node == nil || node.Node.ID == "" {
		return list, ""
	}
	return list, show(*node.Node)
}

// TestPlacedTraineeSeesTheHostContacts: without any HOST_CONTACT consent, a trainee sees
// the name and address of the coordinators of a centre where they hold an accepted or
// confirmed placement (the placement contract), through the centre and through
// node(id:); not while the offer is open, not after declining it, not another centre's,
// and the unmatched trainee and anonymous viewers see nobody. Once the coordinator
// consents, other signed-in users see the name, still not the address.
func TestPlacedTraineeSeesTheHostContacts(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		r := newRankedCall(t, e)
		d := r.d
		staff := e.SignIn("office@coalition.test")
		ioana, aoife, marek := e.SignIn("ioana.popescu@example.ro"), e.SignIn("aoife.byrne@example.ie"), e.SignIn("marek.dvorak@example.cz")
		claireC := e.SignIn("claire.martin@hopital.example.fr")
		claireID, anon := d.a.hostID, e.Anonymous()
		publishRealRun(t, staff, r)
		ioanaPl, aoifePl := placementOf(t, e, r.ioana), placementOf(t, e, r.aoife)
		const claire = "Claire Martin <claire.martin@hopital.example.fr>"
		sees := func(who string, c *testkit.Client, centre, coord string, wantList []string, wantNode string) {
			t.Helper()
			list, node := contacts(t, c, centre, coord)
			if len(list) != len(wantList) || node != wantNode || (len(list) == 1 && list[0] != wantList[0]) {
				t.Errorf("%s sees %q and %q, want %q and %q", who, list, node, wantList, wantNode)
			}
		}
		nobody := []string(nil)

		// Offers open: nobody but staff.
		sees("Ioana (offered)", ioana, d.centreLyon, claireID, nobody, "")
		sees("staff", staff, d.centreLyon, claireID, []string{claire}, claire)

		plcMust(t, ioana, acceptPlcM, map[string]any{"id": ioanaPl})
		plcMust(t, aoife, declinePlcM, map[string]any{"id": aoifePl, "reason": "Family reasons."})
		sees("Ioana (accepted)", ioana, d.centreLyon, claireID, []string{claire}, claire)
		sees("Ioana at another centre", ioana, d.centreMusterstadt, d.coordBID, nobody, "")
		sees("Aoife (declined)", aoife, d.centreMusterstadt, d.coordBID, nobody, "")
		sees("Aoife at Lyon", aoife, d.centreLyon, claireID, nobody, "")
		sees("Marek (unmatched)", marek, d.centreLyon, claireID, nobody, "")
		sees("anonymous", anon, d.centreLyon, claireID, nobody, "")

		plcMust(t, claireC, confirmPlcM, map[string]any{"id": ioanaPl})
		sees("Ioana (confirmed)", ioana, d.centreLyon, claireID, []string{claire}, claire)

		// With Claire's consent, the others see her name only.
		publish(t, staff, "HOST_CONTACT", "Show my name as a contact of my centre.", false)
		if p := consentDo(t, claireC, giveConsentM, map[string]any{"p": "HOST_CONTACT"}); p.Record == nil {
			t.Fatalf("give: %+v", p.UserErrors)
		}
		sees("Marek (consent)", marek, d.centreLyon, claireID, []string{"Claire Martin <>"}, "Claire Martin <>")
		sees("anonymous (consent)", anon, d.centreLyon, claireID, nobody, "")
		sees("Ioana (consent)", ioana, d.centreLyon, claireID, []string{claire}, claire)
	})
}
