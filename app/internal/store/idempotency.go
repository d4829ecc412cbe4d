package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// IdempotencyKey identifies one logical request: the caller's key on one route, with the
// SHA-256 of the request it first came with.
type IdempotencyKey struct {
	OrgID       uuid.UUID
	UserID      uuid.UUID
	Route       string
	Key         string
	RequestHash []byte
}

// idempotent runs work in one transaction. With a key, the key row is inserted first in
// that same transaction: a concurrent request with the same key blocks on it until the
// first commits and then replays its answer, so one key can never do the work twice. If
// the work fails nothing is kept and a retry runs it afresh. replayed reports an answer
// read back from an earlier request; the same key with another request body is 422.
func idempotent[T any](ctx context.Context, s *Store, k *IdempotencyKey, status int, work func(tx pgx.Tx) (T, error)) (out T, replayed bool, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if k != nil {
			tag, err := tx.Exec(ctx, `
				INSERT INTO idempotency_keys (organization_id, user_id, route, key, request_hash, response_status, response_body)
				VALUES ($1, $2, $3, $4, $5, 0, 'null') ON CONFLICT DO NOTHING`,
				k.OrgID, k.UserID, k.Route, k.Key, k.RequestHash)
			if err != nil {
				return fmt.Errorf("claim idempotency key: %w", err)
			}
			if tag.RowsAffected() == 0 {
				replayed = true
				return replay(ctx, tx, k, &out)
			}
		}
		var err error
		if out, err = work(tx); err != nil {
			return err
		}
		if k != nil {
			body, err := json.Marshal(out)
			if err != nil {
				return fmt.Errorf("encode idempotent response: %w", err)
			}
			if _, err := tx.Exec(ctx, `UPDATE idempotency_keys SET response_status = $5, response_body = $6
				WHERE organization_id = $1 AND user_id = $2 AND route = $3 AND key = $4`,
				k.OrgID, k.UserID, k.Route, k.Key, status, body); err != nil {
				return fmt.Errorf("record idempotent response: %w", err)
			}
		}
		return nil
	})
	return out, replayed, err
}

func replay[T any](ctx context.Context, tx pgx.Tx, k *IdempotencyKey, out *T) error {
	var hash, body []byte
	err := tx.QueryRow(ctx, `SELECT request_hash, response_body FROM idempotency_keys
		WHERE organization_id = $1 AND user_id = $2 AND route = $3 AND key = $4`,
		k.OrgID, k.UserID, k.Route, k.Key).Scan(&hash, &body)
	if err != nil {
		return fmt.Errorf("read idempotency key: %w", err)
	}
	if !bytes.Equal(hash, k.RequestHash) {
		return domain.Invalid("header.Idempotency-Key",
			"this key was already used with a different request; use a new key for a new request")
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode idempotent response: %w", err)
	}
	return nil
}

// CreateTaskOnce creates a task (CreateTaskTx) at most once per idempotency key (nil: no
// key); render makes the answer, which a replay returns as first stored.
func CreateTaskOnce[T any](ctx context.Context, s *Store, k *IdempotencyKey, status int, orgID uuid.UUID, nt NewTask,
	render func(Task) T) (out T, replayed bool, err error) {
	return idempotent(ctx, s, k, status, func(tx pgx.Tx) (T, error) {
		t, err := CreateTaskTx(ctx, tx, orgID, nt)
		if err != nil {
			var zero T
			return zero, err
		}
		return render(t), nil
	})
}

// LaunchAgentOnce launches an agent (LaunchAgentTx: the execution and its task) at most
// once per idempotency key (nil: no key); render makes the answer a replay returns.
func LaunchAgentOnce[T any](ctx context.Context, s *Store, k *IdempotencyKey, status int, orgID uuid.UUID, ne NewExecution,
	nt NewTask, render func(Execution, Task) T) (out T, replayed bool, err error) {
	return idempotent(ctx, s, k, status, func(tx pgx.Tx) (T, error) {
		e, t, err := LaunchAgentTx(ctx, tx, orgID, ne, nt)
		if err != nil {
			var zero T
			return zero, err
		}
		return render(e, t), nil
	})
}

// RunWorkflowOnce starts a workflow run (RunWorkflow's work) at most once per idempotency
// key (nil: no key); render makes the answer from the run's id, which a replay returns.
func RunWorkflowOnce[T any](ctx context.Context, s *Store, k *IdempotencyKey, status int, orgID, workflowID uuid.UUID, in NewRun,
	render func(runID uuid.UUID) T) (out T, replayed bool, err error) {
	return idempotent(ctx, s, k, status, func(tx pgx.Tx) (T, error) {
		id, err := runWorkflowTx(ctx, tx, orgID, workflowID, in)
		if err != nil {
			var zero T
			return zero, err
		}
		return render(id), nil
	})
}
