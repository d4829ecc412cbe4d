package workerd

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/workerapi"
)

// Task is a claimed task as the API hands it out (the server's own type).
type Task = workerapi.WorkerTask

// Why a task's process was stopped before it finished.
var (
	errCancelled = errors.New("cancelled: the API told this worker to stop the task")
	errShutdown  = errors.New("the worker shut down before the task finished")
	errTimeout   = errors.New("timed out")
	// errLogsLost: the API refused the task's log lines on every attempt
	errLogsLost = errors.New("the task's output could not be delivered to the API")
)

// ErrRevoked means the API no longer accepts this worker's token.
var ErrRevoked = errors.New("the API refused the worker token (revoked or unknown)")

// Daemon runs tasks for one worker.
type Daemon struct {
	cfg Config
	api *Client
	log *slog.Logger

	mu      sync.Mutex
	running map[uuid.UUID]*taskRun // from claim until the API accepted its result
	freed   chan struct{}          // a slot came free, or work.available arrived
	fatal   chan error
	live    atomic.Bool // the events WebSocket is connected
}

// New builds a daemon; Run starts it.
func New(cfg Config, log *slog.Logger) *Daemon {
	api := NewClient(cfg.APIURL, cfg.Token, log)
	if cfg.Retries > 0 {
		api.maxAttempts = cfg.Retries
	}
	return &Daemon{cfg: cfg, api: api, log: log,
		running: map[uuid.UUID]*taskRun{}, freed: make(chan struct{}, 1), fatal: make(chan error, 1)}
}

// Run claims and runs tasks until ctx ends (SIGTERM), then stops claiming, lets running
// tasks finish for up to the grace period, fails the rest as retryable, hands over every
// finished result it can, and returns.
func (d *Daemon) Run(ctx context.Context) error {
	// kill ends the processes still running after the grace period; deliver bounds the
	// reporting that follows. Neither ends with ctx: a SIGTERM must not lose results.
	killCtx, kill := context.WithCancelCause(context.WithoutCancel(ctx))
	defer kill(nil)
	deliverCtx, stopDelivering := context.WithCancel(context.WithoutCancel(ctx))
	defer stopDelivering()
	hbCtx, stopHeartbeat := context.WithCancel(context.WithoutCancel(ctx))
	var hbDone sync.WaitGroup
	hbDone.Add(1)
	go func() { defer hbDone.Done(); d.heartbeats(hbCtx) }()
	defer func() { stopHeartbeat(); hbDone.Wait() }()

	if d.cfg.Live {
		liveCtx, stopLive := context.WithCancel(ctx)
		var liveDone sync.WaitGroup
		liveDone.Add(1)
		go func() { defer liveDone.Done(); d.subscribe(liveCtx) }()
		defer func() { stopLive(); liveDone.Wait() }()
	}

	var tasks sync.WaitGroup
	d.log.Info("worker started", "api", d.cfg.APIURL, "concurrency", d.cfg.Concurrency, "command", d.cfg.Command[0], "version", d.cfg.Version)
	fatal := d.claimLoop(ctx, killCtx, deliverCtx, &tasks)

	done := make(chan struct{})
	go func() { tasks.Wait(); close(done) }()
	if fatal != nil {
		kill(fatal)
	} else if n := d.count(); n > 0 {
		d.log.Info("stopping: waiting for running tasks", "tasks", n, "grace", d.cfg.Grace)
	}
	grace := time.NewTimer(d.cfg.Grace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		d.log.Warn("grace period over: stopping the tasks still running", "tasks", d.count())
		kill(errShutdown)
		deadline := time.NewTimer(d.cfg.Deliver)
		defer deadline.Stop()
		select {
		case <-done:
		case <-deadline.C:
			stopDelivering()
			<-done
		}
	}
	d.log.Info("worker stopped")
	return fatal
}

func (d *Daemon) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.running)
}

// claimLoop claims while there is room, until ctx ends or the token is refused.
func (d *Daemon) claimLoop(ctx, killCtx, deliverCtx context.Context, tasks *sync.WaitGroup) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-d.fatal:
			return err
		default:
		}
		free := d.cfg.Concurrency - d.count()
		if free <= 0 {
			if !d.wait(ctx, 0) {
				return nil
			}
			continue
		}
		var out workerapi.ClaimOut
		types := make([]workerapi.AgentTypeName, len(d.cfg.AgentTypes))
		for i, t := range d.cfg.AgentTypes {
			types[i] = workerapi.AgentTypeName(t)
		}
		// a plain call, not retry: if a claim's answer is lost, retrying would claim again
		// and orphan the first tasks; the next poll is the retry
		err := d.api.call(ctx, workerapi.ClaimPath, workerapi.ClaimInputBody{Max: min(free, 16), AgentTypes: types,
			LeaseSeconds: int(d.cfg.Lease.Seconds())}, &out)
		if statusOf(err) == 401 {
			return ErrRevoked
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			d.log.Error("claim refused", "error", err)
			if !d.wait(ctx, d.cfg.Poll) {
				return nil
			}
			continue
		}
		for _, t := range out.Tasks {
			r := d.start(killCtx, t)
			tasks.Add(1)
			go func() {
				defer tasks.Done()
				r.run(killCtx, deliverCtx)
				d.mu.Lock()
				delete(d.running, t.ID)
				d.mu.Unlock()
				select {
				case d.freed <- struct{}{}:
				default:
				}
			}()
		}
		if len(out.Tasks) == 0 && !d.wait(ctx, d.idlePoll()) {
			return nil
		}
	}
}

// idlePoll is the wait after an empty claim: long while work.available will wake us.
func (d *Daemon) idlePoll() time.Duration {
	if d.live.Load() {
		return d.cfg.IdlePoll
	}
	return d.cfg.Poll
}

// nudge wakes the claim loop.
func (d *Daemon) nudge() {
	select {
	case d.freed <- struct{}{}:
	default:
	}
}

// wait sleeps for d (forever when 0) or until a slot frees; false when ctx ended.
func (d *Daemon) wait(ctx context.Context, dur time.Duration) bool {
	var timer <-chan time.Time
	if dur > 0 {
		t := time.NewTimer(dur)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
		return false
	case <-d.freed:
	case <-timer:
	}
	return true
}

func (d *Daemon) start(killCtx context.Context, t Task) *taskRun {
	ctx, cancel := context.WithCancelCause(killCtx)
	r := &taskRun{task: t, d: d, ctx: ctx, cancel: cancel, log: d.log.With("task_id", t.ID, "agent_type", t.AgentType)}
	d.mu.Lock()
	d.running[t.ID] = r
	d.mu.Unlock()
	return r
}

// heartbeats tells the API every interval which tasks this worker runs (renewing their
// leases) and stops those it answers back.
func (d *Daemon) heartbeats(ctx context.Context) {
	tick := time.NewTicker(d.cfg.Heartbeat)
	defer tick.Stop()
	for {
		d.mu.Lock()
		ids := make([]uuid.UUID, 0, len(d.running))
		for id := range d.running {
			ids = append(ids, id)
		}
		d.mu.Unlock()
		var out workerapi.HeartbeatOut
		// one attempt per beat: the next beat is the retry
		version := d.cfg.Version
		callCtx, cancel := context.WithTimeout(ctx, d.cfg.Heartbeat)
		err := d.api.call(callCtx, workerapi.HeartbeatPath, workerapi.HeartbeatInputBody{TaskIDs: ids, Version: &version,
			LeaseSeconds: int(d.cfg.Lease.Seconds())}, &out)
		cancel()
		switch {
		case statusOf(err) == 401:
			select {
			case d.fatal <- ErrRevoked:
			default:
			}
		case err != nil && ctx.Err() == nil:
			d.log.Warn("heartbeat failed", "error", err)
		}
		for _, id := range out.Cancel {
			d.mu.Lock()
			r := d.running[id]
			d.mu.Unlock()
			if r != nil {
				r.log.Info("the API cancelled the task: stopping it")
				r.cancel(errCancelled)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
