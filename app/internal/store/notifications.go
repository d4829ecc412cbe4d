package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// NotificationChannel is where an organization hears about its agents: a LINE recipient,
// a Slack incoming webhook or a signed webhook. Its secret stays sealed here.
type NotificationChannel struct {
	ID            uuid.UUID   `db:"id"`
	OrgID         uuid.UUID   `db:"organization_id"`
	Name          string      `db:"name"`
	Kind          string      `db:"kind"`
	Target        string      `db:"target"`
	SecretSealed  []byte      `db:"secret_sealed"`
	EventTypes    []string    `db:"event_types"`
	RepositoryIDs []uuid.UUID `db:"repository_ids"`
	IsActive      bool        `db:"is_active"`
	Status        string      `db:"status"`
	FailureReason *string     `db:"failure_reason"`
	FailingSince  *time.Time  `db:"failing_since"`
	CreatedBy     *uuid.UUID  `db:"created_by"`
	CreatedAt     time.Time   `db:"created_at"`
	UpdatedAt     time.Time   `db:"updated_at"`
}

const channelSelect = `SELECT id, organization_id, name, kind, target, secret_sealed, event_types, repository_ids,
	is_active, status, failure_reason, failing_since, created_by, created_at, updated_at
	FROM notification_channels WHERE organization_id = $1`

// NewNotificationChannel is a channel to create; ID is chosen by the caller because the
// secret is sealed to it.
type NewNotificationChannel struct {
	ID            uuid.UUID
	Name, Kind    string
	Target        string
	SecretSealed  []byte
	EventTypes    []string
	RepositoryIDs []uuid.UUID
	CreatedBy     uuid.UUID
}

// checkChannelRepositories refuses repository ids that are not the organization's.
func checkChannelRepositories(ctx context.Context, q pgx.Tx, orgID uuid.UUID, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	var known int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM repositories WHERE organization_id = $1 AND id = ANY($2::uuid[])`, orgID, ids).Scan(&known); err != nil {
		return fmt.Errorf("check repositories: %w", err)
	}
	if known != len(ids) {
		return domain.Invalid("body.repository_ids", "every id must be a repository of this organization")
	}
	return nil
}

// CreateNotificationChannel stores a new channel of the organization.
func (s *Store) CreateNotificationChannel(ctx context.Context, orgID uuid.UUID, n NewNotificationChannel) (NotificationChannel, error) {
	if n.RepositoryIDs == nil {
		n.RepositoryIDs = []uuid.UUID{}
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := checkChannelRepositories(ctx, tx, orgID, n.RepositoryIDs); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO notification_channels (id, organization_id, name, kind, target, secret_sealed, event_types, repository_ids, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			n.ID, orgID, n.Name, n.Kind, n.Target, n.SecretSealed, n.EventTypes, n.RepositoryIDs, n.CreatedBy)
		if err != nil {
			return fmt.Errorf("create channel: %w", err)
		}
		// the target (a URL or a LINE id) and the secret stay out of the trail
		return audit(ctx, tx, orgID, AuditChannelCreated, "notification_channel", n.ID.String(),
			map[string]any{"name": n.Name, "kind": n.Kind, "event_types": n.EventTypes})
	})
	if err != nil {
		return NotificationChannel{}, err
	}
	return s.NotificationChannel(ctx, orgID, n.ID)
}

// NotificationChannel loads one of the organization's channels.
func (s *Store) NotificationChannel(ctx context.Context, orgID, id uuid.UUID) (NotificationChannel, error) {
	rows, _ := s.pool.Query(ctx, channelSelect+` AND id = $2`, orgID, id)
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[NotificationChannel])
	return c, notFound(err, "notification channel")
}

// ListNotificationChannels pages through the organization's channels, newest first.
func (s *Store) ListNotificationChannels(ctx context.Context, orgID uuid.UUID, limit, offset int) ([]NotificationChannel, int, error) {
	rows, _ := s.pool.Query(ctx, channelSelect+` ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`, orgID, limit, offset)
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[NotificationChannel])
	if err != nil {
		return nil, 0, fmt.Errorf("list channels: %w", err)
	}
	var total int
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM notification_channels WHERE organization_id = $1`, orgID).Scan(&total)
	return items, total, err
}

// NotificationChannelPatch holds what PATCH may change; nil leaves a field alone.
// Target and SecretSealed change together (a new URL or token).
type NotificationChannelPatch struct {
	Name          *string
	EventTypes    []string
	RepositoryIDs *[]uuid.UUID
	IsActive      *bool
	Target        *string
	SecretSealed  []byte
}

// UpdateNotificationChannel changes a channel. A changed target or a re-activation
// clears the failing mark: the admins fixed what was wrong.
func (s *Store) UpdateNotificationChannel(ctx context.Context, orgID, id uuid.UUID, p NotificationChannelPatch) (NotificationChannel, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var repos []uuid.UUID
		if p.RepositoryIDs != nil {
			repos = *p.RepositoryIDs
			if repos == nil {
				repos = []uuid.UUID{}
			}
			if err := checkChannelRepositories(ctx, tx, orgID, repos); err != nil {
				return err
			}
		}
		clear := p.Target != nil || (p.IsActive != nil && *p.IsActive)
		tag, err := tx.Exec(ctx, `UPDATE notification_channels SET
				name = coalesce($3, name), event_types = coalesce($4, event_types),
				repository_ids = coalesce($5::uuid[], repository_ids), is_active = coalesce($6, is_active),
				target = coalesce($7, target), secret_sealed = coalesce($8, secret_sealed),
				status = CASE WHEN $9 THEN 'ok' ELSE status END,
				failure_reason = CASE WHEN $9 THEN NULL ELSE failure_reason END,
				failing_since = CASE WHEN $9 THEN NULL ELSE failing_since END,
				updated_at = now()
			WHERE organization_id = $1 AND id = $2`,
			orgID, id, p.Name, p.EventTypes, repos, p.IsActive, p.Target, p.SecretSealed, clear)
		if err != nil {
			return fmt.Errorf("update channel: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return domain.NotFound("notification channel")
		}
		changed := []string{}
		for name, set := range map[string]bool{"name": p.Name != nil, "event_types": p.EventTypes != nil,
			"repository_ids": p.RepositoryIDs != nil, "is_active": p.IsActive != nil, "target": p.Target != nil} {
			if set {
				changed = append(changed, name)
			}
		}
		slices.Sort(changed)
		details := map[string]any{"changed": changed}
		if p.IsActive != nil {
			details["is_active"] = *p.IsActive
		}
		return audit(ctx, tx, orgID, AuditChannelUpdated, "notification_channel", id.String(), details)
	})
	if err != nil {
		return NotificationChannel{}, err
	}
	return s.NotificationChannel(ctx, orgID, id)
}

// DeleteNotificationChannel removes a channel and its delivery log.
func (s *Store) DeleteNotificationChannel(ctx context.Context, orgID, id uuid.UUID) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var name, kind string
		err := tx.QueryRow(ctx, `DELETE FROM notification_channels WHERE organization_id = $1 AND id = $2 RETURNING name, kind`,
			orgID, id).Scan(&name, &kind)
		if err != nil {
			return notFound(err, "notification channel")
		}
		return audit(ctx, tx, orgID, AuditChannelDeleted, "notification_channel", id.String(), map[string]any{"name": name, "kind": kind})
	})
}

// NotificationDelivery is one event for one channel: the outbox row and its log entry.
type NotificationDelivery struct {
	ID            uuid.UUID  `db:"id"`
	ChannelID     uuid.UUID  `db:"channel_id"`
	EventType     string     `db:"event_type"`
	Status        string     `db:"status"`
	Attempts      int        `db:"attempts"`
	NextAttemptAt time.Time  `db:"next_attempt_at"`
	ResponseCode  *int       `db:"response_code"`
	ResponseBody  *string    `db:"response_body"`
	LastError     *string    `db:"last_error"`
	CreatedAt     time.Time  `db:"created_at"`
	UpdatedAt     time.Time  `db:"updated_at"`
	DeliveredAt   *time.Time `db:"delivered_at"`
}

const deliverySelect = `SELECT id, channel_id, event_type, status, attempts, next_attempt_at, response_code,
	response_body, last_error, created_at, updated_at, delivered_at
	FROM notification_deliveries WHERE organization_id = $1 AND channel_id = $2`

// ListNotificationDeliveries pages through a channel's delivery log, newest first.
func (s *Store) ListNotificationDeliveries(ctx context.Context, orgID, channelID uuid.UUID, limit, offset int) ([]NotificationDelivery, int, error) {
	if _, err := s.NotificationChannel(ctx, orgID, channelID); err != nil {
		return nil, 0, err
	}
	rows, _ := s.pool.Query(ctx, deliverySelect+` ORDER BY created_at DESC, id LIMIT $3 OFFSET $4`, orgID, channelID, limit, offset)
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[NotificationDelivery])
	if err != nil {
		return nil, 0, fmt.Errorf("list deliveries: %w", err)
	}
	var total int
	err = s.pool.QueryRow(ctx, `SELECT count(*) FROM notification_deliveries WHERE organization_id = $1 AND channel_id = $2`, orgID, channelID).Scan(&total)
	return items, total, err
}

// NotificationDelivery loads one delivery of a channel.
func (s *Store) NotificationDelivery(ctx context.Context, orgID, channelID, id uuid.UUID) (NotificationDelivery, error) {
	rows, _ := s.pool.Query(ctx, deliverySelect+` AND id = $3`, orgID, channelID, id)
	d, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[NotificationDelivery])
	return d, notFound(err, "delivery")
}

// NotificationWakeChannel is the PostgreSQL NOTIFY channel raised (at commit) when
// deliveries are queued, so a listening API process delivers at once.
const NotificationWakeChannel = "miyabi_notifications"

// QueueTestNotification queues a test message for one channel, active or not.
func (s *Store) QueueTestNotification(ctx context.Context, orgID, channelID uuid.UUID) (NotificationDelivery, error) {
	var id uuid.UUID
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO notification_deliveries (organization_id, channel_id, event_type, event_key, payload)
			SELECT organization_id, id, 'test', 'test:' || gen_random_uuid(), jsonb_build_object('channel_name', name)
			FROM notification_channels WHERE organization_id = $1 AND id = $2
			RETURNING id`, orgID, channelID).Scan(&id)
		if err != nil {
			return notFound(err, "notification channel")
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, NotificationWakeChannel)
		return err
	})
	if err != nil {
		return NotificationDelivery{}, err
	}
	return s.NotificationDelivery(ctx, orgID, channelID, id)
}

// queueNotificationsTx queues an event for every active channel of the organization
// that subscribes to its type (and its repository, when the channel names some). The
// key makes a second queueing of the same event for a channel a no-op. payloadSQL is a
// SELECT of (repository_id, payload) rows, with $1 the organization and extra args
// after $3.
func queueNotificationsTx(ctx context.Context, tx pgx.Tx, orgID uuid.UUID, eventType, key, payloadSQL string, args ...any) error {
	tag, err := tx.Exec(ctx, `
		WITH ev AS (`+payloadSQL+`)
		INSERT INTO notification_deliveries (organization_id, channel_id, event_type, event_key, payload)
		SELECT $1, c.id, $2, $3, ev.payload
		FROM ev JOIN notification_channels c ON c.organization_id = $1 AND c.is_active AND $2 = ANY(c.event_types)
			AND (cardinality(c.repository_ids) = 0 OR ev.repository_id = ANY(c.repository_ids))
		ON CONFLICT (channel_id, event_key) DO NOTHING`, append([]any{orgID, eventType, key}, args...)...)
	if err != nil {
		return fmt.Errorf("queue %s notifications: %w", eventType, err)
	}
	if tag.RowsAffected() > 0 {
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, NotificationWakeChannel); err != nil {
			return fmt.Errorf("wake deliverers: %w", err)
		}
	}
	return nil
}

// queueTaskNotifications queues what a task move tells people: the execution it runs
// ended (and opened a pull request), or the workflow run it belongs to finished. It runs
// inside MoveTaskTx, so nothing is queued for a move that rolls back.
func queueTaskNotifications(ctx context.Context, tx pgx.Tx, orgID uuid.UUID, m Moved) error {
	if m.To != domain.TaskCompleted && m.To != domain.TaskFailed && m.To != domain.TaskCancelled {
		return nil
	}
	// Cheap exit for the common case of an organization without channels.
	var any bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM notification_channels WHERE organization_id = $1 AND is_active)`, orgID).Scan(&any); err != nil {
		return fmt.Errorf("find channels: %w", err)
	}
	if !any {
		return nil
	}
	if m.ExecutionID != nil {
		var retries int
		var pr *int
		if err := tx.QueryRow(ctx, `SELECT t.retry_count, e.pr_number FROM tasks t JOIN agent_executions e ON e.organization_id = t.organization_id AND e.id = t.execution_id
			WHERE t.organization_id = $1 AND t.id = $2`, orgID, m.ID).Scan(&retries, &pr); err != nil {
			return fmt.Errorf("load execution: %w", err)
		}
		const execPayload = `SELECT e.repository_id, jsonb_build_object(
				'execution_id', e.id, 'agent_type', e.agent_type, 'status', e.status,
				'repository', r.full_name, 'issue_number', e.issue_number, 'pr_number', e.pr_number,
				'duration_seconds', round(extract(epoch FROM e.completed_at - coalesce(e.started_at, e.created_at))),
				'workflow_run_id', e.workflow_run_id) AS payload
			FROM agent_executions e LEFT JOIN repositories r ON r.organization_id = e.organization_id AND r.id = e.repository_id
			WHERE e.organization_id = $1 AND e.id = $4`
		typ := "execution." + string(m.To)
		if err := queueNotificationsTx(ctx, tx, orgID, typ, fmt.Sprintf("%s:%s:%d", typ, m.ExecutionID, retries), execPayload, *m.ExecutionID); err != nil {
			return err
		}
		if m.To == domain.TaskCompleted && pr != nil {
			// The pull request as recorded (githubOnMoveTx ran earlier in this
			// transaction, or a pull_request webhook before it): its own URL, and a
			// key per pull request, so a retried execution or a redelivered webhook
			// that reports the same one announces it once.
			var prID uuid.UUID
			err := tx.QueryRow(ctx, `SELECT p.id FROM agent_executions e
				JOIN repositories r ON r.organization_id = e.organization_id AND r.id = e.repository_id
				JOIN pull_requests p ON p.organization_id = e.organization_id AND p.github_repo_id = r.github_repo_id AND p.number = e.pr_number
				WHERE e.organization_id = $1 AND e.id = $2`, orgID, *m.ExecutionID).Scan(&prID)
			switch {
			case err == nil:
				const prPayload = `SELECT e.repository_id, jsonb_build_object(
						'execution_id', e.id, 'agent_type', e.agent_type, 'status', e.status,
						'repository', r.full_name, 'issue_number', e.issue_number, 'pr_number', p.number, 'pr_url', p.url,
						'workflow_run_id', e.workflow_run_id) AS payload
					FROM pull_requests p JOIN agent_executions e ON e.organization_id = p.organization_id AND e.id = $5
					LEFT JOIN repositories r ON r.organization_id = e.organization_id AND r.id = e.repository_id
					WHERE p.organization_id = $1 AND p.id = $4`
				key := fmt.Sprintf("%s:%s", domain.EventPROpened, prID)
				if err := queueNotificationsTx(ctx, tx, orgID, domain.EventPROpened, key, prPayload, prID, *m.ExecutionID); err != nil {
					return err
				}
			case errors.Is(err, pgx.ErrNoRows):
				// not recorded (a repository GitHub does not know): what the agent said
				key := fmt.Sprintf("%s:%s:%d", domain.EventPROpened, m.ExecutionID, *pr)
				if err := queueNotificationsTx(ctx, tx, orgID, domain.EventPROpened, key, execPayload, *m.ExecutionID); err != nil {
					return err
				}
			default:
				return fmt.Errorf("load pull request: %w", err)
			}
		}
	}
	if m.RunID != nil {
		// The run finished in this transaction when its completed_at is this
		// transaction's now(); the key (run, completion time) keeps a batch that ends
		// several of its tasks from queueing it twice.
		const runPayload = `SELECT w.repository_id, jsonb_build_object(
				'workflow_run_id', w.id, 'workflow_id', w.workflow_id, 'workflow_name', wf.name, 'status', w.status,
				'repository', r.full_name, 'issue_number', w.issue_number,
				'duration_seconds', round(extract(epoch FROM w.completed_at - coalesce(w.started_at, w.created_at)))) AS payload
			FROM workflow_runs w JOIN workflows wf ON wf.organization_id = w.organization_id AND wf.id = w.workflow_id
			LEFT JOIN repositories r ON r.organization_id = w.organization_id AND r.id = w.repository_id
			WHERE w.organization_id = $1 AND w.id = $4`
		var ended *time.Time
		if err := tx.QueryRow(ctx, `SELECT completed_at FROM workflow_runs WHERE organization_id = $1 AND id = $2 AND completed_at = now()`, orgID, *m.RunID).Scan(&ended); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("load run: %w", err)
		}
		if ended != nil {
			key := fmt.Sprintf("%s:%s:%d", domain.EventWorkflowRunFinished, m.RunID, ended.UnixMicro())
			if err := queueNotificationsTx(ctx, tx, orgID, domain.EventWorkflowRunFinished, key, runPayload, *m.RunID); err != nil {
				return err
			}
		}
	}
	return nil
}

// QueueOfflineWorkerNotifications queues worker.offline for every worker whose last
// heartbeat is older than the offline boundary (and younger than a day: a worker long
// gone is old news). The key is the heartbeat it went silent after, so a worker is
// reported once per silence, however many sweepers look.
func (s *Store) QueueOfflineWorkerNotifications(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `
		WITH gone AS (
			SELECT w.organization_id, w.id, w.name, w.last_heartbeat_at FROM workers w
			WHERE w.revoked_at IS NULL AND w.last_heartbeat_at < now() - make_interval(secs => $1)
				AND w.last_heartbeat_at > now() - interval '24 hours'
				AND EXISTS (SELECT 1 FROM notification_channels c WHERE c.organization_id = w.organization_id AND c.is_active AND 'worker.offline' = ANY(c.event_types))
		), queued AS (
			INSERT INTO notification_deliveries (organization_id, channel_id, event_type, event_key, payload)
			SELECT g.organization_id, c.id, 'worker.offline', 'worker.offline:' || g.id || ':' || (extract(epoch FROM g.last_heartbeat_at) * 1000000)::bigint,
				jsonb_build_object('worker_id', g.id, 'worker_name', g.name, 'last_heartbeat_at', g.last_heartbeat_at)
			FROM gone g JOIN notification_channels c ON c.organization_id = g.organization_id AND c.is_active AND 'worker.offline' = ANY(c.event_types)
			ON CONFLICT (channel_id, event_key) DO NOTHING
			RETURNING 1
		)
		SELECT count(*) FROM queued`, offlineSecs()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("queue offline workers: %w", err)
	}
	if n > 0 {
		_, err = s.pool.Exec(ctx, `SELECT pg_notify($1, '')`, NotificationWakeChannel)
	}
	return n, err
}

// OrganizationLanguage is the language notifications of the organization are written in.
func (s *Store) OrganizationLanguage(ctx context.Context, orgID uuid.UUID) (string, error) {
	var lang string
	err := s.pool.QueryRow(ctx, `SELECT language FROM organizations WHERE id = $1`, orgID).Scan(&lang)
	return lang, notFound(err, "organization")
}

// SetOrganizationLanguage sets it (en or ja; the column checks).
func (s *Store) SetOrganizationLanguage(ctx context.Context, orgID uuid.UUID, lang string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE organizations SET language = $2, updated_at = now() WHERE id = $1`, orgID, lang)
		if err != nil {
			return fmt.Errorf("set language: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return domain.NotFound("organization")
		}
		return audit(ctx, tx, orgID, AuditOrgSettingsChanged, "organization", orgID.String(),
			map[string]any{"notification_language": lang})
	})
}
