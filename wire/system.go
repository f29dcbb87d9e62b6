package wire

// BuildInfo answers GET /api/v1/admin/buildinfo (V1): what the running
// parleyd binary was built from, as the Go toolchain embedded it
// (runtime/debug.ReadBuildInfo): toolchain, main module, build settings
// (GOOS, CGO_ENABLED, vcs.revision …) and every linked module with its
// go.sum hash.
type BuildInfo struct {
	GoVersion string         `json:"go_version"`
	Path      string         `json:"path"` // the main package, e.g. github.com/parleyhq/parley/cmd/parleyd
	Main      Module         `json:"main"`
	Settings  []BuildSetting `json:"settings"`
	Deps      []Module       `json:"deps"`
}

// Module is one Go module linked into the binary. Version is "(devel)" for
// a main module built from a work tree.
type Module struct {
	Path    string  `json:"path"`
	Version string  `json:"version"`
	Sum     string  `json:"sum,omitempty"` // go.sum hash, "h1:…"
	Replace *Module `json:"replace,omitempty"`
}

// BuildSetting is one key=value the toolchain recorded (go help buildinfo).
type BuildSetting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// SBOM answers GET /api/v1/admin/sbom: the same facts as a CycloneDX 1.6
// JSON bill of materials, so SBOM and vulnerability tooling reads it as it
// is. Field names are CycloneDX's (camelCase, "bom-ref"): the one place the
// API departs from snake_case, because the format is a standard.
type SBOM struct {
	BOMFormat    string           `json:"bomFormat"`   // "CycloneDX"
	SpecVersion  string           `json:"specVersion"` // "1.6"
	Version      int              `json:"version"`     // 1
	Metadata     SBOMMetadata     `json:"metadata"`
	Components   []SBOMComponent  `json:"components"`
	Dependencies []SBOMDependency `json:"dependencies"`
}

// SBOMMetadata names the subject of the BOM: the parleyd application.
type SBOMMetadata struct {
	Component SBOMComponent `json:"component"`
}

// SBOMComponent is the application or one module ("library"). BOMRef is
// its package URL.
type SBOMComponent struct {
	BOMRef     string         `json:"bom-ref"`
	Type       string         `json:"type"`
	Name       string         `json:"name"`
	Version    string         `json:"version,omitempty"`
	PURL       string         `json:"purl,omitempty"`
	Hashes     []SBOMHash     `json:"hashes,omitempty"`
	Properties []SBOMProperty `json:"properties,omitempty"`
}

// SBOMHash is a content hash; for a module, the SHA-256 of its go.sum "h1:"
// hash in hex, as cyclonedx-gomod writes it.
type SBOMHash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

// SBOMProperty is a name/value pair (build settings, Go version).
type SBOMProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SBOMDependency says which components a component depends on.
type SBOMDependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn,omitempty"`
}
