package httpapi

import (
	"runtime/debug"
	"testing"
)

func TestSBOMOfBuildInfo(t *testing.T) {
	saved := readBuildInfo
	t.Cleanup(func() { readBuildInfo = saved })
	readBuildInfo = func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{GoVersion: "go1.26.8", Path: "github.com/parleyhq/parley/cmd/parleyd",
			Main:     debug.Module{Path: "github.com/parleyhq/parley", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "vcs.revision", Value: "fb15715"}},
			Deps: []*debug.Module{
				{Path: "github.com/BurntSushi/toml", Version: "v1.6.0", Sum: "h1:dRaEfpa2VI55EwlIW72hMRHdWouJeRF7TPYhI+AUQjk="},
				{Path: "example.com/old", Version: "v1.0.0", Replace: &debug.Module{Path: "example.com/fork", Version: "v1.0.1", Sum: "h1:bad"}},
			}}, true
	}
	bi, err := currentBuildInfo()
	if err != nil {
		t.Fatal(err)
	}
	if len(bi.Deps) != 2 || bi.Deps[1].Replace == nil || bi.Deps[1].Replace.Path != "example.com/fork" || bi.Settings[1].Value != "fb15715" {
		t.Fatalf("build info %+v", bi)
	}
	s := sbomOf(bi)
	if got := s.Metadata.Component.PURL; got != "pkg:golang/github.com/parleyhq/parley?type=module" {
		t.Errorf("main purl %q: (devel) is no version", got)
	}
	want := []struct{ purl, hash string }{
		{"pkg:golang/std@go1.26.8?type=module", ""},
		// the h1: hash as hex SHA-256, as cyclonedx-gomod writes it
		{"pkg:golang/github.com/BurntSushi/toml@v1.6.0?type=module", "7516847e96b6548e791309485bbda13111dd5a8b8979117b4cf62123e0144239"},
		{"pkg:golang/example.com/fork@v1.0.1?type=module", ""}, // what was linked; a malformed sum gives no hash
	}
	if len(s.Components) != len(want) {
		t.Fatalf("components %+v", s.Components)
	}
	for i, w := range want {
		c := s.Components[i]
		hash := ""
		if len(c.Hashes) == 1 {
			hash = c.Hashes[0].Content
		}
		if c.PURL != w.purl || c.BOMRef != w.purl || hash != w.hash {
			t.Errorf("component %d = %+v, want %s %s", i, c, w.purl, w.hash)
		}
	}
	if len(s.Dependencies) != 1 || len(s.Dependencies[0].DependsOn) != 3 {
		t.Errorf("dependencies %+v", s.Dependencies)
	}

	readBuildInfo = func() (*debug.BuildInfo, bool) { return nil, false }
	if _, err := currentBuildInfo(); err == nil {
		t.Error("no build info must be an error")
	}
}
