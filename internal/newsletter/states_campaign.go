package newsletter

import (
	"fmt"
	"time"

	"github.com/gocart-coalition/coalition/ent/campaign"
	"github.com/gocart-coalition/coalition/internal/apperr"
)

// CampaignEvent is something that happens to a campaign.
type CampaignEvent string

// Events of a campaign. A campaign is created DRAFT.
//
//	DRAFT ──approve──▶ APPROVED ──schedule──▶ SCHEDULED ──start (job, at its time)──▶ SENDING ──complete──▶ SENT
//	  ▲                  │  ▲                    │   │                                   │ ▲
//	  └──── edit ────────┘  └──── unschedule ────┘   └──────────── send now ────────────▶│ │ resume
//	  ▲                                               (also from APPROVED)                ▼ │
//	  └──── edit (SCHEDULED) ─────                                                       PAUSED
//	cancel: from DRAFT, APPROVED, SCHEDULED, SENDING and PAUSED to CANCELLED.
const (
	CampaignEdit       CampaignEvent = "edit"       // staff: DRAFT, APPROVED or SCHEDULED → DRAFT (withdraws the approval)
	CampaignApprove    CampaignEvent = "approve"    // a second staff member: DRAFT → APPROVED
	CampaignSchedule   CampaignEvent = "schedule"   // staff: APPROVED or SCHEDULED → SCHEDULED (at a future time)
	CampaignUnschedule CampaignEvent = "unschedule" // staff: SCHEDULED → APPROVED
	CampaignSendNow    CampaignEvent = "send_now"   // staff: APPROVED or SCHEDULED → SENDING (also a late campaign)
	CampaignStart      CampaignEvent = "start"      // the job: SCHEDULED → SENDING at its time, unless too late
	CampaignPause      CampaignEvent = "pause"      // staff: SENDING → PAUSED
	CampaignResume     CampaignEvent = "resume"     // staff: PAUSED → SENDING
	CampaignCancel     CampaignEvent = "cancel"     // staff: anything not SENT or CANCELLED → CANCELLED
	CampaignComplete   CampaignEvent = "complete"   // the job or the worker: SENDING → SENT when nothing is outstanding
)

// CampaignEvents lists every event, for tests that must decide each one.
var CampaignEvents = []CampaignEvent{
	CampaignEdit, CampaignApprove, CampaignSchedule, CampaignUnschedule, CampaignSendNow,
	CampaignStart, CampaignPause, CampaignResume, CampaignCancel, CampaignComplete,
}

// CampaignStatuses lists every status of a campaign.
var CampaignStatuses = []campaign.Status{
	campaign.StatusDRAFT, campaign.StatusAPPROVED, campaign.StatusSCHEDULED, campaign.StatusSENDING,
	campaign.StatusPAUSED, campaign.StatusSENT, campaign.StatusCANCELLED,
}

// CampaignFacts are what the service read before deciding.
type CampaignFacts struct {
	// Now is the decision's instant.
	Now time.Time
	// At is the requested start (schedule) or the campaign's scheduled start (start).
	At time.Time
	// LateAfter is how long after its slot a scheduled campaign may still start by itself.
	LateAfter time.Duration
	// EmptyAudience says the campaign targets no list and no working group.
	EmptyAudience bool
	// Outstanding says deliveries are still to be written, queued or being sent.
	Outstanding bool
}

// NextCampaignStatus decides ev for a campaign in status from: the status it moves to, or
// a refusal (INVALID_STATE; INVALID for a start time in the past; REQUIRED for an empty
// audience; EXPIRED for a start the job is too late for), naming no field.
func NextCampaignStatus(from campaign.Status, ev CampaignEvent, f CampaignFacts) (campaign.Status, error) {
	refuse := func(code apperr.UserCode, format string, args ...any) (campaign.Status, error) {
		return from, apperr.Invalid(code, fmt.Sprintf(format, args...))
	}
	in := func(sts ...campaign.Status) bool {
		for _, s := range sts {
			if from == s {
				return true
			}
		}
		return false
	}
	switch ev {
	case CampaignEdit:
		if !in(campaign.StatusDRAFT, campaign.StatusAPPROVED, campaign.StatusSCHEDULED) {
			return refuse(apperr.CodeInvalidState, "This campaign is %s; only a campaign that has not started sending can be changed.", from)
		}
		return campaign.StatusDRAFT, nil
	case CampaignApprove:
		switch {
		case from != campaign.StatusDRAFT:
			return refuse(apperr.CodeInvalidState, "This campaign is %s; only a draft is approved.", from)
		case f.EmptyAudience:
			return refuse(apperr.CodeRequired, "The campaign has no audience: choose at least one list or working group.")
		}
		return campaign.StatusAPPROVED, nil
	case CampaignSchedule:
		switch {
		case !in(campaign.StatusAPPROVED, campaign.StatusSCHEDULED):
			return refuse(apperr.CodeInvalidState, "This campaign is %s; only an approved campaign is scheduled.", from)
		case f.EmptyAudience:
			return refuse(apperr.CodeRequired, "The campaign has no audience: choose at least one list or working group.")
		case !f.At.After(f.Now):
			return refuse(apperr.CodeInvalid, "The start is in the past; choose a time to come.")
		}
		return campaign.StatusSCHEDULED, nil
	case CampaignUnschedule:
		if from != campaign.StatusSCHEDULED {
			return refuse(apperr.CodeInvalidState, "This campaign is %s, not scheduled.", from)
		}
		return campaign.StatusAPPROVED, nil
	case CampaignSendNow:
		switch {
		case !in(campaign.StatusAPPROVED, campaign.StatusSCHEDULED):
			return refuse(apperr.CodeInvalidState, "This campaign is %s; only an approved campaign is sent.", from)
		case f.EmptyAudience:
			return refuse(apperr.CodeRequired, "The campaign has no audience: choose at least one list or working group.")
		}
		return campaign.StatusSENDING, nil
	case CampaignStart:
		switch {
		case from != campaign.StatusSCHEDULED:
			return refuse(apperr.CodeInvalidState, "This campaign is %s, not scheduled.", from)
		case f.Now.Before(f.At):
			return refuse(apperr.CodeInvalidState, "This campaign is scheduled for later.")
		case f.Now.Sub(f.At) > f.LateAfter:
			return refuse(apperr.CodeExpired, "This campaign could not start within %s of its time; staff decide whether it still goes out.", f.LateAfter)
		case f.EmptyAudience:
			return refuse(apperr.CodeRequired, "The campaign has no audience: choose at least one list or working group.")
		}
		return campaign.StatusSENDING, nil
	case CampaignPause:
		if from != campaign.StatusSENDING {
			return refuse(apperr.CodeInvalidState, "This campaign is %s; only a campaign that is sending is paused.", from)
		}
		return campaign.StatusPAUSED, nil
	case CampaignResume:
		if from != campaign.StatusPAUSED {
			return refuse(apperr.CodeInvalidState, "This campaign is %s, not paused.", from)
		}
		return campaign.StatusSENDING, nil
	case CampaignCancel:
		if in(campaign.StatusSENT, campaign.StatusCANCELLED) {
			return refuse(apperr.CodeInvalidState, "This campaign is %s already.", from)
		}
		return campaign.StatusCANCELLED, nil
	case CampaignComplete:
		switch {
		case from != campaign.StatusSENDING:
			return refuse(apperr.CodeInvalidState, "This campaign is %s, not sending.", from)
		case f.Outstanding:
			return refuse(apperr.CodeInvalidState, "Deliveries of this campaign are still queued or being sent.")
		}
		return campaign.StatusSENT, nil
	}
	return from, apperr.Invalid(apperr.CodeInvalid, fmt.Sprintf("Unknown step %q.", ev))
}
