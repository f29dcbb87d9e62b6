package e2e

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
)

// TestBuildInfoAndSBOM: the system admin reads what the server was built
// from (V1); a user gets 403 and an anonymous caller 401, never the data.
func TestBuildInfoAndSBOM(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	alice := s.NewUser(ctx, admin, "alice")

	bi, err := admin.BuildInfo(ctx)
	if err != nil {
		t.Fatalf("buildinfo as system admin: %v", err)
	}
	if !strings.HasPrefix(bi.GoVersion, "go1.") {
		t.Errorf("go_version = %q", bi.GoVersion)
	}
	if bi.Main.Path != "github.com/parleyhq/parley" {
		t.Errorf("main module = %q", bi.Main.Path)
	}
	settings := map[string]string{}
	for _, kv := range bi.Settings {
		settings[kv.Key] = kv.Value
	}
	if settings["GOOS"] == "" || settings["GOARCH"] == "" {
		t.Errorf("settings lack GOOS/GOARCH: %v", settings)
	}
	// A test binary records no dependencies (the toolchain's choice), so
	// the list is checked for shape here; httpapi's unit test and
	// .ci/sbom.sh check real ones.
	deps := map[string]string{}
	for _, d := range bi.Deps {
		deps[d.Path] = d.Version
		if d.Version == "" || (d.Replace == nil && !strings.HasPrefix(d.Sum, "h1:")) {
			t.Errorf("dependency %+v lacks a version or go.sum hash", d)
		}
	}
	// The developer tools (tools/go.mod) are never linked into the server.
	for _, tool := range []string{"honnef.co/go/tools", "github.com/securego/gosec/v2", "golang.org/x/vuln", "golang.org/x/vulndb"} {
		if _, ok := deps[tool]; ok {
			t.Errorf("developer tool %s is linked into the server", tool)
		}
	}

	sbom, err := admin.SBOM(ctx)
	if err != nil {
		t.Fatalf("sbom as system admin: %v", err)
	}
	if sbom.BOMFormat != "CycloneDX" || sbom.SpecVersion != "1.6" || sbom.Metadata.Component.Type != "application" ||
		sbom.Metadata.Component.Name != bi.Path {
		t.Errorf("not a CycloneDX 1.6 application BOM: %+v", sbom.Metadata)
	}
	purls := map[string]bool{}
	for _, c := range sbom.Components {
		purls[c.PURL] = true
	}
	for path, v := range deps {
		if !purls["pkg:golang/"+path+"@"+v+"?type=module"] {
			t.Errorf("SBOM lacks %s@%s", path, v)
		}
	}
	if !purls["pkg:golang/std@"+bi.GoVersion+"?type=module"] {
		t.Errorf("SBOM lacks the standard library %s", bi.GoVersion)
	}

	_, err = alice.BuildInfo(ctx)
	expectStatus(t, err, http.StatusForbidden, "forbidden")
	_, err = alice.SBOM(ctx)
	expectStatus(t, err, http.StatusForbidden, "forbidden")
	_, err = s.Client().BuildInfo(ctx)
	expectStatus(t, err, http.StatusUnauthorized, "unauthenticated")
}

func expectStatus(t *testing.T, err error, status int, code string) {
	t.Helper()
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != status || ae.Code != code {
		t.Fatalf("got %v, want HTTP %d %s", err, status, code)
	}
}
