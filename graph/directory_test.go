package graph_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/affiliation"
	"github.com/gocart-coalition/coalition/ent/hostcentre"
	"github.com/gocart-coalition/coalition/ent/organisation"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

const (
	createOrgM = `mutation($in: CreateOrganisationInput!) { createOrganisation(input: $in) {
		organisation { id name kind country city website active } userErrors { field code message } } }`
	updateOrgM = `mutation($in: UpdateOrganisationInput!) { updateOrganisation(input: $in) {
		organisation { id name kind country city website active } userErrors { field code message } } }`
	centreFields = `id name city country languages adult paediatric focusAreas accreditation
		accreditationExpiresOn products annualPatients description acceptingObservers organisation { id }`
	createCentreM = `mutation($in: CreateHostCentreInput!) { createHostCentre(input: $in) {
		hostCentre { ` + centreFields + ` } userErrors { field code message } } }`
	updateCentreM = `mutation($in: UpdateHostCentreInput!) { updateHostCentre(input: $in) {
		hostCentre { ` + centreFields + ` } userErrors { field code message } } }`
	addCoordM = `mutation($in: HostCoordinatorInput!) { addHostCoordinator(input: $in) {
		hostCentre { id coordinators { id name } } userErrors { field code message } } }`
	removeCoordM = `mutation($in: HostCoordinatorInput!) { removeHostCoordinator(input: $in) {
		hostCentre { id coordinators { id name } } userErrors { field code message } } }`
	setAffM = `mutation($in: SetAffiliationInput!) { setAffiliation(input: $in) {
		affiliation { id position user { id } organisation { id } } userErrors { field code message } } }`
	removeAffM = `mutation($in: RemoveAffiliationInput!) { removeAffiliation(input: $in) {
		removedId userErrors { field code message } } }`
)

type userErr struct {
	Field         []string
	Code, Message string
}

type orgOut struct {
	ID, Name, Kind, Country, City, Website string
	Active                                 bool
}

type centreOut struct {
	ID, Name, City, Country string
	Languages               []string
	Adult, Paediatric       bool
	FocusAreas              []string
	Accreditation           string
	AccreditationExpiresOn  *string
	Products                []string
	AnnualPatients          int
	Description             string
	AcceptingObservers      bool
	Organisation            struct{ ID string }
	Coordinators            []struct{ ID, Name string }
}

// dirPayload is the payload of any directory mutation.
type dirPayload struct {
	Organisation *orgOut
	HostCentre   *centreOut
	Affiliation  *struct {
		ID, Position string
		User         struct{ ID string }
		Organisation struct{ ID string }
	}
	RemovedID  *string `json:"removedId"`
	UserErrors []userErr
}

// mutate runs a directory mutation that must not fail at the top level and returns its payload.
func mutate(t *testing.T, c *testkit.Client, query string, in map[string]any) dirPayload {
	t.Helper()
	var out map[string]dirPayload
	c.MustDo(query, map[string]any{"in": in}, &out)
	for _, p := range out {
		if len(out) == 1 {
			return p
		}
	}
	t.Fatalf("want the payload of one mutation, got %v", out)
	return dirPayload{}
}

// mustMutate is mutate for a mutation that must succeed.
func mustMutate(t *testing.T, c *testkit.Client, query string, in map[string]any) dirPayload {
	t.Helper()
	p := mutate(t, c, query, in)
	if len(p.UserErrors) > 0 {
		t.Fatalf("unexpected user errors for %v: %+v", in, p.UserErrors)
	}
	return p
}

// directory is the fictional directory every test starts from, created by staff through
// the API.
type directory struct {
	a actors
	// coordB coordinates the German centre (the "coordinator of another centre").
	coordB   *testkit.Client
	coordBID string
	// organisations
	lyon, musterstadt, milano, brno, society, defunct, closed string
	// host centres: Lyon (Claire), Musterstadt (coordB), Milano (nobody), and one of the
	// inactive Clinique Fermée
	centreLyon, centreMusterstadt, centreMilano, centreClosed string
	// affiliations of the trainee: an active organisation and an inactive one
	affBrno, affDefunct, affClaire string
}

const lyonDescription = "**Observers** join the daily CAR-T ward round and the cell-processing lab.\n\n" +
	"<script>alert('x')</script>\n\n[Evil link](javascript:alert(1)) and [our site](https://hopital-saint-exemple.example.fr)."

func newDirectory(t *testing.T, e *testkit.Env) directory {
	t.Helper()
	d := directory{a: newActors(t, e)}
	u, c := e.NewUser("lukas.becker@klinikum-musterstadt.example.de", "Lukas Becker", viewer.RoleHostCoordinator)
	d.coordB, d.coordBID = c, string(u.ID)
	staff := d.a.staff

	org := func(name, kind, country, city, website string) string {
		p := mustMutate(t, staff, createOrgM, map[string]any{"name": name, "kind": kind, "country": country, "city": city, "website": website})
		return p.Organisation.ID
	}
	d.lyon = org("Hôpital Saint-Exemple, Lyon (fictional)", "HOSPITAL", "FR", "Lyon", "https://hopital-saint-exemple.example.fr")
	d.musterstadt = org("Universitätsklinikum Musterstadt (fictional)", "HOSPITAL", "DE", "Musterstadt", "https://www.ukm.example.de/zelltherapie")
	d.milano = org("Ospedale San Finto, Milano (fictional)", "HOSPITAL", "IT", "Milano", "")
	d.brno = org("Fakultní nemocnice Brno (fictional)", "HOSPITAL", "CZ", "Brno", "http://fnbrno.example.cz")
	d.society = org("European Society for Example Haematology (fictional)", "SOCIETY", "NL", "Leiden", "")
	d.defunct = org("Defunct Cell Therapy Consortium (fictional)", "INDUSTRY", "DE", "Berlin", "")
	d.closed = org("Clinique Fermée, Marseille (fictional)", "HOSPITAL", "FR", "Marseille", "")

	centre := func(in map[string]any) string { return mustMutate(t, staff, createCentreM, in).HostCentre.ID }
	d.centreLyon = centre(map[string]any{
		"organisationId": d.lyon, "name": "CAR-T Unit, Hôpital Saint-Exemple", "city": "Lyon", "country": "FR",
		"languages": []string{"fr", "en"}, "adult": true, "paediatric": false,
		"focusAreas":    []string{"LYMPHOMA", "MYELOMA", "CELL_PROCESSING"},
		"accreditation": "JACIE", "accreditationExpiresOn": "2027-06-30",
		"products":       []string{"axicabtagene ciloleucel", "tisagenlecleucel"},
		"annualPatients": 85, "description": lyonDescription, "acceptingObservers": true,
	})
	d.centreMusterstadt = centre(map[string]any{
		"organisationId": d.musterstadt, "name": "Zentrum für Zelltherapie, Universitätsklinikum Musterstadt",
		"city": "Musterstadt", "country": "DE", "languages": []string{"de", "en"}, "adult": true, "paediatric": true,
		"focusAreas": []string{"ALL", "PAEDIATRIC", "NURSING"}, "annualPatients": 60, "acceptingObservers": true,
	})
	d.centreMilano = centre(map[string]any{
		"organisationId": d.milano, "name": "Centro CAR-T, Ospedale San Finto", "city": "Milano", "country": "IT",
		"languages": []string{"it"}, "adult": true, "paediatric": false, "focusAreas": []string{"MYELOMA", "PHARMACY"},
		"annualPatients": 40, "acceptingObservers": false,
	})
	d.centreClosed = centre(map[string]any{
		"organisationId": d.closed, "name": "Unité CAR-T, Clinique Fermée", "city": "Marseille", "country": "FR",
		"languages": []string{"fr", "en"}, "adult": true, "paediatric": false, "focusAreas": []string{"LYMPHOMA"},
		"acceptingObservers": true,
	})
	mustMutate(t, staff, addCoordM, map[string]any{"hostCentreId": d.centreLyon, "userId": d.a.hostID})
	mustMutate(t, staff, addCoordM, map[string]any{"hostCentreId": d.centreMusterstadt, "userId": d.coordBID})

	aff := func(userID, orgID, position string) string {
		return mustMutate(t, staff, setAffM, map[string]any{"userId": userID, "organisationId": orgID, "position": position}).Affiliation.ID
	}
	d.affBrno = aff(d.a.traineeID, d.brno, "Consultant haematologist")
	d.affDefunct = aff(d.a.traineeID, d.defunct, "Scientific adviser")
	d.affClaire = aff(d.a.hostID, d.lyon, "CAR-T programme coordinator")

	// Deactivated last, so that everything above could be attached to them.
	for _, id := range []string{d.defunct, d.closed} {
		if p := mustMutate(t, staff, updateOrgM, map[string]any{"id": id, "active": false}); p.Organisation.Active {
			t.Fatalf("deactivate %s: still active", id)
		}
	}
	return d
}

// dirSnapshot summarises everything the directory mutations could change.
func dirSnapshot(t *testing.T, e *testkit.Env) string {
	t.Helper()
	ctx := e.System()
	orgs, err := e.DB.Client.Organisation.Query().Order(organisation.ByID()).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	centres, err := e.DB.Client.HostCentre.Query().WithCoordinators(func(q *ent.UserQuery) { q.Select("id") }).
		Order(hostcentre.ByID()).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	affs, err := e.DB.Client.Affiliation.Query().Order(affiliation.ByID()).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range centres {
		slices.SortFunc(c.Edges.Coordinators, func(a, b *ent.User) int { return strings.Compare(string(a.ID), string(b.ID)) })
	}
	b, err := json.Marshal(struct{ Orgs, Centres, Affs any }{orgs, centres, affs})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func names[T any](items []T, name func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = name(it)
	}
	return out
}

type orgConn struct {
	Organisations struct {
		TotalCount int
		Edges      []struct{ Node orgOut }
		PageInfo   struct {
			HasNextPage bool
			EndCursor   string
		}
	}
}

func (c orgConn) names() []string {
	return names(c.Organisations.Edges, func(e struct{ Node orgOut }) string { return e.Node.Name })
}

type centreConn struct {
	HostCentres struct {
		TotalCount int
		Edges      []struct{ Node centreOut }
		PageInfo   struct {
			HasNextPage bool
			EndCursor   string
		}
	}
}

func (c centreConn) names() []string {
	return names(c.HostCentres.Edges, func(e struct{ Node centreOut }) string { return e.Node.Name })
}

const (
	orgsQ = `query($f: OrganisationFilters, $first: Int = 50, $after: Cursor, $order: OrganisationOrder) {
		organisations(first: $first, after: $after, filter: $f, orderBy: $order) {
			totalCount edges { node { id name kind country city website active } } pageInfo { hasNextPage endCursor } } }`
	centresQ = `query($f: HostCentreFilters, $first: Int = 50, $after: Cursor, $order: HostCentreOrder) {
		hostCentres(first: $first, after: $after, filter: $f, orderBy: $order) {
			totalCount edges { node { id name city country languages focusAreas annualPatients acceptingObservers } }
			pageInfo { hasNextPage endCursor } } }`
)

func orgs(t *testing.T, c *testkit.Client, vars map[string]any) orgConn {
	t.Helper()
	var out orgConn
	c.MustDo(orgsQ, vars, &out)
	return out
}

func centres(t *testing.T, c *testkit.Client, vars map[string]any) centreConn {
	t.Helper()
	var out centreConn
	c.MustDo(centresQ, vars, &out)
	return out
}

var (
	activeOrgNames = []string{
		"European Society for Example Haematology (fictional)",
		"Fakultní nemocnice Brno (fictional)",
		"Hôpital Saint-Exemple, Lyon (fictional)",
		"Ospedale San Finto, Milano (fictional)",
		"Universitätsklinikum Musterstadt (fictional)",
	}
	allOrgNames = append([]string{
		"Clinique Fermée, Marseille (fictional)",
		"Defunct Cell Therapy Consortium (fictional)",
	}, activeOrgNames...)
	publicCentreNames = []string{
		"CAR-T Unit, Hôpital Saint-Exemple",
		"Centro CAR-T, Ospedale San Finto",
		"Zentrum für Zelltherapie, Universitätsklinikum Musterstadt",
	}
)

// TestDirectoryReadsByEveryone: the directory is public, inactive organisations (and what
// hangs off them) are for staff only however they are asked for, and coordinators and
// affiliations show only what each viewer may see.
func TestDirectoryReadsByEveryone(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		d := newDirectory(t, e)
		a := d.a
		nonStaff := map[string]*testkit.Client{"anonymous": a.anon, "trainee": a.trainee, "other trainee": a.other, "coordinator": a.host, "other coordinator": d.coordB}

		for who, c := range nonStaff {
			// Inactive organisations and the centres of inactive organisations are invisible,
			// whatever the filter asks for.
			for _, f := range []map[string]any{nil, {"includeInactive": true}} {
				got := orgs(t, c, map[string]any{"f": f})
				if !slices.Equal(got.names(), activeOrgNames) || got.Organisations.TotalCount != len(activeOrgNames) {
					t.Errorf("%s organisations(%v) = %v (total %d), want %v", who, f, got.names(), got.Organisations.TotalCount, activeOrgNames)
				}
			}
			for _, f := range []map[string]any{
				{"search": "Defunct", "includeInactive": true}, {"kind": "INDUSTRY", "includeInactive": true},
				{"country": "DE", "search": "consortium"}, {"search": "Fermée", "includeInactive": true},
			} {
				if got := orgs(t, c, map[string]any{"f": f}); got.Organisations.TotalCount != 0 || len(got.Organisations.Edges) != 0 {
					t.Errorf("%s probes organisations(%v): %v", who, f, got.names())
				}
			}
			if got := centres(t, c, nil); !slices.Equal(got.names(), publicCentreNames) || got.HostCentres.TotalCount != 3 {
				t.Errorf("%s hostCentres = %v, want %v", who, got.names(), publicCentreNames)
			}
			if got := centres(t, c, map[string]any{"f": map[string]any{"search": "Fermée"}}); got.HostCentres.TotalCount != 0 {
				t.Errorf("%s finds the centre of an inactive organisation: %v", who, got.names())
			}
			for _, id := range []string{d.defunct, d.closed, d.centreClosed} {
				r := c.Do(`query($id: ID!) { node(id: $id) { id ... on Organisation { name } ... on HostCentre { name } } }`, map[string]any{"id": id})
				if r.Code() != "NOT_FOUND" || strings.Contains(string(r.Body), "fictional") || strings.Contains(string(r.Body), "Fermée") {
					t.Errorf("%s node(%s): %s, want NOT_FOUND without data", who, id, r.Body)
				}
			}
			// Active entries are public, with their centres.
			var n struct {
				Node struct {
					Name        string
					HostCentres []struct{ ID string }
				}
			}
			c.MustDo(`query($id: ID!) { node(id: $id) { ... on Organisation { name hostCentres { id } } } }`, map[string]any{"id": d.lyon}, &n)
			if n.Node.Name != "Hôpital Saint-Exemple, Lyon (fictional)" || len(n.Node.HostCentres) != 1 || n.Node.HostCentres[0].ID != d.centreLyon {
				t.Errorf("%s node(lyon) = %+v", who, n.Node)
			}
		}

		// Staff see inactive entries when they ask for them, and only then.
		if got := orgs(t, a.staff, nil); !slices.Equal(got.names(), activeOrgNames) {
			t.Errorf("staff organisations = %v, want the active ones by default", got.names())
		}
		if got := orgs(t, a.staff, map[string]any{"f": map[string]any{"includeInactive": true}}); !slices.Equal(got.names(), allOrgNames) {
			t.Errorf("staff organisations(includeInactive) = %v, want %v", got.names(), allOrgNames)
		}
		if got := orgs(t, a.staff, map[string]any{"f": map[string]any{"kind": "INDUSTRY", "includeInactive": true}}); len(got.names()) != 1 || got.Organisations.Edges[0].Node.Active {
			t.Errorf("staff organisations(INDUSTRY, includeInactive) = %+v", got.Organisations.Edges)
		}
		if got := centres(t, a.staff, nil); got.HostCentres.TotalCount != 4 {
			t.Errorf("staff hostCentres total %d, want 4 (the inactive hospital's too)", got.HostCentres.TotalCount)
		}
		for _, id := range []string{d.defunct, d.closed, d.centreClosed} {
			if r := a.staff.Do(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}); len(r.Errors) != 0 || !strings.Contains(string(r.Body), id) {
				t.Errorf("staff node(%s): %s", id, r.Body)
			}
		}

		// Coordinators: nobody for anonymous viewers, names only for other signed-in
		// users, emails for staff and the coordinator themself.
		const coords = `query($id: ID!) { node(id: $id) { ... on HostCentre { coordinators { id name email } } } }`
		type coordsOut struct {
			Node struct {
				Coordinators []struct {
					ID, Name string
					Email    *string
				}
			}
		}
		var co coordsOut
		a.anon.MustDo(coords, map[string]any{"id": d.centreLyon}, &co)
		if co.Node.Coordinators == nil || len(co.Node.Coordinators) != 0 {
			t.Errorf("anonymous coordinators = %+v, want []", co.Node.Coordinators)
		}
		if r := a.anon.Do(coords, map[string]any{"id": d.centreLyon}); strings.Contains(string(r.Body), "Claire") {
			t.Errorf("anonymous sees a coordinator: %s", r.Body)
		}
		// Other signed-in users see a coordinator only with their consent (HOST_CONTACT;
		// the whole flow is TestConsentHostContactFromBothSides).
		co = coordsOut{}
		a.trainee.MustDo(coords, map[string]any{"id": d.centreLyon}, &co)
		if len(co.Node.Coordinators) != 0 {
			t.Errorf("trainee sees coordinators %+v before they consent", co.Node.Coordinators)
		}
		publish(t, a.staff, "HOST_CONTACT", "Show my name as a contact of my centre.", false)
		if g := consentDo(t, a.host, giveConsentM, map[string]any{"p": "HOST_CONTACT"}); g.Record == nil {
			t.Fatalf("give HOST_CONTACT: %+v", g.UserErrors)
		}
		for who, c := range map[string]*testkit.Client{"trainee": a.trainee, "other coordinator": d.coordB} {
			co = coordsOut{}
			c.MustDo(coords, map[string]any{"id": d.centreLyon}, &co)
			if len(co.Node.Coordinators) != 1 || co.Node.Coordinators[0].Name != "Claire Martin" || co.Node.Coordinators[0].Email != nil {
				t.Errorf("%s coordinators = %+v, want Claire Martin without email", who, co.Node.Coordinators)
			}
		}
		for who, c := range map[string]*testkit.Client{"staff": a.staff, "the coordinator": a.host} {
			co = coordsOut{}
			c.MustDo(coords, map[string]any{"id": d.centreLyon}, &co)
			if len(co.Node.Coordinators) != 1 || co.Node.Coordinators[0].Email == nil || *co.Node.Coordinators[0].Email != "claire.martin@hopital.example.fr" {
				t.Errorf("%s coordinators = %+v, want Claire with her email", who, co.Node.Coordinators)
			}
		}

		// Affiliations: the person (to active organisations) and staff.
		const myAffs = `{ me { affiliations { id position organisation { name } } } }`
		var me struct {
			Me struct {
				Affiliations []struct {
					ID, Position string
					Organisation struct{ Name string }
				}
			}
		}
		a.trainee.MustDo(myAffs, nil, &me)
		if len(me.Me.Affiliations) != 1 || me.Me.Affiliations[0].ID != d.affBrno || me.Me.Affiliations[0].Position != "Consultant haematologist" ||
			me.Me.Affiliations[0].Organisation.Name != "Fakultní nemocnice Brno (fictional)" {
			t.Errorf("trainee's own affiliations = %+v, want Brno only (the other organisation is inactive)", me.Me.Affiliations)
		}
		const userAffs = `query($id: ID!) { node(id: $id) { ... on User { name affiliations { id position } } } }`
		var ua struct {
			Node struct {
				Name         string
				Affiliations []struct{ ID, Position string }
			}
		}
		a.staff.MustDo(userAffs, map[string]any{"id": a.traineeID}, &ua)
		if len(ua.Node.Affiliations) != 2 {
			t.Errorf("staff sees %d affiliations of the trainee, want 2", len(ua.Node.Affiliations))
		}
		// A coordinator is visible to signed-in users by name, but not their affiliations.
		for who, c := range map[string]*testkit.Client{"trainee": a.trainee, "other coordinator": d.coordB} {
			ua.Node.Affiliations = nil
			c.MustDo(userAffs, map[string]any{"id": a.hostID}, &ua)
			if ua.Node.Name != "Claire Martin" || ua.Node.Affiliations == nil || len(ua.Node.Affiliations) != 0 {
				t.Errorf("%s reads the coordinator's affiliations: %+v", who, ua.Node)
			}
		}
		for who, c := range map[string]*testkit.Client{"anonymous": a.anon, "other trainee": a.other, "coordinator": a.host} {
			if r := c.Do(userAffs, map[string]any{"id": a.traineeID}); r.Code() != "NOT_FOUND" || strings.Contains(string(r.Body), "Consultant") {
				t.Errorf("%s node(trainee).affiliations: %s, want NOT_FOUND", who, r.Body)
			}
		}
		const affNode = `query($id: ID!) { node(id: $id) { id ... on Affiliation { position user { id } organisation { name } } } }`
		for who, c := range map[string]*testkit.Client{"anonymous": a.anon, "other trainee": a.other, "coordinator": a.host, "other coordinator": d.coordB} {
			if r := c.Do(affNode, map[string]any{"id": d.affBrno}); r.Code() != "NOT_FOUND" || strings.Contains(string(r.Body), "Consultant") {
				t.Errorf("%s node(affiliation): %s, want NOT_FOUND", who, r.Body)
			}
		}
		for who, c := range map[string]*testkit.Client{"the person": a.trainee, "staff": a.staff} {
			if r := c.Do(affNode, map[string]any{"id": d.affBrno}); len(r.Errors) != 0 || !strings.Contains(string(r.Body), "Consultant haematologist") {
				t.Errorf("%s node(affiliation): %s", who, r.Body)
			}
		}
		if r := a.trainee.Do(affNode, map[string]any{"id": d.affDefunct}); r.Code() != "NOT_FOUND" {
			t.Errorf("trainee node(affiliation to an inactive organisation): %s, want NOT_FOUND", r.Body)
		}
		if r := a.staff.Do(affNode, map[string]any{"id": d.affDefunct}); len(r.Errors) != 0 || !strings.Contains(string(r.Body), "Scientific adviser") {
			t.Errorf("staff node(affiliation to an inactive organisation): %s", r.Body)
		}

		// descriptionHtml renders the Markdown and drops scripts and javascript: links.
		var dh struct {
			Node struct{ Description, DescriptionHTML string } `json:"node"`
		}
		a.anon.MustDo(`query($id: ID!) { node(id: $id) { ... on HostCentre { description descriptionHTML: descriptionHtml } } }`, map[string]any{"id": d.centreLyon}, &dh)
		if dh.Node.Description != lyonDescription {
			t.Errorf("description = %q, want the Markdown as written", dh.Node.Description)
		}
		html := dh.Node.DescriptionHTML
		if !strings.Contains(html, "<strong>Observers</strong>") || !strings.Contains(html, `href="https://hopital-saint-exemple.example.fr"`) {
			t.Errorf("descriptionHtml lacks the rendered Markdown: %s", html)
		}
		if strings.Contains(strings.ToLower(html), "<script") || strings.Contains(html, "javascript:") {
			t.Errorf("descriptionHtml is not sanitised: %s", html)
		}
	})
}

func TestDirectoryFiltersOrderAndPages(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		d := newDirectory(t, e)
		anon := d.a.anon
		lyon, milano, muster := publicCentreNames[0], publicCentreNames[1], publicCentreNames[2]
		for _, c := range []struct {
			filter map[string]any
			want   []string
		}{
			{map[string]any{"country": "FR"}, []string{lyon}},
			{map[string]any{"country": "DE"}, []string{muster}},
			{map[string]any{"country": "CZ"}, []string{}},
			{map[string]any{"language": "en"}, []string{lyon, muster}},
			{map[string]any{"language": "EN"}, []string{lyon, muster}}, // normalised
			{map[string]any{"language": "it"}, []string{milano}},
			{map[string]any{"language": "pl"}, []string{}},
			{map[string]any{"focusArea": "MYELOMA"}, []string{lyon, milano}},
			{map[string]any{"focusArea": "PAEDIATRIC"}, []string{muster}},
			{map[string]any{"focusArea": "CLL"}, []string{}},
			{map[string]any{"acceptingObservers": true}, []string{lyon, muster}},
			{map[string]any{"acceptingObservers": false}, []string{milano}},
			{map[string]any{"paediatric": true}, []string{muster}},
			{map[string]any{"adult": true, "paediatric": false}, []string{lyon, milano}},
			{map[string]any{"search": "lyon"}, []string{lyon}},             // city
			{map[string]any{"search": "SAINT-EXEMPLE"}, []string{lyon}},    // name, any case
			{map[string]any{"search": "car-t"}, []string{lyon, milano}},    // two names
			{map[string]any{"search": "  zentrum  "}, []string{muster}},    // trimmed
			{map[string]any{"search": "%"}, []string{}},                    // a literal, not a wildcard
			{map[string]any{"search": "_"}, []string{}},                    // a literal, not a wildcard
			{map[string]any{"search": ""}, []string{lyon, milano, muster}}, // empty: no condition
			{map[string]any{"country": "DE", "language": "en", "focusArea": "PAEDIATRIC", "acceptingObservers": true}, []string{muster}},
			{map[string]any{"country": "DE", "language": "fr"}, []string{}},
			{map[string]any{"language": "fr", "focusArea": "LYMPHOMA", "acceptingObservers": true, "search": "unit"}, []string{lyon}},
		} {
			got := centres(t, anon, map[string]any{"f": c.filter})
			if !slices.Equal(got.names(), c.want) || got.HostCentres.TotalCount != len(c.want) {
				t.Errorf("hostCentres(%v) = %v (total %d), want %v", c.filter, got.names(), got.HostCentres.TotalCount, c.want)
			}
		}
		for _, c := range []struct {
			filter map[string]any
			want   []string
		}{
			{map[string]any{"country": "CZ"}, []string{"Fakultní nemocnice Brno (fictional)"}},
			{map[string]any{"kind": "SOCIETY"}, []string{"European Society for Example Haematology (fictional)"}},
			{map[string]any{"kind": "HOSPITAL", "country": "IT"}, []string{"Ospedale San Finto, Milano (fictional)"}},
			{map[string]any{"search": "FAKULTNÍ"}, []string{"Fakultní nemocnice Brno (fictional)"}},
			{map[string]any{"search": "hôpital"}, []string{"Hôpital Saint-Exemple, Lyon (fictional)"}},
			{map[string]any{"search": "fictional", "kind": "REGULATOR"}, []string{}},
			{map[string]any{"search": "%"}, []string{}},
		} {
			got := orgs(t, anon, map[string]any{"f": c.filter})
			if !slices.Equal(got.names(), c.want) || got.Organisations.TotalCount != len(c.want) {
				t.Errorf("organisations(%v) = %v, want %v", c.filter, got.names(), c.want)
			}
		}

		// Ordering.
		byPatients := centres(t, anon, map[string]any{"order": map[string]any{"field": "ANNUAL_PATIENTS", "direction": "DESC"}})
		if want := []string{lyon, muster, milano}; !slices.Equal(byPatients.names(), want) {
			t.Errorf("by annual patients desc = %v, want %v", byPatients.names(), want)
		}
		byCountry := orgs(t, anon, map[string]any{"order": map[string]any{"field": "COUNTRY", "direction": "ASC"}})
		var countries []string
		for _, e := range byCountry.Organisations.Edges {
			countries = append(countries, e.Node.Country)
		}
		if want := []string{"CZ", "DE", "FR", "IT", "NL"}; !slices.Equal(countries, want) {
			t.Errorf("organisations by country = %v, want %v", countries, want)
		}
		byNameDesc := orgs(t, anon, map[string]any{"order": map[string]any{"field": "NAME", "direction": "DESC"}})
		if want := slices.Clone(activeOrgNames); !slices.Equal(byNameDesc.names(), func() []string { slices.Reverse(want); return want }()) {
			t.Errorf("organisations by name desc = %v", byNameDesc.names())
		}

		// Pages of two, following the cursors, in name order, with a filter.
		var seen []string
		var after any
		for page := 0; ; page++ {
			got := orgs(t, anon, map[string]any{"first": 2, "after": after, "f": map[string]any{"kind": "HOSPITAL"}})
			if got.Organisations.TotalCount != 4 || len(got.Organisations.Edges) > 2 {
				t.Fatalf("page %d: total %d, %d edges", page, got.Organisations.TotalCount, len(got.Organisations.Edges))
			}
			seen = append(seen, got.names()...)
			if !got.Organisations.PageInfo.HasNextPage {
				break
			}
			if page > 3 {
				t.Fatal("pagination does not end")
			}
			after = got.Organisations.PageInfo.EndCursor
		}
		if want := []string{activeOrgNames[1], activeOrgNames[2], activeOrgNames[3], activeOrgNames[4]}; !slices.Equal(seen, want) {
			t.Errorf("hospitals page by page = %v, want %v", seen, want)
		}
		p1 := centres(t, anon, map[string]any{"first": 1, "f": map[string]any{"language": "en"}})
		p2 := centres(t, anon, map[string]any{"first": 1, "after": p1.HostCentres.PageInfo.EndCursor, "f": map[string]any{"language": "en"}})
		if !slices.Equal(p1.names(), []string{lyon}) || !p1.HostCentres.PageInfo.HasNextPage ||
			!slices.Equal(p2.names(), []string{muster}) || p2.HostCentres.PageInfo.HasNextPage {
			t.Errorf("centres speaking en page by page: %v (next %v), %v (next %v)", p1.names(), p1.HostCentres.PageInfo.HasNextPage, p2.names(), p2.HostCentres.PageInfo.HasNextPage)
		}

		// Malformed filters are refused before anything runs.
		for _, c := range []struct{ query, filter string }{
			{centresQ, `{"country": "fr"}`},
			{centresQ, `{"country": "XX"}`},
			{centresQ, `{"country": "FRA"}`},
			{centresQ, `{"language": "english"}`},
			{centresQ, `{"language": "xx"}`},
			{centresQ, `{"search": "` + strings.Repeat("a", 101) + `"}`},
			{centresQ, `{"focusArea": "OTHER"}`},
			{orgsQ, `{"country": "cz"}`},
			{orgsQ, `{"country": " CZ"}`},
			{orgsQ, `{"search": "` + strings.Repeat("é", 101) + `"}`},
			{orgsQ, `{"kind": "CLUB"}`},
		} {
			var f any
			if err := json.Unmarshal([]byte(c.filter), &f); err != nil {
				t.Fatal(err)
			}
			r := anon.Do(c.query, map[string]any{"f": f})
			if r.Code() != "BAD_REQUEST" || (r.Data != nil && string(r.Data) != "null") {
				t.Errorf("filter %s: %s, want BAD_REQUEST and no data", c.filter, r.Body)
			}
		}
		if r := anon.Do(centresQ, map[string]any{"f": map[string]any{"search": strings.Repeat("a", 100)}}); len(r.Errors) != 0 {
			t.Errorf("search of 100 characters: %s", r.Body)
		}
	})
}

// TestDirectoryStaffMutationsAuthorisation: every staff-only mutation is refused to
// everyone else, changes nothing then, and works for staff.
func TestDirectoryStaffMutationsAuthorisation(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		d := newDirectory(t, e)
		a := d.a
		ops := []struct {
			name, query string
			in          map[string]any
		}{
			{"createOrganisation", createOrgM, map[string]any{"name": "Szpital Przykładowy, Kraków (fictional)", "kind": "HOSPITAL", "country": "PL", "city": "Kraków"}},
			{"updateOrganisation", updateOrgM, map[string]any{"id": d.milano, "city": "Milan", "website": "https://www.ospedale-san-finto.example.it"}},
			{"createHostCentre", createCentreM, map[string]any{"organisationId": d.brno, "name": "CAR-T Programme, FN Brno", "city": "Brno", "country": "CZ",
				"languages": []string{"cs", "en"}, "adult": true, "paediatric": true, "focusAreas": []string{"LYMPHOMA"}}},
			{"addHostCoordinator", addCoordM, map[string]any{"hostCentreId": d.centreMilano, "userId": d.coordBID}},
			{"removeHostCoordinator", removeCoordM, map[string]any{"hostCentreId": d.centreMilano, "userId": d.coordBID}},
			{"setAffiliation", setAffM, map[string]any{"userId": a.otherID, "organisationId": d.society, "position": "Member"}},
			{"setAffiliation (change)", setAffM, map[string]any{"userId": a.traineeID, "organisationId": d.brno, "position": "Head of the CAR-T programme"}},
			{"removeAffiliation", removeAffM, map[string]any{"id": d.affDefunct}},
		}
		before := dirSnapshot(t, e)
		for _, op := range ops {
			if r := a.anon.Do(op.query, map[string]any{"in": op.in}); r.Code() != "UNAUTHENTICATED" || strings.Contains(string(r.Body), `"userErrors"`) {
				t.Errorf("%s by anonymous: %s, want UNAUTHENTICATED", op.name, r.Body)
			}
			for who, c := range map[string]*testkit.Client{"trainee": a.trainee, "other trainee": a.other, "coordinator": a.host, "other coordinator": d.coordB} {
				if r := c.Do(op.query, map[string]any{"in": op.in}); r.Code() != "FORBIDDEN" || strings.Contains(string(r.Body), `"userErrors"`) {
					t.Errorf("%s by %s: %s, want FORBIDDEN", op.name, who, r.Body)
				}
			}
		}
		if after := dirSnapshot(t, e); after != before {
			t.Fatalf("refused mutations changed the directory:\nbefore %s\nafter  %s", before, after)
		}
		for _, op := range ops {
			p := mustMutate(t, a.staff, op.query, op.in)
			switch {
			case op.name == "createOrganisation" && (p.Organisation == nil || p.Organisation.Country != "PL" || !p.Organisation.Active):
				t.Errorf("%s: %+v", op.name, p.Organisation)
			case op.name == "updateOrganisation" && (p.Organisation == nil || p.Organisation.City != "Milan" || p.Organisation.Name != "Ospedale San Finto, Milano (fictional)"):
				t.Errorf("%s: %+v", op.name, p.Organisation)
			case op.name == "createHostCentre" && (p.HostCentre == nil || p.HostCentre.Organisation.ID != d.brno || !slices.Equal(p.HostCentre.Languages, []string{"cs", "en"})):
				t.Errorf("%s: %+v", op.name, p.HostCentre)
			case op.name == "addHostCoordinator" && (p.HostCentre == nil || len(p.HostCentre.Coordinators) != 1 || p.HostCentre.Coordinators[0].ID != d.coordBID):
				t.Errorf("%s: %+v", op.name, p.HostCentre)
			case op.name == "removeHostCoordinator" && (p.HostCentre == nil || len(p.HostCentre.Coordinators) != 0):
				t.Errorf("%s: %+v", op.name, p.HostCentre)
			case op.name == "setAffiliation" && (p.Affiliation == nil || p.Affiliation.Position != "Member" || p.Affiliation.User.ID != a.otherID):
				t.Errorf("%s: %+v", op.name, p.Affiliation)
			case op.name == "setAffiliation (change)" && (p.Affiliation == nil || p.Affiliation.ID != d.affBrno || p.Affiliation.Position != "Head of the CAR-T programme"):
				t.Errorf("%s: %+v, want the same affiliation with the new position", op.name, p.Affiliation)
			case op.name == "removeAffiliation" && (p.RemovedID == nil || *p.RemovedID != d.affDefunct):
				t.Errorf("%s: %+v", op.name, p.RemovedID)
			}
		}
		affs, err := e.DB.Client.Affiliation.Query().Where(affiliation.UserID(pulid.ID(a.traineeID))).All(e.System())
		if err != nil || len(affs) != 1 || affs[0].Position != "Head of the CAR-T programme" {
			t.Errorf("trainee's affiliations after the staff changes: %v, %v; want Brno with the new position only", affs, err)
		}
	})
}

// centreBy reads a centre's profile as staff.
func centreBy(t *testing.T, c *testkit.Client, id string) centreOut {
	t.Helper()
	var out struct{ Node centreOut }
	c.MustDo(`query($id: ID!) { node(id: $id) { ... on HostCentre { `+centreFields+` coordinators { id name } } } }`, map[string]any{"id": id}, &out)
	return out.Node
}

// TestDirectoryCoordinatorEditsOwnCentreOnly: updateHostCentre from both sides, and both a
// coordinator's and a staff edit on the audit trail.
func TestDirectoryCoordinatorEditsOwnCentreOnly(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		d := newDirectory(t, e)
		a := d.a
		edit := map[string]any{"id": d.centreLyon, "acceptingObservers": false, "description": "Observers are welcome from **March**."}

		before := dirSnapshot(t, e)
		if r := a.anon.Do(updateCentreM, map[string]any{"in": edit}); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("anonymous updateHostCentre: %s", r.Body)
		}
		for who, c := range map[string]*testkit.Client{"trainee": a.trainee, "other trainee": a.other, "coordinator of another centre": d.coordB} {
			if r := c.Do(updateCentreM, map[string]any{"in": edit}); r.Code() != "FORBIDDEN" || strings.Contains(string(r.Body), "March") {
				t.Errorf("updateHostCentre by %s: %s, want FORBIDDEN", who, r.Body)
			}
		}
		// The coordinator of Lyon cannot edit Musterstadt either, nor a centre nobody coordinates.
		for _, id := range []string{d.centreMusterstadt, d.centreMilano} {
			if r := a.host.Do(updateCentreM, map[string]any{"in": map[string]any{"id": id, "acceptingObservers": false}}); r.Code() != "FORBIDDEN" {
				t.Errorf("Lyon's coordinator edits %s: %s, want FORBIDDEN", id, r.Body)
			}
		}
		if after := dirSnapshot(t, e); after != before {
			t.Fatalf("refused edits changed the directory:\nbefore %s\nafter  %s", before, after)
		}

		// The coordinator edits their own centre; languages are normalised to lower case.
		p := mustMutate(t, a.host, updateCentreM, map[string]any{
			"id": d.centreLyon, "acceptingObservers": false, "description": "Observers are welcome from **March**.",
			"languages": []string{"FR", "en", "It"}, "products": []string{" tisagenlecleucel ", "lisocabtagene maraleucel"},
		})
		c := p.HostCentre
		if c == nil || c.AcceptingObservers || c.Description != "Observers are welcome from **March**." ||
			!slices.Equal(c.Languages, []string{"fr", "en", "it"}) || !slices.Equal(c.Products, []string{"tisagenlecleucel", "lisocabtagene maraleucel"}) {
			t.Fatalf("coordinator's edit: %+v", c)
		}
		// Fields left out stay as they were.
		if c.Name != "CAR-T Unit, Hôpital Saint-Exemple" || c.AnnualPatients != 85 || c.Accreditation != "JACIE" ||
			c.AccreditationExpiresOn == nil || *c.AccreditationExpiresOn != "2027-06-30" || !slices.Equal(c.FocusAreas, []string{"LYMPHOMA", "MYELOMA", "CELL_PROCESSING"}) {
			t.Errorf("omitted fields changed: %+v", c)
		}
		// Staff edit any centre, clearing a list and the expiry date.
		p = mustMutate(t, a.staff, updateCentreM, map[string]any{
			"id": d.centreLyon, "annualPatients": 90, "clearAccreditationExpiresOn": true, "focusAreas": []string{},
		})
		if c := p.HostCentre; c.AnnualPatients != 90 || c.AccreditationExpiresOn != nil || len(c.FocusAreas) != 0 || c.Accreditation != "JACIE" {
			t.Errorf("staff edit: %+v", c)
		}
		// The other coordinator's centre is untouched by all this.
		if m := centreBy(t, a.staff, d.centreMusterstadt); !m.AcceptingObservers || m.AnnualPatients != 60 || m.Description != "" {
			t.Errorf("Musterstadt changed: %+v", m)
		}

		// Both edits are on the audit trail, with who and which fields.
		var au struct {
			AuditEvents struct {
				Edges []struct {
					Node struct {
						ActorEmail, Action, ObjectType, ObjectID, RequestID string
						Details                                             map[string]any
					}
				}
			}
		}
		a.staff.MustDo(`{ auditEvents(first: 100) { edges { node { actorEmail action objectType objectID requestID details } } } }`, nil, &au)
		got := map[string][]string{} // actor → the changed fields of each event
		for _, ed := range au.AuditEvents.Edges {
			n := ed.Node
			if n.Action == "host_centre.update" && n.ObjectID == d.centreLyon {
				if n.RequestID == "" || n.ObjectType != "HostCentre" {
					t.Errorf("incomplete audit event %+v", n)
				}
				got[n.ActorEmail] = append(got[n.ActorEmail], fmt.Sprint(n.Details["fields"]))
			}
		}
		if want := []string{"accepting_observers,description,languages,products"}; !slices.Equal(got["claire.martin@hopital.example.fr"], want) {
			t.Errorf("coordinator's edits on the audit trail: %q, want %q", got["claire.martin@hopital.example.fr"], want)
		}
		// Staff: adding Claire as coordinator (an edge, no fields) while seeding, then the edit.
		if want := "accreditation_expires_on,annual_patients,focus_areas"; !slices.Contains(got["office@coalition.test"], want) {
			t.Errorf("staff edits on the audit trail: %q, want one with %q", got["office@coalition.test"], want)
		}

		// A coordinator removed from the centre, or without the role, can no longer edit it.
		mustMutate(t, a.staff, addCoordM, map[string]any{"hostCentreId": d.centreMilano, "userId": d.coordBID})
		mustMutate(t, d.coordB, updateCentreM, map[string]any{"id": d.centreMilano, "annualPatients": 45})
		mustMutate(t, a.staff, removeCoordM, map[string]any{"hostCentreId": d.centreMilano, "userId": d.coordBID})
		if r := d.coordB.Do(updateCentreM, map[string]any{"in": map[string]any{"id": d.centreMilano, "annualPatients": 1}}); r.Code() != "FORBIDDEN" {
			t.Errorf("removed coordinator edits: %s, want FORBIDDEN", r.Body)
		}
		a.staff.MustDo(`mutation($id: ID!) { revokeRole(input: {userId: $id, role: HOST_COORDINATOR}) { userErrors { code } } }`, map[string]any{"id": a.hostID}, nil)
		if r := a.host.Do(updateCentreM, map[string]any{"in": map[string]any{"id": d.centreLyon, "annualPatients": 1}}); r.Code() != "FORBIDDEN" {
			t.Errorf("coordinator without the role edits: %s, want FORBIDDEN", r.Body)
		}
		if m := centreBy(t, a.staff, d.centreMilano); m.AnnualPatients != 45 {
			t.Errorf("Milano annual patients %d, want 45", m.AnnualPatients)
		}
		if m := centreBy(t, a.staff, d.centreLyon); m.AnnualPatients != 90 {
			t.Errorf("Lyon annual patients %d, want 90", m.AnnualPatients)
		}
		// A coordinator of a deactivated hospital's centre loses sight of it, so cannot edit it.
		mustMutate(t, a.staff, updateOrgM, map[string]any{"id": d.musterstadt, "active": false})
		if p := mutate(t, d.coordB, updateCentreM, map[string]any{"id": d.centreMusterstadt, "annualPatients": 1}); len(p.UserErrors) != 1 || p.UserErrors[0].Code != "NOT_FOUND" || p.HostCentre != nil {
			t.Errorf("edit of a hidden centre: %+v, want NOT_FOUND", p)
		}
	})
}

// TestDirectoryBadInputChangesNothing: every mutation refuses bad input with a user error
// on the right field, and changes nothing.
func TestDirectoryBadInputChangesNothing(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		d := newDirectory(t, e)
		staff := d.a.staff
		with := func(base map[string]any, k string, v any) map[string]any {
			m := map[string]any{}
			for bk, bv := range base {
				m[bk] = bv
			}
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
			return m
		}
		org := map[string]any{"name": "Spitalul Clinic Exemplu, Cluj (fictional)", "kind": "HOSPITAL", "country": "RO", "city": "Cluj-Napoca", "website": "https://spital.example.ro"}
		centre := map[string]any{"organisationId": d.brno, "name": "CAR-T Programme, FN Brno", "city": "Brno", "country": "CZ",
			"languages": []string{"cs", "en"}, "adult": true, "paediatric": false, "focusAreas": []string{"LYMPHOMA"}}
		many := func(n int, f func(i int) string) []string {
			out := make([]string, n)
			for i := range out {
				out[i] = f(i)
			}
			return out
		}
		type badCase struct {
			name     string
			client   *testkit.Client
			query    string
			in       map[string]any
			field    string
			code     string
			mentions string // a word the message must contain, when it matters
		}
		cases := []badCase{
			{"org: no name", staff, createOrgM, with(org, "name", "   "), "input.name", "REQUIRED", ""},
			{"org: long name", staff, createOrgM, with(org, "name", strings.Repeat("n", 201)), "input.name", "TOO_LONG", "200"},
			{"org: name of 150 accented letters (over 200 bytes)", staff, createOrgM, with(org, "name", strings.Repeat("ř", 150)), "input.name", "TOO_LONG", "bytes"},
			{"org: two-line name", staff, createOrgM, with(org, "name", "Spital\nExemplu"), "input.name", "INVALID", ""},
			{"org: lower-case country", staff, createOrgM, with(org, "country", "ro"), "input.country", "INVALID", "upper case"},
			{"org: unknown country", staff, createOrgM, with(org, "country", "XX"), "input.country", "INVALID", "ISO 3166-1"},
			{"org: alpha-3 country", staff, createOrgM, with(org, "country", "ROU"), "input.country", "INVALID", ""},
			{"org: empty country", staff, createOrgM, with(org, "country", ""), "input.country", "REQUIRED", ""},
			{"org: long city", staff, createOrgM, with(org, "city", strings.Repeat("c", 101)), "input.city", "TOO_LONG", ""},
			{"org: ftp website", staff, createOrgM, with(org, "website", "ftp://spital.example.ro"), "input.website", "INVALID", ""},
			{"org: javascript website", staff, createOrgM, with(org, "website", "javascript:alert(1)"), "input.website", "INVALID", ""},
			{"org: website without host", staff, createOrgM, with(org, "website", "https://"), "input.website", "INVALID", ""},
			{"org: website with credentials", staff, createOrgM, with(org, "website", "https://user:pw@spital.example.ro"), "input.website", "INVALID", ""},
			{"org: long website", staff, createOrgM, with(org, "website", "https://spital.example.ro/"+strings.Repeat("p", 480)), "input.website", "TOO_LONG", ""},
			{"org: name taken in the country (any case)", staff, createOrgM, with(with(org, "name", "HÔPITAL SAINT-EXEMPLE, LYON (FICTIONAL)"), "country", "FR"), "input.name", "TAKEN", ""},
			{"org: name of an inactive organisation", staff, createOrgM, with(with(org, "name", "Defunct Cell Therapy Consortium (fictional)"), "country", "DE"), "input.name", "TAKEN", ""},
			{"update org: unknown id", staff, updateOrgM, map[string]any{"id": "org_01JC3W7Q5T8R9XJ6M8F2K4N1PZ", "city": "Nowhere"}, "input.id", "NOT_FOUND", ""},
			{"update org: id of another type", staff, updateOrgM, map[string]any{"id": d.centreLyon, "city": "Nowhere"}, "input.id", "NOT_FOUND", ""},
			{"update org: empty name", staff, updateOrgM, map[string]any{"id": d.milano, "name": ""}, "input.name", "REQUIRED", ""},
			{"update org: another's name", staff, updateOrgM, map[string]any{"id": d.lyon, "name": "Clinique Fermée, Marseille (fictional)"}, "input.name", "TAKEN", ""},
			{"update org: moving into a taken name", staff, updateOrgM, map[string]any{"id": d.defunct, "name": "Universitätsklinikum Musterstadt (fictional)"}, "input.name", "TAKEN", ""},
			{"update org: hospital with a centre becomes a society", staff, updateOrgM, map[string]any{"id": d.lyon, "kind": "SOCIETY"}, "input.kind", "INVALID_STATE", ""},
			{"update org: bad country", staff, updateOrgM, map[string]any{"id": d.milano, "country": "Italy"}, "input.country", "INVALID", ""},
			{"centre: unknown organisation", staff, createCentreM, with(centre, "organisationId", "org_01JC3W7Q5T8R9XJ6M8F2K4N1PZ"), "input.organisationId", "NOT_FOUND", ""},
			{"centre: organisation is a society", staff, createCentreM, with(centre, "organisationId", d.society), "input.organisationId", "INVALID", "HOSPITAL"},
			{"centre: no name", staff, createCentreM, with(centre, "name", ""), "input.name", "REQUIRED", ""},
			{"centre: no city", staff, createCentreM, with(centre, "city", " "), "input.city", "REQUIRED", ""},
			{"centre: lower-case country", staff, createCentreM, with(centre, "country", "cz"), "input.country", "INVALID", "upper case"},
			{"centre: no languages", staff, createCentreM, with(centre, "languages", []string{}), "input.languages", "REQUIRED", ""},
			{"centre: unknown language", staff, createCentreM, with(centre, "languages", []string{"cs", "xx"}), "input.languages.1", "INVALID", "ISO 639-1"},
			{"centre: language name", staff, createCentreM, with(centre, "languages", []string{"Czech"}), "input.languages.0", "INVALID", ""},
			{"centre: language twice", staff, createCentreM, with(centre, "languages", []string{"cs", "en", "CS"}), "input.languages.2", "INVALID", "twice"},
			{"centre: eleven languages", staff, createCentreM, with(centre, "languages", []string{"cs", "en", "de", "fr", "it", "pl", "ro", "sk", "hu", "es", "pt"}), "input.languages", "INVALID", "10"},
			{"centre: neither adults nor children", staff, createCentreM, with(centre, "adult", false), "input.adult", "INVALID", ""},
			{"centre: focus area twice", staff, createCentreM, with(centre, "focusAreas", []string{"LYMPHOMA", "ALL", "LYMPHOMA"}), "input.focusAreas.2", "INVALID", "twice"},
			{"centre: 21 products", staff, createCentreM, with(centre, "products", many(21, func(i int) string { return fmt.Sprintf("product %d", i) })), "input.products", "INVALID", "20"},
			{"centre: empty product", staff, createCentreM, with(centre, "products", []string{"tisagenlecleucel", "  "}), "input.products.1", "INVALID", ""},
			{"centre: long product", staff, createCentreM, with(centre, "products", []string{strings.Repeat("p", 101)}), "input.products.0", "TOO_LONG", ""},
			{"centre: product twice", staff, createCentreM, with(centre, "products", []string{"Tisagenlecleucel", "tisagenlecleucel "}), "input.products.1", "INVALID", "twice"},
			{"centre: negative patients", staff, createCentreM, with(centre, "annualPatients", -1), "input.annualPatients", "INVALID", ""},
			{"centre: too many patients", staff, createCentreM, with(centre, "annualPatients", 10001), "input.annualPatients", "INVALID", "10000"},
			{"centre: long accreditation", staff, createCentreM, with(centre, "accreditation", strings.Repeat("J", 101)), "input.accreditation", "TOO_LONG", ""},
			{"centre: expiry without accreditation", staff, createCentreM, with(centre, "accreditationExpiresOn", "2027-01-31"), "input.accreditationExpiresOn", "INVALID", "accreditation"},
			{"centre: long description", staff, createCentreM, with(centre, "description", strings.Repeat("d", 20001)), "input.description", "TOO_LONG", "20000"},
			{"update centre: unknown id", staff, updateCentreM, map[string]any{"id": "hcn_01JC3W7Q5T8R9XJ6M8F2K4N1PZ", "annualPatients": 3}, "input.id", "NOT_FOUND", ""},
			{"update centre: no languages left", d.a.host, updateCentreM, map[string]any{"id": d.centreLyon, "languages": []string{}}, "input.languages", "REQUIRED", ""},
			{"update centre: stops treating adults (no children either)", d.a.host, updateCentreM, map[string]any{"id": d.centreLyon, "adult": false}, "input.adult", "INVALID", ""},
			{"update centre: set and clear the expiry", d.a.host, updateCentreM, map[string]any{"id": d.centreLyon, "accreditationExpiresOn": "2028-01-01", "clearAccreditationExpiresOn": true}, "input.accreditationExpiresOn", "INVALID", ""},
			{"update centre: drop the accreditation but keep its expiry", d.a.host, updateCentreM, map[string]any{"id": d.centreLyon, "accreditation": ""}, "input.accreditationExpiresOn", "INVALID", ""},
			{"update centre: empty name", d.a.host, updateCentreM, map[string]any{"id": d.centreLyon, "name": ""}, "input.name", "REQUIRED", ""},
			{"update centre: long description", d.a.host, updateCentreM, map[string]any{"id": d.centreLyon, "description": strings.Repeat("é", 20001)}, "input.description", "TOO_LONG", ""},
			{"add coordinator: a trainee", staff, addCoordM, map[string]any{"hostCentreId": d.centreLyon, "userId": d.a.traineeID}, "input.userId", "INVALID_STATE", "HOST_COORDINATOR"},
			{"add coordinator: unknown user", staff, addCoordM, map[string]any{"hostCentreId": d.centreLyon, "userId": "usr_01JC3W7Q5T8R9XJ6M8F2K4N1PZ"}, "input.userId", "NOT_FOUND", ""},
			{"add coordinator: unknown centre", staff, addCoordM, map[string]any{"hostCentreId": "hcn_01JC3W7Q5T8R9XJ6M8F2K4N1PZ", "userId": d.coordBID}, "input.hostCentreId", "NOT_FOUND", ""},
			{"remove coordinator: not a coordinator", staff, removeCoordM, map[string]any{"hostCentreId": d.centreLyon, "userId": d.coordBID}, "input.userId", "NOT_FOUND", ""},
			{"remove coordinator: unknown centre", staff, removeCoordM, map[string]any{"hostCentreId": "hcn_01JC3W7Q5T8R9XJ6M8F2K4N1PZ", "userId": d.a.hostID}, "input.hostCentreId", "NOT_FOUND", ""},
			{"affiliation: unknown user", staff, setAffM, map[string]any{"userId": "usr_01JC3W7Q5T8R9XJ6M8F2K4N1PZ", "organisationId": d.brno, "position": "Fellow"}, "input.userId", "NOT_FOUND", ""},
			{"affiliation: unknown organisation", staff, setAffM, map[string]any{"userId": d.a.otherID, "organisationId": "org_01JC3W7Q5T8R9XJ6M8F2K4N1PZ", "position": "Fellow"}, "input.organisationId", "NOT_FOUND", ""},
			{"affiliation: long position", staff, setAffM, map[string]any{"userId": d.a.otherID, "organisationId": d.brno, "position": strings.Repeat("p", 201)}, "input.position", "TOO_LONG", ""},
			{"remove affiliation: unknown id", staff, removeAffM, map[string]any{"id": "aff_01JC3W7Q5T8R9XJ6M8F2K4N1PZ"}, "input.id", "NOT_FOUND", ""},
		}
		gone, _ := e.NewUser("jean.dupont@hopital.example.fr", "Jean Dupont", viewer.RoleHostCoordinator)
		staff.MustDo(`mutation($id: ID!) { setUserDisabled(input: {userId: $id, disabled: true}) { userErrors { code } } }`, map[string]any{"id": gone.ID}, nil)
		cases = append(cases, badCase{"add coordinator: a disabled user", staff, addCoordM, map[string]any{"hostCentreId": d.centreLyon, "userId": gone.ID}, "input.userId", "INVALID_STATE", "disabled"})
		before := dirSnapshot(t, e)
		for _, c := range cases {
			p := mutate(t, c.client, c.query, c.in)
			if len(p.UserErrors) == 0 {
				t.Errorf("%s: no user error, payload %+v", c.name, p)
				continue
			}
			ue := p.UserErrors[0]
			if strings.Join(ue.Field, ".") != c.field || ue.Code != c.code || !strings.Contains(ue.Message, c.mentions) || ue.Message == "" {
				t.Errorf("%s: got %+v, want %s on %s mentioning %q", c.name, p.UserErrors, c.code, c.field, c.mentions)
			}
			if p.Organisation != nil || p.HostCentre != nil || p.Affiliation != nil || p.RemovedID != nil {
				t.Errorf("%s: a payload with user errors carries a result: %+v", c.name, p)
			}
		}
		// Several problems at once are all reported.
		p := mutate(t, staff, createCentreM, with(with(with(centre, "name", ""), "languages", []string{"xx"}), "annualPatients", 20000))
		var fields []string
		for _, ue := range p.UserErrors {
			fields = append(fields, strings.Join(ue.Field, "."))
		}
		if want := []string{"input.name", "input.languages.0", "input.annualPatients"}; !slices.Equal(fields, want) {
			t.Errorf("several problems: %v, want %v", fields, want)
		}
		// Values the schema itself refuses.
		for name, in := range map[string]map[string]any{
			"impossible date":    with(with(centre, "accreditation", "JACIE"), "accreditationExpiresOn", "2027-02-30"),
			"date with time":     with(with(centre, "accreditation", "JACIE"), "accreditationExpiresOn", "2027-02-01T00:00:00Z"),
			"unknown focus area": with(centre, "focusAreas", []string{"GENE_THERAPY"}),
		} {
			if r := staff.Do(createCentreM, map[string]any{"in": in}); r.Code() != "BAD_REQUEST" {
				t.Errorf("%s: %s, want BAD_REQUEST", name, r.Body)
			}
		}
		if r := staff.Do(createOrgM, map[string]any{"in": with(org, "kind", "CLUB")}); r.Code() != "BAD_REQUEST" {
			t.Errorf("unknown kind: %s, want BAD_REQUEST", r.Body)
		}
		if after := dirSnapshot(t, e); after != before {
			t.Fatalf("refused mutations changed the directory:\nbefore %s\nafter  %s", before, after)
		}

		// Limits are inclusive; the same name in another country is fine; adding a
		// coordinator twice changes nothing.
		ok := mustMutate(t, staff, createCentreM, with(with(with(with(with(centre,
			"name", strings.Repeat("N", 200)),
			"languages", []string{"cs", "en", "de", "fr", "it", "pl", "ro", "sk", "hu", "es"}),
			"products", many(20, func(i int) string { return fmt.Sprintf("%s %d", strings.Repeat("p", 97), i%10) + string(rune('a'+i)) })),
			"annualPatients", 10000),
			"description", strings.Repeat("d", 20000)))
		if ok.HostCentre == nil || len(ok.HostCentre.Products) != 20 || ok.HostCentre.AnnualPatients != 10000 {
			t.Errorf("centre at the limits: %+v", ok.HostCentre)
		}
		if p := mustMutate(t, staff, createOrgM, with(with(org, "name", "Hôpital Saint-Exemple, Lyon (fictional)"), "country", "BE")); p.Organisation.Country != "BE" {
			t.Errorf("same name in another country: %+v", p.Organisation)
		}
		for range 2 {
			p := mustMutate(t, staff, addCoordM, map[string]any{"hostCentreId": d.centreLyon, "userId": d.a.hostID})
			if len(p.HostCentre.Coordinators) != 1 {
				t.Errorf("coordinators after adding Claire again: %+v", p.HostCentre.Coordinators)
			}
		}
	})
}
