package domain

// TaskStatus is where a task is in its life; an execution mirrors its task.
type TaskStatus string

const (
	TaskPending   TaskStatus = "pending"
	TaskRunning   TaskStatus = "running"
	TaskCompleted TaskStatus = "completed"
	TaskFailed    TaskStatus = "failed"
	TaskCancelled TaskStatus = "cancelled"
)

// Terminal reports whether nothing more happens to a task in this status (a failed task
// can still be retried by a person).
func (s TaskStatus) Terminal() bool {
	return s == TaskCompleted || s == TaskFailed || s == TaskCancelled
}

// TaskAction is something that moves a task.
type TaskAction string

const (
	ActStart    TaskAction = "start"    // pending -> running (a claim, or a person on manual work)
	ActComplete TaskAction = "complete" // running -> completed
	ActFail     TaskAction = "fail"     // running -> failed (or back to pending when retryable and retries remain)
	ActCancel   TaskAction = "cancel"   // pending|running -> cancelled
	ActRetry    TaskAction = "retry"    // failed -> pending while retries remain
	ActExpire   TaskAction = "expire"   // running -> pending, or failed when retries are spent (the sweeper)
)

// NextTaskStatus is the task state machine of api.md, in one place. retriesLeft says
// whether retry_count < max_retries; retryable is the worker's word on a failure.
func NextTaskStatus(from TaskStatus, act TaskAction, retryable, retriesLeft bool) (TaskStatus, error) {
	illegal := func() (TaskStatus, error) {
		return from, Errorf(CodeConflict, "cannot %s a task that is %s", act, from)
	}
	switch act {
	case ActStart:
		if from == TaskPending {
			return TaskRunning, nil
		}
	case ActComplete:
		if from == TaskRunning {
			return TaskCompleted, nil
		}
	case ActFail:
		if from == TaskRunning {
			if retryable && retriesLeft {
				return TaskPending, nil
			}
			return TaskFailed, nil
		}
	case ActCancel:
		if from == TaskPending || from == TaskRunning {
			return TaskCancelled, nil
		}
	case ActRetry:
		if from == TaskFailed {
			if !retriesLeft {
				return from, Errorf(CodeConflict, "cannot retry: the task has used all its retries")
			}
			return TaskPending, nil
		}
	case ActExpire:
		if from == TaskRunning {
			if retriesLeft {
				return TaskPending, nil
			}
			return TaskFailed, nil
		}
	default:
		return from, Errorf(CodeInvalid, "unknown task action %q", act)
	}
	return illegal()
}

// Priorities, most urgent first.
var Priorities = []string{"P0", "P1", "P2"}
