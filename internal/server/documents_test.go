package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/document"
	"github.com/gocart-coalition/coalition/ent/refereerequest"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/config"
	"github.com/gocart-coalition/coalition/internal/secret"
	"github.com/gocart-coalition/coalition/internal/server"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// These tests build their fixtures (a call, a draft application, a referee request)
// directly with the ent client as the system viewer, so they depend only on the
// programme service's functions behind the routes (OpenDocument, DescribeRefereeLink,
// ReceiveRefereeLetter) and on the uploadDocument mutation for the trainee's own files.

const uploadDocM = `mutation($in: UploadDocumentInput!) { uploadDocument(input: $in) {
	document { id kind filename size downloadUrl } userErrors { field code message } } }`

// docFixture is a trainee's draft application to an open call, with a referee asked.
type docFixture struct {
	trainee      *ent.User
	traineeC     *testkit.Client
	otherC       *testkit.Client
	staffC       *testkit.Client
	app          *ent.Application
	referee      *ent.RefereeRequest
	refereeToken string
}

func newDocFixture(t *testing.T, e *testkit.Env, waived bool) docFixture {
	t.Helper()
	ctx := e.System()
	now := e.Clock.Now()
	var f docFixture
	f.trainee, f.traineeC = e.NewUser("marek.dvorak@example.cz", "Marek Dvořák", viewer.RoleTrainee)
	_, f.otherC = e.NewUser("ioana.popescu@example.ro", "Ioana Popescu", viewer.RoleTrainee)
	_, f.staffC = e.NewUser("office@coalition.test", "Coalition Office", viewer.RoleStaff)
	c, err := e.DB.Client.Call.Create().
		SetTitle("Observership pilot, Q1 2027").SetStatus(call.StatusOPEN).
		SetOpensAt(now.Add(-24 * time.Hour)).SetClosesAt(now.Add(30 * 24 * time.Hour)).SetTimeZone("Europe/Brussels").
		SetPlacementStart("2027-03-01").SetPlacementEnd("2027-06-30").SetPlacementWeeks([]int{1, 2}).
		SetEligibleCountries([]string{"CZ"}).SetRequiredDocuments([]vocab.DocumentKind{vocab.DocumentCV}).
		SetReviewCriteria([]vocab.Criterion{}).Save(ctx)
	if err != nil {
		t.Fatalf("call: %v", err)
	}
	f.app, err = e.DB.Client.Application.Create().SetCallID(c.ID).SetTraineeID(f.trainee.ID).Save(ctx)
	if err != nil {
		t.Fatalf("application: %v", err)
	}
	f.refereeToken = secret.New("rl_")
	f.referee, err = e.DB.Client.RefereeRequest.Create().SetApplicationID(f.app.ID).
		SetRefereeName("Prof. Eva Horáková").SetRefereeEmail("eva.horakova@fnbrno.example.cz").SetWaived(waived).
		SetTokenHash(secret.Hash(f.refereeToken)).SetExpiresAt(now.Add(30 * 24 * time.Hour)).Save(ctx)
	if err != nil {
		t.Fatalf("referee request: %v", err)
	}
	return f
}

type uploadedDoc struct {
	ID, Kind, Filename, DownloadURL string
	Size                            int
}

// uploadCV uploads a CV through the GraphQL multipart request and fails on any error.
func uploadCV(t *testing.T, c *testkit.Client, appID, name string, content []byte) uploadedDoc {
	t.Helper()
	r := c.Upload(uploadDocM, map[string]any{"in": map[string]any{"applicationId": appID, "kind": "CV", "file": nil}},
		map[string]testkit.File{"variables.in.file": {Name: name, Content: content}})
	var out struct {
		UploadDocument struct {
			Document   *uploadedDoc
			UserErrors []struct{ Code, Message string }
		}
	}
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("upload: HTTP %d %s", r.Status, r.Body)
	}
	if err := json.Unmarshal(r.Data, &out); err != nil || out.UploadDocument.Document == nil {
		t.Fatalf("upload: %v %s", err, r.Body)
	}
	return *out.UploadDocument.Document
}

// bigPDF is a PDF of exactly n bytes (n ≥ 64) that passes the document store's check.
func bigPDF(n int) []byte {
	head, tail := "%PDF-1.4\n%", "\n%%EOF\n"
	b := bytes.Repeat([]byte("a"), n)
	copy(b, head)
	copy(b[n-len(tail):], tail)
	for i := 1000; i < n-len(tail); i += 1000 {
		b[i] = '\n'
	}
	return b
}

func get(t *testing.T, rawURL, token string, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func TestDocumentDownload(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		f := newDocFixture(t, e, false)
		content := testkit.PDF("Marek's CV")
		cv := uploadCV(t, f.traineeC, string(f.app.ID), "Životopis Dvořák.pdf", content)
		if want := e.Server.URL + "/documents/" + cv.ID; cv.DownloadURL != want {
			t.Fatalf("downloadUrl = %q, want %q", cv.DownloadURL, want)
		}

		// The owner, and staff, get the exact bytes as an attachment.
		for who, token := range map[string]string{"owner": f.traineeC.Token, "staff": f.staffC.Token} {
			code, h, body := get(t, cv.DownloadURL, token, nil)
			if code != http.StatusOK || !bytes.Equal(body, content) {
				t.Fatalf("%s: HTTP %d, %d bytes (%q)", who, code, len(body), body)
			}
			for k, want := range map[string]string{
				"Content-Type":            "application/pdf",
				"X-Content-Type-Options":  "nosniff",
				"Cache-Control":           "private, no-store",
				"Content-Security-Policy": "sandbox",
				"Content-Length":          fmt.Sprint(len(content)),
				"Accept-Ranges":           "bytes",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s: %s = %q, want %q", who, k, got, want)
				}
			}
			cd := h.Get("Content-Disposition")
			disp, params, err := mime.ParseMediaType(cd) // prefers filename* (RFC 2231)
			if err != nil || disp != "attachment" || params["filename"] != "Životopis Dvořák.pdf" {
				t.Errorf("%s: Content-Disposition %q → %q %v %v", who, cd, disp, params, err)
			}
			if !strings.Contains(cd, `filename="_ivotopis Dvo__k.pdf"`) || !strings.Contains(cd, `filename*=UTF-8''%C5%BDivotopis%20Dvo%C5%99%C3%A1k.pdf`) {
				t.Errorf("%s: Content-Disposition %q lacks the ASCII fallback or the encoded name", who, cd)
			}
		}

		// Range requests.
		code, h, body := get(t, cv.DownloadURL, f.traineeC.Token, map[string]string{"Range": "bytes=0-7"})
		if code != http.StatusPartialContent || string(body) != "%PDF-1.4" || h.Get("Content-Range") != fmt.Sprintf("bytes 0-7/%d", len(content)) {
			t.Errorf("range: HTTP %d %q %q", code, body, h.Get("Content-Range"))
		}

		// Nobody else learns the document exists.
		for who, token := range map[string]string{"another trainee": f.otherC.Token, "anonymous": ""} {
			code, h, body := get(t, cv.DownloadURL, token, nil)
			if code != http.StatusNotFound || !strings.Contains(string(body), "NOT_FOUND") || h.Get("Content-Disposition") != "" || bytes.Contains(body, []byte("%PDF")) {
				t.Errorf("%s: HTTP %d %s", who, code, body)
			}
		}
		// A credential that does not work is refused, as on /graphql.
		code, h, body = get(t, cv.DownloadURL, "cs_not-a-session", nil)
		if code != http.StatusUnauthorized || !strings.Contains(string(body), "UNAUTHENTICATED") || h.Get("WWW-Authenticate") == "" {
			t.Errorf("bad token: HTTP %d %s", code, body)
		}
		// Ids that are not documents, or not ids.
		for _, id := range []string{"doc_01J0000000000000000000000", string(f.app.ID), "%FF%00", strings.Repeat("x", 300)} {
			if code, _, body := get(t, e.Server.URL+"/documents/"+id, f.staffC.Token, nil); code != http.StatusNotFound {
				t.Errorf("GET /documents/%s: HTTP %d %s", id, code, body)
			}
		}

		// A file missing from the store is an internal error: logged with the request id,
		// and the answer says nothing more.
		d, err := e.DB.Client.Document.Get(e.System(), pulid.ID(cv.ID))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(e.App.Config.DocumentsDir(), d.Sha256[:2], d.Sha256)); err != nil {
			t.Fatal(err)
		}
		code, h, body = get(t, cv.DownloadURL, f.traineeC.Token, nil)
		rid := h.Get(server.RequestIDHeader)
		if code != http.StatusInternalServerError || !strings.Contains(string(body), `"INTERNAL"`) || !strings.Contains(string(body), rid) ||
			strings.Contains(string(body), d.Sha256) || strings.Contains(string(body), "documents") {
			t.Errorf("missing file: HTTP %d %s", code, body)
		}
		if logs := e.Logs.String(); !strings.Contains(logs, "open document") || !strings.Contains(logs, "request_id="+rid) {
			t.Errorf("missing file not logged with request id %s:\n%s", rid, logs)
		}
	})
}

// TestDocumentUploadsOverMultipart sends uploads of the sizes that take different paths:
// in memory (small), spooled to a temporary file (over 1 MiB), too large declared and
// too large chunked.
func TestDocumentUploadsOverMultipart(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		f := newDocFixture(t, e, false)
		big := bigPDF(3 << 20)
		cv := uploadCV(t, f.traineeC, string(f.app.ID), "cv.pdf", big)
		if code, _, body := get(t, cv.DownloadURL, f.traineeC.Token, nil); code != http.StatusOK || !bytes.Equal(body, big) || cv.Size != len(big) {
			t.Fatalf("3 MiB CV: HTTP %d, %d bytes, size %d", code, len(body), cv.Size)
		}

		// Over the limit, declared: refused before anything is read.
		tooBig := bigPDF(server.DefaultMaxUploadBytes + 1)
		r := f.traineeC.Upload(uploadDocM, map[string]any{"in": map[string]any{"applicationId": string(f.app.ID), "kind": "CV", "file": nil}},
			map[string]testkit.File{"variables.in.file": {Name: "huge.pdf", Content: tooBig}})
		if r.Status != http.StatusRequestEntityTooLarge || r.Code() != "BAD_REQUEST" || r.Errors[0].Extensions["reason"] != "BODY_TOO_LARGE" {
			t.Errorf("declared too large: HTTP %d %s", r.Status, r.Body)
		}
		// Over the limit, chunked: refused when the reading passes it.
		body, ctype := multipartUpload(t, string(f.app.ID), tooBig)
		req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/graphql", struct{ io.Reader }{bytes.NewReader(body)})
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+f.traineeC.Token)
		code, _, resp := fetch(t, req)
		if code != http.StatusRequestEntityTooLarge || !strings.Contains(resp, "BODY_TOO_LARGE") {
			t.Errorf("chunked too large: HTTP %d %s", code, resp)
		}
		// Over the 10 MiB document limit but within the body limit: a user error.
		r = f.traineeC.Upload(uploadDocM, map[string]any{"in": map[string]any{"applicationId": string(f.app.ID), "kind": "CV", "file": nil}},
			map[string]testkit.File{"variables.in.file": {Name: "big.pdf", Content: bigPDF(10<<20 + 1)}})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "TOO_LONG") {
			t.Errorf("over the document limit: HTTP %d %s", r.Status, r.Body)
		}
		// Anonymous multipart requests are refused before gqlgen reads them.
		body, ctype = multipartUpload(t, string(f.app.ID), testkit.PDF("x"))
		req, _ = http.NewRequest(http.MethodPost, e.Server.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if code, _, resp := fetch(t, req); code != http.StatusUnauthorized || !strings.Contains(resp, "UNAUTHENTICATED") {
			t.Errorf("anonymous upload: HTTP %d %s", code, resp)
		}
		// JSON bodies keep the 1 MiB limit.
		r = f.traineeC.Post([]byte(`{"query":"{ __typename }","variables":{"pad":"` + strings.Repeat("a", 2<<20) + `"}}`))
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("2 MiB JSON body: HTTP %d", r.Status)
		}

		// Only the 3 MiB CV was stored.
		docs, err := e.DB.Client.Document.Query().Where(document.ApplicationID(f.app.ID)).All(e.System())
		if err != nil || len(docs) != 1 || docs[0].Size != int64(len(big)) {
			t.Errorf("documents: %v %v", docs, err)
		}
		if strings.Contains(e.Logs.String(), "panic") {
			t.Errorf("a panic was logged:\n%s", e.Logs)
		}
	})
}

// multipartUpload is the body of an uploadDocument request for a CV with content.
func multipartUpload(t *testing.T, appID string, content []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	ops, _ := json.Marshal(map[string]any{"query": uploadDocM, "variables": map[string]any{"in": map[string]any{"applicationId": appID, "kind": "CV", "file": nil}}})
	_ = w.WriteField("operations", string(ops))
	_ = w.WriteField("map", `{"0":["variables.in.file"]}`)
	part, err := w.CreateFormFile("0", "cv.pdf")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = part.Write(content)
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// refereeForm is a referee page form: parts in the order given, as (name, value) pairs;
// the part named "letter" is a file.
func refereeForm(t *testing.T, parts ...[2]string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		if p[0] == "letter" {
			fw, err := w.CreateFormFile("letter", "Reference Dvořák.pdf")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = fw.Write([]byte(p[1]))
			continue
		}
		_ = w.WriteField(p[0], p[1])
	}
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

func postReferee(t *testing.T, e *testkit.Env, parts ...[2]string) (int, http.Header, string) {
	t.Helper()
	body, ctype := refereeForm(t, parts...)
	req, err := http.NewRequest(http.MethodPost, e.Server.URL+"/referee", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	return fetch(t, req)
}

func getReferee(t *testing.T, e *testkit.Env, token string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.Server.URL+"/referee?token="+url.QueryEscape(token), nil)
	if err != nil {
		t.Fatal(err)
	}
	return fetch(t, req)
}

func refereeReceived(t *testing.T, e *testkit.Env, f docFixture) (bool, int) {
	t.Helper()
	r, err := e.DB.Client.RefereeRequest.Query().Where(refereerequest.ID(f.referee.ID)).Only(e.System())
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.DB.Client.Document.Query().Where(document.ApplicationID(f.app.ID), document.KindEQ(vocab.DocumentRefereeLetter)).Count(e.System())
	if err != nil {
		t.Fatal(err)
	}
	return r.ReceivedAt != nil, n
}

func TestRefereePage(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		f := newDocFixture(t, e, false)

		// GET (a mail scanner, the referee looking) shows the form and uses nothing up.
		for range 2 {
			code, h, body := getReferee(t, e, f.refereeToken)
			for _, want := range []string{"Reference for Marek Dvořák — Observership pilot, Q1 2027", "Dear Prof. Eva Horáková",
				`method="post"`, `enctype="multipart/form-data"`, `name="letter"`, `accept="application/pdf"`, `value="` + f.refereeToken + `"`} {
				if !strings.Contains(body, want) {
					t.Errorf("GET lacks %q:\n%s", want, body)
				}
			}
			if code != http.StatusOK || h.Get("Cache-Control") != "no-store" || h.Get("X-Frame-Options") != "DENY" ||
				!strings.Contains(h.Get("Content-Security-Policy"), "form-action 'self'") {
				t.Errorf("GET: HTTP %d, headers %v", code, h)
			}
		}
		if used, n := refereeReceived(t, e, f); used || n != 0 {
			t.Fatalf("after GET: received %v, %d letters", used, n)
		}

		// Not a PDF: refused, the form again, nothing stored.
		code, _, body := postReferee(t, e, [2]string{"token", f.refereeToken}, [2]string{"letter", "<html>not a pdf</html>"})
		if code != http.StatusBadRequest || !strings.Contains(body, "not a PDF") || !strings.Contains(body, `name="letter"`) {
			t.Errorf("non-PDF: HTTP %d\n%s", code, body)
		}
		if used, n := refereeReceived(t, e, f); used || n != 0 {
			t.Fatalf("after the non-PDF: received %v, %d letters", used, n)
		}
		// The file before the token: refused with a clear message, nothing stored.
		code, _, body = postReferee(t, e, [2]string{"letter", string(testkit.PDF("reference"))}, [2]string{"token", f.refereeToken})
		if code != http.StatusBadRequest || !strings.Contains(body, "before the link") {
			t.Errorf("file first: HTTP %d\n%s", code, body)
		}
		if used, n := refereeReceived(t, e, f); used || n != 0 {
			t.Fatalf("after the file-first form: received %v, %d letters", used, n)
		}

		// A PDF: stored, the link used up, the trainee told.
		e.DrainOutbox()
		seen := len(e.SMTP.Messages())
		letter := testkit.PDF("Marek is an excellent haematologist.")
		code, _, body = postReferee(t, e, [2]string{"token", f.refereeToken}, [2]string{"letter", string(letter)})
		if code != http.StatusOK || !strings.Contains(body, "Thank you — your letter for Marek Dvořák has been received.") || strings.Contains(body, f.refereeToken) {
			t.Fatalf("PDF: HTTP %d\n%s", code, body)
		}
		if used, n := refereeReceived(t, e, f); !used || n != 1 {
			t.Fatalf("after the PDF: received %v, %d letters", used, n)
		}
		e.DrainOutbox()
		if msgs := e.SMTP.Messages()[seen:]; len(msgs) != 1 || msgs[0].To[0] != "marek.dvorak@example.cz" {
			t.Errorf("emails after the letter: %+v", msgs)
		}
		// The trainee did not waive the right to read it: the download has the exact bytes.
		d, err := e.DB.Client.Document.Query().Where(document.ApplicationID(f.app.ID)).Only(e.System())
		if err != nil || d.Filename != "Reference Dvořák.pdf" {
			t.Fatalf("stored letter: %+v %v", d, err)
		}
		if code, _, got := get(t, e.Server.URL+"/documents/"+string(d.ID), f.traineeC.Token, nil); code != http.StatusOK || !bytes.Equal(got, letter) {
			t.Errorf("download of the letter: HTTP %d %q", code, got)
		}

		// Used: a second letter is refused, and the page says why.
		code, _, body = postReferee(t, e, [2]string{"token", f.refereeToken}, [2]string{"letter", string(testkit.PDF("second thoughts"))})
		if code != http.StatusConflict || !strings.Contains(body, "received already") || strings.Contains(body, `name="letter"`) {
			t.Errorf("second letter: HTTP %d\n%s", code, body)
		}
		code, _, body = getReferee(t, e, f.refereeToken)
		if code != http.StatusGone || !strings.Contains(body, "received already") || strings.Contains(body, "<form") {
			t.Errorf("GET after the letter: HTTP %d\n%s", code, body)
		}
		if _, n := refereeReceived(t, e, f); n != 1 {
			t.Errorf("%d letters, want 1", n)
		}
	})
}

func TestRefereePageRefusals(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		f := newDocFixture(t, e, true)

		// No token, an unknown token.
		if code, _, body := getReferee(t, e, ""); code != http.StatusBadRequest || strings.Contains(body, "<form") {
			t.Errorf("no token: HTTP %d\n%s", code, body)
		}
		unknown := secret.New("rl_")
		if code, _, body := getReferee(t, e, unknown); code != http.StatusNotFound || !strings.Contains(body, "not valid") || strings.Contains(body, "<form") {
			t.Errorf("unknown token: HTTP %d\n%s", code, body)
		}
		if code, _, body := postReferee(t, e, [2]string{"token", unknown}, [2]string{"letter", string(testkit.PDF("x"))}); code != http.StatusBadRequest || !strings.Contains(body, "not valid") {
			t.Errorf("POST unknown token: HTTP %d\n%s", code, body)
		}
		if code, _, body := postReferee(t, e, [2]string{"letter", string(testkit.PDF("x"))}); code != http.StatusBadRequest || strings.Contains(body, "<form") {
			t.Errorf("POST without a token: HTTP %d\n%s", code, body)
		}
		if code, _, body := postReferee(t, e, [2]string{"token", f.refereeToken}); code != http.StatusBadRequest || !strings.Contains(body, "Choose the PDF") || !strings.Contains(body, "<form") {
			t.Errorf("POST without a file: HTTP %d\n%s", code, body)
		}
		// Not multipart.
		req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/referee", strings.NewReader(url.Values{"token": {f.refereeToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if code, _, body := fetch(t, req); code != http.StatusBadRequest || !strings.Contains(body, "could not be read") {
			t.Errorf("urlencoded POST: HTTP %d\n%s", code, body)
		}
		// Too large: a page, not the API's JSON.
		body, ctype := refereeForm(t, [2]string{"token", f.refereeToken}, [2]string{"letter", string(bigPDF(server.DefaultMaxUploadBytes))})
		for name, r := range map[string]io.Reader{"declared": bytes.NewReader(body), "chunked": struct{ io.Reader }{bytes.NewReader(body)}} {
			req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/referee", r)
			req.Header.Set("Content-Type", ctype)
			code, h, page := fetch(t, req)
			if code != http.StatusRequestEntityTooLarge || !strings.Contains(h.Get("Content-Type"), "text/html") || !strings.Contains(page, "too large") {
				t.Errorf("%s too large: HTTP %d %s\n%s", name, code, h.Get("Content-Type"), page)
			}
		}
		if used, n := refereeReceived(t, e, f); used || n != 0 {
			t.Fatalf("after the refusals: received %v, %d letters", used, n)
		}

		// Expired: GET and POST say so (410), nothing stored.
		e.Clock.Set(f.referee.ExpiresAt.Add(time.Minute))
		if code, _, body := getReferee(t, e, f.refereeToken); code != http.StatusGone || !strings.Contains(body, "expired") || strings.Contains(body, "<form") {
			t.Errorf("GET expired: HTTP %d\n%s", code, body)
		}
		if code, _, body := postReferee(t, e, [2]string{"token", f.refereeToken}, [2]string{"letter", string(testkit.PDF("late"))}); code != http.StatusGone || !strings.Contains(body, "expired") {
			t.Errorf("POST expired: HTTP %d\n%s", code, body)
		}
		if used, n := refereeReceived(t, e, f); used || n != 0 {
			t.Fatalf("after the expired upload: received %v, %d letters", used, n)
		}
		if strings.Contains(e.Logs.String(), "level=ERROR") {
			t.Errorf("errors logged:\n%s", e.Logs)
		}
	})
}

// TestWaivedLetterIsHiddenFromTrainee: a letter the trainee waived the right to read is
// not downloadable by them (404), and is by staff.
func TestWaivedLetterIsHiddenFromTrainee(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		f := newDocFixture(t, e, true)
		letter := testkit.PDF("confidential")
		if code, _, body := postReferee(t, e, [2]string{"token", f.refereeToken}, [2]string{"letter", string(letter)}); code != http.StatusOK {
			t.Fatalf("upload: HTTP %d\n%s", code, body)
		}
		d, err := e.DB.Client.Document.Query().Where(document.ApplicationID(f.app.ID)).Only(e.System())
		if err != nil {
			t.Fatal(err)
		}
		u := e.Server.URL + "/documents/" + string(d.ID)
		if code, _, _ := get(t, u, f.traineeC.Token, nil); code != http.StatusNotFound {
			t.Errorf("trainee reads the waived letter: HTTP %d", code)
		}
		if code, _, got := get(t, u, f.staffC.Token, nil); code != http.StatusOK || !bytes.Equal(got, letter) {
			t.Errorf("staff: HTTP %d", code)
		}
	})
}

func TestUploadLimitMatchesConfigDefault(t *testing.T) {
	if got := config.Defaults().MaxUploadBytes; got != server.DefaultMaxUploadBytes {
		t.Errorf("COALITION_MAX_UPLOAD_BYTES defaults to %d, server.DefaultMaxUploadBytes is %d", got, server.DefaultMaxUploadBytes)
	}
}
