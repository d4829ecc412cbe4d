package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The GitHub loop's data: webhook deliveries seen, the issue-comment outbox, pull
// requests, and which repositories the App reaches. Webhooks arrive without an
// organization: the lookups by GitHub id below find the organizations that connected a
// repository, and everything after that is scoped to each organization.

// recordWebhookDeliveryTx remembers a delivery id; false when it was handled before
// (GitHub redelivers on timeouts and on request), so the caller does nothing twice.
func recordWebhookDeliveryTx(ctx context.Context, tx pgx.Tx, deliveryID, event, action string) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO github_webhook_deliveries (delivery_id, event, action) VALUES ($1, $2, $3)
		ON CONFLICT (delivery_id) DO NOTHING`, deliveryID, event, action)
	if err != nil {
		return false, fmt.Errorf("record delivery: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// connectedRepositoriesTx is every organization's connection of a GitHub repository
// (locked: a launch and an uninstall of the same repository do not interleave).
func connectedRepositoriesTx(ctx context.Context, tx pgx.Tx, githubRepoID int64) ([]Repository, error) {
	rows, _ := tx.Query(ctx, `SELECT `+repositoryColumns+` FROM repositories WHERE github_repo_id = $1
		ORDER BY created_at, id FOR UPDATE`, githubRepoID)
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[Repository])
	if err != nil {
		return nil, fmt.Errorf("connected repositories: %w", err)
	}
	return items, nil
}

// queueNoticeTx queues a one-off comment on an issue (why nothing ran, say).
func queueNoticeTx(ctx context.Context, tx pgx.Tx, orgID uuid.UUID, installationID int64, repoFullName string, issue int, body string) error {
	_, err := tx.Exec(ctx, `INSERT INTO github_issue_comments (organization_id, installation_id, repo_full_name, issue_number, body)
		VALUES ($1, $2, $3, $4, $5)`, orgID, installationID, repoFullName, issue, body)
	if err != nil {
		return fmt.Errorf("queue notice: %w", err)
	}
	return nil
}

// trackIssueCommentTx opens the issue comment of a new execution when its repository is
// reached through the App and it runs on an issue: the "queued" comment is then
// delivered after commit, and every later change edits it.
func trackIssueCommentTx(ctx context.Context, tx pgx.Tx, orgID, execID uuid.UUID) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO github_issue_comments (organization_id, execution_id, installation_id, repo_full_name, issue_number)
		SELECT e.organization_id, e.id, r.github_installation_id, r.full_name, e.issue_number
		FROM agent_executions e JOIN repositories r ON r.organization_id = e.organization_id AND r.id = e.repository_id
		WHERE e.organization_id = $1 AND e.id = $2 AND e.issue_number IS NOT NULL AND r.github_installation_id IS NOT NULL`, orgID, execID)
	if err != nil {
		return fmt.Errorf("track issue comment: %w", err)
	}
	return nil
}

// bumpIssueCommentTx marks an execution's comment as needing an edit.
func bumpIssueCommentTx(ctx context.Context, tx pgx.Tx, orgID, execID uuid.UUID) error {
	_, err := tx.Exec(ctx, `UPDATE github_issue_comments SET version = version + 1, next_attempt_at = now(), attempts = 0
		WHERE organization_id = $1 AND execution_id = $2`, orgID, execID)
	if err != nil {
		return fmt.Errorf("bump issue comment: %w", err)
	}
	return nil
}

// githubOnMoveTx is what a task move means for GitHub, in the move's transaction: the
// execution's issue comment gets edited, and a pull request the agent reported is
// recorded once (by repository and number, whoever reports it again).
func githubOnMoveTx(ctx context.Context, tx pgx.Tx, orgID uuid.UUID, execID *uuid.UUID, m Move) error {
	if execID == nil {
		return nil
	}
	if err := bumpIssueCommentTx(ctx, tx, orgID, *execID); err != nil {
		return err
	}
	if m.Result == nil || m.Result.PRNumber == nil || *m.Result.PRNumber <= 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO pull_requests (organization_id, github_repo_id, repository_id, number, execution_id, url)
		SELECT e.organization_id, r.github_repo_id, r.id, $3::integer, e.id, 'https://github.com/' || r.full_name || '/pull/' || $3::integer::text
		FROM agent_executions e JOIN repositories r ON r.organization_id = e.organization_id AND r.id = e.repository_id
		WHERE e.organization_id = $1 AND e.id = $2
		ON CONFLICT (organization_id, github_repo_id, number)
		DO UPDATE SET execution_id = coalesce(pull_requests.execution_id, excluded.execution_id)`, orgID, *execID, *m.Result.PRNumber)
	if err != nil {
		return fmt.Errorf("record reported pull request: %w", err)
	}
	return nil
}

// PullRequest is a pull request Miyabi knows of.
type PullRequest struct {
	Number      int        `db:"number"`
	URL         string     `db:"url"`
	State       string     `db:"state"`
	Merged      bool       `db:"merged"`
	MergedAt    *time.Time `db:"merged_at"`
	ExecutionID *uuid.UUID `db:"execution_id"`
}

// recordPullRequestTx upserts a pull request GitHub told us about; when it links one of
// the organization's executions on that repository (execID), the execution records it.
// It answers whether the link was to a real execution of that repository.
func recordPullRequestTx(ctx context.Context, tx pgx.Tx, orgID uuid.UUID, repo Repository, pr PullRequest, execID *uuid.UUID) (bool, error) {
	if execID != nil {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM agent_executions WHERE organization_id = $1 AND id = $2 AND repository_id = $3)`,
			orgID, *execID, repo.ID).Scan(&ok); err != nil {
			return false, fmt.Errorf("find linked execution: %w", err)
		}
		if !ok {
			execID = nil
		}
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO pull_requests (organization_id, github_repo_id, repository_id, number, execution_id, url, state, merged, merged_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (organization_id, github_repo_id, number) DO UPDATE SET
			execution_id = coalesce(excluded.execution_id, pull_requests.execution_id),
			repository_id = excluded.repository_id, url = excluded.url, state = excluded.state,
			merged = pull_requests.merged OR excluded.merged, merged_at = coalesce(excluded.merged_at, pull_requests.merged_at)`,
		orgID, repo.GitHubRepoID, repo.ID, pr.Number, execID, pr.URL, pr.State, pr.Merged, pr.MergedAt)
	if err != nil {
		return false, fmt.Errorf("record pull request: %w", err)
	}
	if execID == nil {
		return false, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE agent_executions SET pr_number = coalesce(pr_number, $3) WHERE organization_id = $1 AND id = $2`,
		orgID, *execID, pr.Number); err != nil {
		return false, fmt.Errorf("link pull request: %w", err)
	}
	return true, bumpIssueCommentTx(ctx, tx, orgID, *execID)
}

// ExecutionPullRequest is the pull request linked to an execution (nil when none).
func (s *Store) ExecutionPullRequest(ctx context.Context, orgID, execID uuid.UUID) (*PullRequest, error) {
	rows, _ := s.pool.Query(ctx, `SELECT number, url, state, merged, merged_at, execution_id FROM pull_requests
		WHERE organization_id = $1 AND execution_id = $2 ORDER BY merged DESC, created_at DESC LIMIT 1`, orgID, execID)
	prs, err := pgx.CollectRows(rows, pgx.RowToStructByName[PullRequest])
	if err != nil {
		return nil, fmt.Errorf("execution pull request: %w", err)
	}
	if len(prs) == 0 {
		return nil, nil
	}
	return &prs[0], nil
}

// PullRequestCounts is how many distinct pull requests the organization has, and merged.
func pullRequestCountsTx(ctx context.Context, tx pgx.Tx, orgID uuid.UUID) (created, merged int64, err error) {
	err = tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE merged) FROM pull_requests WHERE organization_id = $1`, orgID).
		Scan(&created, &merged)
	if err != nil {
		return 0, 0, fmt.Errorf("pull request counts: %w", err)
	}
	return created, merged, nil
}

// deactivateInstallationTx deactivates the repositories an installation served, all of
// them (githubRepoIDs nil: the App was uninstalled or suspended) or the ones removed
// from it, saying why, with one audit entry per organization that lost repositories
// (GitHub did it: no person is the actor); it answers how many.
func deactivateInstallationTx(ctx context.Context, tx pgx.Tx, installationID int64, githubRepoIDs []int64, reason string) (int64, error) {
	rows, _ := tx.Query(ctx, `UPDATE repositories SET is_active = false, inactive_reason = $3, github_installation_id = NULL
		WHERE github_installation_id = $1 AND ($2::bigint[] IS NULL OR github_repo_id = ANY($2))
		RETURNING organization_id, id, full_name`, installationID, githubRepoIDs, reason)
	type deactivated struct {
		OrgID    uuid.UUID `db:"organization_id"`
		ID       uuid.UUID `db:"id"`
		FullName string    `db:"full_name"`
	}
	repos, err := pgx.CollectRows(rows, pgx.RowToStructByName[deactivated])
	if err != nil {
		return 0, fmt.Errorf("deactivate installation repositories: %w", err)
	}
	byOrg := map[uuid.UUID][]map[string]any{}
	var orgs []uuid.UUID
	for _, r := range repos {
		if _, seen := byOrg[r.OrgID]; !seen {
			orgs = append(orgs, r.OrgID)
		}
		byOrg[r.OrgID] = append(byOrg[r.OrgID], map[string]any{"id": r.ID.String(), "full_name": r.FullName})
	}
	slices.SortFunc(orgs, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	for _, org := range orgs {
		if err := audit(ctx, tx, org, AuditRepositoryDeactivatedByGitHub, "github_installation", strconv.FormatInt(installationID, 10),
			map[string]any{"reason": reason, "repositories": byOrg[org]}); err != nil {
			return 0, err
		}
	}
	return int64(len(repos)), nil
}

// attachInstallationTx records that an installation reaches these GitHub repositories;
// connections the App had deactivated become active again (one a person deactivated
// stays as it is).
func attachInstallationTx(ctx context.Context, tx pgx.Tx, installationID int64, githubRepoIDs []int64) (int64, error) {
	tag, err := tx.Exec(ctx, `UPDATE repositories SET github_installation_id = $1,
			is_active = CASE WHEN inactive_reason IS NOT NULL THEN true ELSE is_active END, inactive_reason = NULL
		WHERE github_repo_id = ANY($2)`, installationID, githubRepoIDs)
	if err != nil {
		return 0, fmt.Errorf("attach installation: %w", err)
	}
	return tag.RowsAffected(), nil
}

// IssueCommentJob is one comment to post or edit, with what its body is made of.
type IssueCommentJob struct {
	ID             uuid.UUID  `db:"id"`
	OrgID          uuid.UUID  `db:"organization_id"`
	ExecutionID    *uuid.UUID `db:"execution_id"`
	InstallationID int64      `db:"installation_id"`
	RepoFullName   string     `db:"repo_full_name"`
	IssueNumber    int        `db:"issue_number"`
	Body           *string    `db:"body"`
	CommentID      *int64     `db:"comment_id"`
	Version        int        `db:"version"`
	Attempts       int        `db:"attempts"`

	AgentType    *string  `db:"agent_type"`
	Status       *string  `db:"status"`
	LaunchedBy   *string  `db:"launched_by"`
	QualityScore *float64 `db:"quality_score"`
	Summary      *string  `db:"summary"`
	Error        *string  `db:"error"`
	PRNumber     *int     `db:"pr_number"`
	PRURL        *string  `db:"pr_url"`
}

// MaxCommentAttempts bounds the retries of one comment version (backoff doubles from
// 10 s to an hour, so about a day in all).
const MaxCommentAttempts = 30

// ClaimDueIssueComments leases up to limit comments that need a delivery, so two
// deliverers (the API process and the sweeper) never send the same one at once.
func (s *Store) ClaimDueIssueComments(ctx context.Context, limit int, lease time.Duration) ([]IssueCommentJob, error) {
	var jobs []IssueCommentJob
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `
			WITH due AS (
				SELECT id FROM github_issue_comments
				WHERE delivered_version < version AND next_attempt_at <= now() AND attempts < $3
					AND (lease_until IS NULL OR lease_until < now())
				ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
			), leased AS (
				UPDATE github_issue_comments c SET lease_until = now() + make_interval(secs => $2::float8)
				FROM due WHERE c.id = due.id
				RETURNING c.id, c.organization_id, c.execution_id, c.installation_id, c.repo_full_name, c.issue_number,
					c.body, c.comment_id, c.version, c.attempts
			)
			SELECT l.*, e.agent_type, e.status, `+loginOf("e.created_by")+` AS launched_by, e.quality_score::float8 AS quality_score, e.summary, e.error,
				coalesce(pr.number, e.pr_number) AS pr_number, pr.url AS pr_url
			FROM leased l
			LEFT JOIN agent_executions e ON e.organization_id = l.organization_id AND e.id = l.execution_id
			LEFT JOIN LATERAL (SELECT p.number, p.url FROM pull_requests p
				WHERE p.organization_id = l.organization_id AND p.execution_id = l.execution_id
				ORDER BY p.merged DESC, p.created_at DESC LIMIT 1) pr ON true`, limit, lease.Seconds(), MaxCommentAttempts)
		var err error
		jobs, err = pgx.CollectRows(rows, pgx.RowToStructByName[IssueCommentJob])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim issue comments: %w", err)
	}
	return jobs, nil
}

// IssueCommentDelivered records the version sent and the comment's id.
func (s *Store) IssueCommentDelivered(ctx context.Context, id uuid.UUID, version int, commentID int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE github_issue_comments SET delivered_version = greatest(delivered_version, $2),
		comment_id = $3, lease_until = NULL, attempts = 0, last_error = NULL WHERE id = $1`, id, version, commentID)
	if err != nil {
		return fmt.Errorf("comment delivered: %w", err)
	}
	return nil
}

// IssueCommentFailed schedules the next attempt with exponential backoff (10 s doubling,
// at most an hour between attempts).
func (s *Store) IssueCommentFailed(ctx context.Context, id uuid.UUID, reason string) error {
	if len(reason) > 500 {
		reason = reason[:500]
	}
	_, err := s.pool.Exec(ctx, `UPDATE github_issue_comments SET attempts = attempts + 1, lease_until = NULL, last_error = $2,
		next_attempt_at = now() + least(interval '1 hour', interval '10 seconds' * power(2, least(attempts, 12)))
		WHERE id = $1`, id, reason)
	if err != nil {
		return fmt.Errorf("comment failed: %w", err)
	}
	return nil
}

// PruneWebhookDeliveries forgets deliveries older than GitHub redelivers (its UI keeps 3 days).
func (s *Store) PruneWebhookDeliveries(ctx context.Context, olderThan time.Duration) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM github_webhook_deliveries WHERE received_at < now() - make_interval(secs => $1::float8)`, olderThan.Seconds())
	if err != nil {
		return 0, fmt.Errorf("prune deliveries: %w", err)
	}
	return tag.RowsAffected(), nil
}
