// Package directory owns the organisations directory: organisations, the CAR-T host-centre
// profiles that trainees read to choose where to observe, the coordinators of each centre,
// and people's affiliations (Directory), with the filtered, ordered connections that list
// them.
//
// Who may read and write what is decided once in internal/access (directory.go): the
// directory is public, inactive organisations and whatever hangs off them are for staff
// only, an affiliation is visible to staff and to the person; staff manage everything
// (access.CanManageDirectory) and a centre's coordinators edit its profile
// (access.CanEditHostCentre). The ent privacy policies and this package ask the same
// predicates. This package validates input before anything is written (user errors change
// nothing) and writes as the person acting, so the audit trail names them.
package directory
