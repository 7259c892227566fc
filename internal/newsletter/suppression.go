package newsletter

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/suppression"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Reason is why an address is suppressed.
type Reason = suppression.Reason

// The reasons of a suppression.
const (
	ReasonUnsubscribed = suppression.ReasonUNSUBSCRIBED
	ReasonHardBounce   = suppression.ReasonHARD_BOUNCE
	ReasonComplaint    = suppression.ReasonCOMPLAINT
	ReasonStaff        = suppression.ReasonSTAFF
	ReasonErased       = suppression.ReasonERASED
)

// normalOrLower is an address's normal form, or it trimmed and lower-cased when it has none.
func normalOrLower(address string) string {
	if n, err := check.NormaliseEmail(address); err == nil {
		return n
	}
	return strings.ToLower(strings.TrimSpace(address))
}

// IsSuppressed reports which of addresses are suppressed (keyed by the address as given),
// in one query per 500 addresses through tx. The outbox's send-time filter calls it when it
// claims newsletter mail; it reads as the system (viewer.ForFacts unless ctx is already
// the system): the answer is a fact for the sender, never shown to anyone.
func IsSuppressed(ctx context.Context, tx *ent.Client, addresses []string) (map[string]bool, error) {
	return IsSuppressedKeyed(ctx, tx, nil, addresses)
}

// IsSuppressedKeyed is IsSuppressed that also finds the addresses of erased people, kept
// only as their keyed hash (KeyedHash under key; none when key is empty).
func IsSuppressedKeyed(ctx context.Context, tx *ent.Client, key []byte, addresses []string) (map[string]bool, error) {
	if !viewer.FromContext(ctx).IsSystem() {
		ctx = viewer.ForFacts(ctx)
	}
	out := make(map[string]bool, len(addresses))
	byHash := make(map[string][]string, len(addresses))
	for _, a := range addresses {
		for _, h := range suppressionHashes(key, a) {
			byHash[h] = append(byHash[h], a)
		}
	}
	hashes := make([]string, 0, len(byHash))
	for h := range byHash {
		hashes = append(hashes, h)
	}
	for len(hashes) > 0 {
		n := min(len(hashes), 500)
		found, err := tx.Suppression.Query().Where(suppression.EmailHashIn(hashes[:n]...)).Select(suppression.FieldEmailHash).Strings(ctx)
		if err != nil {
			return nil, fmt.Errorf("read suppressions: %w", err)
		}
		for _, h := range found {
			for _, a := range byHash[h] {
				out[a] = true
			}
		}
		hashes = hashes[n:]
	}
	return out, nil
}

// reasonRank orders reasons by weight: a stronger reason replaces a weaker one.
var reasonRank = map[Reason]int{ReasonUnsubscribed: 1, ReasonStaff: 2, ReasonHardBounce: 3, ReasonComplaint: 4, ReasonErased: 5}

// Suppress adds address to the suppression list with reason and detail (one line, cut to
// 1,000 characters), through tx as the viewer in ctx (the outbox's bounce callback and the
// webhook act as the system; staff as themselves). An address already suppressed keeps
// its row, taking the stronger reason. It returns the row.
func Suppress(ctx context.Context, tx *ent.Client, address string, reason Reason, detail string) (*ent.Suppression, error) {
	addr := normalOrLower(address)
	h := HashAddress(addr)
	detail = clip(oneLine(detail), 1000)
	email := addr
	if reason == ReasonErased {
		email = ""
	}
	cur, err := tx.Suppression.Query().Where(suppression.EmailHash(h)).Only(viewer.ForFacts(ctx))
	switch {
	case ent.IsNotFound(err):
		row, err := tx.Suppression.Create().SetEmailHash(h).SetEmail(email).SetReason(reason).SetDetail(detail).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("suppress: %w", err)
		}
		return row, nil
	case err != nil:
		return nil, fmt.Errorf("read suppression: %w", err)
	}
	if reasonRank[reason] <= reasonRank[cur.Reason] && (reason != ReasonErased || cur.Email == "") {
		return cur, nil
	}
	upd := tx.Suppression.UpdateOne(cur).SetReason(reason).SetDetail(detail)
	if reason == ReasonErased {
		upd.SetEmail("")
	}
	row, err := upd.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("suppress: %w", err)
	}
	return row, nil
}

// liftUnsubscribed removes an address's suppression when its reason was only leaving
// every list (or erasure): the person has subscribed again and confirmed. Bounces,
// complaints and staff suppressions stay.
func liftUnsubscribed(ctx context.Context, tx *ent.Client, key []byte, address string) error {
	_, err := tx.Suppression.Delete().Where(suppression.EmailHashIn(suppressionHashes(key, address)...), suppression.ReasonIn(ReasonUnsubscribed, ReasonErased)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("lift suppression: %w", err)
	}
	return nil
}

// blocked reports whether an address is suppressed for a reason that also stops its
// confirmation emails (bounced, complained, suppressed by staff).
func blocked(ctx context.Context, tx *ent.Client, address string) (bool, error) {
	n, err := tx.Suppression.Query().Where(suppression.EmailHash(HashAddress(address)),
		suppression.ReasonIn(ReasonHardBounce, ReasonComplaint, ReasonStaff)).Count(viewer.ForFacts(ctx))
	if err != nil {
		return false, fmt.Errorf("read suppression: %w", err)
	}
	return n > 0, nil
}

// SuppressAddress is staff suppressing an address by hand.
func (s *Service) SuppressAddress(ctx context.Context, tx *ent.Client, email, detail string) (*ent.Suppression, error) {
	if err := access.Require(ctx, access.CanManageNewsletter, "suppress addresses"); err != nil {
		return nil, err
	}
	var errs apperr.UserErrors
	addr := check.Email(&errs, email, check.Path("email"))
	detail = check.Text(&errs, detail, 1000, "The reason", check.Path("detail"))
	if check.HasControl(detail) {
		errs.Add(apperr.CodeInvalid, "The reason must be one line.", check.Path("detail")...)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return Suppress(ctx, tx, addr, ReasonStaff, detail)
}

func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return check.Invisible(r) }), " ")
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// KeyedHash is how the suppression list keeps an erased person's address: HMAC-SHA256
// (hex) of its normal form under the newsletter key (COALITION_NEWSLETTER_KEY), so the
// list cannot be tested against guessed addresses without the key, unlike HashAddress.
func KeyedHash(key []byte, address string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(normalOrLower(address)))
	return hex.EncodeToString(m.Sum(nil))
}

// suppressionHashes are the hashes an address may be suppressed under: its plain hash and,
// with a key, its keyed hash (erased people).
func suppressionHashes(key []byte, address string) []string {
	if len(key) == 0 {
		return []string{HashAddress(address)}
	}
	return []string{HashAddress(address), KeyedHash(key, address)}
}

// SuppressErased keeps an erased person's address only as its keyed hash in the
// suppression list (reason ERASED): a row under its plain hash (which held the address)
// is deleted, and one under KeyedHash is added unless there is one. Newsletter mail never
// reaches the address again unless the person subscribes anew and confirms (which lifts
// it, like an unsubscription). It reports whether it added a row.
func SuppressErased(ctx context.Context, tx *ent.Client, key []byte, address string) (bool, error) {
	if len(key) == 0 {
		return false, fmt.Errorf("suppress erased address: no newsletter key")
	}
	addr := normalOrLower(address)
	if _, err := tx.Suppression.Delete().Where(suppression.EmailHash(HashAddress(addr))).Exec(ctx); err != nil {
		return false, fmt.Errorf("suppress erased address: %w", err)
	}
	h := KeyedHash(key, addr)
	if ok, err := tx.Suppression.Query().Where(suppression.EmailHash(h)).Exist(viewer.ForFacts(ctx)); err != nil || ok {
		return false, err
	}
	if err := tx.Suppression.Create().SetEmailHash(h).SetEmail("").SetReason(ReasonErased).SetDetail("erased on request").Exec(ctx); err != nil {
		return false, fmt.Errorf("suppress erased address: %w", err)
	}
	return true, nil
}
