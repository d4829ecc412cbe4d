// Package poll is the tests' one way to wait: check a condition until it holds or a
// deadline passes, never a fixed sleep.
package poll

import (
	"testing"
	"time"
)

// Interval is how often Until checks.
const Interval = 20 * time.Millisecond

// Until checks cond every Interval until it holds, failing the test (naming what it
// waited for) when within passes first.
func Until(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(Interval)
	}
}
