package graph_test

import (
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/ent/auditevent"
	"github.com/gocart-coalition/coalition/ent/consentevidence"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

const withdrawForM = `mutation($in: WithdrawConsentForInput!) { withdrawConsentFor(input: $in) { withdrawn userErrors { field code message } } }`

// TestStaffWithdrawConsentFor: a coordinator asks by post to stop being shown as their
// centre's contact. Only staff withdraw on someone's behalf (anonymous, the trainees, the
// coordinator themself and another one are refused and change nothing); bad input (an
// unknown person, no reason, a reason too long, the newsletter purpose) is a user error
// and changes nothing; staff's withdrawal has the effect of the person's own (hidden
// from others, WITHDRAWN in their consents) and is in the audit trail with the reason; a
// second one finds nothing standing.
func TestStaffWithdrawConsentFor(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		d := newDirectory(t, e)
		a := d.a
		publish(t, a.staff, "HOST_CONTACT", "Show my name as a contact of my centre.", false)
		if p := consentDo(t, a.host, giveConsentM, map[string]any{"p": "HOST_CONTACT"}); p.Record == nil {
			t.Fatalf("give: %+v", p.UserErrors)
		}
		standing := func() int {
			return e.DB.Client.ConsentEvidence.Query().Where(consentevidence.UserID(pulid.ID(a.hostID)), consentevidence.WithdrawnAtIsNil()).CountX(e.System())
		}
		const reason = "Letter from Dr Martin of 3 March 2027 asking to be removed as a contact."
		in := func(user, purpose, reason string) map[string]any {
			return map[string]any{"in": map[string]any{"userId": user, "purpose": purpose, "reason": reason}}
		}
		for who, c := range map[string]*testkit.Client{"anonymous": a.anon, "trainee": a.trainee, "other trainee": a.other, "the coordinator": a.host, "another coordinator": d.coordB} {
			want := map[bool]string{true: "UNAUTHENTICATED", false: "FORBIDDEN"}[who == "anonymous"]
			if r := c.Do(withdrawForM, in(a.hostID, "HOST_CONTACT", reason)); r.Code() != want {
				t.Errorf("%s withdraws for Claire: %s, want %s", who, r.Body, want)
			}
		}
		for name, c := range map[string]struct {
			user, purpose, reason, want string
		}{
			"unknown person":   {"usr_01JNOSUCHPERSON0000000000", "HOST_CONTACT", reason, "input.userId:NOT_FOUND"},
			"no reason":        {a.hostID, "HOST_CONTACT", "  ", "input.reason:REQUIRED"},
			"reason too long":  {a.hostID, "HOST_CONTACT", strings.Repeat("x", 1001), "input.reason:TOO_LONG"},
			"newsletter":       {a.hostID, "NEWSLETTER", reason, "input.purpose:INVALID"},
			"nothing standing": {a.traineeID, "HOST_CONTACT", reason, "input.purpose:INVALID_STATE"},
		} {
			if p := consentDo(t, a.staff, withdrawForM, in(c.user, c.purpose, c.reason)); errCodes(p) != c.want || p.Withdrawn != 0 {
				t.Errorf("%s: %q (withdrawn %d), want %q", name, errCodes(p), p.Withdrawn, c.want)
			}
		}
		if n := standing(); n != 1 {
			t.Fatalf("%d standing consents after refused withdrawals, want 1", n)
		}
		if got := coordinatorNames(t, a.trainee, d.centreLyon); len(got) != 1 {
			t.Fatalf("the trainee sees %v before the withdrawal, want Claire", got)
		}

		if p := consentDo(t, a.staff, withdrawForM, in(a.hostID, "HOST_CONTACT", reason)); p.Withdrawn != 1 || len(p.UserErrors) > 0 {
			t.Fatalf("staff withdraw: %+v", p)
		}
		if n := standing(); n != 0 {
			t.Errorf("%d standing consents after the withdrawal", n)
		}
		if got := coordinatorNames(t, a.trainee, d.centreLyon); len(got) != 0 {
			t.Errorf("the trainee still sees %v", got)
		}
		if m := myConsents(t, a.host); m["HOST_CONTACT"].Status != "WITHDRAWN" {
			t.Errorf("Claire's consent: %+v", m["HOST_CONTACT"])
		}
		evs := e.DB.Client.AuditEvent.Query().Where(auditevent.Action("consent.withdraw_for"), auditevent.ObjectID(a.hostID)).AllX(e.System())
		if len(evs) != 1 || evs[0].ActorID != a.staffID || evs[0].Details["reason"] != reason || evs[0].Details["purpose"] != "HOST_CONTACT" {
			t.Errorf("audit events: %+v", evs)
		}
		if p := consentDo(t, a.staff, withdrawForM, in(a.hostID, "HOST_CONTACT", reason)); errCodes(p) != "input.purpose:INVALID_STATE" {
			t.Errorf("withdraw again: %q", errCodes(p))
		}
	})
}
