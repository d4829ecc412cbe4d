package httpapi_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

// The three launches (POST /tasks with an agent, POST /agents/execute, POST
// /workflows/{id}/run) check their target in one order with one answer each: an unknown
// agent type, a bad issue number or a repository outside the organization is 422 naming
// the field; a caller who may not launch on the repository is 403 even when it is
// deactivated (its state is none of their business); a deactivated repository is 409 for
// a caller who may launch. None of the refused launches creates anything.
func TestLaunchTargetsAreCheckedAlikeEverywhere(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	org := alice.OrgID
	web := connectRepo(t, alice, "miyabi-demo/webapp")
	api := connectRepo(t, alice, "miyabi-demo/api-server")
	lead := memberOf(t, env, org, "lena", "viewer")
	team := teamWith(t, env, org, lead.UserID, "lead")
	alice.Do("PATCH", "/repositories/"+web.ID.String(), map[string]any{"team_id": team}).Expect(200)
	for _, r := range []uuid.UUID{web.ID, api.ID} {
		alice.Do("PATCH", "/repositories/"+r.String(), map[string]any{"is_active": false}).Expect(200)
	}
	bob := env.Login("bob")
	foreign := connectRepo(t, bob, "bob/hello-world")
	runID := runWorkflowID(t, alice)

	type launch struct {
		name string
		path string
		body func(repo any, issue any, agent string) map[string]any
	}
	launches := []launch{
		{"POST /tasks", "/tasks", func(repo, issue any, agent string) map[string]any {
			return map[string]any{"name": "x", "repository_id": repo, "issue_number": issue, "agent_type": agent}
		}},
		{"POST /agents/execute", "/agents/execute", func(repo, issue any, agent string) map[string]any {
			return map[string]any{"repository_id": repo, "issue_number": issue, "agent_type": agent}
		}},
		{"POST /workflows/{id}/run", "/workflows/" + runID.String() + "/run", func(repo, issue any, _ string) map[string]any {
			return map[string]any{"repository_id": repo, "issue_number": issue}
		}},
	}
	before := countRows(t, env, `SELECT count(*) FROM tasks`)
	for _, l := range launches {
		t.Run(l.name, func(t *testing.T) {
			mustName(t, alice.For(t).Do("POST", l.path, l.body(uuid.New(), 1, "codegen")).Problem(422), "body.repository_id")
			mustName(t, alice.For(t).Do("POST", l.path, l.body(foreign.ID, 1, "codegen")).Problem(422), "body.repository_id")
			mustName(t, alice.For(t).Do("POST", l.path, l.body(web.ID, 0, "codegen")).Problem(422), "body.issue_number")
			mustName(t, alice.For(t).Do("POST", l.path, l.body(web.ID, int64(1)<<31, "codegen")).Problem(422), "body.issue_number")
			alice.For(t).Do("POST", l.path, l.body(web.ID, 1, "codegen")).Problem(409)
			if l.path == "/workflows/"+runID.String()+"/run" {
				return // workflows.execute is organization-wide: a team role does not grant it
			}
			mustName(t, alice.For(t).Do("POST", l.path, l.body(web.ID, 1, "wizard")).Problem(422), "body.agent_type")
			lead.For(t).Do("POST", l.path, l.body(api.ID, 1, "codegen")).Problem(403)
			lead.For(t).Do("POST", l.path, l.body(web.ID, 1, "codegen")).Problem(409)
		})
	}
	if after := countRows(t, env, `SELECT count(*) FROM tasks`); after != before {
		t.Fatalf("refused launches created %d tasks", after-before)
	}
}

func runWorkflowID(t *testing.T, c *apitest.Client) uuid.UUID {
	t.Helper()
	var w struct {
		ID uuid.UUID `json:"id"`
	}
	c.Do("POST", "/workflows", map[string]any{"name": "one step", "definition": map[string]any{
		"nodes": []any{node("a", "codegen")}, "edges": []any{}}}).Expect(201).JSON(&w)
	return w.ID
}

func mustName(t *testing.T, p apitest.Problem, field string) {
	t.Helper()
	if !p.Mentions(field) {
		t.Errorf("the problem does not name %s: %+v", field, p)
	}
}
