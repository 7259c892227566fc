package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"path"

	"github.com/gocart-coalition/coalition/templates"
)

// The public pages' own files (templates/web/site.css, the stylesheet with its print
// rules, and the icon), served from the binary at /assets/{name}. Each page links them as
// /assets/{name}?v=<hash prefix> (the "asset" template function), so they are cached for a
// year and a new version is fetched at once. The pages' Content-Security-Policy allows
// styles and images from this origin only (pageCSP), so no page has a style element.

const publicAssetsPath = "/assets/"

// publicAssetTypes are the files served and their content types.
var publicAssetTypes = map[string]string{
	"site.css": "text/css; charset=utf-8",
	"icon.svg": "image/svg+xml",
}

// asset is one embedded file served with long cache headers: the public pages' files and
// GraphiQL's.
type asset struct {
	body        []byte
	sha256      string
	contentType string
}

func publicAssets() (map[string]asset, error) {
	out := make(map[string]asset, len(publicAssetTypes))
	for name, ct := range publicAssetTypes {
		body, err := templates.FS.ReadFile(path.Join("web", name))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		out[name] = asset{body: body, sha256: hex.EncodeToString(sum[:]), contentType: ct}
	}
	return out, nil
}

// assetFuncs gives the templates {{asset "site.css"}}: the file's versioned URL.
func assetFuncs(assets map[string]asset) template.FuncMap {
	return template.FuncMap{"asset": func(name string) (string, error) {
		a, ok := assets[name]
		if !ok {
			return "", fmt.Errorf("no public asset %q", name)
		}
		return publicAssetsPath + name + "?v=" + a.sha256[:12], nil
	}}
}

// assetHandler serves the files with long cache headers (an ETag of their SHA-256).
func assetHandler(assets map[string]asset) http.HandlerFunc {
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
