package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/miyabi/miyabi/app/internal/config"
)

// OPERATOR_GITHUB_IDS takes numeric GitHub ids (commas, spaces allowed); a login is
// refused at start with the variable named, since a login can be renamed and taken.
func TestOperatorGitHubIDs(t *testing.T) {
	env := func(ids string) func(string) string {
		return func(k string) string {
			return map[string]string{"APP_ENV": "development", "DATABASE_URL": "postgres://x", "OPERATOR_GITHUB_IDS": ids}[k]
		}
	}
	c, err := config.Load(env("583231, 9919"))
	if err != nil || !slices.Equal(c.OperatorGitHubIDs, []int64{583231, 9919}) {
		t.Fatalf("ids: %v %v", c.OperatorGitHubIDs, err)
	}
	if c, err := config.Load(env("")); err != nil || len(c.OperatorGitHubIDs) != 0 {
		t.Fatalf("none: %v %v", c.OperatorGitHubIDs, err)
	}
	for _, bad := range []string{"octocat", "12,-3", "0"} {
		if _, err := config.Load(env(bad)); err == nil || !strings.Contains(err.Error(), "OPERATOR_GITHUB_IDS") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
