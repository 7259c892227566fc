package graph_test

import (
	"fmt"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/hostranking"
	"github.com/gocart-coalition/coalition/ent/matchrun"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/ent/workinggroup"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// Per-row fields load for the whole list they are selected in (graph/batch.go): a request
// sends as many SQL statements for a page of N parents as for one of 3N.

// sameStatements fails t unless query sent the same number of statements both times.
func sameStatements(t *testing.T, name string, small, large int64) {
	t.Helper()
	t.Logf("%s: %d statements for N parents, %d for 3N", name, small, large)
	if small != large {
		t.Errorf("%s: %d statements for N parents, %d for 3N; want the same", name, small, large)
	}
}

// A page of calls with each call's runs, overrides and a centre's ranking.
func TestBatchedCallFields(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		// Two requests: the node limit counts hostRanking as 2,000 per call.
		const q = `{ calls(first: 4) { edges { node { id matchRuns { id trainees } matchOverrides { id } } } } }`
		const rankingQ = `query($centre: ID!) { calls(first: 4) { edges { node { id hostRanking(hostCentreId: $centre) { id } } } } }`
		var centre pulid.ID
		seed := func(n int) {
			for range n {
				f := seedMatch(t, e, 6, 4)
				f.staff.MustDo(startRunM, map[string]any{"in": map[string]any{"callId": f.call, "dryRun": true}}, nil)
				if centre == "" {
					centre = e.DB.Client.HostRanking.Query().FirstX(e.System()).HostCentreID
				}
			}
		}
		type page struct {
			Calls struct {
				Edges []struct {
					Node struct {
						MatchRuns   []struct{ ID string }
						HostRanking []struct{ ID string }
					}
				}
			}
		}
		measure := func(want int) (runs, ranking int64) {
			staff := e.SignIn("office@coalition.test")
			staff.MustDo(`{ me { id } }`, nil, nil) // warm up (last_used_at)
			var out page
			runs, _ = counted(t, e, staff, q, nil, &out)
			if len(out.Calls.Edges) != want || len(out.Calls.Edges[0].Node.MatchRuns) != 1 {
				t.Fatalf("calls: %+v", out)
			}
			out = page{}
			ranking, _ = counted(t, e, staff, rankingQ, map[string]any{"centre": centre}, &out)
			ranked := 0
			for _, c := range out.Calls.Edges {
				ranked += len(c.Node.HostRanking)
			}
			if ranked == 0 {
				t.Errorf("no call shows the centre's ranking")
			}
			return runs, ranking
		}
		seed(1)
		sr, sk := measure(1)
		seed(2)
		lr, lk := measure(3)
		sameStatements(t, "Call.matchRuns, matchOverrides", sr, lr)
		sameStatements(t, "Call.hostRanking", sk, lk)
	})
}

// A call's applications with their choices, what is missing and their published outcome;
// compareMatchRuns; MatchRun.explanation.
func TestBatchedApplicationFields(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		const q = `query($id: ID!) { node(id: $id) { ... on Call { applications(first: 100) { edges { node { id
			hostChoices { name organisation { name } } missing
			outcome { placement { id status } explanation { code message slot { id hostCentre { name } } } } } } } } } }`
		const compareQ = `query($a: ID!, $b: ID!) { compareMatchRuns(a: $a, b: $b) { application { id trainee { name } } fromSlot { id } toSlot { id } } }`
		const explainQ = `query($id: ID!, $app: ID!) { node(id: $id) { ... on MatchRun { explanation(applicationId: $app) { code message rankedHigher slot { id hostCentre { name } } } } } }`
		const evalQ = `query($id: ID!) { node(id: $id) { ... on Call { placements(first: 100) { edges { node { id evaluation } } } } } }`
		type measured struct{ apps, compare, explain, eval int64 }
		measure := func(nApps, nSlots int) measured {
			f := seedMatch(t, e, nApps, nSlots)
			dry := func() string {
				var out struct {
					StartMatchRun struct{ MatchRun struct{ ID string } }
				}
				f.staff.MustDo(startRunM, map[string]any{"in": map[string]any{"callId": f.call, "dryRun": true}}, &out)
				return out.StartMatchRun.MatchRun.ID
			}
			a := dry()
			// Reverse every centre's ranking before the published run, so that the
			// comparison has moves.
			ctx := e.System()
			rs := e.DB.Client.HostRanking.Query().Where(hostranking.CallID(f.call)).AllX(ctx)
			e.DB.Client.HostRanking.Delete().Where(hostranking.CallID(f.call)).ExecX(ctx)
			for b := 0; b < len(rs); b += 100 {
				var creates []*ent.HostRankingCreate
				for _, r := range rs[b:min(b+100, len(rs))] {
					creates = append(creates, e.DB.Client.HostRanking.Create().SetCallID(r.CallID).SetHostCentreID(r.HostCentreID).
						SetApplicationID(r.ApplicationID).SetRank(1000-r.Rank))
				}
				e.DB.Client.HostRanking.CreateBulk(creates...).ExecX(ctx)
			}
			measureMatch(t, e, f)
			b := string(e.DB.Client.MatchRun.Query().Where(matchrun.CallID(f.call), matchrun.PublishedAtNotNil()).OnlyX(ctx).ID)
			var m measured
			var apps struct {
				Node struct {
					Applications struct {
						Edges []struct {
							Node struct {
								ID          string
								HostChoices []struct{ Name string }
								Missing     []string
								Outcome     *struct {
									Placement   *struct{ ID string }
									Explanation []struct{ Code string }
								}
							}
						}
					}
				}
			}
			m.apps, _ = counted(t, e, f.staff, q, map[string]any{"id": f.call}, &apps)
			placed, explained := 0, 0
			var unplaced string
			for _, a := range apps.Node.Applications.Edges {
				if len(a.Node.HostChoices) != 3 || len(a.Node.Missing) == 0 || a.Node.Outcome == nil {
					t.Fatalf("application %+v", a.Node)
				}
				if a.Node.Outcome.Placement != nil {
					placed++
				} else if len(a.Node.Outcome.Explanation) > 0 {
					explained++
					unplaced = a.Node.ID
				}
			}
			if len(apps.Node.Applications.Edges) != nApps || placed == 0 || explained == 0 {
				t.Fatalf("%d applications, %d placed, %d explained", len(apps.Node.Applications.Edges), placed, explained)
			}
			var moves struct {
				CompareMatchRuns []struct{ Application struct{ ID string } }
			}
			m.compare, _ = counted(t, e, f.staff, compareQ, map[string]any{"a": a, "b": b}, &moves)
			if len(moves.CompareMatchRuns) == 0 {
				t.Fatalf("no moves between the runs of %d×%d", nApps, nSlots)
			}
			m.explain, _ = counted(t, e, f.staff, explainQ, map[string]any{"id": a, "app": unplaced}, nil)
			// A host coordinator reads their centre's placements with the evaluations.
			p := e.DB.Client.Placement.Query().Where(placement.CallID(f.call)).FirstX(ctx)
			coord := e.DB.Client.HostCentre.GetX(ctx, p.HostCentreID).QueryCoordinators().FirstX(ctx)
			host := e.SignIn(coord.Email)
			host.MustDo(`{ me { id } }`, nil, nil) // warm up (last_used_at)
			var ps struct {
				Node struct {
					Placements struct {
						Edges []struct{ Node struct{ Evaluation *string } }
					}
				}
			}
			m.eval, _ = counted(t, e, host, evalQ, map[string]any{"id": f.call}, &ps)
			if len(ps.Node.Placements.Edges) < 2 || ps.Node.Placements.Edges[0].Node.Evaluation == nil {
				t.Fatalf("the coordinator reads %+v", ps)
			}
			return m
		}
		small, large := measure(20, 4), measure(60, 12)
		sameStatements(t, "Application.hostChoices, missing, outcome", small.apps, large.apps)
		sameStatements(t, "compareMatchRuns", small.compare, large.compare)
		sameStatements(t, "MatchRun.explanation", small.explain, large.explain)
		sameStatements(t, "Placement.evaluation", small.eval, large.eval)
	})
}

// A page of people with their latest declaration; a person's declarations with whether each
// is current; a page of working groups with their chair.
func TestBatchedGroupFields(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		ctx, c := e.System(), e.DB.Client
		_, staff := e.NewUser("office@coalition.test", "Coalition Office", "STAFF")
		me := c.User.Query().Where(user.Email("office@coalition.test")).OnlyX(ctx)
		today := vocab.Today(e.Clock.Now())
		seeded := 0
		seed := func(n int) {
			for i := seeded; i < seeded+n; i++ {
				u := c.User.Create().SetEmail(fmt.Sprintf("member%d@example.org", i)).SetName(fmt.Sprintf("Member %d", i)).SaveX(ctx)
				c.ConflictOfInterestDeclaration.Create().SetUserID(u.ID).SetDeclaredOn(today).SetNothingToDeclare(true).SetInterests([]vocab.Interest{}).ExecX(ctx)
				c.ConflictOfInterestDeclaration.Create().SetUserID(me.ID).SetDeclaredOn(today).SetNothingToDeclare(true).SetInterests([]vocab.Interest{}).ExecX(ctx)
				g := c.WorkingGroup.Create().SetName(fmt.Sprintf("Group %d", i)).SetWorkPackage(workinggroup.WorkPackageEDUCATION_AND_TRAINING).SaveX(ctx)
				c.Membership.Create().SetGroupID(g.ID).SetUserID(u.ID).SetRole(membership.RoleCHAIR).SetAnswer(membership.AnswerACCEPTED).
					SetTermStart(today).SetTermEnd(vocab.Date("2029-12-31")).ExecX(ctx)
			}
			seeded += n
		}
		const usersQ = `{ users(first: 100) { edges { node { id latestDeclaration { id declaredOn current } } } } }`
		const declsQ = `{ me { conflictOfInterestDeclarations(first: 100) { edges { node { id current } } } } }`
		const groupsQ = `{ workingGroups(first: 100) { edges { node { id chair { id role } } } } }`
		run := func() (users, decls, groups int64) {
			var u struct {
				Users struct {
					Edges []struct {
						Node struct {
							LatestDeclaration *struct {
								ID      string
								Current bool
							}
						}
					}
				}
			}
			users, _ = counted(t, e, staff, usersQ, nil, &u)
			var d struct {
				Me struct {
					ConflictOfInterestDeclarations struct {
						Edges []struct{ Node struct{ Current bool } }
					}
				}
			}
			decls, _ = counted(t, e, staff, declsQ, nil, &d)
			var g struct {
				WorkingGroups struct {
					Edges []struct {
						Node struct{ Chair *struct{ Role string } }
					}
				}
			}
			groups, _ = counted(t, e, staff, groupsQ, nil, &g)
			withDecl, current, chaired := 0, 0, 0
			for _, x := range u.Users.Edges {
				if x.Node.LatestDeclaration != nil && x.Node.LatestDeclaration.Current {
					withDecl++
				}
			}
			for _, x := range d.Me.ConflictOfInterestDeclarations.Edges {
				if x.Node.Current {
					current++
				}
			}
			for _, x := range g.WorkingGroups.Edges {
				if x.Node.Chair != nil && x.Node.Chair.Role == "CHAIR" {
					chaired++
				}
			}
			if withDecl != seeded+1 || current != 1 || chaired != seeded {
				t.Fatalf("%d seeded: %d people with a current latest declaration, %d of mine current, %d groups chaired", seeded, withDecl, current, chaired)
			}
			return users, decls, groups
		}
		seed(4)
		staff.MustDo(`{ me { id } }`, nil, nil) // warm up (last_used_at)
		su, sd, sg := run()
		seed(8)
		lu, ld, lg := run()
		sameStatements(t, "User.latestDeclaration { current }", su, lu)
		sameStatements(t, "ConflictOfInterestDeclaration.current", sd, ld)
		sameStatements(t, "WorkingGroup.chair", sg, lg)
	})
}
