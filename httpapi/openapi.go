package httpapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

// OpenAPI builds the OpenAPI 3.1 document from the route table and the wire
// types, so the document cannot drift from what is served.
func (a *API) OpenAPI() map[string]any { return a.openAPI(planeAll) }

// openAPI documents the operations served on pl.
func (a *API) openAPI(pl plane) map[string]any {
	schemas := map[string]any{}
	paths := map[string]map[string]any{}
	for _, rt := range a.routes {
		if !onPlane(pl, rt) {
			continue
		}
		op := map[string]any{
			"summary":      rt.Summary,
			"operationId":  operationID(rt),
			"x-permission": string(rt.Perm),
		}
		if rt.Perm == authz.PermPublic {
			op["security"] = []any{}
		}
		var params []any
		for _, seg := range strings.Split(rt.Path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true,
					"schema": map[string]any{"type": "string", "maxLength": 64}})
			}
		}
		for _, q := range rt.Query {
			s := map[string]any{"type": q.Type}
			if q.Type == "integer" {
				s["minimum"] = 0
			}
			params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Doc, "schema": s})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemaRef(reflect.TypeOf(rt.Request).Elem(), schemas)}}}
		}
		resp := map[string]any{"description": http.StatusText(rt.Status)}
		if rt.Response != nil {
			resp["content"] = map[string]any{"application/json": map[string]any{
				"schema": schemaRef(reflect.TypeOf(rt.Response).Elem(), schemas)}}
		}
		errResp := map[string]any{"description": "Error (see API-CORE error codes)", "content": map[string]any{
			"application/json": map[string]any{"schema": schemaRef(reflect.TypeOf(wire.ErrorBody{}), schemas)}}}
		op["responses"] = map[string]any{itoa(rt.Status): resp, "default": errResp}
		if paths[rt.Path] == nil {
			paths[rt.Path] = map[string]any{}
		}
		paths[rt.Path][strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Parley API", "version": "1.0.0",
			"description": "Parley enterprise messaging. Errors: {\"error\":{\"code\",\"message\"}}. WebSocket protocol: docs/websocket.md."},
		"servers":    []any{map[string]any{"url": "/"}},
		"security":   []any{map[string]any{"bearer": []any{}}},
		"paths":      paths,
		"components": map[string]any{"schemas": schemas, "securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}},
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func operationID(rt *route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, seg := range strings.Split(rt.Path, "/") {
		seg = strings.Trim(seg, "{}.")
		if seg == "" || seg == "api" || seg == "v1" {
			continue
		}
		for _, part := range strings.FieldsFunc(seg, func(r rune) bool { return r == '_' || r == '.' }) {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

var (
	timeType    = reflect.TypeOf(time.Time{})
	rawJSONType = reflect.TypeOf(json.RawMessage{})
)

// schemaRef returns a $ref to t's schema, adding it to schemas.
func schemaRef(t reflect.Type, schemas map[string]any) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == timeType {
		return schemaOf(t, schemas)
	}
	if _, ok := schemas[t.Name()]; !ok {
		schemas[t.Name()] = map[string]any{} // break recursion
		props := map[string]any{}
		var required []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			props[name] = schemaOf(f.Type, schemas)
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") && f.Type.Kind() != reflect.Pointer {
				required = append(required, name)
			}
		}
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		schemas[t.Name()] = s
	}
	return map[string]any{"$ref": "#/components/schemas/" + t.Name()}
}

func schemaOf(t reflect.Type, schemas map[string]any) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == rawJSONType:
		return map[string]any{"type": "object", "description": "JSON passed through (e.g. WebAuthn protocol data)"}
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.String:
		return map[string]any{"type": "string"}
	case t.Kind() == reflect.Bool:
		return map[string]any{"type": "boolean"}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return map[string]any{"type": "integer"}
	case t.Kind() == reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), schemas)}
	case t.Kind() == reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), schemas)}
	case t.Kind() == reflect.Struct:
		return schemaRef(t, schemas)
	}
	return map[string]any{}
}

func (a *API) openapi(c *call) error {
	pl, _ := c.r.Context().Value(planeKey{}).(plane)
	a.openapiOnce[pl].Do(func() { a.openapiJSON[pl], _ = json.MarshalIndent(a.openAPI(pl), "", "  ") })
	c.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = c.w.Write(a.openapiJSON[pl])
	return nil
}

// planeKey carries the serving plane to the OpenAPI handler (only to it:
// attaching it costs a request copy).
type planeKey struct{}
