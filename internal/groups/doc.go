// Package groups owns the organisations directory — organisations, the CAR-T host-centre
// profiles that trainees read to choose where to observe, the coordinators of each centre,
// and people's affiliations (Directory) — and the working groups with their memberships:
// invitations answered through sign-in links, the one-chair and no-overlap rules, early
// ends, and the term-end warnings (WorkingGroups). A membership's status is never stored:
// StatusOn computes it from the answer and the dates in the coalition's time zone.
//
// Who may read what is decided by the ent privacy policies (internal/access): the directory
// is public, inactive organisations and whatever hangs off them are for staff only, an
// affiliation is visible to staff and to the person, and working groups and memberships are
// visible as access.FilterVisibleGroups and FilterVisibleMemberships say. This package
// decides who may write, validates input before anything is written (user errors change
// nothing), and builds the filtered, ordered connections of the directory and the groups.
package groups
