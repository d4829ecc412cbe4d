package workerd

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/miyabi/miyabi/app/internal/workerapi"
)

// shipper sends a task's output lines to the API in ordered batches. Lines wait in a
// bounded channel: when the API is slow or away the agent's writes block rather than
// the worker's memory growing without end.
type shipper struct {
	r     *taskRun
	lines chan logLine
	done  chan struct{}

	mu  sync.Mutex
	err error // why lines were given up on, when the API kept failing
}

// failure returns why the API never took some of the lines (nil when it took them all).
func (s *shipper) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func newShipper(ctx context.Context, r *taskRun) *shipper {
	s := &shipper{r: r, lines: make(chan logLine, logBuffer), done: make(chan struct{})}
	go s.loop(ctx)
	return s
}

func (s *shipper) add(l logLine) { s.lines <- l }

// close flushes what is left and waits for it to be sent (or given up).
func (s *shipper) close() {
	close(s.lines)
	<-s.done
}

func (s *shipper) loop(ctx context.Context) {
	defer close(s.done)
	var (
		batch  []logLine
		size   int
		dead   bool // the API refused: the task is no longer ours, drop what follows
		ticker = time.NewTicker(flushEvery)
	)
	defer ticker.Stop()
	flush := func() {
		if len(batch) == 0 || dead {
			batch, size = batch[:0], 0
			return
		}
		err := s.r.d.api.retry(ctx, workerapi.TaskLogsPath(s.r.task.ID), workerapi.TaskLogsInputBody{Lines: batch}, nil)
		if err != nil {
			s.r.log.Warn("logs dropped", "lines", len(batch), "error", err)
			dead = true
			if errors.Is(err, ErrGaveUp) {
				// the API keeps failing on this task's output: stop the task and fail it
				// with the reason instead of hanging on it
				s.mu.Lock()
				s.err = err
				s.mu.Unlock()
				s.r.cancel(errLogsLost)
			}
		}
		batch, size = batch[:0], 0
	}
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				flush()
				return
			}
			if size+len(l.Message) > maxBatchBytes {
				flush()
			}
			batch = append(batch, l)
			size += len(l.Message) + 32
			if len(batch) >= maxBatchLines {
				flush()
			}
		case <-ticker.C:
			flush()
		}
	}
}
