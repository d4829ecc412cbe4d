// Package migrations holds the database schema as goose SQL migrations, embedded so
// that one binary can migrate its own database (locally, in tests and on Lambda).
package migrations

import "embed"

// FS is every migration file, in goose's naming order.
//
//go:embed *.sql
var FS embed.FS
