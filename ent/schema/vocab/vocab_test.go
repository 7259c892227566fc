package vocab

import "testing"

func TestCodes(t *testing.T) {
	for s, want := range map[string]bool{"CZ": true, "RO": true, "IE": true, "FR": true, "DE": true, "GB": true,
		"cz": false, "CZE": false, "ZZ": false, "XX": false, "EU": false, "": false, "276": false, "C": false} {
		if got := IsCountry(s); got != want {
			t.Errorf("IsCountry(%q) = %v, want %v", s, got, want)
		}
	}
	for s, want := range map[string]bool{"cs": true, "ro": true, "en": true, "de": true, "fr": true, "ga": true,
		"CS": false, "ces": false, "xx": false, "": false, "e": false} {
		if got := IsLanguage(s); got != want {
			t.Errorf("IsLanguage(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestDates(t *testing.T) {
	for s, ok := range map[string]bool{"2027-01-12": true, "2028-02-29": true, "2027-02-29": false,
		"2027-1-12": false, "12/01/2027": false, "": false, "2027-01-12T00:00:00Z": false} {
		if _, err := ParseDate(s); (err == nil) != ok {
			t.Errorf("ParseDate(%q) err = %v, want ok=%v", s, err, ok)
		}
	}
	if Date("2027-01-12") >= Date("2027-02-01") {
		t.Error("dates must order as strings")
	}
}
