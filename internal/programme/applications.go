package programme

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"unicode"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/applicationchoice"
	"github.com/gocart-coalition/coalition/ent/document"
	"github.com/gocart-coalition/coalition/ent/hostslot"
	"github.com/gocart-coalition/coalition/ent/refereerequest"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/auth"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/docstore"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Limits of an application.
const (
	maxRoleLen        = 200
	maxMotivationLen  = 3000
	minMotivationLen  = 100
	maxRanges         = 10
	maxFilenameLen    = 200
	maxRefereeName    = 200
	maxRefereeLetters = 5 // requests per application
	refereePrefix     = "rl_"
)

// SaveApplicationInput is a trainee's draft; nil fields stay as they are.
type SaveApplicationInput struct {
	CallID              pulid.ID
	HomeOrganisationID  *pulid.ID
	Role                *string
	CartExperienceYears *int
	Motivation          *string
	Languages           []string
	FocusAreas          []vocab.FocusArea
	Availability        []vocab.DateRange
	PreferredWeeks      *int
	// HostCentreIDs are ranked, first choice first; nil leaves the choices as they are.
	HostCentreIDs []pulid.ID
}

// requireApplicant refuses anyone who may not apply (access.CanApply); it returns their id.
func requireApplicant(ctx context.Context, action string) (pulid.ID, error) {
	v := viewer.FromContext(ctx)
	if err := access.RequireThat(ctx, access.CanApply(v), action, "trainees can "+action); err != nil {
		return "", err
	}
	return pulid.ID(v.UserID), nil
}

// ownApplication loads application id (with its call) for a change by the caller: NOT_FOUND
// unless they may edit it (access.CanEditApplication; the read policy already hides most
// of everyone else's, and a host who also applies sees applicants they may not edit).
func ownApplication(ctx context.Context, tx *ent.Client, id pulid.ID, field []string) (*ent.Application, error) {
	a, err := tx.Application.Query().Where(application.ID(id)).WithCall().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("application", field)
	}
	if err != nil {
		return nil, fmt.Errorf("load application %s: %w", id, err)
	}
	if !access.CanEditApplication(viewer.FromContext(ctx), string(a.TraineeID)) {
		return nil, notFound("application", field)
	}
	return a, nil
}

// ownDraft loads the caller's application id for changing: theirs (ownApplication), a
// DRAFT (INVALID_STATE), of a call that accepts applications now (INVALID_STATE after the
// deadline).
func (s *Service) ownDraft(ctx context.Context, tx *ent.Client, id pulid.ID, field []string) (*ent.Application, error) {
	a, err := ownApplication(ctx, tx, id, field)
	if err != nil {
		return nil, err
	}
	if _, err := NextApplicationStatus(a.Status, ApplicationEdit, s.applicationFacts(a.Edges.Call)); err != nil {
		return nil, apperr.OnField(err, field...)
	}
	return a, nil
}

// applicationFacts are the facts of an application of c, now.
func (s *Service) applicationFacts(c *ent.Call) ApplicationFacts {
	return ApplicationFacts{
		CallStatus: c.Status, Accepting: AcceptingApplications(c, s.cfg.Now()),
		Deadline: LocalTime(c, c.ClosesAt) + ", " + c.TimeZone,
	}
}

// setApplicationStatus moves a, as read, to status to with a conditional update (WHERE
// status = the status read), setting what set adds: of two changes at once, one wins and
// the other gets CONFLICT.
func (s *Service) setApplicationStatus(ctx context.Context, tx *ent.Client, a *ent.Application, to application.Status, set func(*ent.ApplicationUpdateOne)) error {
	u := tx.Application.UpdateOne(a).Where(application.StatusEQ(a.Status)).SetStatus(to)
	if set != nil {
		set(u)
	}
	_, err := u.Save(ctx)
	if ent.IsNotFound(err) {
		return apperr.LostRace("application")
	}
	if err != nil {
		return fmt.Errorf("move application %s to %s: %w", a.ID, to, err)
	}
	return nil
}

// SaveApplication creates the caller's draft for a call (one per trainee and call) or
// changes it. A signed-in trainee only. User errors: NOT_FOUND (call, organisation, host
// centre), INVALID_STATE (the call is not accepting applications, the application is no
// longer a draft), and the format errors of each field; completeness is checked on submit
// (see Missing).
func (s *Service) SaveApplication(ctx context.Context, tx *ent.Client, in SaveApplicationInput) (*ent.Application, error) {
	me, err := requireApplicant(ctx, "apply")
	if err != nil {
		return nil, err
	}
	c, err := tx.Call.Get(ctx, in.CallID)
	if ent.IsNotFound(err) {
		return nil, notFound("call", check.Path("callId"))
	}
	if err != nil {
		return nil, fmt.Errorf("load call %s: %w", in.CallID, err)
	}
	a, err := tx.Application.Query().Where(application.CallID(c.ID), application.TraineeID(me)).WithCall().Only(ctx)
	switch {
	case ent.IsNotFound(err):
		a = nil
		if !AcceptingApplications(c, s.cfg.Now()) {
			return nil, apperr.Invalid(apperr.CodeInvalidState, fmt.Sprintf("The call is not accepting applications (deadline %s, %s).", LocalTime(c, c.ClosesAt), c.TimeZone), check.Path("callId")...)
		}
	case err != nil:
		return nil, fmt.Errorf("load application: %w", err)
	default:
		if _, err := NextApplicationStatus(a.Status, ApplicationEdit, s.applicationFacts(c)); err != nil {
			return nil, apperr.OnField(err, check.Path("callId")...)
		}
	}

	var errs apperr.UserErrors
	if in.HomeOrganisationID != nil {
		o, err := tx.Organisation.Get(ctx, *in.HomeOrganisationID)
		switch {
		case ent.IsNotFound(err):
			errs.Add(apperr.CodeNotFound, "No such organisation.", check.Path("homeOrganisationId")...)
		case err != nil:
			return nil, fmt.Errorf("load organisation: %w", err)
		case !slices.Contains(c.EligibleCountries, o.Country):
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("%s is in %s; this call is open to trainees from %s.", o.Name, o.Country, strings.Join(c.EligibleCountries, ", ")), check.Path("homeOrganisationId")...)
		}
	}
	var role, motivation string
	if in.Role != nil {
		role = check.Text(&errs, *in.Role, maxRoleLen, "The role", check.Path("role"))
		if check.HasControl(role) {
			errs.Add(apperr.CodeInvalid, "The role must be a single line of text.", check.Path("role")...)
		}
	}
	if in.CartExperienceYears != nil && (*in.CartExperienceYears < 0 || *in.CartExperienceYears > 60) {
		errs.Add(apperr.CodeInvalid, "Years of CAR-T experience are 0 to 60.", check.Path("cartExperienceYears")...)
	}
	if in.Motivation != nil {
		motivation = check.Text(&errs, *in.Motivation, maxMotivationLen, "The motivation", check.Path("motivation"))
	}
	var languages []string
	if in.Languages != nil {
		languages = check.Languages(&errs, in.Languages, check.Path("languages"))
	}
	var areas []vocab.FocusArea
	if in.FocusAreas != nil {
		areas = check.FocusAreas(&errs, in.FocusAreas, check.Path("focusAreas"))
	}
	if in.Availability != nil {
		checkAvailability(&errs, c, in.Availability)
	}
	if in.PreferredWeeks != nil && !slices.Contains(c.PlacementWeeks, *in.PreferredWeeks) {
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("This call's placements last %s.", weeksText(c.PlacementWeeks)), check.Path("preferredWeeks")...)
	}
	if in.HostCentreIDs != nil {
		if err := s.checkChoices(viewer.ForFacts(ctx), tx, &errs, c, in.HostCentreIDs); err != nil {
			return nil, err
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}

	if a == nil {
		a, err = tx.Application.Create().SetCallID(c.ID).SetTraineeID(me).Save(ctx)
		if ent.IsConstraintError(err) {
			return nil, apperr.New(apperr.Conflict, "your draft for this call was created meanwhile; reload it")
		}
		if err != nil {
			return nil, fmt.Errorf("create application: %w", err)
		}
	}
	// Conditional on the draft, so a save that crosses a submission or a withdrawal loses
	// (CONFLICT) instead of changing an application that is no longer a draft.
	u := tx.Application.UpdateOne(a).Where(application.StatusEQ(application.StatusDRAFT))
	if in.HomeOrganisationID != nil {
		u.SetHomeOrganisationID(*in.HomeOrganisationID)
	}
	if in.Role != nil {
		u.SetRole(role)
	}
	if in.CartExperienceYears != nil {
		u.SetCartExperienceYears(*in.CartExperienceYears)
	}
	if in.Motivation != nil {
		u.SetMotivation(motivation)
	}
	if in.Languages != nil {
		u.SetLanguages(languages)
	}
	if in.FocusAreas != nil {
		u.SetFocusAreas(areas)
	}
	if in.Availability != nil {
		u.SetAvailability(in.Availability)
	}
	if in.PreferredWeeks != nil {
		u.SetPreferredWeeks(*in.PreferredWeeks)
	}
	if a, err = u.Save(ctx); ent.IsNotFound(err) {
		return nil, apperr.LostRace("application")
	} else if err != nil {
		return nil, fmt.Errorf("save application: %w", err)
	}
	if in.HostCentreIDs != nil {
		if _, err := tx.ApplicationChoice.Delete().Where(applicationchoice.ApplicationID(a.ID)).Exec(ctx); err != nil {
			return nil, fmt.Errorf("clear choices: %w", err)
		}
		for i, h := range in.HostCentreIDs {
			if err := tx.ApplicationChoice.Create().SetApplicationID(a.ID).SetHostCentreID(h).SetRank(i + 1).Exec(ctx); err != nil {
				return nil, fmt.Errorf("save choice: %w", err)
			}
		}
	}
	return a, nil
}

// checkAvailability checks 1–10 date ranges inside the placement window, each from ≤ to,
// not overlapping.
func checkAvailability(errs *apperr.UserErrors, c *ent.Call, in []vocab.DateRange) {
	if len(in) > maxRanges {
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("Give at most %d date ranges.", maxRanges), check.Path("availability")...)
		return
	}
	sorted := slices.Clone(in)
	for i, r := range in {
		p := check.Path("availability", fmt.Sprint(i))
		switch {
		case r.From.Validate() != nil || r.To.Validate() != nil:
			errs.Add(apperr.CodeInvalid, "Give the dates as YYYY-MM-DD.", p...)
		case r.To < r.From:
			errs.Add(apperr.CodeInvalid, "A range ends on or after its first day.", p...)
		case r.From < c.PlacementStart || r.To > c.PlacementEnd:
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("Ranges lie inside the placement window, %s to %s.", c.PlacementStart, c.PlacementEnd), p...)
		}
	}
	slices.SortFunc(sorted, func(a, b vocab.DateRange) int { return strings.Compare(string(a.From), string(b.From)) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].From <= sorted[i-1].To {
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("The ranges from %s and from %s overlap; merge them.", sorted[i-1].From, sorted[i].From), check.Path("availability")...)
			return
		}
	}
}

// checkChoices checks ranked host centres: at most the call's maxPreferences, distinct,
// each with an approved slot in the call (a fact, read with facts: viewer.ForFacts).
func (s *Service) checkChoices(facts context.Context, tx *ent.Client, errs *apperr.UserErrors, c *ent.Call, ids []pulid.ID) error {
	if len(ids) > c.MaxPreferences {
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("Rank at most %d host centres.", c.MaxPreferences), check.Path("hostCentreIds")...)
		return nil
	}
	for i, id := range ids {
		p := check.Path("hostCentreIds", fmt.Sprint(i))
		if slices.Contains(ids[:i], id) {
			errs.Add(apperr.CodeInvalid, "This host centre is listed twice.", p...)
			continue
		}
		ok, err := tx.HostSlot.Query().Where(hostslot.CallID(c.ID), hostslot.HostCentreID(id), hostslot.StatusEQ(hostslot.StatusAPPROVED)).Exist(facts)
		if err != nil {
			return fmt.Errorf("check slots of %s: %w", id, err)
		}
		if !ok {
			errs.Add(apperr.CodeInvalid, "This host centre offers no slot in the call; choose among the centres listed with the call's slots.", p...)
		}
	}
	return nil
}

// Missing lists, as messages, what stops a from being submitted now: the state, the
// deadline, and every missing or invalid part. Empty means it can be submitted. a is an
// application the caller has read; what it refers to is read as the caller where they may
// read it (its call, its choices), and as facts (viewer.ForFacts) where the answer is a
// fact about a row they may not read: whether their home organisation is still active,
// whether a centre still offers a slot, how many referee letters arrived (a waived letter
// counts, though the trainee cannot read it).
func (s *Service) Missing(ctx context.Context, client *ent.Client, a *ent.Application) ([]apperr.UserError, error) {
	facts := viewer.ForFacts(ctx)
	c, err := client.Call.Get(ctx, a.CallID)
	if err != nil {
		return nil, fmt.Errorf("load call %s: %w", a.CallID, err)
	}
	var errs apperr.UserErrors
	add := func(code apperr.UserCode, field, msg string) { errs.Add(code, msg, check.Path(field)...) }
	if _, err := NextApplicationStatus(a.Status, ApplicationSubmit, s.applicationFacts(c)); err != nil {
		errs.AddRefusal(err, check.Path("id")...)
		if a.Status != application.StatusDRAFT {
			return errs, nil // nothing else matters
		}
	}
	if a.HomeOrganisationID == nil {
		add(apperr.CodeRequired, "homeOrganisationId", "Choose your home centre.")
	} else if o, err := client.Organisation.Get(facts, *a.HomeOrganisationID); err != nil {
		return nil, fmt.Errorf("load organisation: %w", err)
	} else if !o.Active || !slices.Contains(c.EligibleCountries, o.Country) {
		add(apperr.CodeInvalid, "homeOrganisationId", fmt.Sprintf("Your home centre must be an active organisation in %s.", strings.Join(c.EligibleCountries, ", ")))
	}
	if a.Role == "" {
		add(apperr.CodeRequired, "role", "Give your role, e.g. Haematology consultant.")
	}
	if n := len([]rune(a.Motivation)); n < minMotivationLen {
		add(apperr.CodeRequired, "motivation", fmt.Sprintf("Write your motivation: at least %d characters (%d so far).", minMotivationLen, n))
	}
	if len(a.Languages) == 0 {
		add(apperr.CodeRequired, "languages", "List the languages you can follow.")
	}
	if len(a.Availability) == 0 {
		add(apperr.CodeRequired, "availability", "Give at least one date range when you can come.")
	}
	if a.PreferredWeeks == nil {
		add(apperr.CodeRequired, "preferredWeeks", fmt.Sprintf("Choose your preferred length: %s.", weeksText(c.PlacementWeeks)))
	}
	choices, err := client.ApplicationChoice.Query().Where(applicationchoice.ApplicationID(a.ID)).Order(applicationchoice.ByRank()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load choices: %w", err)
	}
	if len(choices) == 0 {
		add(apperr.CodeRequired, "hostCentreIds", "Rank at least one host centre.")
	}
	for _, ch := range choices {
		ok, err := client.HostSlot.Query().Where(hostslot.CallID(c.ID), hostslot.HostCentreID(ch.HostCentreID), hostslot.StatusEQ(hostslot.StatusAPPROVED)).Exist(facts)
		if err != nil {
			return nil, fmt.Errorf("check slots: %w", err)
		}
		if !ok {
			add(apperr.CodeInvalid, "hostCentreIds", fmt.Sprintf("Your choice %d no longer offers a slot in the call; choose another centre.", ch.Rank))
		}
	}
	docs, err := client.Document.Query().Where(document.ApplicationID(a.ID)).All(facts)
	if err != nil {
		return nil, fmt.Errorf("load documents: %w", err)
	}
	for _, k := range c.RequiredDocuments {
		if !slices.ContainsFunc(docs, func(d *ent.Document) bool { return d.Kind == k }) {
			add(apperr.CodeRequired, "documents", fmt.Sprintf("Upload your %s (PDF).", documentName(k)))
		}
	}
	letters := 0
	for _, d := range docs {
		if d.Kind == vocab.DocumentRefereeLetter {
			letters++
		}
	}
	if letters < c.RefereeLetters {
		add(apperr.CodeRequired, "refereeLetters", fmt.Sprintf("%d of %d referee letters have arrived; ask your referees to upload theirs.", letters, c.RefereeLetters))
	}
	return errs, nil
}

// Submit submits the caller's draft. User errors: everything Missing lists; nothing is
// changed then. The trainee gets an email with a summary of what they sent.
func (s *Service) Submit(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Application, error) {
	if _, err := requireApplicant(ctx, "submit an application"); err != nil {
		return nil, err
	}
	a, err := ownApplication(ctx, tx, id, check.Path("id"))
	if err != nil {
		return nil, err
	}
	missing, err := s.Missing(ctx, tx, a)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		return nil, apperr.UserErrors(missing).Err()
	}
	err = s.setApplicationStatus(ctx, tx, a, application.StatusSUBMITTED, func(u *ent.ApplicationUpdateOne) { u.SetSubmittedAt(s.cfg.Now().UTC()) })
	if err != nil {
		return nil, err
	}
	return s.notifyTrainee(ctx, tx, a.ID, notify.ApplicationSubmitted)
}

// Withdraw withdraws the caller's application (draft, submitted or eligible) until the
// match is published, with an optional reason (up to 1,000 characters), and tells them.
func (s *Service) Withdraw(ctx context.Context, tx *ent.Client, id pulid.ID, reason string) (*ent.Application, error) {
	if _, err := requireApplicant(ctx, "withdraw an application"); err != nil {
		return nil, err
	}
	a, err := ownApplication(ctx, tx, id, check.Path("id"))
	if err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	reason = check.Text(&errs, reason, 1000, "The reason", check.Path("reason"))
	to, err := NextApplicationStatus(a.Status, ApplicationWithdraw, s.applicationFacts(a.Edges.Call))
	if err != nil {
		errs.AddRefusal(err, check.Path("id")...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	err = s.setApplicationStatus(ctx, tx, a, to, func(u *ent.ApplicationUpdateOne) {
		u.SetStatusReason(reason).SetWithdrawnAt(s.cfg.Now().UTC())
	})
	if err != nil {
		return nil, err
	}
	return s.notifyTrainee(ctx, tx, a.ID, notify.ApplicationWithdrawn)
}

// DecideEligibility marks a SUBMITTED (or already decided) application ELIGIBLE, or
// INELIGIBLE with a reason (1–1,000 characters), while the call is CLOSED or in REVIEW;
// staff only. The trainee gets an email with the decision (and the reason).
func (s *Service) DecideEligibility(ctx context.Context, tx *ent.Client, id pulid.ID, eligible bool, reason string) (*ent.Application, error) {
	if err := access.Require(ctx, access.CanDecideEligibility, "run calls"); err != nil {
		return nil, err
	}
	a, err := tx.Application.Query().Where(application.ID(id)).WithCall().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("application", check.Path("id"))
	}
	if err != nil {
		return nil, fmt.Errorf("load application %s: %w", id, err)
	}
	var errs apperr.UserErrors
	if eligible {
		reason = check.Text(&errs, reason, 1000, "The reason", check.Path("reason"))
	} else {
		reason = check.RequiredText(&errs, reason, 1000, "The reason", "Say why the application is not eligible; the trainee reads it.", check.Path("reason"))
	}
	ev := ApplicationMarkIneligible
	if eligible {
		ev = ApplicationMarkEligible
	}
	to, err := NextApplicationStatus(a.Status, ev, s.applicationFacts(a.Edges.Call))
	if err != nil {
		errs.AddRefusal(err, check.Path("id")...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	err = s.setApplicationStatus(ctx, tx, a, to, func(u *ent.ApplicationUpdateOne) {
		u.SetStatusReason(reason).SetDecidedAt(s.cfg.Now().UTC())
	})
	if err != nil {
		return nil, err
	}
	kind := notify.ApplicationEligible
	if !eligible {
		kind = notify.ApplicationIneligible
	}
	return s.notifyTrainee(ctx, tx, a.ID, kind)
}

// notifyTrainee reloads the application and emails its trainee about kind. The email's
// facts (the recipient, and for a submission the summary, referee letters included) are
// read with viewer.ForFacts; the application returned is read as the caller. The dedupe
// key includes the change's time, so each change is told once.
func (s *Service) notifyTrainee(ctx context.Context, tx *ent.Client, id pulid.ID, kind notify.ApplicationKind) (*ent.Application, error) {
	sys := viewer.ForFacts(ctx)
	a, err := tx.Application.Query().Where(application.ID(id)).
		WithCall().WithTrainee().WithHomeOrganisation().
		WithChoices(func(q *ent.ApplicationChoiceQuery) { q.WithHostCentre().Order(applicationchoice.ByRank()) }).
		WithDocuments(func(q *ent.DocumentQuery) { q.Order(document.ByKind(), document.ByID()) }).
		Only(sys)
	if err != nil {
		return nil, fmt.Errorf("reload application %s: %w", id, err)
	}
	t, c := a.Edges.Trainee, a.Edges.Call
	d := notify.ApplicationData{
		Kind: kind, Name: t.Name, CallTitle: c.Title, Reason: a.StatusReason,
		Deadline: LocalTime(c, c.ClosesAt) + " (" + c.TimeZone + ")",
	}
	if kind == notify.ApplicationSubmitted {
		if o := a.Edges.HomeOrganisation; o != nil {
			d.HomeCentre = o.Name + " (" + o.Country + ")"
		}
		d.Role, d.Years, d.Languages = a.Role, a.CartExperienceYears, strings.Join(a.Languages, ", ")
		if a.PreferredWeeks != nil {
			d.PreferredWeeks = *a.PreferredWeeks
		}
		for _, r := range a.Availability {
			d.Availability = append(d.Availability, string(r.From)+" to "+string(r.To))
		}
		for _, ch := range a.Edges.Choices {
			d.Hosts = append(d.Hosts, fmt.Sprintf("%d. %s", ch.Rank, ch.Edges.HostCentre.Name))
		}
		for _, doc := range a.Edges.Documents {
			d.Documents = append(d.Documents, documentName(doc.Kind)+": "+doc.Filename)
		}
	}
	key := fmt.Sprintf("application_%s:%s:%d", kind, a.ID, a.UpdatedAt.UnixNano())
	if err := s.cfg.Notifier.Application(ctx, tx, notify.Recipient{Email: t.Email, Name: t.Name, Suppressed: t.Disabled}, d, key); err != nil {
		return nil, err
	}
	return tx.Application.Get(ctx, id)
}

// documentName is a kind of document as people read it.
func documentName(k vocab.DocumentKind) string {
	switch k {
	case vocab.DocumentCV:
		return "CV"
	case vocab.DocumentMotivationLetter:
		return "motivation letter"
	case vocab.DocumentSupportLetter:
		return "head of department's support letter"
	case vocab.DocumentRefereeLetter:
		return "referee letter"
	}
	return string(k)
}

// cleanFilename keeps the base name of an uploaded file, without control characters,
// path separators or quotes, at most 200 bytes, ending in .pdf.
func cleanFilename(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || strings.ContainsRune(`/\"'<>:*?|`, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." {
		name = "document"
	}
	if !strings.HasSuffix(strings.ToLower(name), ".pdf") {
		name += ".pdf"
	}
	for len(name) > maxFilenameLen {
		r := []rune(name[:len(name)-4])
		name = string(r[:len(r)-1]) + ".pdf"
	}
	return name
}

// storeDocument puts r into the document store and maps its errors to user errors on field.
func (s *Service) storeDocument(ctx context.Context, r io.Reader, field []string) (docstore.Blob, error) {
	b, err := s.cfg.Documents.Put(ctx, r)
	switch {
	case errors.Is(err, docstore.ErrTooLarge):
		return b, apperr.Invalid(apperr.CodeTooLong, fmt.Sprintf("The file is larger than %d MB.", s.cfg.Documents.MaxSize()>>20), field...)
	case errors.Is(err, docstore.ErrEmpty):
		return b, apperr.Invalid(apperr.CodeRequired, "The file is empty.", field...)
	case errors.Is(err, docstore.ErrNotPDF):
		return b, apperr.Invalid(apperr.CodeInvalid, "The file is not a PDF; export it as PDF and upload it again.", field...)
	case err != nil:
		return b, fmt.Errorf("store document: %w", err)
	}
	return b, nil
}

// UploadDocument attaches a PDF of kind (not a referee letter) to the caller's draft,
// replacing one of the same kind. User errors: NOT_FOUND, INVALID_STATE (not a draft, the
// deadline passed), INVALID (a referee letter, not a PDF), TOO_LONG (over the size limit),
// REQUIRED (empty).
func (s *Service) UploadDocument(ctx context.Context, tx *ent.Client, appID pulid.ID, kind vocab.DocumentKind, filename string, r io.Reader) (*ent.Document, error) {
	if _, err := requireApplicant(ctx, "upload documents"); err != nil {
		return nil, err
	}
	a, err := s.ownDraft(ctx, tx, appID, check.Path("applicationId"))
	if err != nil {
		return nil, err
	}
	if kind == vocab.DocumentRefereeLetter || !kind.Valid() {
		return nil, apperr.Invalid(apperr.CodeInvalid, "Upload a CV, motivation letter or support letter; referee letters come from your referees.", check.Path("kind")...)
	}
	b, err := s.storeDocument(ctx, r, check.Path("file"))
	if err != nil {
		return nil, err
	}
	if _, err := tx.Document.Delete().Where(document.ApplicationID(a.ID), document.KindEQ(kind)).Exec(ctx); err != nil {
		return nil, fmt.Errorf("replace document: %w", err)
	}
	d, err := tx.Document.Create().SetApplicationID(a.ID).SetKind(kind).SetFilename(cleanFilename(filename)).
		SetSha256(b.SHA256).SetSize(b.Size).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("save document: %w", err)
	}
	return d, nil
}

// RemoveDocument removes a document (not a referee letter) from the caller's draft.
func (s *Service) RemoveDocument(ctx context.Context, tx *ent.Client, id pulid.ID) (*ent.Application, error) {
	if _, err := requireApplicant(ctx, "remove documents"); err != nil {
		return nil, err
	}
	d, err := tx.Document.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, notFound("document", check.Path("id"))
	}
	if err != nil {
		return nil, fmt.Errorf("load document %s: %w", id, err)
	}
	a, err := s.ownDraft(ctx, tx, d.ApplicationID, check.Path("id"))
	if err != nil {
		return nil, err
	}
	if d.Kind == vocab.DocumentRefereeLetter {
		return nil, apperr.Invalid(apperr.CodeInvalid, "A referee letter stays with the application.", check.Path("id")...)
	}
	if err := tx.Document.DeleteOne(d).Exec(ctx); err != nil {
		return nil, fmt.Errorf("remove document %s: %w", id, err)
	}
	return a, nil
}

// RequestRefereeLetter asks a referee for a letter about the caller's draft: the referee
// gets an email with a single-use upload link (valid RefereeLinkTTL). waived records,
// now and for good, that the trainee will not read the letter. User errors: NOT_FOUND,
// INVALID_STATE, REQUIRED/TOO_LONG/INVALID for the name and address, INVALID for more
// than 5 requests or the trainee's own address, TAKEN for an address already asked.
func (s *Service) RequestRefereeLetter(ctx context.Context, tx *ent.Client, appID pulid.ID, name, email string, waived bool) (*ent.RefereeRequest, error) {
	if _, err := requireApplicant(ctx, "ask for referee letters"); err != nil {
		return nil, err
	}
	a, err := s.ownDraft(ctx, tx, appID, check.Path("applicationId"))
	if err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	name = check.RequiredText(&errs, name, maxRefereeName, "The referee's name", "Give the referee's name.", check.Path("refereeName"))
	if check.HasControl(name) {
		errs.Add(apperr.CodeInvalid, "The name must be a single line of text.", check.Path("refereeName")...)
	}
	email = check.Email(&errs, email, check.Path("refereeEmail"))
	trainee, err := tx.User.Get(ctx, a.TraineeID) // themself
	if err != nil {
		return nil, fmt.Errorf("load trainee: %w", err)
	}
	if email != "" && email == trainee.Email {
		errs.Add(apperr.CodeInvalid, "A referee is someone else: give their address, not yours.", check.Path("refereeEmail")...)
	}
	existing, err := tx.RefereeRequest.Query().Where(refereerequest.ApplicationID(a.ID)).All(ctx) // their own requests
	if err != nil {
		return nil, fmt.Errorf("load referee requests: %w", err)
	}
	if len(existing) >= maxRefereeLetters {
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("At most %d referees can be asked.", maxRefereeLetters), check.Path("applicationId")...)
	}
	if slices.ContainsFunc(existing, func(r *ent.RefereeRequest) bool {
		n, _ := check.NormaliseEmail(r.RefereeEmail)
		return email != "" && n == email
	}) {
		errs.Add(apperr.CodeTaken, "This referee has been asked already.", check.Path("refereeEmail")...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	secret := auth.NewSecret(refereePrefix)
	expires := s.cfg.Now().Add(s.cfg.RefereeLinkTTL).UTC()
	r, err := tx.RefereeRequest.Create().SetApplicationID(a.ID).SetRefereeName(name).SetRefereeEmail(email).
		SetWaived(waived).SetTokenHash(auth.HashSecret(secret)).SetExpiresAt(expires).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("save referee request: %w", err)
	}
	c := a.Edges.Call
	err = s.cfg.Notifier.RefereeRequest(ctx, tx, notify.Recipient{Email: email, Name: name}, notify.RefereeRequestData{
		RefereeName: name, TraineeName: trainee.Name, CallTitle: c.Title, URL: s.RefereeURL(secret),
		ValidUntil: expires.In(zoneOf(c)).Format("2 January 2006"), Waived: waived,
	}, "referee_request:"+string(r.ID))
	if err != nil {
		return nil, err
	}
	return r, nil
}

// RefereeURL is the upload page of a referee link.
func (s *Service) RefereeURL(secret string) string {
	return strings.TrimRight(s.cfg.PublicURL, "/") + "/referee?token=" + secret
}

// RefereeView is what the referee's upload page shows.
type RefereeView struct {
	RefereeName, TraineeName, CallTitle string
	// Problem says why the link cannot be used ("" when it can).
	Problem string
}

// errRefereeLink is the problem of a link that names no request.
var errRefereeLink = errors.New("This link is not valid. Check that you copied all of it, or ask the trainee to send a new request.")

// refereeRequest finds the request a link names and decides the upload with the transition
// table (NextRefereeStatus): errRefereeLink for a link that names no request, the table's
// refusal (with the request) for one that cannot be used now. The request is read as a
// fact (viewer.ForFacts): the link's secret is the referee's only credential, and what the
// upload page shows of it (the referee's and the trainee's names, the call's title) is
// what the referee's email already said.
func (s *Service) refereeRequest(ctx context.Context, client *ent.Client, secret string) (*ent.RefereeRequest, error) {
	if !auth.PlausibleSecret(secret, refereePrefix) {
		return nil, errRefereeLink
	}
	r, err := client.RefereeRequest.Query().Where(refereerequest.TokenHash(auth.HashSecret(secret))).
		WithApplication(func(q *ent.ApplicationQuery) { q.WithCall().WithTrainee() }).Only(viewer.ForFacts(ctx))
	if ent.IsNotFound(err) {
		return nil, errRefereeLink
	}
	if err != nil {
		return nil, fmt.Errorf("load referee request: %w", err)
	}
	if _, err := NextRefereeStatus(RefereeStatusOf(r), RefereeUpload, RefereeFactsOf(r, r.Edges.Application.Edges.Call, s.cfg.Now())); err != nil {
		return r, err
	}
	return r, nil
}

// DescribeRefereeLink says what the upload page of a link shows. Only internal errors are
// returned; an unusable link is a RefereeView with a Problem.
func (s *Service) DescribeRefereeLink(ctx context.Context, secret string) (RefereeView, error) {
	r, err := s.refereeRequest(ctx, s.cfg.Client, secret)
	var v RefereeView
	if r != nil {
		v = RefereeView{RefereeName: r.RefereeName, TraineeName: r.Edges.Application.Edges.Trainee.Name, CallTitle: r.Edges.Application.Edges.Call.Title}
	}
	if ue, ok := apperr.AsUserErrors(err); ok && len(ue) > 0 {
		v.Problem = ue[0].Message
		return v, nil
	}
	switch {
	case err == nil:
	case errors.Is(err, errRefereeLink):
		v.Problem = err.Error()
	default:
		return v, err
	}
	return v, nil
}

// ReceiveRefereeLetter stores the letter uploaded through a referee link, once: the link is
// used up in the same transaction (a conditional update, so two uploads at once store one
// letter), and the trainee is told a letter arrived (not its content). The writes are made
// as the link's holder (access.WithRefereeLink: this request's receipt and letter, nothing
// else), and the audit trail records the letter's arrival with the referee's address. User
// errors: INVALID for an unknown link, ALREADY_USED, EXPIRED (the link, or the call's
// deadline), INVALID (not a PDF), TOO_LONG, REQUIRED (empty file).
func (s *Service) ReceiveRefereeLetter(ctx context.Context, tx *ent.Client, secret, filename string, body io.Reader) error {
	r, err := s.refereeRequest(ctx, tx, secret)
	switch {
	case errors.Is(err, errRefereeLink):
		return apperr.Invalid(apperr.CodeInvalid, err.Error(), "token")
	case err != nil:
		return apperr.OnField(err, "token")
	}
	b, err := s.storeDocument(ctx, body, []string{"file"})
	if err != nil {
		return err
	}
	holder := access.WithRefereeLink(ctx, string(r.ID))
	now := s.cfg.Now().UTC()
	n, err := tx.RefereeRequest.Update().Where(refereerequest.ID(r.ID), refereerequest.ReceivedAtIsNil()).SetReceivedAt(now).Save(holder)
	if err != nil {
		return fmt.Errorf("use referee link: %w", err)
	}
	if n == 0 {
		return apperr.Invalid(apperr.CodeAlreadyUsed, refereeUsedText, "token")
	}
	a := r.Edges.Application
	d, err := tx.Document.Create().SetApplicationID(a.ID).SetKind(vocab.DocumentRefereeLetter).SetFilename(cleanFilename(filename)).
		SetSha256(b.SHA256).SetSize(b.Size).SetRefereeRequestID(r.ID).Save(holder)
	if err != nil {
		return fmt.Errorf("save referee letter: %w", err)
	}
	err = audit.Record(holder, tx, now, audit.Event{
		Action: "referee_request.letter_received", ObjectType: "RefereeRequest", ObjectID: string(r.ID),
		Details: map[string]any{"referee_email": r.RefereeEmail, "document_id": string(d.ID)},
	})
	if err != nil {
		return err
	}
	t := a.Edges.Trainee
	return s.cfg.Notifier.RefereeLetterReceived(holder, tx, notify.Recipient{Email: t.Email, Name: t.Name, Suppressed: t.Disabled}, notify.RefereeLetterData{
		Name: t.Name, RefereeName: r.RefereeName, CallTitle: a.Edges.Call.Title,
	}, "referee_letter:"+string(r.ID))
}

// OpenDocument returns a document the caller may read (NOT_FOUND otherwise) and its
// content; the caller closes the file.
func (s *Service) OpenDocument(ctx context.Context, id pulid.ID) (*ent.Document, *os.File, error) {
	d, err := s.cfg.Client.Document.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, nil, apperr.New(apperr.NotFound, "no such document")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load document %s: %w", id, err)
	}
	f, err := s.cfg.Documents.Open(d.Sha256)
	if err != nil {
		return nil, nil, fmt.Errorf("open document %s: %w", id, err)
	}
	return d, f, nil
}

// DocumentURL is where a document is downloaded.
func (s *Service) DocumentURL(id pulid.ID) string {
	return strings.TrimRight(s.cfg.PublicURL, "/") + "/documents/" + string(id)
}

// HostChoices returns the host centres an application ranks, first choice first, as the
// caller may see them (the trainee and staff; nobody else sees any).
func (s *Service) HostChoices(ctx context.Context, client *ent.Client, id pulid.ID) ([]*ent.HostCentre, error) {
	choices, err := client.ApplicationChoice.Query().Where(applicationchoice.ApplicationID(id)).
		WithHostCentre().Order(applicationchoice.ByRank()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("choices of %s: %w", id, err)
	}
	out := make([]*ent.HostCentre, 0, len(choices))
	for _, c := range choices {
		if c.Edges.HostCentre != nil {
			out = append(out, c.Edges.HostCentre)
		}
	}
	return out, nil
}
