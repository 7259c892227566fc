package server

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
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

// graphiqlAssets reads the manifest and the files it lists.
func graphiqlAssets() (map[string]asset, error) {
	sums, err := graphiqlFS.ReadFile("graphiql/SHA256SUMS")
	if err != nil {
		return nil, err
	}
	out := map[string]asset{}
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
		out[name] = asset{body: body, sha256: sum, contentType: ct}
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

// graphiqlURL is an asset's URL with its version.
func graphiqlURL(assets map[string]asset, name string) string {
	return graphiqlAssetsPath + name + "?v=" + assets[name].sha256[:12]
}
