package graph_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/organisation"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/server"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Statement budgets of the match's requests (issue 10), whatever the size of the call.
const (
	maxStartRunStatements   = 40
	maxReadRunStatements    = 20
	maxStatsStatements      = 10
	maxPublishRunStatements = 60
)

const (
	// readRunQ reads a run's full results: statistics, every slot with its applicants and
	// their trainees, the unmatched, the overrides.
	readRunQ = `query($id: ID!) { node(id: $id) { ... on MatchRun { id trainees matched
		stats { matchRate rankReceived { rank count } }
		assignments { slot { id startDate hostCentre { name } } applications { id trainee { name } } }
		unmatched { id trainee { name } }
		overrides { applicationId slotId kind reason } } } }`
	statsQ = `query($id: ID!) { node(id: $id) { ... on MatchRun { stats { matchRate rankReceived { rank count } } } } }`
)

// matchFixture is a call in RANKING seeded straight into the database, at any size.
type matchFixture struct {
	staff *testkit.Client
	call  pulid.ID
	apps  int
	slots int
}

var seedRun int

// seedMatch creates, in bulk, a call in RANKING with nSlots approved slots (4 per host
// centre, capacity 3, each centre with one coordinator) and nApps eligible applications,
// each choosing 3 centres, every centre ranking every applicant who chose it. A third of
// the applicants or so stay unmatched. The staff client is signed in before the count.
func seedMatch(tb testing.TB, e *testkit.Env, nApps, nSlots int) matchFixture {
	tb.Helper()
	seedRun++
	run := seedRun
	ctx := e.System()
	c := e.DB.Client
	var staff *testkit.Client
	if ok, _ := c.User.Query().Where(user.Email("office@coalition.test")).Exist(ctx); ok {
		staff = e.SignIn("office@coalition.test")
	} else {
		_, staff = e.NewUser("office@coalition.test", "Coalition Office", viewer.RoleStaff)
	}
	rng := rand.New(rand.NewPCG(uint64(nApps), uint64(nSlots)))
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	org, err := c.Organisation.Create().SetName(fmt.Sprintf("Host hospital %d", run)).SetKind(organisation.KindHOSPITAL).SetCountry("FR").SetCity("Lyon").Save(ctx)
	must(err)
	home, err := c.Organisation.Create().SetName(fmt.Sprintf("Home hospital %d", run)).SetKind(organisation.KindHOSPITAL).SetCountry("CZ").SetCity("Brno").Save(ctx)
	must(err)
	cl, err := c.Call.Create().SetTitle(fmt.Sprintf("Observership call %d", run)).SetStatus(call.StatusRANKING).
		SetOpensAt(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)).SetClosesAt(time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)).
		SetTimeZone("Europe/Brussels").SetPlacementStart("2027-03-01").SetPlacementEnd("2027-12-31").
		SetPlacementWeeks([]int{1, 2}).SetEligibleCountries([]string{"CZ"}).SetRequiredDocuments([]vocab.DocumentKind{}).
		SetReviewCriteria([]vocab.Criterion{}).SetMinLeadDays(0).Save(ctx)
	must(err)

	nCentres := max(nSlots/4, 3)
	coordinators := make([]*ent.UserCreate, nCentres)
	for i := range coordinators {
		coordinators[i] = c.User.Create().SetEmail(fmt.Sprintf("coordinator%d.%d@host.example.fr", run, i)).
			SetName(fmt.Sprintf("Coordinator %d", i)).SetRoles([]viewer.Role{viewer.RoleHostCoordinator})
	}
	coords, err := c.User.CreateBulk(coordinators...).Save(ctx)
	must(err)
	centreCreates := make([]*ent.HostCentreCreate, nCentres)
	for i := range centreCreates {
		centreCreates[i] = c.HostCentre.Create().SetOrganisationID(org.ID).SetName(fmt.Sprintf("Centre %03d", i)).
			SetCity("Lyon").SetCountry("FR").AddCoordinatorIDs(coords[i].ID)
	}
	centres, err := c.HostCentre.CreateBulk(centreCreates...).Save(ctx)
	must(err)
	start := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC) // a Monday
	slotCreates := make([]*ent.HostSlotCreate, nSlots)
	for i := range slotCreates {
		weeks := 1 + i%2
		from := start.AddDate(0, 0, 7*(i/nCentres%30))
		to := from.AddDate(0, 0, 7*weeks-3)
		slotCreates[i] = c.HostSlot.Create().SetCallID(cl.ID).SetHostCentreID(centres[i%nCentres].ID).
			SetStartDate(vocab.Date(from.Format(vocab.DateLayout))).SetEndDate(vocab.Date(to.Format(vocab.DateLayout))).
			SetWeeks(weeks).SetCapacity(3).SetStatus("APPROVED")
	}
	for b := 0; b < len(slotCreates); b += 100 {
		_, err := c.HostSlot.CreateBulk(slotCreates[b:min(b+100, len(slotCreates))]...).Save(ctx)
		must(err)
	}

	chose := make([][]int, nCentres) // centre → indices of the applications that chose it
	var apps []*ent.Application
	for b := 0; b < nApps; b += 100 {
		n := min(100, nApps-b)
		users := make([]*ent.UserCreate, n)
		for i := range users {
			users[i] = c.User.Create().SetEmail(fmt.Sprintf("trainee%d.%d@centre.example.cz", run, b+i)).
				SetName(fmt.Sprintf("Trainee %04d", b+i)).SetRoles([]viewer.Role{viewer.RoleTrainee})
		}
		us, err := c.User.CreateBulk(users...).Save(ctx)
		must(err)
		creates := make([]*ent.ApplicationCreate, n)
		for i := range creates {
			creates[i] = c.Application.Create().SetCallID(cl.ID).SetTraineeID(us[i].ID).SetStatus("ELIGIBLE").
				SetHomeOrganisationID(home.ID).SetRole("Haematologist").SetMotivation("To learn.").
				SetAvailability([]vocab.DateRange{{From: "2027-03-01", To: "2027-12-31"}}).SetPreferredWeeks(1 + (b+i)%2).
				SetSubmittedAt(time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC))
		}
		as, err := c.Application.CreateBulk(creates...).Save(ctx)
		must(err)
		choices := make([]*ent.ApplicationChoiceCreate, 0, 3*n)
		for i, a := range as {
			picked := rng.Perm(nCentres)[:3]
			for r, centre := range picked {
				choices = append(choices, c.ApplicationChoice.Create().SetApplicationID(a.ID).SetHostCentreID(centres[centre].ID).SetRank(r+1))
				chose[centre] = append(chose[centre], len(apps)+i)
			}
		}
		_, err = c.ApplicationChoice.CreateBulk(choices...).Save(ctx)
		must(err)
		apps = append(apps, as...)
	}
	var rankings []*ent.HostRankingCreate
	for centre, list := range chose {
		rng.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
		for r, ai := range list {
			rankings = append(rankings, c.HostRanking.Create().SetCallID(cl.ID).SetHostCentreID(centres[centre].ID).
				SetApplicationID(apps[ai].ID).SetRank(r+1))
		}
	}
	for b := 0; b < len(rankings); b += 200 {
		_, err := c.HostRanking.CreateBulk(rankings[b:min(b+200, len(rankings))]...).Save(ctx)
		must(err)
	}
	staff.MustDo(`{ me { id } }`, nil, nil) // warm up (last_used_at)
	return matchFixture{staff: staff, call: cl.ID, apps: nApps, slots: nSlots}
}

// counted runs one request and returns the SQL statements it sent and how long it took.
func counted(tb testing.TB, e *testkit.Env, c *testkit.Client, query string, vars map[string]any, out any) (int64, time.Duration) {
	tb.Helper()
	e.Queries.Reset()
	start, cpu := time.Now(), processCPU()
	c.MustDo(query, vars, out)
	lastCPU = processCPU() - cpu
	return e.Queries.Count(), time.Since(start)
}

// lastCPU is the processor time the process spent on the last counted request (client,
// server and SQLite alike): on a busy machine it varies far less than the wall clock.
var lastCPU time.Duration

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type matchCounts struct {
	start, read, stats, publish int64
	startT, readT, statsT, pubT time.Duration
	pubCPU                      time.Duration
}

// measureMatch runs a real run of f's call (result selected), reads it, reads its stats and
// publishes it, counting each request's statements.
func measureMatch(tb testing.TB, e *testkit.Env, f matchFixture) matchCounts {
	tb.Helper()
	var mc matchCounts
	var started struct {
		StartMatchRun struct {
			MatchRun   *struct{ ID string }
			UserErrors []userErr
		}
	}
	mc.start, mc.startT = counted(tb, e, f.staff, startRunM, map[string]any{"in": map[string]any{"callId": f.call, "dryRun": false}}, &started)
	if started.StartMatchRun.MatchRun == nil {
		tb.Fatalf("start: %+v", started.StartMatchRun.UserErrors)
	}
	id := started.StartMatchRun.MatchRun.ID
	var read struct {
		Node struct {
			Trainees, Matched int
			Assignments       []struct{ Applications []struct{ ID string } }
			Unmatched         []struct{ ID string }
		}
	}
	mc.read, mc.readT = counted(tb, e, f.staff, readRunQ, map[string]any{"id": id}, &read)
	placed := 0
	for _, a := range read.Node.Assignments {
		placed += len(a.Applications)
	}
	if read.Node.Trainees != f.apps || placed != read.Node.Matched || placed+len(read.Node.Unmatched) != f.apps || placed == 0 || len(read.Node.Unmatched) == 0 {
		tb.Fatalf("run of %d×%d: %d trainees, %d placed (%d matched), %d unmatched", f.apps, f.slots, read.Node.Trainees, placed, read.Node.Matched, len(read.Node.Unmatched))
	}
	mc.stats, mc.statsT = counted(tb, e, f.staff, statsQ, map[string]any{"id": id}, nil)
	var pub struct {
		PublishMatchRun struct {
			MatchRun   *struct{ ID string }
			UserErrors []userErr
		}
	}
	mc.publish, mc.pubT = counted(tb, e, f.staff, publishRunM, map[string]any{"in": map[string]any{"id": id}}, &pub)
	mc.pubCPU = lastCPU
	if pub.PublishMatchRun.MatchRun == nil {
		tb.Fatalf("publish: %+v", pub.PublishMatchRun.UserErrors)
	}
	return mc
}

// TestMatchStatementsDoNotGrow: starting, reading and publishing a run send the same
// number of SQL statements for a call of 60 applicants × 12 slots as for 120 × 24, within
// the budgets; the benchmark shows the same at 1,000 × 200.
func TestMatchStatementsDoNotGrow(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		small := measureMatch(t, e, seedMatch(t, e, 60, 12))
		large := measureMatch(t, e, seedMatch(t, e, 120, 24))
		t.Logf("statements 60×12: start %d, read %d, stats %d, publish %d; 120×24: start %d, read %d, stats %d, publish %d",
			small.start, small.read, small.stats, small.publish, large.start, large.read, large.stats, large.publish)
		for _, c := range []struct {
			name       string
			small, big int64
			budget     int64
		}{
			{"startMatchRun", small.start, large.start, maxStartRunStatements},
			{"read a run", small.read, large.read, maxReadRunStatements},
			{"MatchRun.stats", small.stats, large.stats, maxStatsStatements},
			{"publishMatchRun", small.publish, large.publish, maxPublishRunStatements},
		} {
			if c.small != c.big || c.big > c.budget {
				t.Errorf("%s: %d statements at 60×12, %d at 120×24; want the same, at most %d", c.name, c.small, c.big, c.budget)
			}
		}
	})
}

// BenchmarkMatch1000x200 starts, reads and publishes the run of a call of 1,000
// applicants × 200 slots and reports SQL statements and milliseconds per request:
//
//	go test -run '^$' -bench Match1000x200 -benchtime 3x ./graph/
func BenchmarkMatch1000x200(b *testing.B) {
	for _, dn := range testkit.Dialects() {
		b.Run(dn, func(b *testing.B) {
			e := testkit.NewEnv(b, dn)
			var sum matchCounts
			n := 0
			for b.Loop() {
				b.StopTimer()
				f := seedMatch(b, e, 1000, 200)
				b.StartTimer()
				mc := measureMatch(b, e, f)
				sum.start, sum.read, sum.stats, sum.publish = sum.start+mc.start, sum.read+mc.read, sum.stats+mc.stats, sum.publish+mc.publish
				sum.startT, sum.readT, sum.statsT, sum.pubT = sum.startT+mc.startT, sum.readT+mc.readT, sum.statsT+mc.statsT, sum.pubT+mc.pubT
				sum.pubCPU += mc.pubCPU
				n++
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }
			per := func(v int64) float64 { return float64(v) / float64(n) }
			b.ReportMetric(per(sum.start), "start-sql/op")
			b.ReportMetric(ms(sum.startT), "start-ms/op")
			b.ReportMetric(per(sum.read), "read-sql/op")
			b.ReportMetric(ms(sum.readT), "read-ms/op")
			b.ReportMetric(per(sum.stats), "stats-sql/op")
			b.ReportMetric(ms(sum.statsT), "stats-ms/op")
			b.ReportMetric(per(sum.publish), "publish-sql/op")
			b.ReportMetric(ms(sum.pubT), "publish-ms/op")
			b.ReportMetric(ms(sum.pubCPU), "publish-cpu-ms/op")
		})
	}
}

// A plain list answers at most its cap: a longer answer is refused, not cut short. The
// caps are read when the handler is built, so the lowered cap is set before the env.
func TestPlainListLongerThanItsCapIsRefused(t *testing.T) {
	prev := server.ListCaps["MatchRun.unmatched"]
	server.ListCaps["MatchRun.unmatched"] = 1
	defer func() { server.ListCaps["MatchRun.unmatched"] = prev }()
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		f := seedMatch(t, e, 60, 12)
		var started struct {
			StartMatchRun struct{ MatchRun struct{ ID string } }
		}
		f.staff.MustDo(`mutation($in: StartMatchRunInput!) { startMatchRun(input: $in) { matchRun { id } } }`,
			map[string]any{"in": map[string]any{"callId": f.call, "dryRun": true}}, &started)
		vars := map[string]any{"id": started.StartMatchRun.MatchRun.ID}
		var out struct {
			Node struct{ Trainees, Matched int }
		}
		f.staff.MustDo(`query($id: ID!) { node(id: $id) { ... on MatchRun { trainees matched } } }`, vars, &out)
		if n := out.Node.Trainees - out.Node.Matched; n < 2 {
			t.Fatalf("%d unmatched, want some", n)
		}
		q := `query($id: ID!) { node(id: $id) { ... on MatchRun { unmatched { id } } } }`
		if r := f.staff.Do(q, vars); r.Code() != "BAD_REQUEST" || !strings.Contains(r.Errors[0].Message, "more than") {
			t.Errorf("%d unmatched with a cap of 1: %s", out.Node.Trainees-out.Node.Matched, r.Body)
		}
	})
}
