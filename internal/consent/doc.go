// Package consent owns consent for every purpose: the staff-published versions of each
// purpose's consent text (ConsentText) and people's consent records (ConsentEvidence) —
// given by the person, confirmed through a newsletter's double opt-in, or recorded by staff
// with a reason — and their withdrawal. Domains that show or send something only with
// consent (newsletter, directory profiles, host-centre contacts) ask it, or the ent privacy
// rules built on access.CurrentConsent, rather than keeping their own records.
package consent
