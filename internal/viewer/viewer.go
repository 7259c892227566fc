package viewer

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
)

// Role is what a user may do in the coalition.
type Role string

// Roles. A user may hold several.
const (
	RoleStaff           Role = "STAFF"
	RoleHostCoordinator Role = "HOST_COORDINATOR"
	RoleTrainee         Role = "TRAINEE"
)

// AllRoles lists every role in a stable order.
var AllRoles = []Role{RoleStaff, RoleHostCoordinator, RoleTrainee}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(AllRoles, r) }

// String implements fmt.Stringer.
func (r Role) String() string { return string(r) }

// Values lists the enum values for ent.
func (Role) Values() []string {
	out := make([]string, len(AllRoles))
	for i, r := range AllRoles {
		out[i] = string(r)
	}
	return out
}

// MarshalGQL implements graphql.Marshaler.
func (r Role) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(r))) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (r *Role) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("role must be a string")
	}
	if !Role(s).Valid() {
		return fmt.Errorf("%q is not a valid Role", s)
	}
	*r = Role(s)
	return nil
}

// Scope limits what an API token may do on behalf of its user.
type Scope string

// Scopes. A session has both; an API token has those it was minted with.
const (
	// ScopeRead allows queries.
	ScopeRead Scope = "READ"
	// ScopeWrite allows mutations.
	ScopeWrite Scope = "WRITE"
)

// AllScopes lists every scope in a stable order.
var AllScopes = []Scope{ScopeRead, ScopeWrite}

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return slices.Contains(AllScopes, s) }

// MarshalGQL implements graphql.Marshaler.
func (s Scope) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (s *Scope) UnmarshalGQL(v any) error {
	str, ok := v.(string)
	if !ok {
		return fmt.Errorf("scope must be a string")
	}
	if !Scope(str).Valid() {
		return fmt.Errorf("%q is not a valid Scope", str)
	}
	*s = Scope(str)
	return nil
}

// Kind says what sort of caller a viewer is.
type Kind int

// Kinds of viewer.
const (
	Anonymous Kind = iota
	// User is a signed-in person (session) or an API token acting for one.
	User
	// System is background work (outbox worker, jobs, CLI): explicit, never implied.
	System
)

// Viewer is the caller of an operation.
type Viewer struct {
	Kind   Kind
	UserID string
	// Email is the signed-in user's address, for audit records.
	Email  string
	Roles  []Role
	Scopes []Scope
	// SessionID or TokenID names the credential used, for audit and sign-out.
	SessionID string
	TokenID   string
	// ReadOnly marks the system viewer of ForFacts: it reads, never writes.
	ReadOnly bool
	// OnBehalfOf is the person whose operation a ForFacts read serves (empty for none).
	OnBehalfOf string
}

// IsSystem reports whether v is the system viewer.
func (v Viewer) IsSystem() bool { return v.Kind == System }

// IsAnonymous reports whether nobody is signed in.
func (v Viewer) IsAnonymous() bool { return v.Kind == Anonymous }

// HasRole reports whether v is a signed-in user holding r.
func (v Viewer) HasRole(r Role) bool { return v.Kind == User && slices.Contains(v.Roles, r) }

// IsStaff reports whether v is coalition staff.
func (v Viewer) IsStaff() bool { return v.HasRole(RoleStaff) }

// CanWrite reports whether v's credential allows mutations.
func (v Viewer) CanWrite() bool {
	return v.Kind == System || (v.Kind == User && slices.Contains(v.Scopes, ScopeWrite))
}

type ctxKey struct{}

// slot holds the viewer of one request. It is a pointer so that Become can change who the
// rest of the request acts as (after a sign-in), including for GraphQL field resolvers
// whose contexts were derived before the change.
type slot struct {
	mu sync.RWMutex
	v  Viewer
}

// NewContext returns ctx carrying v.
func NewContext(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, &slot{v: v})
}

// FromContext returns the viewer in ctx, or the anonymous viewer.
func FromContext(ctx context.Context) Viewer {
	s, _ := ctx.Value(ctxKey{}).(*slot)
	if s == nil {
		return Viewer{}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.v
}

// Become makes the rest of the request in ctx act as v: used when a request signs
// someone in, so its answer (the new user's own data) is read as them. It reports false
// when ctx carries no viewer slot.
func Become(ctx context.Context, v Viewer) bool {
	s, _ := ctx.Value(ctxKey{}).(*slot)
	if s == nil {
		return false
	}
	s.mu.Lock()
	s.v = v
	s.mu.Unlock()
	return true
}

// NewSystemContext returns ctx acting as the system: for background work and the CLI only.
func NewSystemContext(ctx context.Context) context.Context {
	return NewContext(ctx, Viewer{Kind: System})
}

// ForFacts returns ctx reading as the system, for the facts a rule or a notification needs
// that the person acting may not read themselves: is a name taken, who coordinates this
// centre (to email them), which rows to lock. Nothing read this way may be returned to the
// person; and it cannot write (the privacy rule AllowSystem refuses a read-only system
// viewer's mutations), so every write keeps the person who caused it in the audit trail.
// Background work with no person behind it uses NewSystemContext.
func ForFacts(ctx context.Context) context.Context {
	return NewContext(ctx, Viewer{Kind: System, ReadOnly: true, OnBehalfOf: FromContext(ctx).UserID})
}
