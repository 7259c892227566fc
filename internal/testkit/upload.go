package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
)

// File is a file sent with Client.Upload.
type File struct {
	Name    string
	Content []byte
}

// Upload posts a GraphQL multipart request (the graphql-multipart-request-spec, as browsers
// and Apollo clients send it): files maps a variable path such as "variables.in.file" to
// the file sent for it; that variable is sent as null in the operations part.
func (c *Client) Upload(query string, vars map[string]any, files map[string]File) *Response {
	c.env.TB.Helper()
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("operations", string(ops))
	m := map[string][]string{}
	i := 0
	for path := range files {
		m[string(rune('0'+i))] = []string{path}
		i++
	}
	mp, _ := json.Marshal(m)
	_ = w.WriteField("map", string(mp))
	for key, paths := range m {
		f := files[paths[0]]
		part, err := w.CreateFormFile(key, f.Name)
		if err != nil {
			c.env.TB.Fatal(err)
		}
		_, _ = part.Write(f.Content)
	}
	_ = w.Close()
	req, err := http.NewRequest(http.MethodPost, c.env.Server.URL+"/graphql", &body)
	if err != nil {
		c.env.TB.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.env.Server.Client().Do(req)
	if err != nil {
		c.env.TB.Fatalf("post /graphql: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.env.TB.Fatalf("read response: %v", err)
	}
	r := &Response{Status: resp.StatusCode, Body: raw}
	_ = json.Unmarshal(raw, r)
	return r
}

// PDF returns a small valid PDF whose text differs with label, for upload tests.
func PDF(label string) []byte {
	return []byte("%PDF-1.4\n1 0 obj<</Title (" + label + ")>>endobj\ntrailer<<>>\n%%EOF\n")
}
