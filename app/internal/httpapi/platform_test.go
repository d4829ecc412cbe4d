package httpapi_test

import (
	"testing"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

// The newcomer's tour, through the API alone: connect a repository from GitHub, launch an
// agent, run a three-node workflow, and see it all on the dashboard.
func TestNewcomerTour(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")

	repo := connectRepo(t, alice, "miyabi-demo/agent-playground")
	if repo.FullName != "miyabi-demo/agent-playground" || repo.GitHubRepoID == 0 || !repo.IsActive || repo.DefaultBranch == "" {
		t.Fatalf("connected repository: %+v", repo)
	}
	l := launchAgent(t, alice, repo.ID, "codegen")
	if l.Execution.Status != "pending" || l.Task.Status != "pending" || *l.Task.ExecutionID != l.Execution.ID ||
		*l.Execution.TaskID != l.Task.ID || l.Task.Name != "codegen on miyabi-demo/agent-playground#1" {
		t.Fatalf("launch: %+v", l)
	}

	var wf struct {
		ID string `json:"id"`
	}
	alice.Do("POST", "/workflows", map[string]any{"name": "Ship an issue", "definition": map[string]any{
		"nodes": []map[string]any{
			{"id": "plan", "agent_type": "coordinator", "name": "Plan"},
			{"id": "code", "agent_type": "codegen", "name": "Write the code"},
			{"id": "review", "agent_type": "review", "name": "Review it"},
		},
		"edges": []map[string]any{{"from": "plan", "to": "code"}, {"from": "code", "to": "review"}},
	}}).Expect(201).JSON(&wf)
	var run struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Nodes  []struct {
			NodeID      string `json:"node_id"`
			Status      string `json:"status"`
			DepsPending int    `json:"deps_pending"`
		} `json:"nodes"`
	}
	alice.Do("POST", "/workflows/"+wf.ID+"/run", map[string]any{"repository_id": repo.ID, "issue_number": 7}).Expect(201).JSON(&run)
	if run.Status != "pending" || len(run.Nodes) != 3 || run.Nodes[0].DepsPending != 0 || run.Nodes[1].DepsPending != 1 {
		t.Fatalf("run: %+v", run)
	}

	var sum struct {
		Executions struct {
			Total    int            `json:"total"`
			ByStatus map[string]int `json:"by_status"`
		} `json:"executions"`
		Tasks struct {
			ByStatus map[string]int `json:"by_status"`
		} `json:"tasks"`
		Repositories int `json:"repositories"`
	}
	alice.Do("GET", "/dashboard/summary", nil).Expect(200).JSON(&sum)
	if sum.Executions.Total != 4 || sum.Executions.ByStatus["pending"] != 4 || sum.Tasks.ByStatus["pending"] != 4 || sum.Repositories != 1 {
		t.Fatalf("summary: %+v", sum)
	}
	var recent pageJSON[execJSON]
	alice.Do("GET", "/dashboard/recent?limit=10", nil).Expect(200).JSON(&recent)
	if len(recent.Items) != 4 || recent.Items[3].ID != l.Execution.ID || *recent.Items[0].RepositoryFullName != repo.FullName {
		t.Fatalf("recent: %+v", recent.Items)
	}
	var m struct {
		Bucket string `json:"bucket"`
		Points []struct {
			Total   int `json:"total"`
			Pending int `json:"pending"`
		} `json:"points"`
	}
	alice.Do("GET", "/dashboard/metrics?range=24h", nil).Expect(200).JSON(&m)
	if m.Bucket != "hour" || len(m.Points) != 24 || m.Points[23].Total != 4 || m.Points[23].Pending != 4 || m.Points[0].Total != 0 {
		t.Fatalf("metrics: %+v", m)
	}
}
