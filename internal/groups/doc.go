// Package groups owns the working groups: groups, their memberships (invitations answered
// through sign-in links, the one-chair and no-overlap rules, early ends), the term-end
// warnings, meetings with their calendar invitations and minutes, and conflict-of-interest
// declarations with their reminders (WorkingGroups). A membership's status is never
// stored: StatusOn computes it from the answer and the dates in the coalition's time zone.
// The organisations directory is internal/directory.
//
// Who may read and write what is decided once in internal/access (groups.go, meetings.go):
// working groups and memberships are visible as access.FilterVisibleGroups and
// FilterVisibleMemberships say; staff manage groups and memberships
// (access.CanManageWorkingGroups); staff and a group's current chair or co-chair manage its
// meetings (access.CanManageMeetings); a person files their own declarations. The ent
// privacy policies and this package ask the same predicates. This package validates input
// before anything is written (user errors change nothing), writes as the person acting
// (the audit trail names them), and reads as the system only the facts a rule needs
// (viewer.ForFacts) or in its jobs.
package groups
