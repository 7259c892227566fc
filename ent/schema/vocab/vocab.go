// Package vocab holds the controlled vocabularies and value types stored in ent fields:
// ISO 3166-1 country codes, ISO 639-1 language codes, calendar dates, and the CAR-T focus
// areas of host centres. Services and schema validators share these checks.
package vocab

import (
	"database/sql/driver"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
	// The coalition's zone must load on machines without system zoneinfo.
	_ "time/tzdata"

	"golang.org/x/text/language"
)

// Zone is the coalition's time zone: "today" (a membership's status, term-end warnings)
// is the date in Brussels.
var Zone = mustLoadLocation("Europe/Brussels")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("vocab: load time zone %s: %v", name, err))
	}
	return loc
}

// Today returns the date of t in the coalition's zone.
func Today(t time.Time) Date { return DateOf(t, Zone) }

// AddDays returns the date n days after d (before, for negative n).
func (d Date) AddDays(n int) Date { return Date(d.Time().AddDate(0, 0, n).Format(DateLayout)) }

// IsCountry reports whether s is an assigned ISO 3166-1 alpha-2 country code ("CZ").
func IsCountry(s string) bool {
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return false
	}
	r, err := language.ParseRegion(s)
	return err == nil && r.IsCountry() && r.String() == s
}

// IsLanguage reports whether s is an ISO 639-1 language code ("cs").
func IsLanguage(s string) bool {
	if len(s) != 2 || s[0] < 'a' || s[0] > 'z' || s[1] < 'a' || s[1] > 'z' {
		return false
	}
	b, err := language.ParseBase(s)
	return err == nil && b.String() == s
}

// ValidateCountry is an ent field validator.
func ValidateCountry(s string) error {
	if !IsCountry(s) {
		return fmt.Errorf("%q is not an ISO 3166-1 alpha-2 country code", s)
	}
	return nil
}

// Date is a calendar date, "YYYY-MM-DD", stored as text: it sorts and compares correctly
// as a string on every dialect and carries no time zone.
type Date string

// DateLayout is the format of a Date.
const DateLayout = "2006-01-02"

// ParseDate parses a strict YYYY-MM-DD date.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil || t.Format(DateLayout) != s {
		return "", fmt.Errorf("%q is not a date in the form YYYY-MM-DD", s)
	}
	return Date(s), nil
}

// DateOf returns the date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date { return Date(t.In(loc).Format(DateLayout)) }

// Validate checks the format (an ent field validator through ValidateDate).
func (d Date) Validate() error { _, err := ParseDate(string(d)); return err }

// ValidateDate is an ent field validator.
func ValidateDate(s string) error { _, err := ParseDate(s); return err }

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { t, _ := time.Parse(DateLayout, string(d)); return t }

// String implements fmt.Stringer.
func (d Date) String() string { return string(d) }

// MarshalGQL implements graphql.Marshaler.
func (d Date) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(d))) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (d *Date) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("a Date must be a string in the form YYYY-MM-DD")
	}
	p, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// Scan implements sql.Scanner.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case string:
		*d = Date(v)
	case []byte:
		*d = Date(v)
	case time.Time:
		*d = Date(v.UTC().Format(DateLayout))
	case nil:
		*d = ""
	default:
		return fmt.Errorf("vocab: cannot scan %T into a Date", src)
	}
	return nil
}

// Value implements driver.Valuer.
func (d Date) Value() (driver.Value, error) { return string(d), nil }

// FocusArea is a clinical or professional focus of a CAR-T centre or observer slot.
type FocusArea string

// Focus areas.
const (
	FocusLymphoma       FocusArea = "LYMPHOMA"
	FocusMyeloma        FocusArea = "MYELOMA"
	FocusALL            FocusArea = "ALL"
	FocusCLL            FocusArea = "CLL"
	FocusCNSLymphoma    FocusArea = "CNS_LYMPHOMA"
	FocusPaediatric     FocusArea = "PAEDIATRIC"
	FocusCellProcessing FocusArea = "CELL_PROCESSING"
	FocusPharmacy       FocusArea = "PHARMACY"
	FocusNursing        FocusArea = "NURSING"
)

// FocusAreas lists every focus area in a stable order.
var FocusAreas = []FocusArea{FocusLymphoma, FocusMyeloma, FocusALL, FocusCLL, FocusCNSLymphoma,
	FocusPaediatric, FocusCellProcessing, FocusPharmacy, FocusNursing}

// Valid reports whether f is a known focus area.
func (f FocusArea) Valid() bool { return slices.Contains(FocusAreas, f) }

// MarshalGQL implements graphql.Marshaler.
func (f FocusArea) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(f))) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (f *FocusArea) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !FocusArea(s).Valid() {
		return fmt.Errorf("%v is not a valid FocusArea", v)
	}
	*f = FocusArea(s)
	return nil
}

// InterestKind is the kind of a declared interest (conflict of interest).
type InterestKind string

// Kinds of interest.
const (
	InterestEmployment       InterestKind = "EMPLOYMENT"
	InterestConsultancy      InterestKind = "CONSULTANCY"
	InterestAdvisoryBoard    InterestKind = "ADVISORY_BOARD"
	InterestSpeakerFees      InterestKind = "SPEAKER_FEES"
	InterestResearchFunding  InterestKind = "RESEARCH_FUNDING"
	InterestTravelSupport    InterestKind = "TRAVEL_SUPPORT"
	InterestEquity           InterestKind = "EQUITY"
	InterestIntellectualProp InterestKind = "INTELLECTUAL_PROPERTY"
	InterestOther            InterestKind = "OTHER"
)

// InterestKinds lists every kind of interest in a stable order.
var InterestKinds = []InterestKind{InterestEmployment, InterestConsultancy, InterestAdvisoryBoard, InterestSpeakerFees,
	InterestResearchFunding, InterestTravelSupport, InterestEquity, InterestIntellectualProp, InterestOther}

// Valid reports whether k is a known kind of interest.
func (k InterestKind) Valid() bool { return slices.Contains(InterestKinds, k) }

// MarshalGQL implements graphql.Marshaler.
func (k InterestKind) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(k))) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (k *InterestKind) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !InterestKind(s).Valid() {
		return fmt.Errorf("%v is not a valid InterestKind", v)
	}
	*k = InterestKind(s)
	return nil
}

// Interest is one entry of a conflict-of-interest declaration: a relationship with an
// organisation (typically industry) of some kind over a period.
type Interest struct {
	// Organisation is the organisation's name as declared (it need not be in the directory).
	Organisation string       `json:"organisation"`
	Kind         InterestKind `json:"kind"`
	// Description says what the interest is, e.g. "advisory board on BCMA CAR-T"; may be empty.
	Description string `json:"description"`
	// From is the first day; To the last, nil while it is ongoing.
	From Date  `json:"from"`
	To   *Date `json:"to,omitempty"`
}

// Criterion is one review criterion of a call: reviewers score each eligible application
// on it from 1 to 5, and the weighted mean of the scores ranks the applications.
type Criterion struct {
	// Key identifies the criterion within the call, e.g. "motivation" (lower case, a-z, 0-9, _).
	Key string `json:"key"`
	// Name is what reviewers read, e.g. "Motivation and fit".
	Name string `json:"name"`
	// Weight is the criterion's weight, 1–100.
	Weight int `json:"weight"`
}

// DocumentKind is the kind of an application document.
type DocumentKind string

// Kinds of application document.
const (
	DocumentCV               DocumentKind = "CV"
	DocumentMotivationLetter DocumentKind = "MOTIVATION_LETTER"
	DocumentSupportLetter    DocumentKind = "SUPPORT_LETTER"
	DocumentRefereeLetter    DocumentKind = "REFEREE_LETTER"
)

// DocumentKinds lists every kind of document in a stable order.
var DocumentKinds = []DocumentKind{DocumentCV, DocumentMotivationLetter, DocumentSupportLetter, DocumentRefereeLetter}

// Valid reports whether k is a known kind of document.
func (k DocumentKind) Valid() bool { return slices.Contains(DocumentKinds, k) }

// MarshalGQL implements graphql.Marshaler.
func (k DocumentKind) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(k))) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (k *DocumentKind) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !DocumentKind(s).Valid() {
		return fmt.Errorf("%v is not a valid DocumentKind", v)
	}
	*k = DocumentKind(s)
	return nil
}

// DateRange is a range of days, both included.
type DateRange struct {
	From Date `json:"from"`
	To   Date `json:"to"`
}

// Values implements ent's field.EnumValues, so DocumentKind can type an enum column.
func (DocumentKind) Values() []string {
	out := make([]string, len(DocumentKinds))
	for i, k := range DocumentKinds {
		out[i] = string(k)
	}
	return out
}

// Override is a staff pin or exclusion as a match run recorded it.
type Override struct {
	ApplicationID string `json:"applicationId"`
	SlotID        string `json:"slotId"`
	// Kind is PIN or EXCLUDE.
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
}

// FrozenDeclaration is what a published statement revision shows of an author's
// conflict-of-interest declaration: copied when the revision was published, so later
// declarations do not change it.
type FrozenDeclaration struct {
	// Person is the author's name as it was then.
	Person string `json:"person"`
	// Statement is the declaration in words: "Nothing to declare." or the interests, one a line.
	Statement string `json:"statement"`
	// DeclaredOn is the day of the declaration.
	DeclaredOn Date `json:"declaredOn"`
	// DeclarationID is the declaration copied.
	DeclarationID string `json:"declarationId"`
}

// FrozenSigner is an organisation that signed (co-author) or endorsed a published
// statement revision, as it was shown when the revision was published.
type FrozenSigner struct {
	Organisation string `json:"organisation"`
	Country      string `json:"country"`
	// Role is CO_AUTHOR or ENDORSER.
	Role string `json:"role"`
	// SignedAt is the latest sign-off (or endorsement) of the organisation on the revision.
	SignedAt time.Time `json:"signedAt"`
	// People are the names of the signatories who signed for it.
	People []string `json:"people"`
}

// ConsentPurpose is what a person's consent is for (internal/consent).
type ConsentPurpose string

// The purposes of consent.
const (
	// ConsentNewsletter: receiving the newsletter lists one subscribed to (given per
	// subscription through the double opt-in, not through giveConsent).
	ConsentNewsletter ConsentPurpose = "NEWSLETTER"
	// ConsentDirectoryProfile: one's directory profile (name and affiliations with
	// positions) shown to other signed-in users.
	ConsentDirectoryProfile ConsentPurpose = "DIRECTORY_PROFILE"
	// ConsentHostContact: being listed by name as a contact of the host centres one
	// coordinates.
	ConsentHostContact ConsentPurpose = "HOST_CONTACT"
)

// ConsentPurposes lists every purpose in a stable order.
var ConsentPurposes = []ConsentPurpose{ConsentNewsletter, ConsentDirectoryProfile, ConsentHostContact}

// Valid reports whether p is a known purpose.
func (p ConsentPurpose) Valid() bool { return slices.Contains(ConsentPurposes, p) }

// MarshalGQL implements graphql.Marshaler.
func (p ConsentPurpose) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(p))) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (p *ConsentPurpose) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok || !ConsentPurpose(s).Valid() {
		return fmt.Errorf("%v is not a valid ConsentPurpose", v)
	}
	*p = ConsentPurpose(s)
	return nil
}

// Values implements ent's field.EnumValues, so ConsentPurpose can type an enum column.
func (ConsentPurpose) Values() []string {
	out := make([]string, len(ConsentPurposes))
	for i, p := range ConsentPurposes {
		out[i] = string(p)
	}
	return out
}
