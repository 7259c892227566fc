package docstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

const minimalPDF = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

// pdfOfSize returns a valid-looking PDF of exactly n bytes.
func pdfOfSize(t *testing.T, n int) []byte {
	t.Helper()
	const head, foot = "%PDF-1.4\n%", "\ntrailer<<>>\n%%EOF\n"
	pad := n - len(head) - len(foot)
	if pad < 0 {
		t.Fatalf("pdfOfSize(%d): too small", n)
	}
	b := []byte(head + strings.Repeat("x", pad) + foot)
	if len(b) != n {
		t.Fatalf("pdfOfSize: got %d bytes, want %d", len(b), n)
	}
	return b
}

func newStore(t *testing.T, maxSize int64) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "docs")
	s, err := New(dir, maxSize)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, dir
}

// listFiles returns every non-directory entry under dir (including temporary
// files), relative to dir.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return files
}

func assertNoFiles(t *testing.T, dir string) {
	t.Helper()
	if files := listFiles(t, dir); len(files) != 0 {
		t.Errorf("files left behind: %v", files)
	}
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestMinimalPDFIsDetected(t *testing.T) {
	if got := http.DetectContentType([]byte(minimalPDF)); got != "application/pdf" {
		t.Fatalf("DetectContentType = %q", got)
	}
	if !CheckPDF([]byte(minimalPDF), []byte(minimalPDF)) {
		t.Fatal("CheckPDF rejects the minimal PDF")
	}
}

func TestNewValidation(t *testing.T) {
	if _, err := New(t.TempDir(), 0); err == nil {
		t.Error("New with maxSize 0: no error")
	}
	if _, err := New("", 10); err == nil {
		t.Error("New with empty dir: no error")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(file, 10); err == nil {
		t.Error("New on a regular file: no error")
	}
	s, dir := newStore(t, 123)
	if s.MaxSize() != 123 {
		t.Errorf("MaxSize = %d", s.MaxSize())
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o007 != 0 {
		t.Errorf("store directory mode %v is world-accessible", perm)
	}
}

func TestPutAndOpen(t *testing.T) {
	s, dir := newStore(t, 1<<20)
	content := []byte(minimalPDF)
	blob, err := s.Put(context.Background(), bytes.NewReader(content))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	want := hashOf(content)
	if blob.SHA256 != want || blob.Size != int64(len(content)) {
		t.Fatalf("blob = %+v, want {%s %d}", blob, want, len(content))
	}

	p := filepath.Join(dir, want[:2], want)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatalf("stored file: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o640 && perm != 0o600 {
		t.Errorf("file mode = %v, want 0640 or 0600", perm)
	}
	if files := listFiles(t, dir); len(files) != 1 || files[0] != filepath.Join(want[:2], want) {
		t.Errorf("files = %v", files)
	}

	if !s.Exists(want) {
		t.Error("Exists = false")
	}
	f, err := s.Open(want)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Errorf("Open content = %q", got)
	}
}

func TestPutDeduplicates(t *testing.T) {
	s, dir := newStore(t, 1<<20)
	content := []byte(minimalPDF)
	b1, err := s.Put(context.Background(), bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	b2, err := s.Put(context.Background(), bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	if b1 != b2 {
		t.Errorf("blobs differ: %+v %+v", b1, b2)
	}
	if files := listFiles(t, dir); len(files) != 1 {
		t.Errorf("files = %v, want one", files)
	}
}

func TestPutConcurrentSameContent(t *testing.T) {
	s, dir := newStore(t, 1<<20)
	content := pdfOfSize(t, 64<<10)
	const n = 16
	blobs := make([]Blob, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Small reads make the uploads overlap.
			blobs[i], errs[i] = s.Put(context.Background(), iotest.HalfReader(bytes.NewReader(content)))
		})
	}
	wg.Wait()
	want := Blob{SHA256: hashOf(content), Size: int64(len(content))}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Put %d: %v", i, errs[i])
		} else if blobs[i] != want {
			t.Errorf("Put %d: blob %+v, want %+v", i, blobs[i], want)
		}
	}
	files := listFiles(t, dir)
	if len(files) != 1 || files[0] != filepath.Join(want.SHA256[:2], want.SHA256) {
		t.Errorf("files = %v, want only the blob", files)
	}
	f, err := s.Open(want.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, _ := io.ReadAll(f)
	if !bytes.Equal(got, content) {
		t.Error("stored content differs")
	}
}

func TestPutSizeLimit(t *testing.T) {
	const max = 4096
	s, dir := newStore(t, max)

	exact := pdfOfSize(t, max)
	blob, err := s.Put(context.Background(), bytes.NewReader(exact))
	if err != nil {
		t.Fatalf("Put of exactly maxSize: %v", err)
	}
	if blob.Size != max {
		t.Errorf("Size = %d", blob.Size)
	}
	if err := s.Remove(blob.SHA256); err != nil {
		t.Fatal(err)
	}
	assertNoFiles(t, dir)

	over := pdfOfSize(t, max+1)
	if _, err := s.Put(context.Background(), bytes.NewReader(over)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Put of maxSize+1: err = %v, want ErrTooLarge", err)
	}
	assertNoFiles(t, dir)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestPutStopsReadingAfterLimit(t *testing.T) {
	const max = 1000
	s, dir := newStore(t, max)
	// An endless stream of a PDF header followed by zeros.
	cr := &countingReader{r: io.MultiReader(strings.NewReader("%PDF-1.4\n"), zeroReader{})}
	if _, err := s.Put(context.Background(), cr); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if cr.n != max+1 {
		t.Errorf("read %d bytes, want %d", cr.n, max+1)
	}
	assertNoFiles(t, dir)
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestPutRejectsInvalidContent(t *testing.T) {
	late := []byte(minimalPDF + strings.Repeat(" ", TailSize))
	tests := []struct {
		name    string
		content []byte
		want    error
	}{
		{"empty", nil, ErrEmpty},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89%%EOF"), ErrNotPDF},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00%PDF-1.4 %%EOF"), ErrNotPDF},
		{"html", []byte("<!DOCTYPE html><html><body><script>alert(1)</script>%PDF-1.4 %%EOF</body></html>"), ErrNotPDF},
		{"text named pdf", []byte("This is just a text file called cv.pdf\n"), ErrNotPDF},
		{"html then pdf header", []byte("<html>\n%PDF-1.4\n%%EOF\n"), ErrNotPDF},
		{"header without EOF", []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n"), ErrNotPDF},
		{"bare header", []byte("%PDF"), ErrNotPDF},
		{"EOF before last 1024 bytes", late, ErrNotPDF},
		{"bad version", []byte("%PDF-3.0\n%%EOF\n"), ErrNotPDF},
		{"no version digit", []byte("%PDF-1.x\n%%EOF\n"), ErrNotPDF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, dir := newStore(t, 1<<20)
			_, err := s.Put(context.Background(), bytes.NewReader(tt.content))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			assertNoFiles(t, dir)
		})
	}
}

func TestPutAcceptsEOFWithinTail(t *testing.T) {
	s, _ := newStore(t, 1<<20)
	// Long PDF (several Read calls) whose %%EOF is followed by trailing
	// whitespace but still inside the last 1024 bytes.
	content := append(pdfOfSize(t, 100_000), strings.Repeat("\n", TailSize-len("%%EOF\n")-1)...)
	if _, err := s.Put(context.Background(), iotest.OneByteReader(bytes.NewReader(content[:5000]))); !errors.Is(err, ErrNotPDF) {
		t.Fatalf("truncated PDF: err = %v, want ErrNotPDF", err)
	}
	if _, err := s.Put(context.Background(), bytes.NewReader(content)); err != nil {
		t.Fatalf("Put: %v", err)
	}
}

func TestSnifferTail(t *testing.T) {
	data := make([]byte, 10_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for _, chunk := range []int{1, 3, 100, 1023, 1024, 1025, 4096} {
		var sn sniffer
		for i := 0; i < len(data); i += chunk {
			sn.Write(data[i:min(i+chunk, len(data))])
		}
		if !bytes.Equal(sn.head, data[:HeadSize]) {
			t.Errorf("chunk %d: wrong head", chunk)
		}
		if !bytes.Equal(sn.tailBytes(), data[len(data)-TailSize:]) {
			t.Errorf("chunk %d: wrong tail", chunk)
		}
	}
}

func TestOpenInvalidHash(t *testing.T) {
	s, _ := newStore(t, 1<<20)
	blob, err := s.Put(context.Background(), strings.NewReader(minimalPDF))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{
		"../etc/passwd",
		"../../../../../../etc/passwd",
		strings.ToUpper(blob.SHA256),
		blob.SHA256[:63],
		blob.SHA256 + "0",
		"",
		blob.SHA256[:2] + "/" + blob.SHA256[3:],
		strings.Repeat("0", 64), // well-formed but missing
	} {
		if f, err := s.Open(h); !errors.Is(err, ErrNotFound) {
			if f != nil {
				f.Close()
			}
			t.Errorf("Open(%q): err = %v, want ErrNotFound", h, err)
		}
		if s.Exists(h) {
			t.Errorf("Exists(%q) = true", h)
		}
	}
}

func TestPutReaderError(t *testing.T) {
	s, dir := newStore(t, 1<<20)
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("%PDF-1.4\n1 0 obj<<>>endobj\n"), iotest.ErrReader(boom))
	if _, err := s.Put(context.Background(), r); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	assertNoFiles(t, dir)
}

func TestPutContextCancelled(t *testing.T) {
	s, dir := newStore(t, 1<<20)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, strings.NewReader(minimalPDF)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	assertNoFiles(t, dir)
}

// cancelReader cancels its context after the first Read.
type cancelReader struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c cancelReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.cancel()
	return n, err
}

func TestPutContextCancelledDuringRead(t *testing.T) {
	s, dir := newStore(t, 1<<20)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := cancelReader{r: iotest.OneByteReader(strings.NewReader(minimalPDF)), cancel: cancel}
	if _, err := s.Put(ctx, r); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	assertNoFiles(t, dir)
}

func TestRemove(t *testing.T) {
	s, dir := newStore(t, 1<<20)
	blob, err := s.Put(context.Background(), strings.NewReader(minimalPDF))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(blob.SHA256); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if s.Exists(blob.SHA256) {
		t.Error("Exists after Remove")
	}
	if _, err := s.Open(blob.SHA256); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open after Remove: err = %v", err)
	}
	if err := s.Remove(blob.SHA256); err != nil {
		t.Errorf("second Remove: %v", err)
	}
	assertNoFiles(t, dir)
	if err := s.Remove("../etc/passwd"); err == nil {
		t.Error("Remove of an invalid hash: no error")
	}

	// The content can be stored again after removal.
	if _, err := s.Put(context.Background(), strings.NewReader(minimalPDF)); err != nil {
		t.Fatal(err)
	}
	if !s.Exists(blob.SHA256) {
		t.Error("Exists = false after re-Put")
	}
}

func TestServeContentCompatible(t *testing.T) {
	s, _ := newStore(t, 1<<20)
	blob, err := s.Put(context.Background(), strings.NewReader(minimalPDF))
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.Open(blob.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var _ io.ReadSeeker = f
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != blob.Size {
		t.Errorf("Stat size = %d, want %d", fi.Size(), blob.Size)
	}
}

func TestNewRemovesStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, tempPrefix+"stale")
	fresh := filepath.Join(dir, tempPrefix+"fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTempAge)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := New(dir, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temp file not removed: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temp file removed: %v", err)
	}
}

func TestWalk(t *testing.T) {
	s, err := New(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Put(context.Background(), strings.NewReader(strings.Replace(minimalPDF, "<<>>", "<</T (a)>>", 1)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Put(context.Background(), strings.NewReader(strings.Replace(minimalPDF, "<<>>", "<</T (b)>>", 1)))
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	if err := s.Walk(func(h string, m time.Time) bool { seen = append(seen, h); return !m.IsZero() }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(seen)
	want := []string{a.SHA256, b.SHA256}
	slices.Sort(want)
	if !slices.Equal(seen, want) {
		t.Errorf("walked %v, want %v", seen, want)
	}
	n := 0
	_ = s.Walk(func(string, time.Time) bool { n++; return false })
	if n != 1 {
		t.Errorf("walk did not stop: %d", n)
	}
}
