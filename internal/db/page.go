package db

import (
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

// Page selects a page of a connection (Relay arguments), as the services' connections
// (directory, working groups, meetings, calls) take it from their resolvers.
type Page struct {
	After  *ent.Cursor
	First  *int
	Before *ent.Cursor
	Last   *int
}

// Conflict turns a unique-constraint violation (a concurrent write won the race that the
// service's own check lost) into a CONFLICT error with message; other errors are wrapped
// with what.
func Conflict(err error, message, what string) error {
	if ent.IsConstraintError(err) {
		return apperr.Wrap(apperr.Conflict, err, "%s", message)
	}
	return fmt.Errorf("%s: %w", what, err)
}
