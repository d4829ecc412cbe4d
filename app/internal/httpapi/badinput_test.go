package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

// writeOp is one operation of the document that takes a JSON body.
type writeOp struct {
	method, path string
	schema       *huma.Schema
}

func writeOperations(t *testing.T, env *apitest.Env) []writeOp {
	doc := env.Server.OpenAPI()
	var ops []writeOp
	for path, item := range doc.Paths {
		for _, o := range operations(item) {
			if o.RequestBody == nil || o.RequestBody.Content["application/json"] == nil {
				continue
			}
			s := resolve(doc, o.RequestBody.Content["application/json"].Schema)
			ops = append(ops, writeOp{o.Method, path, s})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	if len(ops) < 5 {
		t.Fatalf("only %d write operations", len(ops))
	}
	return ops
}

func resolve(doc *huma.OpenAPI, s *huma.Schema) *huma.Schema {
	if s != nil && s.Ref != "" {
		return doc.Components.Schemas.SchemaFromRef(s.Ref)
	}
	return s
}

// fingerprint counts the rows of every table, to prove bad input changed nothing.
func fingerprint(t *testing.T, env *apitest.Env) string {
	t.Helper()
	var fp string
	err := env.DB.QueryRow(context.Background(), `
		SELECT string_agg(format('%s=%s', c.relname, (xpath('/row/n/text()',
			query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text), ',' ORDER BY c.relname)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT IN ('goose_db_version', 'sessions', 'refresh_tokens')`).Scan(&fp)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}

// Every route that takes a body answers wrong types, missing fields, unknown fields,
// huge values, invalid UTF-8 and SQL meta-characters with a 4xx problem, and the
// database does not change.
func TestEveryWriteRouteRejectsBadInput(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	before := fingerprint(t, env)
	internal := []string{"goroutine", ".go:", "SQLSTATE", "pgx", "panic", "syntax error"}
	for _, op := range writeOperations(t, env) {
		path := fillPath(op.path, alice)
		var cases []struct{ name, body, field string }
		add := func(name, body, field string) {
			cases = append(cases, struct{ name, body, field string }{name, body, field})
		}
		add("array instead of object", `[]`, "")
		add("number instead of object", `42`, "")
		add("unknown field", `{"zz_unknown_field": 1, "organization_id": "`+uuid.NewString()+`", "status": "completed", "role": "owner"}`, "")
		add("invalid UTF-8", "{\"name\": \"\xff\xfe\xfd\"}", "")
		add("truncated", `{"name": "x`, "")
		add("NUL in a nested key", `{"metadata": {"k\u0000": "v"}, "options": {"\u0000": 1}}`, "")
		for name, prop := range op.schema.Properties {
			wrong := `"not-a-` + prop.Type + `"`
			switch prop.Type {
			case "string":
				wrong = `12345`
			case "array":
				wrong = `{"not": "an array"}`
			}
			add("wrong type "+name, fmt.Sprintf(`{%q: %s}`, name, wrong), name)
			switch prop.Type {
			case "string":
				// PostgreSQL stores no NUL: a 422 naming the field, never a 500 (issue 14)
				add("NUL in "+name, fmt.Sprintf(`{%q: "a\u0000b"}`, name), name)
				add("huge "+name, fmt.Sprintf(`{%q: %q}`, name, strings.Repeat("x", 200_000)), "")
				if prop.Pattern != "" || len(prop.Enum) > 0 || prop.Format != "" {
					add("sql in "+name, fmt.Sprintf(`{%q: %q}`, name, "x'); DROP TABLE users; --"), name)
				}
			case "array":
				add("huge "+name, fmt.Sprintf(`{%q: [%s]}`, name, strings.TrimSuffix(strings.Repeat(`{},`, 20_000), ",")), "")
			}
		}
		for _, tc := range cases {
			r := alice.Do(op.method, path, []byte(tc.body))
			label := op.method + " " + op.path + ": " + tc.name
			if r.Status < 400 || r.Status >= 500 {
				t.Errorf("%s: status %d, want 4xx: %s", label, r.Status, r.Body)
				continue
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Errorf("%s: content type %q", label, ct)
			}
			for _, bad := range internal {
				if strings.Contains(string(r.Body), bad) {
					t.Errorf("%s: body leaks %q", label, bad)
				}
			}
			if tc.field != "" && r.Status == http.StatusUnprocessableEntity {
				var p apitest.Problem
				_ = json.Unmarshal(r.Body, &p)
				if !p.Mentions(tc.field) {
					t.Errorf("%s: problem does not name %s: %s", label, tc.field, r.Body)
				}
			}
		}
	}
	if after := fingerprint(t, env); after != before {
		t.Fatalf("bad input changed the database:\nbefore %s\nafter  %s", before, after)
	}
}

// Unrestricted resource use: every string a client sends is bounded, and so is every array.
func TestEveryRequestFieldIsBounded(t *testing.T) {
	env := apitest.New(t)
	doc := env.Server.OpenAPI()
	var walk func(where string, s *huma.Schema, depth int)
	walk = func(where string, s *huma.Schema, depth int) {
		s = resolve(doc, s)
		if s == nil || depth > 6 {
			return
		}
		switch s.Type {
		case "string":
			if s.MaxLength == nil && len(s.Enum) == 0 && s.Format != "uuid" && s.Format != "date-time" {
				t.Errorf("%s: string without maxLength", where)
			}
		case "array":
			if s.MaxItems == nil {
				t.Errorf("%s: array without maxItems", where)
			}
			walk(where+"[]", s.Items, depth+1)
		case "object":
			for name, p := range s.Properties {
				walk(where+"."+name, p, depth+1)
			}
		}
	}
	for _, op := range writeOperations(t, env) {
		walk(op.method+" "+op.path+" body", op.schema, 0)
	}
}

// fillPath puts ids into a route template: the caller's own organization for {id} under
// /organizations (so the request reaches validation), random ids elsewhere.
func fillPath(tmpl string, c *apitest.Client) string {
	parts := strings.Split(tmpl, "/")
	for i, p := range parts {
		if !strings.HasPrefix(p, "{") {
			continue
		}
		switch {
		case p == "{id}" && i > 0 && parts[i-1] == "organizations":
			parts[i] = c.OrgID.String()
		case p == "{token}":
			parts[i] = "inv_0123456789abcdef0123456789abcdef"
		default:
			parts[i] = uuid.NewString()
		}
	}
	return strings.Join(parts, "/")
}

// SQL meta-characters in free text are data: stored and returned as sent, harming nothing.
func TestSQLMetaCharactersAreData(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	name := `Robert'); DROP TABLE users; -- "\%_`
	var team struct {
		Name string `json:"name"`
	}
	alice.Do("POST", "/organizations/"+alice.OrgID.String()+"/teams", map[string]any{"name": name}).Expect(201).JSON(&team)
	if team.Name != name {
		t.Fatalf("stored %q, sent %q", team.Name, name)
	}
	alice.Do("GET", "/auth/me", nil).Expect(200)
}
