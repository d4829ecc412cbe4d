package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humagin"
	"github.com/gin-gonic/gin"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// refuseNulls answers 422 (and returns true) when the JSON body sends null for a field
// the document does not declare nullable: an optional field is left out, not nulled
// (`PATCH /tasks/{id} {"name": null}` is a mistake, not "leave it as is"). Fields that
// may be cleared (a repository's team_id) are declared nullable and pass.
//
// It reads the document as published (OpenAPI 3.1, what clients and the dashboard's
// generated types see), where a nullable field's type is an array such as
// ["string","null"]; the 3.0 spelling (nullable: true), a type of "null" and a
// oneOf/anyOf member that allows null are honoured too.
func (s *Server) refuseNulls(hctx huma.Context) bool {
	op := hctx.Operation()
	if op == nil || op.SkipValidateBody || op.RequestBody == nil || op.RequestBody.Content["application/json"] == nil {
		return false // a raw body (the GitHub webhook's) is read by its handler alone
	}
	req := humagin.Unwrap(hctx).Request
	if req.Body == nil || req.Body == http.NoBody {
		return false
	}
	raw, err := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(raw))
	if err != nil || !bytes.Contains(raw, []byte("null")) {
		return false
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false // huma answers malformed JSON itself
	}
	schema, err := jsonOf(op.RequestBody.Content["application/json"].Schema)
	if err != nil {
		s.log.ErrorContext(hctx.Context(), "null check: the request schema cannot be read", "operation", op.OperationID, "error", err)
		return false
	}
	if field := nullIn(s.documentSchemas(), schema, v, "body"); field != "" {
		p := problemFor(hctx.Context(), s.log, domain.Invalid(field, "must not be null: leave the field out instead"))
		_ = huma.WriteErr(s.api, hctx, p.Status, p.Detail, p.Errors[0])
		return true
	}
	return false
}

// documentSchemas is components.schemas of the published document, as JSON, read once
// (every route is registered by NewServer, before the first request).
func (s *Server) documentSchemas() map[string]any {
	s.schemasOnce.Do(func() {
		var doc struct {
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		b, err := json.Marshal(s.api.OpenAPI())
		if err == nil {
			err = json.Unmarshal(b, &doc)
		}
		if err != nil {
			s.log.Error("null check: the OpenAPI document cannot be read", "error", err)
		}
		s.schemas = doc.Components.Schemas
	})
	return s.schemas
}

// jsonOf is a schema as the document publishes it.
func jsonOf(schema *huma.Schema) (any, error) {
	if schema == nil {
		return nil, nil
	}
	b, err := json.Marshal(schema)
	if err != nil {
		return nil, err
	}
	var v any
	return v, json.Unmarshal(b, &v)
}

// schemaRefPrefix is where the document's $refs point.
const schemaRefPrefix = "#/components/schemas/"

// deref follows a $ref into schemas; a schema without one (or with one that points
// nowhere) comes back as it is, nil when it is not a schema object.
func deref(schemas map[string]any, schema any) map[string]any {
	m, _ := schema.(map[string]any)
	for range 8 { // a chain of refs, bounded
		ref, _ := m["$ref"].(string)
		if !strings.HasPrefix(ref, schemaRefPrefix) {
			return m
		}
		m, _ = schemas[strings.TrimPrefix(ref, schemaRefPrefix)].(map[string]any)
	}
	return m
}

// nullIn returns the path of the first null that schema does not allow in v ("" when
// none). Fields the schema does not describe are left to huma's validation.
func nullIn(schemas map[string]any, schema any, v any, at string) string {
	m := deref(schemas, schema)
	if m == nil {
		return ""
	}
	switch x := v.(type) {
	case nil:
		if !allowsNull(schemas, m, 0) {
			return at
		}
	case map[string]any:
		props, _ := m["properties"].(map[string]any)
		for name, child := range x {
			if p, ok := props[name]; ok {
				if f := nullIn(schemas, p, child, at+"."+name); f != "" {
					return f
				}
			}
		}
	case []any:
		for i, child := range x {
			if f := nullIn(schemas, m["items"], child, at+"["+itoa(i)+"]"); f != "" {
				return f
			}
		}
	}
	return ""
}

// allowsNull tells whether a schema declares null valid: a type of "null" or a type
// array holding it (OpenAPI 3.1, JSON Schema), nullable: true (OpenAPI 3.0), or
// composition: a oneOf/anyOf member that allows it, an allOf whose members all do.
func allowsNull(schemas map[string]any, m map[string]any, depth int) bool {
	if m == nil || depth > 8 {
		return false
	}
	if n, _ := m["nullable"].(bool); n {
		return true
	}
	switch t := m["type"].(type) {
	case string:
		if t == "null" {
			return true
		}
	case []any:
		if slices.Contains(t, any("null")) {
			return true
		}
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		members, _ := m[key].([]any)
		for _, member := range members {
			if allowsNull(schemas, deref(schemas, member), depth+1) {
				return true
			}
		}
	}
	if all, _ := m["allOf"].([]any); len(all) > 0 {
		for _, member := range all {
			if !allowsNull(schemas, deref(schemas, member), depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// refuseNUL keeps U+0000 away from PostgreSQL, which stores no NUL in text or jsonb
// (22021, 22P05: a 500 on 9 routes). People's input with one is a 422 naming the field;
// a worker's (agent output is untrusted and must not be lost) has it replaced by U+FFFD,
// nothing else changed. It runs after limitBody, on the body read into memory.
func (s *Server) refuseNUL(c *gin.Context) {
	if q := c.Request.URL.RawQuery; strings.Contains(q, "%00") {
		for name, values := range c.Request.URL.Query() {
			for _, v := range values {
				if strings.ContainsRune(v, 0) {
					s.writeInvalid(c, "query."+name, "must not contain a NUL character (\\u0000)")
					return
				}
			}
		}
	}
	if c.Request.Body == nil || c.Request.Body == http.NoBody || c.Request.ContentLength == 0 {
		c.Next()
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		s.writeProblem(c, http.StatusBadRequest, "The request body could not be read.")
		c.Abort()
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	if !bytes.Contains(body, []byte(`\u0000`)) {
		c.Next()
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		c.Next() // not JSON: the operation says so
		return
	}
	if strings.HasPrefix(c.Request.URL.Path, APIPrefix+"/worker/") {
		clean, err := json.Marshal(replaceNUL(doc))
		if err != nil {
			s.writeProblem(c, http.StatusBadRequest, "The request body could not be read.")
			c.Abort()
			return
		}
		c.Request.Body = io.NopCloser(bytes.NewReader(clean))
		c.Request.ContentLength = int64(len(clean))
		c.Next()
		return
	}
	if field, ok := findNUL(doc, "body"); ok {
		s.writeInvalid(c, field, "must not contain a NUL character (\\u0000)")
		return
	}
	c.Next()
}

// findNUL returns the location (body.metadata.key, body.lines[2].message) of the first
// string, or object key, holding a NUL.
func findNUL(v any, at string) (string, bool) {
	switch x := v.(type) {
	case string:
		return at, strings.ContainsRune(x, 0)
	case []any:
		for i, e := range x {
			if f, ok := findNUL(e, fmt.Sprintf("%s[%d]", at, i)); ok {
				return f, true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.ContainsRune(k, 0) {
				return at, true
			}
			if f, ok := findNUL(e, at+"."+k); ok {
				return f, true
			}
		}
	}
	return "", false
}

func replaceNUL(v any) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, "\x00", "\uFFFD")
	case []any:
		for i, e := range x {
			x[i] = replaceNUL(e)
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[strings.ReplaceAll(k, "\x00", "\uFFFD")] = replaceNUL(e)
		}
		return out
	}
	return v
}

// writeInvalid answers 422 naming the field, like huma's validation does.
func (s *Server) writeInvalid(c *gin.Context, location, message string) {
	p := &Problem{Type: "about:blank", Title: http.StatusText(http.StatusUnprocessableEntity), Status: http.StatusUnprocessableEntity,
		Detail: "validation failed", RequestID: requestIDFrom(c.Request.Context()),
		Errors: []*huma.ErrorDetail{{Location: location, Message: message}}}
	body, _ := json.Marshal(p)
	c.Data(p.Status, "application/problem+json", body)
	c.Abort()
}
