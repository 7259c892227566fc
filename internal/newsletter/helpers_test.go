package newsletter_test

import (
	"errors"
	"strconv"

	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/newsletter"
)

func strconvI(n int64) string { return strconv.FormatInt(n, 10) }

func asUserErrors(err error) (apperr.UserErrors, bool) { return apperr.AsUserErrors(err) }

func asWebhookError(err error, we *newsletter.WebhookError) bool { return errors.As(err, we) }

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
