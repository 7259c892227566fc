package server

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"net/http"
	"path"
	"strings"
)

// GraphiQL's files are served from the binary, so the page works offline and loads nothing
// from elsewhere: React, ReactDOM and GraphiQL as pinned by web/graphiql/package-lock.json
// (copied here by `make graphiql-assets`), the page's start script and style, and
// SHA256SUMS, the manifest a test checks every file against.
//
//go:embed graphiql/*.js graphiql/*.css graphiql/SHA256SUMS
var graphiqlFS embed.FS

// graphiqlAssetsPath is where the files are served; each URL carries ?v=<hash prefix>, so
// they can be cached for a year and a new version is fetched at once.
const graphiqlAssetsPath = "/graphiql/assets/"

// graphiqlAsset is one embedded file.
type graphiqlAsset struct {
	body        []byte
	sha256      string
	contentType string
}

// graphiqlAssets reads the manifest and the files it lists.
func graphiqlAssets() (map[string]graphiqlAsset, error) {
	sums, err := graphiqlFS.ReadFile("graphiql/SHA256SUMS")
	if err != nil {
		return nil, err
	}
	out := map[string]graphiqlAsset{}
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			return nil, fmt.Errorf("graphiql/SHA256SUMS: malformed line %q", sc.Text())
		}
		body, err := graphiqlFS.ReadFile(path.Join("graphiql", name))
		if err != nil {
			return nil, err
		}
		ct := "text/javascript; charset=utf-8"
		if strings.HasSuffix(name, ".css") {
			ct = "text/css; charset=utf-8"
		}
		out[name] = graphiqlAsset{body: body, sha256: sum, contentType: ct}
	}
	return out, sc.Err()
}

// graphiqlCSP allows only this origin: scripts and styles from the embedded files (no
// inline script, style element or style attribute), the fonts GraphiQL's CSS embeds as
// data: URLs, images from here or data: (icons), and requests to /graphql. GraphiQL 3
// needs no 'unsafe-inline' styles: React and CodeMirror set styles through the CSSOM,
// which style-src does not restrict (checked in headless Chromium: the page renders the
// editors with this policy and reports no violation).
const graphiqlCSP = "default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self' data:; " +
	"img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"

// graphiqlAssetHandler serves the embedded files with long cache headers.
func graphiqlAssetHandler(assets map[string]graphiqlAsset) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("ETag", `"`+a.sha256+`"`)
		if r.Header.Get("If-None-Match") == `"`+a.sha256+`"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(a.body)
	}
}

// graphiqlURL is an asset's URL with its version.
func graphiqlURL(assets map[string]graphiqlAsset, name string) string {
	return graphiqlAssetsPath + name + "?v=" + assets[name].sha256[:12]
}
