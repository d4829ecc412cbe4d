package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/fakegithub"
	"github.com/miyabi/miyabi/app/internal/github"
	"github.com/miyabi/miyabi/app/internal/poll"
)

const playground = "miyabi-demo/agent-playground"

type ghRepoJSON struct {
	repoJSON
	AppInstalled   bool    `json:"app_installed"`
	InactiveReason *string `json:"inactive_reason"`
}

type execWithPR struct {
	execJSON
	PullRequest *struct {
		Number int    `json:"number"`
		URL    string `json:"url"`
		State  string `json:"state"`
		Merged bool   `json:"merged"`
	} `json:"pull_request"`
}

func executionsOn(t *testing.T, c *apitest.Client, repo uuid.UUID) []execJSON {
	t.Helper()
	var page pageJSON[execJSON]
	c.Do("GET", "/agents/executions?limit=100&repository_id="+repo.String(), nil).Expect(200).JSON(&page)
	return page.Items
}

// sent is a webhook the fake GitHub sent; want checks what the app answered.
type sent struct {
	d   fakegithub.Delivery
	err error
}

func sentOf(d fakegithub.Delivery, err error) sent { return sent{d, err} }

func (s sent) want(t *testing.T, status int) fakegithub.Delivery {
	t.Helper()
	if s.err != nil {
		t.Fatal(s.err)
	}
	if s.d.Status != status {
		t.Fatalf("webhook %s %s answered %d, want %d", s.d.Event, s.d.ID, s.d.Status, status)
	}
	return s.d
}

// waitForComment waits until the issue has a comment from Miyabi whose current body
// contains want, and returns it.
func waitForComment(t *testing.T, env *apitest.Env, repo string, issue int, want string) fakegithub.Comment {
	t.Helper()
	var found fakegithub.Comment
	poll.Until(t, 15*time.Second, "a comment on "+repo+" saying "+want, func() bool {
		for _, c := range env.GitHub.Comments(repo, issue) {
			if c.Author == "miyabi[bot]" && strings.Contains(c.Body(), want) {
				found = c
				return true
			}
		}
		return false
	})
	return found
}

func botComments(env *apitest.Env, repo string, issue int) []fakegithub.Comment {
	var out []fakegithub.Comment
	for _, c := range env.GitHub.Comments(repo, issue) {
		if c.Author == "miyabi[bot]" {
			out = append(out, c)
		}
	}
	return out
}

func TestLabelLaunchesOnceAndReportsBack(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, playground)

	d := sentOf(env.GitHub.LabelIssue(playground, 2, "miyabi:codegen", "alice")).want(t, 204)
	execs := executionsOn(t, alice, repo.ID)
	if len(execs) != 1 || execs[0].AgentType != "codegen" || execs[0].IssueNumber == nil || *execs[0].IssueNumber != 2 || execs[0].Status != "pending" {
		t.Fatalf("after the label: %+v", execs)
	}
	if execs[0].Options["source"] != "github" {
		t.Fatalf("options do not say where it came from: %v", execs[0].Options)
	}
	// GitHub redelivers (a timeout, or someone pressed Redeliver): nothing happens twice
	sentOf(env.GitHub.Redeliver(d.ID)).want(t, 204)
	if got := executionsOn(t, alice, repo.ID); len(got) != 1 {
		t.Fatalf("redelivery launched again: %d executions", len(got))
	}
	c := waitForComment(t, env, playground, 2, "**codegen** queued by @alice")
	if !strings.Contains(c.Body(), env.URL+"/executions/"+execs[0].ID.String()) {
		t.Fatalf("the comment does not link the execution: %q", c.Body())
	}
	if n := len(botComments(env, playground, 2)); n != 1 {
		t.Fatalf("%d comments, want one", n)
	}
	// a label that is not Miyabi's does nothing
	sentOf(env.GitHub.LabelIssue(playground, 2, "bug", "alice")).want(t, 204)
	if got := executionsOn(t, alice, repo.ID); len(got) != 1 {
		t.Fatalf("a plain label launched: %d executions", len(got))
	}
}

func TestWebhookSignatureAndBadInput(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, playground)
	anon := env.Anonymous()
	payload := []byte(fmt.Sprintf(`{"action":"labeled","label":{"name":"miyabi:codegen"},"issue":{"number":1},`+
		`"repository":{"id":%d,"full_name":"miyabi-demo/agent-playground"},"installation":{"id":%d},"sender":{"id":%d,"login":"alice"}}`,
		repo.GitHubRepoID, env.GitHub.InstallationFor(playground), fakegithub.UserID("alice")))
	headers := func(sig string) []string {
		h := []string{"X-GitHub-Event", "issues", "X-GitHub-Delivery", uuid.NewString()}
		if sig != "" {
			h = append(h, "X-Hub-Signature-256", sig)
		}
		return h
	}
	// unsigned, signed with another secret, signature of another body: 401, nothing runs
	anon.Do("POST", "/github/webhook", payload, headers("")...).Problem(401)
	anon.Do("POST", "/github/webhook", payload, headers(github.Sign([]byte("not-the-secret"), payload))...).Problem(401)
	anon.Do("POST", "/github/webhook", payload, headers(github.Sign([]byte(apitest.WebhookSecret), []byte("{}")))...).Problem(401)
	anon.Do("POST", "/github/webhook", payload, headers("sha256=zz")...).Problem(401)
	// over 1 MiB: 413 before the signature is even looked at
	big := make([]byte, 1<<20+10)
	for i := range big {
		big[i] = ' '
	}
	anon.Do("POST", "/github/webhook", big, headers("")...).Problem(413)
	// malformed JSON with a valid signature: 400
	bad := []byte(`{"action":`)
	anon.Do("POST", "/github/webhook", bad, headers(github.Sign([]byte(apitest.WebhookSecret), bad))...).Problem(400)
	if n := countRows(t, env, `SELECT count(*) FROM agent_executions`); n != 0 {
		t.Fatalf("%d executions after refused webhooks", n)
	}
	// the same payload, signed: it runs
	anon.Do("POST", "/github/webhook", payload, headers(github.Sign([]byte(apitest.WebhookSecret), payload))...).Expect(204)
	if got := executionsOn(t, alice, repo.ID); len(got) != 1 {
		t.Fatalf("%d executions after the signed webhook, want 1", len(got))
	}
	// an unknown repository: 204 and nothing else
	unknown := []byte(strings.Replace(string(payload), fmt.Sprintf(`"id":%d`, repo.GitHubRepoID), `"id":123456789`, 1))
	anon.Do("POST", "/github/webhook", unknown, headers(github.Sign([]byte(apitest.WebhookSecret), unknown))...).Expect(204)
	// another event: 204
	other := []byte(`{"zen":"Keep it logically awesome."}`)
	anon.Do("POST", "/github/webhook", other, "X-GitHub-Event", "ping", "X-GitHub-Delivery", uuid.NewString(),
		"X-Hub-Signature-256", github.Sign([]byte(apitest.WebhookSecret), other)).Expect(204)
	if n := countRows(t, env, `SELECT count(*) FROM agent_executions`); n != 1 {
		t.Fatalf("%d executions, want 1", n)
	}
	if n := countRows(t, env, `SELECT count(*) FROM github_issue_comments WHERE execution_id IS NULL`); n != 0 {
		t.Fatalf("an unknown repository got %d notices", n)
	}
}

func TestLabelFromSomeoneWhoMayNotLaunch(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	env.Login("bob") // a Miyabi user, but not in alice's organization
	repo := connectRepo(t, alice, playground)

	sentOf(env.GitHub.LabelIssue(playground, 1, "miyabi:codegen", "bob")).want(t, 204)
	waitForComment(t, env, playground, 1, "@bob may not launch agents")
	sentOf(env.GitHub.LabelIssue(playground, 3, "miyabi:codegen", "dave")).want(t, 204)
	waitForComment(t, env, playground, 3, "@dave has no Miyabi account")
	// an unknown agent type lists the known ones
	sentOf(env.GitHub.LabelIssue(playground, 2, "miyabi:painter", "alice")).want(t, 204)
	c := waitForComment(t, env, playground, 2, `no agent type "painter"`)
	for _, known := range []string{"codegen", "review", "deployment"} {
		if !strings.Contains(c.Body(), known) {
			t.Fatalf("the comment does not list %s: %q", known, c.Body())
		}
	}
	if got := executionsOn(t, alice, repo.ID); len(got) != 0 {
		t.Fatalf("%d executions, want none", len(got))
	}
}

// A repository connected by two organizations: a label launches, as the sender, only
// where the sender may launch on it (their role, or a team role on the repository's team),
// with the same checks as POST /agents/execute.
func TestLabelLaunchesOnlyWhereTheSenderMay(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	bob := env.Login("bob")
	aliceRepo := connectRepo(t, alice, playground)
	bobRepo := connectRepo(t, bob, playground)

	sentOf(env.GitHub.LabelIssue(playground, 1, "miyabi:codegen", "bob")).want(t, 204)
	if got := executionsOn(t, bob, bobRepo.ID); len(got) != 1 {
		t.Fatalf("bob's organization: %d executions, want 1", len(got))
	}
	if got := executionsOn(t, alice, aliceRepo.ID); len(got) != 0 {
		t.Fatalf("bob's label launched in alice's organization: %+v", got)
	}

	// a viewer launches through a team role on the repository's team
	viewer := memberOf(t, env, alice.OrgID, "victor", "viewer")
	team := teamWith(t, env, alice.OrgID, viewer.UserID, "member")
	alice.Do("PATCH", "/repositories/"+aliceRepo.ID.String(), map[string]any{"team_id": team}).Expect(200)
	sentOf(env.GitHub.LabelIssue(playground, 2, "miyabi:review", "victor")).want(t, 204)
	if got := executionsOn(t, alice, aliceRepo.ID); len(got) != 1 || got[0].AgentType != "review" {
		t.Fatalf("the team member's label: %+v", got)
	}
	waitForComment(t, env, playground, 2, "**review** queued by @victor")

	// a deactivated repository: nothing runs, and the issue says why
	alice.Do("PATCH", "/repositories/"+aliceRepo.ID.String(), map[string]any{"is_active": false}).Expect(200)
	sentOf(env.GitHub.LabelIssue(playground, 3, "miyabi:codegen", "victor")).want(t, 204)
	waitForComment(t, env, playground, 3, "deactivated")
	if got := executionsOn(t, alice, aliceRepo.ID); len(got) != 1 {
		t.Fatalf("a label on a deactivated repository launched: %d executions", len(got))
	}
}

func TestCommentCommandLaunchesForAMember(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	bob := env.Login("bob")
	org := newTeamOrg(t, alice, "Playground team")
	switchTo(t, alice, org.ID)
	invite(t, alice, bob, org.ID, "member")
	repo := connectRepo(t, alice, playground)

	sentOf(env.GitHub.CommentOnIssue(playground, 1, "/miyabi review\nplease look at the handler", "bob")).want(t, 204)
	switchTo(t, bob, org.ID)
	execs := executionsOn(t, bob, repo.ID)
	if len(execs) != 1 || execs[0].AgentType != "review" || *execs[0].IssueNumber != 1 {
		t.Fatalf("after /miyabi review: %+v", execs)
	}
	waitForComment(t, env, playground, 1, "**review** queued by @bob")

	// a workflow by name
	var wf struct{ ID uuid.UUID }
	alice.Do("POST", "/workflows", map[string]any{"name": "Fix and review", "definition": map[string]any{
		"nodes": []map[string]any{{"id": "a", "agent_type": "codegen", "name": "code"}, {"id": "b", "agent_type": "review", "name": "review"}},
		"edges": []map[string]any{{"from": "a", "to": "b"}}}}).Expect(201).JSON(&wf)
	sentOf(env.GitHub.CommentOnIssue(playground, 3, "/miyabi run Fix and review", "bob")).want(t, 204)
	if got := executionsOn(t, bob, repo.ID); len(got) != 3 {
		t.Fatalf("after /miyabi run: %d executions, want 3", len(got))
	}
	// text that merely mentions the command does nothing
	sentOf(env.GitHub.CommentOnIssue(playground, 1, "I think /miyabi codegen would help", "bob")).want(t, 204)
	if got := executionsOn(t, bob, repo.ID); len(got) != 3 {
		t.Fatalf("a mention launched: %d executions", len(got))
	}
}

func TestCommentFollowsTheExecutionAndPullRequestsCountOnce(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, playground)
	sentOf(env.GitHub.LabelIssue(playground, 1, "miyabi:codegen", "alice")).want(t, 204)
	exec := executionsOn(t, alice, repo.ID)[0]
	first := waitForComment(t, env, playground, 1, "queued by @alice")

	w := asWorker(env, registerWorker(t, alice, map[string]any{"name": "w", "agent_types": []string{"codegen"}}).Token)
	if got := claim(t, w, map[string]any{}); len(got) != 1 {
		t.Fatalf("claimed %d", len(got))
	}
	running := waitForComment(t, env, playground, 1, "**codegen** is running")
	if running.ID != first.ID {
		t.Fatalf("a second comment instead of an edit")
	}
	w.Do("POST", "/worker/tasks/"+exec.TaskID.String()+"/complete", map[string]any{"pr_number": 105, "quality_score": 92, "summary": "Added the endpoint"}).Expect(200)
	done := waitForComment(t, env, playground, 1, "completed")
	if done.ID != first.ID || !strings.Contains(done.Body(), "https://github.com/miyabi-demo/agent-playground/pull/105") || !strings.Contains(done.Body(), "92/100") {
		t.Fatalf("completed comment: %q", done.Body())
	}
	if n := len(botComments(env, playground, 1)); n != 1 {
		t.Fatalf("%d comments for one execution", n)
	}

	// GitHub tells us about the pull request: the execution records it, and merging it
	// is counted once however many times it is reported
	branch := "miyabi/" + exec.ID.String()
	sentOf(env.GitHub.SendPullRequest(fakegithub.PullRequest{Repo: playground, Number: 105, Head: branch, Action: "opened", Sender: "alice"})).want(t, 204)
	var got execWithPR
	alice.Do("GET", "/agents/executions/"+exec.ID.String(), nil).Expect(200).JSON(&got)
	if got.PullRequest == nil || got.PullRequest.Number != 105 || got.PullRequest.State != "open" || got.PullRequest.URL != "https://github.com/miyabi-demo/agent-playground/pull/105" {
		t.Fatalf("execution's pull request: %+v", got.PullRequest)
	}
	sentOf(env.GitHub.SendPullRequest(fakegithub.PullRequest{Repo: playground, Number: 105, Head: branch, Action: "closed", Merged: true, Sender: "alice"})).want(t, 204)
	alice.Do("GET", "/agents/executions/"+exec.ID.String(), nil).Expect(200).JSON(&got)
	if !got.PullRequest.Merged || got.PullRequest.State != "closed" {
		t.Fatalf("after the merge: %+v", got.PullRequest)
	}
	// another execution reports the same pull request: still one
	launched := launchAgent(t, alice, repo.ID, "codegen")
	claim(t, w, map[string]any{})
	w.Do("POST", "/worker/tasks/"+launched.Task.ID.String()+"/complete", map[string]any{"pr_number": 105}).Expect(200)
	// a pull request that names no execution is not Miyabi's
	sentOf(env.GitHub.SendPullRequest(fakegithub.PullRequest{Repo: playground, Number: 200, Head: "feature/x", Body: "by hand", Action: "opened", Sender: "alice"})).want(t, 204)
	var sum struct {
		PRsCreated int `json:"prs_created"`
		PRsMerged  int `json:"prs_merged"`
	}
	alice.Do("GET", "/dashboard/summary", nil).Expect(200).JSON(&sum)
	if sum.PRsCreated != 1 || sum.PRsMerged != 1 {
		t.Fatalf("summary counts %d PRs created, %d merged; want 1 and 1", sum.PRsCreated, sum.PRsMerged)
	}
}

func TestFailedExecutionIsReportedAndDeliveryFailuresDoNotFailIt(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	repo := connectRepo(t, alice, playground)
	env.GitHub.FailCommentWrites(1000) // GitHub is down for comments
	l := launchAgent(t, alice, repo.ID, "review")
	w := asWorker(env, registerWorker(t, alice, map[string]any{"name": "w", "agent_types": []string{"review"}}).Token)
	claim(t, w, map[string]any{})
	w.Do("POST", "/worker/tasks/"+l.Task.ID.String()+"/fail", map[string]any{"error": "tests do not compile", "retryable": false}).Expect(200)
	poll.Until(t, 15*time.Second, "a failed delivery to be recorded", func() bool {
		return countRows(t, env, `SELECT count(*) FROM github_issue_comments WHERE attempts > 0 AND last_error IS NOT NULL`) == 1
	})
	var e execJSON
	alice.Do("GET", "/agents/executions/"+l.Execution.ID.String(), nil).Expect(200).JSON(&e)
	if e.Status != "failed" || e.Error == nil || *e.Error != "tests do not compile" {
		t.Fatalf("the execution after a failed comment delivery: %+v", e)
	}
	// GitHub is back; the retry (the sweeper's job, made due now) delivers the final state
	env.GitHub.FailCommentWrites(0)
	if _, err := env.DB.Exec(t.Context(), `UPDATE github_issue_comments SET next_attempt_at = now()`); err != nil {
		t.Fatal(err)
	}
	c := waitForComment(t, env, playground, 1, "**review** failed")
	if !strings.Contains(c.Body(), "tests do not compile") || !strings.Contains(c.Body(), "[logs]("+env.URL+"/executions/"+l.Execution.ID.String()) {
		t.Fatalf("failed comment: %q", c.Body())
	}
}

func TestUninstallingTheAppDeactivatesItsRepositories(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	web := connectRepo(t, alice, "miyabi-demo/webapp")
	own := connectRepo(t, alice, "alice/hello-world")
	sentOf(env.GitHub.Uninstall(env.GitHub.InstallationFor("miyabi-demo/webapp"), "alice")).want(t, 204)

	var got ghRepoJSON
	alice.Do("GET", "/repositories/"+web.ID.String(), nil).Expect(200).JSON(&got)
	if got.IsActive || got.AppInstalled || got.InactiveReason == nil || !strings.Contains(*got.InactiveReason, "uninstalled") {
		t.Fatalf("after the uninstall: %+v", got)
	}
	alice.Do("POST", "/agents/execute", map[string]any{"repository_id": web.ID, "issue_number": 1, "agent_type": "codegen"}).Problem(409)
	alice.Do("GET", "/repositories/"+own.ID.String(), nil).Expect(200).JSON(&got)
	if !got.IsActive || !got.AppInstalled {
		t.Fatalf("another account's repository changed: %+v", got)
	}
	// the trail says what GitHub took away, once, naming the repositories
	var trail auditPage
	alice.Do("GET", "/organizations/"+alice.OrgID.String()+"/audit-events?action=repository.deactivated_by_github", nil).Expect(200).JSON(&trail)
	if trail.Total != 1 || trail.Items[0].ActorUserID != nil {
		t.Fatalf("uninstall in the audit trail: %+v", trail)
	}
	e := trail.Items[0]
	repos, _ := e.Details["repositories"].([]any)
	if len(repos) != 1 || !strings.Contains(fmt.Sprint(repos[0]), "miyabi-demo/webapp") || !strings.Contains(fmt.Sprint(e.Details["reason"]), "uninstalled") {
		t.Fatalf("entry details: %v", e.Details)
	}
	// connecting it again says how to install the App
	alice.Do("DELETE", "/repositories/"+web.ID.String(), nil).Expect(204)
	p := alice.Do("POST", "/repositories", map[string]any{"full_name": "miyabi-demo/webapp"}).Problem(422)
	if !strings.Contains(p.Detail, "/apps/miyabi-dev/installations/new") {
		t.Fatalf("no install link: %q", p.Detail)
	}
}

func TestRepositoryIssuesFromGitHub(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	bob := env.Login("bob")
	repo := connectRepo(t, alice, playground)
	env.GitHub.AddIssue(playground, "Flaky login test", "bob", "bug", "miyabi:review")

	type issuesJSON struct {
		Items []struct {
			Number int    `json:"number"`
			Title  string `json:"title"`
			URL    string `json:"url"`
			Labels []struct {
				Name string `json:"name"`
			} `json:"labels"`
		} `json:"items"`
		HasNext bool `json:"has_next"`
	}
	var page issuesJSON
	alice.Do("GET", "/repositories/"+repo.ID.String()+"/issues?limit=2", nil).Expect(200).JSON(&page)
	if len(page.Items) != 2 || !page.HasNext || page.Items[0].Number != 4 || page.Items[0].Title != "Flaky login test" ||
		len(page.Items[0].Labels) != 2 || page.Items[0].Labels[1].Name != "miyabi:review" {
		t.Fatalf("page 1: %+v", page)
	}
	alice.Do("GET", "/repositories/"+repo.ID.String()+"/issues?limit=2&page=2", nil).Expect(200).JSON(&page)
	if len(page.Items) != 2 || page.HasNext || page.Items[1].Number != 1 {
		t.Fatalf("page 2: %+v", page)
	}
	// cached briefly: a new issue shows up after the cache expires, not at once
	env.GitHub.AddIssue(playground, "Newer", "alice")
	alice.Do("GET", "/repositories/"+repo.ID.String()+"/issues?limit=2", nil).Expect(200).JSON(&page)
	if page.Items[0].Number != 4 {
		t.Fatalf("not cached: %+v", page.Items[0])
	}
	// another organization's repository is 404; bad paging is 422
	bob.Do("GET", "/repositories/"+repo.ID.String()+"/issues", nil).Problem(404)
	alice.Do("GET", "/repositories/"+repo.ID.String()+"/issues?limit=500", nil).Problem(422)
	// a repository the App does not reach cannot be connected, with the install link
	p := alice.Do("POST", "/repositories", map[string]any{"full_name": "miyabi-demo/docs-site"}).Problem(422)
	if !p.Mentions("full_name") || !strings.Contains(p.Detail, env.URL+"/apps/miyabi-dev/installations/new") && !strings.Contains(p.Detail, "/apps/miyabi-dev/installations/new") {
		t.Fatalf("not-installed problem: %+v", p)
	}
	// a private repository the caller has no access to looks like no repository
	env.GitHub.AddRepo(fakegithub.Repo{ID: 800_001, FullName: "octo-org/secret", DefaultBranch: "main", Private: true})
	zed := env.Login("zed")
	zed.Do("POST", "/repositories", map[string]any{"full_name": "octo-org/secret"}).Problem(422)
}

func TestWithoutAnAppTheWebhookIsUnavailable(t *testing.T) {
	env := apitest.New(t, apitest.WithoutGitHubApp())
	alice := env.Login("alice")
	connectRepo(t, alice, "alice/hello-world") // the sign-in token still finds public repositories
	body := []byte(`{}`)
	env.Anonymous().Do("POST", "/github/webhook", body, "X-GitHub-Event", "ping", "X-GitHub-Delivery", "x",
		"X-Hub-Signature-256", github.Sign([]byte(apitest.WebhookSecret), body)).Problem(503)
}
