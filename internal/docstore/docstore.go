package docstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Errors returned by the store. They may be wrapped; use [errors.Is].
var (
	// ErrTooLarge is returned by [Store.Put] when the content is larger than
	// the store's maximum size.
	ErrTooLarge = errors.New("docstore: document too large")
	// ErrEmpty is returned by [Store.Put] when the content is empty.
	ErrEmpty = errors.New("docstore: document is empty")
	// ErrNotPDF is returned by [Store.Put] when the content is not a PDF
	// according to [CheckPDF].
	ErrNotPDF = errors.New("docstore: document is not a PDF")
	// ErrNotFound is returned when a document does not exist, or when the
	// given hash is not a well-formed store hash.
	ErrNotFound = errors.New("docstore: document not found")
)

const (
	// HeadSize is the number of leading bytes [CheckPDF] looks at.
	HeadSize = 1024
	// TailSize is the number of trailing bytes in which [CheckPDF] looks
	// for the "%%EOF" marker.
	TailSize = 1024

	dirMode  fs.FileMode = 0o750
	fileMode fs.FileMode = 0o640

	tempPattern = ".upload-*"
	tempPrefix  = ".upload-"
	// staleTempAge is the age after which New removes leftover temporary
	// files (from a crash during an upload).
	staleTempAge = 24 * time.Hour
)

// Blob identifies a stored document.
type Blob struct {
	// SHA256 is the SHA-256 of the content, as 64 lower-case hex characters.
	SHA256 string
	// Size is the length of the content in bytes.
	Size int64
}

// Store is a content-addressed document store rooted at a directory.
// A Store is safe for concurrent use by multiple goroutines. Only one Store
// (in one process) should use a given directory at a time.
type Store struct {
	dir     string
	maxSize int64

	// mu serialises the commit step of Put (existence check and rename)
	// with Remove, so that a deduplicated Put never returns a blob that a
	// concurrent Remove is deleting. Streaming and hashing happen outside
	// the lock.
	mu sync.Mutex
}

// New opens the store rooted at dir, creating the directory (mode 0o750) if
// needed. maxSize is the largest document accepted, in bytes, and must be
// positive. Temporary files older than a day, left behind by a crash, are
// removed.
func New(dir string, maxSize int64) (*Store, error) {
	if dir == "" {
		return nil, errors.New("docstore: empty directory")
	}
	if maxSize <= 0 {
		return nil, fmt.Errorf("docstore: maximum size must be positive, got %d", maxSize)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("docstore: %w", err)
	}
	if err := os.MkdirAll(abs, dirMode); err != nil {
		return nil, fmt.Errorf("docstore: create store directory: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("docstore: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("docstore: %s is not a directory", abs)
	}
	s := &Store{dir: abs, maxSize: maxSize}
	s.removeStaleTemps(time.Now().Add(-staleTempAge))
	return s, nil
}

// MaxSize returns the largest document size, in bytes, that Put accepts.
func (s *Store) MaxSize() int64 { return s.maxSize }

// Put streams r into the store and returns the stored blob.
//
// The content is written to a temporary file inside the store directory and
// hashed as it is read; reading stops after MaxSize()+1 bytes, so the content
// is never held in memory as a whole. Content over the limit yields
// [ErrTooLarge], empty content [ErrEmpty] and content that fails [CheckPDF]
// [ErrNotPDF]. Errors from r and the cancellation of ctx (checked before and
// during reading) are returned wrapped. On any error no file is left behind.
//
// Otherwise the file is fsynced and renamed atomically to its final path. If
// the same content is already stored, the temporary file is removed and the
// existing blob is returned. Put is safe for concurrent use, including
// concurrent Puts of the same content.
func (s *Store) Put(ctx context.Context, r io.Reader) (blob Blob, err error) {
	if err := ctx.Err(); err != nil {
		return Blob{}, fmt.Errorf("docstore: put: %w", err)
	}

	tmp, err := os.CreateTemp(s.dir, tempPattern)
	if err != nil {
		return Blob{}, fmt.Errorf("docstore: create temporary file: %w", err)
	}
	tmpName := tmp.Name()
	closed := false
	defer func() {
		if !closed {
			_ = tmp.Close()
		}
		if err != nil {
			_ = os.Remove(tmpName)
		}
	}()

	h := sha256.New()
	var sn sniffer
	src := io.LimitReader(ctxReader{ctx: ctx, r: r}, s.maxSize+1)
	n, err := io.Copy(io.MultiWriter(tmp, h, &sn), src)
	if err != nil {
		return Blob{}, fmt.Errorf("docstore: put: %w", err)
	}
	switch {
	case n == 0:
		return Blob{}, ErrEmpty
	case n > s.maxSize:
		return Blob{}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, s.maxSize)
	case !CheckPDF(sn.head, sn.tailBytes()):
		return Blob{}, ErrNotPDF
	}
	if err := ctx.Err(); err != nil {
		return Blob{}, fmt.Errorf("docstore: put: %w", err)
	}

	if err := tmp.Chmod(fileMode); err != nil {
		return Blob{}, fmt.Errorf("docstore: chmod temporary file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return Blob{}, fmt.Errorf("docstore: sync temporary file: %w", err)
	}
	closed = true
	if err := tmp.Close(); err != nil {
		return Blob{}, fmt.Errorf("docstore: close temporary file: %w", err)
	}

	blob = Blob{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}
	if err := s.commit(tmpName, blob); err != nil {
		return Blob{}, err
	}
	return blob, nil
}

// commit moves the temporary file tmpName into place for blob, or removes it
// when an identical blob is already stored.
func (s *Store) commit(tmpName string, blob Blob) error {
	final := s.path(blob.SHA256)

	s.mu.Lock()
	defer s.mu.Unlock()

	if fi, err := os.Lstat(final); err == nil && fi.Mode().IsRegular() && fi.Size() == blob.Size {
		// Already stored: deduplicate. Refresh the modification time so
		// that a grace-period garbage collector sees it as recently used.
		now := time.Now()
		_ = os.Chtimes(final, now, now)
		if err := os.Remove(tmpName); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("docstore: remove temporary file: %w", err)
		}
		return nil
	}
	// Missing (or, defensively, damaged: wrong size or not a regular file,
	// in which case the rename below replaces it when possible).

	sub := filepath.Dir(final)
	if _, err := os.Stat(sub); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(sub, dirMode); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("docstore: create directory: %w", err)
		}
		syncDir(s.dir)
	}
	if err := os.Rename(tmpName, final); err != nil {
		return fmt.Errorf("docstore: store document: %w", err)
	}
	syncDir(sub)
	return nil
}

// Open returns the stored document with the given hash, for reading. The
// returned *os.File can be passed to http.ServeContent; its Stat method gives
// the size and modification time. The caller must close it.
//
// A hash that is not exactly 64 lower-case hex characters yields
// [ErrNotFound] without touching the filesystem, so no path traversal is
// possible; so does a hash that is not stored.
func (s *Store) Open(sha256 string) (*os.File, error) {
	if !validHash(sha256) {
		return nil, fmt.Errorf("%w: invalid hash", ErrNotFound)
	}
	f, err := os.Open(s.path(sha256))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, sha256)
		}
		return nil, fmt.Errorf("docstore: open: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("docstore: open: %w", err)
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("%w: %s", ErrNotFound, sha256)
	}
	return f, nil
}

// Exists reports whether a document with the given hash is stored. It
// reports false for a hash that is not 64 lower-case hex characters.
func (s *Store) Exists(sha256 string) bool {
	if !validHash(sha256) {
		return false
	}
	fi, err := os.Lstat(s.path(sha256))
	return err == nil && fi.Mode().IsRegular()
}

// Remove deletes the document with the given hash, typically when garbage
// collecting documents that are no longer referenced (see the package
// documentation). Removing a missing document is not an error. A hash that
// is not 64 lower-case hex characters cannot name a stored document and is
// reported as an error wrapping [ErrNotFound], since it reveals a bug in the
// caller.
func (s *Store) Remove(sha256 string) error {
	if !validHash(sha256) {
		return fmt.Errorf("%w: invalid hash", ErrNotFound)
	}
	p := s.path(sha256)

	s.mu.Lock()
	defer s.mu.Unlock()

	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("docstore: remove: %w", err)
	}
	syncDir(filepath.Dir(p))
	return nil
}

// CheckPDF reports whether content whose first bytes are head and whose last
// bytes are tail looks like a PDF document. head should hold the first
// [HeadSize] bytes of the content (or all of it if shorter) and tail the last
// [TailSize] bytes (or all of it); they may overlap for short content.
//
// The rules are deliberately strict and simple:
//   - the content must start, at offset 0, with "%PDF-1." or "%PDF-2."
//     followed by a digit. The PDF specification lets readers tolerate junk
//     before the header, but accepting it would allow polyglot files (for
//     example HTML or an image with a PDF header further in), so it is
//     rejected;
//   - http.DetectContentType of the first 512 bytes must be
//     "application/pdf";
//   - "%%EOF" must occur within tail, that is within the last 1024 bytes.
//
// The check does not parse the document and does not look for active content.
func CheckPDF(head, tail []byte) bool {
	if len(head) < len("%PDF-1.0") {
		return false
	}
	if !bytes.HasPrefix(head, []byte("%PDF-1.")) && !bytes.HasPrefix(head, []byte("%PDF-2.")) {
		return false
	}
	if c := head[7]; c < '0' || c > '9' {
		return false
	}
	sniff := head
	if len(sniff) > 512 {
		sniff = sniff[:512]
	}
	if http.DetectContentType(sniff) != "application/pdf" {
		return false
	}
	if len(tail) > TailSize {
		tail = tail[len(tail)-TailSize:]
	}
	return bytes.Contains(tail, []byte("%%EOF"))
}

// path returns the file path of a (validated) hash.
func (s *Store) path(sha256 string) string {
	return filepath.Join(s.dir, sha256[:2], sha256)
}

// validHash reports whether h is exactly 64 lower-case hex characters.
func validHash(h string) bool {
	if len(h) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// removeStaleTemps deletes temporary upload files last modified before
// cutoff. Errors are ignored: this is best-effort cleanup.
func (s *Store) removeStaleTemps(cutoff time.Time) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(cutoff) {
			_ = os.Remove(filepath.Join(s.dir, e.Name()))
		}
	}
}

// syncDir fsyncs a directory so that a rename, creation or removal in it is
// durable. It is best-effort: some platforms and filesystems do not support
// syncing directories, and a failure there does not invalidate the already
// complete, content-addressed file.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// ctxReader is an io.Reader that fails once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// sniffer is an io.Writer that keeps the first HeadSize bytes and the last
// TailSize bytes written to it, for CheckPDF.
type sniffer struct {
	head []byte
	tail [2 * TailSize]byte // tail[:tn] holds the most recent bytes
	tn   int
}

func (s *sniffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(s.head) < HeadSize {
		k := min(HeadSize-len(s.head), len(p))
		s.head = append(s.head, p[:k]...)
	}
	if len(p) >= TailSize {
		s.tn = copy(s.tail[:], p[len(p)-TailSize:])
		return n, nil
	}
	if s.tn+len(p) > len(s.tail) {
		// Keep only the last TailSize-len(p) old bytes, then append.
		keep := TailSize - len(p)
		copy(s.tail[:], s.tail[s.tn-keep:s.tn])
		s.tn = keep
	}
	s.tn += copy(s.tail[s.tn:], p)
	return n, nil
}

// tailBytes returns the last (up to) TailSize bytes written.
func (s *sniffer) tailBytes() []byte {
	if s.tn > TailSize {
		return s.tail[s.tn-TailSize : s.tn]
	}
	return s.tail[:s.tn]
}

// Walk calls fn for every stored document with its hash and last modification time (Put
// refreshes it when the same content is stored again), in no particular order, until fn
// returns false. Files that are not stored documents (temporary uploads, strays) are
// skipped.
func (s *Store) Walk(fn func(sha256 string, modified time.Time) bool) error {
	dirs, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("docstore: walk: %w", err)
	}
	for _, d := range dirs {
		if !d.IsDir() || len(d.Name()) != 2 {
			continue
		}
		files, err := os.ReadDir(filepath.Join(s.dir, d.Name()))
		if err != nil {
			return fmt.Errorf("docstore: walk: %w", err)
		}
		for _, f := range files {
			name := f.Name()
			if !f.Type().IsRegular() || !validHash(name) || name[:2] != d.Name() {
				continue
			}
			fi, err := f.Info()
			if err != nil {
				continue // removed meanwhile
			}
			if !fn(name, fi.ModTime()) {
				return nil
			}
		}
	}
	return nil
}
