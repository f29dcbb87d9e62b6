package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// TestE2EAdminBuildInfo: "parley admin buildinfo" and "admin sbom" against
// the real server, as the system admin and as a user (403 → exit 1).
func TestE2EAdminBuildInfo(t *testing.T) {
	s := parleytest.NewServer(t)
	ctx := e2eCtx(t)
	admin := s.SetupAdmin(ctx)
	user := s.NewUser(ctx, admin, "alice")

	cli := newE2ECLI(t, s)

	cli.useSession(admin.Token())
	out := cli.mustRun(ctx, "", "admin", "buildinfo")
	for _, want := range []string{"go\tgo1.", "mod\tgithub.com/parleyhq/parley\t", "build\tGOOS="} {
		if !strings.Contains(out, want) {
			t.Errorf("buildinfo output lacks %q:\n%s", want, out)
		}
	}
	var bi wire.BuildInfo
	if err := json.Unmarshal([]byte(cli.mustRun(ctx, "", "admin", "buildinfo", "--json")), &bi); err != nil || bi.GoVersion == "" {
		t.Errorf("buildinfo --json: %v %+v", err, bi)
	}
	var sbom wire.SBOM
	if err := json.Unmarshal([]byte(cli.mustRun(ctx, "", "admin", "sbom")), &sbom); err != nil || sbom.BOMFormat != "CycloneDX" {
		t.Errorf("sbom: %v %+v", err, sbom)
	}

	cli.useSession(user.Token())
	code, _, stderr := cli.run(ctx, "", "admin", "buildinfo")
	if code != 1 || !strings.Contains(stderr, "(forbidden)") {
		t.Errorf("as a user: exit %d, stderr %q; want 1 and forbidden", code, stderr)
	}
	if code, _, _ := cli.run(ctx, "", "admin"); code != 1 {
		t.Errorf("admin without a subcommand: exit %d", code)
	}
}
