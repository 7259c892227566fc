package graph_test

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

const (
	requestExportM = `mutation($p: ID) { requestDataExport(input: {personId: $p}) { dataExport { id status } userErrors { code message field } } }`
	myExportsQ     = `{ myDataExports(first: 10) { edges { node { id status } } } }`
	exportsOfQ     = `query($p: ID!) { dataExports(personId: $p, first: 10) { edges { node { id status } } } }`
)

// TestDataExportThroughTheAPI is the data export from both sides, over real HTTP and SMTP:
// who may ask for whose export (anonymous, the person, another trainee, a host, staff),
// who reads it (myDataExports, dataExports, node(id:)), a double request, the emailed link,
// the download page, the single download and the refusals after it.
func TestDataExportThroughTheAPI(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		_, staff := e.NewUser("office@coalition.test", "Office", viewer.RoleStaff)
		jana, janaC := e.NewUser("jana.novakova@fnbrno.example.cz", "Jana Nováková")
		_, petrC := e.NewUser("petr.dvorak@fnbrno.example.cz", "Petr Dvořák")
		_, hostC := e.NewUser("claire.martin@hopital.example.fr", "Claire Martin", viewer.RoleHostCoordinator)
		janaID := string(jana.ID)

		code := func(r *testkit.Response) string {
			if c := r.Code(); c != "" {
				return c
			}
			var out struct {
				RequestDataExport struct {
					DataExport *struct{ ID, Status string }
					UserErrors []struct{ Code string }
				}
			}
			if err := jsonUnmarshal(r.Data, &out); err != nil {
				t.Fatal(err)
			}
			if ue := out.RequestDataExport.UserErrors; len(ue) > 0 {
				return ue[0].Code
			}
			return "ok " + out.RequestDataExport.DataExport.ID
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
			if got := code(c.client.Do(requestExportM, map[string]any{"p": janaID})); got != c.want {
				t.Errorf("%s asks for Jana's export: %s, want %s", c.name, got, c.want)
			}
		}
		first := code(janaC.Do(requestExportM, map[string]any{"p": nil}))
		second := code(staff.Do(requestExportM, map[string]any{"p": janaID}))
		if !strings.HasPrefix(first, "ok dex_") || second != first {
			t.Fatalf("Jana's request %q, staff's for her %q: want the same export twice", first, second)
		}
		exportID := strings.TrimPrefix(first, "ok ")
		if got := code(staff.Do(requestExportM, map[string]any{"p": "usr_01JNOSUCHPERSON0000000000"})); got != "NOT_FOUND" {
			t.Errorf("export for an unknown person: %s, want NOT_FOUND", got)
		}

		// Reads, from both sides.
		if !listHas(t, janaC, myExportsQ, nil, exportID) || listHas(t, petrC, myExportsQ, nil, exportID) {
			t.Errorf("myDataExports: Jana must see her export, Petr must not")
		}
		if !listHas(t, staff, exportsOfQ, map[string]any{"p": janaID}, exportID) {
			t.Errorf("staff do not see Jana's exports")
		}
		for name, c := range map[string]*testkit.Client{"other trainee": petrC, "host": hostC, "anonymous": e.Anonymous()} {
			r := c.Do(exportsOfQ, map[string]any{"p": janaID})
			if want := map[bool]string{true: "UNAUTHENTICATED", false: "FORBIDDEN"}[name == "anonymous"]; r.Code() != want {
				t.Errorf("%s reads Jana's exports: %q, want %s", name, r.Code(), want)
			}
			if seesNode(t, c, exportID) {
				t.Errorf("%s reads Jana's export by node(id:)", name)
			}
		}
		if !seesNode(t, janaC, exportID) || !seesNode(t, staff, exportID) {
			t.Errorf("Jana and staff must read the export by node(id:)")
		}

		// The job builds it and emails the link.
		if built, _, err := e.App.Privacy.RunExports(e.System()); err != nil || built != 1 {
			t.Fatalf("RunExports: %d, %v", built, err)
		}
		e.DrainOutbox()
		var link string
		for _, m := range e.SMTP.WaitForMessages(t, 1, 10*time.Second) {
			if m.To[0] == jana.Email && strings.Contains(m.Subject, "data") {
				link = regexp.MustCompile(`https?://\S+/exports/download\?token=\S+`).FindString(m.TextBody())
			}
		}
		if link == "" {
			t.Fatal("no download link emailed to Jana")
		}
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		token := u.Query().Get("token")
		page := e.Server.URL + "/exports/download"

		// Opening the link uses nothing up.
		for range 2 {
			resp, err := http.Get(page + "?token=" + url.QueryEscape(token))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `name="token"`) {
				t.Fatalf("GET download page: %d %s", resp.StatusCode, body)
			}
		}
		post := func(origin string) (int, []byte) {
			req, _ := http.NewRequest(http.MethodPost, page, strings.NewReader(url.Values{"token": {token}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, b
		}
		if st, _ := post("https://evil.example"); st != http.StatusForbidden {
			t.Errorf("cross-site POST: %d, want 403", st)
		}
		st, zipped := post("")
		if st != http.StatusOK {
			t.Fatalf("download: %d %s", st, zipped)
		}
		zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
		if err != nil {
			t.Fatalf("download is not a ZIP: %v", err)
		}
		names := map[string]bool{}
		for _, f := range zr.File {
			names[f.Name] = true
		}
		for _, want := range []string{"manifest.json", "account.json", "programme.json", "newsletter.json", "audit.json"} {
			if !names[want] {
				t.Errorf("ZIP lacks %s (has %v)", want, names)
			}
		}
		if st, body := post(""); st != http.StatusGone || !strings.Contains(string(body), "already been used") {
			t.Errorf("second download: %d %s, want 410 saying it was used", st, body)
		}
		if !listHas(t, janaC, myExportsQ, nil, "DOWNLOADED") {
			t.Errorf("Jana's export is not DOWNLOADED")
		}
	})
}
