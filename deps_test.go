package parley_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/parleyhq/parley"

// TestImportRules holds the dependency direction of docs/architecture.md:
// the domain imports only the standard library; adapters never import
// services; the transport sees services only through the domain's
// interfaces; the SDK and CLI never link server code.
func TestImportRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	server := []string{"/auth", "/chat", "/directory", "/audit", "/access", "/supervision", "/lifecycle", "/sqldb", "/inmem", "/kms/", "/httpapi", "/cmd/parleyd", "/crypt"}
	services := []string{"/auth", "/chat", "/directory", "/audit", "/access", "/supervision", "/lifecycle"}
	rules := []struct {
		pkg       string
		forbidden []string // module-relative prefixes
		stdOnly   bool
	}{
		{pkg: "", stdOnly: true},
		{pkg: "/wire", stdOnly: true},
		{pkg: "/client", forbidden: server},
		{pkg: "/cmd/parley", forbidden: server},
		{pkg: "/httpapi", forbidden: append([]string{"/sqldb", "/inmem", "/kms/", "/crypt"}, services...)},
		{pkg: "/sqldb", forbidden: append([]string{"/httpapi", "/crypt"}, services...)},
		{pkg: "/inmem", forbidden: services},
		{pkg: "/kms/keyring", forbidden: services},
		{pkg: "/crypt", forbidden: services},
		{pkg: "/auth", forbidden: []string{"/chat", "/directory", "/audit", "/httpapi", "/sqldb"}},
		{pkg: "/chat", forbidden: []string{"/auth", "/directory", "/audit", "/httpapi", "/sqldb"}},
		{pkg: "/directory", forbidden: []string{"/auth", "/chat", "/audit", "/httpapi", "/sqldb"}},
		{pkg: "/audit", forbidden: []string{"/auth", "/chat", "/directory", "/httpapi", "/sqldb"}},
		{pkg: "/access", forbidden: []string{"/auth", "/chat", "/directory", "/audit", "/supervision", "/lifecycle", "/httpapi", "/sqldb"}},
		{pkg: "/supervision", forbidden: []string{"/auth", "/chat", "/directory", "/audit", "/access", "/lifecycle", "/httpapi", "/sqldb"}},
		{pkg: "/lifecycle", forbidden: []string{"/auth", "/chat", "/directory", "/audit", "/access", "/supervision", "/httpapi", "/sqldb"}},
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", module+r.pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", r.pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if r.stdOnly && strings.Contains(strings.SplitN(dep, "/", 2)[0], ".") && dep != module+r.pkg {
				t.Errorf("%s must import only the standard library, imports %s", module+r.pkg, dep)
			}
			rel, ok := strings.CutPrefix(dep, module)
			if !ok {
				continue
			}
			for _, f := range r.forbidden {
				f = strings.TrimSuffix(f, "/")
				if rel == f || strings.HasPrefix(rel, f+"/") {
					t.Errorf("%s must not import %s", module+r.pkg, dep)
				}
			}
		}
	}
}
