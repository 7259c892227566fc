// Package pulid implements prefixed ULIDs: the opaque, globally unique, non-enumerable
// identifiers of every coalition object (usr_01J…, ses_01J…). The prefix names the type,
// so node(id:) can route an ID to its table without a lookup (ARCHITECTURE §6.2).
package pulid

import (
	"crypto/rand"
	"database/sql/driver"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// ID is a prefixed ULID, e.g. "usr_01JC3W7Q5T8R9XJ6M8F2K4N1PZ".
type ID string

// Separator sits between the type prefix and the ULID.
const Separator = "_"

var (
	entropyMu sync.Mutex
	// Monotonic entropy from crypto/rand: IDs made in the same millisecond still sort
	// in creation order and remain unguessable.
	entropy = ulid.Monotonic(rand.Reader, 0)
)

// New returns a new ID with the given prefix. The ULID time component is the wall clock:
// it orders IDs, it is never used as a business timestamp.
func New(prefix string) ID {
	entropyMu.Lock()
	u := ulid.MustNew(ulid.Timestamp(time.Now()), entropy)
	entropyMu.Unlock()
	return ID(prefix + Separator + u.String())
}

// Prefix returns the type prefix of id ("usr" for "usr_01J…"), or "" if id is malformed.
func (id ID) Prefix() string {
	p, rest, ok := strings.Cut(string(id), Separator)
	if !ok || len(rest) != ulid.EncodedSize {
		return ""
	}
	return p
}

// Valid reports whether id has a prefix and a well-formed ULID.
func (id ID) Valid() bool {
	p, rest, ok := strings.Cut(string(id), Separator)
	if !ok || p == "" {
		return false
	}
	_, err := ulid.ParseStrict(rest)
	return err == nil
}

// String implements fmt.Stringer.
func (id ID) String() string { return string(id) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (id *ID) UnmarshalGQL(v any) error {
	switch v := v.(type) {
	case string:
		*id = ID(v)
	case ID: // the generated node resolvers pass IDs through UnmarshalGQL
		*id = v
	default:
		return fmt.Errorf("id must be a string")
	}
	return nil
}

// MarshalGQL implements graphql.Marshaler.
func (id ID) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(string(id)))
}

// Scan implements sql.Scanner.
func (id *ID) Scan(src any) error {
	switch src := src.(type) {
	case nil:
		return fmt.Errorf("pulid: expected a value")
	case string:
		*id = ID(src)
	case []byte:
		*id = ID(src)
	case ID:
		*id = src
	default:
		return fmt.Errorf("pulid: unexpected type %T", src)
	}
	return nil
}

// Value implements driver.Valuer.
func (id ID) Value() (driver.Value, error) { return string(id), nil }
