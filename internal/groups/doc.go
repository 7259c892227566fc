// Package groups owns the organisations directory (and, later, working groups, memberships
// and meetings): organisations, the CAR-T host-centre profiles that trainees read to choose
// where to observe, the coordinators of each centre, and people's affiliations.
//
// Who may read what is decided by the ent privacy policies (internal/access): the directory
// is public, inactive organisations and whatever hangs off them are for staff only, and an
// affiliation is visible to staff and to the person. This package decides who may write,
// validates input before anything is written (user errors change nothing), and builds the
// filtered, ordered connections of the directory.
package groups
