package store

import (
	"context"
	"errors"
	"net"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// ErrSessionEnded means the session was revoked, expired or never existed.
var ErrSessionEnded = &domain.Error{Code: domain.CodeUnauthorized, Message: "Your session has ended; sign in again."}

// errUnavailable is what a caller sees when the database cannot answer.
const errUnavailable = "The database is unavailable; try again shortly."

// DomainError maps what the driver returns into the domain's codes, so no layer above
// the store needs to know pgx: a database that cannot be reached, is out of room or is
// shutting down, or a pool that stayed exhausted past the request deadline, is
// CodeUnavailable (503); a domain error passes unchanged; anything else is returned as
// is (an internal error).
func DomainError(err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	if unavailable(err) {
		return &domain.Error{Code: domain.CodeUnavailable, Message: errUnavailable, Err: err}
	}
	return err
}

func unavailable(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", "53", "57": // connection exception, insufficient resources, operator intervention
			return true
		}
	}
	return pgconn.SafeToRetry(err)
}

// notFound maps pgx.ErrNoRows to a domain 404 for the named object.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return domain.NotFound(what)
	}
	return err
}
