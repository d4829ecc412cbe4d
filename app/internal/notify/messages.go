package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/domain"
)

// Payload is what the outbox holds about an event: facts and ids, never log content,
// error text or secrets (those stay in the dashboard, behind sign-in).
type Payload struct {
	ExecutionID     *uuid.UUID `json:"execution_id,omitempty"`
	AgentType       string     `json:"agent_type,omitempty"`
	Status          string     `json:"status,omitempty"`
	Repository      *string    `json:"repository,omitempty"`
	IssueNumber     *int       `json:"issue_number,omitempty"`
	PRNumber        *int       `json:"pr_number,omitempty"`
	PRURL           string     `json:"pr_url,omitempty"`
	DurationSeconds *float64   `json:"duration_seconds,omitempty"`
	WorkflowRunID   *uuid.UUID `json:"workflow_run_id,omitempty"`
	WorkflowID      *uuid.UUID `json:"workflow_id,omitempty"`
	WorkflowName    string     `json:"workflow_name,omitempty"`
	WorkerID        *uuid.UUID `json:"worker_id,omitempty"`
	WorkerName      string     `json:"worker_name,omitempty"`
	LastHeartbeatAt *time.Time `json:"last_heartbeat_at,omitempty"`
	ChannelName     string     `json:"channel_name,omitempty"`
}

// Message is what a person reads: one short line and a link back to the dashboard.
type Message struct {
	Text string
	URL  string
}

// Render writes the message for an event in the organization's language (en or ja).
func Render(eventType string, raw json.RawMessage, lang, publicURL string) (Message, error) {
	var p Payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return Message{}, fmt.Errorf("payload: %w", err)
	}
	ja := lang == "ja"
	base := strings.TrimRight(publicURL, "/")
	repo := "?"
	if p.Repository != nil {
		repo = *p.Repository
	}
	issue := ""
	if p.IssueNumber != nil {
		issue = fmt.Sprintf(" (issue #%d)", *p.IssueNumber)
		if ja {
			issue = fmt.Sprintf("（issue #%d）", *p.IssueNumber)
		}
	}
	took := ""
	if p.DurationSeconds != nil {
		took = " — " + duration(*p.DurationSeconds, ja)
	}
	var m Message
	if p.ExecutionID != nil {
		m.URL = base + "/executions/" + p.ExecutionID.String()
	}
	switch eventType {
	case domain.EventExecutionCompleted:
		switch {
		case p.PRNumber != nil && ja:
			m.Text = fmt.Sprintf("✅ %s が %s に PR #%d を作成しました%s%s", p.AgentType, repo, *p.PRNumber, issue, took)
		case p.PRNumber != nil:
			m.Text = fmt.Sprintf("✅ %s opened PR #%d on %s%s%s", p.AgentType, *p.PRNumber, repo, issue, took)
		case ja:
			m.Text = fmt.Sprintf("✅ %s が %s で完了しました%s%s", p.AgentType, repo, issue, took)
		default:
			m.Text = fmt.Sprintf("✅ %s completed on %s%s%s", p.AgentType, repo, issue, took)
		}
	case domain.EventPROpened:
		pr := 0
		if p.PRNumber != nil {
			pr = *p.PRNumber
		}
		if ja {
			m.Text = fmt.Sprintf("🔀 %s が %s に PR #%d を作成しました%s", p.AgentType, repo, pr, issue)
		} else {
			m.Text = fmt.Sprintf("🔀 %s opened PR #%d on %s%s", p.AgentType, pr, repo, issue)
		}
	case domain.EventExecutionFailed:
		if ja {
			m.Text = fmt.Sprintf("❌ %s が %s で失敗しました%s%s", p.AgentType, repo, issue, took)
		} else {
			m.Text = fmt.Sprintf("❌ %s failed on %s%s%s", p.AgentType, repo, issue, took)
		}
	case domain.EventExecutionCancelled:
		if ja {
			m.Text = fmt.Sprintf("⏹ %s は %s でキャンセルされました%s", p.AgentType, repo, issue)
		} else {
			m.Text = fmt.Sprintf("⏹ %s was cancelled on %s%s", p.AgentType, repo, issue)
		}
	case domain.EventWorkflowRunFinished:
		if p.WorkflowRunID != nil {
			m.URL = base + "/workflow-runs/" + p.WorkflowRunID.String()
		}
		icon, en, jp := "🏁", "completed", "完了しました"
		switch p.Status {
		case "failed":
			icon, en, jp = "❌", "failed", "失敗しました"
		case "cancelled":
			icon, en, jp = "⏹", "was cancelled", "キャンセルされました"
		}
		on := ""
		if p.Repository != nil {
			on = " on " + repo
			if ja {
				on = "（" + repo + "）"
			}
		}
		if ja {
			m.Text = fmt.Sprintf("%s ワークフロー「%s」が%s%s%s", icon, p.WorkflowName, jp, on, took)
		} else {
			m.Text = fmt.Sprintf("%s Workflow %q %s%s%s", icon, p.WorkflowName, en, on, took)
		}
	case domain.EventWorkerOffline:
		m.URL = base + "/workers"
		since := ""
		if p.LastHeartbeatAt != nil {
			since = p.LastHeartbeatAt.UTC().Format("15:04 UTC")
		}
		if ja {
			m.Text = fmt.Sprintf("⚠️ ワーカー「%s」がオフラインです（最後のハートビート %s）", p.WorkerName, since)
		} else {
			m.Text = fmt.Sprintf("⚠️ Worker %q is offline (last heartbeat %s)", p.WorkerName, since)
		}
	case domain.EventTest:
		m.URL = base + "/notifications"
		if ja {
			m.Text = fmt.Sprintf("🔔 Miyabi からのテストメッセージです。チャンネル「%s」は動作しています。", p.ChannelName)
		} else {
			m.Text = fmt.Sprintf("🔔 Test message from Miyabi: the channel %q works.", p.ChannelName)
		}
	default:
		return Message{}, fmt.Errorf("unknown event type %q", eventType)
	}
	return m, nil
}

// duration reads like "2m 14s" (en) or "2分14秒" (ja).
func duration(secs float64, ja bool) string {
	d := time.Duration(secs) * time.Second
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0 && ja:
		return fmt.Sprintf("%d時間%d分", h, m)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case m > 0 && ja:
		return fmt.Sprintf("%d分%d秒", m, s)
	case m > 0:
		return fmt.Sprintf("%dm %ds", m, s)
	case ja:
		return fmt.Sprintf("%d秒", s)
	default:
		return fmt.Sprintf("%ds", s)
	}
}
