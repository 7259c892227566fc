package export

import (
	"bytes"
	"encoding/csv"
	"strings"
	"time"
)

// CSV writes header and rows as CSV, every cell defused (see Cell).
func CSV(header []string, rows [][]string) (string, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	_ = w.Write(header)
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = Cell(c)
		}
		_ = w.Write(cells)
	}
	w.Flush()
	return buf.String(), w.Error()
}

// Cell defuses text a spreadsheet would run as a formula: a value starting with =, +, -,
// @, tab or carriage return gets a leading apostrophe.
func Cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Time is an optional instant as RFC 3339 in UTC, "" for nil.
func Time(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
