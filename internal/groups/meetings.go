package groups

import (
	"context"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/contrib/entgql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/meeting"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/calendar"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/markdown"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// LocalLayout is how a meeting's local start and end are written: a date and a time of
// day in the meeting's time zone.
const LocalLayout = check.LocalLayout

// Limits of a meeting.
const (
	maxMeetingTitleLen = 200
	maxLocationLen     = 300
	maxVideoURLLen     = 2000
	maxAgendaLen       = 20000
	maxMinutesLen      = 50000
	maxCancelReasonLen = 500
	maxZoneLen         = 64
	maxMeetingLength   = 7 * 24 * time.Hour
	maxAttendees       = 500
)

// ScheduleMeetingInput is what staff or the group's chair provide to schedule a meeting.
type ScheduleMeetingInput struct {
	GroupID pulid.ID
	Title   string
	// Start and End are local times (LocalLayout) in TimeZone, an IANA zone name.
	Start, End, TimeZone string
	// Location, VideoURL and Agenda are optional (nil is empty); a location, a video link
	// or both are required.
	Location, VideoURL, Agenda *string
}

// UpdateMeetingInput changes a meeting; nil fields stay as they are.
type UpdateMeetingInput struct {
	ID                                                      pulid.ID
	Title, Start, End, TimeZone, Location, VideoURL, Agenda *string
}

// CancelMeetingInput calls a meeting off.
type CancelMeetingInput struct {
	ID     pulid.ID
	Reason string
}

// MinutesInput records what happened at a meeting.
type MinutesInput struct {
	ID          pulid.ID
	Minutes     string
	AttendeeIDs []pulid.ID
}

// meetingDraft is a meeting's invitation-relevant fields, checked.
type meetingDraft struct {
	title, zone, location, videoURL, agenda string
	start, end                              time.Time
}

// ScheduleMeeting schedules a meeting of a working group and sends every member on the
// meeting's day (accepted, with a term covering that day and not ended early) an
// invitation with a calendar entry (METHOD:REQUEST, SEQUENCE 0). Staff and the group's
// current chair and co-chair (access.CanManageMeetings); anyone else is FORBIDDEN,
// whether or not the group exists. User errors: NOT_FOUND for an unknown group (staff); INVALID_STATE for an archived one; REQUIRED, TOO_LONG
// or INVALID for the title, the times (local times that do not exist in the zone, an end
// not after the start or more than 7 days later, a start in the past), the zone, the
// location and video link (at least one; the link https), and the agenda.
func (s *WorkingGroups) ScheduleMeeting(ctx context.Context, tx *ent.Client, in ScheduleMeetingInput) (*ent.Meeting, error) {
	if err := access.RequireManageMeetings(ctx, tx, string(in.GroupID), "schedule the group's meetings"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	g, err := tx.WorkingGroup.Get(ctx, in.GroupID)
	switch {
	case ent.IsNotFound(err):
		errs.Add(apperr.CodeNotFound, "No such working group.", check.Path("groupId")...)
	case err != nil:
		return nil, fmt.Errorf("load working group %s: %w", in.GroupID, err)
	case g.Archived:
		errs.Add(apperr.CodeInvalidState, "This working group is archived and holds no new meetings.", check.Path("groupId")...)
	}
	d := s.checkMeeting(&errs, meetingDraft{}, in.Title, in.Start, in.End, in.TimeZone,
		deref(in.Location), deref(in.VideoURL), deref(in.Agenda), true)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	to, err := s.meetingMembers(ctx, tx, g.ID, d.start)
	if err != nil {
		return nil, err
	}
	m, err := tx.Meeting.Create().
		SetGroupID(g.ID).SetTitle(d.title).SetStartsAt(d.start).SetEndsAt(d.end).SetTimeZone(d.zone).
		SetLocation(d.location).SetVideoLink(d.videoURL).SetAgenda(d.agenda).
		AddInvitees(to...).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create meeting: %w", err)
	}
	return m, s.sendMeeting(ctx, tx, m, g, to, notify.MeetingScheduled, nil)
}

// UpdateMeeting changes or moves a meeting that has not started and is not cancelled.
// When anything in the invitation changes (title, times, zone, place, link, agenda), the
// sequence goes up and every member on the (new) day gets the updated invitation for the
// same calendar entry, and anyone who held the invitation but is no longer a member on
// that day gets a cancellation. Nothing is sent when nothing changed. Who may: see
// managedMeeting. User errors: NOT_FOUND; INVALID_STATE for a meeting that has started or
// was cancelled; the field errors of ScheduleMeeting.
func (s *WorkingGroups) UpdateMeeting(ctx context.Context, tx *ent.Client, in UpdateMeetingInput) (*ent.Meeting, error) {
	m, err := s.editableMeeting(ctx, tx, in.ID, "change the group's meetings")
	if err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	zone := m.TimeZone
	if in.TimeZone != nil {
		zone = *in.TimeZone
	}
	loc, zoneErr := time.LoadLocation(zone)
	local := func(t time.Time, given *string) string {
		if given != nil {
			return *given
		}
		if zoneErr != nil {
			return ""
		}
		return t.In(loc).Format(LocalLayout)
	}
	old := meetingDraft{title: m.Title, zone: m.TimeZone, location: m.Location, videoURL: m.VideoLink, agenda: m.Agenda, start: m.StartsAt, end: m.EndsAt}
	d := s.checkMeeting(&errs, old, pick(in.Title, m.Title), local(m.StartsAt, in.Start), local(m.EndsAt, in.End), zone,
		pick(in.Location, m.Location), pick(in.VideoURL, m.VideoLink), pick(in.Agenda, m.Agenda), in.Start != nil || in.End != nil)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	changes := changedFields(old, d)
	if len(changes) == 0 {
		return m, nil
	}
	to, err := s.meetingMembers(ctx, tx, m.GroupID, d.start)
	if err != nil {
		return nil, err
	}
	before, err := m.QueryInvitees().All(viewer.ForFacts(ctx)) // recipients of the removal
	if err != nil {
		return nil, fmt.Errorf("load invitees of %s: %w", m.ID, err)
	}
	m, err = tx.Meeting.UpdateOne(m).
		SetTitle(d.title).SetStartsAt(d.start).SetEndsAt(d.end).SetTimeZone(d.zone).
		SetLocation(d.location).SetVideoLink(d.videoURL).SetAgenda(d.agenda).
		AddSequence(1).ClearInvitees().AddInvitees(to...).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("update meeting %s: %w", in.ID, err)
	}
	g, err := tx.WorkingGroup.Get(ctx, m.GroupID)
	if err != nil {
		return nil, fmt.Errorf("load working group %s: %w", m.GroupID, err)
	}
	if err := s.sendMeeting(ctx, tx, m, g, to, notify.MeetingUpdated, changes); err != nil {
		return nil, err
	}
	dropped := slices.DeleteFunc(before, func(u *ent.User) bool {
		return slices.ContainsFunc(to, func(v *ent.User) bool { return v.ID == u.ID })
	})
	return m, s.sendMeeting(ctx, tx, m, g, dropped, notify.MeetingRemoved, nil)
}

// CancelMeeting cancels a meeting that has not started, with a reason, and sends everyone
// who holds its invitation a cancellation of the calendar entry (METHOD:CANCEL, the next
// sequence). Who may: see managedMeeting. User errors: NOT_FOUND; INVALID_STATE for a
// meeting that has started or was already cancelled; REQUIRED or TOO_LONG for the reason
// (1–500 characters).
func (s *WorkingGroups) CancelMeeting(ctx context.Context, tx *ent.Client, in CancelMeetingInput) (*ent.Meeting, error) {
	m, err := s.editableMeeting(ctx, tx, in.ID, "cancel the group's meetings")
	if err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	reason := check.RequiredText(&errs, in.Reason, maxCancelReasonLen, "The reason", "Say why the meeting is cancelled.", check.Path("reason"))
	if err := errs.Err(); err != nil {
		return nil, err
	}
	to, err := m.QueryInvitees().Order(user.ByID()).All(viewer.ForFacts(ctx)) // recipients
	if err != nil {
		return nil, fmt.Errorf("load invitees of %s: %w", m.ID, err)
	}
	m, err = tx.Meeting.UpdateOne(m).SetCancelledAt(s.cfg.Now().UTC()).SetCancelReason(reason).AddSequence(1).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("cancel meeting %s: %w", in.ID, err)
	}
	g, err := tx.WorkingGroup.Get(ctx, m.GroupID)
	if err != nil {
		return nil, fmt.Errorf("load working group %s: %w", m.GroupID, err)
	}
	return m, s.sendMeeting(ctx, tx, m, g, to, notify.MeetingCancelled, nil)
}

// RecordMinutes records the minutes and attendance of a meeting that has started and was
// not cancelled; recording again replaces both. Who may: see managedMeeting (a chair whose
// term has ended no longer records them). User errors: NOT_FOUND; INVALID_STATE before the
// start or for a cancelled meeting; REQUIRED or TOO_LONG for the minutes (1–50,000
// characters); INVALID for more than 500 attendees or an attendee who was not a member of
// the group on the meeting's day.
func (s *WorkingGroups) RecordMinutes(ctx context.Context, tx *ent.Client, in MinutesInput) (*ent.Meeting, error) {
	m, err := s.managedMeeting(ctx, tx, in.ID, "record the minutes of the group's meetings")
	if err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	switch {
	case m.CancelledAt != nil:
		errs.Add(apperr.CodeInvalidState, "This meeting was cancelled; it has no minutes.", check.Path("id")...)
	case s.cfg.Now().Before(m.StartsAt):
		errs.Add(apperr.CodeInvalidState, "Minutes can be recorded once the meeting has started.", check.Path("id")...)
	}
	minutes := check.RequiredText(&errs, in.Minutes, maxMinutesLen, "The minutes", "Enter the minutes.", check.Path("minutes"))
	ids := slices.Clone(in.AttendeeIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > maxAttendees {
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("At most %d attendees can be recorded.", maxAttendees), check.Path("attendeeIds")...)
	} else if len(ids) > 0 {
		members, err := s.meetingMembers(ctx, tx, m.GroupID, m.StartsAt)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if !slices.ContainsFunc(members, func(u *ent.User) bool { return u.ID == id }) {
				errs.Add(apperr.CodeInvalid, fmt.Sprintf("%s was not a member of the group on the meeting's day.", id), check.Path("attendeeIds")...)
			}
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	m, err = tx.Meeting.UpdateOne(m).SetMinutes(minutes).ClearAttendees().AddAttendeeIDs(ids...).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("record minutes of %s: %w", in.ID, err)
	}
	return m, nil
}

// managedMeeting loads meeting id as the caller and checks that they may manage it: an
// anonymous caller is UNAUTHENTICATED; a meeting the caller may not see (or no meeting)
// is the user error NOT_FOUND, the same answer either way; a meeting they see but whose
// group they do not chair (a member, an invitee, a former chair) is FORBIDDEN.
func (s *WorkingGroups) managedMeeting(ctx context.Context, tx *ent.Client, id pulid.ID, action string) (*ent.Meeting, error) {
	if viewer.FromContext(ctx).IsAnonymous() {
		return nil, apperr.New(apperr.Unauthenticated, "sign in to %s", action)
	}
	m, err := tx.Meeting.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.Invalid(apperr.CodeNotFound, "No such meeting.", check.Path("id")...)
	}
	if err != nil {
		return nil, fmt.Errorf("load meeting %s: %w", id, err)
	}
	if err := access.RequireManageMeetings(ctx, tx, string(m.GroupID), action); err != nil {
		return nil, err
	}
	return m, nil
}

// editableMeeting is managedMeeting for a meeting that may still change: not started, not
// cancelled.
func (s *WorkingGroups) editableMeeting(ctx context.Context, tx *ent.Client, id pulid.ID, action string) (*ent.Meeting, error) {
	m, err := s.managedMeeting(ctx, tx, id, action)
	if err != nil {
		return nil, err
	}
	switch {
	case m.CancelledAt != nil:
		return nil, apperr.Invalid(apperr.CodeInvalidState, "This meeting was cancelled.", check.Path("id")...)
	case !s.cfg.Now().Before(m.StartsAt):
		return nil, apperr.Invalid(apperr.CodeInvalidState, "This meeting has started; it can no longer be changed.", check.Path("id")...)
	}
	return m, nil
}

// checkMeeting checks the fields of a meeting and returns them cleaned. old holds the
// current values (zero for a new meeting); timesGiven says the caller set a time, which
// must then be in the future.
func (s *WorkingGroups) checkMeeting(errs *apperr.UserErrors, old meetingDraft, title, start, end, zone, location, videoURL, agenda string, timesGiven bool) meetingDraft {
	var d meetingDraft
	d.title = check.RequiredText(errs, title, maxMeetingTitleLen, "The title", "Enter the meeting's title.", check.Path("title"))
	if check.HasControl(d.title) {
		errs.Add(apperr.CodeInvalid, "The title must be a single line of text.", check.Path("title")...)
	}
	var loc *time.Location
	d.zone, loc = check.Zone(errs, zone, check.Path("timeZone"))
	if loc != nil {
		var okStart, okEnd bool
		d.start, okStart = check.LocalTime(errs, start, loc, "start", check.Path("start"))
		d.end, okEnd = check.LocalTime(errs, end, loc, "end", check.Path("end"))
		now := s.cfg.Now()
		switch {
		case !okStart || !okEnd:
		case !d.end.After(d.start):
			errs.Add(apperr.CodeInvalid, "The meeting must end after it starts.", check.Path("end")...)
		case d.end.Sub(d.start) > maxMeetingLength:
			errs.Add(apperr.CodeInvalid, "A meeting can last at most 7 days.", check.Path("end")...)
		case (timesGiven || old.start.IsZero() || !d.start.Equal(old.start)) && !d.start.After(now):
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("The start must be in the future; it is %s in %s now.",
				now.In(loc).Format(LocalLayout), d.zone), check.Path("start")...)
		}
	}
	d.location = check.Text(errs, location, maxLocationLen, "The location", check.Path("location"))
	if check.HasControl(d.location) {
		errs.Add(apperr.CodeInvalid, "The location must be a single line of text.", check.Path("location")...)
	}
	d.videoURL = strings.TrimSpace(videoURL)
	switch {
	case d.videoURL == "":
	case utf8.RuneCountInString(d.videoURL) > maxVideoURLLen || len(d.videoURL) > maxVideoURLLen:
		errs.Add(apperr.CodeTooLong, fmt.Sprintf("The video link can be at most %d characters.", maxVideoURLLen), check.Path("videoLink")...)
	default:
		u, err := url.Parse(d.videoURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || check.HasControl(d.videoURL) {
			errs.Add(apperr.CodeInvalid, "Enter the video link as a full https address, e.g. https://meet.example.org/abc.", check.Path("videoLink")...)
		}
	}
	if d.location == "" && d.videoURL == "" {
		errs.Add(apperr.CodeRequired, "Give a location, a video link or both.", check.Path("location")...)
	}
	d.agenda = check.Text(errs, agenda, maxAgendaLen, "The agenda", check.Path("agenda"))
	return d
}

// changedFields names what differs between the invitation before and after, for the
// update email.
func changedFields(old, d meetingDraft) []string {
	var out []string
	if old.title != d.title {
		out = append(out, "title")
	}
	if !old.start.Equal(d.start) || !old.end.Equal(d.end) || old.zone != d.zone {
		out = append(out, "time")
	}
	if old.location != d.location {
		out = append(out, "location")
	}
	if old.videoURL != d.videoURL {
		out = append(out, "video link")
	}
	if old.agenda != d.agenda {
		out = append(out, "agenda")
	}
	return out
}

// meetingMembers returns the people who are members of group on the day at starts (in the
// coalition's zone): accepted, with a term covering that day and not ended early before it.
// They are whom the invitation goes to, whether they are members today or their term
// starts by then. Ordered by id. They are read as facts (viewer.ForFacts): the
// invitation's recipients, and the attendees a record may name, whoever schedules it.
func (s *WorkingGroups) meetingMembers(ctx context.Context, tx *ent.Client, group pulid.ID, starts time.Time) ([]*ent.User, error) {
	day := vocab.Today(starts)
	us, err := tx.User.Query().
		Where(user.HasMembershipsWith(membership.GroupID(group), currentOn(day))).
		Order(user.ByID()).
		All(viewer.ForFacts(ctx))
	if err != nil {
		return nil, fmt.Errorf("find members of %s on %s: %w", group, day, err)
	}
	return us, nil
}

// sendMeeting queues the email of kind about m to each of to, with its calendar entry:
// a request (new or updated) or a cancellation (cancelled, or no longer invited).
func (s *WorkingGroups) sendMeeting(ctx context.Context, tx *ent.Client, m *ent.Meeting, g *ent.WorkingGroup, to []*ent.User, kind notify.MeetingKind, changes []string) error {
	if len(to) == 0 {
		return nil
	}
	loc, err := time.LoadLocation(m.TimeZone)
	if err != nil {
		return fmt.Errorf("meeting %s: zone %q: %w", m.ID, m.TimeZone, err)
	}
	now := s.cfg.Now().UTC()
	write := calendar.Request
	if kind == notify.MeetingCancelled || kind == notify.MeetingRemoved {
		write = calendar.Cancel
	}
	for _, u := range to {
		ev := calendar.Event{
			UID: string(m.ID) + "@" + s.cfg.CalendarDomain, Sequence: m.Sequence,
			Summary: m.Title + " (" + g.Name + ")", Description: meetingDescription(m, g, loc),
			Location: m.Location, URL: m.VideoLink, Start: m.StartsAt, End: m.EndsAt,
			Organizer: s.cfg.Organizer, Attendees: []mail.Address{{Name: u.Name, Email: u.Email}}, Stamp: now,
		}
		if ev.Location == "" {
			ev.Location = m.VideoLink
		}
		ics, err := write(ev)
		if err != nil {
			return err
		}
		data := notify.MeetingData{
			Kind: kind, Name: u.Name, GroupName: g.Name, Title: m.Title,
			When: formatWhen(m.StartsAt, m.EndsAt, loc), WhenUTC: formatWhen(m.StartsAt, m.EndsAt, time.UTC),
			Location: m.Location, VideoURL: m.VideoLink, Agenda: m.Agenda, AgendaHTML: htmltemplate.HTML(markdown.HTML(m.Agenda)),
			Changes: changes, Reason: m.CancelReason,
		}
		key := fmt.Sprintf("meeting:%s:%d:%s", m.ID, m.Sequence, u.ID)
		if err := s.cfg.Notifier.Meeting(ctx, tx, notify.Recipient{Email: u.Email, Name: u.Name, Suppressed: u.Disabled}, data, ics, key); err != nil {
			return err
		}
	}
	return nil
}

// meetingDescription is the DESCRIPTION of a meeting's calendar entry: the group, the
// video link and the agenda as written.
func meetingDescription(m *ent.Meeting, g *ent.WorkingGroup, loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s meeting, %s.", g.Name, formatWhen(m.StartsAt, m.EndsAt, loc))
	if m.VideoLink != "" {
		fmt.Fprintf(&b, "\nJoin online: %s", m.VideoLink)
	}
	if m.Agenda != "" {
		fmt.Fprintf(&b, "\n\nAgenda:\n%s", m.Agenda)
	}
	return b.String()
}

// formatWhen writes a meeting's time in loc as people read it:
// "Thursday 4 March 2027, 14:00–15:30 (Europe/Paris)", with both dates when it spans days.
func formatWhen(start, end time.Time, loc *time.Location) string {
	s, e := start.In(loc), end.In(loc)
	zone := loc.String()
	if s.Format(time.DateOnly) == e.Format(time.DateOnly) {
		return fmt.Sprintf("%s, %s–%s (%s)", s.Format("Monday 2 January 2006"), s.Format("15:04"), e.Format("15:04"), zone)
	}
	return fmt.Sprintf("%s – %s (%s)", s.Format("Monday 2 January 2006, 15:04"), e.Format("Monday 2 January 2006, 15:04"), zone)
}

// deref is the value of p, "" for nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// pick is *p when p is set, otherwise def.
func pick(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// MeetingFilter narrows the list of meetings; nil fields do not narrow.
type MeetingFilter struct {
	GroupID                 *pulid.ID
	EndsAfter, StartsBefore *time.Time
	IncludeCancelled        bool
}

// MeetingsPage returns a page of the meetings the viewer may see (the privacy policy
// decides which; filters only narrow that set), by start unless order says otherwise.
func (s *WorkingGroups) MeetingsPage(ctx context.Context, f MeetingFilter, p db.Page, order *ent.MeetingOrder) (*ent.MeetingConnection, error) {
	q := s.cfg.Client.Meeting.Query()
	if f.GroupID != nil {
		q.Where(meeting.GroupID(*f.GroupID))
	}
	if f.EndsAfter != nil {
		q.Where(meeting.EndsAtGTE(*f.EndsAfter))
	}
	if f.StartsBefore != nil {
		q.Where(meeting.StartsAtLT(*f.StartsBefore))
	}
	if !f.IncludeCancelled {
		q.Where(meeting.CancelledAtIsNil())
	}
	if order == nil {
		order = &ent.MeetingOrder{Field: ent.MeetingOrderFieldStartsAt, Direction: entgql.OrderDirectionAsc}
	}
	conn, err := q.Paginate(ctx, p.After, p.First, p.Before, p.Last, ent.WithMeetingOrder(order))
	if err != nil {
		return nil, fmt.Errorf("list meetings: %w", err)
	}
	return conn, nil
}
