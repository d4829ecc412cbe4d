package workerd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miyabi/miyabi/app/internal/workerapi"
)

// Log shipping bounds: what the API accepts per batch and line, and how many lines may
// wait before the agent's writes block (back-pressure instead of unbounded memory).
const (
	maxBatchLines = 500
	maxBatchBytes = 512 << 10
	maxLineBytes  = 8 << 10
	logBuffer     = 2000
	flushEvery    = 250 * time.Millisecond
	// killAfter is how long a stopped agent may take to exit on SIGTERM before SIGKILL.
	killAfter = 3 * time.Second
)

type logLine = workerapi.LogLineIn

// taskRun is one claimed task: its process, its logs, its report.
type taskRun struct {
	task   Task
	d      *Daemon
	ctx    context.Context // ends when the task must stop (cancel, timeout, shutdown)
	cancel context.CancelCauseFunc
	log    *slog.Logger
}

// outcome is what the API is told when the process is over.
type outcome struct {
	complete  bool
	result    Result
	err       string
	retryable bool
	// silent: the API already ended the task (cancelled, or the lease went elsewhere)
	silent bool
}

func (r *taskRun) run(killCtx, deliverCtx context.Context) {
	timeout := time.Duration(r.task.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = 30 * time.Minute
	}
	ctx, cancel := context.WithTimeoutCause(r.ctx, timeout, errTimeout)
	defer cancel()
	out := r.execute(ctx, deliverCtx)
	r.report(deliverCtx, out)
}

func (r *taskRun) vars() map[string]string {
	v := map[string]string{"agent_type": r.task.AgentType, "task_id": r.task.ID.String(), "repository": "", "issue_number": "", "execution_id": ""}
	if r.task.Repository != nil {
		v["repository"] = *r.task.Repository
	}
	if r.task.IssueNumber != nil {
		v["issue_number"] = strconv.Itoa(*r.task.IssueNumber)
	}
	if r.task.ExecutionID != nil {
		v["execution_id"] = r.task.ExecutionID.String()
	}
	return v
}

// execute runs the agent command and decides the outcome.
func (r *taskRun) execute(ctx, deliverCtx context.Context) outcome {
	vars := r.vars()
	argv := Expand(r.d.cfg.Command, vars)
	cmd := exec.Command(argv[0], argv[1:]...)
	options, _ := json.Marshal(r.task.Options)
	cmd.Env = append(os.Environ(), "MIYABI_TASK_ID="+vars["task_id"], "MIYABI_EXECUTION_ID="+vars["execution_id"],
		"MIYABI_AGENT_TYPE="+vars["agent_type"], "MIYABI_REPOSITORY="+vars["repository"], "MIYABI_ISSUE_NUMBER="+vars["issue_number"],
		"MIYABI_TASK_OPTIONS="+string(options))
	cmd.SysProcAttr = processGroup()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return outcome{err: "start agent: " + err.Error()}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return outcome{err: "start agent: " + err.Error()}
	}
	shipper := newShipper(deliverCtx, r)
	if err := cmd.Start(); err != nil {
		shipper.close()
		return outcome{err: fmt.Sprintf("start agent %q: %v", argv[0], err)}
	}
	r.log.Info("task started", "pid", cmd.Process.Pid)

	// stop the whole process group when the task must end
	exited := make(chan struct{})
	go func() {
		select {
		case <-exited:
			return
		case <-ctx.Done():
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(killAfter):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}()

	var (
		readers    sync.WaitGroup
		lastJSON   string
		lastStderr string
	)
	readers.Add(2)
	go func() {
		defer readers.Done()
		readLines(stdout, func(line string) {
			if t := strings.TrimSpace(line); strings.HasPrefix(t, "{") && json.Valid([]byte(t)) {
				lastJSON = t
			}
			shipper.add(logLine{Stream: "stdout", Message: line})
		})
	}()
	go func() {
		defer readers.Done()
		readLines(stderr, func(line string) {
			if strings.TrimSpace(line) != "" {
				lastStderr = line
			}
			shipper.add(logLine{Stream: "stderr", Message: line})
		})
	}()
	readers.Wait()
	waitErr := cmd.Wait()
	close(exited)
	// a process that left children holding the pipes is gone; its group goes with it
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)

	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, errCancelled):
		shipper.close()
		return outcome{silent: true}
	case errors.Is(cause, errShutdown):
		shipper.add(logLine{Stream: "system", Message: "worker shutting down: task stopped, to be retried"})
		shipper.close()
		return outcome{err: errShutdown.Error(), retryable: true}
	case errors.Is(cause, errTimeout):
		msg := fmt.Sprintf("timed out after %ds", r.task.TimeoutSeconds)
		shipper.add(logLine{Stream: "system", Message: msg})
		shipper.close()
		return outcome{err: msg}
	case errors.Is(cause, ErrRevoked):
		shipper.close()
		return outcome{silent: true}
	case errors.Is(cause, errLogsLost):
		shipper.close()
		return outcome{err: fmt.Sprintf("%v: %v", errLogsLost, shipper.failure())}
	}
	shipper.close()
	if waitErr != nil {
		msg := waitErr.Error()
		if lastStderr != "" {
			msg += ": " + lastStderr
		}
		return outcome{err: msg}
	}
	res, _ := ParseResult(lastJSON)
	return outcome{complete: true, result: res}
}

// readLines calls fn for each line of rd, splitting lines longer than the API takes.
func readLines(rd io.Reader, fn func(string)) {
	br := bufio.NewReaderSize(rd, 64<<10)
	for {
		line, err := br.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		for len(line) > maxLineBytes {
			cut := maxLineBytes
			for cut > 0 && !isRuneStart(line[cut]) {
				cut--
			}
			fn(line[:cut])
			line = line[cut:]
		}
		if line != "" || err == nil {
			fn(line)
		}
		if err != nil {
			return
		}
	}
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// report hands the outcome to the API, retrying until it is accepted or the API says it
// can never be (the task is no longer this worker's): a finished result is never dropped
// because the API was briefly away.
func (r *taskRun) report(ctx context.Context, o outcome) {
	if o.silent {
		r.log.Info("task stopped; nothing to report", "cause", context.Cause(r.ctx))
		return
	}
	var path string
	var body any
	if o.complete {
		path = workerapi.TaskCompletePath(r.task.ID)
		body = workerapi.CompleteInputBody(o.result)
	} else {
		path = workerapi.TaskFailPath(r.task.ID)
		body = workerapi.FailInputBody{Error: o.err, Retryable: o.retryable}
	}
	var moved workerapi.TaskMovedOut
	err := r.d.api.retry(ctx, path, body, &moved)
	if errors.Is(err, ErrGaveUp) && o.complete {
		// the API took every attempt at the result and failed it: fail the task with the
		// reason (bounded too), so it does not sit running until its lease expires
		r.log.Warn("the result could not be delivered; failing the task", "error", err)
		path = "/worker/tasks/" + r.task.ID.String() + "/fail"
		body = map[string]any{"error": "the worker could not deliver the result: " + err.Error(), "retryable": true}
		err = r.d.api.retry(ctx, path, body, &moved)
	}
	if err != nil && statusOf(err) == 422 && o.complete {
		// the agent's result does not fit the API (a negative PR number, say): keep the
		// completion, lose the bad fields, and say so in the log
		r.log.Warn("result refused; completing without it", "result", o.result, "error", err)
		summary := "result refused by the API: " + err.Error()
		err = r.d.api.retry(ctx, path, workerapi.CompleteInputBody{Summary: &summary}, &moved)
	}
	switch {
	case err == nil:
		r.log.Info("task reported", "status", moved.Status, "error", o.err)
	case statusOf(err) != 0:
		r.log.Warn("the API refused the report: the task is no longer this worker's", "error", err)
	default:
		line, _ := json.Marshal(map[string]any{"task_id": r.task.ID, "path": path, "body": body})
		r.log.Error("gave up reporting the task before exit; undelivered report follows", "error", err, "report", string(line))
	}
}
