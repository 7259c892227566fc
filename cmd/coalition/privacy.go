package main

import (
	"context"
	"fmt"
	"io"

	"github.com/gocart-coalition/coalition/internal/app"
	"github.com/gocart-coalition/coalition/internal/config"
)

// runPrivacy is `coalition privacy report`: the record of processing activities, generated
// from the registered privacy domains (no database needed).
func runPrivacy(_ context.Context, e env, args []string) error {
	if len(args) != 1 || args[0] != "report" {
		fmt.Fprintln(e.stderr, "Usage: coalition privacy report\n\nPrints the record of processing activities (GDPR Art. 30) as Markdown, generated\nfrom the personal-data categories each domain declares in the code, and the retention\nrules with the periods the COALITION_RETENTION_* variables set.")
		if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errUsage
	}
	reg, err := app.PrivacyRegistry()
	if err != nil {
		return err
	}
	cfg, err := config.Parse("privacy", nil, e.getenv, io.Discard)
	if err != nil {
		return err
	}
	return reg.ReportWith(e.stdout, app.RetentionSettings(cfg).Rules())
}
