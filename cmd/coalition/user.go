package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/app"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/auth"
	"github.com/gocart-coalition/coalition/internal/check"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

func runUser(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("user: want `user create [--staff] [--host-coordinator] [--name NAME] [--token NAME [--print-token-only]] EMAIL`")
	}
	var (
		staff, host, tokenOnly bool
		name, token            string
	)
	cfg, rest, err := flags(e, "user create", "user create [--staff] [--host-coordinator] [--name NAME] [--token NAME [--print-token-only]] [flags] EMAIL", args[1:], func(fs *flag.FlagSet) {
		fs.BoolVar(&staff, "staff", false, "give the user the STAFF role")
		fs.BoolVar(&host, "host-coordinator", false, "give the user the HOST_COORDINATOR role")
		fs.StringVar(&name, "name", "", "the user's name (default: the part of the address before @)")
		fs.StringVar(&token, "token", "", "also mint an API token with this name (READ and WRITE) and print it")
		fs.BoolVar(&tokenOnly, "print-token-only", false, "with --token: print only the token on standard output (for TOKEN=$(…)); the rest goes to standard error")
	})
	if err != nil {
		return err
	}
	if tokenOnly && token == "" {
		return fmt.Errorf("user create: --print-token-only needs --token NAME")
	}
	if len(rest) != 1 {
		return fmt.Errorf("user create: want exactly one EMAIL")
	}
	email, err := check.NormaliseEmail(rest[0])
	if err != nil {
		return fmt.Errorf("user create: %q: %w", rest[0], err)
	}
	roles := []viewer.Role{}
	if staff {
		roles = append(roles, viewer.RoleStaff)
	}
	if host {
		roles = append(roles, viewer.RoleHostCoordinator)
	}
	if len(roles) == 0 {
		roles = append(roles, viewer.RoleTrainee)
	}
	if name == "" {
		name, _, _ = strings.Cut(email, "@")
	}
	a, err := app.New(ctx, app.Options{Config: cfg, Logger: newLogger(cfg, e.stderr)})
	if err != nil {
		return err
	}
	defer a.Close()

	var (
		u      *ent.User
		link   string
		secret string
	)
	err = db.InTx(viewer.NewSystemContext(ctx), a.DB.Client, func(sys context.Context, c *ent.Client) error {
		var err error
		u, err = c.User.Query().Where(user.Email(email)).Only(sys)
		switch {
		case ent.IsNotFound(err):
			if u, err = a.Auth.CreateUser(sys, c, auth.CreateUserInput{Email: email, Name: name, Roles: roles}); err != nil {
				return err
			}
			err = audit.Record(sys, c, time.Now(), audit.Event{Action: "user.create", ObjectType: "User", ObjectID: string(u.ID),
				Details: map[string]any{"via": "cli", "roles": fmt.Sprint(u.Roles)}})
		case err != nil:
			return err
		default:
			for _, r := range roles {
				if u, err = a.Auth.GrantRole(sys, c, u.ID, r); err != nil {
					return err
				}
			}
			err = audit.Record(sys, c, time.Now(), audit.Event{Action: "user.grant_roles", ObjectType: "User", ObjectID: string(u.ID),
				Details: map[string]any{"via": "cli", "roles": fmt.Sprint(u.Roles)}})
		}
		if err != nil {
			return err
		}
		if link, err = a.Auth.IssueLoginLink(sys, c, email); err != nil {
			return err
		}
		if token != "" {
			if _, secret, err = a.Auth.CreateAPIToken(sys, c, auth.CreateAPITokenInput{
				UserID: u.ID, Name: token, Scopes: viewer.AllScopes,
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	info := e.stdout
	if tokenOnly {
		info = e.stderr
	}
	fmt.Fprintf(info, "user %s <%s>, roles %v\n", u.ID, u.Email, u.Roles)
	fmt.Fprintf(info, "sign-in link (works once, for 15 minutes):\n  %s\n", link)
	switch {
	case tokenOnly:
		fmt.Fprintf(info, "API token %q: printed on standard output (shown once; send as Authorization: Bearer …)\n", token)
		fmt.Fprintln(e.stdout, secret)
	case secret != "":
		fmt.Fprintf(e.stdout, "API token %q (shown once; send as Authorization: Bearer …):\n  %s\n", token, secret)
	}
	return nil
}
