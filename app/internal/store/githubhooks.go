package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// What GitHub's webhooks change, each in one transaction with the delivery's record: a
// redelivery (same X-GitHub-Delivery) finds the record and changes nothing.

// WebhookDelivery names one webhook delivery.
type WebhookDelivery struct {
	ID, Event, Action string
}

// GitHubLaunch is what a label or a /miyabi comment asks for on an issue.
type GitHubLaunch struct {
	GitHubRepoID   int64
	RepoFullName   string
	InstallationID int64 // the installation that sent it (0: use the connection's)
	Issue          int
	SenderID       int64
	SenderLogin    string
	AgentType      string // an agent ...
	Workflow       string // ... or a workflow by name
	Via            string // "label miyabi:codegen", for the execution's options
}

// Why a GitHub launch ran nowhere; the caller words the comment.
const (
	NoticeUnknownAgent = "unknown_agent"
	NoticeNoAccount    = "no_account"
	NoticeNotAllowed   = "not_allowed"
	NoticeInactive     = "inactive"
	NoticeNoWorkflow   = "no_workflow"
)

// GitHubOutcome is what a delivery did, for the log.
type GitHubOutcome struct {
	Redelivery bool
	Outcome    string
}

// inDelivery runs fn in a transaction that first records the delivery; fn does not run
// for a delivery handled before.
func (s *Store) inDelivery(ctx context.Context, d WebhookDelivery, fn func(tx pgx.Tx) (string, error)) (GitHubOutcome, error) {
	var out GitHubOutcome
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		fresh, err := recordWebhookDeliveryTx(ctx, tx, d.ID, d.Event, d.Action)
		if err != nil {
			return err
		}
		if !fresh {
			out.Redelivery = true
			return nil
		}
		out.Outcome, err = fn(tx)
		return err
	})
	return out, err
}

// RecordWebhookDelivery records a delivery that changes nothing else.
func (s *Store) RecordWebhookDelivery(ctx context.Context, d WebhookDelivery) (GitHubOutcome, error) {
	return s.inDelivery(ctx, d, func(pgx.Tx) (string, error) { return "", nil })
}

// LaunchFromGitHub launches what l asks for in every organization that connected the
// repository and in which the sender (a Miyabi user by GitHub id) may launch agents on it
// (agents.execute org-wide, or through a team role on the repository's team), as the
// sender; the issue comment of each execution is queued with it. When it launches
// nowhere, the issue gets one notice, worded by notice(reason). An unknown repository
// changes nothing (not ours: nothing is said on a stranger's issue).
func (s *Store) LaunchFromGitHub(ctx context.Context, d WebhookDelivery, l GitHubLaunch, notice func(reason string) string) (GitHubOutcome, error) {
	return s.inDelivery(ctx, d, func(tx pgx.Tx) (string, error) {
		repos, err := connectedRepositoriesTx(ctx, tx, l.GitHubRepoID)
		if err != nil {
			return "", err
		}
		if len(repos) == 0 {
			return "unknown repository", nil
		}
		inst := l.InstallationID
		for _, r := range repos {
			if inst == 0 && r.InstallationID != nil {
				inst = *r.InstallationID
			}
		}
		if inst == 0 {
			return "no installation", nil
		}
		// the event proves this installation reaches the repository
		if _, err := attachInstallationTx(ctx, tx, inst, []int64{l.GitHubRepoID}); err != nil {
			return "", err
		}
		say := func(reason string) (string, error) {
			return "notice " + reason, queueNoticeTx(ctx, tx, repos[0].OrgID, inst, l.RepoFullName, l.Issue, notice(reason))
		}
		if l.Workflow == "" && !domain.KnownAgentType(l.AgentType) {
			return say(NoticeUnknownAgent)
		}
		userID, login, linked, err := userByGitHubIDTx(ctx, tx, l.SenderID)
		if err != nil {
			return "", err
		}
		if !linked {
			return say(NoticeNoAccount)
		}
		launched, inactive, noWorkflow := 0, 0, 0
		issue := l.Issue
		for _, r := range repos {
			ok, err := mayTx(ctx, tx, r.OrgID, userID, r.TeamID, "agents.execute")
			if err != nil {
				return "", err
			}
			switch {
			case !ok:
				continue
			case !r.IsActive:
				inactive++
				continue
			}
			if l.Workflow != "" {
				wf, err := workflowIDByNameTx(ctx, tx, r.OrgID, l.Workflow)
				if domain.ErrorCode(err) == domain.CodeNotFound {
					noWorkflow++
					continue
				}
				if err != nil {
					return "", err
				}
				if _, err := runWorkflowTx(ctx, tx, r.OrgID, wf, NewRun{RepositoryID: &r.ID, IssueNumber: &issue, CreatedBy: userID}); err != nil {
					return "", err
				}
				launched++
				continue
			}
			options := map[string]any{"source": "github", "github_delivery": d.ID, "github_sender": login, "via": l.Via}
			_, _, err = LaunchAgentTx(ctx, tx, r.OrgID,
				NewExecution{RepositoryID: &r.ID, AgentType: l.AgentType, IssueNumber: &issue, Options: options, CreatedBy: userID},
				NewTask{Name: fmt.Sprintf("%s on %s#%d", l.AgentType, r.FullName, issue), Priority: "P1", CreatedBy: userID})
			if err != nil {
				return "", err
			}
			launched++
		}
		switch {
		case launched > 0:
			return fmt.Sprintf("launched %d", launched), nil
		case noWorkflow > 0:
			return say(NoticeNoWorkflow)
		case inactive > 0:
			return say(NoticeInactive)
		default:
			return say(NoticeNotAllowed)
		}
	})
}

// RecordGitHubPullRequest records a pull request in every organization that connected
// its repository, linked to the first of execIDs that is an execution of that
// organization on that repository; a pull request that names none is not Miyabi's and is
// not recorded.
func (s *Store) RecordGitHubPullRequest(ctx context.Context, d WebhookDelivery, githubRepoID int64, pr PullRequest, execIDs []uuid.UUID) (GitHubOutcome, error) {
	return s.inDelivery(ctx, d, func(tx pgx.Tx) (string, error) {
		repos, err := connectedRepositoriesTx(ctx, tx, githubRepoID)
		if err != nil {
			return "", err
		}
		if len(repos) == 0 {
			return "unknown repository", nil
		}
		linked := 0
		for _, r := range repos {
			for _, id := range execIDs {
				ok, err := recordPullRequestTx(ctx, tx, r.OrgID, r, pr, &id)
				if err != nil {
					return "", err
				}
				if ok {
					linked++
					break
				}
			}
		}
		return fmt.Sprintf("pull request linked to %d executions", linked), nil
	})
}

// InstallationChange is what an installation event says.
type InstallationChange struct {
	InstallationID int64
	Attach         []int64 // GitHub repository ids the installation now reaches
	Detach         []int64 // ... no longer reaches
	DetachAll      bool    // the App was uninstalled or suspended
	Reason         string  // shown on the repositories it deactivates
}

// ApplyGitHubInstallation records which repositories an installation reaches: removed ones
// are deactivated with the reason, added ones reactivated if the App had deactivated them.
func (s *Store) ApplyGitHubInstallation(ctx context.Context, d WebhookDelivery, c InstallationChange) (GitHubOutcome, error) {
	return s.inDelivery(ctx, d, func(tx pgx.Tx) (string, error) {
		var n int64
		if c.DetachAll || len(c.Detach) > 0 {
			var ids []int64
			if !c.DetachAll {
				ids = c.Detach
			}
			m, err := deactivateInstallationTx(ctx, tx, c.InstallationID, ids, c.Reason)
			if err != nil {
				return "", err
			}
			n += m
		}
		if len(c.Attach) > 0 {
			m, err := attachInstallationTx(ctx, tx, c.InstallationID, c.Attach)
			if err != nil {
				return "", err
			}
			n += m
		}
		return fmt.Sprintf("%d repositories updated", n), nil
	})
}
