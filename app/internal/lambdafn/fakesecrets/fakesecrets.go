// Package fakesecrets is a local Secrets Manager that speaks the service's JSON 1.1
// protocol (POST / with X-Amz-Target: secretsmanager.GetSecretValue), enough for the
// real aws-sdk-go-v2 client to read secrets from it through AWS_ENDPOINT_URL_SECRETS_MANAGER.
// It does not check signatures: it proves what the app asks for, not IAM.
package fakesecrets

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Server holds secrets by ARN (or name) and counts reads.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	secrets  map[string]string
	reads    map[string]int
	versions map[string]int
}

// New starts a fake on a loopback port with the given secrets (id -> string value).
// Close it when done.
func New(secrets map[string]string) *Server {
	s := &Server{secrets: map[string]string{}, reads: map[string]int{}, versions: map[string]int{}}
	for k, v := range secrets {
		s.secrets[k] = v
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Set stores a new value for the secret, as a rotation would: the next read returns it.
func (s *Server) Set(id, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[id] = value
	s.versions[id]++
}

// Reads is how many times the secret was read.
func (s *Server) Reads(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads[id]
}

// TotalReads is how many secrets were read in all.
func (s *Server) TotalReads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.reads {
		n += c
	}
	return n
}

const contentType = "application/x-amz-json-1.1"

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		writeError(w, http.StatusNotFound, "UnknownOperationException", fmt.Sprintf("%s %s", r.Method, r.URL.Path))
		return
	}
	if target != "secretsmanager.GetSecretValue" {
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "the fake answers GetSecretValue only, not "+target)
		return
	}
	if r.Header.Get("Authorization") == "" {
		// the real service refuses unsigned calls; so must the fake, or a client
		// without credentials would pass here and fail on AWS
		writeError(w, http.StatusBadRequest, "MissingAuthenticationTokenException", "the request is not signed")
		return
	}
	var in struct {
		SecretID string `json:"SecretId"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.SecretID == "" {
		writeError(w, http.StatusBadRequest, "InvalidParameterException", "SecretId is required")
		return
	}
	s.mu.Lock()
	v, ok := s.secrets[in.SecretID]
	version := s.versions[in.SecretID] + 1
	if ok {
		s.reads[in.SecretID]++
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	w.Header().Set("Content-Type", contentType)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ARN": in.SecretID, "Name": in.SecretID, "SecretString": v,
		"VersionId": fmt.Sprintf("fake-version-%d", version), "VersionStages": []string{"AWSCURRENT"},
		"CreatedDate": float64(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()),
	})
}

func writeError(w http.ResponseWriter, status int, kind, msg string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-ErrorType", kind)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": kind, "Message": msg})
}
