package workerd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// APIError is an answer of the API that retrying will not change (a 4xx other than 429).
type APIError struct {
	Status int
	Detail string
}

func (e *APIError) Error() string { return fmt.Sprintf("API answered %d: %s", e.Status, e.Detail) }

// statusOf returns the HTTP status of a permanent API error, 0 for anything else.
func statusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// Client calls the worker API with the worker's token.
type Client struct {
	base  string
	token string
	http  *http.Client
	log   *slog.Logger
	// backoff bounds for retried calls, and how many attempts a retried call makes
	minWait, maxWait time.Duration
	maxAttempts      int
}

// ErrGaveUp means a retried call failed every attempt: the API kept answering 5xx or 429,
// or could not be reached. The caller fails the task with a clear error instead of
// retrying forever.
var ErrGaveUp = errors.New("the API did not accept the call")

// NewClient talks to the API at base (…/api/v1).
func NewClient(base, token string, log *slog.Logger) *Client {
	return &Client{base: strings.TrimRight(base, "/"), token: token, log: log,
		http: &http.Client{Timeout: 30 * time.Second}, minWait: 100 * time.Millisecond, maxWait: 5 * time.Second,
		maxAttempts: DefaultRetries}
}

// call makes one attempt.
func (c *Client) call(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("POST %s: read answer: %w", path, err)
	}
	if resp.StatusCode >= 300 {
		var p struct {
			Detail string `json:"detail"`
		}
		_ = json.Unmarshal(raw, &p)
		if p.Detail == "" {
			p.Detail = http.StatusText(resp.StatusCode)
		}
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout {
			return fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, p.Detail) // worth retrying
		}
		return &APIError{Status: resp.StatusCode, Detail: p.Detail}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("POST %s: decode answer: %w", path, err)
		}
	}
	return nil
}

// retry repeats call with capped, jittered exponential backoff until it succeeds, the
// API gives a permanent answer, ctx ends, or maxAttempts attempts failed (ErrGaveUp).
// The API being away for a while is a normal event; forever is not.
func (c *Client) retry(ctx context.Context, path string, in, out any) error {
	wait := c.minWait
	for attempt := 1; ; attempt++ {
		err := c.call(ctx, path, in, out)
		if err == nil || statusOf(err) != 0 {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		}
		if c.maxAttempts > 0 && attempt >= c.maxAttempts {
			c.log.Warn("API call failed; giving up", "path", path, "attempts", attempt, "error", err)
			return fmt.Errorf("%w after %d attempts: %v", ErrGaveUp, attempt, err)
		}
		if attempt == 1 || attempt%10 == 0 {
			c.log.Warn("API call failed; retrying", "path", path, "attempt", attempt, "error", err)
		}
		sleep := wait/2 + rand.N(wait/2+1)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(sleep):
		}
		wait = min(wait*2, c.maxWait)
	}
}
