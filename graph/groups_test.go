package graph_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/workinggroup"
	"github.com/gocart-coalition/coalition/internal/app"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

const (
	groupFields  = `id name workPackage purpose purposeHtml visibility archived`
	createGroupM = `mutation($in: CreateWorkingGroupInput!) { createWorkingGroup(input: $in) {
		workingGroup { ` + groupFields + ` } userErrors { field code message } } }`
	updateGroupM = `mutation($in: UpdateWorkingGroupInput!) { updateWorkingGroup(input: $in) {
		workingGroup { ` + groupFields + ` } userErrors { field code message } } }`
	mbrFields = `id role status answer termStart termEnd endedOn endReason user { id name email }
		group { id name } organisation { id name }`
	inviteM = `mutation($in: InviteMemberInput!) { inviteMember(input: $in) {
		membership { ` + mbrFields + ` } userErrors { field code message } } }`
	acceptM = `mutation($in: MembershipIdInput!) { acceptMembership(input: $in) {
		membership { ` + mbrFields + ` } userErrors { field code message } } }`
	declineM = `mutation($in: MembershipIdInput!) { declineMembership(input: $in) {
		membership { ` + mbrFields + ` } userErrors { field code message } } }`
	endM = `mutation($in: EndMembershipInput!) { endMembership(input: $in) {
		membership { ` + mbrFields + ` } userErrors { field code message } } }`
	groupsQ = `query($f: WorkingGroupFilters) { workingGroups(first: 10, filter: $f) { totalCount edges { node {
		id name visibility chair { user { name email } }
		memberships(first: 20) { edges { node { id role status user { name email } } } } } } } }`
)

type mbrOut struct {
	ID, Role, Status, Answer, TermStart, TermEnd string
	EndedOn                                      *string
	EndReason                                    string
	User                                         struct {
		ID, Name string
		Email    *string
	}
	Group        struct{ ID, Name string }
	Organisation *struct{ ID, Name string }
}

type groupOut struct {
	ID, Name, WorkPackage, Purpose, PurposeHTML, Visibility string
	Archived                                                bool
}

type groupPayload struct {
	WorkingGroup *groupOut
	Membership   *mbrOut
	UserErrors   []userErr
}

// gmutate runs a working-group mutation that must not fail at the top level.
func gmutate(t *testing.T, c *testkit.Client, query string, in map[string]any) groupPayload {
	t.Helper()
	var out map[string]groupPayload
	c.MustDo(query, map[string]any{"in": in}, &out)
	for _, p := range out {
		return p
	}
	t.Fatalf("no payload")
	return groupPayload{}
}

// gmust is gmutate for a mutation that must succeed.
func gmust(t *testing.T, c *testkit.Client, query string, in map[string]any) groupPayload {
	t.Helper()
	p := gmutate(t, c, query, in)
	if len(p.UserErrors) > 0 {
		t.Fatalf("unexpected user errors for %v: %+v", in, p.UserErrors)
	}
	return p
}

// codes returns the codes of user errors.
func codes(ue []userErr) []string { return names(ue, func(e userErr) string { return e.Code }) }

// world is the working-groups fixture: three groups, five people, memberships in every state.
type world struct {
	a actors
	// nora is signed in and has no memberships; jana is Marek's co-member in the panel.
	nora, jana     *testkit.Client
	noraID, janaID string
	org            string
	// groups
	pharm, panel, registry string
	// memberships
	claireChair, marekPharm, marekPanel, janaPanel, clairePanel, ioanaChair, marekRegistryOld string
}

func invite(t *testing.T, staff *testkit.Client, group, user, role, start, end string) string {
	t.Helper()
	return gmust(t, staff, inviteM, map[string]any{"groupId": group, "userId": user, "role": role, "termStart": start, "termEnd": end}).Membership.ID
}

func accept(t *testing.T, c *testkit.Client, id string) {
	t.Helper()
	if p := gmust(t, c, acceptM, map[string]any{"id": id}); p.Membership.Answer != "ACCEPTED" {
		t.Fatalf("accept %s: answer %s", id, p.Membership.Answer)
	}
}

func newWorld(t *testing.T, e *testkit.Env) world {
	t.Helper()
	w := world{a: newActors(t, e)}
	u, c := e.NewUser("nora.nobody@example.org", "Nora Nobody", viewer.RoleTrainee)
	w.nora, w.noraID = c, string(u.ID)
	u, c = e.NewUser("jana.novakova@fnbrno.example.cz", "Jana Nováková", viewer.RoleTrainee)
	w.jana, w.janaID = c, string(u.ID)
	staff := w.a.staff
	w.org = mustMutate(t, staff, createOrgM, map[string]any{"name": "Fakultní nemocnice Brno (fictional)", "kind": "HOSPITAL", "country": "CZ"}).Organisation.ID
	group := func(name, wp, vis string) string {
		return gmust(t, staff, createGroupM, map[string]any{"name": name, "workPackage": wp, "visibility": vis,
			"purpose": "Harmonise **CAR-T** pharmacy practice."}).WorkingGroup.ID
	}
	w.pharm = group("Pharmacist Working Group", "STANDARDS_OF_CARE", "PUBLIC")
	w.panel = group("Delphi Expert Panel", "SCIENTIFIC_EXCELLENCE", "INTERNAL")
	w.registry = group("Registry Data Group", "DATA_HARMONISATION", "INTERNAL")

	// Last year: Marek observed the registry group; that term is over.
	e.Clock.Set(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	w.marekRegistryOld = invite(t, staff, w.registry, w.a.traineeID, "OBSERVER", "2026-01-10", "2026-12-31")
	accept(t, w.a.trainee, w.marekRegistryOld)
	e.Clock.Set(testkit.DefaultNow) // 2027-01-12

	w.claireChair = invite(t, staff, w.pharm, w.a.hostID, "CHAIR", "2027-01-01", "2028-12-31")
	accept(t, w.a.host, w.claireChair)
	w.marekPharm = gmust(t, staff, inviteM, map[string]any{"groupId": w.pharm, "userId": w.a.traineeID, "role": "MEMBER",
		"organisationId": w.org, "termStart": "2027-01-01", "termEnd": "2027-01-31"}).Membership.ID
	accept(t, w.a.trainee, w.marekPharm)
	w.marekPanel = invite(t, staff, w.panel, w.a.traineeID, "MEMBER", "2027-01-01", "2027-12-31")
	accept(t, w.a.trainee, w.marekPanel)
	w.janaPanel = invite(t, staff, w.panel, w.janaID, "MEMBER", "2027-01-01", "2027-12-31")
	accept(t, w.jana, w.janaPanel)
	w.clairePanel = invite(t, staff, w.panel, w.a.hostID, "MEMBER", "2027-02-01", "2027-12-31") // pending
	w.ioanaChair = invite(t, staff, w.registry, w.a.otherID, "CHAIR", "2027-01-01", "2028-12-31")
	accept(t, w.a.other, w.ioanaChair)
	return w
}

type groupsConn struct {
	WorkingGroups struct {
		TotalCount int
		Edges      []struct {
			Node struct {
				ID, Name, Visibility string
				Chair                *struct {
					User struct {
						Name  string
						Email *string
					}
				}
				Memberships struct {
					Edges []struct{ Node mbrOut }
				}
			}
		}
	}
}

// summary renders what the viewer sees: "group: member, member" per group, members sorted.
func (c groupsConn) summary() []string {
	var out []string
	for _, e := range c.WorkingGroups.Edges {
		var ms []string
		for _, m := range e.Node.Memberships.Edges {
			ms = append(ms, m.Node.User.Name)
		}
		slices.Sort(ms)
		out = append(out, e.Node.Name+": "+strings.Join(ms, ", "))
	}
	return out
}

func listGroups(t *testing.T, c *testkit.Client, filter map[string]any) groupsConn {
	t.Helper()
	var out groupsConn
	c.MustDo(groupsQ, map[string]any{"f": filter}, &out)
	return out
}

func TestWorkingGroupsWhoSeesWhat(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newWorld(t, e)
		a := w.a
		pharm := "Pharmacist Working Group: Claire Martin, Marek Dvořák"
		for _, c := range []struct {
			name string
			cl   *testkit.Client
			want []string
		}{
			{"anonymous: public groups and their chairs", a.anon, []string{"Pharmacist Working Group: Claire Martin"}},
			{"signed in, no memberships: public groups and their current members", w.nora, []string{pharm}},
			{"member: co-members, own memberships in any state, not others' past or pending ones", a.trainee, []string{
				"Delphi Expert Panel: Jana Nováková, Marek Dvořák", pharm, "Registry Data Group: Marek Dvořák"}},
			{"co-member", w.jana, []string{"Delphi Expert Panel: Jana Nováková, Marek Dvořák", pharm}},
			{"invitee: the group and the own invitation, no members yet", a.host, []string{"Delphi Expert Panel: Claire Martin", pharm}},
			{"another group's member", a.other, []string{pharm, "Registry Data Group: Ioana Popescu"}},
			{"staff: everything", a.staff, []string{"Delphi Expert Panel: Claire Martin, Jana Nováková, Marek Dvořák", pharm,
				"Registry Data Group: Ioana Popescu, Marek Dvořák"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				got := listGroups(t, c.cl, nil)
				if s := got.summary(); !slices.Equal(s, c.want) {
					t.Errorf("sees %q, want %q", s, c.want)
				}
				if got.WorkingGroups.TotalCount != len(c.want) {
					t.Errorf("totalCount = %d, want %d", got.WorkingGroups.TotalCount, len(c.want))
				}
				for _, g := range got.WorkingGroups.Edges {
					if g.Node.Name != "Pharmacist Working Group" {
						continue
					}
					if g.Node.Chair == nil || g.Node.Chair.User.Name != "Claire Martin" {
						t.Errorf("chair = %+v, want Claire Martin", g.Node.Chair)
					}
					seeEmail := c.cl == a.staff || c.cl == a.host
					if g.Node.Chair != nil && (g.Node.Chair.User.Email != nil) != seeEmail {
						t.Errorf("chair email = %v, want shown: %v", g.Node.Chair.User.Email, seeEmail)
					}
				}
			})
		}

		// Filters and search only narrow what the viewer may see: an internal group is not
		// discoverable by a non-member.
		for _, c := range []struct {
			name   string
			cl     *testkit.Client
			filter map[string]any
			want   int
		}{
			{"anonymous searches the panel", a.anon, map[string]any{"search": "delphi"}, 0},
			{"non-member searches the panel", w.nora, map[string]any{"search": "DELPHI"}, 0},
			{"another group's member searches the panel", a.other, map[string]any{"search": "panel"}, 0},
			{"member searches the panel", a.trainee, map[string]any{"search": "delphi"}, 1},
			{"anonymous filters internal", a.anon, map[string]any{"visibility": "INTERNAL"}, 0},
			{"non-member filters internal", w.nora, map[string]any{"visibility": "INTERNAL"}, 0},
			{"another group's member filters internal", a.other, map[string]any{"visibility": "INTERNAL"}, 1},
			{"staff filter internal", a.staff, map[string]any{"visibility": "INTERNAL"}, 2},
			{"non-member filters the work package", w.nora, map[string]any{"workPackage": "SCIENTIFIC_EXCELLENCE"}, 0},
			{"member filters the work package", a.trainee, map[string]any{"workPackage": "SCIENTIFIC_EXCELLENCE"}, 1},
		} {
			t.Run(c.name, func(t *testing.T) {
				if got := listGroups(t, c.cl, c.filter).WorkingGroups.TotalCount; got != c.want {
					t.Errorf("totalCount = %d, want %d", got, c.want)
				}
			})
		}
		if r := a.anon.Do(groupsQ, map[string]any{"f": map[string]any{"search": strings.Repeat("x", 101)}}); r.Code() != "BAD_REQUEST" {
			t.Errorf("search of 101 characters: %s, want BAD_REQUEST", r.Body)
		}

		// node(id:) answers exactly like the lists.
		node := `query($id: ID!) { node(id: $id) { id } }`
		for _, c := range []struct {
			name string
			cl   *testkit.Client
			id   string
			ok   bool
		}{
			{"anonymous: internal group", a.anon, w.panel, false},
			{"anonymous: public group", a.anon, w.pharm, true},
			{"non-member: internal group", w.nora, w.panel, false},
			{"another group's member: internal group", a.other, w.panel, false},
			{"invitee: the group", a.host, w.panel, true},
			{"member: the group", a.trainee, w.panel, true},
			{"anonymous: a chair's membership", a.anon, w.claireChair, true},
			{"anonymous: a member's membership", a.anon, w.marekPharm, false},
			{"signed in: a public group's member", w.nora, w.marekPharm, true},
			{"anonymous: an internal group's chair", a.anon, w.ioanaChair, false},
			{"non-member: an internal membership", w.nora, w.marekPanel, false},
			{"another group's member: an internal membership", a.other, w.marekPanel, false},
			{"invitee (not yet a member): an internal membership", a.host, w.marekPanel, false},
			{"co-member: an internal membership", w.jana, w.marekPanel, true},
			{"member: own invitation of someone else", a.trainee, w.clairePanel, false},
			{"invitee: own invitation", a.host, w.clairePanel, true},
			{"former member: a current member", a.trainee, w.ioanaChair, false},
			{"former member: own old membership", a.trainee, w.marekRegistryOld, true},
			{"another group's member: the former member's old membership", a.other, w.marekRegistryOld, false},
			{"staff: anything", a.staff, w.marekRegistryOld, true},
			{"anonymous: a member", a.anon, a.traineeID, false},
			{"anonymous: a public group's chair", a.anon, a.hostID, true},
			{"signed in: a public group's member", w.nora, a.traineeID, true},
			{"signed in: an internal group's member", w.nora, w.janaID, false},
			{"co-member: the co-member", a.trainee, w.janaID, true},
			{"another group's member: an internal group's member", a.other, w.janaID, false},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := c.cl.Do(node, map[string]any{"id": c.id})
				if c.ok && (len(r.Errors) > 0 || !strings.Contains(string(r.Data), c.id)) {
					t.Errorf("node(%s): %s, want it", c.id, r.Body)
				}
				if !c.ok && r.Code() != "NOT_FOUND" {
					t.Errorf("node(%s): %s, want NOT_FOUND", c.id, r.Body)
				}
			})
		}

		// User.memberships shows what the viewer may see of a person, and nobody's email.
		userQ := `query($id: ID!) { node(id: $id) { ... on User { name email memberships { group { name } role status } } } }`
		var marek struct {
			Node struct {
				Name        string
				Email       *string
				Memberships []struct {
					Group        struct{ Name string }
					Role, Status string
				}
			}
		}
		w.nora.MustDo(userQ, map[string]any{"id": a.traineeID}, &marek)
		if len(marek.Node.Memberships) != 1 || marek.Node.Memberships[0].Group.Name != "Pharmacist Working Group" || marek.Node.Email != nil {
			t.Errorf("Nora sees Marek as %+v, want his public membership only and no email", marek.Node)
		}
		var me struct {
			Me struct {
				Memberships []struct {
					Group  struct{ Name string }
					Status string
				}
			}
		}
		a.trainee.MustDo(`{ me { memberships { group { name } status } } }`, nil, &me)
		var statuses []string
		for _, m := range me.Me.Memberships {
			statuses = append(statuses, m.Group.Name+"="+m.Status)
		}
		slices.Sort(statuses)
		if want := []string{"Delphi Expert Panel=ACTIVE", "Pharmacist Working Group=ACTIVE", "Registry Data Group=ENDED"}; !slices.Equal(statuses, want) {
			t.Errorf("Marek's memberships: %q, want %q", statuses, want)
		}

		// Status follows the dates in Brussels: 23:30 UTC on 31 January is already
		// 1 February there, the day after Marek's term in the pharmacists' group.
		e.Clock.Set(time.Date(2027, 1, 31, 23, 30, 0, 0, time.UTC))
		if got := listGroups(t, w.nora, nil).summary(); !slices.Equal(got, []string{"Pharmacist Working Group: Claire Martin"}) {
			t.Errorf("after Marek's term, Nora sees %q", got)
		}
		var m struct{ Node mbrOut }
		a.trainee.MustDo(`query($id: ID!) { node(id: $id) { ... on Membership { status } } }`, map[string]any{"id": w.marekPharm}, &m)
		if m.Node.Status != "ENDED" {
			t.Errorf("Marek's pharmacists' membership on 1 February (Brussels): %s, want ENDED", m.Node.Status)
		}
		e.Clock.Set(time.Date(2027, 1, 31, 22, 30, 0, 0, time.UTC)) // 23:30 in Brussels: still the last day
		a.trainee.MustDo(`query($id: ID!) { node(id: $id) { ... on Membership { status } } }`, map[string]any{"id": w.marekPharm}, &m)
		if m.Node.Status != "ACTIVE" {
			t.Errorf("Marek's pharmacists' membership on its last day: %s, want ACTIVE", m.Node.Status)
		}
	})
}

// groupsSnapshot summarises everything the working-group mutations could change.
func groupsSnapshot(t *testing.T, e *testkit.Env) string {
	t.Helper()
	ctx := e.System()
	gs, err := e.DB.Client.WorkingGroup.Query().Order(workinggroup.ByID()).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := e.DB.Client.Membership.Query().Order(membership.ByID()).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mail, err := e.DB.Client.OutboxMessage.Query().Select(outboxmessage.FieldDedupeKey).Strings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(mail)
	b, err := json.Marshal(struct{ Groups, Memberships, Mail any }{gs, ms, mail})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWorkingGroupMutationsAuthorisation(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newWorld(t, e)
		a := w.a
		before := groupsSnapshot(t, e)
		staffOnly := []struct {
			name, query string
			in          map[string]any
		}{
			{"createWorkingGroup", createGroupM, map[string]any{"name": "New group", "workPackage": "EDUCATION_AND_TRAINING", "visibility": "PUBLIC"}},
			{"updateWorkingGroup", updateGroupM, map[string]any{"id": w.pharm, "archived": true}},
			{"inviteMember", inviteM, map[string]any{"groupId": w.pharm, "userId": w.noraID, "role": "MEMBER", "termStart": "2027-02-01", "termEnd": "2027-12-31"}},
			{"endMembership", endM, map[string]any{"id": w.marekPanel, "lastDay": "2027-03-01", "reason": "Left"}},
		}
		for _, m := range staffOnly {
			for _, c := range []struct {
				who  string
				cl   *testkit.Client
				code string
			}{
				{"anonymous", a.anon, "UNAUTHENTICATED"},
				{"trainee", w.nora, "FORBIDDEN"},
				{"member", a.trainee, "FORBIDDEN"},
				{"chair", a.host, "FORBIDDEN"},
				{"another group's chair", a.other, "FORBIDDEN"},
			} {
				if r := c.cl.Do(m.query, map[string]any{"in": m.in}); r.Code() != c.code {
					t.Errorf("%s as %s: %s, want %s", m.name, c.who, r.Body, c.code)
				}
			}
		}
		// Answering is for the invitee only: others cannot see a pending invitation, and
		// staff, who can, may not answer for the person.
		for _, q := range []struct{ name, query string }{{"acceptMembership", acceptM}, {"declineMembership", declineM}} {
			for _, c := range []struct {
				who  string
				cl   *testkit.Client
				code string
			}{
				{"anonymous", a.anon, "UNAUTHENTICATED"},
				{"trainee", w.nora, "NOT_FOUND"},
				{"a member of the group", a.trainee, "NOT_FOUND"},
				{"another group's member", a.other, "NOT_FOUND"},
				{"staff", a.staff, "FORBIDDEN"},
			} {
				if r := c.cl.Do(q.query, map[string]any{"in": map[string]any{"id": w.clairePanel}}); r.Code() != c.code {
					t.Errorf("%s as %s: %s, want %s", q.name, c.who, r.Body, c.code)
				}
			}
		}
		// Nor may a co-member answer for a current member whose membership they can see.
		if r := w.jana.Do(declineM, map[string]any{"in": map[string]any{"id": w.marekPanel}}); r.Code() != "FORBIDDEN" {
			t.Errorf("co-member declines for Marek: %s, want FORBIDDEN", r.Body)
		}
		if after := groupsSnapshot(t, e); after != before {
			t.Errorf("refused mutations changed something:\nbefore %s\nafter  %s", before, after)
		}
	})
}

func TestWorkingGroupRules(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newWorld(t, e)
		a, staff := w.a, w.a.staff
		// Disable Nora's account for the invitation rules (the staff mutation, as in production).
		var disabled map[string]any
		staff.MustDo(`mutation($id: ID!) { setUserDisabled(input: {userId: $id, disabled: true}) { userErrors { code } } }`,
			map[string]any{"id": w.noraID}, &disabled)
		archived := gmust(t, staff, createGroupM, map[string]any{"name": "Old Task Force", "workPackage": "POLICY_AND_ADVOCACY", "visibility": "PUBLIC"}).WorkingGroup.ID
		gmust(t, staff, updateGroupM, map[string]any{"id": archived, "archived": true})
		inactiveOrg := mustMutate(t, staff, createOrgM, map[string]any{"name": "Closed Society (fictional)", "kind": "SOCIETY", "country": "BE"}).Organisation.ID
		mustMutate(t, staff, updateOrgM, map[string]any{"id": inactiveOrg, "active": false})

		before := groupsSnapshot(t, e)
		inv := func(group, user, role, start, end string) map[string]any {
			return map[string]any{"groupId": group, "userId": user, "role": role, "termStart": start, "termEnd": end}
		}
		for _, c := range []struct {
			name  string
			query string
			in    map[string]any
			want  []string
			field string
		}{
			{"group name missing", createGroupM, map[string]any{"name": "  ", "workPackage": "EDUCATION_AND_TRAINING", "visibility": "PUBLIC"}, []string{"REQUIRED"}, "name"},
			{"group name too long", createGroupM, map[string]any{"name": strings.Repeat("n", 201), "workPackage": "EDUCATION_AND_TRAINING", "visibility": "PUBLIC"}, []string{"TOO_LONG"}, "name"},
			{"group name taken, ignoring case", createGroupM, map[string]any{"name": "pharmacist working GROUP", "workPackage": "EDUCATION_AND_TRAINING", "visibility": "PUBLIC"}, []string{"TAKEN"}, "name"},
			{"purpose too long", createGroupM, map[string]any{"name": "Nurses", "workPackage": "EDUCATION_AND_TRAINING", "visibility": "PUBLIC", "purpose": strings.Repeat("p", 20001)}, []string{"TOO_LONG"}, "purpose"},
			{"rename to a taken name", updateGroupM, map[string]any{"id": w.panel, "name": "Registry Data Group"}, []string{"TAKEN"}, "name"},
			{"unknown group", updateGroupM, map[string]any{"id": "wgp_01JAAAAAAAAAAAAAAAAAAAAAAA", "name": "X"}, []string{"NOT_FOUND"}, "id"},
			{"invite to an unknown group", inviteM, inv("wgp_01JAAAAAAAAAAAAAAAAAAAAAAA", a.staffID, "MEMBER", "2027-02-01", "2027-12-31"), []string{"NOT_FOUND"}, "groupId"},
			{"invite an unknown user", inviteM, inv(w.pharm, "usr_01JAAAAAAAAAAAAAAAAAAAAAAA", "MEMBER", "2027-02-01", "2027-12-31"), []string{"NOT_FOUND"}, "userId"},
			{"invite to an archived group", inviteM, inv(archived, a.staffID, "MEMBER", "2027-02-01", "2027-12-31"), []string{"INVALID_STATE"}, "groupId"},
			{"invite a disabled account", inviteM, inv(w.pharm, w.noraID, "MEMBER", "2027-02-01", "2027-12-31"), []string{"INVALID_STATE"}, "userId"},
			{"representing an inactive organisation", inviteM, map[string]any{"groupId": w.pharm, "userId": a.staffID, "role": "MEMBER", "organisationId": inactiveOrg, "termStart": "2027-02-01", "termEnd": "2027-12-31"}, []string{"INVALID_STATE"}, "organisationId"},
			{"term ends before it starts", inviteM, inv(w.pharm, a.staffID, "MEMBER", "2027-12-31", "2027-02-01"), []string{"INVALID"}, "termEnd"},
			{"term ends the day it starts", inviteM, inv(w.pharm, a.staffID, "MEMBER", "2027-02-01", "2027-02-01"), []string{"INVALID"}, "termEnd"},
			{"term already over", inviteM, inv(w.pharm, a.staffID, "MEMBER", "2026-02-01", "2027-01-11"), []string{"INVALID"}, "termEnd"},
			{"overlapping term of the same person", inviteM, inv(w.panel, a.traineeID, "OBSERVER", "2027-12-31", "2028-06-30"), []string{"TAKEN"}, "termStart"},
			{"overlapping a pending invitation", inviteM, inv(w.panel, a.hostID, "MEMBER", "2027-01-15", "2027-02-01"), []string{"TAKEN"}, "termStart"},
			{"a second chair", inviteM, inv(w.pharm, a.staffID, "CHAIR", "2028-12-31", "2029-12-31"), []string{"INVALID_STATE"}, "role"},
			{"both at once", inviteM, inv(w.pharm, a.hostID, "CHAIR", "2027-06-01", "2027-07-01"), []string{"TAKEN", "INVALID_STATE"}, "termStart"},
			{"end: reason missing", endM, map[string]any{"id": w.marekPanel, "lastDay": "2027-03-01", "reason": " "}, []string{"REQUIRED"}, "reason"},
			{"end: reason too long", endM, map[string]any{"id": w.marekPanel, "lastDay": "2027-03-01", "reason": strings.Repeat("r", 501)}, []string{"TOO_LONG"}, "reason"},
			{"end: last day in the past", endM, map[string]any{"id": w.marekPanel, "lastDay": "2027-01-11", "reason": "Left"}, []string{"INVALID"}, "lastDay"},
			{"end: last day after the term", endM, map[string]any{"id": w.marekPanel, "lastDay": "2028-01-01", "reason": "Left"}, []string{"INVALID"}, "lastDay"},
			{"end: an invitation", endM, map[string]any{"id": w.clairePanel, "lastDay": "2027-03-01", "reason": "Left"}, []string{"INVALID_STATE"}, "id"},
			{"end: a term that is over", endM, map[string]any{"id": w.marekRegistryOld, "lastDay": "2027-03-01", "reason": "Left"}, []string{"INVALID_STATE"}, "id"},
			{"end: unknown", endM, map[string]any{"id": "mbr_01JAAAAAAAAAAAAAAAAAAAAAAA", "lastDay": "2027-03-01", "reason": "Left"}, []string{"NOT_FOUND"}, "id"},
		} {
			t.Run(c.name, func(t *testing.T) {
				p := gmutate(t, staff, c.query, c.in)
				if got := codes(p.UserErrors); !slices.Equal(got, c.want) {
					t.Fatalf("codes %q, want %q (%+v)", got, c.want, p.UserErrors)
				}
				if f := p.UserErrors[0].Field; len(f) != 2 || f[1] != c.field {
					t.Errorf("field %q, want [input %s]", f, c.field)
				}
				if p.UserErrors[0].Message == "" || p.WorkingGroup != nil || p.Membership != nil {
					t.Errorf("payload %+v", p)
				}
			})
		}
		// Answers: only while pending and before the term's end.
		if p := gmutate(t, a.trainee, acceptM, map[string]any{"id": w.marekPanel}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("accept twice: %+v", p.UserErrors)
		}
		if p := gmutate(t, a.trainee, declineM, map[string]any{"id": w.marekPanel}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("decline after accepting: %+v", p.UserErrors)
		}
		if after := groupsSnapshot(t, e); after != before {
			t.Errorf("refused input changed something:\nbefore %s\nafter  %s", before, after)
		}

		// What the rules allow: a term right after another one; a declined chair
		// invitation frees the chair; a chair ended early frees it after their last day.
		invite(t, staff, w.panel, a.traineeID, "OBSERVER", "2028-01-01", "2028-06-30")
		later := invite(t, staff, w.registry, a.staffID, "CHAIR", "2029-01-01", "2029-12-31")
		if p := gmust(t, a.staff, declineM, map[string]any{"id": later}); p.Membership.Status != "DECLINED" {
			t.Errorf("declined: status %s", p.Membership.Status)
		}
		if p := gmutate(t, staff, inviteM, inv(w.registry, a.traineeID, "CHAIR", "2028-06-01", "2029-06-30")); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("chair while Ioana chairs: %+v", p.UserErrors)
		}
		ended := gmust(t, staff, endM, map[string]any{"id": w.ioanaChair, "lastDay": "2028-05-31", "reason": " Stepped down. "}).Membership
		if ended.EndedOn == nil || *ended.EndedOn != "2028-05-31" || ended.EndReason != "Stepped down." || ended.Status != "ACTIVE" {
			t.Errorf("ended: %+v", ended)
		}
		if p := gmutate(t, staff, endM, map[string]any{"id": w.ioanaChair, "lastDay": "2028-04-30", "reason": "Again"}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("end twice: %+v", p.UserErrors)
		}
		invite(t, staff, w.registry, a.traineeID, "CHAIR", "2028-06-01", "2029-06-30")

		t.Cleanup(func() {
			if t.Failed() {
				t.Log(e.Logs.String())
			}
		})
		// Accepting a chair re-checks the rule (a row written around the service).
		sneaky, err := e.DB.Client.Membership.Create().SetGroupID(pulid.ID(w.pharm)).SetUserID(pulid.ID(w.janaID)).
			SetRole(membership.RoleCHAIR).SetTermStart("2027-03-01").SetTermEnd("2027-04-30").Save(e.System())
		if err != nil {
			t.Fatal(err)
		}
		if p := gmutate(t, w.jana, acceptM, map[string]any{"id": string(sneaky.ID)}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("accept a second chair: %+v", p.UserErrors)
		}

		// An invitation whose term is over can no longer be answered.
		e.Clock.Set(time.Date(2028, 1, 1, 9, 0, 0, 0, time.UTC))
		host := e.SignIn("claire.martin@hopital.example.fr") // sessions last 30 days
		if p := gmutate(t, host, acceptM, map[string]any{"id": w.clairePanel}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("accept after the term: %+v", p.UserErrors)
		}
		var st struct{ Node mbrOut }
		host.MustDo(`query($id: ID!) { node(id: $id) { ... on Membership { status } } }`, map[string]any{"id": w.clairePanel}, &st)
		if st.Node.Status != "INVITED" {
			t.Errorf("unanswered invitation: %s, want INVITED", st.Node.Status)
		}
	})
}

func TestWorkingGroupUpdate(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		a := newActors(t, e)
		g := gmust(t, a.staff, createGroupM, map[string]any{"name": " Pharmacist Working Group ", "workPackage": "STANDARDS_OF_CARE",
			"visibility": "INTERNAL", "purpose": "**Pharmacy** <script>alert(1)</script>"}).WorkingGroup
		if g.Name != "Pharmacist Working Group" || g.Visibility != "INTERNAL" || strings.Contains(g.PurposeHTML, "<script") ||
			!strings.Contains(g.PurposeHTML, "<strong>Pharmacy</strong>") {
			t.Errorf("created %+v", g)
		}
		g = gmust(t, a.staff, updateGroupM, map[string]any{"id": g.ID, "visibility": "PUBLIC", "workPackage": "EDUCATION_AND_TRAINING"}).WorkingGroup
		if g.Visibility != "PUBLIC" || g.WorkPackage != "EDUCATION_AND_TRAINING" || g.Name != "Pharmacist Working Group" {
			t.Errorf("updated %+v", g)
		}
		if got := listGroups(t, a.anon, nil).WorkingGroups.TotalCount; got != 1 {
			t.Errorf("public group: anonymous sees %d", got)
		}
		gmust(t, a.staff, updateGroupM, map[string]any{"id": g.ID, "archived": true})
		if got := listGroups(t, a.anon, nil).WorkingGroups.TotalCount; got != 0 {
			t.Errorf("archived group listed by default: %d", got)
		}
		if got := listGroups(t, a.anon, map[string]any{"includeArchived": true}).WorkingGroups.TotalCount; got != 1 {
			t.Errorf("archived group with includeArchived: %d", got)
		}
	})
}

// messagesTo returns the messages the SMTP server received for addr.
func messagesTo(e *testkit.Env, addr string) []testkit.ReceivedMessage {
	var out []testkit.ReceivedMessage
	for _, m := range e.SMTP.Messages() {
		if slices.Contains(m.To, addr) {
			out = append(out, m)
		}
	}
	return out
}

func TestInvitationLinksWorkThroughSignIn(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		a := newActors(t, e)
		pharm := gmust(t, a.staff, createGroupM, map[string]any{"name": "Pharmacist Working Group", "workPackage": "STANDARDS_OF_CARE", "visibility": "PUBLIC"}).WorkingGroup.ID
		id := invite(t, a.staff, pharm, a.traineeID, "MEMBER", "2027-02-01", "2029-01-31")
		e.DrainOutbox()
		msgs := messagesTo(e, "marek.dvorak@example.cz")
		if len(msgs) != 1 || msgs[0].Subject != "Invitation to the Pharmacist Working Group" {
			t.Fatalf("invitee received %d messages: %+v", len(msgs), msgs)
		}
		body := msgs[0].TextBody()
		links := linkRE.FindAllString(body, -1)
		if len(links) != 2 || !strings.Contains(body, "as Member") || !strings.Contains(body, "from 2027-02-01 to 2029-01-31") || !strings.Contains(body, "14 days") {
			t.Fatalf("invitation:\n%s", body)
		}
		acceptURL, declineURL := links[0], links[1]
		if !strings.Contains(body[:strings.Index(body, acceptURL)], "To accept") {
			t.Errorf("first link is not the accept link:\n%s", body)
		}
		token := func(link string) string { u, _ := url.Parse(link); return u.Query().Get("token") }

		// The GET page says what the button will do and uses nothing up. A browser (with
		// cookies) presses the button of the page it opened: the POST carries the page's
		// form token.
		browser := e.Browser()
		page := func(method, link string) string {
			t.Helper()
			_, body := browser.SignIn(t, method, link)
			return body
		}
		for range 2 {
			if got := page(http.MethodGet, acceptURL); !strings.Contains(got, "Sign in and accept the invitation to the Pharmacist Working Group (Member, 2027-02-01 to 2029-01-31).") {
				t.Errorf("GET accept page:\n%s", got)
			}
		}
		if got := page(http.MethodGet, declineURL); !strings.Contains(got, "Sign in and decline the invitation") {
			t.Errorf("GET decline page:\n%s", got)
		}
		// Pressing the button signs in and accepts.
		if got := page(http.MethodPost, acceptURL); !strings.Contains(got, "You are signed in") ||
			!strings.Contains(got, "You accepted the invitation to the Pharmacist Working Group as Member, from 2027-02-01 to 2029-01-31.") {
			t.Errorf("POST accept page:\n%s", got)
		}
		var st struct{ Node mbrOut }
		a.trainee.MustDo(`query($id: ID!) { node(id: $id) { ... on Membership { status answer } } }`, map[string]any{"id": id}, &st)
		if st.Node.Answer != "ACCEPTED" || st.Node.Status != "UPCOMING" {
			t.Errorf("after accepting by link: %+v", st.Node)
		}
		// The decline link no longer declines, but still signs in and says why.
		if got := page(http.MethodGet, declineURL); strings.Contains(got, "decline the invitation") {
			t.Errorf("GET decline page after accepting still offers to decline:\n%s", got)
		}
		var red struct {
			RedeemLoginLink struct {
				SessionToken *string
				Message      *string
				User         *struct{ ID string }
				UserErrors   []userErr
			}
		}
		a.anon.MustDo(`mutation($t: String!) { redeemLoginLink(input: {token: $t}) { sessionToken message user { id } userErrors { code message } } }`,
			map[string]any{"t": token(declineURL)}, &red)
		if red.RedeemLoginLink.SessionToken == nil || red.RedeemLoginLink.Message == nil ||
			*red.RedeemLoginLink.Message != "You are signed in. You have already accepted this invitation." {
			t.Errorf("decline link after accepting: %+v", red.RedeemLoginLink)
		}
		e.DrainOutbox()
		if msgs := messagesTo(e, "marek.dvorak@example.cz"); len(msgs) != 2 || msgs[1].Subject != "Welcome to the Pharmacist Working Group" {
			t.Errorf("after accepting: %d messages, last %q", len(msgs), msgs[len(msgs)-1].Subject)
		}

		// Declining through redeemLoginLink; a plain sign-in link has no message.
		id2 := invite(t, a.staff, pharm, a.otherID, "OBSERVER", "2027-02-01", "2027-12-31")
		e.DrainOutbox()
		msgs = messagesTo(e, "ioana.popescu@example.ro")
		links = linkRE.FindAllString(msgs[len(msgs)-1].TextBody(), -1)
		a.anon.MustDo(`mutation($t: String!) { redeemLoginLink(input: {token: $t}) { sessionToken message user { id } userErrors { code message } } }`,
			map[string]any{"t": token(links[1])}, &red)
		if red.RedeemLoginLink.Message == nil || *red.RedeemLoginLink.Message != "You declined the invitation to the Pharmacist Working Group." ||
			red.RedeemLoginLink.User == nil || red.RedeemLoginLink.User.ID != a.otherID {
			t.Errorf("decline by link: %+v", red.RedeemLoginLink)
		}
		a.staff.MustDo(`query($id: ID!) { node(id: $id) { ... on Membership { status answer } } }`, map[string]any{"id": id2}, &st)
		if st.Node.Status != "DECLINED" {
			t.Errorf("after declining by link: %+v", st.Node)
		}
		e.DrainOutbox()
		if msgs := messagesTo(e, "ioana.popescu@example.ro"); msgs[len(msgs)-1].Subject != "You declined the invitation to the Pharmacist Working Group" {
			t.Errorf("decline confirmation: %q", msgs[len(msgs)-1].Subject)
		}
		link, err := e.App.Auth.IssueLoginLink(e.System(), e.DB.Client, "ioana.popescu@example.ro")
		if err != nil {
			t.Fatal(err)
		}
		a.anon.MustDo(`mutation($t: String!) { redeemLoginLink(input: {token: $t}) { sessionToken message user { id } userErrors { code message } } }`,
			map[string]any{"t": token(link)}, &red)
		if red.RedeemLoginLink.Message != nil || red.RedeemLoginLink.SessionToken == nil {
			t.Errorf("plain sign-in: %+v", red.RedeemLoginLink)
		}

		// Invitation links expire after 14 days like any link.
		invite(t, a.staff, pharm, a.staffID, "SECRETARIAT", "2027-02-01", "2027-12-31")
		e.DrainOutbox()
		msgs = messagesTo(e, "office@coalition.test")
		links = linkRE.FindAllString(msgs[len(msgs)-1].TextBody(), -1)
		e.Clock.Advance(14*24*time.Hour + time.Second)
		a.anon.MustDo(`mutation($t: String!) { redeemLoginLink(input: {token: $t}) { sessionToken message user { id } userErrors { code message } } }`,
			map[string]any{"t": token(links[0])}, &red)
		if len(red.RedeemLoginLink.UserErrors) != 1 || red.RedeemLoginLink.UserErrors[0].Code != "EXPIRED" {
			t.Errorf("expired invitation link: %+v", red.RedeemLoginLink)
		}
	})
}

func TestEndMembershipEarly(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		a := newActors(t, e)
		g := gmust(t, a.staff, createGroupM, map[string]any{"name": "Delphi Expert Panel", "workPackage": "SCIENTIFIC_EXCELLENCE", "visibility": "INTERNAL"}).WorkingGroup.ID
		id := invite(t, a.staff, g, a.traineeID, "MEMBER", "2027-01-01", "2027-12-31")
		accept(t, a.trainee, id)
		m := gmust(t, a.staff, endM, map[string]any{"id": id, "lastDay": "2027-01-12", "reason": "Moved to another hospital"}).Membership
		if m.Status != "ACTIVE" || m.EndedOn == nil || *m.EndedOn != "2027-01-12" {
			t.Errorf("ended today: %+v", m)
		}
		e.DrainOutbox()
		var notice string
		for _, m := range messagesTo(e, "marek.dvorak@example.cz") {
			if m.Subject == "Your membership of the Delphi Expert Panel ends on 2027-01-12" {
				notice = m.TextBody()
			}
		}
		if !strings.Contains(notice, "Reason: Moved to another hospital") {
			t.Errorf("end notice: %q", notice)
		}
		e.Clock.Advance(24 * time.Hour)
		var st struct{ Node mbrOut }
		a.trainee.MustDo(`query($id: ID!) { node(id: $id) { ... on Membership { status } } }`, map[string]any{"id": id}, &st)
		if st.Node.Status != "ENDED" {
			t.Errorf("the day after the last day: %s, want ENDED", st.Node.Status)
		}
		// No longer a current member: the internal group's other memberships are hidden,
		// and a new term may start after the last day.
		invite(t, a.staff, g, a.traineeID, "OBSERVER", "2027-01-13", "2027-06-30")
	})
}

// TestOneChairUnderConcurrency appoints chairs from several staff requests at once:
// exactly one wins, the others are told the group has a chair.
func TestOneChairUnderConcurrency(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		a := newActors(t, e)
		g := gmust(t, a.staff, createGroupM, map[string]any{"name": "Pharmacist Working Group", "workPackage": "STANDARDS_OF_CARE", "visibility": "PUBLIC"}).WorkingGroup.ID
		const n = 8
		users := make([]string, n)
		for i := range users {
			u, _ := e.NewUser(strings.Repeat("c", i+1)+"@candidates.example.org", "Candidate", viewer.RoleTrainee)
			users[i] = string(u.ID)
		}
		start := make(chan struct{})
		results := make([]*testkit.Response, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				results[i] = a.staff.Do(inviteM, map[string]any{"in": map[string]any{
					"groupId": g, "userId": users[i], "role": "CHAIR", "termStart": "2027-02-01", "termEnd": "2028-01-31"}})
			})
		}
		close(start)
		wg.Wait()
		won, lost := 0, 0
		for _, r := range results {
			var out struct{ InviteMember groupPayload }
			switch {
			case r.Code() == "CONFLICT":
				lost++
			case len(r.Errors) > 0:
				t.Errorf("unexpected error: %s", r.Body)
			default:
				if err := json.Unmarshal(r.Data, &out); err != nil {
					t.Fatal(err)
				}
				switch {
				case out.InviteMember.Membership != nil:
					won++
				case slices.Equal(codes(out.InviteMember.UserErrors), []string{"INVALID_STATE"}):
					lost++
				default:
					t.Errorf("unexpected payload: %s", r.Body)
				}
			}
		}
		chairs, err := e.DB.Client.Membership.Query().Where(membership.GroupID(pulid.ID(g)), membership.RoleEQ(membership.RoleCHAIR)).Count(e.System())
		if err != nil {
			t.Fatal(err)
		}
		if won != 1 || lost != n-1 || chairs != 1 {
			t.Errorf("won %d, lost %d, chairs in the database %d; want 1, %d, 1", won, lost, chairs, n-1)
		}
	})
}

func TestTermEndWarnings(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newWorld(t, e) // today 2027-01-12; Marek's pharmacists' term ends 2027-01-31
		a, staff := w.a, w.a.staff
		// Due within (today, today+30]: Jana's panel term ends in exactly 30 days; Nora's
		// in 31 (due tomorrow); Ioana's pending invitation and an early-ended term are not.
		pharmJana := invite(t, staff, w.pharm, w.janaID, "OBSERVER", "2027-01-01", "2027-02-11")
		accept(t, w.jana, pharmJana)
		noraID := invite(t, staff, w.pharm, w.noraID, "SECRETARIAT", "2027-01-01", "2027-02-12")
		accept(t, w.nora, noraID)
		invite(t, staff, w.pharm, a.otherID, "MEMBER", "2027-01-01", "2027-02-01")
		cut := invite(t, staff, w.registry, a.staffID, "MEMBER", "2027-01-01", "2027-02-05")
		accept(t, staff, cut)
		gmust(t, staff, endM, map[string]any{"id": cut, "lastDay": "2027-01-20", "reason": "Reorganisation"})
		e.DrainOutbox()
		seen := len(e.SMTP.Messages())

		run := func() []string {
			t.Helper()
			if err := e.App.Jobs.Trigger(app.JobTermWarning); err != nil {
				t.Fatal(err)
			}
			if err := e.App.Jobs.RunDue(e.System()); err != nil {
				t.Fatal(err)
			}
			e.DrainOutbox()
			msgs := e.SMTP.Messages()
			var out []string
			for _, m := range msgs[seen:] {
				if strings.Contains(m.Subject, "interests") {
					continue // the declaration reminders, due too (TestDeclarationReminders)
				}
				out = append(out, m.To[0]+": "+m.Subject)
			}
			seen = len(msgs)
			slices.Sort(out)
			return out
		}
		want := []string{
			"claire.martin@hopital.example.fr: Jana Nováková's term in the Pharmacist Working Group ends on 2027-02-11",
			"claire.martin@hopital.example.fr: Marek Dvořák's term in the Pharmacist Working Group ends on 2027-01-31",
			"jana.novakova@fnbrno.example.cz: Your term in the Pharmacist Working Group ends on 2027-02-11",
			"marek.dvorak@example.cz: Your term in the Pharmacist Working Group ends on 2027-01-31",
			"office@coalition.test: Jana Nováková's term in the Pharmacist Working Group ends on 2027-02-11",
			"office@coalition.test: Marek Dvořák's term in the Pharmacist Working Group ends on 2027-01-31",
		}
		if got := run(); !slices.Equal(got, want) {
			t.Errorf("first run sent\n%q\nwant\n%q", got, want)
		}
		if got := run(); len(got) != 0 {
			t.Errorf("second run the same day sent %q, want nothing", got)
		}
		e.Clock.Advance(24 * time.Hour)
		want = []string{
			"claire.martin@hopital.example.fr: Nora Nobody's term in the Pharmacist Working Group ends on 2027-02-12",
			"nora.nobody@example.org: Your term in the Pharmacist Working Group ends on 2027-02-12",
			"office@coalition.test: Nora Nobody's term in the Pharmacist Working Group ends on 2027-02-12",
		}
		if got := run(); !slices.Equal(got, want) {
			t.Errorf("next day sent\n%q\nwant\n%q", got, want)
		}
		var body string
		for _, m := range e.SMTP.Messages() {
			if m.To[0] == "nora.nobody@example.org" && strings.HasPrefix(m.Subject, "Your term") {
				body = m.TextBody()
			}
		}
		if !strings.Contains(body, "ends on 2027-02-12, in 30 days") {
			t.Errorf("warning body:\n%s", body)
		}
		row, err := e.DB.Client.Job.Query().All(e.System())
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range row {
			if j.Name == app.JobTermWarning && (j.LastError != "" || j.Runs != 3) {
				t.Errorf("job row: %+v", j)
			}
		}
	})
}
