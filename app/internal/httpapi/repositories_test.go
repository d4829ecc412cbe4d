package httpapi_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

func TestRepositoriesLifecycle(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")

	web := connectRepo(t, alice, "miyabi-demo/webapp")
	private := connectRepo(t, alice, "octo-org/private-tool")
	own := connectRepo(t, alice, "alice/hello-world")
	if !private.IsPrivate || web.IsPrivate || own.FullName != "alice/hello-world" {
		t.Fatalf("GitHub facts not kept: %+v %+v %+v", web, private, own)
	}

	var page pageJSON[repoJSON]
	alice.Do("GET", "/repositories?limit=2", nil).Expect(200).JSON(&page)
	if page.Total != 3 || len(page.Items) != 2 || page.Items[0].ID != own.ID || page.Page != 1 || page.Limit != 2 {
		t.Fatalf("page 1: %+v", page)
	}
	alice.Do("GET", "/repositories?limit=2&page=2", nil).Expect(200).JSON(&page)
	if len(page.Items) != 1 || page.Items[0].ID != web.ID {
		t.Fatalf("page 2: %+v", page)
	}

	var got repoJSON
	alice.Do("GET", "/repositories/"+web.ID.String(), nil).Expect(200).JSON(&got)
	if got != web {
		t.Fatalf("get: %+v, want %+v", got, web)
	}

	team := teamWith(t, env, alice.OrgID, alice.UserID, "lead")
	alice.Do("PATCH", "/repositories/"+web.ID.String(), map[string]any{"team_id": team, "is_active": false}).Expect(200).JSON(&got)
	if got.TeamID == nil || *got.TeamID != team || got.IsActive {
		t.Fatalf("patched: %+v", got)
	}
	alice.Do("GET", "/repositories?team_id="+team.String(), nil).Expect(200).JSON(&page)
	if page.Total != 1 || page.Items[0].ID != web.ID {
		t.Fatalf("team filter: %+v", page)
	}
	// absent team_id leaves it; null clears it
	alice.Do("PATCH", "/repositories/"+web.ID.String(), map[string]any{"is_active": true}).Expect(200).JSON(&got)
	if got.TeamID == nil || !got.IsActive {
		t.Fatalf("absent team_id changed the team: %+v", got)
	}
	alice.Do("PATCH", "/repositories/"+web.ID.String(), `{"team_id": null}`).Expect(200).JSON(&got)
	if got.TeamID != nil {
		t.Fatalf("null team_id kept the team: %+v", got)
	}

	alice.Do("DELETE", "/repositories/"+web.ID.String(), nil).Expect(204)
	alice.Do("GET", "/repositories/"+web.ID.String(), nil).Problem(404)
	// once disconnected it can be connected again
	connectRepo(t, alice, "miyabi-demo/webapp")
}

func TestRepositoryValidation(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	bob := env.Login("bob")
	web := connectRepo(t, alice, "miyabi-demo/webapp")
	bobTeam := teamWith(t, env, bob.OrgID, bob.UserID, "lead")

	cases := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"full_name missing", "POST", "/repositories", map[string]any{}, 422, "full_name"},
		{"full_name without owner", "POST", "/repositories", map[string]any{"full_name": "webapp"}, 422, "full_name"},
		{"full_name with a path", "POST", "/repositories", map[string]any{"full_name": "a/b/c"}, 422, "full_name"},
		{"unknown on GitHub", "POST", "/repositories", map[string]any{"full_name": "miyabi-demo/nope"}, 422, "body.full_name"},
		{"another user's hello-world", "POST", "/repositories", map[string]any{"full_name": "bob/hello-world"}, 422, "body.full_name"},
		{"duplicate", "POST", "/repositories", map[string]any{"full_name": "miyabi-demo/webapp"}, 409, "already connected"},
		{"duplicate in another case", "POST", "/repositories", map[string]any{"full_name": "Miyabi-Demo/WebApp"}, 409, "already connected"},
		{"unknown field", "POST", "/repositories", map[string]any{"full_name": "miyabi-demo/api-server", "organization_id": uuid.New()}, 422, "organization_id"},
		{"team of another organization", "PATCH", "/repositories/" + web.ID.String(), map[string]any{"team_id": bobTeam}, 422, "body.team_id"},
		{"team that does not exist", "PATCH", "/repositories/" + web.ID.String(), map[string]any{"team_id": uuid.New()}, 422, "body.team_id"},
		{"team_id not a uuid", "PATCH", "/repositories/" + web.ID.String(), map[string]any{"team_id": "core"}, 422, "team_id"},
		{"is_active not a boolean", "PATCH", "/repositories/" + web.ID.String(), map[string]any{"is_active": "no"}, 422, "is_active"},
		{"full_name is not patchable", "PATCH", "/repositories/" + web.ID.String(), map[string]any{"full_name": "x/y"}, 422, "full_name"},
		{"id not a uuid", "GET", "/repositories/webapp", nil, 422, "id"},
		{"limit too high", "GET", "/repositories?limit=101", nil, 422, "limit"},
		{"page zero", "GET", "/repositories?page=0", nil, 422, "page"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := alice.Do(tc.method, tc.path, tc.body).Problem(tc.status)
			if !p.Mentions(tc.field) {
				t.Fatalf("problem does not name %q: %+v", tc.field, p)
			}
		})
	}
	if n := countRows(t, env, `SELECT count(*) FROM repositories`); n != 1 {
		t.Fatalf("%d repositories after refused requests, want 1", n)
	}
}

func TestRepositoryLimit(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	exec(t, env, `UPDATE organizations SET max_repositories = 2 WHERE id = $1`, alice.OrgID)
	connectRepo(t, alice, "miyabi-demo/webapp")
	connectRepo(t, alice, "miyabi-demo/api-server")
	p := alice.Do("POST", "/repositories", map[string]any{"full_name": "miyabi-demo/agent-playground"}).Problem(409)
	if !strings.Contains(p.Detail, "limit of 2 repositories") {
		t.Fatalf("limit problem: %+v", p)
	}
}

func TestRepositoriesAcrossOrganizations(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	bob := env.Login("bob")
	web := connectRepo(t, alice, "miyabi-demo/webapp")
	// bob connects the same GitHub repository in his own organization: allowed
	connectRepo(t, bob, "miyabi-demo/webapp")

	path := "/repositories/" + web.ID.String()
	bob.Do("GET", path, nil).Problem(404)
	bob.Do("PATCH", path, map[string]any{"is_active": false}).Problem(404)
	bob.Do("DELETE", path, nil).Problem(404)
	bob.Do("GET", path+"/issues", nil).Problem(404)
	var page pageJSON[repoJSON]
	bob.Do("GET", "/repositories", nil).Expect(200).JSON(&page)
	if page.Total != 1 || page.Items[0].ID == web.ID {
		t.Fatalf("bob sees alice's repository: %+v", page)
	}
	var got repoJSON
	alice.Do("GET", path, nil).Expect(200).JSON(&got)
	if !got.IsActive {
		t.Fatal("bob's refused PATCH changed alice's repository")
	}
}

func TestRepositoryPermissions(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	org := alice.OrgID
	web := connectRepo(t, alice, "miyabi-demo/webapp")
	api := connectRepo(t, alice, "miyabi-demo/api-server")
	viewer := memberOf(t, env, org, "victor", "viewer")
	member := memberOf(t, env, org, "mia", "member")
	admin := memberOf(t, env, org, "adam", "admin")
	lead := memberOf(t, env, org, "lena", "viewer")
	team := teamWith(t, env, org, lead.UserID, "lead")
	alice.Do("PATCH", "/repositories/"+web.ID.String(), map[string]any{"team_id": team}).Expect(200)

	cases := []struct {
		name   string
		c      *apitest.Client
		method string
		path   string
		body   any
		status int
	}{
		{"viewer lists", viewer, "GET", "/repositories", nil, 200},
		{"viewer reads", viewer, "GET", "/repositories/" + api.ID.String(), nil, 200},
		{"viewer cannot connect", viewer, "POST", "/repositories", map[string]any{"full_name": "victor/hello-world"}, 403},
		{"viewer cannot patch", viewer, "PATCH", "/repositories/" + api.ID.String(), map[string]any{"is_active": false}, 403},
		{"viewer cannot delete", viewer, "DELETE", "/repositories/" + api.ID.String(), nil, 403},
		{"member connects", member, "POST", "/repositories", map[string]any{"full_name": "mia/hello-world"}, 201},
		{"member patches", member, "PATCH", "/repositories/" + api.ID.String(), map[string]any{"is_active": true}, 200},
		{"member cannot delete", member, "DELETE", "/repositories/" + api.ID.String(), nil, 403},
		{"viewer team lead patches the team's repository", lead, "PATCH", "/repositories/" + web.ID.String(), map[string]any{"is_active": false}, 200},
		{"viewer team lead cannot patch another repository", lead, "PATCH", "/repositories/" + api.ID.String(), map[string]any{"is_active": false}, 403},
		{"viewer team lead cannot move a repository into the team", lead, "PATCH", "/repositories/" + api.ID.String(), map[string]any{"team_id": team}, 403},
		{"admin deletes", admin, "DELETE", "/repositories/" + api.ID.String(), nil, 204},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.Do(tc.method, tc.path, tc.body)
			if tc.status == 403 {
				r.Problem(403)
				return
			}
			r.Expect(tc.status)
		})
	}
	var got repoJSON
	alice.Do("GET", "/repositories/"+web.ID.String(), nil).Expect(200).JSON(&got)
	if got.IsActive {
		t.Fatal("the team lead's PATCH did not apply")
	}
}
