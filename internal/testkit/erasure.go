package testkit

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/privacy"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Twin is the World trainee's near-namesake of the erasure tests: Marek Novak (no
// accent), whose address differs from Marek Novák's by its last letters.
func Twin(tb testing.TB, s *Services) *ent.User {
	tb.Helper()
	return MustUser(tb, s, "marek.novak@fnbrno.example.com", "Marek Novak", viewer.RoleTrainee)
}

// MustTwins creates the cast of an erasure test: the World, whose Trainee (Marek Novák)
// is the person erased, and his near-namesake Twin (Marek Novak), who must keep everything.
func MustTwins(tb testing.TB, s *Services) (*World, *ent.User) {
	tb.Helper()
	w := NewWorld(tb, s)
	return w, Twin(tb, s)
}

// PersonOf is the privacy.Person of u.
func PersonOf(u *ent.User) privacy.Person { return privacy.Person{ID: u.ID, Email: u.Email} }

// MustErase runs d's Erase of u in one transaction as the system, as the erasure job
// does, and returns what it changed.
func MustErase(tb testing.TB, s *Services, d privacy.Domain, u *ent.User) privacy.Erased {
	tb.Helper()
	var out privacy.Erased
	s.Must(s.System(), func(ctx context.Context, tx *ent.Client) (err error) {
		out, err = d.Erase(ctx, tx, PersonOf(u))
		return err
	})
	return out
}

// ExportJSON is d's export of u as the JSON written into the ZIP.
func ExportJSON(tb testing.TB, s *Services, d privacy.Domain, u *ent.User) string {
	tb.Helper()
	part, err := d.Export(viewer.ForFacts(s.System()), s.DB.Client, PersonOf(u))
	if err != nil {
		tb.Fatalf("export %s: %v", d.Name(), err)
	}
	b, err := json.Marshal(part.Data)
	if err != nil {
		tb.Fatalf("marshal %s: %v", d.Name(), err)
	}
	return string(b)
}

// MustOK fails the test at once on a non-nil err (a fixture step that must work).
func MustOK(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("unexpected error: %v", err)
	}
}

// WantCount fails (and goes on) unless q counts want rows, as the system; what names the
// rows ("Marek's memberships").
func WantCount[Q interface {
	Count(context.Context) (int, error)
}](tb testing.TB, s *Services, what string, q Q, want int) {
	tb.Helper()
	if n := Count(s, q); n != want {
		tb.Errorf("%s: %d, want %d", what, n, want)
	}
}

// MustContain fails (and goes on) when text lacks any of values (exactly as written).
func MustContain(tb testing.TB, what, text string, values ...string) {
	tb.Helper()
	for _, v := range values {
		if !strings.Contains(text, v) {
			tb.Errorf("%s lacks %q: %s", what, v, text)
		}
	}
}

// MustNotContain fails when text holds any of values (compared without case).
func MustNotContain(tb testing.TB, what, text string, values ...string) {
	tb.Helper()
	for _, v := range values {
		if strings.Contains(strings.ToLower(text), strings.ToLower(v)) {
			tb.Errorf("%s still holds %q", what, v)
		}
	}
}
