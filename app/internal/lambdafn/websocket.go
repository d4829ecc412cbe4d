package lambdafn

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/miyabi/miyabi/app/internal/domain"
	liveevents "github.com/miyabi/miyabi/app/internal/events"
	"github.com/miyabi/miyabi/app/internal/metrics"
	"github.com/miyabi/miyabi/app/internal/store"
)

// Live events on AWS: the API Gateway WebSocket API invokes this function with
// $connect (the ticket is checked), $disconnect and $default (follow/unfollow); the
// events themselves are posted by drainEvents after requests that may change something.

// newFanout builds the @connections client from the Lambda environment:
// EVENTS_MANAGEMENT_URL (set by the Pulumi program), AWS_REGION and the function's
// credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN).
func newFanout(st *store.Store, getenv func(string) string, log *slog.Logger) *liveevents.Fanout {
	endpoint := getenv("EVENTS_MANAGEMENT_URL")
	if endpoint == "" {
		return nil
	}
	return &liveevents.Fanout{Store: st, Log: log, Poster: &liveevents.Poster{
		Endpoint: endpoint, Region: getenv("AWS_REGION"),
		Credentials: func() aws.Credentials {
			return aws.Credentials{AccessKeyID: getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
				SessionToken: getenv("AWS_SESSION_TOKEN"), Source: "lambda environment"}
		}}}
}

// isWebSocketEvent tells an API Gateway WebSocket event apart.
func isWebSocketEvent(shape eventShape) bool {
	return shape.RequestContext.ConnectionID != "" && shape.RequestContext.EventType != ""
}

// serveWebSocket handles $connect, $disconnect and $default.
func (f *Function) serveWebSocket(ctx context.Context, raw json.RawMessage) (events.APIGatewayProxyResponse, error) {
	var ev events.APIGatewayWebsocketProxyRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return wsAnswer(http.StatusBadRequest, "The WebSocket event could not be read."), nil
	}
	if f.fanout == nil {
		return wsAnswer(http.StatusServiceUnavailable, "Live events are not configured (EVENTS_MANAGEMENT_URL)."), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	id := ev.RequestContext.ConnectionID
	switch ev.RequestContext.EventType {
	case "CONNECT":
		err := f.fanout.Connect(ctx, id, ev.QueryStringParameters["ticket"])
		if err != nil {
			if domain.ErrorCode(err) == domain.CodeUnauthorized || err == store.ErrCallerGone {
				return wsAnswer(http.StatusUnauthorized, "The ticket is unknown, expired or already used; ask for a new one."), nil
			}
			f.log.ErrorContext(ctx, "websocket connect", "error", err)
			return wsAnswer(http.StatusInternalServerError, "Internal error."), nil
		}
		return wsAnswer(http.StatusOK, ""), nil
	case "DISCONNECT":
		if err := f.fanout.Disconnected(ctx, id); err != nil {
			f.log.WarnContext(ctx, "websocket disconnect", "error", err)
		}
		return wsAnswer(http.StatusOK, ""), nil
	case "MESSAGE":
		body := []byte(ev.Body)
		if ev.IsBase64Encoded {
			if b, err := base64.StdEncoding.DecodeString(ev.Body); err == nil {
				body = b
			}
		}
		if err := f.fanout.Message(ctx, id, body); err != nil && domain.ErrorCode(err) != domain.CodeNotFound {
			f.log.WarnContext(ctx, "websocket message", "error", err)
		}
		return wsAnswer(http.StatusOK, ""), nil
	}
	return wsAnswer(http.StatusBadRequest, "Unknown WebSocket event type "+ev.RequestContext.EventType+"."), nil
}

func wsAnswer(status int, detail string) events.APIGatewayProxyResponse {
	if detail == "" {
		return events.APIGatewayProxyResponse{StatusCode: status}
	}
	body, _ := json.Marshal(map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail})
	return events.APIGatewayProxyResponse{StatusCode: status, Body: string(body),
		Headers: map[string]string{"Content-Type": "application/problem+json"}}
}

// drainEvents posts what the request (or the sweep) committed to the WebSocket
// connections. Reads change nothing: only writes pay for it.
func (f *Function) drainEvents(ctx context.Context, method string) {
	if f.fanout == nil || method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	posted, err := f.fanout.Drain(ctx)
	if err != nil {
		f.log.WarnContext(ctx, "events: drain the outbox", "error", err)
	}
	if posted > 0 || err != nil {
		failed := 0
		if err != nil {
			failed = 1
		}
		f.metrics.Emit(map[string]string{metrics.DimService: metrics.ServiceName}, nil,
			map[string]any{metrics.MetricEventsPosted: posted, metrics.MetricEventDrainsFailed: failed})
	}
}
