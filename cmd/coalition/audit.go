package main

import (
	"context"
	"fmt"

	"github.com/gocart-coalition/coalition/internal/audit"
)

// errChainBroken makes `audit verify` exit with status 1 after printing the break.
type errChainBroken struct{}

func (errChainBroken) Error() string { return "audit chain broken" }
func (errChainBroken) ExitCode() int { return 1 }

// runAudit is `coalition audit verify`: it checks the audit trail's hash chain (and the
// checkpoints' signatures under COALITION_AUDIT_KEY). Its last line is stable, for scripts:
//
//	audit verify: ok events=N
//	audit verify: BROKEN at event <id> (position N): <why>
//	audit verify: BROKEN at checkpoint <id>: <why>
func runAudit(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return fmt.Errorf("audit: want `audit verify`")
	}
	cfg, rest, err := flags(e, "audit verify", "audit verify [flags]", args[1:], nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("audit verify: unexpected argument %q", rest[0])
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	rep, err := audit.Verify(ctx, d.Client, []byte(cfg.AuditKey))
	if err != nil {
		return err
	}
	if rep.Checkpoints > 0 && (rep.Broken == nil || rep.Broken.Checkpoint == "") {
		fmt.Fprintf(e.stdout, "audit verify: %d checkpoint(s) signed, %d events pruned, chain from position %d\n",
			rep.Checkpoints, rep.Pruned, rep.Start)
	}
	if rep.Legacy > 0 {
		fmt.Fprintf(e.stdout, "audit verify: %d events written before the chain existed (not covered)\n", rep.Legacy)
	}
	if rep.Events > 0 {
		fmt.Fprintf(e.stdout, "audit verify: positions %d to %d checked\n", rep.Start, rep.Last)
	}
	fmt.Fprintln(e.stdout, rep.Line())
	if rep.Broken != nil {
		return errChainBroken{}
	}
	return nil
}
