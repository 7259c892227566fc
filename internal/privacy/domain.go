package privacy

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
)

// Person is whom a request is about.
type Person struct {
	ID pulid.ID `json:"id"`
	// Email is the account's normalised address (rows outside the account, such as
	// newsletter subscribers and mail, are found by it).
	Email string `json:"email"`
	// Name is the account's name when the caller read it before anything was erased (an
	// erasure sets it, so the domains that run after the account was anonymised still
	// find the name inside kept free text: see PersonValues); empty otherwise.
	Name string `json:"name,omitempty"`
}

// Category is one kind of personal data a domain processes: a row of the record of
// processing activities (GDPR Art. 30).
type Category struct {
	// Name of the category, e.g. "Account".
	Name string
	// Data lists what is held, e.g. "email address, name, roles".
	Data string
	// Purpose says why it is processed.
	Purpose string
	// LegalBasis names the GDPR Art. 6 basis, e.g. "Art. 6(1)(b) contract".
	LegalBasis string
	// Retention says how long it is kept (and what deletes it).
	Retention string
	// Recipients says who sees it besides staff.
	Recipients string
}

// Document is an uploaded file that belongs in a person's export.
type Document struct {
	// Path inside the ZIP under documents/, e.g. "app_01…/cv.pdf".
	Path string `json:"path"`
	// SHA256 names the file in the document store.
	SHA256 string `json:"sha256"`
}

// Part is what one domain contributes to a person's export.
type Part struct {
	// Data is written as <domain name>.json (encoding/json; ent entities marshal their
	// fields, Sensitive ones left out).
	Data any
	// Documents are copied into the ZIP under documents/.
	Documents []Document
}

// Domain is how a domain takes part in data-subject requests. Every ent schema holding
// personal data (a field marked personal.Data(), or an edge to User) must be named by
// exactly one registered domain's Entities, or TestEverySchemaWithPersonalDataHasADomain
// fails.
type Domain interface {
	// Name is the domain's name in the export (<name>.json) and in the report:
	// lower case letters, digits and hyphens.
	Name() string
	// Entities are the ent schema types whose rows about a person this domain answers for.
	Entities() []string
	// Categories are the rows of the record of processing for this domain.
	Categories() []Category
	// Export returns everything the domain holds about p, read through client (whose
	// context reads as viewer.ForFacts), and nothing about anyone else.
	Export(ctx context.Context, client *ent.Client, p Person) (Part, error)
	// Erase removes or anonymises everything the domain holds about p, through client
	// (the erasure's one transaction, whose context reads as the system viewer). It
	// returns what it changed and the stored documents to delete once the transaction has
	// committed. An error rolls the whole erasure back.
	Erase(ctx context.Context, client *ent.Client, p Person) (Erased, error)
}

// Erased is what one domain's Erase changed.
type Erased struct {
	// Rows counts the rows deleted or anonymised (for the erasure's record).
	Rows int
	// Documents are deleted from the store after the commit (a failure there is retried by
	// the erasure job; the rows no longer name them).
	Documents []Document
}

// Registry is the list of domains, in registration order.
type Registry struct{ domains []Domain }

var validName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// NewRegistry returns a registry of domains, refusing a bad or repeated name and an entity
// claimed twice.
func NewRegistry(domains ...Domain) (*Registry, error) {
	r := &Registry{}
	for _, d := range domains {
		if err := r.Register(d); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Register adds a domain.
func (r *Registry) Register(d Domain) error {
	if d == nil || !validName.MatchString(d.Name()) {
		return fmt.Errorf("privacy: bad domain name %q", nameOf(d))
	}
	if len(d.Categories()) == 0 {
		return fmt.Errorf("privacy: domain %s declares no category", d.Name())
	}
	for _, o := range r.domains {
		if o.Name() == d.Name() {
			return fmt.Errorf("privacy: domain %s registered twice", d.Name())
		}
		for _, e := range d.Entities() {
			if slices.Contains(o.Entities(), e) {
				return fmt.Errorf("privacy: entity %s claimed by %s and %s", e, o.Name(), d.Name())
			}
		}
	}
	r.domains = append(r.domains, d)
	return nil
}

func nameOf(d Domain) string {
	if d == nil {
		return "<nil>"
	}
	return d.Name()
}

// Domains returns the registered domains in order.
func (r *Registry) Domains() []Domain { return slices.Clone(r.domains) }

// Owner returns the domain that answers for entity, or nil.
func (r *Registry) Owner(entity string) Domain {
	for _, d := range r.domains {
		if slices.Contains(d.Entities(), entity) {
			return d
		}
	}
	return nil
}

// ErrNoDomains is returned by an export when nothing is registered.
var ErrNoDomains = errors.New("privacy: no domain registered")
