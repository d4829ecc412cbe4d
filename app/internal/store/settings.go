package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Names of the limits and quotas in the settings table (migration 00010). Each has a
// default there; an operator changes it with one UPDATE.
const (
	SettingMaxDependencyDepth       = "max_dependency_depth"
	SettingMaxDependenciesPerTask   = "max_dependencies_per_task"
	SettingMaxDependenciesPerOrg    = "max_dependencies_per_organization"
	SettingMaxOrganizationsPerUser  = "max_organizations_per_user"
	SettingMaxWorkersPerOrg         = "max_workers_per_organization"
	SettingMaxOpenInvitationsPerOrg = "max_open_invitations_per_organization"
	SettingMaxLogLinesPerExecution  = "max_log_lines_per_execution"
	SettingMaxLogBytesPerExecution  = "max_log_bytes_per_execution"
	SettingIdempotencyKeyTTLHours   = "idempotency_key_ttl_hours"
	SettingAuditRetentionDays       = "audit_retention_days"
)

// querier is what both a pool and a transaction offer.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// setting reads one limit from the settings table.
func setting(ctx context.Context, q querier, name string) (int64, error) {
	var v int64
	err := q.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("setting %s is missing from the settings table", name)
	}
	if err != nil {
		return 0, fmt.Errorf("read setting %s: %w", name, err)
	}
	return v, nil
}

// Setting reads one limit from the settings table.
func (s *Store) Setting(ctx context.Context, name string) (int64, error) {
	return setting(ctx, s.pool, name)
}

// SetSetting changes one limit (operators and tests).
func (s *Store) SetSetting(ctx context.Context, name string, value int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE settings SET value = $2 WHERE name = $1`, name, value)
	if err != nil {
		return fmt.Errorf("set %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("no setting named %s", name)
	}
	return nil
}
