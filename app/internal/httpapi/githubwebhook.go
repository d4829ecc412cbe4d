package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/ghreport"
	"github.com/miyabi/miyabi/app/internal/github"
	"github.com/miyabi/miyabi/app/internal/perm"
	"github.com/miyabi/miyabi/app/internal/store"
)

// setupGitHubApp builds the App client and the issue-comment reporter (nil without an App).
func (s *Server) setupGitHubApp() error {
	if s.deps.GitHubApp == nil && s.cfg.GitHubApp.Enabled() {
		app, err := github.NewApp(s.cfg.GitHubAPIURL, s.cfg.GitHubApp.ID, s.cfg.GitHubApp.PrivateKeyPEM)
		if err != nil {
			return err
		}
		s.deps.GitHubApp = app
	}
	s.app = s.deps.GitHubApp
	s.reporter = ghreport.New(s.store, s.app, s.cfg.PublicURL, s.log)
	s.issues = newIssueCache(30*time.Second, s.now)
	return nil
}

// Reporter delivers issue comments: main runs its loop, the Lambda sweep calls DeliverDue.
func (s *Server) Reporter() *ghreport.Reporter { return s.reporter }

var docGitHubWebhook = huma.Operation{OperationID: "github-webhook", Tags: []string{"github"},
	Summary: "Receive a GitHub App webhook",
	Description: "Called by GitHub, signed with X-Hub-Signature-256 (HMAC-SHA256 of the raw body under the App's webhook secret), " +
		"checked before anything is parsed: a bad or missing signature is 401. Idempotent on X-GitHub-Delivery. " +
		"Handles issues.labeled (miyabi:<agent_type>), issue_comment.created (/miyabi <agent_type>, /miyabi run <workflow>), " +
		"pull_request, installation and installation_repositories; anything else is 204. Bodies over 1 MiB are 413.",
	// the body is GitHub's, read raw: nothing is validated or parsed before the HMAC
	SkipValidateBody: true, DefaultStatus: http.StatusNoContent, Errors: []int{400, 401, 413, 415}}

// documentWebhookBody says in the document what the engine enforces on every body (413
// past it): the webhook's raw body is the one body without a schema of its own.
func documentWebhookBody(doc *huma.OpenAPI) {
	if item := doc.Paths["/github/webhook"]; item != nil && item.Post != nil && item.Post.RequestBody != nil {
		for _, mt := range item.Post.RequestBody.Content {
			if mt.Schema != nil {
				limit := MaxBodyBytes
				mt.Schema.MaxLength = &limit
			}
		}
	}
}

type githubWebhookInput struct {
	Signature string `header:"X-Hub-Signature-256" doc:"sha256=<hex HMAC-SHA256 of the body>"`
	Event     string `header:"X-GitHub-Event"`
	Delivery  string `header:"X-GitHub-Delivery"`
	RawBody   []byte `contentType:"application/json"`
}

func (s *Server) githubWebhook(ctx context.Context, in *githubWebhookInput) (*struct{}, error) {
	if s.app == nil {
		return nil, domain.Errorf(domain.CodeUnavailable, "No GitHub App is configured on this server.")
	}
	// the signature first: nothing of an unsigned body is read, not even its JSON
	if !github.ValidSignature(s.cfg.GitHubApp.WebhookSecret, in.RawBody, in.Signature) {
		return nil, domain.Errorf(domain.CodeUnauthorized, "X-Hub-Signature-256 is missing or does not match the body.")
	}
	if in.Delivery == "" || len(in.Delivery) > 100 || in.Event == "" {
		return nil, domain.Errorf(domain.CodeBadRequest, "X-GitHub-Event and X-GitHub-Delivery (at most 100 characters) are required.")
	}
	var ev github.Event
	if err := json.Unmarshal(in.RawBody, &ev); err != nil {
		s.log.WarnContext(ctx, "github webhook: malformed JSON with a valid signature", "event", in.Event, "delivery", in.Delivery, "error", err)
		return nil, domain.Errorf(domain.CodeBadRequest, "The body is not a JSON webhook payload: %v", err)
	}
	d := store.WebhookDelivery{ID: in.Delivery, Event: in.Event, Action: ev.Action}
	seen, err := s.store.WebhookDeliverySeen(ctx, d.ID)
	if err != nil {
		return nil, err
	}
	out := store.GitHubOutcome{Redelivery: true}
	if !seen {
		out, err = s.handleWebhook(ctx, d, in.RawBody, ev)
	}
	if err != nil {
		return nil, err
	}
	level := slog.LevelInfo
	if out.Outcome == "" || out.Redelivery {
		level = slog.LevelDebug // GitHub sends many events that do nothing here
	}
	s.log.Log(ctx, level, "github webhook", "event", in.Event, "action", ev.Action, "delivery", in.Delivery,
		"redelivery", out.Redelivery, "outcome", out.Outcome, "request_id", requestIDFrom(ctx))
	s.reporter.Kick()
	return nil, nil
}

// handleWebhook turns a verified event into the one store change it asks for.
func (s *Server) handleWebhook(ctx context.Context, d store.WebhookDelivery, raw []byte, ev github.Event) (store.GitHubOutcome, error) {
	switch {
	case d.Event == "issues" && ev.Action == "labeled" && ev.Label != nil && ev.Issue != nil && ev.Issue.PullRequest == nil && ev.Repository != nil:
		agent, ok := strings.CutPrefix(ev.Label.Name, "miyabi:")
		if ok {
			return s.launchFromGitHub(ctx, d, raw, ev, launchRequest{agentType: strings.TrimSpace(agent), via: "label " + ev.Label.Name})
		}
	case d.Event == "issue_comment" && ev.Action == "created" && ev.Comment != nil && ev.Issue != nil && ev.Issue.PullRequest == nil && ev.Repository != nil:
		// our own comments, and other apps', never command anything
		if req, ok := parseCommand(ev.Comment.Body); ok && ev.Sender.Type != "Bot" {
			return s.launchFromGitHub(ctx, d, raw, ev, req)
		}
	case d.Event == "pull_request" && ev.PullRequest != nil && ev.Repository != nil:
		switch ev.Action {
		case "opened", "closed", "reopened", "edited", "synchronize", "ready_for_review":
			pr, ids := pullRequestOf(ev.PullRequest)
			return s.store.RecordGitHubPullRequest(ctx, d, ev.Repository.ID, pr, ids)
		}
	case (d.Event == "installation" || d.Event == "installation_repositories") && ev.Installation != nil && ev.Installation.ID > 0:
		if c, ok := installationChangeOf(d.Event, ev); ok {
			return s.store.ApplyGitHubInstallation(ctx, d, c)
		}
	}
	return s.store.RecordWebhookDelivery(ctx, d, nil) // anything else: 204, logged at debug
}

// launchRequest is what a label or a comment asked for: an agent, or a workflow by name.
type launchRequest struct {
	agentType string
	workflow  string
	via       string
}

// parseCommand reads "/miyabi <agent_type>" or "/miyabi run <workflow name>" from the
// first line of a comment.
func parseCommand(body string) (launchRequest, bool) {
	line, _, _ := strings.Cut(strings.TrimSpace(body), "\n")
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), "/miyabi")
	if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
		return launchRequest{}, false
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return launchRequest{agentType: "", via: "comment /miyabi"}, true
	}
	if fields[0] == "run" && len(fields) > 1 {
		name := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), "run"))
		return launchRequest{workflow: name, via: "comment /miyabi run"}, true
	}
	return launchRequest{agentType: fields[0], via: "comment /miyabi " + fields[0]}, true
}

// Why a GitHub launch ran nowhere: the issue gets a notice saying so (noticeText).
const (
	noticeUnknownAgent = "unknown_agent"
	noticeNoAccount    = "no_account"
	noticeNotAllowed   = "not_allowed"
	noticeInactive     = "inactive"
	noticeNoWorkflow   = "no_workflow"
)

// githubLaunch is what a label or a /miyabi comment asks for on an issue.
type githubLaunch struct {
	launchRequest
	repoFullName   string
	installationID int64
	issue          int
	senderID       int64
	senderLogin    string
}

// launchFromGitHub launches what a label or comment names in every organization that
// connected the repository, as the sender (the Miyabi user of their GitHub account), with
// the checks of every launch (checkLaunch: agent type, the sender may launch on the
// repository through their role or a team role, the repository is active). Each launch is
// a store launch idempotent on the delivery (a redelivery launches nothing twice), and its
// issue comment is queued with it. When nothing is launched anywhere, the issue gets one
// notice saying why. A repository nobody connected changes nothing (not ours: nothing is
// said on a stranger's issue).
func (s *Server) launchFromGitHub(ctx context.Context, d store.WebhookDelivery, raw []byte, ev github.Event, req launchRequest) (store.GitHubOutcome, error) {
	l := githubLaunch{launchRequest: req, repoFullName: ev.Repository.FullName, issue: ev.Issue.Number,
		senderID: ev.Sender.ID, senderLogin: ev.Sender.Login}
	if ev.Installation != nil && ev.Installation.ID > 0 {
		// the event proves this installation reaches the repository (it may reactivate it)
		l.installationID = ev.Installation.ID
		if err := s.store.AttachGitHubInstallation(ctx, l.installationID, ev.Repository.ID); err != nil {
			return store.GitHubOutcome{}, err
		}
	}
	repos, err := s.store.GitHubConnections(ctx, ev.Repository.ID)
	if err != nil {
		return store.GitHubOutcome{}, err
	}
	for _, r := range repos {
		if l.installationID == 0 && r.InstallationID != nil {
			l.installationID = *r.InstallationID
		}
	}
	if len(repos) == 0 || l.installationID == 0 {
		out, err := s.store.RecordWebhookDelivery(ctx, d, nil)
		out.Outcome = "unknown repository"
		return out, err
	}
	launched, reason, err := s.launchInConnections(ctx, d, raw, l, repos)
	if err != nil {
		return store.GitHubOutcome{}, err
	}
	var notice *store.IssueNotice
	if launched == 0 {
		notice = &store.IssueNotice{OrgID: repos[0].OrgID, InstallationID: l.installationID, RepoFullName: l.repoFullName,
			Issue: l.issue, Body: noticeText(reason, l)}
	}
	out, err := s.store.RecordWebhookDelivery(ctx, d, notice)
	if launched > 0 {
		out.Outcome = fmt.Sprintf("launched %d", launched)
	} else {
		out.Outcome = "notice " + reason
	}
	return out, err
}

// launchInConnections launches l in each organization's connection where the sender may,
// and answers how many launched or, when none did, why (the most telling reason).
func (s *Server) launchInConnections(ctx context.Context, d store.WebhookDelivery, raw []byte, l githubLaunch, repos []store.Repository) (int, string, error) {
	// checkLaunch checks the agent type again in each organization; asked first, an unknown
	// one is said to anyone, whoever they are
	if l.workflow == "" && domain.CheckAgentType("agent_type", l.agentType) != nil {
		return 0, noticeUnknownAgent, nil
	}
	userID, linked, err := s.store.UserByGitHubID(ctx, l.senderID)
	if err != nil || !linked {
		return 0, noticeNoAccount, err
	}
	sum := sha256.Sum256(raw)
	launched, inactive, noWorkflow := 0, 0, 0
	for _, r := range repos {
		caller, err := s.store.LoadMember(ctx, userID, r.OrgID)
		if err != nil {
			return 0, "", err
		}
		p := &Principal{UserID: userID, OrgID: r.OrgID, Login: caller.Login, perms: caller.Permissions, teamPerms: caller.TeamPermissions}
		if caller.Role != nil {
			p.Role = *caller.Role
		}
		pctx := context.WithValue(ctx, principalCtxKey{}, p)
		target := launchTarget{RepositoryID: &r.ID, Agents: true, Need: []perm.Permission{perm.WorkflowsExecute}}
		if l.workflow == "" {
			target.AgentType, target.Need = &l.agentType, []perm.Permission{perm.AgentsExecute}
		}
		_, err = s.checkLaunch(pctx, target)
		switch {
		case err == nil:
		case domain.ErrorCode(err) == domain.CodeInvalid, domain.ErrorCode(err) == domain.CodeForbidden:
			continue // the connection went away meanwhile, or the sender may not launch here
		case domain.ErrorCode(err) == domain.CodeConflict:
			inactive++
			continue
		default:
			return 0, "", err
		}
		key := &store.IdempotencyKey{OrgID: r.OrgID, UserID: userID, Route: "POST /github/webhook", Key: d.ID, RequestHash: sum[:]}
		issue := l.issue
		if l.workflow != "" {
			wf, err := s.store.WorkflowIDByName(pctx, r.OrgID, l.workflow)
			if domain.ErrorCode(err) == domain.CodeNotFound {
				noWorkflow++
				continue
			}
			if err != nil {
				return 0, "", err
			}
			if _, _, err := store.RunWorkflowOnce(ctx, s.store, key, http.StatusCreated, r.OrgID, wf,
				store.NewRun{RepositoryID: &r.ID, IssueNumber: &issue, CreatedBy: userID},
				func(id uuid.UUID) uuid.UUID { return id }); err != nil {
				return 0, "", err
			}
			launched++
			continue
		}
		options := map[string]any{"source": "github", "github_delivery": d.ID, "github_sender": caller.Login, "via": l.via}
		if _, _, err := store.LaunchAgentOnce(ctx, s.store, key, http.StatusCreated, r.OrgID,
			store.NewExecution{RepositoryID: &r.ID, AgentType: l.agentType, IssueNumber: &issue, Options: options, CreatedBy: userID},
			store.NewTask{Name: fmt.Sprintf("%s on %s#%d", l.agentType, r.FullName, issue), Priority: "P1", CreatedBy: userID},
			func(e store.Execution, _ store.Task) uuid.UUID { return e.ID }); err != nil {
			return 0, "", err
		}
		launched++
	}
	switch {
	case launched > 0:
		return launched, "", nil
	case noWorkflow > 0:
		return 0, noticeNoWorkflow, nil
	case inactive > 0:
		return 0, noticeInactive, nil
	default:
		return 0, noticeNotAllowed, nil
	}
}

// noticeText is the comment that says why a label or command launched nothing.
func noticeText(reason string, l githubLaunch) string {
	switch reason {
	case noticeUnknownAgent:
		return fmt.Sprintf("Miyabi knows no agent type %q (from %s). Known agent types: %s. Label an issue `miyabi:<type>` or comment `/miyabi <type>` or `/miyabi run <workflow name>`.",
			l.agentType, l.via, "`"+strings.Join(domain.AgentTypes(), "`, `")+"`")
	case noticeNoAccount:
		return fmt.Sprintf("Nothing was launched: @%s has no Miyabi account. Sign in to Miyabi with GitHub and ask an organization owner for a role that may launch agents.", l.senderLogin)
	case noticeNoWorkflow:
		return fmt.Sprintf("Nothing was launched: no workflow named %q in the Miyabi organization that connected this repository.", l.workflow)
	case noticeInactive:
		return "Nothing was launched: this repository is deactivated in Miyabi. Activate it on the Repositories page first."
	default:
		need := perm.AgentsExecute
		if l.workflow != "" {
			need = perm.WorkflowsExecute
		}
		return fmt.Sprintf("Nothing was launched: @%s may not launch agents on this repository in Miyabi (the %s permission is needed).", l.senderLogin, need)
	}
}

// executionRef finds a Miyabi execution id in a pull request's branch or body (the
// agents name branches miyabi/<execution id> and write "Miyabi-Execution: <id>").
var executionRef = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

func pullRequestOf(pr *github.HookPull) (store.PullRequest, []uuid.UUID) {
	text := pr.Head.Ref
	if pr.Body != nil {
		text += "\n" + *pr.Body
	}
	var ids []uuid.UUID
	for _, m := range executionRef.FindAllString(text, 8) {
		if id, err := uuid.Parse(m); err == nil {
			ids = append(ids, id)
		}
	}
	out := store.PullRequest{Number: pr.Number, URL: pr.HTMLURL, State: "open", Merged: pr.Merged}
	if pr.State == "closed" {
		out.State = "closed"
	}
	if pr.MergedAt != nil {
		if t, err := time.Parse(time.RFC3339, *pr.MergedAt); err == nil {
			out.MergedAt = &t
		}
	}
	return out, ids
}

func installationChangeOf(event string, ev github.Event) (store.InstallationChange, bool) {
	ids := func(rs []github.HookRepo) []int64 {
		out := make([]int64, 0, len(rs))
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	c := store.InstallationChange{InstallationID: ev.Installation.ID}
	account := ev.Installation.Account.Login
	switch {
	case event == "installation" && (ev.Action == "deleted" || ev.Action == "suspend"):
		verb := map[string]string{"deleted": "uninstalled from", "suspend": "suspended on"}[ev.Action]
		c.DetachAll, c.Reason = true, fmt.Sprintf("The Miyabi GitHub App was %s %s; reinstall it to use this repository.", verb, account)
	case event == "installation" && (ev.Action == "created" || ev.Action == "unsuspend" || ev.Action == "new_permissions_accepted"):
		c.Attach = ids(ev.Repositories)
	case event == "installation_repositories" && ev.Action == "added":
		c.Attach = ids(ev.RepositoriesAdded)
	case event == "installation_repositories" && ev.Action == "removed":
		c.Detach, c.Reason = ids(ev.RepositoriesRemoved), "The repository was removed from the Miyabi GitHub App's installation; add it back to use it."
	default:
		return c, false
	}
	return c, true
}
