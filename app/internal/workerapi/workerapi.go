// Package workerapi is the contract of the worker API (/api/v1/worker/*): the request and
// response bodies the server (httpapi) declares and validates, and the worker daemon
// (workerd) sends and reads. One set of types on both sides, so the two cannot drift.
// The type names are the OpenAPI document's schema names.
package workerapi

import (
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
)

// Paths of the worker API, under the API prefix.
const (
	HeartbeatPath = "/worker/heartbeat"
	ClaimPath     = "/worker/claim"
)

// TaskLogsPath, TaskCompletePath and TaskFailPath are a task's report paths.
func TaskLogsPath(id uuid.UUID) string     { return "/worker/tasks/" + id.String() + "/logs" }
func TaskCompletePath(id uuid.UUID) string { return "/worker/tasks/" + id.String() + "/complete" }
func TaskFailPath(id uuid.UUID) string     { return "/worker/tasks/" + id.String() + "/fail" }

// AgentTypeName is an agent type as a request names it (bounded like the schema's CHECK).
type AgentTypeName string

func (AgentTypeName) Schema(huma.Registry) *huma.Schema {
	max := 40
	return &huma.Schema{Type: huma.TypeString, MaxLength: &max, Pattern: "^[a-z][a-z0-9_-]{0,39}$"}
}

// HeartbeatInputBody says the worker is alive (POST /worker/heartbeat).
type HeartbeatInputBody struct {
	TaskIDs      []uuid.UUID `json:"task_ids,omitempty" maxItems:"64" doc:"The tasks it is running; every task it holds when omitted"`
	Version      *string     `json:"version,omitempty" maxLength:"64"`
	LeaseSeconds int         `json:"lease_seconds,omitempty" minimum:"1" maximum:"600" doc:"Renew leases for this long (default 60)"`
}

// HeartbeatOut tells a worker what to stop.
type HeartbeatOut struct {
	Cancel       []uuid.UUID `json:"cancel" doc:"Tasks to stop now: cancelled, or no longer this worker's"`
	LeaseSeconds int         `json:"lease_seconds" doc:"How long the renewed leases last"`
}

// ClaimInputBody asks for work (POST /worker/claim).
type ClaimInputBody struct {
	AgentTypes   []AgentTypeName `json:"agent_types,omitempty" maxItems:"20" doc:"Only these of the worker's agent types"`
	Max          int             `json:"max,omitempty" minimum:"1" maximum:"16" default:"1" doc:"At most this many tasks"`
	LeaseSeconds int             `json:"lease_seconds,omitempty" minimum:"1" maximum:"600" doc:"Lease length (default 60); heartbeat at least three times per lease"`
}

// WorkerTask is a claimed task with all a worker needs to run it.
type WorkerTask struct {
	ID             uuid.UUID      `json:"id"`
	ExecutionID    *uuid.UUID     `json:"execution_id" nullable:"true"`
	WorkflowRunID  *uuid.UUID     `json:"workflow_run_id" nullable:"true"`
	Name           string         `json:"name"`
	Priority       string         `json:"priority" enum:"P0,P1,P2"`
	AgentType      string         `json:"agent_type"`
	Repository     *string        `json:"repository" doc:"owner/name"`
	IssueNumber    *int           `json:"issue_number"`
	Metadata       map[string]any `json:"metadata"`
	Options        map[string]any `json:"options" doc:"The execution's options"`
	TimeoutSeconds int            `json:"timeout_seconds"`
	RetryCount     int            `json:"retry_count"`
	LeaseExpiresAt time.Time      `json:"lease_expires_at"`
}

// ClaimOut is what a claim handed out (possibly nothing).
type ClaimOut struct {
	Tasks        []WorkerTask `json:"tasks"`
	LeaseSeconds int          `json:"lease_seconds"`
}

// LogLineIn is one line an agent wrote.
type LogLineIn struct {
	Stream  string `json:"stream,omitempty" enum:"stdout,stderr,system" default:"stdout"`
	Message string `json:"message" maxLength:"8192"`
}

// TaskLogsInputBody is a batch of a task's log lines (POST /worker/tasks/{id}/logs).
type TaskLogsInputBody struct {
	Lines []LogLineIn `json:"lines" minItems:"1" maxItems:"500" doc:"In the order they were written"`
}

// LogsOut says how many lines were kept.
type LogsOut struct {
	Stored int `json:"stored" doc:"Lines stored (0 for a task without an execution, which keeps no log)"`
}

// CompleteInputBody reports a task done (POST /worker/tasks/{id}/complete).
type CompleteInputBody struct {
	PRNumber     *int     `json:"pr_number,omitempty" minimum:"1" maximum:"2147483647"`
	QualityScore *float64 `json:"quality_score,omitempty" minimum:"0" maximum:"100"`
	Summary      *string  `json:"summary,omitempty" maxLength:"10000"`
}

// FailInputBody reports a task failed (POST /worker/tasks/{id}/fail).
type FailInputBody struct {
	Error     string `json:"error" minLength:"1" maxLength:"10000"`
	Retryable bool   `json:"retryable,omitempty" doc:"Worth another attempt (a timeout, a shutdown); the task is requeued while retries remain"`
}

// TaskMovedOut is where a task went after a worker's report.
type TaskMovedOut struct {
	ID     uuid.UUID `json:"id"`
	Status string    `json:"status" enum:"pending,running,completed,failed,cancelled" doc:"pending when a retryable failure was requeued"`
}

// Paths of the live events, which workers use to hear of work (work.available).
const (
	EventsTicketPath = "/events/ticket"
	EventsPath       = "/events"
)

// EventsTicket opens the events WebSocket once (POST /events/ticket, for a person's
// token or a worker token): GET /events?ticket=...
type EventsTicket struct {
	Ticket    string    `json:"ticket" doc:"Single-use; pass it as ?ticket= to GET /events"`
	ExpiresAt time.Time `json:"expires_at"`
}
