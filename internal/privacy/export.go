package privacy

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"entgo.io/contrib/entgql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/dataexport"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/docstore"
	"github.com/gocart-coalition/coalition/internal/notify"
	"github.com/gocart-coalition/coalition/internal/secret"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// RequestExport asks for a copy of person's data (the caller's own when person is empty).
// The person themselves and staff may ask (access.CanExportPersonalData). A request while
// one is waiting to be built returns that one: a double request makes one export. User
// error: NOT_FOUND for an unknown person.
func (s *Service) RequestExport(ctx context.Context, tx *ent.Client, person pulid.ID) (*ent.DataExport, error) {
	if err := access.RequireSignedIn(ctx, "ask for a copy of personal data"); err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	if person == "" {
		person = pulid.ID(v.UserID)
	}
	if err := access.RequireThat(ctx, access.CanExportPersonalData(v, string(person)), "ask for a copy of personal data", "the person themselves or staff may ask for a copy of their data"); err != nil {
		return nil, err
	}
	facts := viewer.ForFacts(ctx)
	if ok, err := tx.User.Query().Where(user.ID(person)).Exist(facts); err != nil {
		return nil, fmt.Errorf("check person %s: %w", person, err)
	} else if !ok {
		return nil, apperr.Invalid(apperr.CodeNotFound, "No such person.", "input", "personId")
	}
	if e, err := tx.DataExport.Query().
		Where(dataexport.PersonID(person), dataexport.StatusEQ(dataexport.StatusQUEUED)).
		Only(ctx); err == nil {
		return e, nil
	} else if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("find queued export: %w", err)
	}
	by := pulid.ID(v.UserID)
	if by == "" {
		by = person // the system asking (CLI): recorded as the person's own request
	}
	e, err := tx.DataExport.Create().SetPersonID(person).SetRequestedByID(by).Save(ctx)
	if err != nil {
		return nil, db.Conflict(err, "an export for this person was requested at the same time", "create data export")
	}
	if t := ent.TxFromContext(ctx); t != nil {
		t.OnCommit(func(next ent.Committer) ent.Committer {
			return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
				err := next.Commit(ctx, tx)
				if err == nil {
					s.cfg.Wake()
				}
				return err
			})
		})
	}
	return e, nil
}

// RunExports is the exports job: it builds every queued export (one ZIP each, the link
// emailed to the person), then deletes the files of exports whose link expired. It
// returns how many it built and how many it expired.
func (s *Service) RunExports(ctx context.Context) (built, expired int, err error) {
	ctx = viewer.NewSystemContext(ctx)
	queued, err := s.cfg.Client.DataExport.Query().
		Where(dataexport.StatusEQ(dataexport.StatusQUEUED)).
		Order(ent.Asc(dataexport.FieldCreatedAt), ent.Asc(dataexport.FieldID)).
		All(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("list queued exports: %w", err)
	}
	var errs []error
	for _, e := range queued {
		// One export that cannot be built does not hold up the others; it stays QUEUED
		// and is tried again at the next run.
		if err := s.build(ctx, e); err != nil {
			s.log.ErrorContext(ctx, "build data export", "export", e.ID, "err", err)
			errs = append(errs, fmt.Errorf("build export %s: %w", e.ID, err))
			continue
		}
		built++
	}
	now := s.now()
	due, err := s.cfg.Client.DataExport.Query().
		Where(dataexport.StatusEQ(dataexport.StatusREADY), dataexport.ExpiresAtLTE(now)).
		All(ctx)
	if err != nil {
		return built, 0, fmt.Errorf("list expired exports: %w", err)
	}
	for _, e := range due {
		n, err := s.cfg.Client.DataExport.Update().
			Where(dataexport.ID(e.ID), dataexport.StatusEQ(dataexport.StatusREADY)).
			SetStatus(dataexport.StatusEXPIRED).SetFile("").
			Save(ctx)
		if err != nil {
			return built, expired, fmt.Errorf("expire export %s: %w", e.ID, err)
		}
		if n == 1 {
			s.remove(e.File)
			expired++
		}
	}
	if err := s.sweep(ctx); err != nil {
		errs = append(errs, err)
	}
	return built, expired, errors.Join(errs...)
}

// sweep deletes files in the exports directory that no READY export names: a ZIP built by
// a run that died before it was recorded, or one whose export was downloaded or expired
// while its removal failed, and temporary files more than an hour old.
func (s *Service) sweep(ctx context.Context) error {
	entries, err := os.ReadDir(s.cfg.Dir)
	if err != nil {
		return fmt.Errorf("list exports directory: %w", err)
	}
	ready, err := s.cfg.Client.DataExport.Query().
		Where(dataexport.StatusEQ(dataexport.StatusREADY)).Select(dataexport.FieldFile).Strings(ctx)
	if err != nil {
		return fmt.Errorf("list ready exports: %w", err)
	}
	keep := map[string]bool{}
	for _, f := range ready {
		keep[f] = true
	}
	for _, de := range entries {
		name := de.Name()
		if de.IsDir() || keep[name] {
			continue
		}
		if strings.HasPrefix(name, ".export-") {
			if info, err := de.Info(); err != nil || s.now().Sub(info.ModTime()) < time.Hour {
				continue
			}
		} else if filepath.Ext(name) != ".zip" {
			continue
		}
		s.remove(name)
	}
	return nil
}

// build writes e's ZIP, then in one transaction marks it READY with a fresh link and queues
// the email; if that fails, the file is removed.
func (s *Service) build(ctx context.Context, e *ent.DataExport) error {
	u, err := s.cfg.Client.User.Get(ctx, e.PersonID)
	if err != nil {
		return fmt.Errorf("load person: %w", err)
	}
	name := string(e.ID) + ".zip"
	size, err := s.writeZIP(ctx, filepath.Join(s.cfg.Dir, name), Person{ID: u.ID, Email: u.Email})
	if err != nil {
		return err
	}
	link := secret.New(linkPrefix)
	now := s.now()
	expires := now.Add(LinkValidity)
	err = db.InTx(ctx, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
		n, err := tx.DataExport.Update().
			Where(dataexport.ID(e.ID), dataexport.StatusEQ(dataexport.StatusQUEUED)).
			SetStatus(dataexport.StatusREADY).SetTokenHash(secret.Hash(link)).SetFile(name).SetSize(size).
			SetReadyAt(now).SetExpiresAt(expires).
			Save(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return apperr.LostRace("data export")
		}
		return s.cfg.Notifier.DataExportReady(ctx, tx, notify.Recipient{Email: u.Email, Name: u.Name}, notify.DataExportData{
			URL: s.DownloadURL(link), Expires: expires.Format("2 January 2006, 15:04 UTC"), ByStaff: e.RequestedByID != e.PersonID,
		}, "data_export:"+string(e.ID))
	})
	if err != nil {
		s.remove(name)
		return err
	}
	return nil
}

func (s *Service) remove(name string) {
	if name == "" || filepath.Base(name) != name {
		return
	}
	if err := os.Remove(filepath.Join(s.cfg.Dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("remove export file", "file", name, "err", err)
	}
}

// Manifest is the export's manifest.json.
type Manifest struct {
	Person     Person    `json:"person"`
	ExportedAt time.Time `json:"exported_at"`
	// Files lists every file of the ZIP besides manifest.json: one <domain>.json per
	// registered domain, then the documents.
	Files []string `json:"files"`
	// MissingDocuments are documents on record whose file the store no longer has.
	MissingDocuments []string `json:"missing_documents,omitempty"`
}

// writeZIP writes p's export to file (through a temporary file renamed into place) and
// returns its size.
func (s *Service) writeZIP(ctx context.Context, file string, p Person) (int64, error) {
	facts := viewer.ForFacts(ctx)
	tmp, err := os.CreateTemp(s.cfg.Dir, ".export-*")
	if err != nil {
		return 0, fmt.Errorf("create export file: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	defer tmp.Close()
	zw := zip.NewWriter(tmp)
	m := Manifest{Person: p, ExportedAt: s.now()}
	var docs []Document
	for _, d := range s.cfg.Registry.Domains() {
		part, err := d.Export(facts, s.cfg.Client, p)
		if err != nil {
			return 0, fmt.Errorf("export %s: %w", d.Name(), err)
		}
		name := d.Name() + ".json"
		if err := writeJSON(zw, name, part.Data); err != nil {
			return 0, err
		}
		m.Files = append(m.Files, name)
		docs = append(docs, part.Documents...)
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i].Path < docs[j].Path })
	for _, doc := range docs {
		name := path.Join("documents", path.Clean("/" + doc.Path)[1:])
		err := s.copyDocument(zw, name, doc.SHA256)
		if errors.Is(err, docstore.ErrNotFound) {
			// A document row whose file is gone (a store restored from an older backup):
			// said in the manifest rather than failing the whole export.
			m.MissingDocuments = append(m.MissingDocuments, name)
			continue
		}
		if err != nil {
			return 0, err
		}
		m.Files = append(m.Files, name)
	}
	if err := writeJSON(zw, "manifest.json", m); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, fmt.Errorf("finish export file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return 0, fmt.Errorf("sync export file: %w", err)
	}
	st, err := tmp.Stat()
	if err != nil {
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return 0, fmt.Errorf("store export file: %w", err)
	}
	return st.Size(), nil
}

func writeJSON(zw *zip.Writer, name string, v any) error {
	w, err := zw.Create(name)
	if err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func (s *Service) copyDocument(zw *zip.Writer, name, sha string) error {
	f, err := s.cfg.Documents.Open(sha)
	if err != nil {
		return fmt.Errorf("open document %s: %w", name, err)
	}
	defer f.Close()
	w, err := zw.Create(name)
	if err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("copy %s: %w", name, err)
	}
	return nil
}

// Download claims the export whose link secret is token, once, and returns its file open
// for reading (already unlinked: the file is gone from the disk once the caller closes it)
// and its size. User errors: NOT_FOUND for a link nobody was given, ALREADY_USED for a
// link used before, EXPIRED for a link past its time.
func (s *Service) Download(ctx context.Context, token string) (*os.File, *ent.DataExport, error) {
	ctx = viewer.NewSystemContext(ctx)
	notFound := apperr.Invalid(apperr.CodeNotFound, "This download link is not one we sent. Use the link from the most recent email, or ask for a new copy of your data.", "token")
	if !secret.Plausible(token, linkPrefix) {
		return nil, nil, notFound
	}
	var out *os.File
	var exp *ent.DataExport
	err := db.InTx(ctx, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
		e, err := tx.DataExport.Query().Where(dataexport.TokenHash(secret.Hash(token))).Only(ctx)
		if ent.IsNotFound(err) {
			return notFound
		}
		if err != nil {
			return fmt.Errorf("find export: %w", err)
		}
		now := s.now()
		switch {
		case e.Status == dataexport.StatusDOWNLOADED:
			return apperr.Invalid(apperr.CodeAlreadyUsed, "This download link has already been used, and the file was deleted after that download. Ask for a new copy of your data.", "token")
		case e.Status != dataexport.StatusREADY || e.ExpiresAt == nil || !now.Before(*e.ExpiresAt):
			return apperr.Invalid(apperr.CodeExpired, "This download link has expired, and the file was deleted. Ask for a new copy of your data.", "token")
		}
		f, err := os.Open(filepath.Join(s.cfg.Dir, e.File))
		if err != nil {
			return fmt.Errorf("open export file: %w", err)
		}
		n, err := tx.DataExport.Update().
			Where(dataexport.ID(e.ID), dataexport.StatusEQ(dataexport.StatusREADY)).
			SetStatus(dataexport.StatusDOWNLOADED).SetDownloadedAt(now).SetFile("").
			Save(ctx)
		if err == nil && n == 0 {
			err = apperr.Invalid(apperr.CodeAlreadyUsed, "This download link has already been used. Ask for a new copy of your data.", "token")
		}
		if err != nil {
			f.Close()
			return err
		}
		out, exp = f, e
		return nil
	})
	if err != nil {
		if out != nil { // the commit failed after the file was opened
			out.Close()
		}
		return nil, nil, err
	}
	// Committed: the link is used up. Unlinking now leaves the open file readable to
	// the caller; the disk space is freed when it closes it.
	s.remove(exp.File)
	return out, exp, nil
}

// Exports is a page of person's data exports (the viewer's own when person is empty),
// newest first: the person and staff (access.CanExportPersonalData).
func (s *Service) Exports(ctx context.Context, person pulid.ID, p db.Page) (*ent.DataExportConnection, error) {
	if err := access.RequireSignedIn(ctx, "read data exports"); err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	if person == "" {
		person = pulid.ID(v.UserID)
	}
	if err := access.RequireThat(ctx, access.CanExportPersonalData(v, string(person)), "read data exports", "the person themselves or staff may read their data exports"); err != nil {
		return nil, err
	}
	order := &ent.DataExportOrder{Field: ent.DataExportOrderFieldCreatedAt, Direction: entgql.OrderDirectionDesc}
	conn, err := s.cfg.Client.DataExport.Query().Where(dataexport.PersonID(person)).
		Paginate(ctx, p.After, p.First, p.Before, p.Last, ent.WithDataExportOrder(order))
	if err != nil {
		return nil, fmt.Errorf("data exports: %w", err)
	}
	return conn, nil
}
