package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// What GitHub's webhooks change, each in one transaction with the delivery's record: a
// redelivery (same X-GitHub-Delivery) finds the record and changes nothing.

// WebhookDelivery names one webhook delivery.
type WebhookDelivery struct {
	ID, Event, Action string
}

// IssueNotice is a one-off comment on an issue: why a label or a command launched nothing.
type IssueNotice struct {
	OrgID          uuid.UUID
	InstallationID int64
	RepoFullName   string
	Issue          int
	Body           string
}

// GitHubOutcome is what a delivery did, for the log.
type GitHubOutcome struct {
	Redelivery bool
	Outcome    string
}

// inDelivery runs fn in a transaction that first records the delivery; fn does not run
// for a delivery handled before.
func (s *Store) inDelivery(ctx context.Context, d WebhookDelivery, fn func(tx pgx.Tx) (string, error)) (GitHubOutcome, error) {
	var out GitHubOutcome
	err := s.inTx(ctx, func(tx pgx.Tx) error {
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

// WebhookDeliverySeen reports whether a delivery was handled before (GitHub redelivers on
// timeouts and on request).
func (s *Store) WebhookDeliverySeen(ctx context.Context, deliveryID string) (bool, error) {
	var seen bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM github_webhook_deliveries WHERE delivery_id = $1)`, deliveryID).Scan(&seen)
	if err != nil {
		return false, fmt.Errorf("delivery seen: %w", err)
	}
	return seen, nil
}

// RecordWebhookDelivery records a delivery whose work is done, with the issue notice it
// leaves (nil: none) queued once: a redelivery finds the record and queues nothing again.
// (A delivery's launches are idempotent on their own keys, LaunchAgentOnce's.)
func (s *Store) RecordWebhookDelivery(ctx context.Context, d WebhookDelivery, notice *IssueNotice) (GitHubOutcome, error) {
	return s.inDelivery(ctx, d, func(tx pgx.Tx) (string, error) {
		if notice == nil {
			return "", nil
		}
		return "notice", queueNoticeTx(ctx, tx, notice.OrgID, notice.InstallationID, notice.RepoFullName, notice.Issue, notice.Body)
	})
}

// GitHubConnections is every organization's connection of a GitHub repository, oldest first.
// Webhooks arrive without an organization: this finds the organizations, and everything
// after it is scoped to each.
func (s *Store) GitHubConnections(ctx context.Context, githubRepoID int64) ([]Repository, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+repositoryColumns+` FROM repositories WHERE github_repo_id = $1
		ORDER BY created_at, id`, githubRepoID)
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[Repository])
	if err != nil {
		return nil, fmt.Errorf("connected repositories: %w", err)
	}
	return items, nil
}

// AttachGitHubInstallation records that an installation reaches a GitHub repository (an
// event from it proves it); connections the App had deactivated become active again.
func (s *Store) AttachGitHubInstallation(ctx context.Context, installationID, githubRepoID int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := attachInstallationTx(ctx, tx, installationID, []int64{githubRepoID})
		return err
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
