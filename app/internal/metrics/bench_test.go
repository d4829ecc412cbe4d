package metrics_test

import (
	"io"
	"testing"
	"time"

	"github.com/miyabi/miyabi/app/internal/metrics"
)

// What the metrics add to one request: ObserveRequest on the request path (a lock, an
// append, a histogram bucket), from many goroutines at once as the server calls it.
//
//	go test -run x -bench . ./app/internal/metrics/
func BenchmarkObserveRequest(b *testing.B) {
	r := metrics.New("Miyabi/bench", io.Discard)
	routes := []string{"GET /tasks", "GET /tasks/{id}", "POST /tasks", "GET /agents/executions/{id}/logs"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r.ObserveRequest(routes[i%len(routes)], 200, time.Duration(i%50)*time.Millisecond)
			i++
			if i%1000 == 0 { // the Lambda flushes after each invocation; a busy one, every 1,000
				r.Flush(nil)
			}
		}
	})
}

// Flushing on Lambda: the EMF lines of one invocation (one request) written after it
// answered.
func BenchmarkFlushOneRequest(b *testing.B) {
	r := metrics.New("Miyabi/bench", io.Discard)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.ObserveRequest("GET /tasks/{id}", 200, 3*time.Millisecond)
		r.Flush(&metrics.PoolStat{Acquires: int64(i), InUse: 1})
	}
}
