package server

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"path"
	"testing"
)

// TestGraphiQLAssetsMatchTheManifest: every embedded file is in SHA256SUMS with its hash,
// so a changed or added file is noticed (make graphiql-assets rewrites both).
func TestGraphiQLAssetsMatchTheManifest(t *testing.T) {
	assets, err := graphiqlAssets()
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(graphiqlFS, "graphiql/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := path.Base(f)
		if name == "SHA256SUMS" {
			continue
		}
		a, ok := assets[name]
		if !ok {
			t.Errorf("%s is embedded but not in SHA256SUMS", name)
			continue
		}
		sum := sha256.Sum256(a.body)
		if got := hex.EncodeToString(sum[:]); got != a.sha256 {
			t.Errorf("%s: SHA-256 %s, manifest %s", name, got, a.sha256)
		}
	}
	for _, want := range []string{"react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "graphiql.min.css", "init.js", "page.css"} {
		if a, ok := assets[want]; !ok || len(a.body) == 0 {
			t.Errorf("%s missing", want)
		}
	}
	if len(assets) != len(files)-1 {
		t.Errorf("manifest lists %d files, %d embedded", len(assets), len(files)-1)
	}
}
