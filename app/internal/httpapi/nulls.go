package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humagin"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// refuseNulls answers 422 (and returns true) when the JSON body sends null for a field
// the document does not declare nullable: an optional field is left out, not nulled
// (`PATCH /tasks/{id} {"name": null}` is a mistake, not "leave it as is"). Fields that
// may be cleared (a repository's team_id) are declared nullable and pass.
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
	schemas := s.api.OpenAPI().Components.Schemas
	if field := nullIn(schemas, op.RequestBody.Content["application/json"].Schema, v, "body"); field != "" {
		p := problemFor(hctx.Context(), s.log, domain.Invalid(field, "must not be null: leave the field out instead"))
		_ = huma.WriteErr(s.api, hctx, p.Status, p.Detail, p.Errors[0])
		return true
	}
	return false
}

// nullIn returns the path of the first null that schema does not allow in v ("" when
// none).
func nullIn(reg huma.Registry, schema *huma.Schema, v any, at string) string {
	if schema != nil && schema.Ref != "" {
		schema = reg.SchemaFromRef(schema.Ref)
	}
	if schema == nil {
		return ""
	}
	switch x := v.(type) {
	case nil:
		if !schema.Nullable && !slices.Contains(typesOf(schema), "null") {
			return at
		}
	case map[string]any:
		for name, child := range x {
			if p, ok := schema.Properties[name]; ok {
				if f := nullIn(reg, p, child, at+"."+name); f != "" {
					return f
				}
			}
		}
	case []any:
		for i, child := range x {
			if f := nullIn(reg, schema.Items, child, at+"["+itoa(i)+"]"); f != "" {
				return f
			}
		}
	}
	return ""
}

func typesOf(s *huma.Schema) []string {
	if s.Type == "" {
		return nil
	}
	return strings.Split(s.Type, ",")
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
