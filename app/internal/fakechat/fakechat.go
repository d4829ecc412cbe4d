// Package fakechat stands in for the receivers of notifications, in tests and in
// `make dev`: LINE's push endpoint and Slack incoming webhooks answering with their real
// status codes and bodies (rate limits included), and a plain webhook sink. The
// notifier talks to it through its real client code.
package fakechat

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Received is one request a fake accepted (or answered with a scripted fault).
type Received struct {
	Kind   string // line, slack or webhook
	Path   string
	Header http.Header
	Body   []byte
	Status int    // what the fake answered
	Text   string // the message text, for LINE and Slack
}

// Server is the three fakes behind one handler:
//
//	POST /v2/bot/message/push   LINE Messaging API push
//	POST /services/...          Slack incoming webhooks
//	POST /webhook/...           a webhook receiver (answers 200)
type Server struct {
	mu        sync.Mutex
	tokens    map[string]bool // LINE channel access tokens that authenticate
	script    map[string][]int
	retryKeys map[string]string
	received  []Received
	// OnReceive, when set, sees every request (the dev sink prints them).
	OnReceive func(Received)
}

// New returns fakes that accept the given LINE channel access tokens.
func New(lineTokens ...string) *Server {
	s := &Server{tokens: map[string]bool{}, script: map[string][]int{}, retryKeys: map[string]string{}}
	for _, t := range lineTokens {
		s.tokens[t] = true
	}
	return s
}

// Script makes the next requests to kind (line, slack or webhook) answer these statuses
// in order (500, 429, 400 ...) with the body the real service sends for them; after the
// script, requests are served normally.
func (s *Server) Script(kind string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script[kind] = append(s.script[kind], statuses...)
}

// Received returns what arrived so far.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := ""
	switch {
	case r.URL.Path == "/v2/bot/message/push":
		kind = "line"
	case strings.HasPrefix(r.URL.Path, "/services/"):
		kind = "slack"
	case strings.HasPrefix(r.URL.Path, "/webhook"):
		kind = "webhook"
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rec := Received{Kind: kind, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	s.mu.Lock()
	scripted := 0
	if q := s.script[kind]; len(q) > 0 {
		scripted, s.script[kind] = q[0], q[1:]
	}
	s.mu.Unlock()
	switch kind {
	case "line":
		rec.Status, rec.Text = s.line(w, r, body, scripted)
	case "slack":
		rec.Status, rec.Text = slack(w, body, scripted)
	default:
		rec.Status = scripted
		if rec.Status == 0 {
			rec.Status = http.StatusOK
		}
		w.WriteHeader(rec.Status)
		fmt.Fprintln(w, http.StatusText(rec.Status))
	}
	s.mu.Lock()
	s.received = append(s.received, rec)
	on := s.OnReceive
	s.mu.Unlock()
	if on != nil {
		on(rec)
	}
}

func lineError(w http.ResponseWriter, status int, msg string, details ...map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	out := map[string]any{"message": msg}
	if len(details) > 0 {
		out["details"] = details
	}
	_ = json.NewEncoder(w).Encode(out)
}

// line answers like https://api.line.me/v2/bot/message/push.
func (s *Server) line(w http.ResponseWriter, r *http.Request, body []byte, scripted int) (int, string) {
	w.Header().Set("X-Line-Request-Id", uuid.NewString())
	switch scripted {
	case 0:
	case http.StatusTooManyRequests:
		lineError(w, scripted, "You have reached your monthly limit.")
		return scripted, ""
	case http.StatusInternalServerError:
		lineError(w, scripted, "An error occurred in the API server.")
		return scripted, ""
	default:
		lineError(w, scripted, http.StatusText(scripted))
		return scripted, ""
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	known := s.tokens[token]
	s.mu.Unlock()
	if !ok || !known {
		lineError(w, http.StatusUnauthorized, "Authentication failed. Confirm that the access token in the authorization header is valid.")
		return http.StatusUnauthorized, ""
	}
	var req struct {
		To       string `json:"to"`
		Messages []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		lineError(w, http.StatusBadRequest, "The request body has 1 error(s)", map[string]string{"message": "Invalid JSON", "property": ""})
		return http.StatusBadRequest, ""
	}
	switch {
	case req.To == "":
		lineError(w, http.StatusBadRequest, "The request body has 1 error(s)", map[string]string{"message": "must be specified", "property": "to"})
		return http.StatusBadRequest, ""
	case !validLineID(req.To):
		lineError(w, http.StatusBadRequest, "Failed to send messages")
		return http.StatusBadRequest, ""
	case len(req.Messages) < 1 || len(req.Messages) > 5:
		lineError(w, http.StatusBadRequest, "The request body has 1 error(s)", map[string]string{"message": "Size must be between 1 and 5", "property": "messages"})
		return http.StatusBadRequest, ""
	}
	for i, m := range req.Messages {
		if m.Type != "text" || m.Text == "" || utf8.RuneCountInString(m.Text) > 5000 {
			lineError(w, http.StatusBadRequest, "The request body has 1 error(s)",
				map[string]string{"message": "Length must be between 1 and 5000", "property": "messages[" + strconv.Itoa(i) + "].text"})
			return http.StatusBadRequest, ""
		}
	}
	if key := r.Header.Get("X-Line-Retry-Key"); key != "" {
		s.mu.Lock()
		accepted, seen := s.retryKeys[key]
		if !seen {
			s.retryKeys[key] = w.Header().Get("X-Line-Request-Id")
		}
		s.mu.Unlock()
		if seen {
			w.Header().Set("X-Line-Accepted-Request-Id", accepted)
			lineError(w, http.StatusConflict, "The retry key is already accepted")
			return http.StatusConflict, ""
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("{}"))
	return http.StatusOK, req.Messages[0].Text
}

func validLineID(id string) bool {
	if len(id) != 33 || !strings.ContainsRune("UCR", rune(id[0])) {
		return false
	}
	for _, c := range id[1:] {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

// slack answers like https://hooks.slack.com/services/...: text/plain "ok" or an error
// word, 429 with Retry-After when rate limited.
func slack(w http.ResponseWriter, body []byte, scripted int) (int, string) {
	w.Header().Set("Content-Type", "text/plain")
	answer := func(status int, word string) (int, string) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, word)
		return status, ""
	}
	switch scripted {
	case 0:
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
		return answer(scripted, "rate_limited")
	case http.StatusNotFound:
		return answer(scripted, "no_service")
	case http.StatusForbidden:
		return answer(scripted, "action_prohibited")
	case http.StatusGone:
		return answer(scripted, "channel_is_archived")
	case http.StatusInternalServerError:
		return answer(scripted, "rollup_error")
	default:
		return answer(scripted, strings.ToLower(strings.ReplaceAll(http.StatusText(scripted), " ", "_")))
	}
	var msg struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return answer(http.StatusBadRequest, "invalid_payload")
	}
	if strings.TrimSpace(msg.Text) == "" {
		return answer(http.StatusBadRequest, "no_text")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
	return http.StatusOK, msg.Text
}
