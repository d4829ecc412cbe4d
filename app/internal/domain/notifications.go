package domain

// Notification event types a channel subscribes to.
const (
	EventExecutionCompleted  = "execution.completed"
	EventExecutionFailed     = "execution.failed"
	EventExecutionCancelled  = "execution.cancelled"
	EventPROpened            = "pr.opened"
	EventWorkflowRunFinished = "workflow_run.finished"
	EventWorkerOffline       = "worker.offline"
	// EventTest is the "send a test message" delivery; no channel subscribes to it.
	EventTest = "test"
)

// NotificationEventTypes are the subscribable event types, in the order people see them.
var NotificationEventTypes = []string{EventExecutionCompleted, EventExecutionFailed, EventExecutionCancelled,
	EventPROpened, EventWorkflowRunFinished, EventWorkerOffline}

// Notification channel kinds.
const (
	ChannelLINE    = "line"
	ChannelSlack   = "slack"
	ChannelWebhook = "webhook"
)
