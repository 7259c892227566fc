package graph_test

import (
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

const (
	requestErasureM = `mutation($p: ID) { requestErasure(input: {personId: $p}) { erasureRequest { id status selfService } userErrors { code message field } } }`
	refuseErasureM  = `mutation($id: ID!, $r: String) { refuseErasure(input: {id: $id, reason: $r}) { erasureRequest { id status reason } userErrors { code message field } } }`
	approveErasureM = `mutation($id: ID!) { approveErasure(input: {id: $id}) { erasureRequest { id status } userErrors { code message field } } }`
	myErasuresQ     = `{ myErasureRequests(first: 10) { edges { node { id status } } } }`
	erasuresQ       = `{ erasureRequests(status: QUEUED, first: 10) { edges { node { id status } } } }`
)

// TestErasureThroughTheAPI is the erasure request from both sides over HTTP: who may ask
// for whose erasure, who decides, who reads a request (lists and node(id:)), a double
// request, and bad input.
func TestErasureThroughTheAPI(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		_, staff := e.NewUser("office@coalition.test", "Office", viewer.RoleStaff)
		jana, janaC := e.NewUser("jana.novakova@fnbrno.example.cz", "Jana Nováková")
		_, petrC := e.NewUser("petr.dvorak@fnbrno.example.cz", "Petr Dvořák")
		_, hostC := e.NewUser("claire.martin@hopital.example.fr", "Claire Martin", viewer.RoleHostCoordinator)
		janaID := string(jana.ID)

		result := func(r *testkit.Response, field string) string {
			if c := r.Code(); c != "" {
				return c
			}
			var out map[string]struct {
				ErasureRequest *struct{ ID, Status string }
				UserErrors     []struct{ Code string }
			}
			if err := jsonUnmarshal(r.Data, &out); err != nil {
				t.Fatal(err)
			}
			p := out[field]
			if len(p.UserErrors) > 0 {
				return p.UserErrors[0].Code
			}
			return "ok " + p.ErasureRequest.ID + " " + p.ErasureRequest.Status
		}
		for _, c := range []struct {
			name   string
			client *testkit.Client
			want   string
		}{
			{"anonymous", e.Anonymous(), "UNAUTHENTICATED"},
			{"other trainee", petrC, "FORBIDDEN"},
			{"host", hostC, "FORBIDDEN"},
		} {
			if got := result(c.client.Do(requestErasureM, map[string]any{"p": janaID}), "requestErasure"); got != c.want {
				t.Errorf("%s asks for Jana's erasure: %s, want %s", c.name, got, c.want)
			}
		}
		first := result(janaC.Do(requestErasureM, map[string]any{"p": nil}), "requestErasure")
		second := result(staff.Do(requestErasureM, map[string]any{"p": janaID}), "requestErasure")
		if !strings.HasPrefix(first, "ok era_") || !strings.HasSuffix(first, " QUEUED") || second != first {
			t.Fatalf("Jana's request %q, staff's for her %q: want the same queued request twice", first, second)
		}
		id := strings.Fields(first)[1]
		if got := result(staff.Do(requestErasureM, map[string]any{"p": "usr_01JNOSUCHPERSON0000000000"}), "requestErasure"); got != "NOT_FOUND" {
			t.Errorf("erasure of an unknown person: %s, want NOT_FOUND", got)
		}

		// Deciding: staff only; a queued request has nothing to decide; a refusal needs a reason.
		for name, c := range map[string]*testkit.Client{"anonymous": e.Anonymous(), "Jana": janaC, "other trainee": petrC, "host": hostC} {
			want := map[bool]string{true: "UNAUTHENTICATED", false: "FORBIDDEN"}[name == "anonymous"]
			if got := result(c.Do(approveErasureM, map[string]any{"id": id}), "approveErasure"); got != want {
				t.Errorf("%s approves: %s, want %s", name, got, want)
			}
			if got := result(c.Do(refuseErasureM, map[string]any{"id": id, "r": "no"}), "refuseErasure"); got != want {
				t.Errorf("%s refuses: %s, want %s", name, got, want)
			}
		}
		if got := result(staff.Do(refuseErasureM, map[string]any{"id": id, "r": ""}), "refuseErasure"); got != "REQUIRED" {
			t.Errorf("refusal without a reason: %s, want REQUIRED", got)
		}
		if got := result(staff.Do(approveErasureM, map[string]any{"id": id}), "approveErasure"); got != "INVALID_STATE" {
			t.Errorf("approving a queued request: %s, want INVALID_STATE", got)
		}

		// Reads, from both sides.
		if !listHas(t, janaC, myErasuresQ, nil, id) || listHas(t, petrC, myErasuresQ, nil, id) {
			t.Errorf("myErasureRequests: Jana must see her request, Petr must not")
		}
		if !listHas(t, staff, erasuresQ, nil, id) {
			t.Errorf("staff do not see the queued request")
		}
		for name, c := range map[string]*testkit.Client{"other trainee": petrC, "host": hostC, "anonymous": e.Anonymous(), "Jana": janaC} {
			r := c.Do(erasuresQ, nil)
			if want := map[bool]string{true: "UNAUTHENTICATED", false: "FORBIDDEN"}[name == "anonymous"]; r.Code() != want {
				t.Errorf("%s lists every request: %q, want %s", name, r.Code(), want)
			}
			if name != "Jana" && seesNode(t, c, id) {
				t.Errorf("%s reads Jana's request by node(id:)", name)
			}
		}
		if r := e.Anonymous().Do(myErasuresQ, nil); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("anonymous myErasureRequests: %q", r.Code())
		}
		if !seesNode(t, janaC, id) || !seesNode(t, staff, id) {
			t.Errorf("Jana and staff must read the request by node(id:)")
		}
	})
}
