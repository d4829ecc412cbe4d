// Package events is Miyabi's live updates: the events the database triggers announce
// (migration 00012), who may read each one, and their delivery to WebSocket clients,
// by a Hub of in-process connections fed by LISTEN/NOTIFY (the local server) or by a
// Fanout through API Gateway's @connections endpoint (AWS).
package events

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/perm"
	"github.com/miyabi/miyabi/app/internal/store"
)

// The event types of the protocol (api.md, issue 15).
const (
	TypeExecutionUpdated   = "execution.updated"
	TypeExecutionLog       = "execution.log"
	TypeTaskUpdated        = "task.updated"
	TypeWorkflowRunUpdated = "workflow_run.updated"
	TypeWorkerUpdated      = "worker.updated"
	TypeSummaryChanged     = "summary.changed"
	TypeWorkAvailable      = "work.available"
	// TypeConnected is the first message of every connection: from then on every change
	// reaches it, so a client refetches what it shows once it arrives.
	TypeConnected = "connected"
	// TypeFollowing acknowledges a follow or unfollow (data.following).
	TypeFollowing = "following"
	// TypeError answers a client message that was understood but refused.
	TypeError = "error"
	// typeAuthChanged travels in the AWS outbox only: a session, membership or worker
	// changed and the connections of that caller are checked again.
	typeAuthChanged = "auth.changed"
)

// Event is one message to clients. ID is the object it is about (the ordering key);
// At is when it was emitted.
type Event struct {
	Type           string          `json:"type"`
	OrganizationID uuid.UUID       `json:"organization_id"`
	ID             uuid.UUID       `json:"id"`
	At             string          `json:"at"`
	TeamID         *uuid.UUID      `json:"team_id,omitempty"`
	Data           json.RawMessage `json:"data"`

	agentTypes []string // work.available: which agent types got work
	count      int      // work.available: how many tasks
}

// parseEvent reads a trigger's payload.
func parseEvent(payload []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return ev, err
	}
	if ev.Type == TypeWorkAvailable {
		var d struct {
			AgentTypes []string `json:"agent_types"`
			Count      int      `json:"count"`
		}
		_ = json.Unmarshal(ev.Data, &d)
		ev.agentTypes, ev.count = d.AgentTypes, d.Count
	}
	if len(ev.Data) == 0 {
		ev.Data = json.RawMessage(`{}`)
	}
	return ev, nil
}

// summaryChanged is the event that tells an overview to refetch its numbers.
func summaryChanged(org uuid.UUID, now time.Time) Event {
	return Event{Type: TypeSummaryChanged, OrganizationID: org, ID: org,
		At: now.UTC().Format(time.RFC3339Nano), Data: json.RawMessage(`{}`)}
}

// movesSummary reports whether an event changes the overview's numbers.
func movesSummary(t string) bool {
	switch t {
	case TypeExecutionUpdated, TypeTaskUpdated, TypeWorkerUpdated, TypeWorkflowRunUpdated:
		return true
	}
	return false
}

// permissionFor is the permission a person needs to read an event of that type: the
// same as the route that shows the object.
func permissionFor(t string) perm.Permission {
	switch t {
	case TypeExecutionUpdated, TypeExecutionLog, TypeWorkerUpdated:
		return perm.AgentsRead
	case TypeTaskUpdated:
		return perm.TasksRead
	case TypeWorkflowRunUpdated:
		return perm.WorkflowsRead
	case TypeSummaryChanged:
		return perm.OrganizationRead
	}
	return ""
}

// Caller is who holds a connection, and what they may read.
type Caller struct {
	store.EventCaller
	Grants store.EventGrants
}

// IsWorker reports whether a worker holds the connection.
func (c *Caller) IsWorker() bool { return c.WorkerID != nil }

// May reports whether the caller may read the event: only their organization's, a
// person's through their permissions (organization-wide, or their team role on the
// object's team), a worker's only the work it can run.
func (c *Caller) May(ev *Event) bool {
	if ev.OrganizationID != c.OrgID {
		return false
	}
	if c.IsWorker() {
		return ev.Type == TypeWorkAvailable && slices.ContainsFunc(ev.agentTypes, func(t string) bool {
			return slices.Contains(c.Grants.AgentTypes, t)
		})
	}
	need := string(permissionFor(ev.Type))
	if need == "" {
		return false
	}
	if slices.Contains(c.Grants.Permissions, need) {
		return true
	}
	return ev.TeamID != nil && slices.Contains(c.Grants.Teams[*ev.TeamID], need)
}

// MayFollow reports whether the caller may follow the logs of an execution of a team.
func (c *Caller) MayFollow(team *uuid.UUID) bool {
	if c.IsWorker() {
		return false
	}
	if slices.Contains(c.Grants.Permissions, string(perm.AgentsRead)) {
		return true
	}
	return team != nil && slices.Contains(c.Grants.Teams[*team], string(perm.AgentsRead))
}

// ClientMessage is what a client may send.
type ClientMessage struct {
	Action      string    `json:"action"`
	ExecutionID uuid.UUID `json:"execution_id"`
}

// MalformedReason is the close reason of a message that is not a ClientMessage.
const MalformedReason = `malformed message: want {"action":"follow"|"unfollow","execution_id":"<uuid>"}`

// parseClientMessage reads a client message strictly.
func parseClientMessage(b []byte) (ClientMessage, bool) {
	var m ClientMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return m, false
	}
	if (m.Action != "follow" && m.Action != "unfollow") || m.ExecutionID == uuid.Nil {
		return m, false
	}
	return m, true
}

// errorMessage is an error event to one client.
func errorMessage(org uuid.UUID, id uuid.UUID, detail string, now time.Time) []byte {
	d, _ := json.Marshal(map[string]string{"detail": detail})
	b, _ := json.Marshal(Event{Type: TypeError, OrganizationID: org, ID: id, At: now.UTC().Format(time.RFC3339Nano), Data: d})
	return b
}

// followingMessage acknowledges a follow or an unfollow.
func followingMessage(org, id uuid.UUID, following bool, now time.Time) []byte {
	d, _ := json.Marshal(map[string]bool{"following": following})
	b, _ := json.Marshal(Event{Type: TypeFollowing, OrganizationID: org, ID: id, At: now.UTC().Format(time.RFC3339Nano), Data: d})
	return b
}

// nudgeLimit is how many workers hear of n claimable tasks: enough that a busy or
// unlucky one does not matter, few enough that 1,000 idle workers do not all claim at
// once for one task (a worker not told claims at its safety poll).
func nudgeLimit(n int) int { return 2*max(n, 1) + 2 }

// MaxFollowing bounds how many executions one connection follows at once.
const MaxFollowing = 20
