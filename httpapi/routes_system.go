package httpapi

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

// systemRoutes expose what the running binary was built from (V1): its
// build information and the same as a CycloneDX SBOM, for the system admin
// (versions, not data). CI keeps a fuller SBOM of each build (.ci/sbom.sh).
func (a *API) systemRoutes() []*route {
	return []*route{
		{Method: "GET", Path: "/api/v1/admin/buildinfo", Perm: authz.PermSystemInfo, Summary: "Build information of this server binary: Go version, main module, settings, dependencies (V1)",
			Response: &wire.BuildInfo{}, Status: 200, Handle: a.buildInfo},
		{Method: "GET", Path: "/api/v1/admin/sbom", Perm: authz.PermSystemInfo, Summary: "CycloneDX 1.6 SBOM of this server binary (V1)",
			Response: &wire.SBOM{}, Status: 200, Handle: a.sbom},
	}
}

// readBuildInfo is debug.ReadBuildInfo; a variable for tests.
var readBuildInfo = debug.ReadBuildInfo

func (a *API) buildInfo(c *call) error {
	bi, err := currentBuildInfo()
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, bi)
	return nil
}

func (a *API) sbom(c *call) error {
	bi, err := currentBuildInfo()
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, sbomOf(bi))
	return nil
}

func currentBuildInfo() (*wire.BuildInfo, error) {
	info, ok := readBuildInfo()
	if !ok {
		return nil, parley.Errorf(parley.CodeUnavailable, "this binary carries no build information")
	}
	out := &wire.BuildInfo{GoVersion: info.GoVersion, Path: info.Path, Main: wireModule(&info.Main),
		Settings: []wire.BuildSetting{}, Deps: []wire.Module{}}
	for _, s := range info.Settings {
		out.Settings = append(out.Settings, wire.BuildSetting{Key: s.Key, Value: s.Value})
	}
	for _, d := range info.Deps {
		out.Deps = append(out.Deps, wireModule(d))
	}
	return out, nil
}

func wireModule(m *debug.Module) wire.Module {
	w := wire.Module{Path: m.Path, Version: m.Version, Sum: m.Sum}
	if m.Replace != nil {
		r := wireModule(m.Replace)
		w.Replace = &r
	}
	return w
}

// sbomOf maps build information to CycloneDX 1.6 the way cyclonedx-gomod
// does: package URLs pkg:golang/PATH@VERSION?type=module, the h1: hash as
// hex SHA-256, the standard library as component "std". A replaced module
// is listed as its replacement, which is what was linked.
func sbomOf(bi *wire.BuildInfo) *wire.SBOM {
	main := wire.SBOMComponent{Type: "application", Name: bi.Path, Version: bi.Main.Version,
		Properties: []wire.SBOMProperty{{Name: "cdx:gomod:build:goVersion", Value: bi.GoVersion}}}
	mainVersion := bi.Main.Version
	if mainVersion == "(devel)" { // not a version: a build from a work tree
		mainVersion = ""
	}
	main.PURL = modulePURL(bi.Main.Path, mainVersion)
	main.BOMRef = main.PURL
	for _, s := range bi.Settings {
		main.Properties = append(main.Properties, wire.SBOMProperty{Name: "cdx:gomod:build:setting:" + s.Key, Value: s.Value})
	}
	std := wire.SBOMComponent{Type: "library", Name: "std", Version: bi.GoVersion, PURL: modulePURL("std", bi.GoVersion)}
	std.BOMRef = std.PURL
	out := &wire.SBOM{BOMFormat: "CycloneDX", SpecVersion: "1.6", Version: 1,
		Metadata: wire.SBOMMetadata{Component: main}, Components: []wire.SBOMComponent{std}}
	deps := []string{std.BOMRef}
	for _, d := range bi.Deps {
		m := d
		if d.Replace != nil {
			m = *d.Replace
		}
		c := wire.SBOMComponent{Type: "library", Name: m.Path, Version: m.Version, PURL: modulePURL(m.Path, m.Version)}
		c.BOMRef = c.PURL
		if h, ok := h1Hex(m.Sum); ok {
			c.Hashes = []wire.SBOMHash{{Alg: "SHA-256", Content: h}}
		}
		out.Components = append(out.Components, c)
		deps = append(deps, c.BOMRef)
	}
	out.Dependencies = []wire.SBOMDependency{{Ref: main.BOMRef, DependsOn: deps}}
	return out
}

func modulePURL(path, version string) string {
	p := "pkg:golang/" + path
	if version != "" {
		p += "@" + version
	}
	return p + "?type=module"
}

// h1Hex turns a go.sum hash "h1:<base64 SHA-256>" into hex.
func h1Hex(sum string) (string, bool) {
	b64, ok := strings.CutPrefix(sum, "h1:")
	if !ok {
		return "", false
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 32 {
		return "", false
	}
	return hex.EncodeToString(raw), true
}
