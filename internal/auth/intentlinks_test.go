package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/loginlink"
	"github.com/gocart-coalition/coalition/internal/auth"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// IssueIntentLinks issues, in one INSERT per 2,000 links, the same links IssueIntentLink
// issues one by one: in the order asked, each for its user and intent, expiring after its
// own ttl, unsent for a disabled account, and each one a working sign-in link. An invalid
// request writes nothing.
func TestIssueIntentLinksInBulk(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		ctx := e.System()
		ana, _ := e.NewUser("ana.novak@example.cz", "Ana Novák", viewer.RoleTrainee)
		bob, _ := e.NewUser("bob.byrne@example.ie", "Bob Byrne", viewer.RoleTrainee)
		bob, err := e.DB.Client.User.UpdateOne(bob).SetDisabled(true).Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		users := []*ent.User{ana, bob}
		const n = 2001 // two INSERTs
		reqs := make([]auth.IntentLinkRequest, n)
		for i := range reqs {
			reqs[i] = auth.IntentLinkRequest{User: users[i%2], Intent: fmt.Sprintf("test.do:%d", i), TTL: time.Duration(i+1) * time.Minute}
		}
		issue := func(reqs []auth.IntentLinkRequest) ([]string, int64, error) {
			t.Helper()
			tx, err := e.DB.Client.Tx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback() //nolint:errcheck // a no-op after Commit
			e.Queries.Reset()
			urls, err := e.App.Auth.IssueIntentLinks(ctx, tx.Client(), reqs)
			sent := e.Queries.Count()
			if err != nil {
				return nil, sent, err
			}
			return urls, sent, tx.Commit()
		}

		before := e.DB.Client.LoginLink.Query().CountX(ctx) // the users' own sign-ins
		bad := append(append([]auth.IntentLinkRequest{}, reqs[:3]...), auth.IntentLinkRequest{User: ana, Intent: "", TTL: time.Minute})
		if _, _, err := issue(bad); err == nil {
			t.Fatal("a request without an intent was accepted")
		}
		if k := e.DB.Client.LoginLink.Query().CountX(ctx); k != before {
			t.Fatalf("%d links after a refused batch, want %d", k, before)
		}

		urls, statements, err := issue(reqs)
		if err != nil {
			t.Fatal(err)
		}
		if statements != 2 {
			t.Errorf("%d links in %d statements, want 2", n, statements)
		}
		if len(urls) != n {
			t.Fatalf("%d URLs for %d requests", len(urls), n)
		}
		now := e.Clock.Now().UTC()
		secrets := make([]string, n)
		for i, u := range urls {
			p, err := url.Parse(u)
			if err != nil {
				t.Fatal(err)
			}
			secrets[i] = p.Query().Get("token")
			h := sha256.Sum256([]byte(secrets[i]))
			l, err := e.DB.Client.LoginLink.Query().Where(loginlink.TokenHash(hex.EncodeToString(h[:]))).Only(ctx)
			if err != nil {
				t.Fatalf("link %d (%s): %v", i, u, err)
			}
			r := reqs[i]
			if l.Email != r.User.Email || l.Intent != r.Intent || !l.ExpiresAt.Equal(now.Add(r.TTL)) || !l.RequestedAt.Equal(now) ||
				l.Sent != !r.User.Disabled || l.UsedAt != nil || l.RequestedIP != "" {
				t.Fatalf("link %d = %+v, want %s, %q, expiring at %v, sent %v, unused", i, l, r.User.Email, r.Intent, now.Add(r.TTL), !r.User.Disabled)
			}
		}

		// A link works once, for its own user.
		redeem := func(secret string) (*auth.SignIn, error) {
			t.Helper()
			tx, err := e.DB.Client.Tx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback() //nolint:errcheck // a no-op after Commit
			in, err := e.App.Auth.RedeemLoginLink(context.Background(), tx.Client(), secret, "192.0.2.1", "test")
			if err != nil {
				return nil, err
			}
			return in, tx.Commit()
		}
		in, err := redeem(secrets[1998])
		if err != nil || in.User.ID != ana.ID {
			t.Fatalf("redeem link 1998: %+v, %v; want Ana signed in", in, err)
		}
		if _, err := redeem(secrets[1998]); err == nil {
			t.Error("link 1998 worked twice")
		}
	})
}
