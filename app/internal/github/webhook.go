package github

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Sign is the X-Hub-Signature-256 value GitHub sends for body: "sha256=" and the
// hex HMAC-SHA256 of the raw body under the webhook secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ValidSignature checks X-Hub-Signature-256 against the raw body in constant time.
func ValidSignature(secret, body []byte, header string) bool {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok || len(secret) == 0 {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// The parts of webhook payloads Miyabi reads.

// HookUser is the sender, an issue author or an installation account.
type HookUser struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
	Type  string `json:"type"`
}

// HookRepo is the repository an event happened in.
type HookRepo struct {
	ID       int64  `json:"id"`
	FullName string `json:"full_name"`
	Private  bool   `json:"private"`
}

// HookInstallation names the App installation that delivered the event.
type HookInstallation struct {
	ID      int64    `json:"id"`
	Account HookUser `json:"account"`
}

// HookIssue is an issue in an event.
type HookIssue struct {
	Number      int       `json:"number"`
	Title       string    `json:"title"`
	HTMLURL     string    `json:"html_url"`
	PullRequest *struct{} `json:"pull_request,omitempty"`
}

// HookPull is a pull request in an event.
type HookPull struct {
	Number   int     `json:"number"`
	HTMLURL  string  `json:"html_url"`
	State    string  `json:"state"`
	Merged   bool    `json:"merged"`
	MergedAt *string `json:"merged_at"`
	Body     *string `json:"body"`
	Title    string  `json:"title"`
	Head     struct {
		Ref string `json:"ref"`
	} `json:"head"`
}

// Event is the union of the payloads handled: each event fills its own fields.
type Event struct {
	Action       string            `json:"action"`
	Sender       HookUser          `json:"sender"`
	Repository   *HookRepo         `json:"repository"`
	Installation *HookInstallation `json:"installation"`
	Issue        *HookIssue        `json:"issue"`
	Label        *Label            `json:"label"`
	Comment      *struct {
		ID   int64  `json:"id"`
		Body string `json:"body"`
		User HookUser
	} `json:"comment"`
	PullRequest         *HookPull  `json:"pull_request"`
	Repositories        []HookRepo `json:"repositories"`
	RepositoriesAdded   []HookRepo `json:"repositories_added"`
	RepositoriesRemoved []HookRepo `json:"repositories_removed"`
}
