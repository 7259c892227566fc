package placement

import (
	"testing"
	"time"
)

func TestAddHoursExcludingWeekends(t *testing.T) {
	brussels, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		t.Fatal(err)
	}
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, brussels) }
	for _, c := range []struct {
		name  string
		from  time.Time
		hours int
		want  time.Time
	}{
		{"Monday noon + 48 h", at(2027, 3, 1, 12, 0), 48, at(2027, 3, 3, 12, 0)},
		{"Friday 17:30 + 48 h skips the weekend", at(2027, 2, 26, 17, 30), 48, at(2027, 3, 2, 17, 30)},
		{"Thursday 10:00 + 48 h", at(2027, 2, 25, 10, 0), 48, at(2027, 3, 1, 10, 0)},
		{"Saturday counts from Monday 00:00", at(2027, 2, 27, 15, 0), 48, at(2027, 3, 3, 0, 0)},
		{"Sunday 23:59 + 1 h", at(2027, 2, 28, 23, 59), 1, at(2027, 3, 1, 1, 0)},
		{"across the spring DST change (Friday 26 March 2027)", at(2027, 3, 26, 12, 0), 24, at(2027, 3, 29, 12, 0)},
		{"zero hours", at(2027, 2, 27, 15, 0), 0, at(2027, 2, 27, 15, 0)},
	} {
		if got := AddHoursExcludingWeekends(c.from, c.hours, brussels); !got.Equal(c.want) {
			t.Errorf("%s: %s, want %s", c.name, got.In(brussels), c.want)
		}
	}
}
