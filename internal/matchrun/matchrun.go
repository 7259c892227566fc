package matchrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/applicationchoice"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/hostranking"
	"github.com/gocart-coalition/coalition/ent/hostslot"
	"github.com/gocart-coalition/coalition/ent/matchoverride"
	"github.com/gocart-coalition/coalition/ent/matchrun"
	"github.com/gocart-coalition/coalition/ent/matchruninput"
	"github.com/gocart-coalition/coalition/ent/organisation"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/auth"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/matching"
	"github.com/gocart-coalition/coalition/internal/notify"
	placements "github.com/gocart-coalition/coalition/internal/placement"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Algorithm and Version are recorded with every run.
const (
	Algorithm = "trainee-proposing deferred acceptance (hospitals/residents with capacities)"
	// Version names the engine and the way the input is built; change it when either changes.
	Version = "matching/1 input/1"
)

// Config is what the service needs.
type Config struct {
	Client   *ent.Client
	Dialect  string
	Now      func() time.Time
	Notifier *notify.Notifier
	Logger   *slog.Logger
	// Links issues the sign-in links of the emails' buttons (accept, decline, confirm).
	Links placements.LinkIssuer
}

// Service runs, compares, explains and publishes a call's matches.
type Service struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg and returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Client == nil || cfg.Now == nil || cfg.Notifier == nil || cfg.Links == nil {
		return nil, errors.New("matchrun: Client, Now, Notifier and Links are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg, log: cfg.Logger.With("op", "matchrun")}, nil
}

// requireRunner refuses anyone access.CanRunMatch does not allow (staff run the match).
func requireRunner(ctx context.Context) error {
	return access.Require(ctx, access.CanRunMatch, "run the match")
}

// lockCall loads a call for a run or a publication; on PostgreSQL it locks the call's row
// until the transaction ends, and host rankings take the same lock (programme), so the
// preferences cannot change while a run is computed. On SQLite the single writer
// serialises them already.
func (s *Service) lockCall(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Call, error) {
	c, err := db.LockRows(s.cfg.Dialect, tx.Call.Query().Where(call.ID(id)), call.Table).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid(apperr.CodeNotFound, "No such call.", check.Path("callId")...)
	}
	if err != nil {
		return nil, fmt.Errorf("load call %s: %w", id, err)
	}
	return c, nil
}

// frozen is the input of a run built from the database.
type frozen struct {
	instance  matching.Instance
	pins      map[string]string // application → slot
	overrides []vocab.Override
	hash      string
	places    int
}

// freeze builds the input of a run of c now.
//
//   - Trainees are the ELIGIBLE applications. Each one's list is its ranked host centres in
//     order; within a centre, the approved slots that fit inside one of the trainee's
//     availability ranges and start at least the call's minimum lead time from today, those
//     of the preferred length first, then earliest first. Excluded pairs are left out.
//   - A trainee placed (accepted, confirmed or completed) in another call within the call's
//     no-repeat period before its placement window gets an empty list.
//   - Each slot ranks the applicants as its centre's submitted ranking does (unranked means
//     not acceptable); a pinned application is taken out of the engine and its slot's
//     capacity lowered by one.
//
// ctx reads as the staff member running the match (they may read every input).
func (s *Service) freeze(ctx context.Context, tx *ent.Client, c *ent.Call) (frozen, error) {
	f := frozen{instance: matching.Instance{Trainees: map[string][]string{}, Slots: map[string]matching.Slot{}}, pins: map[string]string{}}
	apps, err := tx.Application.Query().
		Where(application.CallID(c.ID), application.StatusEQ(application.StatusELIGIBLE)).
		Select(application.FieldID, application.FieldTraineeID, application.FieldAvailability, application.FieldPreferredWeeks).
		WithChoices(func(q *ent.ApplicationChoiceQuery) { q.Order(applicationchoice.ByRank()) }).
		Order(application.ByID()).All(ctx)
	if err != nil {
		return f, fmt.Errorf("eligible applications: %w", err)
	}
	// Only the columns the instance is built from: a publication reads them all again.
	slots, err := tx.HostSlot.Query().Where(hostslot.CallID(c.ID), hostslot.StatusEQ(hostslot.StatusAPPROVED)).
		Select(hostslot.FieldID, hostslot.FieldHostCentreID, hostslot.FieldStartDate, hostslot.FieldEndDate, hostslot.FieldWeeks, hostslot.FieldCapacity).
		Order(hostslot.ByStartDate(), hostslot.ByID()).All(ctx)
	if err != nil {
		return f, fmt.Errorf("approved slots: %w", err)
	}
	rankings, err := tx.HostRanking.Query().Where(hostranking.CallID(c.ID)).
		Select(hostranking.FieldHostCentreID, hostranking.FieldApplicationID).Order(hostranking.ByRank()).All(ctx)
	if err != nil {
		return f, fmt.Errorf("host rankings: %w", err)
	}
	overrides, err := tx.MatchOverride.Query().Where(matchoverride.CallID(c.ID)).Order(matchoverride.ByID()).All(ctx)
	if err != nil {
		return f, fmt.Errorf("overrides: %w", err)
	}
	excluded := map[[2]string]bool{}
	f.overrides = []vocab.Override{}
	for _, o := range overrides {
		f.overrides = append(f.overrides, vocab.Override{ApplicationID: string(o.ApplicationID), SlotID: string(o.SlotID), Kind: string(o.Kind), Reason: o.Reason})
		if o.Kind == matchoverride.KindEXCLUDE {
			excluded[[2]string{string(o.ApplicationID), string(o.SlotID)}] = true
		} else {
			f.pins[string(o.ApplicationID)] = string(o.SlotID)
		}
	}
	earliest := vocab.Today(s.cfg.Now()).AddDays(c.MinLeadDays)
	repeat := map[pulid.ID]bool{}
	if c.NoRepeatMonths > 0 {
		since := vocab.Date(c.PlacementStart.Time().AddDate(0, -c.NoRepeatMonths, 0).Format(vocab.DateLayout))
		recent, err := tx.Placement.Query().
			Where(placement.CallIDNEQ(c.ID), placement.StatusIn(placement.StatusACCEPTED, placement.StatusCONFIRMED, placement.StatusCOMPLETED),
				placement.EndDateGTE(since)).All(ctx)
		if err != nil {
			return f, fmt.Errorf("recent placements: %w", err)
		}
		for _, p := range recent {
			repeat[p.TraineeID] = true
		}
	}
	capacity := map[string]int{}
	for _, sl := range slots {
		capacity[string(sl.ID)] = sl.Capacity
		f.places += sl.Capacity
	}
	// Slots and rankings by centre, so building the lists is linear in their size.
	slotsOf := map[pulid.ID][]*ent.HostSlot{}
	for _, sl := range slots {
		slotsOf[sl.HostCentreID] = append(slotsOf[sl.HostCentreID], sl)
	}
	rankingsOf := map[pulid.ID][]*ent.HostRanking{}
	for _, r := range rankings {
		rankingsOf[r.HostCentreID] = append(rankingsOf[r.HostCentreID], r)
	}
	eligible := map[string]bool{}
	for _, a := range apps {
		id := string(a.ID)
		eligible[id] = true
		if slot, ok := f.pins[id]; ok {
			if capacity[slot] > 0 {
				capacity[slot]--
			}
			continue
		}
		list := []string{}
		if !repeat[a.TraineeID] {
			for _, ch := range a.Edges.Choices {
				var fit []*ent.HostSlot
				for _, sl := range slotsOf[ch.HostCentreID] {
					if sl.StartDate < earliest || excluded[[2]string{id, string(sl.ID)}] {
						continue
					}
					if slices.ContainsFunc(a.Availability, func(r vocab.DateRange) bool { return r.From <= sl.StartDate && sl.EndDate <= r.To }) {
						fit = append(fit, sl)
					}
				}
				slices.SortStableFunc(fit, func(x, y *ent.HostSlot) int {
					px, py := a.PreferredWeeks != nil && x.Weeks == *a.PreferredWeeks, a.PreferredWeeks != nil && y.Weeks == *a.PreferredWeeks
					switch {
					case px && !py:
						return -1
					case py && !px:
						return 1
					}
					return strings.Compare(string(x.StartDate), string(y.StartDate))
				})
				for _, sl := range fit {
					list = append(list, string(sl.ID))
				}
			}
		}
		f.instance.Trainees[id] = list
	}
	for _, sl := range slots {
		ranking := []string{}
		for _, r := range rankingsOf[sl.HostCentreID] {
			if eligible[string(r.ApplicationID)] && f.pins[string(r.ApplicationID)] == "" {
				ranking = append(ranking, string(r.ApplicationID))
			}
		}
		f.instance.Slots[string(sl.ID)] = matching.Slot{Capacity: capacity[string(sl.ID)], Ranking: ranking}
	}
	// Pins to slots no longer approved, or of applications no longer eligible, do not count.
	for app, slot := range f.pins {
		if _, ok := f.instance.Slots[slot]; !ok || !eligible[app] {
			delete(f.pins, app)
		}
	}
	if f.hash, err = matching.InputHash(f.instance, f.pins, f.overrides, Version); err != nil {
		return f, fmt.Errorf("hash input: %w", err)
	}
	return f, nil
}

// StartRun computes the match of a call in RANKING from its current preferences, verifies
// it (zero blocking pairs, or the run is refused as an internal error) and records it.
// A dry run records and changes nothing else; a real run can then be published. Staff
// only. User errors: NOT_FOUND, INVALID_STATE (the call is not in RANKING).
func (s *Service) StartRun(ctx context.Context, tx *ent.Client, callID pulid.ID, dryRun bool) (*ent.MatchRun, error) {
	if err := requireRunner(ctx); err != nil {
		return nil, err
	}
	c, err := s.lockCall(ctx, tx, callID)
	if err != nil {
		return nil, err
	}
	if _, err := programme.NextCallStatus(c.Status, programme.CallRunMatch, programme.CallFactsOf(c, s.cfg.Now())); err != nil {
		return nil, apperr.OnField(err, check.Path("callId")...)
	}
	f, err := s.freeze(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	res, err := matching.Solve(f.instance, matching.TraineeOptimal)
	if err != nil {
		return nil, fmt.Errorf("solve %s: %w", c.ID, err)
	}
	blocking, err := matching.Verify(f.instance, res)
	if err != nil || blocking != 0 {
		return nil, fmt.Errorf("verify %s: %d blocking pairs: %v", c.ID, blocking, err)
	}
	assignments := res.Assignments
	for app, slot := range f.pins {
		assignments[slot] = append(assignments[slot], app)
		slices.Sort(assignments[slot])
	}
	matched := 0
	for _, apps := range assignments {
		matched += len(apps)
	}
	cr := tx.MatchRun.Create().
		SetCallID(c.ID).SetDryRun(dryRun).SetAlgorithm(Algorithm).SetVersion(Version).SetSeed(0).
		SetInputHash(f.hash).SetPins(f.pins).SetOverrides(f.overrides).SetAssignments(assignments).SetUnmatched(res.Unmatched).
		SetTrainees(len(f.instance.Trainees) + len(f.pins)).SetSlots(len(f.instance.Slots)).SetPlaces(f.places).
		SetMatched(matched).SetBlockingPairs(blocking)
	if v := viewer.FromContext(ctx); v.Kind == viewer.User {
		cr.SetCreatedByID(pulid.ID(v.UserID))
	}
	run, err := cr.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("record run: %w", err)
	}
	in, err := tx.MatchRunInput.Create().SetRunID(run.ID).SetInstance(f.instance).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("record run input: %w", err)
	}
	run.Edges.Input = in
	return run, nil
}

// withInput loads run's input (MatchRunInput) unless it is loaded, through client as the
// viewer in ctx.
func withInput(ctx context.Context, client *ent.Client, run *ent.MatchRun) error {
	return withInputs(ctx, client, []*ent.MatchRun{run})
}

// withInputs loads the inputs of runs that are not loaded, in one query.
func withInputs(ctx context.Context, client *ent.Client, runs []*ent.MatchRun) error {
	byID := map[pulid.ID]*ent.MatchRun{}
	for _, r := range runs {
		if r.Edges.Input == nil {
			byID[r.ID] = r
		}
	}
	if len(byID) == 0 {
		return nil
	}
	ins, err := client.MatchRunInput.Query().Where(matchruninput.RunIDIn(slices.Collect(maps.Keys(byID))...)).All(ctx)
	if err != nil {
		return fmt.Errorf("load the inputs of %d runs: %w", len(byID), err)
	}
	for _, in := range ins {
		byID[in.RunID].Edges.Input = in
	}
	for id, r := range byID {
		if r.Edges.Input == nil {
			return fmt.Errorf("load the input of run %s: %w", id, &ent.NotFoundError{})
		}
	}
	return nil
}

// inputOf is run's input, loaded (withInput, WithInput).
func inputOf(run *ent.MatchRun) matching.Instance { return run.Edges.Input.Instance }

// Publish publishes a real run: the call becomes MATCHED, every assignment becomes an
// OFFERED placement with the slot's dates and a response deadline (the call's window,
// weekends not counted), and in the same transaction the trainees get their offers, the
// host coordinators the list of who is coming when, and unmatched trainees their
// explanation. Staff only. User errors: NOT_FOUND; INVALID_STATE for a dry run, a call
// not in RANKING or already matched, or preferences that changed since the run (its
// input hash no longer matches: run again).
func (s *Service) Publish(ctx context.Context, tx *ent.Client, runID pulid.ID) (*ent.MatchRun, error) {
	if err := requireRunner(ctx); err != nil {
		return nil, err
	}
	// Without its input (a large JSON in a row of its own): once the hashes match, the input
	// frozen now is the run's.
	run, err := tx.MatchRun.Query().Where(matchrun.ID(runID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid(apperr.CodeNotFound, "No such run.", check.Path("id")...)
	}
	if err != nil {
		return nil, fmt.Errorf("load run %s: %w", runID, err)
	}
	c, err := s.lockCall(ctx, tx, run.CallID)
	if err != nil {
		return nil, err
	}
	facts := RunFacts{CallStatus: c.Status}
	if _, err := NextRunState(RunStateOf(run), RunPublish, facts); err != nil {
		return nil, apperr.OnField(err, check.Path("id")...)
	}
	f, err := s.freeze(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	facts.InputChanged = f.hash != run.InputHash
	if _, err := NextRunState(RunStateOf(run), RunPublish, facts); err != nil {
		return nil, apperr.OnField(err, check.Path("id")...)
	}
	run.Edges.Input = &ent.MatchRunInput{RunID: run.ID, Instance: f.instance} // the same input: its hash is the run's
	matched, err := programme.NextCallStatus(c.Status, programme.CallPublishMatch, programme.CallFactsOf(c, s.cfg.Now()))
	if err != nil {
		return nil, apperr.OnField(err, check.Path("id")...)
	}
	now := s.cfg.Now().UTC()
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("call zone: %w", err)
	}
	deadline := placements.AddHoursExcludingWeekends(now, c.OfferResponseHours, loc)
	// Both updates are conditional on what was read: a lost race is CONFLICT.
	if n, err := tx.Call.Update().Where(call.ID(c.ID), call.StatusEQ(c.Status)).SetStatus(matched).Save(ctx); err != nil {
		return nil, fmt.Errorf("mark call %s matched: %w", c.ID, err)
	} else if n == 0 {
		return nil, apperr.LostRace("call")
	}
	// Conditional on what was read (a lost race is CONFLICT), and without reading the run
	// back (its result is a large JSON).
	if n, err := tx.MatchRun.Update().Where(matchrun.ID(run.ID), matchrun.PublishedAtIsNil()).SetPublishedAt(now).Save(ctx); err != nil {
		return nil, fmt.Errorf("publish run: %w", err)
	} else if n == 0 {
		return nil, apperr.LostRace("run")
	}
	run.PublishedAt = &now
	if err := s.offer(ctx, tx, c, run, deadline, loc); err != nil {
		return nil, err
	}
	return run, nil
}

// offer creates the placements of a published run and queues its emails, in a constant
// number of statements whatever the size of the call: the run's slots (with their
// centres and coordinators) and applications (with their trainees and home organisations)
// are read once, the placements inserted in bulk, and the emails queued in bulk.
//
// Everything is read and written as the staff member who publishes: the placements'
// audit rows name them (recorded in one multi-row insert: audit.Bulk).
func (s *Service) offer(ctx context.Context, tx *ent.Client, c *ent.Call, run *ent.MatchRun, deadline time.Time, loc *time.Location) error {
	slotIDs := make([]string, 0, len(run.Assignments))
	var appIDs []pulid.ID
	for id, apps := range run.Assignments {
		if len(apps) == 0 {
			continue
		}
		slotIDs = append(slotIDs, id)
		for _, a := range apps {
			appIDs = append(appIDs, pulid.ID(a))
		}
	}
	slices.Sort(slotIDs)
	for _, a := range run.Unmatched {
		appIDs = append(appIDs, pulid.ID(a))
	}
	slots, err := tx.HostSlot.Query().Where(hostslot.CallID(c.ID)).
		Select(hostslot.FieldID, hostslot.FieldHostCentreID, hostslot.FieldStartDate, hostslot.FieldEndDate).WithHostCentre(func(q *ent.HostCentreQuery) {
		q.WithCoordinators(func(q *ent.UserQuery) { q.Where(user.Disabled(false)).Order(user.ByID()) })
	}).All(ctx)
	if err != nil {
		return fmt.Errorf("load slots: %w", err)
	}
	slotByID := make(map[string]*ent.HostSlot, len(slots))
	for _, sl := range slots {
		slotByID[string(sl.ID)] = sl
	}
	apps, err := tx.Application.Query().Where(application.IDIn(appIDs...)).
		Select(application.FieldID, application.FieldTraineeID, application.FieldHomeOrganisationID).
		// Only the columns the emails and links use (a user row has its roles and times too).
		WithTrainee(func(q *ent.UserQuery) {
			q.Select(user.FieldID, user.FieldEmail, user.FieldName, user.FieldDisabled)
		}).
		WithHomeOrganisation(func(q *ent.OrganisationQuery) { q.Select(organisation.FieldID, organisation.FieldName) }).All(ctx)
	if err != nil {
		return fmt.Errorf("load applications: %w", err)
	}
	appByID := make(map[string]*ent.Application, len(apps))
	for _, a := range apps {
		appByID[string(a.ID)] = a
	}
	when := func(d vocab.Date) string { return d.Time().Format("Monday 2 January 2006") }
	due := deadline.In(loc).Format("Monday 2 January 2006, 15:04") + " (" + c.TimeZone + ")"
	var (
		creates []*ent.PlacementCreate
		emails  []notify.Batched[notify.MatchResultData]
		links   []auth.IntentLinkRequest // two per offer: accept, decline
		offers  []int                    // the offer emails' indices in emails, in the order of links
	)
	for _, sid := range slotIDs {
		sl := slotByID[sid]
		if sl == nil {
			return fmt.Errorf("load slot %s: not a slot of call %s", sid, c.ID)
		}
		centre := sl.Edges.HostCentre
		var coming []string
		for _, aid := range run.Assignments[sid] {
			a := appByID[aid]
			if a == nil {
				return fmt.Errorf("load application %s: not found", aid)
			}
			t := a.Edges.Trainee
			id := pulid.New("plc")
			creates = append(creates, tx.Placement.Create().SetID(id).SetCallID(c.ID).SetRunID(run.ID).SetSlotID(sl.ID).SetHostCentreID(centre.ID).
				SetApplicationID(a.ID).SetTraineeID(t.ID).SetStartDate(sl.StartDate).SetEndDate(sl.EndDate).
				SetOfferDeadline(deadline))
			reqs := placements.OfferLinkRequests(s.cfg.Now(), t, id, deadline)
			links = append(links, reqs[:]...)
			offers = append(offers, len(emails))
			emails = append(emails, notify.Batched[notify.MatchResultData]{
				To: notify.Recipient{Email: t.Email, Name: t.Name, Suppressed: t.Disabled},
				Data: notify.MatchResultData{
					Kind: notify.MatchOffered, Name: t.Name, CallTitle: c.Title, CentreName: centre.Name, City: centre.City,
					Start: when(sl.StartDate), End: when(sl.EndDate), Deadline: due,
				},
				Key: "match_offer:" + string(id),
			})
			who := t.Name
			if o := a.Edges.HomeOrganisation; o != nil {
				who += " (" + o.Name + ")"
			}
			coming = append(coming, who)
		}
		for _, u := range centre.Edges.Coordinators {
			if !access.HearsForCentre(u.Roles) {
				continue // the role was revoked: the trainees' names are no longer theirs to read
			}
			emails = append(emails, notify.Batched[notify.MatchResultData]{
				To: notify.Recipient{Email: u.Email, Name: u.Name},
				Data: notify.MatchResultData{
					Kind: notify.MatchHost, Name: u.Name, CallTitle: c.Title, CentreName: centre.Name,
					Start: when(sl.StartDate), End: when(sl.EndDate), Trainees: coming, Deadline: due,
				},
				Key: fmt.Sprintf("match_host:%s:%s", sl.ID, u.ID),
			})
		}
	}
	// Each offer's Accept and Decline buttons: sign-in links issued in bulk, naming the
	// placements' ids made above (the rows are written in this transaction below).
	urls, err := s.cfg.Links.IssueIntentLinks(ctx, tx, links)
	if err != nil {
		return fmt.Errorf("issue offer links: %w", err)
	}
	for i, e := range offers {
		emails[e].Data.AcceptURL, emails[e].Data.DeclineURL = urls[2*i], urls[2*i+1]
	}
	// Explaining the unmatched applications and rendering every email is pure CPU: it runs
	// while the placements and their audit rows are written, and the rendered emails are
	// queued once both are done.
	type prepared struct {
		p   *notify.Prepared
		err error
	}
	rendered := make(chan prepared, 1)
	go func() {
		emails, err := s.unmatchedEmails(c, run, appByID, slotByID, emails)
		if err != nil {
			rendered <- prepared{nil, err}
			return
		}
		p, err := s.cfg.Notifier.PrepareMatchResults(emails)
		rendered <- prepared{p, err}
	}()
	// As the staff member publishing: their audit rows are recorded in bulk too. A
	// placement row binds about 20 values: 1,000 rows per INSERT stay below both
	// dialects' limits on bound parameters.
	err = audit.Bulk(ctx, tx, s.cfg.Now(), func(ctx context.Context) error {
		for b := 0; b < len(creates); b += 1000 {
			if err := tx.Placement.CreateBulk(creates[b:min(b+1000, len(creates))]...).Exec(ctx); err != nil {
				return fmt.Errorf("create placements: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	r := <-rendered
	if r.err != nil {
		return r.err
	}
	return s.cfg.Notifier.QueuePrepared(ctx, tx, r.p)
}

// unmatchedEmails appends to emails the email of each application run left unmatched,
// with the reasons, slot by slot, in people's words.
func (s *Service) unmatchedEmails(c *ent.Call, run *ent.MatchRun, appByID map[string]*ent.Application, slotByID map[string]*ent.HostSlot, emails []notify.Batched[notify.MatchResultData]) ([]notify.Batched[notify.MatchResultData], error) {
	places := func(id string) string {
		sl := slotByID[id]
		if sl == nil || sl.Edges.HostCentre == nil {
			return id
		}
		return fmt.Sprintf("%s, %s to %s", sl.Edges.HostCentre.Name, sl.StartDate, sl.EndDate)
	}
	x := matching.NewExplainer(inputOf(run), resultOf(run))
	for _, aid := range run.Unmatched {
		a := appByID[aid]
		if a == nil {
			return nil, fmt.Errorf("load application %s: not found", aid)
		}
		reasons, err := explainIn(run, x, aid, places)
		if err != nil {
			return nil, err
		}
		var lines []string
		for _, r := range reasons {
			lines = append(lines, r.Message)
		}
		t := a.Edges.Trainee
		emails = append(emails, notify.Batched[notify.MatchResultData]{
			To:   notify.Recipient{Email: t.Email, Name: t.Name, Suppressed: t.Disabled},
			Data: notify.MatchResultData{Kind: notify.MatchUnmatched, Name: t.Name, CallTitle: c.Title, Reasons: lines},
			Key:  "match_unmatched:" + aid + ":" + string(run.ID),
		})
	}
	return emails, nil
}

// Reason is why an application did not get a slot it listed, with the slot's name.
type Reason struct {
	SlotID       pulid.ID
	Code         string
	RankedHigher int
	Message      string
}

// explain explains an application's outcome in run, slot by slot, in people's words,
// reading the slots it names (with their centres) in one query, as the caller.
func (s *Service) explain(ctx context.Context, client *ent.Client, run *ent.MatchRun, app string) ([]Reason, error) {
	if err := withInput(ctx, client, run); err != nil {
		return nil, err
	}
	raw, err := rawReasons(run, matching.NewExplainer(inputOf(run), resultOf(run)), app)
	if err != nil || len(raw) == 0 {
		return []Reason{}, err
	}
	ids := make([]pulid.ID, len(raw))
	for i, r := range raw {
		ids[i] = pulid.ID(r.Slot)
	}
	slots, err := client.HostSlot.Query().Where(hostslot.IDIn(ids...)).WithHostCentre().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load slots: %w", err)
	}
	byID := make(map[string]*ent.HostSlot, len(slots))
	for _, sl := range slots {
		byID[string(sl.ID)] = sl
	}
	return describe(raw, func(id string) string {
		sl := byID[id]
		if sl == nil || sl.Edges.HostCentre == nil {
			return "A slot no longer offered" // withdrawn since, and no longer the caller's to read
		}
		return fmt.Sprintf("%s, %s to %s", sl.Edges.HostCentre.Name, sl.StartDate, sl.EndDate)
	}), nil
}

// explainIn is explain with the slots' names at hand (place gives "Centre, start to end").
func explainIn(run *ent.MatchRun, x *matching.Explainer, app string, place func(slot string) string) ([]Reason, error) {
	raw, err := rawReasons(run, x, app)
	if err != nil {
		return nil, err
	}
	return describe(raw, place), nil
}

// resultOf is the engine's result of run: its assignments without the pinned
// applications, which never went through the engine.
func resultOf(run *ent.MatchRun) matching.Result {
	res := matching.Result{Assignments: make(map[string][]string, len(run.Assignments)), Unmatched: run.Unmatched}
	for sid, apps := range run.Assignments {
		res.Assignments[sid] = slices.DeleteFunc(slices.Clone(apps), func(a string) bool { _, pinned := run.Pins[a]; return pinned })
	}
	return res
}

// rawReasons are the engine's reasons for app in run, explained by x (none for a pinned
// application or one not in the run).
func rawReasons(run *ent.MatchRun, x *matching.Explainer, app string) ([]matching.Reason, error) {
	if _, ok := inputOf(run).Trainees[app]; !ok {
		return nil, nil // pinned, or not in the run
	}
	rs, err := x.Explain(app)
	if err != nil {
		return nil, fmt.Errorf("explain %s: %w", app, err)
	}
	return rs, nil
}

// describe puts the engine's reasons in people's words.
func describe(rs []matching.Reason, place func(slot string) string) []Reason {
	out := make([]Reason, 0, len(rs))
	for _, r := range rs {
		where := place(r.Slot)
		var msg string
		switch r.Code {
		case matching.ReasonFull:
			msg = fmt.Sprintf("%s: its %d place(s) went to applicants the centre ranked higher (%d).", where, r.Capacity, r.RankedHigher)
		case matching.ReasonNotRanked:
			msg = fmt.Sprintf("%s: the centre did not rank your application.", where)
		case matching.ReasonNoCapacity:
			msg = fmt.Sprintf("%s: no place was left in this slot.", where)
		default:
			msg = fmt.Sprintf("%s: %s", where, r.Message)
		}
		out = append(out, Reason{SlotID: pulid.ID(r.Slot), Code: string(r.Code), RankedHigher: r.RankedHigher, Message: msg})
	}
	return out
}

// Explain explains an application's outcome in a run (staff only).
func (s *Service) Explain(ctx context.Context, run *ent.MatchRun, app pulid.ID) ([]Reason, error) {
	if err := requireRunner(ctx); err != nil {
		return nil, err
	}
	return s.explain(ctx, s.cfg.Client, run, string(app))
}

// Outcome is an application's published outcome.
type Outcome struct {
	Placement *ent.Placement
	Reasons   []Reason
}

// OutcomeOf returns the published outcome of an application to those
// access.CanSeeMatchOutcome allows (its trainee and staff; nil before publication, and for
// anyone else, hosts included). The published run is a fact the outcome is computed from
// (never returned); the placement and the slots are read as the caller.
func (s *Service) OutcomeOf(ctx context.Context, a *ent.Application) (*Outcome, error) {
	out, err := s.OutcomesOf(ctx, []*ent.Application{a})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// OutcomesOf is OutcomeOf for several applications (one outcome per application, in
// order), in a constant number of statements: the published runs of their calls, their
// placements, and the slots named in the explanations of the unplaced.
func (s *Service) OutcomesOf(ctx context.Context, apps []*ent.Application) ([]*Outcome, error) {
	out := make([]*Outcome, len(apps))
	v := viewer.FromContext(ctx)
	var seen []*ent.Application
	for _, a := range apps {
		if access.CanSeeMatchOutcome(v, string(a.TraineeID)) {
			seen = append(seen, a)
		}
	}
	if len(seen) == 0 {
		return out, nil
	}
	facts := viewer.ForFacts(ctx)
	callIDs, appIDs := make([]pulid.ID, 0, len(seen)), make([]pulid.ID, len(seen))
	for i, a := range seen {
		if !slices.Contains(callIDs, a.CallID) {
			callIDs = append(callIDs, a.CallID)
		}
		appIDs[i] = a.ID
	}
	runs, err := s.cfg.Client.MatchRun.Query().Where(matchrun.CallIDIn(callIDs...), matchrun.PublishedAtNotNil()).All(facts)
	if err != nil {
		return nil, fmt.Errorf("published runs: %w", err)
	}
	runOf := make(map[pulid.ID]*ent.MatchRun, len(runs))
	for _, r := range runs {
		if runOf[r.CallID] != nil {
			return nil, fmt.Errorf("published run of %s: %w", r.CallID, &ent.NotSingularError{})
		}
		runOf[r.CallID] = r
	}
	ps, err := s.cfg.Client.Placement.Query().Where(placement.ApplicationIDIn(appIDs...)).
		Order(ent.Desc(placement.FieldCreatedAt), ent.Desc(placement.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("placements: %w", err)
	}
	latest := make(map[pulid.ID]*ent.Placement, len(ps))
	for _, p := range ps {
		if latest[p.ApplicationID] == nil {
			latest[p.ApplicationID] = p
		}
	}
	// The engine's reasons of every unplaced application (from the inputs of their runs,
	// read in one query), then their slots in one query.
	var explained []*ent.MatchRun
	for _, a := range seen {
		if run := runOf[a.CallID]; run != nil && latest[a.ID] == nil {
			explained = append(explained, run)
		}
	}
	if err := withInputs(facts, s.cfg.Client, explained); err != nil {
		return nil, err
	}
	raw := map[pulid.ID][]matching.Reason{}
	explainers := map[pulid.ID]*matching.Explainer{}
	var slotIDs []pulid.ID
	for _, a := range seen {
		run := runOf[a.CallID]
		if run == nil || latest[a.ID] != nil {
			continue
		}
		x := explainers[run.ID]
		if x == nil {
			x = matching.NewExplainer(inputOf(run), resultOf(run))
			explainers[run.ID] = x
		}
		rs, err := rawReasons(run, x, string(a.ID))
		if err != nil {
			return nil, err
		}
		raw[a.ID] = rs
		for _, r := range rs {
			slotIDs = append(slotIDs, pulid.ID(r.Slot))
		}
	}
	places := map[string]string{}
	if len(slotIDs) > 0 {
		// The slots are read as the caller, as explain does.
		slots, err := s.cfg.Client.HostSlot.Query().Where(hostslot.IDIn(slotIDs...)).WithHostCentre().All(ctx)
		if err != nil {
			return nil, fmt.Errorf("load slots: %w", err)
		}
		for _, sl := range slots {
			if sl.Edges.HostCentre != nil {
				places[string(sl.ID)] = fmt.Sprintf("%s, %s to %s", sl.Edges.HostCentre.Name, sl.StartDate, sl.EndDate)
			}
		}
		for _, id := range slotIDs {
			if _, ok := places[string(id)]; !ok {
				places[string(id)] = "A slot no longer offered" // withdrawn since, and no longer the caller's to read
			}
		}
	}
	for i, a := range apps {
		switch {
		case !slices.Contains(seen, a) || runOf[a.CallID] == nil:
		case latest[a.ID] != nil:
			out[i] = &Outcome{Placement: latest[a.ID], Reasons: []Reason{}}
		case len(raw[a.ID]) == 0:
			out[i] = &Outcome{Reasons: []Reason{}}
		default:
			out[i] = &Outcome{Reasons: describe(raw[a.ID], func(id string) string { return places[id] })}
		}
	}
	return out, nil
}

// Runs lists a call's runs, newest first (staff only).
func (s *Service) Runs(ctx context.Context, c *ent.Call) ([]*ent.MatchRun, error) {
	out, err := s.RunsOf(ctx, []*ent.Call{c})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// RunsOf is Runs for several calls (one list per call, in order), in one statement.
func (s *Service) RunsOf(ctx context.Context, calls []*ent.Call) ([][]*ent.MatchRun, error) {
	if err := requireRunner(ctx); err != nil {
		return nil, err
	}
	runs, err := s.cfg.Client.MatchRun.Query().Where(matchrun.CallIDIn(callIDs(calls)...)).
		Order(ent.Desc(matchrun.FieldCreatedAt), ent.Desc(matchrun.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	return groupBy(calls, runs, func(r *ent.MatchRun) pulid.ID { return r.CallID }), nil
}

// callIDs are the ids of calls.
func callIDs(calls []*ent.Call) []pulid.ID {
	ids := make([]pulid.ID, len(calls))
	for i, c := range calls {
		ids[i] = c.ID
	}
	return ids
}

// groupBy splits rows by the call each belongs to (key), one list per call in the order of
// calls, each in the order of rows (never nil).
func groupBy[T any](calls []*ent.Call, rows []*T, key func(*T) pulid.ID) [][]*T {
	byCall := make(map[pulid.ID][]*T, len(calls))
	for _, r := range rows {
		byCall[key(r)] = append(byCall[key(r)], r)
	}
	out := make([][]*T, len(calls))
	for i, c := range calls {
		out[i] = byCall[c.ID]
		if out[i] == nil {
			out[i] = []*T{}
		}
	}
	return out
}

// Stats are a run's statistics.
type Stats struct {
	MatchRate float64
	// RankReceived counts matched trainees by the place, in their ranking, of the centre
	// they got (index 0 is their first choice).
	RankReceived []int
}

// StatsOf computes a run's statistics (staff only).
func (s *Service) StatsOf(ctx context.Context, run *ent.MatchRun) (Stats, error) {
	if err := requireRunner(ctx); err != nil {
		return Stats{}, err
	}
	var st Stats
	if run.Trainees > 0 {
		st.MatchRate = float64(run.Matched) / float64(run.Trainees)
	}
	// Two statements whatever the size of the run: the slots' centres and the choices of
	// the run's call.
	slots, err := s.cfg.Client.HostSlot.Query().Where(hostslot.CallID(run.CallID)).
		Select(hostslot.FieldID, hostslot.FieldHostCentreID).All(ctx)
	if err != nil {
		return st, fmt.Errorf("load slots: %w", err)
	}
	centreOf := make(map[string]pulid.ID, len(slots))
	for _, sl := range slots {
		centreOf[string(sl.ID)] = sl.HostCentreID
	}
	choices, err := s.cfg.Client.ApplicationChoice.Query().
		Where(applicationchoice.HasApplicationWith(application.CallID(run.CallID))).All(ctx)
	if err != nil {
		return st, fmt.Errorf("load choices: %w", err)
	}
	rank := make(map[[2]pulid.ID]int, len(choices))
	for _, ch := range choices {
		rank[[2]pulid.ID{ch.ApplicationID, ch.HostCentreID}] = ch.Rank
	}
	for sid, apps := range run.Assignments {
		centre, ok := centreOf[sid]
		if !ok {
			return st, fmt.Errorf("load slot %s: not a slot of call %s", sid, run.CallID)
		}
		for _, aid := range apps {
			r, ok := rank[[2]pulid.ID{pulid.ID(aid), centre}]
			if !ok {
				continue // pinned to a centre the trainee did not choose
			}
			for len(st.RankReceived) < r {
				st.RankReceived = append(st.RankReceived, 0)
			}
			st.RankReceived[r-1]++
		}
	}
	return st, nil
}

// Move is an application matched differently in two runs ("" for unmatched).
type Move struct {
	Application pulid.ID
	From, To    pulid.ID
}

// Compare lists the applications whose slot differs from run a to run b (staff only).
func (s *Service) Compare(ctx context.Context, aID, bID pulid.ID) ([]Move, error) {
	if err := requireRunner(ctx); err != nil {
		return nil, err
	}
	a, err := s.cfg.Client.MatchRun.Get(ctx, aID)
	if err != nil {
		return nil, apperr.New(apperr.NotFound, "no such run %s", aID)
	}
	b, err := s.cfg.Client.MatchRun.Get(ctx, bID)
	if err != nil {
		return nil, apperr.New(apperr.NotFound, "no such run %s", bID)
	}
	if a.CallID != b.CallID {
		return nil, apperr.New(apperr.BadRequest, "the runs belong to different calls")
	}
	slotOf := func(r *ent.MatchRun) map[string]string {
		m := map[string]string{}
		for sid, apps := range r.Assignments {
			for _, app := range apps {
				m[app] = sid
			}
		}
		return m
	}
	sa, sb := slotOf(a), slotOf(b)
	seen := map[string]bool{}
	var all []string
	for _, m := range []map[string]string{sa, sb} {
		for app := range m {
			if !seen[app] {
				seen[app] = true
				all = append(all, app)
			}
		}
	}
	slices.Sort(all)
	var out []Move
	for _, app := range all {
		if sa[app] != sb[app] {
			out = append(out, Move{Application: pulid.ID(app), From: pulid.ID(sa[app]), To: pulid.ID(sb[app])})
		}
	}
	return out, nil
}

// SetOverride pins an application to a slot, or excludes the pair, with a reason (1–500
// characters), for the call's next runs. Staff only, while the call is in REVIEW or
// RANKING. User errors: NOT_FOUND (call, application, slot), INVALID (the application or
// slot is not of this call, the application is not eligible, the slot is not approved, a
// second pin for the application), TAKEN (the pair has an override already), INVALID_STATE.
func (s *Service) SetOverride(ctx context.Context, tx *ent.Client, callID, appID, slotID pulid.ID, kind matchoverride.Kind, reason string) (*ent.MatchOverride, error) {
	if err := requireRunner(ctx); err != nil {
		return nil, err
	}
	c, err := s.lockCall(ctx, tx, callID)
	if err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	if _, err := programme.NextCallStatus(c.Status, programme.CallSetOverride, programme.CallFactsOf(c, s.cfg.Now())); err != nil {
		errs.AddRefusal(err, check.Path("callId")...)
	}
	reason = check.RequiredText(&errs, reason, 500, "The reason", "Say why; the reason is shown with every run.", check.Path("reason"))
	if matchoverride.KindValidator(kind) != nil {
		errs.Add(apperr.CodeInvalid, "Choose PIN or EXCLUDE.", check.Path("kind")...)
	}
	a, err := tx.Application.Get(ctx, appID)
	switch {
	case ent.IsNotFound(err):
		errs.Add(apperr.CodeNotFound, "No such application.", check.Path("applicationId")...)
	case err != nil:
		return nil, fmt.Errorf("load application: %w", err)
	case a.CallID != c.ID || a.Status != application.StatusELIGIBLE:
		errs.Add(apperr.CodeInvalid, "Only an eligible application of this call can be pinned or excluded.", check.Path("applicationId")...)
	}
	sl, err := tx.HostSlot.Get(ctx, slotID)
	switch {
	case ent.IsNotFound(err):
		errs.Add(apperr.CodeNotFound, "No such slot.", check.Path("slotId")...)
	case err != nil:
		return nil, fmt.Errorf("load slot: %w", err)
	case sl.CallID != c.ID || sl.Status != hostslot.StatusAPPROVED:
		errs.Add(apperr.CodeInvalid, "Only an approved slot of this call can be used.", check.Path("slotId")...)
	}
	if len(errs) == 0 {
		if ok, err := tx.MatchOverride.Query().Where(matchoverride.CallID(c.ID), matchoverride.ApplicationID(appID), matchoverride.SlotID(slotID)).Exist(ctx); err != nil {
			return nil, fmt.Errorf("check overrides: %w", err)
		} else if ok {
			errs.Add(apperr.CodeTaken, "This pair has an override already; remove it first.", check.Path("slotId")...)
		}
		if kind == matchoverride.KindPIN {
			if ok, err := tx.MatchOverride.Query().Where(matchoverride.CallID(c.ID), matchoverride.ApplicationID(appID), matchoverride.KindEQ(matchoverride.KindPIN)).Exist(ctx); err != nil {
				return nil, fmt.Errorf("check pins: %w", err)
			} else if ok {
				errs.Add(apperr.CodeInvalid, "This application is pinned to another slot already.", check.Path("applicationId")...)
			}
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return tx.MatchOverride.Create().SetCallID(c.ID).SetApplicationID(appID).SetSlotID(slotID).SetKind(kind).SetReason(reason).Save(ctx)
}

// RemoveOverride removes a pin or exclusion before the match is published (staff only).
func (s *Service) RemoveOverride(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.MatchOverride, error) {
	if err := requireRunner(ctx); err != nil {
		return nil, err
	}
	o, err := tx.MatchOverride.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid(apperr.CodeNotFound, "No such override.", check.Path("id")...)
	}
	if err != nil {
		return nil, fmt.Errorf("load override: %w", err)
	}
	c, err := s.lockCall(ctx, tx, o.CallID)
	if err != nil {
		return nil, err
	}
	if _, err := programme.NextCallStatus(c.Status, programme.CallRemoveOverride, programme.CallFactsOf(c, s.cfg.Now())); err != nil {
		return nil, apperr.OnField(err, check.Path("id")...)
	}
	if err := tx.MatchOverride.DeleteOne(o).Exec(ctx); err != nil {
		return nil, fmt.Errorf("remove override: %w", err)
	}
	return o, nil
}

// Overrides lists a call's overrides (staff only).
func (s *Service) Overrides(ctx context.Context, c *ent.Call) ([]*ent.MatchOverride, error) {
	out, err := s.OverridesOf(ctx, []*ent.Call{c})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// OverridesOf is Overrides for several calls (one list per call, in order), in one
// statement.
func (s *Service) OverridesOf(ctx context.Context, calls []*ent.Call) ([][]*ent.MatchOverride, error) {
	if err := requireRunner(ctx); err != nil {
		return nil, err
	}
	os, err := s.cfg.Client.MatchOverride.Query().Where(matchoverride.CallIDIn(callIDs(calls)...)).Order(matchoverride.ByID()).All(ctx)
	if err != nil {
		return nil, err
	}
	return groupBy(calls, os, func(o *ent.MatchOverride) pulid.ID { return o.CallID }), nil
}
