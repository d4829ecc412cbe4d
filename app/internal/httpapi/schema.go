package httpapi

import (
	"reflect"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/workerapi"
)

// uuidSchema makes every uuid.UUID in the document a string of format uuid, so huma
// validates ids itself and a malformed one is a 422 naming its field.
type uuidSchema struct{}

func (uuidSchema) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Format: "uuid"}
}

// AgentTypeName is an agent type as a request names it (bounded like the schema's CHECK).
type AgentTypeName = workerapi.AgentTypeName

func agentTypeNames(in []AgentTypeName) []string {
	out := make([]string, len(in))
	for i, t := range in {
		out[i] = string(t)
	}
	return out
}

func registerSchemaTypes(r huma.Registry) {
	r.RegisterTypeAlias(reflect.TypeFor[uuid.UUID](), reflect.TypeFor[uuidSchema]())
}
