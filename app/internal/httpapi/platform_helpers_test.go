package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/store"
)

// Shapes of the platform API as a client reads them.

type repoJSON struct {
	ID            uuid.UUID  `json:"id"`
	TeamID        *uuid.UUID `json:"team_id"`
	GitHubRepoID  int64      `json:"github_repo_id"`
	FullName      string     `json:"full_name"`
	DefaultBranch string     `json:"default_branch"`
	IsPrivate     bool       `json:"is_private"`
	IsActive      bool       `json:"is_active"`
}

type execJSON struct {
	ID                 uuid.UUID      `json:"id"`
	RepositoryID       *uuid.UUID     `json:"repository_id"`
	RepositoryFullName *string        `json:"repository_full_name"`
	WorkflowRunID      *uuid.UUID     `json:"workflow_run_id"`
	TaskID             *uuid.UUID     `json:"task_id"`
	AgentType          string         `json:"agent_type"`
	IssueNumber        *int           `json:"issue_number"`
	Status             string         `json:"status"`
	Options            map[string]any `json:"options"`
	PRNumber           *int           `json:"pr_number"`
	QualityScore       *float64       `json:"quality_score"`
	Summary            *string        `json:"summary"`
	Error              *string        `json:"error"`
	CompletedAt        *time.Time     `json:"completed_at"`
	LaunchedBy         *personJSON    `json:"launched_by"`
	CancelledBy        *personJSON    `json:"cancelled_by"`
	CancelledAt        *time.Time     `json:"cancelled_at"`
}

// personJSON is who launched or cancelled something.
type personJSON struct {
	ID    uuid.UUID `json:"id"`
	Login string    `json:"login"`
}

type taskJSON struct {
	ID            uuid.UUID      `json:"id"`
	Name          string         `json:"name"`
	Description   string         `json:"description"`
	Status        string         `json:"status"`
	Priority      string         `json:"priority"`
	AgentType     *string        `json:"agent_type"`
	RepositoryID  *uuid.UUID     `json:"repository_id"`
	ExecutionID   *uuid.UUID     `json:"execution_id"`
	WorkflowRunID *uuid.UUID     `json:"workflow_run_id"`
	Metadata      map[string]any `json:"metadata"`
	Error         *string        `json:"error"`
	RetryCount    int            `json:"retry_count"`
	DepsPending   int            `json:"deps_pending"`
	DependsOn     []uuid.UUID    `json:"depends_on"`
	StartedAt     *time.Time     `json:"started_at"`
	CompletedAt   *time.Time     `json:"completed_at"`
	FailedAt      *time.Time     `json:"failed_at"`
	CancelledAt   *time.Time     `json:"cancelled_at"`
	CancelledBy   *personJSON    `json:"cancelled_by"`
}

type launchJSON struct {
	Execution execJSON `json:"execution"`
	Task      taskJSON `json:"task"`
}

type pageJSON[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
	Page  int `json:"page"`
	Limit int `json:"limit"`
}

// connectRepo connects a repository the fake GitHub knows, as c.
func connectRepo(t *testing.T, c *apitest.Client, fullName string) repoJSON {
	t.Helper()
	var r repoJSON
	c.Do("POST", "/repositories", map[string]any{"full_name": fullName}).Expect(201).JSON(&r)
	return r
}

// launchAgent starts an agent on issue 1 of repo.
func launchAgent(t *testing.T, c *apitest.Client, repo uuid.UUID, agent string, headers ...string) launchJSON {
	t.Helper()
	var l launchJSON
	c.Do("POST", "/agents/execute", map[string]any{"repository_id": repo, "issue_number": 1, "agent_type": agent}, headers...).
		Expect(201).JSON(&l)
	return l
}

// moveTask moves a task as a worker would, through the one state machine.
func moveTask(t *testing.T, env *apitest.Env, org, task uuid.UUID, m store.Move) {
	t.Helper()
	if _, err := env.Store.MoveTask(context.Background(), org, task, m); err != nil {
		t.Fatalf("move %s %s: %v", task, m.Action, err)
	}
}

func mvStart() store.Move    { return store.Move{Action: domain.ActStart} }
func mvComplete() store.Move { return store.Move{Action: domain.ActComplete} }
func mvFail() store.Move     { return store.Move{Action: domain.ActFail, Error: "boom"} }

func countRows(t *testing.T, env *apitest.Env, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := env.DB.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// teamWith creates a team in org with member as its role ("lead" or "member").
func teamWith(t *testing.T, env *apitest.Env, org uuid.UUID, member uuid.UUID, role string) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	var team uuid.UUID
	if err := env.DB.QueryRow(ctx, `INSERT INTO teams (organization_id, name, slug) VALUES ($1, 'Core', 'core-'||substr(md5(random()::text),1,6)) RETURNING id`, org).Scan(&team); err != nil {
		t.Fatal(err)
	}
	if _, err := env.DB.Exec(ctx, `INSERT INTO team_members (team_id, user_id, role) VALUES ($1, $2, $3)`, team, member, role); err != nil {
		t.Fatal(err)
	}
	return team
}
