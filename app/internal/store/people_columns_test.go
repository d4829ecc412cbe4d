package store

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestPersonColumns(t *testing.T) {
	got := personColumns("e", "created_by", "cancelled_by")
	want := "e.created_by, (SELECT u.login FROM users u WHERE u.id = e.created_by) AS created_by_login, " +
		"e.cancelled_by, (SELECT u.login FROM users u WHERE u.id = e.cancelled_by) AS cancelled_by_login"
	if got != want {
		t.Fatalf("personColumns:\n got %s\nwant %s", got, want)
	}
	for name, c := range map[string]struct{ sel, cols string }{
		"executionSelect": {executionSelect, personColumns("e", "created_by", "cancelled_by")},
		"runSelect":       {runSelect, personColumns("r", "created_by", "cancelled_by")},
		"taskSelect":      {taskSelect, personColumns("t", "cancelled_by")},
	} {
		if !strings.Contains(c.sel, c.cols) {
			t.Errorf("%s does not read its people through personColumns", name)
		}
	}
}

// Who launched and who cancelled an execution, a run or a task is read in one place
// (personColumns, loginOf): no statement of the package joins users or selects a login
// for created_by or cancelled_by by itself.
func TestLoginsOfLauncherAndCancellerReadInOnePlace(t *testing.T) {
	own := regexp.MustCompile(`(?i)(JOIN\s+users\s+\w+\s+ON\s+\w+\.id\s*=\s*\w+\.(created_by|cancelled_by)\b)|` +
		`(SELECT\s+\w+\.login\s+FROM\s+users\s+\w+\s+WHERE\s+\w+\.id\s*=\s*\w+\.(created_by|cancelled_by)\b)`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "people_columns.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range own.FindAllString(string(b), -1) {
			t.Errorf("%s reads a login by itself (use personColumns or loginOf): %s", f, m)
		}
	}
}
