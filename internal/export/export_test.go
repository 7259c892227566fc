package export

import (
	"encoding/csv"
	"strings"
	"testing"
	"time"
)

func TestCSV(t *testing.T) {
	out, err := CSV([]string{"id", "name"}, [][]string{{"a1", "=HYPERLINK(\"x\")"}, {"a2", "Dvořák, Marek"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out, "\r\n") {
		t.Errorf("rows must end in CRLF: %q", out)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][1] != `'=HYPERLINK("x")` || rows[2][1] != "Dvořák, Marek" {
		t.Errorf("rows: %q", rows)
	}
	ts := time.Date(2027, 1, 12, 10, 30, 0, 0, time.FixedZone("CET", 3600))
	if got := Time(&ts); got != "2027-01-12T09:30:00Z" || Time(nil) != "" {
		t.Errorf("Time: %q", got)
	}
}
