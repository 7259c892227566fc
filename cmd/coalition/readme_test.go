package main

// TestREADME runs the examples of README.md in order, as a newcomer pasting them would,
// against a fresh service wired as `coalition serve` wires it (testkit.Env: real HTTP,
// real database, real SMTP). It fails when an example errors or answers other than the
// README shows.
//
// How the README is read:
//
//   - Every ```sh block runs, in order, in one shell session (mvdan.cc/sh, a bash
//     interpreter in Go), so variables carry over from block to block. The programs the
//     examples call run in-process: `coalition` and `./bin/coalition` are run(...) of this
//     package, pointed at the test's database; `curl` is a small client that sends to the
//     test's server instead of http://127.0.0.1:8080; `jq` is gojq; `date` answers from the
//     test's clock. Any other program fails the test.
//   - A comment line `# → JSON` after a command is the answer that command prints (one JSON
//     value, or several, one per `# →` line). Lines of the form `#    …` continue it. The
//     answer is compared as JSON: objects must have the same keys, and `…` in a string
//     stands for any text (`"…"` alone for any value).
//   - Every GraphQL response that passes through the shell must be free of `errors` and
//     non-empty `userErrors`, unless the answer the README shows has an error `"code"`. A
//     variable captured as `null` fails the test.
//   - A ```graphql block runs only with a directive saying as whom; it must answer
//     without errors.
//   - Directives are HTML comments before a block, invisible on the rendered page:
//     <!-- readme-test: skip: REASON -->                  the block is not run (a reason is required)
//     <!-- readme-test: run as $VAR -->                    (graphql) run with the token in $VAR
//     <!-- readme-test: run anonymously -->                (graphql) run without a token
//     <!-- readme-test: pdf NAME… -->                      create small PDF files with these names
//     <!-- readme-test: VAR = token of link N in the last email to ADDRESS -->
//     The last sends the outbox and takes the token= part of the N-th link of the newest
//     email to ADDRESS; the block's own `VAR=…` line (which tells a reader to paste it) is
//     then not run. A `VAR=…` line without such a directive fails the test.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/itchyny/gojq"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"

	"github.com/gocart-coalition/coalition/cmd/coalition/internal/demo"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// readmeBlock is one fenced block of the README with the directives written before it.
type readmeBlock struct {
	lang string
	// section is the title of the "## " section the block is in.
	section    string
	line       int // of the opening fence
	lines      []string
	directives []string
}

func (b readmeBlock) String() string { return fmt.Sprintf("README.md:%d (```%s)", b.line, b.lang) }

var (
	fenceRE     = regexp.MustCompile("^(\\s*)```\\s*([A-Za-z]*)\\s*$")
	directiveRE = regexp.MustCompile(`^\s*<!--\s*readme-test:\s*(.*?)\s*-->\s*$`)
)

// parseREADME returns the fenced blocks of a Markdown text in order.
func parseREADME(t *testing.T, src string) []readmeBlock {
	t.Helper()
	var (
		blocks  []readmeBlock
		pending []string
		cur     *readmeBlock
		indent  string
		section string
	)
	for i, line := range strings.Split(src, "\n") {
		if cur != nil {
			if m := fenceRE.FindStringSubmatch(line); m != nil && m[2] == "" {
				blocks = append(blocks, *cur)
				cur = nil
				continue
			}
			cur.lines = append(cur.lines, strings.TrimPrefix(line, indent))
			continue
		}
		if title, ok := strings.CutPrefix(line, "## "); ok {
			section = strings.TrimSpace(title)
		}
		if m := directiveRE.FindStringSubmatch(line); m != nil {
			pending = append(pending, m[1])
			continue
		}
		if m := fenceRE.FindStringSubmatch(line); m != nil {
			cur = &readmeBlock{lang: m[2], line: i + 1, section: section, directives: pending}
			indent, pending = m[1], nil
		}
	}
	if cur != nil {
		t.Fatalf("%s is never closed", cur)
	}
	if len(pending) > 0 {
		t.Fatalf("README.md ends with directives for no block: %q", pending)
	}
	return blocks
}

// tourSection is the README section that TestREADMETour runs against the demo data
// (and TestREADME leaves out).
const tourSection = "Tour"

// readmeBlocks returns the blocks of README.md inside (or, with !inTour, outside) the tour.
func readmeBlocks(t *testing.T, inTour bool) []readmeBlock {
	t.Helper()
	src, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []readmeBlock
	for _, b := range parseREADME(t, string(src)) {
		if (b.section == tourSection) == inTour {
			out = append(out, b)
		}
	}
	return out
}

func TestREADME(t *testing.T) {
	blocks := readmeBlocks(t, false)
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		// A README whose examples were all marked skipped would pass vacuously.
		newReadmeShell(t, e).runAll(blocks, 10, 30)
	})
}

// TestREADMETour runs the README's "Tour" section as TestREADME runs the rest: on a fresh
// service whose clock stands at the demo's "now", its first block runs `coalition demo`
// (in-process, on the service's database) and every later operation runs as the role
// whose token the demo printed, so the tour cannot drift from the API or the demo data.
func TestREADMETour(t *testing.T) {
	blocks := readmeBlocks(t, true)
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		e.Clock.Set(demo.End)
		sh := newReadmeShell(t, e)
		sh.runAll(blocks, 4, 5)
		for _, r := range demo.Roles {
			if sh.vr(string(r)+"_TOKEN") == "" {
				t.Errorf("the tour never set $%s_TOKEN", r)
			}
		}
		if sh.ranGraphQL < len(demo.Roles) {
			t.Errorf("the tour ran %d GraphQL blocks, want one per role at least (%d)", sh.ranGraphQL, len(demo.Roles))
		}
	})
}

// readmeShell is the newcomer's terminal: one shell session against one service.
type readmeShell struct {
	t      *testing.T
	e      *testkit.Env
	dir    string // the shell's working directory
	data   string // COALITION_DATA_DIR of the commands
	runner *interp.Runner
	out    *switchWriter
	errOut bytes.Buffer
	// responses are the GraphQL answers received during the current statement.
	responses []map[string]any
	// failures are the commands that failed during the current statement.
	failures []string

	ranSh, ranGraphQL, calls int
	skipped                  []string
}

// switchWriter lets each statement have its own output buffer.
type switchWriter struct{ w io.Writer }

func (s *switchWriter) Write(p []byte) (int, error) { return s.w.Write(p) }

func newReadmeShell(t *testing.T, e *testkit.Env) *readmeShell {
	s := &readmeShell{t: t, e: e, dir: t.TempDir(), data: t.TempDir(), out: &switchWriter{w: io.Discard}}
	r, err := interp.New(
		interp.Dir(s.dir),
		interp.Env(expand.ListEnviron("HOME="+s.dir, "PATH=/nonexistent", "LANG=C.UTF-8")),
		interp.StdIO(nil, s.out, &s.errOut),
		interp.ExecHandlers(func(interp.ExecHandlerFunc) interp.ExecHandlerFunc { return s.exec }),
	)
	if err != nil {
		t.Fatal(err)
	}
	s.runner = r
	return s
}

// runAll runs the blocks in order and fails unless at least minSh sh blocks and minCalls
// GraphQL requests ran.
func (s *readmeShell) runAll(blocks []readmeBlock, minSh, minCalls int) {
	t := s.t
	for _, b := range blocks {
		if b.lang != "sh" && b.lang != "graphql" {
			if len(b.directives) > 0 {
				t.Fatalf("%s: directives on a block the test does not run: %q", b, b.directives)
			}
			continue
		}
		skip := s.directives(b)
		if t.Failed() {
			t.FailNow()
		}
		if skip {
			continue
		}
		if b.lang == "graphql" {
			s.runGraphQL(b)
		} else {
			s.runSh(b)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	t.Logf("ran %d sh blocks (%d GraphQL requests) and %d GraphQL blocks; skipped %d: %s",
		s.ranSh, s.calls, s.ranGraphQL, len(s.skipped), strings.Join(s.skipped, "; "))
	if s.ranSh < minSh || s.calls < minCalls {
		t.Errorf("only %d sh blocks and %d GraphQL requests ran: are the examples marked skipped?", s.ranSh, s.calls)
	}
}

var (
	emailDirectiveRE = regexp.MustCompile(`^([A-Z_][A-Z0-9_]*) = token of link (\d+) in the last email to (\S+@\S+)$`)
	linkTokenRE      = regexp.MustCompile(`https?://[^\s"<>]+[?&]token=([^\s&"<>]+)`)
)

// directives applies the block's directives and reports whether the block is skipped.
func (s *readmeShell) directives(b readmeBlock) (skip bool) {
	t := s.t
	t.Helper()
	for _, d := range b.directives {
		switch {
		case strings.HasPrefix(d, "skip"):
			reason := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(d, "skip"), ":"))
			if reason == "" {
				t.Errorf("%s is skipped without a reason: write <!-- readme-test: skip: WHY -->", b)
			}
			s.skipped = append(s.skipped, fmt.Sprintf("line %d (%s)", b.line, reason))
			skip = true
		case strings.HasPrefix(d, "run "):
			if b.lang != "graphql" {
				t.Errorf("%s: %q is for graphql blocks", b, d)
			}
		case strings.HasPrefix(d, "pdf "):
			for _, name := range strings.Fields(strings.TrimPrefix(d, "pdf ")) {
				if err := os.WriteFile(filepath.Join(s.dir, name), testkit.PDF(name), 0o600); err != nil {
					t.Fatal(err)
				}
			}
		default:
			m := emailDirectiveRE.FindStringSubmatch(d)
			if m == nil {
				t.Fatalf("%s: unknown directive %q", b, d)
			}
			n, _ := strconv.Atoi(m[2])
			s.e.DrainOutbox()
			var body string
			for _, msg := range s.e.SMTP.Messages() {
				if slices.Contains(msg.To, m[3]) {
					body = msg.TextBody()
				}
			}
			links := linkTokenRE.FindAllStringSubmatch(body, -1)
			if len(links) < n {
				t.Fatalf("%s: the last email to %s has %d links with a token, want link %d:\n%s", b, m[3], len(links), n, body)
			}
			s.shell(fmt.Sprintf("%s='%s'", m[1], links[n-1][1]), "directive")
		}
	}
	if b.lang == "graphql" && !skip && s.graphqlToken(b) == nil {
		t.Errorf("%s: a GraphQL block needs <!-- readme-test: run as $VAR -->, <!-- readme-test: run anonymously --> or <!-- readme-test: skip: WHY -->", b)
		skip = true
	}
	return skip
}

// graphqlToken returns the token a graphql block runs with ("" anonymous), nil if unsaid.
func (s *readmeShell) graphqlToken(b readmeBlock) *string {
	for _, d := range b.directives {
		if d == "run anonymously" {
			tok := ""
			return &tok
		}
		if v, ok := strings.CutPrefix(d, "run as $"); ok {
			tok := s.vr(v)
			if tok == "" {
				s.t.Fatalf("%s: $%s is empty", b, v)
			}
			return &tok
		}
	}
	return nil
}

func (s *readmeShell) vr(name string) string { return s.runner.Vars[name].String() }

func (s *readmeShell) runGraphQL(b readmeBlock) {
	s.ranGraphQL++
	s.calls++
	r := s.e.AsToken(*s.graphqlToken(b)).Do(strings.Join(b.lines, "\n"), nil)
	var resp map[string]any
	if err := json.Unmarshal(r.Body, &resp); err != nil || r.Status != http.StatusOK {
		s.t.Fatalf("%s: HTTP %d %s", b, r.Status, r.Body)
	}
	if problem := graphqlProblem(resp); problem != "" {
		s.t.Errorf("%s answers with %s: %s", b, problem, r.Body)
	}
}

// runSh runs a sh block statement by statement, comparing the answers it shows.
func (s *readmeShell) runSh(b readmeBlock) {
	s.ranSh++
	var code []string
	start := b.line + 1
	for i := 0; i < len(b.lines); i++ {
		line := b.lines[i]
		if !strings.HasPrefix(strings.TrimSpace(line), "# →") {
			code = append(code, line)
			continue
		}
		var want []string
		for ; i < len(b.lines); i++ {
			l := strings.TrimSpace(b.lines[i])
			if rest, ok := strings.CutPrefix(l, "# →"); ok {
				want = append(want, rest)
			} else if strings.HasPrefix(l, "#  ") {
				want = append(want, strings.TrimSpace(strings.TrimPrefix(l, "#")))
			} else {
				break
			}
		}
		i--
		s.runCode(b, start, strings.Join(code, "\n"), strings.Join(want, " "))
		start += len(code) + len(want)
		code = nil
	}
	s.runCode(b, start, strings.Join(code, "\n"), "")
}

// runCode runs code statement by statement; want is the answer the last one must print
// ("" for none).
func (s *readmeShell) runCode(b readmeBlock, line int, code, want string) {
	t := s.t
	t.Helper()
	f, err := syntax.NewParser().Parse(strings.NewReader(code), "README.md")
	if err != nil {
		t.Fatalf("%s: the block near line %d is not valid shell: %v", b, line, err)
	}
	if want != "" && len(f.Stmts) == 0 {
		t.Fatalf("%s: an answer near line %d follows no command", b, line)
	}
	for i, st := range f.Stmts {
		at := fmt.Sprintf("README.md:%d", line+int(st.Pos().Line())-1)
		if name, ok := placeholderAssign(st); ok {
			if s.vr(name) == "" {
				t.Fatalf("%s: %s=… must be filled in by a directive (e.g. <!-- readme-test: %s = token of link 1 in the last email to ADDRESS -->)", at, name, name)
			}
			continue
		}
		last := i == len(f.Stmts)-1
		var out bytes.Buffer
		s.out.w = &out
		s.errOut.Reset()
		s.responses, s.failures = nil, nil
		err := s.runner.Run(context.Background(), st)
		s.out.w = io.Discard
		text := printStmt(st)
		if err != nil {
			t.Fatalf("%s: %s\nfailed: %v\nstdout: %s\nstderr: %s", at, text, err, out.String(), s.errOut.String())
		}
		for _, f := range s.failures {
			t.Errorf("%s: %s\nfailed: %s", at, text, f)
		}
		expectsError := last && strings.Contains(want, `"code"`)
		for _, resp := range s.responses {
			if problem := graphqlProblem(resp); problem != "" && !expectsError {
				raw, _ := json.Marshal(resp)
				t.Errorf("%s: %s\nanswers with %s: %s", at, text, problem, raw)
			}
		}
		for _, a := range assignedNames(st) {
			if v := s.vr(a); v == "null" || v == "" {
				t.Errorf("%s: %s\nleaves $%s %q", at, text, a, v)
			}
		}
		if last && want != "" {
			if err := compareAnswers(want, out.String()); err != nil {
				t.Errorf("%s: %s\nprinted:\n%s\nthe README shows:\n%s\n%v\nstderr: %s", at, text, out.String(), want, err, s.errOut.String())
			}
		}
	}
}

// shell runs a line of shell that the test itself writes.
func (s *readmeShell) shell(code, what string) {
	f, err := syntax.NewParser().Parse(strings.NewReader(code), what)
	if err == nil {
		err = s.runner.Run(context.Background(), f)
	}
	if err != nil {
		s.t.Fatalf("%s: %v", what, err)
	}
}

func printStmt(st *syntax.Stmt) string {
	var buf bytes.Buffer
	_ = syntax.NewPrinter().Print(&buf, st)
	return buf.String()
}

// placeholderAssign reports whether st is `NAME=…`: a value the reader must paste.
func placeholderAssign(st *syntax.Stmt) (string, bool) {
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Args) != 0 || len(call.Assigns) != 1 || call.Assigns[0].Value == nil {
		return "", false
	}
	w := call.Assigns[0].Value
	if len(w.Parts) == 1 {
		if lit, ok := w.Parts[0].(*syntax.Lit); ok && lit.Value == "…" {
			return call.Assigns[0].Name.Value, true
		}
	}
	return "", false
}

// assignedNames are the variables a plain assignment statement sets (not `V=x cmd`).
func assignedNames(st *syntax.Stmt) []string {
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Args) != 0 {
		return nil
	}
	var names []string
	for _, a := range call.Assigns {
		names = append(names, a.Name.Value)
	}
	return names
}

// graphqlProblem describes top-level errors or non-empty userErrors anywhere in resp.
func graphqlProblem(resp map[string]any) string {
	if errs, ok := resp["errors"]; ok && errs != nil {
		return "errors"
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if l, ok := x.([]any); ok && k == "userErrors" && len(l) > 0 {
					return true
				}
				if walk(x) {
					return true
				}
			}
		case []any:
			for _, x := range v {
				if walk(x) {
					return true
				}
			}
		}
		return false
	}
	if walk(resp["data"]) {
		return "userErrors"
	}
	return ""
}

// compareAnswers compares what a command printed with the answer the README shows.
func compareAnswers(want, got string) error {
	wants, err := jsonStream(want)
	if err != nil {
		return fmt.Errorf("the README's answer is not JSON: %v", err)
	}
	gots, err := jsonStream(got)
	if err != nil {
		return fmt.Errorf("the output is not JSON: %v", err)
	}
	if len(wants) != len(gots) {
		return fmt.Errorf("%d values printed, the README shows %d", len(gots), len(wants))
	}
	for i := range wants {
		if err := matchJSON("$", wants[i], gots[i]); err != nil {
			return err
		}
	}
	return nil
}

func jsonStream(s string) ([]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	var vs []any
	for {
		var v any
		if err := dec.Decode(&v); err == io.EOF {
			return vs, nil
		} else if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
}

// matchJSON matches got against want, where "…" in a string of want stands for any text.
func matchJSON(path string, want, got any) error {
	switch w := want.(type) {
	case string:
		if w == "…" {
			return nil
		}
		g, ok := got.(string)
		if !ok {
			return fmt.Errorf("%s: got %v, want the string %q", path, got, w)
		}
		parts := strings.Split(w, "…")
		for i := range parts {
			parts[i] = regexp.QuoteMeta(parts[i])
		}
		if !regexp.MustCompile(`^(?s)` + strings.Join(parts, ".*") + `$`).MatchString(g) {
			return fmt.Errorf("%s: got %q, want %q", path, g, w)
		}
		return nil
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %v, want an object", path, got)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return fmt.Errorf("%s: got the key %q the README does not show", path, k)
			}
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s: no key %q", path, k)
			}
			if err := matchJSON(path+"."+k, wv, gv); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: got %v, want %d elements", path, got, len(w))
		}
		for i := range w {
			if err := matchJSON(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); err != nil {
				return err
			}
		}
		return nil
	default:
		if !reflect.DeepEqual(want, got) {
			return fmt.Errorf("%s: got %v, want %v", path, got, want)
		}
		return nil
	}
}

// exec runs the programs the examples call, in-process.
func (s *readmeShell) exec(ctx context.Context, args []string) error {
	hc := interp.HandlerCtx(ctx)
	var err error
	switch args[0] {
	case "coalition", "./bin/coalition":
		vars := map[string]string{
			"COALITION_DATABASE_URL": s.e.DB.URL,
			"COALITION_DATA_DIR":     s.data,
			"COALITION_LOG_FORMAT":   "json",
			"COALITION_LOG_LEVEL":    "warn",
		}
		err = run(ctx, args[1:], func(k string) string { return vars[k] }, hc.Stdin, hc.Stdout, hc.Stderr)
	case "jq":
		err = runJQ(hc, args[1:])
	case "curl":
		err = s.curl(hc, args[1:])
	case "date":
		err = s.date(hc, args[1:])
	default:
		return fmt.Errorf("the README test cannot run %q: use the commands it knows (coalition, curl, jq, date) or mark the block skipped", args[0])
	}
	if err != nil {
		// Report it even inside a pipeline, whose status is the last command's.
		s.failures = append(s.failures, fmt.Sprintf("%s: %v", args[0], err))
		fmt.Fprintf(hc.Stderr, "%s: %v\n", args[0], err)
		return interp.NewExitStatus(1)
	}
	return nil
}

// runJQ is jq for the options the README uses: -r -c -n --arg --argjson.
func runJQ(hc interp.HandlerContext, args []string) error {
	var (
		raw, compact, null bool
		names              []string
		values             []any
		filter             *string
	)
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--arg" && i+2 < len(args):
			names, values = append(names, "$"+args[i+1]), append(values, args[i+2])
			i += 2
		case a == "--argjson" && i+2 < len(args):
			var v any
			if err := json.Unmarshal([]byte(args[i+2]), &v); err != nil {
				return fmt.Errorf("--argjson %s: %v", args[i+1], err)
			}
			names, values = append(names, "$"+args[i+1]), append(values, v)
			i += 2
		case len(a) > 1 && a[0] == '-' && a[1] != '-' && filter == nil:
			for _, c := range a[1:] {
				switch c {
				case 'r':
					raw = true
				case 'c':
					compact = true
				case 'n':
					null = true
				default:
					return fmt.Errorf("option -%c is not supported by the test", c)
				}
			}
		case filter == nil:
			filter = &args[i]
		default:
			return fmt.Errorf("unexpected argument %q", a)
		}
	}
	if filter == nil {
		return fmt.Errorf("no filter")
	}
	q, err := gojq.Parse(*filter)
	if err != nil {
		return err
	}
	code, err := gojq.Compile(q, gojq.WithVariables(names))
	if err != nil {
		return err
	}
	var inputs []any
	if null {
		inputs = []any{nil}
	} else if inputs, err = readJSONStream(hc.Stdin); err != nil {
		return err
	}
	w := bufio.NewWriter(hc.Stdout)
	defer w.Flush()
	for _, in := range inputs {
		iter := code.Run(in, values...)
		for {
			v, ok := iter.Next()
			if !ok {
				break
			}
			if err, ok := v.(error); ok {
				return err
			}
			if str, ok := v.(string); ok && raw {
				fmt.Fprintln(w, str)
				continue
			}
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			if !compact {
				enc.SetIndent("", "  ")
			}
			if err := enc.Encode(v); err != nil {
				return err
			}
		}
	}
	return nil
}

func readJSONStream(r io.Reader) ([]any, error) {
	dec := json.NewDecoder(r)
	var vs []any
	for {
		var v any
		if err := dec.Decode(&v); err == io.EOF {
			return vs, nil
		} else if err != nil {
			return nil, fmt.Errorf("input is not JSON: %v", err)
		}
		vs = append(vs, v)
	}
}

// curl is curl for the options the README uses: -s -H -d (@- for stdin) -F -o -w. It
// sends to the test's server what the README sends to http://127.0.0.1:8080.
func (s *readmeShell) curl(hc interp.HandlerContext, args []string) error {
	var (
		target, data, output, format string
		hasData                      bool
		headers                      = http.Header{}
		fields                       []string
	)
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			i++
			if i >= len(args) {
				return ""
			}
			return args[i]
		}
		switch a {
		case "-s", "-S", "-sS":
		case "-H":
			k, v, _ := strings.Cut(next(), ":")
			headers.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		case "-d":
			data, hasData = next(), true
			if data == "@-" {
				b, err := io.ReadAll(hc.Stdin)
				if err != nil {
					return err
				}
				data = string(b)
			}
		case "-F":
			fields = append(fields, next())
		case "-o":
			output = next()
		case "-w":
			format = next()
		default:
			if strings.HasPrefix(a, "-") {
				return fmt.Errorf("option %s is not supported by the test", a)
			}
			target = a
		}
	}
	const readmeBase = "http://127.0.0.1:8080"
	if !strings.HasPrefix(target, readmeBase) {
		return fmt.Errorf("the README examples talk to %s, not %q", readmeBase, target)
	}
	target = s.e.Server.URL + strings.TrimPrefix(target, readmeBase)
	var body io.Reader
	method := http.MethodGet
	switch {
	case len(fields) > 0:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for _, f := range fields {
			name, value, _ := strings.Cut(f, "=")
			if file, ok := strings.CutPrefix(value, "@"); ok {
				content, err := os.ReadFile(filepath.Join(hc.Dir, file))
				if err != nil {
					return err
				}
				h := textproto.MIMEHeader{}
				h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, name, filepath.Base(file)))
				h.Set("Content-Type", "application/pdf")
				pw, err := mw.CreatePart(h)
				if err != nil {
					return err
				}
				_, _ = pw.Write(content)
			} else if err := mw.WriteField(name, value); err != nil {
				return err
			}
		}
		_ = mw.Close()
		body, method = &buf, http.MethodPost
		headers.Set("Content-Type", mw.FormDataContentType())
	case hasData:
		body, method = strings.NewReader(data), http.MethodPost
		if headers.Get("Content-Type") == "" {
			headers.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return err
	}
	for k, v := range headers {
		req.Header[k] = v
	}
	resp, err := s.e.Server.Client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if strings.HasSuffix(req.URL.Path, "/graphql") {
		s.calls++
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("HTTP %d, not a GraphQL answer: %s", resp.StatusCode, raw)
		}
		s.responses = append(s.responses, v)
	}
	switch output {
	case "", "-":
		_, _ = hc.Stdout.Write(raw)
	case "/dev/null":
	default:
		return fmt.Errorf("-o %s is not supported by the test", output)
	}
	if format != "" {
		format = strings.ReplaceAll(format, `\n`, "\n")
		fmt.Fprint(hc.Stdout, strings.ReplaceAll(format, "%{http_code}", strconv.Itoa(resp.StatusCode)))
	}
	return nil
}

var dateSpecRE = regexp.MustCompile(`^\s*(\d{4}-\d{2}-\d{2}|monday)?\s*(?:([+-])\s*(\d+)\s*(day|week|month|year)s?)?\s*$`)

// date is GNU date for +%F with the -d forms the README uses: "+N days|weeks|months|years",
// "monday + N weeks" (the coming Monday, today if it is one) and "YYYY-MM-DD + N weeks".
// Today is the test clock's day.
func (s *readmeShell) date(hc interp.HandlerContext, args []string) error {
	spec := ""
	if len(args) == 3 && args[0] == "-d" {
		spec, args = args[1], args[2:]
	}
	if len(args) != 1 || args[0] != "+%F" {
		return fmt.Errorf("only `date [-d SPEC] +%%F` is supported by the test, not %q", args)
	}
	m := dateSpecRE.FindStringSubmatch(spec)
	if m == nil {
		return fmt.Errorf("date spec %q is not supported by the test", spec)
	}
	now := s.e.Clock.Now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	switch m[1] {
	case "":
	case "monday":
		day = day.AddDate(0, 0, (int(time.Monday)-int(day.Weekday())+7)%7)
	default:
		d, err := time.Parse(time.DateOnly, m[1])
		if err != nil {
			return err
		}
		day = d
	}
	if m[3] != "" {
		n, _ := strconv.Atoi(m[3])
		if m[2] == "-" {
			n = -n
		}
		switch m[4] {
		case "day":
			day = day.AddDate(0, 0, n)
		case "week":
			day = day.AddDate(0, 0, 7*n)
		case "month":
			day = day.AddDate(0, n, 0)
		case "year":
			day = day.AddDate(n, 0, 0)
		}
	}
	fmt.Fprintln(hc.Stdout, day.Format(time.DateOnly))
	return nil
}

func TestCompareAnswers(t *testing.T) {
	for _, c := range []struct {
		want, got string
		ok        bool
	}{
		{`{"a":"x_…","b":[1,2]}`, `{"b":[1,2],"a":"x_01J"}`, true},
		{`{"a":"…"}`, `{"a":{"deep":true}}`, true},
		{`{"a":"from … to …."}`, `{"a":"from 2027-01-12 to 2029-01-12."}`, true},
		{`{"a":"x_…"}`, `{"a":"y_01J"}`, false},
		{`{"a":1}`, `{"a":1,"b":2}`, false},   // a key the README does not show
		{`{"a":1,"b":2}`, `{"a":1}`, false},   // a key missing
		{`{"a":[1]}`, `{"a":[1,2]}`, false},   // lengths differ
		{`{"a":1} {"a":2}`, `{"a":1}`, false}, // values printed
		{`200`, "200\n", true},
		{`{"a":1}`, `not json`, false},
	} {
		if err := compareAnswers(c.want, c.got); (err == nil) != c.ok {
			t.Errorf("compareAnswers(%s, %s) = %v, want ok=%v", c.want, c.got, err, c.ok)
		}
	}
}
