// The dependency-lock benchmark (issue 14, finding 1): bench/deplock/run.sh prints its table.

package httpapi_test

import (
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

type chainTask struct {
	ID uuid.UUID `json:"id"`
}

func pct(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

func msOf(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

// BenchmarkOtherTenantWhileChainsGrow: organization A creates a task depending on one of
// its tasks, 150 times alone, then 150 times while organization B builds chains of 250
// tasks with 20 dependencies each (the per-task cap) as fast as it can; the medians are
// compared in the one run.
func BenchmarkOtherTenantWhileChainsGrow(b *testing.B) {
	env := apitest.New(b)
	alice, bob := env.Login("alice"), env.Login("bob")
	var root chainTask
	alice.Do("POST", "/tasks", map[string]any{"name": "root"}).Expect(201).JSON(&root)
	measure := func(n int) []time.Duration {
		out := make([]time.Duration, 0, n)
		for i := range n {
			start := time.Now()
			alice.Do("POST", "/tasks", map[string]any{"name": fmt.Sprintf("a%d", i), "depends_on": []uuid.UUID{root.ID}}).Expect(201)
			out = append(out, time.Since(start))
		}
		return out
	}
	b.ResetTimer()
	for range b.N {
		alone := measure(150)

		stop := make(chan struct{})
		done := make(chan struct{})
		var built atomic.Int64
		var bLat []time.Duration
		go func() {
			defer close(done)
			var chain []uuid.UUID
			for {
				select {
				case <-stop:
					return
				default:
				}
				if len(chain) == 250 {
					chain = chain[:0]
				}
				deps := chain[max(0, len(chain)-20):]
				start := time.Now()
				r := bob.Do("POST", "/tasks", map[string]any{"name": "chain", "depends_on": deps})
				bLat = append(bLat, time.Since(start))
				var t chainTask
				if r.Status == 201 {
					r.JSON(&t)
					chain = append(chain, t.ID)
					built.Add(1)
				} else {
					chain = chain[:0] // a cap answered 422: start a new chain
				}
			}
		}()
		for built.Load() < 50 { // B's chains are long before A measures
			time.Sleep(10 * time.Millisecond)
		}
		during := measure(150)
		close(stop)
		<-done

		fmt.Fprintf(os.Stdout, "\n| organization A: POST /tasks with a dependency | median ms | p90 ms |\n|---|---|---|\n")
		fmt.Fprintf(os.Stdout, "| alone | %s | %s |\n", msOf(pct(alone, .5)), msOf(pct(alone, .9)))
		fmt.Fprintf(os.Stdout, "| while B builds chains (250 tasks x 20 dependencies) | %s | %s |\n", msOf(pct(during, .5)), msOf(pct(during, .9)))
		fmt.Fprintf(os.Stdout, "| (B's own creations meanwhile: %d, median %s ms) | | |\n", len(bLat), msOf(pct(bLat, .5)))
		b.ReportMetric(float64(pct(alone, .5).Microseconds())/1000, "alone-median-ms")
		b.ReportMetric(float64(pct(during, .5).Microseconds())/1000, "during-median-ms")
	}
}
