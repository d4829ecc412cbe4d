// Package ghreport reports executions back on their GitHub issues: one comment per
// execution, posted when it is queued and edited as it starts, completes or fails, plus
// one-off notices (why a label launched nothing). It delivers what the store's outbox
// (github_issue_comments) says is due: after commit in the API process (Kick) and from
// the sweeper; a lease keeps two deliverers from sending the same comment at once, and
// a failure is retried with backoff, never touching the execution.
package ghreport

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/miyabi/miyabi/app/internal/github"
	"github.com/miyabi/miyabi/app/internal/store"
)

// Reporter delivers due issue comments through the GitHub App.
type Reporter struct {
	Store *store.Store
	App   *github.App
	// PublicURL is the dashboard's base URL, for links to executions.
	PublicURL string
	Log       *slog.Logger

	kick chan struct{}
}

// New returns a reporter; app nil means no App (nothing is ever due then).
func New(st *store.Store, app *github.App, publicURL string, log *slog.Logger) *Reporter {
	return &Reporter{Store: st, App: app, PublicURL: strings.TrimRight(publicURL, "/"), Log: log, kick: make(chan struct{}, 1)}
}

// lease is how long a claimed comment is ours: longer than a GitHub call can take.
const lease = 30 * time.Second

// Kick asks the running loop to deliver now (after a commit that queued a comment).
func (r *Reporter) Kick() {
	if r == nil {
		return
	}
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run delivers whenever kicked, and every interval for what was missed or is due for a
// retry, until ctx ends.
func (r *Reporter) Run(ctx context.Context, interval time.Duration) {
	if r == nil || r.App == nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.kick:
		}
		if _, err := r.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			r.Log.Warn("issue comments: delivery round failed", "error", err)
		}
	}
}

// Delivery counts what one DeliverDue did: comments sent, and comments GitHub did not
// take (each recorded for a retry with backoff).
type Delivery struct{ Sent, Failed int }

// DeliverDue sends every comment that is due and answers how many were sent and how
// many failed; an error means the round itself stopped (the outbox could not be read or
// written).
func (r *Reporter) DeliverDue(ctx context.Context) (Delivery, error) {
	var d Delivery
	if r == nil || r.App == nil {
		return d, nil
	}
	for {
		jobs, err := r.Store.ClaimDueIssueComments(ctx, 20, lease)
		if err != nil {
			return d, err
		}
		for _, j := range jobs {
			if err := r.deliver(ctx, j); err != nil {
				d.Failed++
				r.Log.Warn("issue comment not delivered; retrying later", "repo", j.RepoFullName, "issue", j.IssueNumber,
					"execution_id", j.ExecutionID, "attempt", j.Attempts+1, "error", err)
				if ferr := r.Store.IssueCommentFailed(ctx, j.ID, err.Error()); ferr != nil {
					return d, ferr
				}
				continue
			}
			d.Sent++
		}
		if len(jobs) < 20 {
			return d, nil
		}
	}
}

func (r *Reporter) deliver(ctx context.Context, j store.IssueCommentJob) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	body := r.Render(j)
	commentID := int64(0)
	if j.CommentID != nil {
		commentID = *j.CommentID
		if err := r.App.EditComment(ctx, j.InstallationID, j.RepoFullName, commentID, body); err != nil {
			return err
		}
	} else {
		id, err := r.App.CreateComment(ctx, j.InstallationID, j.RepoFullName, j.IssueNumber, body)
		if err != nil {
			return err
		}
		commentID = id
	}
	return r.Store.IssueCommentDelivered(ctx, j.ID, j.Version, commentID)
}

// Render is the comment's text for the execution's current state.
func (r *Reporter) Render(j store.IssueCommentJob) string {
	if j.Body != nil {
		return *j.Body
	}
	if j.ExecutionID == nil || j.AgentType == nil || j.Status == nil {
		return "A Miyabi execution on this issue was removed."
	}
	link := fmt.Sprintf("%s/executions/%s", r.PublicURL, j.ExecutionID)
	who := ""
	if j.LaunchedBy != nil {
		who = " by @" + *j.LaunchedBy
	}
	agent := "**" + *j.AgentType + "**"
	var b strings.Builder
	switch *j.Status {
	case "pending":
		fmt.Fprintf(&b, "⏳ %s queued%s — [execution](%s)", agent, who, link)
	case "running":
		fmt.Fprintf(&b, "🏃 %s is running (launched%s) — [follow it](%s)", agent, who, link)
	case "completed":
		fmt.Fprintf(&b, "✅ %s completed (launched%s)", agent, who)
		if j.PRNumber != nil {
			url := fmt.Sprintf("https://github.com/%s/pull/%d", j.RepoFullName, *j.PRNumber)
			if j.PRURL != nil {
				url = *j.PRURL
			}
			fmt.Fprintf(&b, " — pull request [#%d](%s)", *j.PRNumber, url)
		}
		if j.QualityScore != nil {
			fmt.Fprintf(&b, " — quality score %.0f/100", *j.QualityScore)
		}
		fmt.Fprintf(&b, " — [execution](%s)", link)
		if j.Summary != nil && *j.Summary != "" {
			fmt.Fprintf(&b, "\n\n> %s", oneLine(*j.Summary, 500))
		}
	case "failed":
		msg := "no error given"
		if j.Error != nil && *j.Error != "" {
			msg = oneLine(*j.Error, 500)
		}
		fmt.Fprintf(&b, "❌ %s failed (launched%s): %s — [logs](%s)", agent, who, msg, link)
	case "cancelled":
		fmt.Fprintf(&b, "⏹️ %s was cancelled (launched%s) — [execution](%s)", agent, who, link)
	default:
		fmt.Fprintf(&b, "%s is %s — [execution](%s)", agent, *j.Status, link)
	}
	fmt.Fprintf(&b, "\n\n<!-- miyabi:execution:%s -->", j.ExecutionID)
	return b.String()
}

// oneLine keeps a message on one line and bounded: it lands in Markdown on GitHub.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
