package groups

import (
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
)

func TestStatusOn(t *testing.T) {
	day := func(s string) *vocab.Date { d := vocab.Date(s); return &d }
	m := func(answer membership.Answer, endedOn *vocab.Date) *ent.Membership {
		return &ent.Membership{Answer: answer, TermStart: "2027-02-01", TermEnd: "2027-12-31", EndedOn: endedOn}
	}
	for _, c := range []struct {
		name  string
		m     *ent.Membership
		today vocab.Date
		want  Status
		cur   bool
	}{
		{"pending before the term", m(membership.AnswerPENDING, nil), "2027-01-12", StatusInvited, false},
		{"pending within the term", m(membership.AnswerPENDING, nil), "2027-03-01", StatusInvited, false},
		{"pending after the term", m(membership.AnswerPENDING, nil), "2028-01-01", StatusInvited, false},
		{"declined", m(membership.AnswerDECLINED, nil), "2027-03-01", StatusDeclined, false},
		{"accepted, the day before the term", m(membership.AnswerACCEPTED, nil), "2027-01-31", StatusUpcoming, false},
		{"accepted, first day", m(membership.AnswerACCEPTED, nil), "2027-02-01", StatusActive, true},
		{"accepted, last day", m(membership.AnswerACCEPTED, nil), "2027-12-31", StatusActive, true},
		{"accepted, the day after the term", m(membership.AnswerACCEPTED, nil), "2028-01-01", StatusEnded, false},
		{"ended early, its last day", m(membership.AnswerACCEPTED, day("2027-06-30")), "2027-06-30", StatusActive, true},
		{"ended early, the day after", m(membership.AnswerACCEPTED, day("2027-06-30")), "2027-07-01", StatusEnded, false},
		{"ended early, before its last day", m(membership.AnswerACCEPTED, day("2027-06-30")), "2027-05-01", StatusActive, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := StatusOn(c.m, c.today); got != c.want {
				t.Errorf("StatusOn(%s) = %s, want %s", c.today, got, c.want)
			}
			if got := IsCurrent(c.m, c.today); got != c.cur {
				t.Errorf("IsCurrent(%s) = %v, want %v", c.today, got, c.cur)
			}
		})
	}
}

func TestParseIntent(t *testing.T) {
	for _, c := range []struct {
		in     string
		action string
		ok     bool
	}{
		{"membership.accept:mbr_01J", IntentAccept, true},
		{"membership.decline:mbr_01J", IntentDecline, true},
		{"membership.accept:usr_01J", "", false},
		{"membership.delete:mbr_01J", "", false},
		{"membership.accept", "", false},
		{"", "", false},
	} {
		action, _, ok := parseIntent(c.in)
		if action != c.action || ok != c.ok {
			t.Errorf("parseIntent(%q) = %q, %v; want %q, %v", c.in, action, ok, c.action, c.ok)
		}
	}
}
