package programme

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"entgo.io/contrib/entgql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/hostslot"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/markdown"
)

// Limits of a call.
const (
	maxTitleLen       = 200
	maxReasonLen      = 500
	maxCriteria       = 10
	maxCriterionName  = 200
	maxCountries      = 60
	maxFundedPlaces   = 1000
	maxPlacementRange = 366 // days from the first to the last day of the placement window
)

// Defaults of a call's settings.
const (
	DefaultMaxPreferences     = 3
	DefaultRefereeLetters     = 1
	DefaultOfferResponseHours = 48
	DefaultMinLeadDays        = 14
	DefaultNoRepeatMonths     = 12
)

var criterionKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// CallInput is a call's settings. In CreateCall nil means the default (or, for required
// fields, a REQUIRED user error); in UpdateCall nil means unchanged.
type CallInput struct {
	Title, Description              *string
	Opens, Closes, TimeZone         *string
	PlacementStart, PlacementEnd    *vocab.Date
	PlacementWeeks                  []int
	EligibleCountries               []string
	MaxPreferences, FundedPlaces    *int
	RequiredDocuments               []vocab.DocumentKind
	RefereeLetters                  *int
	ReviewCriteria                  []vocab.Criterion
	OfferResponseHours, MinLeadDays *int
	OnePlacementPerTrainee          *bool
	NoRepeatMonths                  *int
	RankingDeadline                 *string
}

// callDraft is a call's settings, checked.
type callDraft struct {
	title, description, zone       string
	opens, closes                  time.Time
	rankingDeadline                *time.Time
	placementStart, placementEnd   vocab.Date
	weeks                          []int
	countries                      []string
	maxPreferences, fundedPlaces   int
	documents                      []vocab.DocumentKind
	refereeLetters                 int
	criteria                       []vocab.Criterion
	offerHours, leadDays, noRepeat int
	onePlacement                   bool
}

// CreateCall creates a call as a DRAFT. Staff only. User errors: every field's problem
// at once (see checkCall).
func (s *Service) CreateCall(ctx context.Context, tx *ent.Client, in CallInput) (*ent.Call, error) {
	if err := access.Require(ctx, access.CanRunCalls, "run calls"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	d := s.checkCall(&errs, in, nil)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	c, err := tx.Call.Create().
		SetTitle(d.title).SetDescription(d.description).
		SetOpensAt(d.opens).SetClosesAt(d.closes).SetTimeZone(d.zone).SetNillableRankingDeadline(d.rankingDeadline).
		SetPlacementStart(d.placementStart).SetPlacementEnd(d.placementEnd).SetPlacementWeeks(d.weeks).
		SetEligibleCountries(d.countries).SetMaxPreferences(d.maxPreferences).SetFundedPlaces(d.fundedPlaces).
		SetRequiredDocuments(d.documents).SetRefereeLetters(d.refereeLetters).SetReviewCriteria(d.criteria).
		SetOfferResponseHours(d.offerHours).SetMinLeadDays(d.leadDays).SetOnePlacementPerTrainee(d.onePlacement).
		SetNoRepeatMonths(d.noRepeat).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create call: %w", err)
	}
	return c, nil
}

// UpdateCall changes a call. Staff only. While DRAFT every setting can change. After that,
// until the call is MATCHED, COMPLETED or CANCELLED, only the description and the deadlines
// that are still ahead: the application deadline while the call is OPEN (to a later time),
// and the ranking deadline (set, moved or cleared before ranking starts) as long as its
// current value, if any, and its new value are both in the future. A deadline that has
// passed stays where it is. User errors: NOT_FOUND, INVALID_STATE, and those of checkCall;
// nothing changes when there is any.
func (s *Service) UpdateCall(ctx context.Context, tx *ent.Client, id pulid.ID, in CallInput) (*ent.Call, error) {
	if err := access.Require(ctx, access.CanRunCalls, "run calls"); err != nil {
		return nil, err
	}
	c, err := tx.Call.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, notFound("call", check.Path("id"))
	}
	if err != nil {
		return nil, fmt.Errorf("load call %s: %w", id, err)
	}
	now := s.cfg.Now()
	var errs apperr.UserErrors
	switch c.Status {
	case call.StatusDRAFT:
	case call.StatusOPEN, call.StatusCLOSED, call.StatusREVIEW, call.StatusRANKING:
		for name, set := range map[string]bool{
			"title": in.Title != nil, "opens": in.Opens != nil, "timeZone": in.TimeZone != nil,
			"placementStart": in.PlacementStart != nil, "placementEnd": in.PlacementEnd != nil, "placementWeeks": in.PlacementWeeks != nil,
			"eligibleCountries": in.EligibleCountries != nil, "maxPreferences": in.MaxPreferences != nil, "fundedPlaces": in.FundedPlaces != nil,
			"requiredDocuments": in.RequiredDocuments != nil, "refereeLetters": in.RefereeLetters != nil, "reviewCriteria": in.ReviewCriteria != nil,
			"offerResponseHours": in.OfferResponseHours != nil, "minLeadDays": in.MinLeadDays != nil,
			"onePlacementPerTrainee": in.OnePlacementPerTrainee != nil, "noRepeatMonths": in.NoRepeatMonths != nil,
		} {
			if set {
				errs.Add(apperr.CodeInvalidState, "Once a call is open, only its description and the deadlines still ahead can change.", check.Path(name)...)
			}
		}
		if in.Closes != nil {
			switch {
			case c.Status != call.StatusOPEN:
				errs.Add(apperr.CodeInvalidState, fmt.Sprintf("This call is %s: applications are closed and their deadline can no longer move.", c.Status), check.Path("closes")...)
			case !c.ClosesAt.After(now):
				errs.Add(apperr.CodeInvalidState, "The application deadline has passed; it can no longer move.", check.Path("closes")...)
			}
		}
		if in.RankingDeadline != nil {
			switch {
			case c.RankingDeadline != nil && !c.RankingDeadline.After(now):
				errs.Add(apperr.CodeInvalidState, fmt.Sprintf("The ranking deadline, %s (%s), has passed; it can no longer move.",
					LocalTime(c, *c.RankingDeadline), c.TimeZone), check.Path("rankingDeadline")...)
			case c.Status == call.StatusRANKING && strings.TrimSpace(*in.RankingDeadline) == "":
				errs.Add(apperr.CodeInvalidState, "Host centres are ranking; the ranking deadline can be moved but not removed.", check.Path("rankingDeadline")...)
			}
		}
	default:
		errs.Add(apperr.CodeInvalidState, fmt.Sprintf("This call is %s; it can no longer be changed.", c.Status), check.Path("id")...)
	}
	if err := errs.Err(); err != nil {
		slices.SortFunc(errs, func(a, b apperr.UserError) int {
			return strings.Compare(strings.Join(a.Field, "."), strings.Join(b.Field, "."))
		})
		return nil, errs.Err()
	}
	d := s.checkCall(&errs, in, c)
	if c.Status == call.StatusOPEN && d.closes.Before(c.ClosesAt) {
		errs.Add(apperr.CodeInvalid, "An open call's deadline can only move later.", check.Path("closes")...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	// Conditional on the status read: a change of settings that crosses a status change
	// (staff, or the deadline job) loses with CONFLICT.
	u := tx.Call.UpdateOne(c).Where(call.StatusEQ(c.Status)).
		SetTitle(d.title).SetDescription(d.description).
		SetOpensAt(d.opens).SetClosesAt(d.closes).SetTimeZone(d.zone).
		SetPlacementStart(d.placementStart).SetPlacementEnd(d.placementEnd).SetPlacementWeeks(d.weeks).
		SetEligibleCountries(d.countries).SetMaxPreferences(d.maxPreferences).SetFundedPlaces(d.fundedPlaces).
		SetRequiredDocuments(d.documents).SetRefereeLetters(d.refereeLetters).SetReviewCriteria(d.criteria).
		SetOfferResponseHours(d.offerHours).SetMinLeadDays(d.leadDays).SetOnePlacementPerTrainee(d.onePlacement).
		SetNoRepeatMonths(d.noRepeat)
	if d.rankingDeadline != nil {
		u.SetRankingDeadline(*d.rankingDeadline)
	} else {
		u.ClearRankingDeadline()
	}
	c, err = u.Save(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.LostRace("call")
	}
	if err != nil {
		return nil, fmt.Errorf("update call %s: %w", id, err)
	}
	return c, nil
}

// checkCall checks a call's settings: in over cur (nil for a new call). Rules: title 1–200
// characters, one line; description up to 20,000; a time zone; opens before closes, both
// local times in the zone, and (for a draft) closes in the future; the placement window
// a valid range of at most 366 days starting after the deadline; lengths [1], [2] or
// [1, 2]; 1–60 distinct eligible countries; 1–10 preferences; 0–1000 funded places;
// distinct documents other than REFEREE_LETTER; 0–3 referee letters; 1–10 criteria with
// unique keys and weights 1–100; offer window 1–720 hours; lead time 0–365 days; no-repeat
// 0–120 months; a ranking deadline after the application deadline and before the first
// day of the placement window, and in the future when it is given.
func (s *Service) checkCall(errs *apperr.UserErrors, in CallInput, cur *ent.Call) callDraft {
	var d callDraft
	str := func(p *string, def string) string {
		if p != nil {
			return *p
		}
		return def
	}
	num := func(p *int, def int) int {
		if p != nil {
			return *p
		}
		return def
	}
	var zone, opens, closes string
	var ranking *string
	rankingOK := false // a ranking deadline is set and passed the checks above
	if cur != nil {
		d.title, d.description, zone = cur.Title, cur.Description, cur.TimeZone
		d.placementStart, d.placementEnd = cur.PlacementStart, cur.PlacementEnd
		d.weeks, d.countries, d.documents, d.criteria = cur.PlacementWeeks, cur.EligibleCountries, cur.RequiredDocuments, cur.ReviewCriteria
		d.maxPreferences, d.fundedPlaces, d.refereeLetters = cur.MaxPreferences, cur.FundedPlaces, cur.RefereeLetters
		d.offerHours, d.leadDays, d.noRepeat, d.onePlacement = cur.OfferResponseHours, cur.MinLeadDays, cur.NoRepeatMonths, cur.OnePlacementPerTrainee
	} else {
		d.maxPreferences, d.refereeLetters = DefaultMaxPreferences, DefaultRefereeLetters
		d.offerHours, d.leadDays, d.noRepeat, d.onePlacement = DefaultOfferResponseHours, DefaultMinLeadDays, DefaultNoRepeatMonths, true
	}
	d.title = check.RequiredText(errs, str(in.Title, d.title), maxTitleLen, "The title", "Enter the call's title.", check.Path("title"))
	if check.HasControl(d.title) {
		errs.Add(apperr.CodeInvalid, "The title must be a single line of text.", check.Path("title")...)
	}
	d.description = check.Text(errs, str(in.Description, d.description), markdown.MaxLen, "The description", check.Path("description"))

	var loc *time.Location
	d.zone, loc = check.Zone(errs, str(in.TimeZone, zone), check.Path("timeZone"))
	if loc != nil {
		local := func(t time.Time) string { return t.In(loc).Format(check.LocalLayout) }
		if cur != nil {
			opens, closes = local(cur.OpensAt), local(cur.ClosesAt)
			if cur.RankingDeadline != nil {
				r := local(*cur.RankingDeadline)
				ranking = &r
			}
		}
		var okOpens, okCloses bool
		d.opens, okOpens = check.LocalTime(errs, str(in.Opens, opens), loc, "opening time", check.Path("opens"))
		d.closes, okCloses = check.LocalTime(errs, str(in.Closes, closes), loc, "deadline", check.Path("closes"))
		switch {
		case !okOpens || !okCloses:
		case !d.closes.After(d.opens):
			errs.Add(apperr.CodeInvalid, "The deadline must be after the opening time.", check.Path("closes")...)
		case (cur == nil || cur.Status == call.StatusDRAFT) && !d.closes.After(s.cfg.Now()):
			errs.Add(apperr.CodeInvalid, "The deadline must be in the future.", check.Path("closes")...)
		}
		if in.RankingDeadline != nil {
			ranking = in.RankingDeadline
			if strings.TrimSpace(*ranking) == "" {
				ranking = nil // cleared
			}
		}
		if ranking != nil {
			t, ok := check.LocalTime(errs, *ranking, loc, "ranking deadline", check.Path("rankingDeadline"))
			switch {
			case !ok:
			case okCloses && !t.After(d.closes):
				errs.Add(apperr.CodeInvalid, "Host rankings are due after the application deadline.", check.Path("rankingDeadline")...)
			case in.RankingDeadline != nil && !t.After(s.cfg.Now()):
				errs.Add(apperr.CodeInvalid, "The ranking deadline must be in the future.", check.Path("rankingDeadline")...)
			default:
				rankingOK = true
			}
			d.rankingDeadline = &t
		}
	}

	if in.PlacementStart != nil {
		d.placementStart = *in.PlacementStart
	}
	if in.PlacementEnd != nil {
		d.placementEnd = *in.PlacementEnd
	}
	switch {
	case d.placementStart.Validate() != nil:
		errs.Add(apperr.CodeRequired, "Give the first day of the placement window as YYYY-MM-DD.", check.Path("placementStart")...)
	case d.placementEnd.Validate() != nil:
		errs.Add(apperr.CodeRequired, "Give the last day of the placement window as YYYY-MM-DD.", check.Path("placementEnd")...)
	case d.placementEnd < d.placementStart:
		errs.Add(apperr.CodeInvalid, "The placement window must end on or after its first day.", check.Path("placementEnd")...)
	case d.placementEnd.Time().Sub(d.placementStart.Time()) > maxPlacementRange*24*time.Hour:
		errs.Add(apperr.CodeInvalid, "The placement window can span at most a year.", check.Path("placementEnd")...)
	case !d.closes.IsZero() && d.placementStart <= vocab.DateOf(d.closes, vocab.Zone):
		errs.Add(apperr.CodeInvalid, "Placements start after the application deadline.", check.Path("placementStart")...)
	case rankingOK && d.placementStart <= vocab.DateOf(*d.rankingDeadline, vocab.Zone):
		errs.Add(apperr.CodeInvalid, "Host rankings are due before the placement window starts.", check.Path("rankingDeadline")...)
	}

	if in.PlacementWeeks != nil {
		d.weeks = slices.Clone(in.PlacementWeeks)
		slices.Sort(d.weeks)
	}
	if !slices.Equal(d.weeks, []int{1}) && !slices.Equal(d.weeks, []int{2}) && !slices.Equal(d.weeks, []int{1, 2}) {
		errs.Add(apperr.CodeInvalid, "Placements last 1 week, 2 weeks or either: give [1], [2] or [1, 2].", check.Path("placementWeeks")...)
	}

	countryErrs := false
	if in.EligibleCountries != nil {
		d.countries = nil
		for i, c := range in.EligibleCountries {
			var one apperr.UserErrors
			c = check.Country(&one, c, check.Path("eligibleCountries", fmt.Sprint(i)))
			switch {
			case len(one) > 0:
				*errs = append(*errs, one...)
				countryErrs = true
			case slices.Contains(d.countries, c):
				errs.Add(apperr.CodeInvalid, fmt.Sprintf("%s is listed twice.", c), check.Path("eligibleCountries", fmt.Sprint(i))...)
			default:
				d.countries = append(d.countries, c)
			}
		}
	}
	switch {
	case len(d.countries) == 0 && !countryErrs:
		errs.Add(apperr.CodeRequired, "List the home countries whose trainees may apply, e.g. CZ, RO, PL.", check.Path("eligibleCountries")...)
	case len(d.countries) > maxCountries:
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("List at most %d countries.", maxCountries), check.Path("eligibleCountries")...)
	}

	d.maxPreferences = num(in.MaxPreferences, d.maxPreferences)
	if d.maxPreferences < 1 || d.maxPreferences > 10 {
		errs.Add(apperr.CodeInvalid, "An application can rank 1 to 10 host centres.", check.Path("maxPreferences")...)
	}
	if in.FundedPlaces == nil && cur == nil {
		errs.Add(apperr.CodeRequired, "Give the number of funded places.", check.Path("fundedPlaces")...)
	}
	d.fundedPlaces = num(in.FundedPlaces, d.fundedPlaces)
	if d.fundedPlaces < 0 || d.fundedPlaces > maxFundedPlaces {
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("Funded places are 0 to %d.", maxFundedPlaces), check.Path("fundedPlaces")...)
	}
	if in.RequiredDocuments != nil {
		d.documents = nil
		for i, k := range in.RequiredDocuments {
			p := check.Path("requiredDocuments", fmt.Sprint(i))
			switch {
			case k == vocab.DocumentRefereeLetter:
				errs.Add(apperr.CodeInvalid, "Referee letters are set with refereeLetters, not as a required document.", p...)
			case !k.Valid():
				errs.Add(apperr.CodeInvalid, fmt.Sprintf("%q is not a kind of document.", string(k)), p...)
			case slices.Contains(d.documents, k):
				errs.Add(apperr.CodeInvalid, fmt.Sprintf("%s is listed twice.", k), p...)
			default:
				d.documents = append(d.documents, k)
			}
		}
	}
	if d.documents == nil {
		d.documents = []vocab.DocumentKind{}
	}
	d.refereeLetters = num(in.RefereeLetters, d.refereeLetters)
	if d.refereeLetters < 0 || d.refereeLetters > 3 {
		errs.Add(apperr.CodeInvalid, "A call asks for 0 to 3 referee letters.", check.Path("refereeLetters")...)
	}
	if in.ReviewCriteria != nil {
		d.criteria = nil
		for i, c := range in.ReviewCriteria {
			p := func(f string) []string { return check.Path("reviewCriteria", fmt.Sprint(i), f) }
			c.Key = strings.TrimSpace(c.Key)
			switch {
			case !criterionKey.MatchString(c.Key):
				errs.Add(apperr.CodeInvalid, "A criterion's key is 1–40 lower-case letters, digits or _, starting with a letter, e.g. motivation.", p("key")...)
			case slices.ContainsFunc(d.criteria, func(o vocab.Criterion) bool { return o.Key == c.Key }):
				errs.Add(apperr.CodeInvalid, fmt.Sprintf("The key %s is used twice.", c.Key), p("key")...)
			}
			c.Name = check.RequiredText(errs, c.Name, maxCriterionName, "A criterion's name", "Name the criterion.", p("name"))
			if c.Weight < 1 || c.Weight > 100 {
				errs.Add(apperr.CodeInvalid, "A criterion's weight is 1 to 100.", p("weight")...)
			}
			d.criteria = append(d.criteria, c)
		}
	}
	switch {
	case len(d.criteria) == 0:
		errs.Add(apperr.CodeRequired, "Give at least one review criterion.", check.Path("reviewCriteria")...)
	case len(d.criteria) > maxCriteria:
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("Give at most %d review criteria.", maxCriteria), check.Path("reviewCriteria")...)
	}
	d.offerHours = num(in.OfferResponseHours, d.offerHours)
	if d.offerHours < 1 || d.offerHours > 720 {
		errs.Add(apperr.CodeInvalid, "The offer response window is 1 to 720 hours.", check.Path("offerResponseHours")...)
	}
	d.leadDays = num(in.MinLeadDays, d.leadDays)
	if d.leadDays < 0 || d.leadDays > 365 {
		errs.Add(apperr.CodeInvalid, "The minimum lead time is 0 to 365 days.", check.Path("minLeadDays")...)
	}
	d.noRepeat = num(in.NoRepeatMonths, d.noRepeat)
	if d.noRepeat < 0 || d.noRepeat > 120 {
		errs.Add(apperr.CodeInvalid, "The no-repeat period is 0 to 120 months.", check.Path("noRepeatMonths")...)
	}
	if in.OnePlacementPerTrainee != nil {
		d.onePlacement = *in.OnePlacementPerTrainee
	}
	return d
}

// loadCall loads a call for a staff step (staff only; NOT_FOUND as a user error on id).
func (s *Service) loadCall(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Call, error) {
	if err := access.Require(ctx, access.CanRunCalls, "run calls"); err != nil {
		return nil, err
	}
	c, err := tx.Call.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, notFound("call", check.Path("id"))
	}
	if err != nil {
		return nil, fmt.Errorf("load call %s: %w", id, err)
	}
	return c, nil
}

// CallFactsOf are the facts of c that need no query, at now.
func CallFactsOf(c *ent.Call, now time.Time) CallFacts {
	return CallFacts{
		Now: now, ClosesAt: c.ClosesAt, TimeZone: c.TimeZone, RankingDeadline: c.RankingDeadline,
		RankingClosed: c.RankingClosedAt != nil, PlacementEnd: c.PlacementEnd,
	}
}

// step loads a call, decides ev with the table (NextCallStatus) and applies it with a
// conditional update (setStatus). facts adds what ev needs beyond CallFactsOf.
func (s *Service) step(ctx context.Context, tx *ent.Client, id pulid.ID, ev CallEvent, reason string, facts func(c *ent.Call, f *CallFacts) error) (*ent.Call, error) {
	c, err := s.loadCall(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	f := CallFactsOf(c, s.cfg.Now())
	if facts != nil {
		if err := facts(c, &f); err != nil {
			return nil, err
		}
	}
	to, err := NextCallStatus(c.Status, ev, f)
	if err != nil {
		return nil, apperr.OnField(err, check.Path("id")...)
	}
	return s.setStatus(ctx, tx, c, to, reason)
}

// OpenCall moves a DRAFT call to OPEN. User errors: INVALID_STATE when it is not a draft,
// has no approved slot, or its deadline has passed.
func (s *Service) OpenCall(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Call, error) {
	return s.step(ctx, tx, id, CallOpen, "", func(c *ent.Call, f *CallFacts) error {
		approved, err := tx.HostSlot.Query().Where(hostslot.CallID(c.ID), hostslot.StatusEQ(hostslot.StatusAPPROVED)).Exist(ctx)
		if err != nil {
			return fmt.Errorf("count approved slots of %s: %w", c.ID, err)
		}
		f.ApprovedSlot = approved
		return nil
	})
}

// CloseCall moves an OPEN call to CLOSED: after its deadline, or before it with force and
// a reason (1–500 characters). User errors: INVALID_STATE, INVALID (too early without
// force), REQUIRED or TOO_LONG (the reason). (The deadline job closes calls on time:
// CloseDue.)
func (s *Service) CloseCall(ctx context.Context, tx *ent.Client, id pulid.ID, force bool, reason string) (*ent.Call, error) {
	c, err := s.loadCall(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	reason = check.Text(&errs, reason, maxReasonLen, "The reason", check.Path("reason"))
	f := CallFactsOf(c, s.cfg.Now())
	f.Force, f.Reason = force, reason
	to, err := NextCallStatus(c.Status, CallClose, f)
	switch refused, _ := apperr.AsUserErrors(apperr.OnField(err, check.Path("id")...)); {
	case c.Status != call.StatusOPEN:
		return nil, refused // the status alone decides
	default:
		errs = append(errs, refused...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s.setStatus(ctx, tx, c, to, reason)
}

// StartReview moves a CLOSED call to REVIEW.
func (s *Service) StartReview(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Call, error) {
	return s.step(ctx, tx, id, CallStartReview, "", nil)
}

// StartRanking moves a call in REVIEW to RANKING. User errors: INVALID_STATE without a
// ranking deadline in the future.
func (s *Service) StartRanking(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Call, error) {
	return s.step(ctx, tx, id, CallStartRanking, "", nil)
}

// CompleteCall moves a MATCHED call to COMPLETED once its placement window is over.
func (s *Service) CompleteCall(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Call, error) {
	return s.step(ctx, tx, id, CallComplete, "", nil)
}

// CancelCall cancels a call that is not MATCHED, COMPLETED or CANCELLED, with a reason.
func (s *Service) CancelCall(ctx context.Context, tx *ent.Client, id pulid.ID, reason string) (*ent.Call, error) {
	c, err := s.loadCall(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	to, err := NextCallStatus(c.Status, CallCancel, CallFactsOf(c, s.cfg.Now()))
	if err != nil {
		return nil, apperr.OnField(err, check.Path("id")...)
	}
	var errs apperr.UserErrors
	reason = check.RequiredText(&errs, reason, maxReasonLen, "The reason", "Say why the call is cancelled.", check.Path("reason"))
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s.setStatus(ctx, tx, c, to, reason)
}

// setStatus moves c, as read, to status to with a conditional update: WHERE status = the
// status read, so of two staff members (or a member and the deadline job) moving the same
// call at once, one wins and the other gets CONFLICT.
func (s *Service) setStatus(ctx context.Context, tx *ent.Client, c *ent.Call, to call.Status, reason string) (*ent.Call, error) {
	u := tx.Call.Update().Where(call.ID(c.ID), call.StatusEQ(c.Status)).SetStatus(to).SetStatusReason(reason)
	if to == call.StatusCOMPLETED || to == call.StatusCANCELLED {
		u.SetEndedAt(s.cfg.Now()) // the retention of its applications counts from here
	}
	n, err := u.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("move call %s to %s: %w", c.ID, to, err)
	}
	if n == 0 {
		return nil, apperr.LostRace("call")
	}
	c, err = tx.Call.Get(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("reload call: %w", err)
	}
	return c, nil
}

// AcceptingApplications reports whether applications can be submitted to c at now.
func AcceptingApplications(c *ent.Call, now time.Time) bool {
	return c.Status == call.StatusOPEN && !now.Before(c.OpensAt) && now.Before(c.ClosesAt)
}

// zoneOf is the call's zone (UTC if it cannot be loaded, which validation prevents).
func zoneOf(c *ent.Call) *time.Location { return loadZone(c.TimeZone) }

// LocalTime writes t in the call's zone.
func LocalTime(c *ent.Call, t time.Time) string { return t.In(zoneOf(c)).Format(check.LocalLayout) }

// CallFilter narrows the list of calls.
type CallFilter struct {
	Status *call.Status
}

// CallsPage returns a page of the calls the viewer may see, latest deadline first unless
// order says otherwise.
func (s *Service) CallsPage(ctx context.Context, f CallFilter, p db.Page, order *ent.CallOrder) (*ent.CallConnection, error) {
	q := s.cfg.Client.Call.Query()
	if f.Status != nil {
		if call.StatusValidator(*f.Status) != nil {
			return nil, apperr.New(apperr.BadRequest, "filter.status: unknown status")
		}
		q.Where(call.StatusEQ(*f.Status))
	}
	if order == nil {
		order = &ent.CallOrder{Field: ent.CallOrderFieldClosesAt, Direction: entgql.OrderDirectionDesc}
	}
	conn, err := q.Paginate(ctx, p.After, p.First, p.Before, p.Last, ent.WithCallOrder(order))
	if err != nil {
		return nil, fmt.Errorf("list calls: %w", err)
	}
	return conn, nil
}
