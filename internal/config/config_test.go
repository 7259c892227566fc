package config

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c := Defaults()
	if c.HTTPAddr != "127.0.0.1:8080" || c.DataDir != "./data" {
		t.Fatalf("got addr %q dir %q", c.HTTPAddr, c.DataDir)
	}
	if c.DatabaseURL != "sqlite:data/coalition.db" {
		t.Errorf("database URL = %q, want sqlite:data/coalition.db", c.DatabaseURL)
	}
	if c.PublicURL != "http://127.0.0.1:8080" || c.SignInURL != "http://127.0.0.1:8080/signin" {
		t.Errorf("public %q signin %q", c.PublicURL, c.SignInURL)
	}
	if c.SMTPURL != "" || c.GraphiQL || c.Introspection || c.LogFormat != "text" {
		t.Errorf("unexpected defaults %+v", c)
	}
}

func TestFlagWinsOverEnvironment(t *testing.T) {
	c, err := Parse("serve", []string{"--http-addr", "127.0.0.1:9000"}, env(map[string]string{
		"COALITION_HTTP_ADDR":    "127.0.0.1:7000",
		"COALITION_PUBLIC_URL":   "https://coalition.example.org/",
		"COALITION_GRAPHIQL":     "true",
		"COALITION_CORS_ORIGINS": "https://app.example.org, http://localhost:5173",
	}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:9000" {
		t.Errorf("addr = %q, want the flag's", c.HTTPAddr)
	}
	if c.PublicURL != "https://coalition.example.org" || c.SignInURL != "https://coalition.example.org/signin" {
		t.Errorf("public %q signin %q", c.PublicURL, c.SignInURL)
	}
	if !c.GraphiQL || !c.Introspection {
		t.Error("GraphiQL should turn on introspection")
	}
	if strings.Join(c.CORSOrigins, " ") != "https://app.example.org http://localhost:5173" {
		t.Errorf("origins = %v", c.CORSOrigins)
	}
}

func TestBadValuesAreReportedTogether(t *testing.T) {
	_, err := Parse("serve", nil, env(map[string]string{
		"COALITION_LOG_FORMAT":   "xml",
		"COALITION_GRAPHIQL":     "maybe",
		"COALITION_CORS_ORIGINS": "*",
		"COALITION_MAIL_WORKERS": "0",
	}), &bytes.Buffer{})
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"COALITION_LOG_FORMAT", "COALITION_GRAPHIQL", "COALITION_CORS_ORIGINS", "COALITION_MAIL_WORKERS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if _, err := Parse("serve", nil, env(map[string]string{"COALITION_PUBLIC_URL": "ftp://x"}), &bytes.Buffer{}); err == nil {
		t.Error("ftp public URL accepted")
	}
}

func TestHelpDocumentsEveryVariable(t *testing.T) {
	var out bytes.Buffer
	_, err := Parse("serve", []string{"--help"}, env(nil), &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	for _, o := range options {
		if !strings.Contains(out.String(), o.env) || !strings.Contains(out.String(), "-"+o.flag) {
			t.Errorf("--help does not document %s / --%s", o.env, o.flag)
		}
	}
}

func TestHelpListsBooleansAsBooleans(t *testing.T) {
	var out bytes.Buffer
	if _, err := Parse("serve", []string{"--help"}, env(nil), &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	help := out.String()
	for _, name := range []string{"graphiql", "introspection", "trust-proxy", "no-migrate"} {
		if !strings.Contains(help, "  -"+name+"\n") {
			t.Errorf("--help lists -%s with a type:\n%s", name, help)
		}
	}
	if !strings.Contains(help, "  -http-addr string\n") {
		t.Errorf("--help lost the type of a string flag:\n%s", help)
	}
	// A boolean flag alone means true; =false still works; a bad value is still refused.
	c, err := Parse("serve", []string{"--graphiql", "--no-migrate", "--trust-proxy=false"}, env(map[string]string{"COALITION_TRUST_PROXY": "true"}), &bytes.Buffer{})
	if err != nil || !c.GraphiQL || !c.NoMigrate || c.TrustProxy {
		t.Errorf("boolean flags: %+v, %v", c, err)
	}
	if _, err := Parse("serve", []string{"--graphiql=maybe"}, env(nil), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "COALITION_GRAPHIQL") {
		t.Errorf("--graphiql=maybe: %v", err)
	}
}

func TestContactEmail(t *testing.T) {
	if c := Defaults(); c.ContactEmail != "no-reply@localhost" {
		t.Errorf("default contact = %q, want the address of MAIL_FROM", c.ContactEmail)
	}
	c, err := Parse("serve", []string{"--contact-email", "office@coalition.example.org"}, env(map[string]string{"COALITION_MAIL_FROM": "CAR-T Coalition <no-reply@coalition.example.org>"}), &bytes.Buffer{})
	if err != nil || c.ContactEmail != "office@coalition.example.org" {
		t.Errorf("contact = %q, %v", c.ContactEmail, err)
	}
	if c, err := Parse("serve", nil, env(map[string]string{"COALITION_MAIL_FROM": "CAR-T Coalition <no-reply@coalition.example.org>"}), &bytes.Buffer{}); err != nil || c.ContactEmail != "no-reply@coalition.example.org" {
		t.Errorf("fallback contact = %q, %v", c.ContactEmail, err)
	}
	for _, bad := range []string{"office", "Office <office@coalition.example.org>", "a@b@c", "office@coalition.example.org\r\nBcc: x@y"} {
		if _, err := Parse("serve", nil, env(map[string]string{"COALITION_CONTACT_EMAIL": bad}), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "COALITION_CONTACT_EMAIL") {
			t.Errorf("contact %q accepted: %v", bad, err)
		}
	}
}
