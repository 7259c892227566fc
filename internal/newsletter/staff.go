package newsletter

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"entgo.io/contrib/entgql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/consentevidence"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/predicate"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/subscriber"
	"github.com/gocart-coalition/coalition/ent/suppression"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/export"
	"github.com/gocart-coalition/coalition/internal/outbox"
)

// SubscriberFilter narrows the staff's subscriber list.
type SubscriberFilter struct {
	ListID *pulid.ID
	Status *newslettersubscription.Status
	Search *string
}

// Subscribers returns a page of subscribers (staff), by address unless order says otherwise.
func (s *Service) Subscribers(ctx context.Context, f SubscriberFilter, p Page, order *ent.SubscriberOrder) (*ent.SubscriberConnection, error) {
	if err := access.Require(ctx, access.CanManageNewsletter, "list subscribers"); err != nil {
		return nil, err
	}
	q := s.cfg.Client.Subscriber.Query()
	var sp []predicate.NewsletterSubscription
	if f.ListID != nil {
		sp = append(sp, newslettersubscription.ListID(*f.ListID))
	}
	if f.Status != nil {
		if err := newslettersubscription.StatusValidator(*f.Status); err != nil {
			return nil, apperr.New(apperr.BadRequest, "unknown status")
		}
		sp = append(sp, newslettersubscription.StatusEQ(*f.Status))
	}
	if len(sp) > 0 {
		q.Where(subscriber.HasSubscriptionsWith(sp...))
	}
	if f.Search != nil {
		term := strings.TrimSpace(*f.Search)
		if utf8.RuneCountInString(term) > 200 || check.HasControl(term) {
			return nil, apperr.New(apperr.BadRequest, "search: at most 200 characters of one line")
		}
		if term != "" {
			q.Where(subscriber.Or(subscriber.EmailContainsFold(term), subscriber.NameContainsFold(term)))
		}
	}
	if order == nil {
		order = &ent.SubscriberOrder{Field: ent.SubscriberOrderFieldEmail, Direction: entgql.OrderDirectionAsc}
	}
	return q.Paginate(ctx, p.After, p.First, p.Before, p.Last, ent.WithSubscriberOrder(order))
}

// Suppressions returns a page of the suppression list (staff), newest first.
func (s *Service) Suppressions(ctx context.Context, reason *Reason, p Page, order *ent.SuppressionOrder) (*ent.SuppressionConnection, error) {
	if err := access.Require(ctx, access.CanManageNewsletter, "see the suppression list"); err != nil {
		return nil, err
	}
	q := s.cfg.Client.Suppression.Query()
	if reason != nil {
		q.Where(suppression.ReasonEQ(*reason))
	}
	if order == nil {
		order = &ent.SuppressionOrder{Field: ent.SuppressionOrderFieldCreatedAt, Direction: entgql.OrderDirectionDesc}
	}
	return q.Paginate(ctx, p.After, p.First, p.Before, p.Last, ent.WithSuppressionOrder(order))
}

// csvHeader is the export's columns.
var csvHeader = []string{"email", "name", "status", "subscribed_at", "confirmed_at", "unsubscribed_at", "source", "consent_version", "suppressed"}

// ExportCSV is the subscribers of a list as CSV (staff), through internal/export (every
// cell defused against formulas), ordered by address.
func (s *Service) ExportCSV(ctx context.Context, list pulid.ID) (string, error) {
	if err := access.Require(ctx, access.CanManageNewsletter, "export subscribers"); err != nil {
		return "", err
	}
	if _, err := s.cfg.Client.MailingList.Get(ctx, list); err != nil {
		if ent.IsNotFound(err) {
			return "", apperr.New(apperr.NotFound, "no such list")
		}
		return "", err
	}
	rows, err := s.cfg.Client.NewsletterSubscription.Query().Where(newslettersubscription.ListID(list)).
		WithSubscriber().WithConsent(func(q *ent.ConsentEvidenceQuery) {
		q.Where(consentevidence.EventIn(consentevidence.EventSIGNUP, consentevidence.EventATTESTATION)).Order(ent.Asc(consentevidence.FieldAt))
	}).All(ctx)
	if err != nil {
		return "", fmt.Errorf("read subscriptions: %w", err)
	}
	addrs := make([]string, len(rows))
	for i, r := range rows {
		addrs[i] = r.Edges.Subscriber.Email
	}
	supp, err := IsSuppressedKeyed(ctx, s.cfg.Client, s.cfg.Key, addrs)
	if err != nil {
		return "", err
	}
	out := make([][]string, 0, len(rows))
	for _, r := range rows {
		source, version := "", ""
		if n := len(r.Edges.Consent); n > 0 {
			source, version = string(r.Edges.Consent[n-1].Source), r.Edges.Consent[n-1].ConsentVersion
		}
		sup := "no"
		if supp[r.Edges.Subscriber.Email] {
			sup = "yes"
		}
		created := r.CreatedAt
		out = append(out, []string{r.Edges.Subscriber.Email, r.Edges.Subscriber.Name, string(r.Status), export.Time(&created),
			export.Time(r.ConfirmedAt), export.Time(r.UnsubscribedAt), source, version, sup})
	}
	sortRows(out)
	return export.CSV(csvHeader, out)
}

// ImportInput is a staff CSV import into one list.
type ImportInput struct {
	ListID pulid.ID
	CSV    string
	// Attest: staff attest the consent was given elsewhere (Reason says where and how);
	// the people are subscribed at once. Otherwise each gets the opt-in email.
	Attest bool
	Reason string
}

// ImportResult says what an import did.
type ImportResult struct {
	Imported, Skipped int
}

// Import limits.
const (
	maxImportRows   = 10_000
	maxImportErrors = 50
)

type importRow struct {
	line        int
	email, name string
}

// Import imports subscribers from CSV into a list (staff). Every row is checked first:
// the header must be email[,name]; the text UTF-8; every address valid and once; names one
// line; no cell may start like a formula (=, +, -, @, tab, CR). Bad rows are reported with
// their line numbers (field ["csv", "line N", column]) and nothing is written. Then each
// person is subscribed as staff: with Attest, CONFIRMED at once with an ATTESTATION record
// (source IMPORT, the reason and the staff member); without, UNCONFIRMED with a SIGNUP
// record and the opt-in email. Suppressed and already confirmed addresses are skipped.
// The rows are written in batches (importRows), all in tx: nothing is half-imported.
func (s *Service) Import(ctx context.Context, tx *ent.Client, in ImportInput) (ImportResult, error) {
	if err := access.Require(ctx, access.CanManageNewsletter, "import subscribers"); err != nil {
		return ImportResult{}, err
	}
	var errs apperr.UserErrors
	l, err := tx.MailingList.Get(ctx, in.ListID)
	switch {
	case ent.IsNotFound(err):
		errs.Add(apperr.CodeNotFound, "There is no such list.", check.Path("listId")...)
	case err != nil:
		return ImportResult{}, fmt.Errorf("read list: %w", err)
	case l.Archived:
		errs.Add(apperr.CodeInvalidState, "The list is archived.", check.Path("listId")...)
	}
	reason := ""
	if in.Attest {
		reason = check.RequiredText(&errs, in.Reason, 1000, "The reason", "Say where and how these people consented.", check.Path("attestReason"))
		if check.HasControl(reason) {
			errs.Add(apperr.CodeInvalid, "The reason must be one line.", check.Path("attestReason")...)
		}
	}
	rows := parseImport(&errs, in.CSV)
	if err := errs.Err(); err != nil {
		return ImportResult{}, err
	}
	return s.importRows(ctx, tx, l, rows, in.Attest, reason)
}

// parseImport checks the whole file and returns its rows, or adds user errors.
func parseImport(errs *apperr.UserErrors, text string) []importRow {
	field := func(line int, col string) []string { return check.Path("csv", fmt.Sprintf("line %d", line), col) }
	if !utf8.ValidString(text) {
		errs.Add(apperr.CodeInvalid, "The file is not UTF-8 text: save it as CSV UTF-8 and try again.", check.Path("csv")...)
		return nil
	}
	text = strings.TrimPrefix(text, "\ufeff")
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		errs.Add(apperr.CodeRequired, "The file is empty.", check.Path("csv")...)
		return nil
	}
	if err != nil {
		errs.Add(apperr.CodeInvalid, "The file is not valid CSV: "+csvProblem(err), check.Path("csv")...)
		return nil
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(header[i]))
	}
	if !(len(header) == 1 && header[0] == "email") && !(len(header) == 2 && header[0] == "email" && header[1] == "name") {
		errs.Add(apperr.CodeInvalid, fmt.Sprintf("The first line must be the header email,name (or email alone); it is %q.", strings.Join(header, ",")), check.Path("csv", "line 1")...)
		return nil
	}
	var rows []importRow
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			errs.Add(apperr.CodeInvalid, "The file is not valid CSV: "+csvProblem(err), check.Path("csv")...)
			return nil
		}
		if len(rows) >= maxImportRows {
			errs.Add(apperr.CodeTooLong, fmt.Sprintf("A file can hold at most %d people; split it.", maxImportRows), check.Path("csv")...)
			return nil
		}
		if len(*errs) >= maxImportErrors {
			continue
		}
		if len(rec) != len(header) {
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("Line %d has %d cells; the header has %d.", line, len(rec), len(header)), field(line, "")...)
			continue
		}
		bad := false
		for i, c := range rec {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				errs.Add(apperr.CodeInvalid, fmt.Sprintf("Line %d: the %s starts like a spreadsheet formula (%q); remove the leading character.", line, header[i], c[:1]), field(line, header[i])...)
				bad = true
			}
		}
		if bad {
			continue
		}
		var rowErrs apperr.UserErrors
		addr := check.Email(&rowErrs, rec[0], nil)
		name := ""
		if len(rec) > 1 {
			name = check.Text(&rowErrs, rec[1], maxName, "The name", nil)
			if check.HasControl(name) {
				rowErrs.Add(apperr.CodeInvalid, "The name must be one line of text.")
			}
		}
		for i, e := range rowErrs {
			col := "email"
			if i > 0 || (len(rec) > 1 && addr != "") {
				col = "name"
			}
			errs.Add(e.Code, fmt.Sprintf("Line %d: %s", line, e.Message), field(line, col)...)
		}
		if len(rowErrs) > 0 {
			continue
		}
		if first, dup := seen[addr]; dup {
			errs.Add(apperr.CodeInvalid, fmt.Sprintf("Line %d: %s is already on line %d.", line, addr, first), field(line, "email")...)
			continue
		}
		seen[addr] = line
		rows = append(rows, importRow{line: line, email: addr, name: name})
	}
	if len(rows) == 0 && len(*errs) == 0 {
		errs.Add(apperr.CodeRequired, "The file has a header but nobody in it.", check.Path("csv")...)
	}
	return rows
}

func csvProblem(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("line %d: %v.", pe.Line, pe.Err)
	}
	return "it could not be read."
}

// Erase erases a person (staff): their subscriber record, subscriptions and consent
// evidence are deleted, the newsletter's outbox rows to them are redacted
// (outbox.Redact: no address, name or personal values left; unsent ones cancelled), and their address is kept only as a hash in the suppression list
// (reason ERASED, or the existing row's reason with its address blanked), so no newsletter
// reaches it again unless they sign up anew. An audit event records the erasure by the
// address's hash. It reports whether a subscriber existed.
func (s *Service) Erase(ctx context.Context, tx *ent.Client, email string) (bool, error) {
	if err := access.Require(ctx, access.CanManageNewsletter, "erase subscribers"); err != nil {
		return false, err
	}
	var errs apperr.UserErrors
	addr := check.Email(&errs, email, check.Path("email"))
	if err := errs.Err(); err != nil {
		return false, err
	}
	sub, err := tx.Subscriber.Query().Where(subscriber.Email(addr)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return false, fmt.Errorf("read subscriber: %w", err)
	}
	if sub != nil {
		ids, err := sub.QuerySubscriptions().IDs(ctx)
		if err != nil {
			return false, err
		}
		if _, err := tx.ConsentEvidence.Delete().Where(consentevidence.SubscriptionIDIn(ids...)).Exec(ctx); err != nil {
			return false, fmt.Errorf("erase consent: %w", err)
		}
		if _, err := tx.NewsletterSubscription.Delete().Where(newslettersubscription.SubscriberID(sub.ID)).Exec(ctx); err != nil {
			return false, fmt.Errorf("erase subscriptions: %w", err)
		}
		if err := tx.Subscriber.DeleteOne(sub).Exec(ctx); err != nil {
			return false, fmt.Errorf("erase subscriber: %w", err)
		}
	}
	if _, err := SuppressErased(ctx, tx, s.cfg.Key, addr); err != nil {
		return false, err
	}
	// The newsletter's emails to the address (confirmations, campaign deliveries, test
	// sends) keep their states and times for the counts, but no longer the address, the
	// name or anything rendered for them; those not yet sent are cancelled.
	redacted, err := outbox.Redact(ctx, tx, addr, OutboxTemplates...)
	if err != nil {
		return false, err
	}
	if err := audit.Record(ctx, tx, s.now(), audit.Event{
		Action: "newsletter.erase", ObjectType: "Subscriber", ObjectID: HashAddress(addr),
		Details: map[string]any{"existed": sub != nil, "emails_redacted": redacted},
	}); err != nil {
		return false, err
	}
	return sub != nil, nil
}

func sortRows(rows [][]string) {
	sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
}
