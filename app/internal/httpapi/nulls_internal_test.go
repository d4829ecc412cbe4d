package httpapi

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/miyabi/miyabi/app/internal/config"
)

// The null check reads schemas as OpenAPI 3.1 publishes them: a type array holding
// "null" allows null, like nullable: true and type "null"; everything else refuses it
// and the problem names the field.
func TestNullInReadsTypeArrays(t *testing.T) {
	var schemas map[string]any
	if err := json.Unmarshal([]byte(`{
		"Patch": {"type": "object", "properties": {
			"team_id": {"type": ["string", "null"], "format": "uuid"},
			"name": {"type": "string"},
			"tags": {"type": ["array", "null"], "items": {"type": ["integer", "null"]}},
			"labels": {"type": "array", "items": {"type": "string"}},
			"legacy": {"type": "string", "nullable": true},
			"nothing": {"type": "null"},
			"owner": {"anyOf": [{"$ref": "#/components/schemas/Person"}, {"type": "null"}]},
			"person": {"$ref": "#/components/schemas/Person"},
			"alias": {"$ref": "#/components/schemas/MaybeString"}
		}},
		"Person": {"type": "object", "properties": {"login": {"type": "string"}, "name": {"type": ["string", "null"]}}},
		"MaybeString": {"type": ["null", "string"]}
	}`), &schemas); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"$ref": "#/components/schemas/Patch"}
	for _, c := range []struct {
		body string
		want string
	}{
		{`{"team_id": null}`, ""},
		{`{"name": null}`, "body.name"},
		{`{"tags": null}`, ""},
		{`{"tags": [1, null, 3]}`, ""},
		{`{"labels": null}`, "body.labels"},
		{`{"labels": ["a", null]}`, "body.labels[1]"},
		{`{"legacy": null, "nothing": null}`, ""},
		{`{"owner": null}`, ""},
		{`{"person": null}`, "body.person"},
		{`{"person": {"login": "alice", "name": null}}`, ""},
		{`{"person": {"login": null}}`, "body.person.login"},
		{`{"alias": null}`, ""},
		{`{"unknown": null}`, ""}, // not described: huma's validation answers for it
		{`null`, "body"},
	} {
		var v any
		if err := json.Unmarshal([]byte(c.body), &v); err != nil {
			t.Fatal(err)
		}
		if got := nullIn(schemas, body, v, "body"); got != c.want {
			t.Errorf("%s: refused %q, want %q", c.body, got, c.want)
		}
	}
}

// The server's own document publishes nullable request fields as type arrays, and the
// check reads them so: a repository's team_id may be nulled, is_active may not.
func TestNullCheckOnThePublishedDocument(t *testing.T) {
	s, err := NewServer(Deps{Config: config.Config{Env: config.EnvDevelopment, LogFormat: "text",
		JWTSigningKey: []byte("test-jwt-signing-key-0123456789abcdef"), TokenEncryptionKey: []byte("0123456789abcdef0123456789abcdef")}})
	if err != nil {
		t.Fatal(err)
	}
	op := s.OpenAPI().Paths["/repositories/{id}"].Patch
	schema, err := jsonOf(op.RequestBody.Content["application/json"].Schema)
	if err != nil {
		t.Fatal(err)
	}
	schemas := s.documentSchemas()
	props, _ := deref(schemas, schema)["properties"].(map[string]any)
	teamID, _ := props["team_id"].(map[string]any)
	if types, ok := teamID["type"].([]any); !ok || !slices.Contains(types, any("null")) {
		t.Fatalf("team_id is published as %v, want a type array with null", teamID)
	}
	if got := nullIn(schemas, schema, map[string]any{"team_id": nil}, "body"); got != "" {
		t.Errorf("team_id null refused (%s)", got)
	}
	if got := nullIn(schemas, schema, map[string]any{"is_active": nil}, "body"); got != "body.is_active" {
		t.Errorf("is_active null: refused %q, want body.is_active", got)
	}
}
