package graph

import (
	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/graph/model"
)

// organisationPayload answers an organisation mutation: user errors in the payload (and no
// organisation), anything else as a top-level error.
func organisationPayload(o *ent.Organisation, err error) (*model.OrganisationPayload, error) {
	ue, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	if len(ue) > 0 {
		o = nil
	}
	return &model.OrganisationPayload{Organisation: o, UserErrors: ue}, nil
}

// hostCentrePayload answers a host-centre mutation like organisationPayload.
func hostCentrePayload(c *ent.HostCentre, err error) (*model.HostCentrePayload, error) {
	ue, err := userErrors(err)
	if err != nil {
		return nil, err
	}
	if len(ue) > 0 {
		c = nil
	}
	return &model.HostCentrePayload{HostCentre: c, UserErrors: ue}, nil
}
