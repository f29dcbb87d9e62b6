package securitytest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/parleytest"
)

var (
	flagTarget     = flag.String("target", "", "attack the Parley server at this https:// URL instead of an in-process one")
	flagCA         = flag.String("ca", "", "PEM certificate or CA to trust for -target (system roots if empty)")
	flagSetupToken = flag.String("setup-token", "", "one-time setup token of a fresh -target; without it, scenarios that need accounts are skipped")
	flagUpdateDoc  = flag.Bool("update-doc", false, "rewrite the scenario table of docs/security-testing.md from the registry")
)

// need says what a scenario requires of its environment.
type need uint

const (
	// accounts: the scenario logs in (fixture users, an auditor). Against a
	// target it needs -setup-token.
	accounts need = 1 << iota
	// inProcess: the scenario moves the server's clock or runs it with a
	// special configuration; skipped against a target.
	inProcess
	// isolated: the scenario gets a server of its own in-process (it
	// exhausts rate limits, moves the clock or needs options). Against a
	// target it runs on the target after all the others.
	isolated
	// slow: the scenario mostly waits (slowloris); it runs in parallel with
	// the rest.
	slow
	// throttles: the scenario fails logins, draining the login rate limit
	// of this machine's address; in-process the shared server's clock moves
	// a minute first so that every such scenario starts with a full bucket.
	throttles
)

// scenario is one attack.
type scenario struct {
	ID     string // requirement ID (REQUIREMENTS.md), e.g. "Z6"
	Name   string // kebab-case attack name
	Attack string // the attack and the secure outcome, one line, for the table
	Needs  need
	Run    func(t *testing.T, e *env)
	// Options configure the scenario's own in-process server (isolated).
	Options func(t *testing.T) []parleytest.ServerOption
	group   string
}

func (s scenario) serverOptions(t *testing.T) []parleytest.ServerOption {
	if s.Options == nil {
		return nil
	}
	return s.Options(t)
}

func (s scenario) has(n need) bool { return s.Needs&n != 0 }

func (s scenario) testName() string {
	top := "TestAttacks"
	switch {
	case s.has(slow):
		top = "TestSlowAttacks"
	case s.has(isolated):
		top = "TestIsolatedAttacks"
	}
	return top + "/" + s.ID + "/" + s.Name
}

// registry holds every scenario, in registration order (file by file).
var registry []scenario

var groupOrder []string

func register(group string, ss ...scenario) {
	if !contains(groupOrder, group) {
		groupOrder = append(groupOrder, group)
	}
	for _, s := range ss {
		s.group = group
		registry = append(registry, s)
	}
}

func targetMode() bool { return *flagTarget != "" }

// runScenario applies the skips of a scenario's needs, then runs it.
func runScenario(t *testing.T, s scenario, e func(t *testing.T) *env) {
	t.Helper()
	if targetMode() && s.has(inProcess) {
		t.Skip("moves the server's clock or configuration: in-process only")
	}
	if targetMode() && s.has(accounts) && *flagSetupToken == "" {
		t.Skip("needs accounts: give -setup-token of a fresh target")
	}
	start := time.Now()
	env := e(t)
	if s.has(throttles) && env.srv != nil {
		env.cooldown(t)
	}
	s.Run(t, env)
	if d := time.Since(start); d > 10*time.Second && !s.has(slow) {
		t.Logf("scenario took %v", d.Round(time.Millisecond))
	}
}

// shared is the environment of TestAttacks (and of every scenario against
// a target).
var shared *env

// TestAttacks runs the scenarios that share one server and its accounts.
// Against a target it also runs the isolated ones, last (they exhaust the
// rate limits of this machine's address).
func TestAttacks(t *testing.T) {
	if !targetMode() {
		t.Parallel()
	}
	root := t
	get := func(*testing.T) *env {
		if shared == nil {
			// The shared server runs on PostgreSQL when one is configured
			// (CI starts one), so most scenarios attack both dialects'
			// SQL across CI and a developer's SQLite-only run.
			var opts []parleytest.ServerOption
			if !targetMode() && os.Getenv(parleytest.PostgresEnv) != "" {
				opts = append(opts, parleytest.WithDSN(parleytest.NewPostgresDSN(root)))
			}
			shared = newEnv(root, opts)
		}
		return shared
	}
	for _, s := range registry {
		if s.has(isolated) || s.has(slow) {
			continue
		}
		t.Run(s.ID+"/"+s.Name, func(t *testing.T) { runScenario(t, s, get) })
	}
	if targetMode() {
		for _, s := range registry {
			if s.has(isolated) && !s.has(slow) {
				t.Run("isolated/"+s.ID+"/"+s.Name, func(t *testing.T) { runScenario(t, s, get) })
			}
		}
	}
}

// TestIsolatedAttacks runs, in parallel, the scenarios that need a server
// of their own (in-process only; against a target TestAttacks runs them).
func TestIsolatedAttacks(t *testing.T) {
	if targetMode() {
		t.Skip("against a target, TestAttacks runs these last")
	}
	t.Parallel()
	for _, s := range registry {
		if !s.has(isolated) || s.has(slow) {
			continue
		}
		t.Run(s.ID+"/"+s.Name, func(t *testing.T) {
			t.Parallel()
			runScenario(t, s, func(t *testing.T) *env { return newEnv(t, s.serverOptions(t)) })
		})
	}
}

// TestSlowAttacks runs the scenarios that mostly wait, in parallel with
// everything else.
func TestSlowAttacks(t *testing.T) {
	t.Parallel()
	for _, s := range registry {
		if !s.has(slow) {
			continue
		}
		t.Run(s.ID+"/"+s.Name, func(t *testing.T) {
			t.Parallel()
			runScenario(t, s, func(t *testing.T) *env {
				if targetMode() {
					return newEnv(t, nil)
				}
				return newEnv(t, s.serverOptions(t))
			})
		})
	}
}

var (
	idPattern   = regexp.MustCompile(`^[MTEAZDPILVWGS][0-9]{1,2}$`)
	namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]$`)
)

// TestScenarioRegistry: at least 60 scenarios, each with a requirement ID,
// a unique name and a description; the groups are all present.
func TestScenarioRegistry(t *testing.T) {
	if len(registry) < 60 {
		t.Errorf("%d scenarios; the suite promises at least 60", len(registry))
	}
	seen := map[string]bool{}
	byID := map[string]int{}
	for _, s := range registry {
		if !idPattern.MatchString(s.ID) || !namePattern.MatchString(s.Name) || s.Attack == "" || s.Run == nil {
			t.Errorf("malformed scenario %q/%q", s.ID, s.Name)
		}
		if strings.ContainsAny(s.Attack, "|\n") {
			t.Errorf("%s/%s: the description must fit one table cell", s.ID, s.Name)
		}
		if seen[s.testName()] {
			t.Errorf("duplicate scenario %s", s.testName())
		}
		seen[s.testName()] = true
		byID[s.ID]++
	}
	var ids []string
	for id, n := range byID {
		ids = append(ids, fmt.Sprintf("%s:%d", id, n))
	}
	sort.Strings(ids)
	t.Logf("%d scenarios in %d groups; by requirement: %s", len(registry), len(groupOrder), strings.Join(ids, " "))
}

const (
	docPath    = "../docs/security-testing.md"
	docBegin   = "<!-- BEGIN securitytest scenarios -->"
	docEnd     = "<!-- END securitytest scenarios -->"
	docHeading = "## Attack scenarios (securitytest)"
)

// scenarioTable renders the registry as the Markdown table of the doc.
func scenarioTable() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%d scenarios, generated from the registry by `go test ./securitytest/ -run TestScenarioTable -update-doc`; do not edit by hand.\n", docBegin, len(registry))
	for _, g := range groupOrder {
		fmt.Fprintf(&b, "\n#### %s\n\n| scenario | requirement | test |\n|---|---|---|\n", g)
		for _, s := range registry {
			if s.group != g {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | `%s` |\n", s.Attack, s.ID, s.testName())
		}
	}
	b.WriteString(docEnd)
	return b.String()
}

// TestScenarioTable fails if docs/security-testing.md does not hold the
// table generated from the registry; -update-doc rewrites it (and only it).
func TestScenarioTable(t *testing.T) {
	data, err := os.ReadFile(docPath)
	if err != nil && !(*flagUpdateDoc && os.IsNotExist(err)) {
		t.Fatalf("%v (run with -update-doc to create it)", err)
	}
	doc := string(data)
	want := scenarioTable()
	i, j := strings.Index(doc, docBegin), strings.Index(doc, docEnd)
	if i >= 0 && j > i && doc[i:j+len(docEnd)] == want {
		return
	}
	if !*flagUpdateDoc {
		t.Fatalf("%s: the scenario table is stale or missing; run: go test ./securitytest/ -run TestScenarioTable -update-doc", filepath.Clean(docPath))
	}
	switch {
	case i >= 0 && j > i:
		doc = doc[:i] + want + doc[j+len(docEnd):]
	case doc == "":
		doc = "# Security testing\n\n" + docHeading + "\n\n" + want + "\n"
	default:
		doc = strings.TrimRight(doc, "\n") + "\n\n" + docHeading + "\n\n" + want + "\n"
	}
	if err := os.WriteFile(docPath, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("rewrote the scenario table of %s", docPath)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
