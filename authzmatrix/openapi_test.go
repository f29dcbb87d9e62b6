package authzmatrix

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/client"
)

// operation is one REST operation as the server publishes it.
type operation struct {
	Method, Path string
	Perm         authz.Permission
	// Body is true when the operation takes a request body; Fields are
	// the top-level fields of its schema.
	Body   bool
	Fields []string
}

func (o operation) String() string { return o.Method + " " + o.Path }

// madeUpID is a syntactically valid ID that names nothing.
const madeUpID = "x_matrix_nothing"

// path fills the path parameters from vals, and with madeUpID where vals
// has none.
func (o operation) path(vals map[string]string) string {
	segs := strings.Split(o.Path, "/")
	for i, s := range segs {
		if name, ok := strings.CutPrefix(s, "{"); ok {
			name = strings.TrimSuffix(name, "}")
			if v, ok := vals[name]; ok {
				segs[i] = v
			} else {
				segs[i] = madeUpID
			}
		}
	}
	return strings.Join(segs, "/")
}

// minimalBody is what the gate walk sends: {} where the operation takes a
// body, nothing otherwise.
func (o operation) minimalBody() any {
	if o.Body {
		return map[string]any{}
	}
	return nil
}

// openAPIDoc is the part of the OpenAPI document the matrix reads.
type openAPIDoc struct {
	Paths map[string]map[string]struct {
		Permission  string `json:"x-permission"`
		RequestBody *struct {
			Content map[string]struct {
				Schema struct {
					Ref string `json:"$ref"`
				} `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
	} `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"schemas"`
	} `json:"components"`
}

// readOperations fetches the OpenAPI document from the running server, as
// any client can, and lists its operations in a stable order. Every
// operation must name a known permission (Z1: deny by default).
func readOperations(ctx context.Context, t *testing.T, c *client.Client) []operation {
	t.Helper()
	var doc openAPIDoc
	status, code, err := c.Raw(ctx, "GET", "/api/v1/openapi.json", nil, &doc)
	if err != nil || status != 200 {
		t.Fatalf("openapi.json: %d %s %v", status, code, err)
	}
	var ops []operation
	for path, methods := range doc.Paths {
		for method, op := range methods {
			o := operation{Method: strings.ToUpper(method), Path: path, Perm: authz.Permission(op.Permission)}
			if !slices.Contains(authz.All, o.Perm) {
				t.Errorf("%s names unknown permission %q", o, op.Permission)
				continue
			}
			if op.RequestBody != nil {
				o.Body = true
				ref := op.RequestBody.Content["application/json"].Schema.Ref
				for f := range doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")].Properties {
					o.Fields = append(o.Fields, f)
				}
				slices.Sort(o.Fields)
			}
			ops = append(ops, o)
		}
	}
	if len(ops) == 0 {
		t.Fatal("the OpenAPI document lists no operation")
	}
	slices.SortFunc(ops, func(a, b operation) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	return ops
}
