package httpapi_test

import (
	"testing"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

// null is not "leave it as is": a field the document does not declare nullable refuses
// null with a 422 naming it and changes nothing; a field declared nullable (a
// repository's team_id) takes null as "clear it".
func TestNullOnlyWhereTheDocumentAllowsIt(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	task := newTask(t, alice, map[string]any{"name": "keep me"})
	path := "/tasks/" + task.ID.String()
	mustName(t, alice.Do("PATCH", path, map[string]any{"name": nil}).Problem(422), "body.name")
	mustName(t, alice.Do("PATCH", path, map[string]any{"priority": "P0", "description": nil}).Problem(422), "body.description")
	var got taskJSON
	alice.Do("GET", path, nil).Expect(200).JSON(&got)
	if got.Name != "keep me" || got.Priority == "P0" {
		t.Fatalf("a refused PATCH changed the task: %+v", got)
	}
	web := connectRepo(t, alice, "miyabi-demo/webapp")
	team := teamWith(t, env, alice.OrgID, alice.UserID, "lead")
	alice.Do("PATCH", "/repositories/"+web.ID.String(), map[string]any{"team_id": team}).Expect(200)
	var repo struct {
		TeamID *string `json:"team_id"`
	}
	alice.Do("PATCH", "/repositories/"+web.ID.String(), map[string]any{"team_id": nil}).Expect(200).JSON(&repo)
	if repo.TeamID != nil {
		t.Fatalf("team_id null did not clear the team: %v", *repo.TeamID)
	}
}
