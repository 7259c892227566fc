package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// libraryText is text that only a library or the Go runtime writes: none of it may reach a
// client.
var libraryText = []string{
	"json:", "Go struct", "Go value", "graphql.RawParams", "RawParams", "msgpack", "base64", "unexpected EOF",
	"strconv", "sql:", "pq:", "sqlite", "SQLITE", "ent:", "%!", "pgx", "pgconn", "SQLSTATE", "runtime error",
	"goroutine", "interface {}", "map[string]", "reflect", "invalid character", "cannot unmarshal",
	"transport not supported", "illegal", "*ent.", "entgql", "panic",
}

type rawRequest struct {
	name        string
	method      string
	query       string // raw query string for GET
	contentType string
	body        []byte
	auth        bool
	wantCode    string // the code of the first error, when the case pins it
	wantStatus  int    // 0: any 4xx or 200
}

func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// gql is a POST body with a query and variables.
func gql(query string, vars map[string]any) []byte {
	return jsonBody(map[string]any{"query": query, "variables": vars})
}

// msgpackCursor returns a cursor whose msgpack is raw (hand-written: the test must not
// share the encoder of the code under test).
func msgpackCursor(raw ...byte) string { return base64.RawStdEncoding.EncodeToString(raw) }

// fixstr is a msgpack string of at most 31 bytes.
func fixstr(s string) []byte { return append([]byte{0xa0 | byte(len(s))}, s...) }

func badCursors() map[string]string {
	validID := string(pulid.New("usr"))
	cursor := func(parts ...[]byte) string { return msgpackCursor(bytes.Join(parts, nil)...) }
	return map[string]string{
		"not base64":                   "@@not a cursor@@",
		"base64 of garbage":            base64.RawStdEncoding.EncodeToString([]byte("no msgpack in here, sorry")),
		"base64 of a msgpack string":   cursor(fixstr("hello")),
		"empty msgpack map":            cursor([]byte{0x80}),
		"id of the wrong type":         cursor([]byte{0x81}, fixstr("i"), []byte{0x05}),
		"id that is no ID":             cursor([]byte{0x81}, fixstr("i"), fixstr("usr_not-a-ulid")),
		"value of the wrong shape":     cursor([]byte{0x82}, fixstr("i"), fixstr(validID), fixstr("v"), []byte{0x81}, fixstr("a"), []byte{0x01}),
		"truncated msgpack":            cursor([]byte{0x82}, fixstr("i")),
		"padded base64 of a real one":  "x" + cursor([]byte{0x81}, fixstr("i"), fixstr(validID)),
		"empty":                        "",
		"url-safe base64 with symbols": "-_-_-_",
	}
}

func TestHostileRequestsGetCodedErrorsInOurWords(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		_, staff := e.NewUser("staff@coalition.test", "Stella Staff", viewer.RoleStaff)
		usersQ := `query($first: Int, $after: Cursor, $o: UserOrder) { users(first: $first, after: $after, orderBy: $o) { totalCount } }`
		cases := []rawRequest{
			// Bodies that are not JSON, or not one object.
			{name: "truncated JSON", body: []byte(`{"query": "{ __typename }"`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "truncated string", body: []byte(`{"query": "{ __typ`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "syntax error", body: []byte(`{"query": }`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "bare word", body: []byte(`nul`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "number", body: []byte(`5`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "array of numbers", body: []byte(`[1]`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "batch", body: []byte(`[{"query":"{ __typename }"}]`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "two objects", body: []byte(`{"query":"{ __typename }"} {"query":"{ __typename }"}`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "empty body", body: nil, wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "whitespace body", body: []byte(" \n\t "), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "invalid UTF-8 in the query", body: []byte("{\"query\": \"{ __typename \xff\xfe }\"}"), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "deeply nested variables", body: []byte(`{"query":"{ __typename }","variables":{"v":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}}`), wantCode: "BAD_REQUEST", wantStatus: 400},
			// Members of the wrong type.
			{name: "query is a number", body: []byte(`{"query": 5}`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "query is an object", body: []byte(`{"query": {"a": 1}}`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "query is an array", body: []byte(`{"query": ["{ __typename }"]}`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "query is true", body: []byte(`{"query": true}`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "query in capitals is a number", body: []byte(`{"QUERY": 5}`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "operationName is a number", body: []byte(`{"query": "{ __typename }", "operationName": 5}`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "variables is an array", body: []byte(`{"query": "{ __typename }", "variables": [1]}`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "variables is a string", body: []byte(`{"query": "{ __typename }", "variables": "{}"}`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "variables is a number", body: []byte(`{"query": "{ __typename }", "variables": 1e400}`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "extensions is an array", body: []byte(`{"query": "{ __typename }", "extensions": []}`), wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "persisted query hash is a number", body: []byte(`{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": 5}}}`)},
			{name: "persisted query is a string", body: []byte(`{"extensions": {"persistedQuery": "x"}}`)},
			{name: "no query", body: []byte(`{}`), wantCode: "BAD_REQUEST"},
			{name: "unknown operation name", body: []byte(`{"query": "query A { __typename }", "operationName": "B"}`), wantCode: "BAD_REQUEST"},
			// Variables and arguments of the wrong type or size.
			{name: "huge number variable", body: gql(usersQ, map[string]any{"first": json.Number("1e400")}), auth: true, wantCode: "BAD_REQUEST"},
			{name: "big integer variable", body: gql(usersQ, map[string]any{"first": json.Number("99999999999999999999999")}), auth: true, wantCode: "BAD_REQUEST"},
			{name: "fraction for an Int", body: gql(usersQ, map[string]any{"first": 1.5}), auth: true, wantCode: "BAD_REQUEST"},
			{name: "string for an Int", body: gql(usersQ, map[string]any{"first": "ten"}), auth: true, wantCode: "BAD_REQUEST"},
			{name: "object for an Int", body: gql(usersQ, map[string]any{"first": map[string]any{}}), auth: true, wantCode: "BAD_REQUEST"},
			{name: "number for a cursor", body: gql(usersQ, map[string]any{"first": 1, "after": 5}), auth: true, wantCode: "INVALID_CURSOR"},
			{name: "huge literal", body: gql(`{ users(first: 99999999999999999999) { totalCount } }`, nil), auth: true, wantCode: "BAD_REQUEST"},
			{name: "int32 overflow literal", body: gql(`{ users(first: 2147483648) { totalCount } }`, nil), auth: true, wantCode: "BAD_REQUEST"},
			{name: "bad enum literal", body: gql(`{ users(first: 1, orderBy: {field: NOPE}) { totalCount } }`, nil), auth: true, wantCode: "BAD_REQUEST"},
			{name: "bad enum variable", body: gql(usersQ, map[string]any{"first": 1, "o": map[string]any{"field": "NOPE", "direction": "SIDEWAYS"}}), auth: true, wantCode: "BAD_REQUEST"},
			{name: "enum as a number", body: gql(usersQ, map[string]any{"first": 1, "o": map[string]any{"field": 3}}), auth: true, wantCode: "BAD_REQUEST"},
			{name: "unknown input field", body: gql(usersQ, map[string]any{"first": 1, "o": map[string]any{"field": "NAME", "evil": true}}), auth: true, wantCode: "BAD_REQUEST"},
			{name: "null for a required variable", body: gql(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": nil}), wantCode: "BAD_REQUEST"},
			{name: "number for an ID list", body: gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": 7}), wantCode: ""},
			{name: "bad filter value", body: gql(`{ organisations(first: 5, filter: {countries: ["Narnia"]}) { totalCount } }`, nil), wantCode: "BAD_REQUEST"},
			{name: "NUL in a search", body: gql(`query($s: String) { organisations(first: 5, filter: {search: $s}) { totalCount } }`, map[string]any{"s": "a\x00b"})},
			{name: "lone surrogate in a search", body: []byte(`{"query": "query($s: String) { hostCentres(first: 5, filter: {search: $s}) { totalCount } }", "variables": {"s": "\ud800"}}`)},
			// Bad IDs.
			{name: "ID that is no ID", body: gql(`{ node(id: "nope") { id } }`, nil)},
			{name: "ID with a bad ULID", body: gql(`{ node(id: "usr_NOTAULIDNOTAULIDNOTAULID") { id } }`, nil)},
			{name: "ID with a NUL", body: gql(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "usr_\x00"})},
			{name: "ID of an unknown type", body: gql(`{ node(id: "zzz_01ARZ3NDEKTSV4RRFFQ69G5FAV") { id } }`, nil)},
			{name: "IDs with junk", body: gql(`{ nodes(ids: ["", "usr_", "_", "usr_01ARZ3NDEKTSV4RRFFQ69G5FA%"]) { id } }`, nil)},
			{name: "ID as an object", body: gql(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": map[string]any{"a": 1}}), wantCode: "BAD_REQUEST"},
			// Documents with problems (gqlparser's own words are kept).
			{name: "parse error", body: gql(`{ users(first: `, nil), wantCode: "BAD_REQUEST"},
			{name: "unknown field", body: gql(`{ nope }`, nil), wantCode: "BAD_REQUEST"},
			// Content types.
			{name: "text/plain", contentType: "text/plain", body: []byte(`{"query":"{ __typename }"}`), wantCode: "BAD_REQUEST", wantStatus: 415},
			{name: "no content type", contentType: "-", body: []byte(`{"query":"{ __typename }"}`), wantCode: "BAD_REQUEST", wantStatus: 415},
			{name: "form encoded", contentType: "application/x-www-form-urlencoded", body: []byte(`query=%7B__typename%7D`), wantCode: "BAD_REQUEST", wantStatus: 415},
			{name: "application/graphql", contentType: "application/graphql", body: []byte(`{ __typename }`), wantCode: "BAD_REQUEST", wantStatus: 415},
			{name: "garbage content type", contentType: "a/b/c; ;;", body: []byte(`{}`), wantCode: "BAD_REQUEST", wantStatus: 415},
			{name: "multipart without boundary", contentType: "multipart/form-data", body: []byte(`x`), auth: true, wantCode: "BAD_REQUEST", wantStatus: 400},
			// GET.
			{name: "GET variables not JSON", method: http.MethodGet, query: "query=" + url.QueryEscape("{ __typename }") + "&variables=notjson", wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "GET variables an array", method: http.MethodGet, query: "query=" + url.QueryEscape("{ __typename }") + "&variables=%5B1%5D", wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "GET extensions not JSON", method: http.MethodGet, query: "query=" + url.QueryEscape("{ __typename }") + "&extensions=%7B", wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "GET bad escape", method: http.MethodGet, query: "query=%zz", wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "GET invalid UTF-8", method: http.MethodGet, query: "query=%7B%20__typename%20%FF%7D", wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "GET query twice", method: http.MethodGet, query: "query=a&query=b", wantCode: "BAD_REQUEST", wantStatus: 400},
			{name: "GET mutation", method: http.MethodGet, query: "query=" + url.QueryEscape("mutation { signOut { signedOut } }"), wantCode: "BAD_REQUEST", wantStatus: 406},
			{name: "GET bad cursor", method: http.MethodGet, query: "query=" + url.QueryEscape(`{ organisations(first: 1, after: "@@") { totalCount } }`), wantCode: "INVALID_CURSOR"},
			{name: "GET no query", method: http.MethodGet, wantCode: "BAD_REQUEST"},
		}
		// Multipart forms (uploads need a bearer token).
		form := func(parts ...[2]string) (string, []byte) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for _, p := range parts {
				if p[0] == "0" {
					fw, _ := mw.CreateFormFile(p[0], "cv.pdf")
					_, _ = fw.Write([]byte(p[1]))
					continue
				}
				_ = mw.WriteField(p[0], p[1])
			}
			_ = mw.Close()
			return mw.FormDataContentType(), buf.Bytes()
		}
		uploadOps := `{"query":"mutation($f: Upload!) { uploadDocument(input: {applicationID: \"app_01ARZ3NDEKTSV4RRFFQ69G5FAV\", kind: CV, file: $f}) { userErrors { code } } }","variables":{"f":null}}`
		for _, mc := range []struct {
			name  string
			parts [][2]string
		}{
			{"operations not JSON", [][2]string{{"operations", "{not json"}, {"map", `{"0":["variables.f"]}`}, {"0", "%PDF-1.4"}}},
			{"operations query a number", [][2]string{{"operations", `{"query": 5}`}, {"map", `{"0":["variables.f"]}`}, {"0", "%PDF-1.4"}}},
			{"operations variables an array", [][2]string{{"operations", `{"query": "{ __typename }", "variables": []}`}, {"map", `{}`}}},
			{"map not JSON", [][2]string{{"operations", uploadOps}, {"map", "{nope"}, {"0", "%PDF-1.4"}}},
			{"map values not arrays", [][2]string{{"operations", uploadOps}, {"map", `{"0":"variables.f"}`}, {"0", "%PDF-1.4"}}},
			{"map path outside variables", [][2]string{{"operations", uploadOps}, {"map", `{"0":["query"]}`}, {"0", "%PDF-1.4"}}},
			{"map path to nowhere", [][2]string{{"operations", uploadOps}, {"map", `{"0":["variables.g.h"]}`}, {"0", "%PDF-1.4"}}},
			{"map index out of range", [][2]string{{"operations", `{"query": "{ __typename }", "variables": {"f": []}}`}, {"map", `{"0":["variables.f.5"]}`}, {"0", "%PDF-1.4"}}},
			{"map index into a string", [][2]string{{"operations", `{"query": "{ __typename }", "variables": {"f": "x"}}`}, {"map", `{"0":["variables.f.0"]}`}, {"0", "%PDF-1.4"}}},
			{"map with an empty path list", [][2]string{{"operations", uploadOps}, {"map", `{"0":[]}`}, {"0", "%PDF-1.4"}}},
			{"file missing", [][2]string{{"operations", uploadOps}, {"map", `{"0":["variables.f"]}`}}},
			{"file not in the map", [][2]string{{"operations", uploadOps}, {"map", `{}`}, {"0", "%PDF-1.4"}}},
			{"map first", [][2]string{{"map", `{}`}, {"operations", uploadOps}}},
			{"no map", [][2]string{{"operations", uploadOps}}},
		} {
			ct, body := form(mc.parts...)
			cases = append(cases, rawRequest{name: "multipart " + mc.name, contentType: ct, body: body, auth: true, wantCode: "BAD_REQUEST", wantStatus: 400})
		}
		// Bad cursors on several connections, at the root and nested.
		for cname, c := range badCursors() {
			for qname, q := range map[string]string{
				"users":              `query($c: Cursor) { users(first: 1, after: $c) { totalCount } }`,
				"users before":       `query($c: Cursor) { users(last: 1, before: $c) { totalCount } }`,
				"organisations":      `query($c: Cursor) { organisations(first: 1, after: $c) { totalCount } }`,
				"hostCentres":        `query($c: Cursor) { hostCentres(first: 1, after: $c) { totalCount } }`,
				"workingGroups":      `query($c: Cursor) { workingGroups(first: 1, after: $c) { totalCount } }`,
				"nested apiTokens":   `query($c: Cursor) { users(first: 2) { edges { node { apiTokens(first: 1, after: $c) { totalCount } } } } }`,
				"ordered by name":    `query($c: Cursor) { organisations(first: 1, after: $c, orderBy: {field: NAME, direction: ASC}) { totalCount } }`,
				"ordered by created": `query($c: Cursor) { users(first: 1, after: $c, orderBy: {field: CREATED_AT, direction: DESC}) { totalCount } }`,
			} {
				cases = append(cases, rawRequest{name: "cursor " + cname + " on " + qname, body: gql(q, map[string]any{"c": c}), auth: true, wantCode: "INVALID_CURSOR", wantStatus: 200})
			}
		}

		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				status, header, body := sendRaw(t, e, tc, staff.Token)
				var resp struct {
					Errors []struct {
						Message    string         `json:"message"`
						Extensions map[string]any `json:"extensions"`
					} `json:"errors"`
				}
				if err := json.Unmarshal(body, &resp); err != nil {
					t.Fatalf("status %d: body %q is not JSON", status, body)
				}
				if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") && !strings.HasPrefix(ct, "application/graphql-response+json") {
					t.Errorf("Content-Type %q", ct)
				}
				for _, bad := range libraryText {
					if bytes.Contains(bytes.ToLower(body), bytes.ToLower([]byte(bad))) {
						t.Errorf("answer contains %q: %s", bad, body)
					}
				}
				if status >= 500 {
					t.Errorf("status %d for bad input: %s", status, body)
				}
				if tc.wantStatus != 0 && status != tc.wantStatus {
					t.Errorf("status %d, want %d: %s", status, tc.wantStatus, body)
				}
				if tc.wantCode != "" && len(resp.Errors) == 0 {
					t.Fatalf("no error, want %s: %s", tc.wantCode, body)
				}
				for i, er := range resp.Errors {
					code, _ := er.Extensions["code"].(string)
					switch {
					case code == "":
						t.Errorf("error %d has no code: %s", i, body)
					case code == "INTERNAL":
						t.Errorf("error %d is INTERNAL for bad input: %s", i, body)
					case i == 0 && tc.wantCode != "" && code != tc.wantCode:
						t.Errorf("code %s, want %s: %s", code, tc.wantCode, body)
					}
					if strings.TrimSpace(er.Message) == "" {
						t.Errorf("error %d has no message", i)
					}
					if code == "INVALID_CURSOR" && er.Message != "The cursor is not one this API gave out." {
						t.Errorf("cursor message %q", er.Message)
					}
				}
			})
		}
		if logs := e.Logs.String(); strings.Contains(logs, "graphql internal error") || strings.Contains(logs, "panic") {
			t.Errorf("bad input was logged as an internal error:\n%s", logs)
		}
	})
}

func sendRaw(t *testing.T, e *testkit.Env, tc rawRequest, token string) (int, http.Header, []byte) {
	t.Helper()
	method := tc.method
	if method == "" {
		method = http.MethodPost
	}
	target := e.Server.URL + "/graphql"
	if tc.query != "" {
		target += "?" + tc.query
	}
	var body io.Reader = http.NoBody
	if tc.body != nil {
		body = bytes.NewReader(tc.body)
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	switch tc.contentType {
	case "":
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/json")
		}
	case "-":
	default:
		req.Header.Set("Content-Type", tc.contentType)
	}
	if tc.auth {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatalf("%s /graphql: %v", method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// TestValidCursorsStillWork guards the cursor checks against refusing our own cursors, on
// a connection with and without an order field value in its cursors.
func TestValidCursorsStillWork(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		_, staff := e.NewUser("staff@coalition.test", "Stella Staff", viewer.RoleStaff)
		e.NewUser("a@coalition.test", "Anna A")
		e.NewUser("b@coalition.test", "Bert B")
		for _, order := range []string{`{field: NAME, direction: ASC}`, `{field: CREATED_AT, direction: DESC}`} {
			var page struct {
				Users struct {
					Edges    []struct{ Node struct{ Name string } }
					PageInfo struct{ EndCursor string }
				}
			}
			staff.MustDo(`{ users(first: 1, orderBy: `+order+`) { edges { node { name } } pageInfo { endCursor } } }`, nil, &page)
			var next struct {
				Users struct {
					Edges []struct{ Node struct{ Name string } }
				}
			}
			staff.MustDo(`query($c: Cursor) { users(first: 1, after: $c, orderBy: `+order+`) { edges { node { name } } } }`,
				map[string]any{"c": page.Users.PageInfo.EndCursor}, &next)
			if len(next.Users.Edges) != 1 || next.Users.Edges[0].Node.Name == page.Users.Edges[0].Node.Name {
				t.Errorf("order %s: page after %q = %+v", order, page.Users.PageInfo.EndCursor, next.Users.Edges)
			}
		}
	})
}
