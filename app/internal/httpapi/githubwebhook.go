package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/ghreport"
	"github.com/miyabi/miyabi/app/internal/github"
	"github.com/miyabi/miyabi/app/internal/store"
)

// permGitHubSignature marks the one route GitHub calls: no person, no worker, but an
// HMAC of the body under the App's webhook secret, checked by the handler first.
const permGitHubSignature = permPublic

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

func (s *Server) registerGitHub() {
	op(s, huma.Operation{OperationID: "github-webhook", Method: http.MethodPost, Path: "/github/webhook", Tags: []string{"github"},
		Summary: "Receive a GitHub App webhook",
		Description: "Called by GitHub, signed with X-Hub-Signature-256 (HMAC-SHA256 of the raw body under the App's webhook secret), " +
			"checked before anything is parsed: a bad or missing signature is 401. Idempotent on X-GitHub-Delivery. " +
			"Handles issues.labeled (miyabi:<agent_type>), issue_comment.created (/miyabi <agent_type>, /miyabi run <workflow>), " +
			"pull_request, installation and installation_repositories; anything else is 204. Bodies over 1 MiB are 413.",
		// the body is GitHub's, read raw: nothing is validated or parsed before the HMAC
		SkipValidateBody: true, DefaultStatus: http.StatusNoContent, Errors: []int{400, 401, 413, 503}}, permGitHubSignature, s.githubWebhook)
	// the document says what the engine enforces on every body (413 past it)
	if item := s.api.OpenAPI().Paths["/github/webhook"]; item != nil && item.Post != nil && item.Post.RequestBody != nil {
		for _, mt := range item.Post.RequestBody.Content {
			if mt.Schema != nil {
				limit := MaxBodyBytes
				mt.Schema.MaxLength = &limit
			}
		}
	}
	op(s, huma.Operation{OperationID: "list-repository-issues", Method: http.MethodGet, Path: "/repositories/{id}/issues", Tags: []string{"repositories"},
		Summary:     "List a repository's open issues on GitHub",
		Description: "Read through the GitHub App's installation (private repositories included), newest first, pull requests left out; cached for 30 s.",
		Errors:      []int{404, 409, 502}}, "repositories.read", s.listRepositoryIssues)
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
	h := webhookRun{s: s, event: in.Event, delivery: in.Delivery, ev: ev}
	err := s.store.InTx(ctx, func(tx pgx.Tx) error {
		fresh, err := store.RecordWebhookDeliveryTx(ctx, tx, in.Delivery, in.Event, ev.Action)
		if err != nil || !fresh {
			h.redelivery = !fresh
			return err
		}
		return h.handle(ctx, tx)
	})
	if err != nil {
		return nil, err
	}
	level := h.logLevel()
	s.log.Log(ctx, level, "github webhook", "event", in.Event, "action", ev.Action, "delivery", in.Delivery,
		"redelivery", h.redelivery, "outcome", h.outcome, "request_id", requestIDFrom(ctx))
	s.reporter.Kick()
	return nil, nil
}

// webhookRun is one delivery being handled, in one transaction.
type webhookRun struct {
	s          *Server
	event      string
	delivery   string
	ev         github.Event
	redelivery bool
	outcome    string
}

// logLevel: events that did nothing are logged at debug (GitHub sends many).
func (h *webhookRun) logLevel() slog.Level {
	if h.outcome == "" || h.redelivery {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

func (h *webhookRun) handle(ctx context.Context, tx pgx.Tx) error {
	ev := h.ev
	switch {
	case h.event == "issues" && ev.Action == "labeled" && ev.Label != nil && ev.Issue != nil && ev.Issue.PullRequest == nil:
		agent, ok := strings.CutPrefix(ev.Label.Name, "miyabi:")
		if !ok {
			return nil
		}
		return h.launch(ctx, tx, launchRequest{agentType: strings.TrimSpace(agent), via: "label " + ev.Label.Name})
	case h.event == "issue_comment" && ev.Action == "created" && ev.Comment != nil && ev.Issue != nil && ev.Issue.PullRequest == nil:
		if ev.Sender.Type == "Bot" {
			return nil // our own comments, and other apps', never command anything
		}
		req, ok := parseCommand(ev.Comment.Body)
		if !ok {
			return nil
		}
		return h.launch(ctx, tx, req)
	case h.event == "pull_request" && ev.PullRequest != nil && ev.Repository != nil:
		return h.pullRequest(ctx, tx)
	case h.event == "installation" || h.event == "installation_repositories":
		return h.installation(ctx, tx)
	}
	return nil
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

func (h *webhookRun) installationID(repos []store.Repository) int64 {
	if h.ev.Installation != nil && h.ev.Installation.ID > 0 {
		return h.ev.Installation.ID
	}
	for _, r := range repos {
		if r.InstallationID != nil {
			return *r.InstallationID
		}
	}
	return 0
}

// launch runs what a label or comment asked for in every organization that connected the
// repository and in which the sender may launch agents on it, as the sender; when it
// runs nowhere, the issue gets one comment saying why.
func (h *webhookRun) launch(ctx context.Context, tx pgx.Tx, req launchRequest) error {
	ev := h.ev
	if ev.Repository == nil {
		return nil
	}
	repos, err := store.ConnectedRepositoriesTx(ctx, tx, ev.Repository.ID)
	if err != nil {
		return err
	}
	if len(repos) == 0 {
		h.outcome = "unknown repository"
		return nil // not ours: say nothing on a stranger's issue
	}
	instID := h.installationID(repos)
	if instID == 0 {
		h.outcome = "no installation"
		return nil
	}
	// the event proves this installation reaches the repository
	if _, err := store.AttachInstallationTx(ctx, tx, instID, []int64{ev.Repository.ID}); err != nil {
		return err
	}
	notice := func(body string) error {
		h.outcome = "notice"
		return store.QueueNoticeTx(ctx, tx, repos[0].OrgID, instID, ev.Repository.FullName, ev.Issue.Number, body)
	}
	if req.workflow == "" && !domain.KnownAgentType(req.agentType) {
		return notice(fmt.Sprintf("Miyabi knows no agent type %q (from %s). Known agent types: %s. Label an issue `miyabi:<type>` or comment `/miyabi <type>` or `/miyabi run <workflow name>`.",
			req.agentType, req.via, "`"+strings.Join(domain.AgentTypes(), "`, `")+"`"))
	}
	userID, login, linked, err := store.UserByGitHubIDTx(ctx, tx, ev.Sender.ID)
	if err != nil {
		return err
	}
	if !linked {
		return notice(fmt.Sprintf("Nothing was launched: @%s has no Miyabi account. Sign in to Miyabi with GitHub and ask an organization owner for a role that may launch agents.", ev.Sender.Login))
	}
	launched, inactive, missingWorkflow := 0, 0, 0
	issue := ev.Issue.Number
	for _, r := range repos {
		ok, err := store.MayTx(ctx, tx, r.OrgID, userID, r.TeamID, "agents.execute")
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if !r.IsActive {
			inactive++
			continue
		}
		if req.workflow != "" {
			wf, err := store.WorkflowIDByNameTx(ctx, tx, r.OrgID, req.workflow)
			if domain.ErrorCode(err) == domain.CodeNotFound {
				missingWorkflow++
				continue
			}
			if err != nil {
				return err
			}
			if _, err := store.RunWorkflowTx(ctx, tx, r.OrgID, wf, store.NewRun{RepositoryID: &r.ID, IssueNumber: &issue, CreatedBy: userID}); err != nil {
				return err
			}
			launched++
			continue
		}
		options := map[string]any{"source": "github", "github_delivery": h.delivery, "github_sender": login, "via": req.via}
		_, _, err = store.LaunchAgentTx(ctx, tx, r.OrgID,
			store.NewExecution{RepositoryID: &r.ID, AgentType: req.agentType, IssueNumber: &issue, Options: options, CreatedBy: userID},
			store.NewTask{Name: fmt.Sprintf("%s on %s#%d", req.agentType, r.FullName, issue), Priority: "P1", CreatedBy: userID})
		if err != nil {
			return err
		}
		launched++
	}
	switch {
	case launched > 0:
		h.outcome = fmt.Sprintf("launched %d", launched)
		return nil
	case missingWorkflow > 0:
		return notice(fmt.Sprintf("Nothing was launched: no workflow named %q in the Miyabi organization that connected this repository.", req.workflow))
	case inactive > 0:
		return notice("Nothing was launched: this repository is deactivated in Miyabi. Activate it on the Repositories page first.")
	default:
		return notice(fmt.Sprintf("Nothing was launched: @%s may not launch agents on this repository in Miyabi (the agents.execute permission is needed).", ev.Sender.Login))
	}
}

// executionRef finds a Miyabi execution id in a pull request's branch or body (the
// agents name branches miyabi/<execution id> and write "Miyabi-Execution: <id>").
var executionRef = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

func (h *webhookRun) pullRequest(ctx context.Context, tx pgx.Tx) error {
	ev := h.ev
	switch ev.Action {
	case "opened", "closed", "reopened", "edited", "synchronize", "ready_for_review":
	default:
		return nil
	}
	repos, err := store.ConnectedRepositoriesTx(ctx, tx, ev.Repository.ID)
	if err != nil || len(repos) == 0 {
		if len(repos) == 0 {
			h.outcome = "unknown repository"
		}
		return err
	}
	pr := ev.PullRequest
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
	state := "open"
	if pr.State == "closed" {
		state = "closed"
	}
	var mergedAt *time.Time
	if pr.MergedAt != nil {
		if t, err := time.Parse(time.RFC3339, *pr.MergedAt); err == nil {
			mergedAt = &t
		}
	}
	linked := 0
	for _, r := range repos {
		rec := store.PullRequest{Number: pr.Number, URL: pr.HTMLURL, State: state, Merged: pr.Merged, MergedAt: mergedAt}
		// only a pull request that names an execution is Miyabi's to count
		for _, id := range ids {
			ok, err := store.RecordPullRequestTx(ctx, tx, r.OrgID, r, rec, &id)
			if err != nil {
				return err
			}
			if ok {
				linked++
				break
			}
		}
	}
	h.outcome = fmt.Sprintf("pull request linked to %d executions", linked)
	return nil
}

func (h *webhookRun) installation(ctx context.Context, tx pgx.Tx) error {
	ev := h.ev
	if ev.Installation == nil || ev.Installation.ID == 0 {
		return nil
	}
	id := ev.Installation.ID
	ids := func(rs []github.HookRepo) []int64 {
		out := make([]int64, 0, len(rs))
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	account := ev.Installation.Account.Login
	var n int64
	var err error
	switch {
	case h.event == "installation" && (ev.Action == "deleted" || ev.Action == "suspend"):
		verb := map[string]string{"deleted": "uninstalled from", "suspend": "suspended on"}[ev.Action]
		n, err = store.DeactivateInstallationTx(ctx, tx, id, nil, fmt.Sprintf("The Miyabi GitHub App was %s %s; reinstall it to use this repository.", verb, account))
	case h.event == "installation" && (ev.Action == "created" || ev.Action == "unsuspend" || ev.Action == "new_permissions_accepted"):
		if len(ev.Repositories) > 0 {
			n, err = store.AttachInstallationTx(ctx, tx, id, ids(ev.Repositories))
		}
	case h.event == "installation_repositories" && ev.Action == "added":
		n, err = store.AttachInstallationTx(ctx, tx, id, ids(ev.RepositoriesAdded))
	case h.event == "installation_repositories" && ev.Action == "removed":
		n, err = store.DeactivateInstallationTx(ctx, tx, id, ids(ev.RepositoriesRemoved), "The repository was removed from the Miyabi GitHub App's installation; add it back to use it.")
	default:
		return nil
	}
	h.outcome = fmt.Sprintf("%d repositories updated", n)
	return err
}
