package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/gocart-coalition/coalition/internal/apperr"
)

// The transports of /graphql. gqlgen's own ones answer a malformed request with the Go
// decoder's text ("json: cannot unmarshal number into Go struct field RawParams.query of
// type string", "unexpected EOF"), some of it without extensions.code; ours read the
// request themselves and answer BAD_REQUEST with a sentence of our own (reason
// ReasonInvalidRequest), then hand a well-formed request to gqlgen (POST, GET) or run it
// (multipart).

// ReasonInvalidRequest is the extensions.reason of a request that is not a GraphQL request
// (a body that is not JSON, a field of the wrong type, a broken multipart form).
const ReasonInvalidRequest = "INVALID_REQUEST"

// invalidRequest answers 400 BAD_REQUEST with message, through the executor so the error
// presenter and the response interceptors see it as they see every error.
func invalidRequest(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, message string) {
	resp := exec.DispatchError(r.Context(), gqlerror.List{{
		Message:    message,
		Extensions: map[string]any{"code": string(apperr.BadRequest), "reason": ReasonInvalidRequest},
	}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	b, _ := json.Marshal(resp)
	_, _ = w.Write(b)
}

// wireParams is a GraphQL request as it arrives: each member is checked before it is
// decoded. encoding/json matches member names case-insensitively, as gqlgen's decoder does.
type wireParams struct {
	Query         json.RawMessage `json:"query"`
	OperationName json.RawMessage `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    json.RawMessage `json:"extensions"`
}

// canonicalParams is what gqlgen's POST transport is given: the same request, re-encoded,
// so its decoder cannot fail on it.
type canonicalParams struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName,omitempty"`
	Variables     json.RawMessage `json:"variables,omitempty"`
	Extensions    json.RawMessage `json:"extensions,omitempty"`
}

// decodeParams reads a GraphQL request from a JSON document (a POST body, the operations
// part of a multipart request). It returns the request or a problem in plain words.
func decodeParams(body []byte) (canonicalParams, string) {
	var out canonicalParams
	if !utf8.Valid(body) {
		return out, "it is not valid UTF-8"
	}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return out, "it is empty"
	case trimmed[0] == '[':
		return out, "send one request as a JSON object; batches of requests are not supported"
	case trimmed[0] != '{':
		if json.Valid(trimmed) {
			return out, "it must be a JSON object with a query"
		}
		return out, "it is not valid JSON"
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var wire wireParams
	if err := dec.Decode(&wire); err != nil {
		var syntax *json.SyntaxError
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return out, "it is not complete JSON (it ends too early)"
		case errors.As(err, &syntax):
			return out, "it is not valid JSON (the problem is at byte " + strconv.FormatInt(syntax.Offset, 10) + ")"
		default:
			return out, "it is not valid JSON"
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return out, "it must hold exactly one JSON object, with nothing after it"
	}
	if problem := stringMember(wire.Query, "query", &out.Query); problem != "" {
		return out, problem
	}
	if problem := stringMember(wire.OperationName, "operationName", &out.OperationName); problem != "" {
		return out, problem
	}
	if !isNull(wire.Variables) {
		if wire.Variables[0] != '{' {
			return out, "variables must be an object"
		}
		out.Variables = wire.Variables
	}
	if !isNull(wire.Extensions) {
		if wire.Extensions[0] != '{' {
			return out, "extensions must be an object"
		}
		out.Extensions = wire.Extensions
	}
	return out, ""
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

func stringMember(raw json.RawMessage, name string, into *string) string {
	if isNull(raw) {
		return ""
	}
	if raw[0] != '"' || json.Unmarshal(raw, into) != nil {
		return name + " must be a string"
	}
	return ""
}

// postTransport is gqlgen's POST (application/json) transport behind our own decoding.
type postTransport struct{ transport.POST }

const bodyProblem = "The request body is not a valid GraphQL request: "

func (t postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		// BodyLimit answers an oversize body before we get here; this is a client that
		// went away or a body cut short.
		invalidRequest(w, r, exec, "The request body could not be read completely.")
		return
	}
	params, problem := decodeParams(body)
	if problem != "" {
		invalidRequest(w, r, exec, bodyProblem+problem+".")
		return
	}
	canonical, err := json.Marshal(params)
	if err != nil { // cannot happen: every member is a string or valid JSON
		invalidRequest(w, r, exec, bodyProblem+"it could not be read.")
		return
	}
	r2 := *r
	r2.Body = io.NopCloser(bytes.NewReader(canonical))
	r2.ContentLength = int64(len(canonical))
	t.POST.Do(w, &r2, exec)
}

// getTransport is gqlgen's GET transport behind our own checks of the query string.
type getTransport struct{ transport.GET }

const queryStringProblem = "The query string is not a valid GraphQL request: "

func (t getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		invalidRequest(w, r, exec, queryStringProblem+"it is not valid URL encoding.")
		return
	}
	for _, name := range []string{"query", "operationName", "variables", "extensions"} {
		values := q[name]
		if len(values) > 1 {
			invalidRequest(w, r, exec, queryStringProblem+name+" is given more than once.")
			return
		}
		if len(values) == 1 && !utf8.ValidString(values[0]) {
			invalidRequest(w, r, exec, queryStringProblem+name+" is not valid UTF-8.")
			return
		}
	}
	for _, name := range []string{"variables", "extensions"} {
		if v := q.Get(name); v != "" {
			if problem := jsonObject(v, name); problem != "" {
				invalidRequest(w, r, exec, queryStringProblem+problem+".")
				return
			}
		}
	}
	t.GET.Do(w, r, exec)
}

// jsonObject checks that s is one JSON object (or null).
func jsonObject(s, name string) string {
	trimmed := strings.TrimSpace(s)
	if !json.Valid([]byte(trimmed)) {
		return name + " is not valid JSON"
	}
	if trimmed != "null" && trimmed[0] != '{' {
		return name + " must be an object"
	}
	return ""
}

// multipartTransport implements the GraphQL multipart request spec
// (https://github.com/jaydenseric/graphql-multipart-request-spec) as gqlgen's MultipartForm
// does, with our answers to broken forms: an operations part first (checked as a POST body
// is), a map part second (an object of string arrays, each path "variables.…" naming a
// variable or a place in one), then the files. Files up to maxMemory are kept in memory,
// larger ones spooled to temporary files. A path that does not lead to a null in the
// variables is refused, where gqlgen's AddUpload would panic on an index out of range.
type multipartTransport struct {
	maxUploadSize, maxMemory int64
}

func (multipartTransport) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && r.Method == http.MethodPost && mt == "multipart/form-data"
}

const formProblem = "The multipart request is not a valid GraphQL upload: "

func (t multipartTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	refuse := func(problem string) { invalidRequest(w, r, exec, formProblem+problem+".") }
	if r.ContentLength > t.maxUploadSize {
		refuse("it is larger than " + strconv.FormatInt(t.maxUploadSize, 10) + " bytes")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, t.maxUploadSize)
	defer r.Body.Close()
	mr, err := r.MultipartReader()
	if err != nil {
		refuse("the form has no boundary")
		return
	}
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "operations" {
		refuse("the first part must be operations")
		return
	}
	opsBody, err := io.ReadAll(io.LimitReader(part, DefaultMaxBodyBytes+1))
	if err != nil {
		refuse("the operations part could not be read")
		return
	}
	if len(opsBody) > DefaultMaxBodyBytes {
		refuse("the operations part is larger than " + strconv.Itoa(DefaultMaxBodyBytes) + " bytes")
		return
	}
	ops, problem := decodeParams(opsBody)
	if problem != "" {
		refuse("the operations part is not a GraphQL request: " + problem)
		return
	}
	params := graphql.RawParams{Query: ops.Query, OperationName: ops.OperationName, Headers: r.Header}
	if ops.Variables != nil {
		dec := json.NewDecoder(bytes.NewReader(ops.Variables))
		dec.UseNumber() // as gqlgen decodes variables
		if err := dec.Decode(&params.Variables); err != nil {
			refuse("the operations part is not a GraphQL request: variables must be an object")
			return
		}
	}
	if ops.Extensions != nil {
		dec := json.NewDecoder(bytes.NewReader(ops.Extensions))
		dec.UseNumber()
		if err := dec.Decode(&params.Extensions); err != nil {
			refuse("the operations part is not a GraphQL request: extensions must be an object")
			return
		}
	}

	part, err = mr.NextPart()
	if err != nil || part.FormName() != "map" {
		refuse("the second part must be map")
		return
	}
	mapBody, err := io.ReadAll(io.LimitReader(part, DefaultMaxBodyBytes+1))
	if err != nil || len(mapBody) > DefaultMaxBodyBytes {
		refuse("the map part could not be read")
		return
	}
	uploads := map[string][]string{}
	if !utf8.Valid(mapBody) || json.Unmarshal(mapBody, &uploads) != nil {
		refuse("the map part must be a JSON object whose values are arrays of paths such as \"variables.file\"")
		return
	}
	for key, paths := range uploads {
		if len(paths) == 0 {
			refuse(fmt.Sprintf("the map gives no path for the file %q", key))
			return
		}
		for _, path := range paths {
			if !uploadPathExists(params.Variables, path) {
				refuse(fmt.Sprintf("the map's path %q for the file %q names no null variable or list item", path, key))
				return
			}
		}
	}

	for {
		part, err = mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			refuse("a file part could not be read")
			return
		}
		key := part.FormName()
		paths, ok := uploads[key]
		if !ok {
			refuse(fmt.Sprintf("the map does not name the file %q", key))
			return
		}
		delete(uploads, key)
		filename, contentType := part.FileName(), part.Header.Get("Content-Type")
		var open func() (io.ReadSeeker, error)
		var size int64
		if r.ContentLength >= 0 && r.ContentLength < t.maxMemory {
			data, err := io.ReadAll(part)
			if err != nil {
				refuse(fmt.Sprintf("the file %q could not be read", key))
				return
			}
			size = int64(len(data))
			open = func() (io.ReadSeeker, error) { return bytes.NewReader(data), nil }
		} else {
			tmp, err := os.CreateTemp("", "coalition-upload-")
			if err != nil {
				refuse(fmt.Sprintf("the file %q could not be stored", key))
				return
			}
			name := tmp.Name()
			defer os.Remove(name) //nolint:errcheck // best effort: a temporary file
			size, err = io.Copy(tmp, part)
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				refuse(fmt.Sprintf("the file %q could not be read", key))
				return
			}
			open = func() (io.ReadSeeker, error) {
				f, err := os.Open(name)
				if err != nil {
					return nil, err
				}
				return f, nil
			}
		}
		for _, path := range paths {
			f, err := open()
			if err != nil {
				refuse(fmt.Sprintf("the file %q could not be stored", key))
				return
			}
			if c, ok := f.(io.Closer); ok {
				defer c.Close()
			}
			setUpload(params.Variables, path, graphql.Upload{File: f, Filename: filename, Size: size, ContentType: contentType})
		}
	}
	for key := range uploads {
		refuse(fmt.Sprintf("the map names the file %q, which the request does not hold", key))
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	w.Header().Set("Content-Type", "application/json")
	rc, gerr := exec.CreateOperationContext(r.Context(), &params)
	if gerr != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(r.Context(), rc), gerr)
		w.WriteHeader(statusForOperationErrors(gerr))
		b, _ := json.Marshal(resp)
		_, _ = w.Write(b)
		return
	}
	responses, ctx := exec.DispatchOperation(r.Context(), rc)
	b, err := json.Marshal(responses(ctx))
	if err != nil {
		panic(fmt.Errorf("marshal graphql response: %w", err))
	}
	_, _ = w.Write(b)
}

// statusForOperationErrors is gqlgen's status for errors found before execution: 422 for
// parse and validation errors, 200 for the rest.
func statusForOperationErrors(errs gqlerror.List) int {
	for _, e := range errs {
		switch e.Extensions["code"] {
		case "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED":
			return http.StatusUnprocessableEntity
		}
	}
	return http.StatusOK
}

// uploadPathExists reports whether path ("variables.file", "variables.files.1",
// "variables.input.file") leads through vars to a null: the place the spec puts a file.
func uploadPathExists(vars map[string]any, path string) bool {
	parts := strings.Split(path, ".")
	if len(parts) < 2 || parts[0] != "variables" {
		return false
	}
	var cur any = vars
	for _, p := range parts[1:] {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[p]
			if !ok {
				return false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(c) {
				return false
			}
			cur = c[i]
		default:
			return false
		}
	}
	return cur == nil
}

// setUpload puts upload at path, which uploadPathExists accepted.
func setUpload(vars map[string]any, path string, upload graphql.Upload) {
	parts := strings.Split(path, ".")[1:]
	var cur any = vars
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[p] = upload
				return
			}
			cur = c[p]
		case []any:
			n, _ := strconv.Atoi(p)
			if last {
				c[n] = upload
				return
			}
			cur = c[n]
		}
	}
}

// unsupportedMediaType answers a POST whose Content-Type none of the transports takes.
func unsupportedMediaType(w http.ResponseWriter, r *http.Request) {
	writeJSONError(w, http.StatusUnsupportedMediaType, string(apperr.BadRequest), ReasonInvalidRequest,
		"Send GraphQL requests as application/json, or as multipart/form-data to upload a file.",
		RequestIDFromContext(r.Context()))
}
