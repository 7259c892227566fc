package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"sync"
	"time"
	"unicode"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/organisation"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/workinggroup"
	"github.com/gocart-coalition/coalition/internal/app"
	"github.com/gocart-coalition/coalition/internal/auth"
	"github.com/gocart-coalition/coalition/internal/clock"
	"github.com/gocart-coalition/coalition/internal/directory"
	"github.com/gocart-coalition/coalition/internal/groups"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/statements"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Start is where the demo's clock starts (the first call opens); End is where it stops,
// the "now" the demo data describes: the first call's match is published and answered,
// the second call is open for applications.
var (
	Start = time.Date(2026, time.September, 1, 8, 0, 0, 0, time.UTC)
	End   = time.Date(2026, time.November, 20, 9, 0, 0, 0, time.UTC)
)

// Clock is the demo's clock: it moves only when the story says so. Pass Now to app.New.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at Start.
func NewClock() *Clock { return &Clock{now: Start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *Clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t.UTC()
	c.mu.Unlock()
}

// Role names the people whose API tokens the demo prints.
type Role string

// The roles of the tour.
const (
	RoleTrainee    Role = "TRAINEE"
	RoleHost       Role = "HOST"
	RoleStaff      Role = "STAFF"
	RoleSignatory  Role = "SIGNATORY"
	RoleSubscriber Role = "SUBSCRIBER"
)

// Roles is the order in which tokens are printed.
var Roles = []Role{RoleTrainee, RoleHost, RoleStaff, RoleSignatory, RoleSubscriber}

// Person is a demo user with an API token.
type Person struct {
	Role  Role
	Name  string
	Email string
	// Token is an API token (READ and WRITE) acting for the person; shown once.
	Token string
}

// Result is what the demo made.
type Result struct {
	Seed   uint64
	People []Person
	// Counts of what was created, by kind (stable keys, for the summary and tests).
	Counts map[string]int
	// CampaignSlug is the sent newsletter campaign's address in the public archive.
	CampaignSlug string
}

// Run builds the demo in a's database (which the caller has checked is empty), moving clk
// from Start to End; a must have been built with clk.Now. seed chooses the people's names,
// their choices and the hosts' rankings: the same seed builds the same story (the IDs and
// secrets are new each time).
func Run(ctx context.Context, a *app.App, clk *Clock, seed uint64) (*Result, error) {
	d := &builder{a: a, clk: clk, rnd: rand.New(rand.NewPCG(seed, seed^0x5eed)), res: &Result{Seed: seed, Counts: map[string]int{}}}
	clk.set(Start)
	ctx = clock.WithNow(ctx, clk.Now)
	d.base = ctx
	for _, step := range []struct {
		name string
		fn   func() error
	}{
		{"people and directory", d.people},
		{"working groups", d.workingGroups},
		{"first call", d.firstCall},
		{"newsletter", d.newsletter},
		{"statements", d.statements},
		{"second call", d.secondCall},
		{"first match", d.firstMatch},
		{"mail", d.sendMail},
		{"tokens", d.tokens},
		{"end", func() error { d.at(End); return nil }},
	} {
		if err := step.fn(); err != nil {
			return nil, fmt.Errorf("demo: %s: %w", step.name, err)
		}
	}
	return d.res, nil
}

type builder struct {
	a    *app.App
	clk  *Clock
	rnd  *rand.Rand
	res  *Result
	base context.Context

	staff, staff2                *ent.User
	societies                    []*ent.Organisation
	homes                        map[string]*ent.Organisation // by country
	centres                      []*ent.HostCentre
	hosts                        []*ent.User // coordinator of centres[i]
	trainees                     []*ent.User
	signatories                  []*ent.User // of societies[i]
	subscriber                   *ent.User
	pharmacists, delphi          *ent.WorkingGroup
	members                      []*ent.User
	tourTrainee, tourHost        *ent.User
	quarterly                    *ent.MailingList
	statementsList               *ent.MailingList
	publishedIDs                 []pulid.ID
	reviewStatement, reviewRevID pulid.ID
	firstCallID                  pulid.ID
	firstApps                    []*ent.Application
}

func (d *builder) at(t time.Time) { d.clk.set(t) }

// as is a context acting as u (signed in, both scopes, with u's roles).
func (d *builder) as(u *ent.User) context.Context {
	return viewer.NewContext(d.base, viewer.Viewer{
		Kind: viewer.User, UserID: string(u.ID), Email: u.Email, Roles: u.Roles, Scopes: viewer.AllScopes,
	})
}

func (d *builder) system() context.Context { return viewer.NewSystemContext(d.base) }

// do runs fn in one transaction (in the context, as /graphql's transactioner opens it).
func (d *builder) do(ctx context.Context, fn func(ctx context.Context, tx *ent.Client) error) error {
	txCtx, _, err := d.a.DB.Client.OpenTx(ctx)
	if err != nil {
		return err
	}
	tx := ent.TxFromContext(txCtx)
	if err := fn(txCtx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (d *builder) count(kind string, n int) { d.res.Counts[kind] += n }

func ptr[T any](v T) *T { return &v }

func (d *builder) user(email, name string, roles ...viewer.Role) (*ent.User, error) {
	var u *ent.User
	err := d.do(d.system(), func(ctx context.Context, tx *ent.Client) (err error) {
		u, err = d.a.Auth.CreateUser(ctx, tx, auth.CreateUserInput{Email: email, Name: name, Roles: roles})
		return err
	})
	if err == nil {
		d.count("users", 1)
	}
	return u, err
}

// The fictional cast. Addresses are under example.* domains (RFC 2606): nobody receives them.
var (
	societyNames = []struct{ name, country, city, domain string }{
		{"European Society for Blood and Marrow Therapy (demo)", "NL", "Leiden", "esbmt.example.org"},
		{"European Haematology Forum (demo)", "NL", "The Hague", "ehf.example.org"},
	}
	centreNames = []struct{ hospital, centre, city, country, lang, host, hostEmail string }{
		{"Hôpital Saint-Exemple", "Unité CAR-T, Hôpital Saint-Exemple", "Lyon", "FR", "fr", "Claire Martin", "claire.martin@saint-exemple.example.fr"},
		{"Centre Hospitalier Imaginaire de Lille", "Service d'hématologie, CHI Lille", "Lille", "FR", "fr", "Julien Moreau", "julien.moreau@chi-lille.example.fr"},
		{"Universitätsklinikum Musterstadt", "Zelltherapie, Uniklinikum Musterstadt", "Musterstadt", "DE", "de", "Lukas Becker", "lukas.becker@uk-musterstadt.example.de"},
		{"Klinikum Beispielberg", "CAR-T-Zentrum, Klinikum Beispielberg", "Beispielberg", "DE", "de", "Anna Schmidt", "anna.schmidt@beispielberg.example.de"},
		{"Ospedale Immaginario di Milano", "Centro CAR-T, Ospedale Immaginario", "Milano", "IT", "it", "Giulia Rossi", "giulia.rossi@immaginario.example.it"},
		{"Policlinico Esempio", "Ematologia, Policlinico Esempio", "Bologna", "IT", "it", "Marco Bianchi", "marco.bianchi@esempio.example.it"},
	}
	homeNames = map[string]struct{ name, city, domain string }{
		"CZ": {"Fakultní nemocnice Příkladov", "Brno", "fn-prikladov.example.cz"},
		"RO": {"Institutul Clinic Exemplu", "București", "ice.example.ro"},
		"PL": {"Szpital Przykładowy", "Kraków", "szpital-przykladowy.example.pl"},
		"IE": {"St Example's University Hospital", "Dublin", "st-example.example.ie"},
	}
	traineeNames = map[string][]string{
		"CZ": {"Marek Novák", "Tereza Dvořáková", "Jakub Svoboda", "Lucie Černá", "Petr Procházka", "Eva Kučerová"},
		"RO": {"Ioana Popescu", "Andrei Ionescu", "Elena Dumitrescu", "Mihai Stan", "Ana Constantin", "Radu Marin"},
		"PL": {"Katarzyna Nowak", "Piotr Wiśniewski", "Agnieszka Wójcik", "Tomasz Kowalczyk", "Magdalena Kamińska", "Paweł Lewandowski"},
		"IE": {"Aoife Murphy", "Ciarán Kelly", "Siobhán O'Brien", "Conor Walsh", "Niamh Byrne", "Eoin Ryan"},
	}
	countries = []string{"CZ", "RO", "PL", "IE"}
)

var asciiRE = regexp.MustCompile(`[^a-z]+`)

var fold = map[rune]string{'á': "a", 'č': "c", 'ď': "d", 'é': "e", 'ě': "e", 'í': "i", 'ň': "n", 'ó': "o", 'ř': "r", 'š': "s", 'ť': "t", 'ú': "u", 'ů': "u", 'ý': "y", 'ž': "z", 'ą': "a", 'ć': "c", 'ę': "e", 'ł': "l", 'ń': "n", 'ś': "s", 'ź': "z", 'ż': "z", 'ă': "a", 'â': "a", 'î': "i", 'ș': "s", 'ț': "t", '\'': ""}

// addressOf makes the local part of an address from a name: "Ciarán O'Brien" → ciaran.obrien.
func addressOf(name string) string {
	var b []rune
	for _, r := range []rune(name) {
		r = unicode.ToLower(r)
		if f, ok := fold[r]; ok {
			b = append(b, []rune(f)...)
			continue
		}
		b = append(b, r)
	}
	return asciiRE.ReplaceAllString(string(b), ".")
}

func (d *builder) people() error {
	var err error
	if d.staff, err = d.user("office@coalition.example", "Sofia Lindqvist", viewer.RoleStaff); err != nil {
		return err
	}
	if d.staff2, err = d.user("programme@coalition.example", "Tom Verhoeven", viewer.RoleStaff); err != nil {
		return err
	}
	staff := d.as(d.staff)
	org := func(name string, kind organisation.Kind, country, city, web string) (*ent.Organisation, error) {
		var o *ent.Organisation
		err := d.do(staff, func(ctx context.Context, tx *ent.Client) (err error) {
			o, err = d.a.Directory.CreateOrganisation(ctx, tx, directory.CreateOrganisationInput{Name: name, Kind: kind, Country: country, City: &city, Website: ptr("https://" + web)})
			return err
		})
		if err == nil {
			d.count("organisations", 1)
		}
		return o, err
	}
	for _, s := range societyNames {
		o, err := org(s.name, organisation.KindSOCIETY, s.country, s.city, s.domain)
		if err != nil {
			return err
		}
		d.societies = append(d.societies, o)
	}
	d.homes = map[string]*ent.Organisation{}
	for _, c := range countries {
		h := homeNames[c]
		if d.homes[c], err = org(h.name, organisation.KindHOSPITAL, c, h.city, h.domain); err != nil {
			return err
		}
	}
	yes := true
	for i, c := range centreNames {
		host, err := d.user(c.hostEmail, c.host, viewer.RoleHostCoordinator)
		if err != nil {
			return err
		}
		hosp, err := org(c.hospital, organisation.KindHOSPITAL, c.country, c.city, c.hostEmail[len(addressOf(c.host))+1:])
		if err != nil {
			return err
		}
		var hc *ent.HostCentre
		err = d.do(staff, func(ctx context.Context, tx *ent.Client) (err error) {
			hc, err = d.a.Directory.CreateHostCentre(ctx, tx, directory.CreateHostCentreInput{OrganisationID: hosp.ID, HostCentreProfile: directory.HostCentreProfile{
				Name: ptr(c.centre), City: ptr(c.city), Country: ptr(c.country), Languages: []string{"en", c.lang},
				Adult: &yes, Paediatric: ptr(i%2 == 0), AcceptingObservers: &yes, AnnualPatients: ptr(40 + 15*i),
				Products:    []string{"axicabtagene ciloleucel", "tisagenlecleucel"},
				Description: ptr(fmt.Sprintf("A fictional CAR-T centre in %s for the demo: apheresis, manufacturing liaison, infusion and follow-up.", c.city)),
			}})
			if err != nil {
				return err
			}
			hc, err = d.a.Directory.AddHostCoordinator(ctx, tx, hc.ID, host.ID)
			return err
		})
		if err != nil {
			return err
		}
		d.count("host_centres", 1)
		d.centres = append(d.centres, hc)
		d.hosts = append(d.hosts, host)
	}
	d.tourHost = d.hosts[0]
	// Twenty trainees, five from each country; the seed picks who.
	for _, c := range countries {
		names := append([]string(nil), traineeNames[c]...)
		d.rnd.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		for _, n := range names[:5] {
			u, err := d.user(addressOf(n)+"@"+homeNames[c].domain, n, viewer.RoleTrainee)
			if err != nil {
				return err
			}
			d.trainees = append(d.trainees, u)
		}
	}
	// Interleave the countries so every stage has trainees from several of them.
	sorted := make([]*ent.User, 0, len(d.trainees))
	for i := range 5 {
		for c := range countries {
			sorted = append(sorted, d.trainees[c*5+i])
		}
	}
	d.trainees = sorted
	// A society officer of each society (signatories), affiliated, and a subscriber.
	for i, s := range []struct{ name, email string }{
		{"Pieter de Vries", "pieter.devries@esbmt.example.org"},
		{"Isabel Fernández", "isabel.fernandez@ehf.example.org"},
	} {
		u, err := d.user(s.email, s.name, viewer.RoleTrainee)
		if err != nil {
			return err
		}
		err = d.do(staff, func(ctx context.Context, tx *ent.Client) error {
			_, err := d.a.Directory.SetAffiliation(ctx, tx, directory.SetAffiliationInput{UserID: u.ID, OrganisationID: d.societies[i].ID, Position: "Policy officer"})
			return err
		})
		if err != nil {
			return err
		}
		d.signatories = append(d.signatories, u)
	}
	d.subscriber, err = d.user("nora.reader@reader.example.net", "Nora Reader", viewer.RoleTrainee)
	return err
}

func (d *builder) workingGroups() error {
	staff := d.as(d.staff)
	mk := func(name string, wp workinggroup.WorkPackage, purpose string) (*ent.WorkingGroup, error) {
		var g *ent.WorkingGroup
		err := d.do(staff, func(ctx context.Context, tx *ent.Client) (err error) {
			g, err = d.a.WorkingGroups.CreateWorkingGroup(ctx, tx, groups.CreateWorkingGroupInput{Name: name, WorkPackage: wp, Purpose: &purpose, Visibility: workinggroup.VisibilityPUBLIC})
			return err
		})
		if err == nil {
			d.count("working_groups", 1)
		}
		return g, err
	}
	var err error
	if d.pharmacists, err = mk("Pharmacist Working Group", workinggroup.WorkPackageSTANDARDS_OF_CARE,
		"Hospital pharmacists share practice on the **receipt, storage and handling** of CAR-T products."); err != nil {
		return err
	}
	if d.delphi, err = mk("CAR-T Core Data Delphi Panel", workinggroup.WorkPackageDATA_HARMONISATION,
		"An expert panel agreeing, in Delphi rounds, on a **minimal core data set** for CAR-T follow-up."); err != nil {
		return err
	}
	// Members: hosts and signatories, with a chair each; everyone accepts and declares.
	type seat struct {
		g    *ent.WorkingGroup
		u    *ent.User
		role membership.Role
		org  *ent.Organisation
	}
	seats := []seat{
		{d.pharmacists, d.hosts[0], membership.RoleCHAIR, nil},
		{d.pharmacists, d.hosts[2], membership.RoleMEMBER, nil},
		{d.pharmacists, d.hosts[4], membership.RoleMEMBER, nil},
		{d.pharmacists, d.signatories[1], membership.RoleSECRETARIAT, d.societies[1]},
		{d.delphi, d.signatories[0], membership.RoleCHAIR, d.societies[0]},
		{d.delphi, d.hosts[1], membership.RoleMEMBER, nil},
		{d.delphi, d.hosts[3], membership.RoleMEMBER, nil},
		{d.delphi, d.hosts[5], membership.RoleMEMBER, nil},
	}
	for _, s := range seats {
		var m *ent.Membership
		in := groups.InviteInput{GroupID: s.g.ID, UserID: s.u.ID, Role: s.role, TermStart: "2026-09-01", TermEnd: "2028-08-31"}
		if s.org != nil {
			in.OrganisationID = &s.org.ID
		}
		if err := d.do(staff, func(ctx context.Context, tx *ent.Client) (err error) {
			m, err = d.a.WorkingGroups.Invite(ctx, tx, in)
			return err
		}); err != nil {
			return err
		}
		if err := d.do(d.as(s.u), func(ctx context.Context, tx *ent.Client) error {
			_, err := d.a.WorkingGroups.Accept(ctx, tx, m.ID)
			return err
		}); err != nil {
			return err
		}
		d.count("memberships", 1)
	}
	// Declarations of interest: every member, and the statements' author (staff).
	declared := map[pulid.ID]bool{}
	for i, s := range seats {
		if declared[s.u.ID] {
			continue
		}
		declared[s.u.ID] = true
		in := groups.DeclareInput{NothingToDeclare: true}
		if i%3 == 1 {
			in = groups.DeclareInput{Interests: []groups.InterestInput{{
				Organisation: "Fictional Biotech S.A.", Kind: vocab.InterestAdvisoryBoard, From: "2025-06-01",
				Description: ptr("Advisory board on CAR-T logistics (fictional)."),
			}}}
		}
		if err := d.declare(s.u, in); err != nil {
			return err
		}
	}
	if err := d.declare(d.staff, groups.DeclareInput{NothingToDeclare: true}); err != nil {
		return err
	}
	// Meetings: one each, in October, in the group's local time.
	for _, m := range []groups.ScheduleMeetingInput{
		{GroupID: d.pharmacists.ID, Title: "Autumn meeting: cryo-storage audit", Start: "2026-12-03T14:00", End: "2026-12-03T15:30",
			TimeZone: "Europe/Paris", VideoURL: ptr("https://meet.example.org/pharmacists"), Agenda: ptr("1. Storage audit results\n2. Handling checklist v2")},
		{GroupID: d.delphi.ID, Title: "Delphi round 2: results workshop", Start: "2026-12-10T10:00", End: "2026-12-10T12:00",
			TimeZone: "Europe/Rome", Location: ptr("Sala Verde, Ospedale Immaginario, Milano"), VideoURL: ptr("https://meet.example.org/delphi"),
			Agenda: ptr("1. Round 2 results\n2. Items without consensus\n3. Plan for round 3")},
	} {
		if err := d.do(staff, func(ctx context.Context, tx *ent.Client) error {
			_, err := d.a.WorkingGroups.ScheduleMeeting(ctx, tx, m)
			return err
		}); err != nil {
			return err
		}
		d.count("meetings", 1)
	}
	return nil
}

func (d *builder) declare(u *ent.User, in groups.DeclareInput) error {
	err := d.do(d.as(u), func(ctx context.Context, tx *ent.Client) error {
		_, err := d.a.WorkingGroups.Declare(ctx, tx, in)
		return err
	})
	if err == nil {
		d.count("declarations", 1)
	}
	return err
}

const motivation = "I lead the new CAR-T programme of our haematology department and want to see how an experienced " +
	"centre organises apheresis, bridging therapy and the management of cytokine release syndrome."

func (d *builder) call(in programme.CallInput) (*ent.Call, error) {
	var c *ent.Call
	err := d.do(d.as(d.staff), func(ctx context.Context, tx *ent.Client) (err error) {
		c, err = d.a.Programme.CreateCall(ctx, tx, in)
		return err
	})
	if err == nil {
		d.count("calls", 1)
	}
	return c, err
}

// slots gives every centre one or two approved slots of c from first (a Monday).
func (d *builder) slots(c *ent.Call, first time.Time) error {
	for i, hc := range d.centres {
		n := 1 + i%2
		for k := range n {
			start := vocab.DateOf(first.AddDate(0, 0, 7*(2*i+3*k)), time.UTC)
			var sl *ent.HostSlot
			if err := d.do(d.as(d.hosts[i]), func(ctx context.Context, tx *ent.Client) (err error) {
				sl, err = d.a.Programme.ProposeSlot(ctx, tx, programme.ProposeSlotInput{CallID: c.ID, HostCentreID: hc.ID, StartDate: start, Weeks: 1 + k, Capacity: 1})
				return err
			}); err != nil {
				return err
			}
			if err := d.do(d.as(d.staff), func(ctx context.Context, tx *ent.Client) (err error) {
				_, err = d.a.Programme.ApproveSlot(ctx, tx, sl.ID)
				return err
			}); err != nil {
				return err
			}
			d.count("slots", 1)
		}
	}
	return d.do(d.as(d.staff), func(ctx context.Context, tx *ent.Client) (err error) {
		_, err = d.a.Programme.OpenCall(ctx, tx, c.ID)
		return err
	})
}

// apply saves (and with submit, submits) an application of t to c with a seeded choice
// of two or three centres.
func (d *builder) apply(t *ent.User, home *ent.Organisation, c *ent.Call, window vocab.DateRange, submit bool) (*ent.Application, error) {
	order := d.rnd.Perm(len(d.centres))
	ids := make([]pulid.ID, 2+d.rnd.IntN(2))
	for i := range ids {
		ids[i] = d.centres[order[i]].ID
	}
	in := programme.SaveApplicationInput{
		CallID: c.ID, HomeOrganisationID: &home.ID, Role: ptr("Haematology registrar"), CartExperienceYears: ptr(1 + d.rnd.IntN(4)),
		Motivation: ptr(motivation), Languages: []string{"en"}, Availability: []vocab.DateRange{window},
		PreferredWeeks: ptr(1 + d.rnd.IntN(2)), HostCentreIDs: ids,
	}
	var a *ent.Application
	err := d.do(d.as(t), func(ctx context.Context, tx *ent.Client) (err error) {
		if a, err = d.a.Programme.SaveApplication(ctx, tx, in); err != nil || !submit {
			return err
		}
		a, err = d.a.Programme.Submit(ctx, tx, a.ID)
		return err
	})
	if err == nil {
		d.count("applications", 1)
	}
	return a, err
}

func (d *builder) homeOf(i int) *ent.Organisation { return d.homes[countries[i%4]] }

// firstCall runs the autumn call from opening to a published match with answered offers.
func (d *builder) firstCall() error {
	c, err := d.call(programme.CallInput{
		Title: ptr("Observership call, winter 2027"), Description: ptr("Observe **CAR-T** care at an experienced centre for one or two weeks."),
		Opens: ptr("2026-09-01T09:00"), Closes: ptr("2026-10-01T17:00"), TimeZone: ptr("Europe/Brussels"),
		PlacementStart: ptr(vocab.Date("2027-01-11")), PlacementEnd: ptr(vocab.Date("2027-04-30")),
		PlacementWeeks: []int{1, 2}, EligibleCountries: countries, FundedPlaces: ptr(8),
		RequiredDocuments: []vocab.DocumentKind{}, RefereeLetters: ptr(0),
		ReviewCriteria: []vocab.Criterion{
			{Key: "motivation", Name: "Motivation and fit", Weight: 60},
			{Key: "experience", Name: "CAR-T experience", Weight: 40},
		},
		RankingDeadline: ptr("2026-10-16T17:00"),
	})
	if err != nil {
		return err
	}
	if err := d.slots(c, time.Date(2027, 1, 11, 0, 0, 0, 0, time.UTC)); err != nil {
		return err
	}
	// Twelve trainees apply (the first eleven submit; one is judged ineligible).
	d.at(time.Date(2026, 9, 15, 10, 0, 0, 0, time.UTC))
	var apps []*ent.Application
	for i, t := range d.trainees[:12] {
		a, err := d.apply(t, d.homeOf(i), c, vocab.DateRange{From: "2027-01-11", To: "2027-04-30"}, i < 11)
		if err != nil {
			return fmt.Errorf("application of %s: %w", t.Name, err)
		}
		apps = append(apps, a)
	}
	d.at(time.Date(2026, 10, 2, 9, 0, 0, 0, time.UTC))
	staff := d.as(d.staff)
	if err := d.do(staff, func(ctx context.Context, tx *ent.Client) (err error) {
		if c, err = d.a.Programme.CloseCall(ctx, tx, c.ID, false, ""); err != nil {
			return err
		}
		for i, a := range apps[:11] {
			reason := ""
			if i == 10 {
				reason = "The applicant's centre is not yet accredited for CAR-T therapy."
			}
			if _, err = d.a.Programme.DecideEligibility(ctx, tx, a.ID, i != 10, reason); err != nil {
				return err
			}
		}
		if c, err = d.a.Programme.StartReview(ctx, tx, c.ID); err != nil {
			return err
		}
		c, err = d.a.Programme.StartRanking(ctx, tx, c.ID)
		return err
	}); err != nil {
		return err
	}
	// Every host ranks the eligible applicants who chose it, in a seeded order.
	d.at(time.Date(2026, 10, 9, 11, 0, 0, 0, time.UTC))
	for i, hc := range d.centres {
		var ranked []pulid.ID
		for _, a := range apps[:10] {
			choices, err := d.a.Programme.HostChoices(d.system(), d.a.DB.Client, a.ID)
			if err != nil {
				return err
			}
			for _, ch := range choices {
				if ch.ID == hc.ID {
					ranked = append(ranked, a.ID)
				}
			}
		}
		if len(ranked) == 0 {
			continue
		}
		d.rnd.Shuffle(len(ranked), func(i, j int) { ranked[i], ranked[j] = ranked[j], ranked[i] })
		if err := d.do(d.as(d.hosts[i]), func(ctx context.Context, tx *ent.Client) error {
			_, err := d.a.Programme.SubmitHostRanking(ctx, tx, c.ID, hc.ID, ranked)
			return err
		}); err != nil {
			return err
		}
		d.count("host_rankings", 1)
	}
	d.firstCallID, d.firstApps = c.ID, apps
	return nil
}

// firstMatch: staff run and publish the first call's match; the trainees answer.
func (d *builder) firstMatch() error {
	staff := d.as(d.staff)
	c, apps := d.firstCallID, d.firstApps
	d.at(time.Date(2026, 11, 18, 14, 0, 0, 0, time.UTC))
	var runID pulid.ID
	if err := d.do(staff, func(ctx context.Context, tx *ent.Client) error {
		run, err := d.a.MatchRuns.StartRun(ctx, tx, c, false)
		if err != nil {
			return err
		}
		runID = run.ID
		_, err = d.a.MatchRuns.Publish(ctx, tx, run.ID)
		return err
	}); err != nil {
		return err
	}
	ps, err := d.a.DB.Client.Placement.Query().Where(placement.RunID(runID)).All(d.system())
	if err != nil {
		return err
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].ID < ps[j].ID })
	byApp := map[pulid.ID]*ent.Placement{}
	for _, p := range ps {
		byApp[p.ApplicationID] = p
	}
	d.count("placements", len(ps))
	// Answers: most accept (and the host confirms some of those), one declines, the rest
	// have not answered yet. The tour's trainee is the first who accepted and was confirmed.
	d.at(time.Date(2026, 11, 19, 15, 0, 0, 0, time.UTC))
	k := 0
	for i, a := range apps[:10] {
		p := byApp[a.ID]
		if p == nil {
			continue
		}
		t := d.trainees[i]
		switch {
		case k == 3:
			if err := d.do(d.as(t), func(ctx context.Context, tx *ent.Client) error {
				_, err := d.a.Placement.Decline(ctx, tx, p.ID, "A family matter keeps me at home this winter.")
				return err
			}); err != nil {
				return err
			}
		case k < 6:
			if err := d.do(d.as(t), func(ctx context.Context, tx *ent.Client) error {
				_, err := d.a.Placement.Accept(ctx, tx, p.ID)
				return err
			}); err != nil {
				return err
			}
			d.count("placements_accepted", 1)
			if k%2 == 0 {
				host := d.coordinatorOf(p.HostCentreID)
				if err := d.do(d.as(host), func(ctx context.Context, tx *ent.Client) error {
					_, err := d.a.Placement.Confirm(ctx, tx, p.ID)
					return err
				}); err != nil {
					return err
				}
				if d.tourTrainee == nil {
					d.tourTrainee, d.tourHost = t, host
				}
			}
		}
		k++
	}
	if d.tourTrainee == nil {
		return fmt.Errorf("no placement was accepted and confirmed")
	}
	return nil
}

func (d *builder) coordinatorOf(centre pulid.ID) *ent.User {
	for i, hc := range d.centres {
		if hc.ID == centre {
			return d.hosts[i]
		}
	}
	return d.staff
}

// secondCall is open for applications at End: some trainees submitted, some have drafts.
func (d *builder) secondCall() error {
	d.at(time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC))
	c, err := d.call(programme.CallInput{
		Title: ptr("Observership call, summer 2027"), Description: ptr("Second round of observerships: **May to September 2027**."),
		Opens: ptr("2026-11-16T09:00"), Closes: ptr("2027-02-15T17:00"), TimeZone: ptr("Europe/Brussels"),
		PlacementStart: ptr(vocab.Date("2027-05-03")), PlacementEnd: ptr(vocab.Date("2027-09-30")),
		PlacementWeeks: []int{1, 2}, EligibleCountries: countries, FundedPlaces: ptr(8),
		RequiredDocuments: []vocab.DocumentKind{}, RefereeLetters: ptr(0),
		ReviewCriteria: []vocab.Criterion{
			{Key: "motivation", Name: "Motivation and fit", Weight: 60},
			{Key: "experience", Name: "CAR-T experience", Weight: 40},
		},
		RankingDeadline: ptr("2027-03-05T17:00"),
	})
	if err != nil {
		return err
	}
	if err := d.slots(c, time.Date(2027, 5, 3, 0, 0, 0, 0, time.UTC)); err != nil {
		return err
	}
	d.at(time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC))
	// The eight trainees who were not in the first call: four submitted, four drafts.
	for i, t := range d.trainees[12:] {
		if _, err := d.apply(t, d.homeOf(12+i), c, vocab.DateRange{From: "2027-05-03", To: "2027-09-30"}, i%2 == 0); err != nil {
			return fmt.Errorf("application of %s: %w", t.Name, err)
		}
	}
	return nil
}

var confirmRE = regexp.MustCompile(`/newsletter/confirm\?token=(nc_[A-Za-z0-9_-]+)`)

// newsletter: the quarterly list with confirmed subscribers (each confirms through the
// link of their email, as a reader would) and a campaign written, approved by a second
// member of staff and sent.
func (d *builder) newsletter() error {
	d.at(time.Date(2026, 10, 26, 9, 0, 0, 0, time.UTC))
	staff := d.as(d.staff)
	if err := d.do(staff, func(ctx context.Context, tx *ent.Client) (err error) {
		d.quarterly, err = d.a.Newsletter.CreateList(ctx, tx, newsletter.ListInput{
			Name: ptr("Coalition Quarterly"), Slug: ptr("quarterly"),
			Description: ptr("The coalition's news every quarter: programme, working groups, policy."),
		})
		if err != nil {
			return err
		}
		d.statementsList, err = d.a.Newsletter.EnsureList(ctx, tx, statements.StatementsList, "Policy statements",
			"An email when the coalition publishes a policy statement, or corrects one materially.")
		return err
	}); err != nil {
		return err
	}
	d.count("mailing_lists", 2)
	readers := []struct{ name, email string }{{d.subscriber.Name, d.subscriber.Email}}
	for _, u := range append(append([]*ent.User{}, d.hosts...), d.signatories...) {
		readers = append(readers, struct{ name, email string }{u.Name, u.Email})
	}
	for _, n := range []string{"Hanna Berg", "Luca Ferri", "Zofia Mazur", "Seán Doyle"} {
		readers = append(readers, struct{ name, email string }{n, addressOf(n) + "@reader.example.net"})
	}
	for _, r := range readers {
		if err := d.do(d.system(), func(ctx context.Context, tx *ent.Client) error {
			_, err := d.a.Newsletter.Subscribe(ctx, tx, newsletter.SubscribeInput{
				Email: r.email, Name: r.name, Lists: []string{"quarterly", statements.StatementsList},
				Source: newsletter.SourceForm, IP: "192.0.2.10",
			})
			return err
		}); err != nil {
			return err
		}
		row, err := d.a.DB.Client.OutboxMessage.Query().
			Where(outboxmessage.Recipient(r.email), outboxmessage.Template("newsletter_confirm")).
			Order(ent.Desc(outboxmessage.FieldCreatedAt)).First(d.system())
		if err != nil {
			return fmt.Errorf("confirmation email to %s: %w", r.email, err)
		}
		m := confirmRE.FindStringSubmatch(row.TextBody)
		if m == nil {
			return fmt.Errorf("no confirmation link in the email to %s", r.email)
		}
		if err := d.do(viewer.NewContext(d.base, viewer.Viewer{}), func(ctx context.Context, tx *ent.Client) error {
			_, err := d.a.Newsletter.Confirm(ctx, tx, m[1], "192.0.2.10", newsletter.SourceForm)
			return err
		}); err != nil {
			return err
		}
		d.count("subscribers", 1)
	}
	d.at(time.Date(2026, 10, 28, 9, 0, 0, 0, time.UTC))
	var camp *ent.Campaign
	if err := d.do(staff, func(ctx context.Context, tx *ent.Client) (err error) {
		camp, err = d.a.Campaigns.CreateCampaign(ctx, tx, newsletter.CampaignInput{
			Subject:   ptr("Coalition Quarterly, autumn 2026: eleven applications for the winter call"),
			Preheader: ptr("Six host centres ranked their applicants; two working groups meet in December."),
			Body: ptr("## The winter call\n\nPhysicians from the Czech Republic, Romania, Poland and Ireland sent **eleven applications** " +
				"for observerships at six host centres in France, Germany and Italy. The match is published in November.\n\n" +
				"## Working groups\n\nThe Pharmacist Working Group meets on 3 December; the Delphi panel reviews round 2 on 10 December.\n\n" +
				"*All names in this newsletter are fictional: it is demo data.*"),
			ListIDs: &[]pulid.ID{d.quarterly.ID},
		})
		return err
	}); err != nil {
		return err
	}
	if err := d.do(d.as(d.staff2), func(ctx context.Context, tx *ent.Client) (err error) {
		_, err = d.a.Campaigns.ApproveCampaign(ctx, tx, camp.ID)
		return err
	}); err != nil {
		return err
	}
	if err := d.do(staff, func(ctx context.Context, tx *ent.Client) (err error) {
		camp, err = d.a.Campaigns.SendCampaignNow(ctx, tx, camp.ID)
		return err
	}); err != nil {
		return err
	}
	d.count("campaigns", 1)
	if err := d.deliver(); err != nil {
		return err
	}
	camp, err := d.a.DB.Client.Campaign.Get(d.system(), camp.ID)
	if err != nil {
		return err
	}
	if camp.Status != "SENT" {
		return fmt.Errorf("the campaign is %s after its deliveries were sent", camp.Status)
	}
	if camp.Slug != nil {
		d.res.CampaignSlug = *camp.Slug
	}
	return nil
}

// deliver runs the campaigns job and the outbox until every campaign that started is sent.
func (d *builder) deliver() error {
	for range 3 {
		if _, _, err := d.a.Campaigns.Run(d.base); err != nil {
			return err
		}
		if _, _, _, err := d.a.Outbox.DrainOnce(d.system()); err != nil {
			return err
		}
	}
	return nil
}

// statements: three published (one of them corrected) and a fourth waiting for the
// signatories' sign-off.
func (d *builder) statements() error {
	staff := d.as(d.staff)
	texts := []struct {
		slug, title, summary, body string
		topics                     []string
		publish, correct           bool
	}{
		{"soho-regulation-2026", "Implementing the SoHO regulation for cell therapies",
			"The coalition asks national authorities to apply the SoHO regulation consistently to cells used for CAR-T manufacturing.",
			"## Position\n\nStarting materials for CAR-T products should be collected under one set of rules across Member States.\n\n## Asks\n\n1. A single inspection framework.\n2. Mutual recognition of apheresis-centre approvals.",
			[]string{"soho", "regulation"}, true, true},
		{"hospital-exemption-atmp", "Hospital exemption for ATMPs",
			"Academic CAR-T products made under the hospital exemption need shared quality standards and public outcome data.",
			"## Position\n\nThe hospital exemption should remain, with transparent reporting to a European registry.",
			[]string{"atmp", "hospital-exemption"}, true, false},
		{"access-to-car-t-2026", "Equitable access to CAR-T therapy in Europe",
			"Patients in every Member State should be able to reach a qualified CAR-T centre within a reasonable time.",
			"## Position\n\nCross-border referral pathways and observerships for emerging centres shorten the distance to treatment.",
			[]string{"access"}, true, false},
		{"car-t-data-registry", "A European registry for CAR-T outcomes",
			"A single European registry of CAR-T outcomes, built on the core data set agreed by the Delphi panel.",
			"## Position\n\nOutcome data of every CAR-T patient should be collected once, in a shared core data set.",
			[]string{"data", "registry"}, false, false},
	}
	for i, t := range texts {
		d.at(time.Date(2026, 11, 2+2*i, 9, 0, 0, 0, time.UTC))
		var st *ent.PolicyStatement
		if err := d.do(staff, func(ctx context.Context, tx *ent.Client) (err error) {
			in := statements.OpenInput{Slug: t.slug, Text: statements.Text{Title: t.title, Summary: t.summary, Body: t.body},
				Topics: t.topics, AuthorIDs: []pulid.ID{d.staff.ID}, CoAuthorIDs: []pulid.ID{d.societies[0].ID, d.societies[1].ID}}
			if i == 3 {
				in.WorkingGroupID = &d.delphi.ID
			}
			if st, err = d.a.Statements.Open(ctx, tx, in); err != nil {
				return err
			}
			for k, o := range d.societies {
				if _, err := d.a.Statements.DesignateSignatory(ctx, tx, st.ID, o.ID, d.signatories[k].ID); err != nil {
					return err
				}
			}
			st, err = d.a.Statements.Submit(ctx, tx, st.ID)
			return err
		}); err != nil {
			return fmt.Errorf("%s: %w", t.slug, err)
		}
		d.count("statements", 1)
		if !t.publish {
			d.reviewStatement, d.reviewRevID = st.ID, *st.CurrentRevisionID
			continue
		}
		for k, o := range d.societies {
			if err := d.do(d.as(d.signatories[k]), func(ctx context.Context, tx *ent.Client) error {
				_, err := d.a.Statements.Sign(ctx, tx, statements.SignInput{StatementID: st.ID, OrganisationID: o.ID, RevisionID: *st.CurrentRevisionID, Decision: statements.Approve})
				return err
			}); err != nil {
				return fmt.Errorf("%s: sign: %w", t.slug, err)
			}
		}
		d.at(d.clk.Now().Add(26 * time.Hour))
		if err := d.do(staff, func(ctx context.Context, tx *ent.Client) (err error) {
			st, err = d.a.Statements.PublishNow(ctx, tx, st.ID)
			return err
		}); err != nil {
			return fmt.Errorf("%s: publish: %w", t.slug, err)
		}
		d.count("statements_published", 1)
		d.publishedIDs = append(d.publishedIDs, st.ID)
		if t.correct {
			d.at(d.clk.Now().Add(20 * time.Hour))
			if err := d.do(staff, func(ctx context.Context, tx *ent.Client) (err error) {
				_, err = d.a.Statements.Correct(ctx, tx, statements.CorrectInput{StatementID: st.ID, BaseRevisionID: *st.CurrentRevisionID,
					Text: statements.Text{Title: t.title, Summary: t.summary, Body: t.body + "\n\nSee Article 2 of the SoHO regulation for the definitions used here."},
					Note: "Added the reference to the regulation's definitions."})
				return err
			}); err != nil {
				return fmt.Errorf("%s: correct: %w", t.slug, err)
			}
			d.count("statements_corrected", 1)
		}
	}
	// The announcements go out like any campaign.
	return d.deliver()
}

// sendMail hands every queued email (invitations, offers, confirmations, announcements)
// to the configured transport.
func (d *builder) sendMail() error {
	if err := d.deliver(); err != nil {
		return err
	}
	n, err := d.a.DB.Client.OutboxMessage.Query().Where(outboxmessage.StateEQ(outboxmessage.StateSent)).Count(d.system())
	if err != nil {
		return err
	}
	d.count("emails_sent", n)
	return nil
}

// tokens mints an API token for one person of each role of the tour.
func (d *builder) tokens() error {
	for _, p := range []struct {
		role Role
		u    *ent.User
	}{
		{RoleTrainee, d.tourTrainee}, {RoleHost, d.tourHost}, {RoleStaff, d.staff},
		{RoleSignatory, d.signatories[0]}, {RoleSubscriber, d.subscriber},
	} {
		var secret string
		if err := d.do(d.system(), func(ctx context.Context, tx *ent.Client) (err error) {
			_, secret, err = d.a.Auth.CreateAPIToken(ctx, tx, auth.CreateAPITokenInput{UserID: p.u.ID, Name: "demo tour", Scopes: viewer.AllScopes})
			return err
		}); err != nil {
			return err
		}
		d.res.People = append(d.res.People, Person{Role: p.role, Name: p.u.Name, Email: p.u.Email, Token: secret})
	}
	return nil
}
