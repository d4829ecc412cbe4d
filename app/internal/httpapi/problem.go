package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/miyabi/miyabi/app/internal/domain"
	"github.com/miyabi/miyabi/app/internal/store"
)

// Problem is the one error body of the API: RFC 9457 problem+json, as huma writes it,
// plus the request id so a user can quote it and an operator can find the log line.
type Problem struct {
	Type      string              `json:"type,omitempty" doc:"A URI reference identifying the problem type" example:"about:blank"`
	Title     string              `json:"title,omitempty" doc:"A short summary of the problem" example:"Unprocessable Entity"`
	Status    int                 `json:"status,omitempty" doc:"HTTP status code" example:"422"`
	Detail    string              `json:"detail,omitempty" doc:"What went wrong, for this occurrence"`
	Instance  string              `json:"instance,omitempty"`
	RequestID string              `json:"request_id,omitempty" doc:"Quote it when reporting a problem"`
	Errors    []*huma.ErrorDetail `json:"errors,omitempty" doc:"The fields at fault"`
}

func (p *Problem) Error() string             { return p.Detail }
func (p *Problem) GetStatus() int            { return p.Status }
func (p *Problem) ContentType(string) string { return "application/problem+json" }

func init() {
	// huma builds every error through this hook: validation errors, body limits, ours.
	huma.NewErrorWithContext = func(hctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
		p := &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: msg}
		if hctx != nil {
			p.RequestID = requestIDFrom(hctx.Context())
		}
		for _, err := range errs {
			if err == nil {
				continue
			}
			var d *huma.ErrorDetail
			if errors.As(err, &d) {
				p.Errors = append(p.Errors, d)
			} else if status < 500 {
				p.Errors = append(p.Errors, &huma.ErrorDetail{Message: err.Error()})
			}
		}
		if status == http.StatusBadRequest && msg == "" {
			p.Detail = "The request body could not be read."
		}
		return p
	}
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		return huma.NewErrorWithContext(nil, status, msg, errs...)
	}
}

var statusOf = map[domain.Code]int{
	domain.CodeInvalid:      http.StatusUnprocessableEntity,
	domain.CodeBadRequest:   http.StatusBadRequest,
	domain.CodeNotFound:     http.StatusNotFound,
	domain.CodeConflict:     http.StatusConflict,
	domain.CodeUnauthorized: http.StatusUnauthorized,
	domain.CodeForbidden:    http.StatusForbidden,
	domain.CodeUnavailable:  http.StatusServiceUnavailable,
	domain.CodeBadGateway:   http.StatusBadGateway,
	domain.CodeTooLarge:     http.StatusRequestEntityTooLarge,
	domain.CodeRateLimited:  http.StatusTooManyRequests,
}

// problemFor turns any error from below the HTTP layer into the problem the client sees.
// Unexpected errors are logged with the request id and shown only as "Internal error.".
func problemFor(ctx context.Context, log *slog.Logger, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var se huma.StatusError
	if errors.As(err, &se) {
		return huma.NewErrorWithContext(nil, se.GetStatus(), se.Error()).(*Problem)
	}
	rid := requestIDFrom(ctx)
	err = store.DomainError(err)
	var de *domain.Error
	if errors.As(err, &de) && de.Code != domain.CodeInternal {
		status := statusOf[de.Code]
		p := &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: de.Message, RequestID: rid}
		for _, f := range de.Fields {
			p.Errors = append(p.Errors, &huma.ErrorDetail{Location: f.Field, Message: f.Message, Value: f.Value})
		}
		switch {
		case de.Code == domain.CodeUnavailable:
			log.WarnContext(ctx, "database unavailable", "request_id", rid, "error", err)
		case status >= 500:
			log.ErrorContext(ctx, "request failed", "request_id", rid, "error", err)
		}
		return p
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		// the client went away; nobody reads this answer
		return &Problem{Type: "about:blank", Title: "Client Closed Request", Status: 499, RequestID: rid}
	}
	log.ErrorContext(ctx, "internal error", "request_id", rid, "error", err)
	return &Problem{Type: "about:blank", Title: http.StatusText(500), Status: 500, Detail: "Internal error.", RequestID: rid}
}
