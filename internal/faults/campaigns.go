package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Targets of the campaign scenarios.
const (
	// SignInDuringCampaign is the longest a sign-in link requested while a campaign is
	// sending may take to reach the relay: transactional mail never waits behind bulk mail.
	SignInDuringCampaign = 10 * time.Second
	// CampaignRecipients is the audience of campaign-sigkill-restart.
	CampaignRecipients = 10_000
)

// staff is a member of staff driving the service like a client: an API token minted by
// `coalition user create --staff --token … --print-token-only`.
type staff struct {
	email, token string
}

// mintStaff creates a member of staff in dbURL through the CLI and returns their token.
func (r *run) mintStaff(ctx context.Context, dbURL, email, name string) (staff, error) {
	cmd := exec.CommandContext(ctx, r.cfg.Bin, "user", "create", "--staff", "--name", name, "--token", "faults", "--print-token-only", email)
	cmd.Env = append(os.Environ(),
		"COALITION_DATABASE_URL="+dbURL,
		"COALITION_DATA_DIR="+filepath.Join(r.dir, "data-cli"),
		"COALITION_NEWSLETTER_KEY="+newsletterKey,
		"COALITION_LOG_LEVEL=warn",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return staff{}, fmt.Errorf("coalition user create %s: %v: %s", email, err, stderr.String())
	}
	token := strings.TrimSpace(stdout.String())
	if token == "" || strings.ContainsAny(token, " \n") {
		return staff{}, fmt.Errorf("coalition user create %s printed %q, want one token", email, stdout.String())
	}
	return staff{email: email, token: token}, nil
}

// call posts a GraphQL request as s and decodes data into out; GraphQL errors and
// userErrors of the payload named in userErrorsAt are errors.
func (p *proc) call(s staff, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, "http://"+p.addr+"/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(b, &env); err != nil || resp.StatusCode != http.StatusOK || len(env.Errors) > 0 {
		return fmt.Errorf("GraphQL as %s: HTTP %d %s", s.email, resp.StatusCode, bytes.TrimSpace(b))
	}
	// Every mutation payload here has userErrors: none may be there.
	if bytes.Contains(env.Data, []byte(`"userErrors":[{`)) {
		return fmt.Errorf("GraphQL as %s: user errors: %s", s.email, env.Data)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(env.Data, out)
}

// campaignState is what staff see of a campaign's progress.
type campaignState struct {
	Status   string `json:"status"`
	Progress struct {
		Total, Queued, Sending, Paused, Sent, Failed, Suppressed, Cancelled, Remaining int
	} `json:"progress"`
}

func (c campaignState) String() string {
	p := c.Progress
	return fmt.Sprintf("%s total=%d queued=%d sending=%d paused=%d sent=%d failed=%d suppressed=%d cancelled=%d remaining=%d",
		c.Status, p.Total, p.Queued, p.Sending, p.Paused, p.Sent, p.Failed, p.Suppressed, p.Cancelled, p.Remaining)
}

// campaign is one campaign under test: its id, subject and audience.
type campaign struct {
	id, subject string
	recipients  []string
	author      staff
	approver    staff
}

// prepareCampaign creates a PUBLIC list through the API as author, seeds n confirmed
// subscribers into dbURL (setup, not under test), and writes the campaign to that list as
// author, approved by approver (a second member of staff): APPROVED, ready to send.
func (r *run) prepareCampaign(ctx context.Context, p *proc, dbURL string, author, approver staff, n int) (*campaign, error) {
	var list struct {
		CreateMailingList struct {
			List struct{ ID string } `json:"list"`
		} `json:"createMailingList"`
	}
	err := p.call(author, `mutation($in: CreateMailingListInput!) { createMailingList(input: $in) { list { id } userErrors { field message code } } }`,
		map[string]any{"in": map[string]any{"name": "Readers " + r.res.Name, "slug": "readers", "visibility": "PUBLIC"}}, &list)
	if err != nil {
		return nil, err
	}
	c := &campaign{subject: "faults " + r.res.Name, author: author, approver: approver}
	if c.recipients, err = seedSubscribers(ctx, dbURL, pulid.ID(list.CreateMailingList.List.ID), n); err != nil {
		return nil, err
	}
	var created struct {
		CreateCampaign struct {
			Campaign struct{ ID string } `json:"campaign"`
		} `json:"createCampaign"`
	}
	err = p.call(author, `mutation($in: CreateCampaignInput!) { createCampaign(input: $in) { campaign { id } userErrors { field message code } } }`,
		map[string]any{"in": map[string]any{
			"subject": c.subject, "preheader": "A fault scenario",
			"body":    "# " + r.res.Name + "\n\nThis newsletter was sent to {{email}} by the fault scenarios.",
			"listIds": []string{list.CreateMailingList.List.ID},
		}}, &created)
	if err != nil {
		return nil, err
	}
	c.id = created.CreateCampaign.Campaign.ID
	if err := c.step(p, approver, "approveCampaign"); err != nil {
		return nil, err
	}
	r.res.Queued += n
	return c, nil
}

// step runs one of the campaign mutations that take a CampaignIdInput, as s.
func (c *campaign) step(p *proc, s staff, mutation string) error {
	return p.call(s, `mutation($id: ID!) { `+mutation+`(input: {id: $id}) { campaign { status } userErrors { field message code } } }`,
		map[string]any{"id": c.id}, nil)
}

// state reads the campaign's status and progress through the API as its author.
func (c *campaign) state(p *proc) (campaignState, error) {
	var out struct {
		Node campaignState `json:"node"`
	}
	err := p.call(c.author, `query($id: ID!) { node(id: $id) { ... on Campaign { status progress { total queued sending paused sent failed suppressed cancelled remaining } } } }`,
		map[string]any{"id": c.id}, &out)
	return out.Node, err
}

// waitStatus polls the campaign until its status is want and returns its state then.
func (c *campaign) waitStatus(ctx context.Context, p *proc, want string, limit time.Duration) (campaignState, error) {
	var st campaignState
	var rerr error
	_, err := waitFor(ctx, limit, func() bool {
		st, rerr = c.state(p)
		return rerr == nil && st.Status == want
	})
	if err != nil {
		return st, fmt.Errorf("campaign %s (%v, last error %v): %w", want, st, rerr, err)
	}
	return st, nil
}

// seedSubscribers writes n confirmed subscribers of list straight into dbURL, 1,000 per
// transaction, and returns their addresses.
func seedSubscribers(ctx context.Context, dbURL string, list pulid.ID, n int) ([]string, error) {
	d, err := db.Open(ctx, dbURL, db.Options{})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	sys := viewer.NewSystemContext(ctx)
	now := time.Now().UTC()
	addrs := make([]string, 0, n)
	const perTx = 1000
	for start := 0; start < n; start += perTx {
		err := db.InTx(sys, d.Client, func(ctx context.Context, tx *ent.Client) error {
			var subs []*ent.SubscriberCreate
			var ids []pulid.ID
			for i := start; i < min(n, start+perTx); i++ {
				id := pulid.New("sbr")
				addr := fmt.Sprintf("reader%05d@readers.example", i)
				ids, addrs = append(ids, id), append(addrs, addr)
				subs = append(subs, tx.Subscriber.Create().SetID(id).SetEmail(addr).SetName("Reader "+strconv.Itoa(i)))
			}
			if err := tx.Subscriber.CreateBulk(subs...).Exec(ctx); err != nil {
				return err
			}
			rows := make([]*ent.NewsletterSubscriptionCreate, len(ids))
			for i, id := range ids {
				rows[i] = tx.NewsletterSubscription.Create().SetSubscriberID(id).SetListID(list).
					SetStatus(newslettersubscription.StatusCONFIRMED).SetConfirmedAt(now)
			}
			return tx.NewsletterSubscription.CreateBulk(rows...).Exec(ctx)
		})
		if err != nil {
			return nil, fmt.Errorf("seed subscribers: %w", err)
		}
	}
	return addrs, nil
}

// tally counts the relay's messages of one campaign per recipient, reading each message
// once.
type tally struct {
	subject string
	read    int
	per     map[string]int
}

func newTally(subject string) *tally { return &tally{subject: subject, per: map[string]int{}} }

// update reads the messages that arrived since the last call.
func (t *tally) update(r *run) {
	for _, m := range r.smtp.MessagesSince(t.read) {
		t.read++
		if m.Subject != t.subject {
			continue
		}
		for _, to := range m.To {
			t.per[strings.ToLower(to)]++
		}
	}
}

// distinct is the number of recipients who got the campaign at least once.
func (t *tally) distinct(r *run) int {
	t.update(r)
	return len(t.per)
}

// waitDistinct waits until n recipients got the campaign.
func (t *tally) waitDistinct(ctx context.Context, r *run, n int, limit time.Duration) error {
	if _, err := waitFor(ctx, limit, func() bool { return t.distinct(r) >= n }); err != nil {
		return fmt.Errorf("%d recipients reached: %w", n, err)
	}
	return nil
}

// finish fills in the result: delivered, duplicated, lost (neither delivered nor failed),
// and checks that nobody but the audience got the campaign.
func (t *tally) finish(r *run, c *campaign, failed map[string]bool) error {
	t.update(r)
	audience := make(map[string]bool, len(c.recipients))
	for _, a := range c.recipients {
		audience[a] = true
	}
	var errs []error
	r.res.Delivered, r.res.Duplicated, r.res.Failed, r.res.Lost = 0, 0, len(failed), 0
	for a, n := range t.per {
		if !audience[a] {
			errs = append(errs, fmt.Errorf("%s got the campaign but is not in its audience", a))
			continue
		}
		if failed[a] {
			errs = append(errs, fmt.Errorf("%s got the campaign although the relay refused it", a))
		}
		r.res.Delivered++
		r.res.Duplicated += n - 1
	}
	for _, a := range c.recipients {
		if t.per[a] == 0 && !failed[a] {
			r.res.Lost++
		}
	}
	return errors.Join(errs...)
}

// deliveryRows returns the campaign's outbox rows in state st (recipient addresses).
func deliveryRows(ctx context.Context, dbURL string, c *campaign, st outboxmessage.State) ([]string, error) {
	d, err := db.Open(ctx, dbURL, db.Options{})
	if err != nil {
		return nil, err
	}
	defer d.Close()
	body, err := bodyOf(ctx, d, c)
	if err != nil {
		return nil, err
	}
	return d.Client.OutboxMessage.Query().
		Where(outboxmessage.BodyID(body), outboxmessage.StateEQ(st)).
		Select(outboxmessage.FieldRecipient).Strings(viewer.NewSystemContext(ctx))
}

// inFlightAfterKill counts the campaign's messages that were in flight when the process
// died: handed to the relay (the relay has them, now that its transactions settled) but
// not recorded sent (their rows are still sending). A restart sends these again; nothing
// else may be sent twice.
func inFlightAfterKill(ctx context.Context, r *run, dbURL string, c *campaign, t *tally) (int, error) {
	sending, err := deliveryRows(ctx, dbURL, c, outboxmessage.StateSending)
	if err != nil {
		return 0, err
	}
	t.update(r)
	n := 0
	for _, a := range sending {
		if t.per[strings.ToLower(a)] > 0 {
			n++
		}
	}
	return n, nil
}

// signIn requests a sign-in link for addr through p and returns how long it took to reach
// the relay.
func (r *run) signIn(ctx context.Context, p *proc, addr string) (time.Duration, error) {
	start := time.Now()
	if err := p.requestLink(addr); err != nil {
		return 0, err
	}
	seen := r.smtp.Count()
	found := false
	_, err := waitFor(ctx, time.Minute, func() bool {
		for _, m := range r.smtp.MessagesSince(seen) {
			seen++
			for _, to := range m.To {
				found = found || strings.EqualFold(to, addr)
			}
		}
		return found
	})
	if err != nil {
		return 0, fmt.Errorf("sign-in link to %s: %w", addr, err)
	}
	d := time.Since(start)
	fmt.Fprintf(r.cfg.Log, "faults: %s: sign-in link to %s reached the relay after %.2f s\n", r.res.Name, addr, d.Seconds())
	r.res.Stall, r.res.StallLimit = max(r.res.Stall, d), SignInDuringCampaign
	return d, nil
}

// twoStaff mints the campaign's author and its approver.
func (r *run) twoStaff(ctx context.Context, dbURL string) (author, approver staff, err error) {
	if author, err = r.mintStaff(ctx, dbURL, "editor@coalition.example", "Newsletter Editor"); err != nil {
		return
	}
	approver, err = r.mintStaff(ctx, dbURL, "approver@coalition.example", "Second Reader")
	return
}

// campaignKill: a 10,000-recipient campaign on SQLite, the service killed with SIGKILL in
// the middle of sending and started again; sign-in links requested meanwhile must not
// wait behind the campaign.
func campaignKill(ctx context.Context, r *run) error {
	dbURL := "sqlite:" + filepath.Join(r.dir, "coalition.db")
	// A relay that takes 2 ms per message: messages are in flight when the kill strikes.
	r.smtp.SetDelay(2 * time.Millisecond)
	a, err := r.serve(ctx, "serve-1", dbURL)
	if err != nil {
		return err
	}
	author, approver, err := r.twoStaff(ctx, dbURL)
	if err != nil {
		return err
	}
	c, err := r.prepareCampaign(ctx, a, dbURL, author, approver, CampaignRecipients)
	if err != nil {
		return err
	}
	t := newTally(c.subject)
	if err := c.step(a, author, "sendCampaignNow"); err != nil {
		return err
	}
	if err := t.waitDistinct(ctx, r, 500, time.Minute); err != nil {
		return err
	}
	if _, err := r.signIn(ctx, a, "first.link@hospital.example"); err != nil {
		return err
	}
	if err := t.waitDistinct(ctx, r, 2000, time.Minute); err != nil {
		return err
	}
	if _, err := r.signIn(ctx, a, "second.link@hospital.example"); err != nil {
		return err
	}
	if n := t.distinct(r); n >= CampaignRecipients-1000 {
		return fmt.Errorf("%d of %d recipients reached before the kill: too late to test a crash", n, CampaignRecipients)
	}
	a.kill()
	if _, err := r.settled(ctx); err != nil {
		return err
	}
	if r.res.InFlight, err = inFlightAfterKill(ctx, r, dbURL, c, t); err != nil {
		return err
	}
	atKill := t.distinct(r)
	fmt.Fprintf(r.cfg.Log, "faults: %s: killed after %d recipients, %d messages in flight\n", r.res.Name, atKill, r.res.InFlight)
	b, err := r.serve(ctx, "serve-2", dbURL)
	if err != nil {
		return err
	}
	// The campaign goes on by itself; a sign-in link meanwhile still leaves at once.
	if err := t.waitDistinct(ctx, r, atKill+200, time.Minute); err != nil {
		return fmt.Errorf("campaign after the restart: %w", err)
	}
	if _, err := r.signIn(ctx, b, "third.link@hospital.example"); err != nil {
		return err
	}
	return r.campaignSent(ctx, b, c, t, nil, 3*time.Minute)
}

// campaignSent waits until the campaign is SENT and checks it: every delivery recorded
// (sent, or failed for the addresses in failed), every recipient reached or failed, the
// duplicates no more than the messages in flight at a kill.
func (r *run) campaignSent(ctx context.Context, p *proc, c *campaign, t *tally, failed map[string]bool, limit time.Duration) error {
	st, err := c.waitStatus(ctx, p, "SENT", limit)
	if err != nil {
		t.update(r)
		_ = t.finish(r, c, failed)
		return err
	}
	// SENT must not come early: by now the relay has every message.
	ferr := t.finish(r, c, failed)
	fmt.Fprintf(r.cfg.Log, "faults: %s: campaign %v\n", r.res.Name, st)
	pr := st.Progress
	var errs []error
	if ferr != nil {
		errs = append(errs, ferr)
	}
	if pr.Total != len(c.recipients) || pr.Sent != len(c.recipients)-len(failed) || pr.Failed != len(failed) || pr.Remaining != 0 {
		errs = append(errs, fmt.Errorf("campaign SENT with deliveries %v, want %d sent and %d failed", st, len(c.recipients)-len(failed), len(failed)))
	}
	if r.res.Lost > 0 {
		errs = append(errs, fmt.Errorf("campaign SENT but %d recipients neither reached nor failed", r.res.Lost))
	}
	if r.res.Duplicated > r.res.InFlight {
		errs = append(errs, fmt.Errorf("%d recipients got the campaign twice, more than the %d messages in flight at the fault", r.res.Duplicated, r.res.InFlight))
	}
	return errors.Join(errs...)
}

// campaignRelay: the relay answers 4xx for a while (every delivery meets it, is retried,
// then delivered) and 5xx for chosen recipients (those deliveries fail and the addresses
// are suppressed; the rest is delivered).
func campaignRelay(ctx context.Context, r *run) error {
	dbURL := "sqlite:" + filepath.Join(r.dir, "coalition.db")
	p, err := r.serve(ctx, "serve", dbURL)
	if err != nil {
		return err
	}
	author, approver, err := r.twoStaff(ctx, dbURL)
	if err != nil {
		return err
	}
	const n, bounced = 500, 25
	c, err := r.prepareCampaign(ctx, p, dbURL, author, approver, n)
	if err != nil {
		return err
	}
	failed := map[string]bool{}
	for i := 0; i < n && len(failed) < bounced; i += n / bounced {
		failed[c.recipients[i]] = true
	}
	for a := range failed {
		r.smtp.RejectRecipients(550, a)
	}
	r.smtp.Reject(451, -1)
	t := newTally(c.subject)
	if err := c.step(p, author, "sendCampaignNow"); err != nil {
		return err
	}
	// The outage lasts until every delivery but the refused ones met it.
	if _, err := waitFor(ctx, time.Minute, func() bool {
		n, err := retried(ctx, dbURL, c)
		return err == nil && n >= len(c.recipients)-len(failed)
	}); err != nil {
		return fmt.Errorf("deliveries meeting the 4xx: %w", err)
	}
	r.smtp.ClearRejects()
	back := time.Now()
	if err := t.waitDistinct(ctx, r, 1, time.Minute); err != nil {
		return fmt.Errorf("after the 4xx: %w", err)
	}
	r.res.Stall, r.res.StallLimit = time.Since(back), StallAfterRelay
	if err := r.campaignSent(ctx, p, c, t, failed, 2*time.Minute); err != nil {
		return err
	}
	// The refused addresses are suppressed for newsletters, as hard bounces.
	var sup struct {
		Suppressions struct {
			TotalCount int `json:"totalCount"`
			Edges      []struct {
				Node struct{ Email string } `json:"node"`
			} `json:"edges"`
		} `json:"suppressions"`
	}
	err = p.call(author, `query { suppressions(first: 100, filter: {reason: HARD_BOUNCE}) { totalCount edges { node { email } } } }`, nil, &sup)
	if err != nil {
		return err
	}
	got := map[string]bool{}
	for _, e := range sup.Suppressions.Edges {
		got[e.Node.Email] = true
	}
	for a := range failed {
		if !got[a] {
			return fmt.Errorf("%s refused with 550 but not suppressed (suppressions: %d)", a, sup.Suppressions.TotalCount)
		}
	}
	if sup.Suppressions.TotalCount != len(failed) {
		return fmt.Errorf("%d addresses suppressed as hard bounces, want the %d refused", sup.Suppressions.TotalCount, len(failed))
	}
	return nil
}

// retried counts the campaign's deliveries that met a temporary failure: queued again
// for a retry after an attempt.
func retried(ctx context.Context, dbURL string, c *campaign) (int, error) {
	d, err := db.Open(ctx, dbURL, db.Options{})
	if err != nil {
		return 0, err
	}
	defer d.Close()
	body, err := bodyOf(ctx, d, c)
	if err != nil {
		return 0, err
	}
	return d.Client.OutboxMessage.Query().
		Where(outboxmessage.BodyID(body), outboxmessage.AttemptsGT(0),
			outboxmessage.StateIn(outboxmessage.StateQueued, outboxmessage.StateSent)).
		Count(viewer.NewSystemContext(ctx))
}

// campaignPause: pause in the middle of sending, SIGKILL at once, restart: nothing more is
// sent while paused (beyond what the relay already had in flight); resume: every
// recipient reached, duplicates no more than the messages in flight at the kill.
func campaignPause(ctx context.Context, r *run) error {
	dbURL := "sqlite:" + filepath.Join(r.dir, "coalition.db")
	r.smtp.SetDelay(2 * time.Millisecond)
	a, err := r.serve(ctx, "serve-1", dbURL)
	if err != nil {
		return err
	}
	author, approver, err := r.twoStaff(ctx, dbURL)
	if err != nil {
		return err
	}
	const n = 2000
	c, err := r.prepareCampaign(ctx, a, dbURL, author, approver, n)
	if err != nil {
		return err
	}
	t := newTally(c.subject)
	if err := c.step(a, author, "sendCampaignNow"); err != nil {
		return err
	}
	if err := t.waitDistinct(ctx, r, 300, time.Minute); err != nil {
		return err
	}
	if err := c.step(a, approver, "pauseCampaign"); err != nil {
		return err
	}
	a.kill()
	if _, err := r.settled(ctx); err != nil {
		return err
	}
	if r.res.InFlight, err = inFlightAfterKill(ctx, r, dbURL, c, t); err != nil {
		return err
	}
	atKill := t.distinct(r)
	if atKill >= n {
		return fmt.Errorf("all %d recipients reached before the pause: too late to test it", n)
	}
	fmt.Fprintf(r.cfg.Log, "faults: %s: paused and killed after %d recipients, %d messages in flight\n", r.res.Name, atKill, r.res.InFlight)
	b, err := r.serve(ctx, "serve-2", dbURL)
	if err != nil {
		return err
	}
	// The restarted service takes over what the dead one had claimed (once its lease ran
	// out) and sends mail (a sign-in link): the paused campaign must not move meanwhile.
	if _, err := waitFor(ctx, time.Minute, func() bool {
		rows, err := deliveryRows(ctx, dbURL, c, outboxmessage.StateSending)
		return err == nil && len(rows) == 0
	}); err != nil {
		return fmt.Errorf("deliveries claimed by the dead process taken over: %w", err)
	}
	if _, err := r.signIn(ctx, b, "while.paused@hospital.example"); err != nil {
		return err
	}
	st, err := c.state(b)
	if err != nil {
		return err
	}
	if got := t.distinct(r); got != atKill || st.Status != "PAUSED" || st.Progress.Sent+st.Progress.Paused != n {
		return fmt.Errorf("while paused after the restart: %d recipients reached (%d at the kill), campaign %v", got, atKill, st)
	}
	if err := c.step(b, author, "resumeCampaign"); err != nil {
		return err
	}
	return r.campaignSent(ctx, b, c, t, nil, 2*time.Minute)
}

// campaignPostgresTwo: two `serve` processes on one PostgreSQL database send one campaign:
// started through one, paused through it mid-send, resumed through the other (whose
// memory knows nothing of the pause, while the first one's still does): nothing is sent
// while paused, and each recipient gets it exactly once.
func campaignPostgresTwo(ctx context.Context, r *run) error {
	dbURL, drop, err := scratchDatabase(ctx, r.cfg.PostgresURL, "coalition_faults_campaign_"+strconv.Itoa(os.Getpid()))
	if err != nil {
		return err
	}
	defer drop()
	r.smtp.SetDelay(2 * time.Millisecond)
	a, err := r.serve(ctx, "serve-a", dbURL)
	if err != nil {
		return err
	}
	b, err := r.serve(ctx, "serve-b", dbURL)
	if err != nil {
		return err
	}
	author, approver, err := r.twoStaff(ctx, dbURL)
	if err != nil {
		return err
	}
	const n = 3000
	c, err := r.prepareCampaign(ctx, a, dbURL, author, approver, n)
	if err != nil {
		return err
	}
	t := newTally(c.subject)
	if err := c.step(a, author, "sendCampaignNow"); err != nil {
		return err
	}
	if err := t.waitDistinct(ctx, r, 300, time.Minute); err != nil {
		return err
	}
	if _, err := r.signIn(ctx, b, "other.process@hospital.example"); err != nil {
		return err
	}
	if err := c.step(a, approver, "pauseCampaign"); err != nil {
		return err
	}
	// Deliveries either process had claimed finish (sent or paused) and the relay's
	// transactions end; from then on nothing may move until the resume.
	if _, err := waitFor(ctx, time.Minute, func() bool {
		rows, err := deliveryRows(ctx, dbURL, c, outboxmessage.StateSending)
		return err == nil && len(rows) == 0 && r.smtp.InFlight() == 0
	}); err != nil {
		return fmt.Errorf("pause settling: %w", err)
	}
	atPause := t.distinct(r)
	if atPause >= n {
		return fmt.Errorf("all %d recipients reached before the pause: too late to test it", n)
	}
	for _, p := range []*proc{a, b} {
		if _, err := r.signIn(ctx, p, "while.paused."+p.name+"@hospital.example"); err != nil {
			return err
		}
	}
	st, err := c.state(b)
	if err != nil {
		return err
	}
	if got := t.distinct(r); got != atPause || st.Status != "PAUSED" || st.Progress.Sent+st.Progress.Paused != n {
		return fmt.Errorf("while paused: %d recipients reached (%d when the pause settled), campaign %v", got, atPause, st)
	}
	fmt.Fprintf(r.cfg.Log, "faults: %s: paused through %s after %d recipients; resuming through %s\n", r.res.Name, a.name, atPause, b.name)
	if err := c.step(b, author, "resumeCampaign"); err != nil {
		return err
	}
	return r.campaignSent(ctx, a, c, t, nil, 2*time.Minute)
}

// bodyOf returns the shared body of the campaign's deliveries (campaign.mail_body_id),
// which identifies its outbox rows.
func bodyOf(ctx context.Context, d *db.DB, c *campaign) (pulid.ID, error) {
	cm, err := d.Client.Campaign.Get(viewer.NewSystemContext(ctx), pulid.ID(c.id))
	if err != nil {
		return "", fmt.Errorf("campaign %s: %w", c.id, err)
	}
	if cm.MailBodyID == nil {
		return "", fmt.Errorf("campaign %s has not started sending", c.id)
	}
	return *cm.MailBodyID, nil
}
