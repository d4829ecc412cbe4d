package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// ClaimedNotification is a due delivery leased to one deliverer, with what sending it
// needs: the channel (secret still sealed) and the organization's language.
type ClaimedNotification struct {
	ID           uuid.UUID       `db:"id"`
	OrgID        uuid.UUID       `db:"organization_id"`
	ChannelID    uuid.UUID       `db:"channel_id"`
	EventType    string          `db:"event_type"`
	Payload      json.RawMessage `db:"payload"`
	Attempts     int             `db:"attempts"`
	CreatedAt    time.Time       `db:"created_at"`
	LeaseToken   uuid.UUID       `db:"lease_token"`
	Kind         string          `db:"kind"`
	Target       string          `db:"target"`
	SecretSealed []byte          `db:"secret_sealed"`
	ChannelName  string          `db:"channel_name"`
	Language     string          `db:"language"`
}

// ClaimNotifications leases up to max due deliveries for the lease's length. Due means
// queued or retried and its time has come, or leased by a deliverer that did not finish
// in time. SKIP LOCKED and the lease make two deliverers (API processes, sweepers) take
// disjoint sets: no delivery is sent twice while its lease holds.
func (s *Store) ClaimNotifications(ctx context.Context, max int, lease time.Duration) ([]ClaimedNotification, error) {
	return s.claimNotifications(ctx, max, lease, nil, nil)
}

// ClaimNotification leases one delivery of the organization if it is due (none if
// another deliverer holds it): "send a test message" delivers inline with it.
func (s *Store) ClaimNotification(ctx context.Context, orgID, id uuid.UUID, lease time.Duration) ([]ClaimedNotification, error) {
	return s.claimNotifications(ctx, 1, lease, &orgID, &id)
}

func (s *Store) claimNotifications(ctx context.Context, max int, lease time.Duration, orgID, id *uuid.UUID) ([]ClaimedNotification, error) {
	rows, _ := s.pool.Query(ctx, `
		WITH due AS (
			SELECT id FROM notification_deliveries
			WHERE status IN ('pending', 'delivering') AND next_attempt_at <= now()
				AND ($4::uuid IS NULL OR (organization_id = $4 AND id = $5))
			ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
		)
		UPDATE notification_deliveries d SET status = 'delivering', attempts = d.attempts + 1, lease_token = $2,
			next_attempt_at = now() + make_interval(secs => $3), updated_at = now()
		FROM due, notification_channels c, organizations o
		WHERE d.id = due.id AND c.organization_id = d.organization_id AND c.id = d.channel_id AND o.id = d.organization_id
		RETURNING d.id, d.organization_id, d.channel_id, d.event_type, d.payload, d.attempts, d.created_at, d.lease_token,
			c.kind, c.target, c.secret_sealed, c.name AS channel_name, o.language`,
		max, uuid.New(), lease.Seconds(), orgID, id)
	claimed, err := pgx.CollectRows(rows, pgx.RowToStructByName[ClaimedNotification])
	if err != nil {
		return nil, fmt.Errorf("claim notifications: %w", err)
	}
	return claimed, nil
}

// DeliveryOutcome is what one attempt came to.
type DeliveryOutcome struct {
	// Status is delivered, pending (retry at RetryIn) or failed (no more attempts).
	Status       string
	RetryIn      time.Duration
	ResponseCode *int
	ResponseBody string // at most 1 kB, the caller cuts it
	Error        string
	// ChannelFailure, when set, marks the channel failing with this reason.
	ChannelFailure string
}

// FinishNotification records an attempt's outcome if the caller still holds the lease
// (a deliverer whose lease expired and was taken over records nothing). A delivered
// message clears the channel's failing mark: its receiver works again.
func (s *Store) FinishNotification(ctx context.Context, c ClaimedNotification, o DeliveryOutcome) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var body *string
		if o.ResponseBody != "" {
			body = &o.ResponseBody
		}
		var errText *string
		if o.Error != "" {
			errText = &o.Error
		}
		tag, err := tx.Exec(ctx, `
			UPDATE notification_deliveries SET status = $4, response_code = $5, response_body = $6, last_error = $7,
				delivered_at = CASE WHEN $4 = 'delivered' THEN now() END,
				next_attempt_at = CASE WHEN $4 = 'pending' THEN now() + make_interval(secs => $8) ELSE next_attempt_at END,
				lease_token = NULL, updated_at = now()
			WHERE organization_id = $1 AND id = $2 AND lease_token = $3`,
			c.OrgID, c.ID, c.LeaseToken, o.Status, o.ResponseCode, body, errText, o.RetryIn.Seconds())
		if err != nil {
			return fmt.Errorf("finish delivery: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		switch {
		case o.ChannelFailure != "":
			_, err = tx.Exec(ctx, `UPDATE notification_channels SET status = 'failing', failure_reason = $3,
					failing_since = coalesce(failing_since, now()), updated_at = now()
				WHERE organization_id = $1 AND id = $2`, c.OrgID, c.ChannelID, o.ChannelFailure)
		case o.Status == "delivered":
			_, err = tx.Exec(ctx, `UPDATE notification_channels SET status = 'ok', failure_reason = NULL, failing_since = NULL, updated_at = now()
				WHERE organization_id = $1 AND id = $2 AND status = 'failing'`, c.OrgID, c.ChannelID)
		}
		if err != nil {
			return fmt.Errorf("mark channel: %w", err)
		}
		return nil
	})
}

// ListenNotifications calls wake after every commit that queued deliveries, until ctx
// ends. It holds one connection of its own (outside the pool) and reconnects when it
// drops; wake also runs after each (re)connect, for what was queued meanwhile.
func (s *Store) ListenNotifications(ctx context.Context, wake func()) error {
	for ctx.Err() == nil {
		err := func() error {
			// a connection of the pool's making (fresh credentials, as ListenEvents),
			// then taken out of it: a listener never goes back
			pc, err := s.pool.Acquire(ctx)
			if err != nil {
				return err
			}
			conn := pc.Hijack()
			defer conn.Close(context.WithoutCancel(ctx))
			if _, err := conn.Exec(ctx, `SET idle_in_transaction_session_timeout = 0`); err != nil {
				return err
			}
			if _, err := conn.Exec(ctx, `LISTEN `+NotificationWakeChannel); err != nil {
				return err
			}
			wake()
			for {
				if _, err := conn.WaitForNotification(ctx); err != nil {
					return err
				}
				wake()
			}
		}()
		if ctx.Err() != nil {
			return nil
		}
		_ = err
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	return nil
}

// PruneNotificationDeliveries deletes finished deliveries older than keep, at most a
// thousand a call, and returns how many: the log is for recent trouble, not an archive.
func (s *Store) PruneNotificationDeliveries(ctx context.Context, keep time.Duration) (int, error) {
	tag, err := s.pool.Exec(ctx, `
		DELETE FROM notification_deliveries WHERE id IN (
			SELECT id FROM notification_deliveries
			WHERE status IN ('delivered', 'failed') AND created_at < now() - make_interval(secs => $1)
			LIMIT 1000)`, keep.Seconds())
	if err != nil {
		return 0, fmt.Errorf("prune deliveries: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
