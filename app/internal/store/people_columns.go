package store

import "strings"

// personColumns selects, for each person column of the row aliased alias (created_by,
// cancelled_by), the column itself and beside it that person's login as
// <column>_login: the one place that reads who launched or cancelled an execution, a
// workflow run or a task. A login is read by primary key per row returned (lists are
// paged); a deleted person reads as null, like the column (ON DELETE SET NULL).
//
//	personColumns("e", "created_by", "cancelled_by")
//	// e.created_by, (SELECT u.login FROM users u WHERE u.id = e.created_by) AS created_by_login,
//	// e.cancelled_by, (SELECT u.login FROM users u WHERE u.id = e.cancelled_by) AS cancelled_by_login
func personColumns(alias string, columns ...string) string {
	parts := make([]string, 0, 2*len(columns))
	for _, c := range columns {
		col := alias + "." + c
		parts = append(parts, col, loginOf(col)+" AS "+c+"_login")
	}
	return strings.Join(parts, ", ")
}

// loginOf is the login of the person whose id is in column (null when none).
func loginOf(column string) string {
	return "(SELECT u.login FROM users u WHERE u.id = " + column + ")"
}
