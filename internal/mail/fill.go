package mail

import (
	"bytes"
	"mime/quotedprintable"
	"strings"
	"sync"
)

// Filled is a text made by filling personal values into a frozen text shared by many
// messages (a newsletter's body): its pieces alternate between pieces of the frozen text
// (even indexes) and personal values (odd indexes). A value is one line (it holds no line
// break). The builder encodes the frozen lines once per body and only the lines that hold
// a personal value per message; the result is the same as encoding String().
type Filled []string

// String returns the whole text.
func (f Filled) String() string { return strings.Join(f, "") }

func (f Filled) empty() bool {
	for _, p := range f {
		if p != "" {
			return false
		}
	}
	return true
}

// maxCachedLines bounds the builder's cache of encoded frozen lines (entries, each the
// run of whole lines of one frozen piece).
const maxCachedLines = 1024

// qpCache holds the quoted-printable encoding of runs of whole frozen lines. Encoding a
// run of whole lines on its own gives the bytes encoding it within the whole text gives:
// the encoder's state (line length, a pending CR) is fresh after every line break.
type qpCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (c *qpCache) get(run string) []byte {
	c.mu.Lock()
	enc, ok := c.m[run]
	c.mu.Unlock()
	if ok {
		return enc
	}
	var b bytes.Buffer
	b.Grow(len(run) + len(run)/8)
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write([]byte(run))
	_ = w.Close()
	enc = b.Bytes()
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedLines {
		c.m = map[string][]byte{}
	}
	c.m[run] = enc
	c.mu.Unlock()
	return enc
}

// encodeFilled appends the quoted-printable encoding of f to dst: the runs of whole lines
// inside frozen pieces from the cache, the lines around personal values encoded here.
func (c *qpCache) encodeFilled(dst *bytes.Buffer, f Filled) {
	var line []byte // the line being built (it holds personal values or crosses pieces)
	flush := func() {
		if len(line) == 0 {
			return
		}
		w := quotedprintable.NewWriter(dst)
		_, _ = w.Write(line)
		_ = w.Close()
		line = line[:0]
	}
	for i, p := range f {
		if i%2 == 1 {
			line = append(line, p...)
			continue
		}
		first := strings.IndexByte(p, '\n')
		if first < 0 {
			line = append(line, p...)
			continue
		}
		last := strings.LastIndexByte(p, '\n')
		line = append(line, p[:first+1]...)
		flush()
		if run := p[first+1 : last+1]; run != "" {
			dst.Write(c.get(run))
		}
		line = append(line, p[last+1:]...)
	}
	flush()
}
