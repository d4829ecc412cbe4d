package domain

import "testing"

func TestTaskStateMachine(t *testing.T) {
	all := []TaskStatus{TaskPending, TaskRunning, TaskCompleted, TaskFailed, TaskCancelled}
	acts := []TaskAction{ActStart, ActComplete, ActFail, ActCancel, ActRetry, ActExpire}
	type key struct {
		from               TaskStatus
		act                TaskAction
		retryable, retries bool
	}
	legal := map[key]TaskStatus{}
	for _, r := range []bool{false, true} {
		for _, l := range []bool{false, true} {
			legal[key{TaskPending, ActStart, r, l}] = TaskRunning
			legal[key{TaskRunning, ActComplete, r, l}] = TaskCompleted
			legal[key{TaskPending, ActCancel, r, l}] = TaskCancelled
			legal[key{TaskRunning, ActCancel, r, l}] = TaskCancelled
			legal[key{TaskRunning, ActFail, r, l}] = TaskFailed
			legal[key{TaskRunning, ActExpire, r, false}] = TaskFailed
			legal[key{TaskRunning, ActExpire, r, true}] = TaskPending
			legal[key{TaskFailed, ActRetry, r, true}] = TaskPending
		}
	}
	legal[key{TaskRunning, ActFail, true, true}] = TaskPending
	for _, from := range all {
		for _, act := range acts {
			for _, r := range []bool{false, true} {
				for _, l := range []bool{false, true} {
					got, err := NextTaskStatus(from, act, r, l)
					want, ok := legal[key{from, act, r, l}]
					switch {
					case ok && (err != nil || got != want):
						t.Errorf("%s %s (retryable=%v retriesLeft=%v): got %s, %v; want %s", act, from, r, l, got, err, want)
					case !ok && err == nil:
						t.Errorf("%s %s (retryable=%v retriesLeft=%v): allowed (-> %s), want refused", act, from, r, l, got)
					case !ok && ErrorCode(err) != CodeConflict:
						t.Errorf("%s %s: error code %s, want conflict", act, from, ErrorCode(err))
					}
				}
			}
		}
	}
}
