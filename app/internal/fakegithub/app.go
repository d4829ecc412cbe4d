package fakegithub

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/miyabi/miyabi/app/internal/devid"
	"github.com/miyabi/miyabi/app/internal/github"
)

// The GitHub App side of the fake: App JWTs (RS256, checked against the App's public
// key) traded for installation tokens, installations per account, open issues with
// labels, issue comments (created and edited, every version recorded for tests) and
// collaborator permissions; and it SENDS signed webhooks to the app, like GitHub does.

// InstallationTokenPrefix marks installation tokens this fake issues.
const InstallationTokenPrefix = "ghs_fake_"

// Installation is the App installed on an account's repositories.
type Installation struct {
	ID      int64
	Account string
	Repos   map[string]bool // lower-case full names
}

// Issue is an issue of a repository the fake knows.
type Issue struct {
	Number int
	Title  string
	Author string
	Labels []string
}

// Comment is an issue comment; Bodies holds every version, oldest first.
type Comment struct {
	ID     int64
	Repo   string
	Issue  int
	Author string
	Bodies []string
}

// Body is the comment's current text.
func (c Comment) Body() string { return c.Bodies[len(c.Bodies)-1] }

// Delivery is a webhook the fake sent and what the app answered.
type Delivery struct {
	ID      string
	Event   string
	Payload []byte
	Status  int
}

type appState struct {
	appID         int64
	key           *rsa.PublicKey
	webhookURL    string
	webhookSecret []byte
	installations map[int64]*Installation
	notInstalled  map[string]bool
	issues        map[string][]*Issue
	comments      []*Comment
	tokens        map[string]int64 // installation token -> installation id
	deliveries    []Delivery
	failComments  int // the next n comment writes answer 502
	tokenLife     time.Duration
	nextID        atomic.Int64
}

// ConfigureApp makes the fake the GitHub of an App: it accepts JWTs signed by the key
// whose private half is privateKeyPEM, and sends webhooks signed with secret to
// webhookURL ("" sends none).
func (s *Server) ConfigureApp(appID int64, privateKeyPEM []byte, webhookURL string, secret []byte) error {
	key, err := jwt.ParseRSAPrivateKeyFromPEM(privateKeyPEM)
	if err != nil {
		return fmt.Errorf("fake github app key: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.app.appID, s.app.key, s.app.webhookURL, s.app.webhookSecret = appID, &key.PublicKey, webhookURL, secret
	return nil
}

// SetTokenLifetime changes how long the installation tokens it mints live (an hour).
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.app.tokenLife = d
}

// SetWebhookURL changes where webhooks go (the app's address is known only once it listens).
func (s *Server) SetWebhookURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.app.webhookURL = u
}

func (s *Server) initApp() {
	s.app.installations = map[int64]*Installation{}
	s.app.notInstalled = map[string]bool{"miyabi-demo/docs-site": true}
	s.app.issues = map[string][]*Issue{}
	s.app.tokens = map[string]int64{}
	s.app.nextID.Store(90_000_000)
	s.repos["miyabi-demo/docs-site"] = Repo{ID: 700_100, FullName: "miyabi-demo/docs-site", DefaultBranch: "main"}
	seed := []*Issue{
		{Number: 1, Title: "Add a health check endpoint", Author: "alice", Labels: []string{"enhancement"}},
		{Number: 2, Title: "Login page breaks on narrow screens", Author: "bob", Labels: []string{"bug", "ui"}},
		{Number: 3, Title: "Document the deploy steps", Author: "carol", Labels: []string{"docs"}},
	}
	for name := range s.repos {
		for _, i := range seed {
			cp := *i
			cp.Labels = append([]string(nil), i.Labels...)
			s.app.issues[name] = append(s.app.issues[name], &cp)
		}
	}
}

// installationForLocked returns the installation reaching repo (lower-case full name),
// creating the account's installation the first time: the App is installed everywhere
// except on repositories marked not installed.
func (s *Server) installationForLocked(repo string) *Installation {
	if s.app.notInstalled[repo] {
		return nil
	}
	owner, _, _ := strings.Cut(repo, "/")
	for _, in := range s.app.installations {
		if in.Account == owner {
			if s.knownRepoLocked(repo) {
				in.Repos[repo] = true
			}
			return in
		}
	}
	in := &Installation{ID: InstallationID(owner), Account: owner, Repos: map[string]bool{}}
	for name := range s.repos {
		if strings.HasPrefix(name, owner+"/") && !s.app.notInstalled[name] {
			in.Repos[name] = true
		}
	}
	if s.knownRepoLocked(repo) {
		in.Repos[repo] = true
	}
	s.app.installations[in.ID] = in
	return in
}

// knownRepoLocked reports whether repo exists: a known one or someone's hello-world.
func (s *Server) knownRepoLocked(repo string) bool {
	if _, ok := s.repos[repo]; ok {
		return true
	}
	owner, name, _ := strings.Cut(repo, "/")
	return name == "hello-world" && owner != "" // everyone has one, as in the OAuth side
}

func (s *Server) repoFactsLocked(repo string) (Repo, bool) {
	if r, ok := s.repos[repo]; ok {
		return r, true
	}
	owner, name, _ := strings.Cut(repo, "/")
	if name == "hello-world" && owner != "" {
		login := owner
		if u, ok := s.users[owner]; ok {
			login = u.Login
		}
		return Repo{ID: UserID(login) + 1, FullName: login + "/hello-world", DefaultBranch: "main"}, true
	}
	return Repo{}, false
}

func (s *Server) issuesLocked(repo string) []*Issue {
	if _, ok := s.app.issues[repo]; !ok && s.knownRepoLocked(repo) {
		s.app.issues[repo] = []*Issue{{Number: 1, Title: "Say hello in the README", Author: strings.SplitN(repo, "/", 2)[0], Labels: []string{}}}
	}
	return s.app.issues[repo]
}

// InstallationID is the id the fake gives the App's installation on account (devid's).
func InstallationID(account string) int64 { return devid.InstallationID(account) }

// InstallationFor returns the id of the installation reaching repo (0: none).
func (s *Server) InstallationFor(repo string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in := s.installationForLocked(strings.ToLower(repo)); in != nil {
		return in.ID
	}
	return 0
}

// AddIssue adds an open issue to repo and returns its number.
func (s *Server) AddIssue(repo, title, author string, labels ...string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	repo = strings.ToLower(repo)
	list := s.issuesLocked(repo)
	n := 1
	for _, i := range list {
		n = max(n, i.Number+1)
	}
	s.app.issues[repo] = append(list, &Issue{Number: n, Title: title, Author: author, Labels: append([]string{}, labels...)})
	return n
}

// Comments returns the comments on an issue, in creation order.
func (s *Server) Comments(repo string, issue int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.app.comments {
		if strings.EqualFold(c.Repo, repo) && c.Issue == issue {
			cp := *c
			cp.Bodies = append([]string(nil), c.Bodies...)
			out = append(out, cp)
		}
	}
	return out
}

// FailCommentWrites makes the next n comment creations or edits answer 502.
func (s *Server) FailCommentWrites(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.app.failComments = n
}

// Deliveries returns the webhooks sent so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.app.deliveries...)
}

// serveApp answers the App endpoints; false when the request is not one of them.
func (s *Server) serveApp(w http.ResponseWriter, r *http.Request) bool {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/app/installations/") && strings.HasSuffix(p, "/access_tokens") && r.Method == http.MethodPost:
		s.accessTokens(w, r)
	case strings.HasPrefix(p, "/repos/") && strings.HasSuffix(p, "/installation") && r.Method == http.MethodGet:
		s.repoInstallation(w, r)
	case strings.HasPrefix(p, "/repos/") && strings.HasPrefix(bearerToken(r), InstallationTokenPrefix):
		s.repoAsInstallation(w, r)
	case strings.HasPrefix(p, "/_fake"):
		s.control(w, r)
	default:
		return false
	}
	return true
}

func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	return strings.TrimPrefix(strings.TrimPrefix(h, "Bearer "), "token ")
}

// checkAppJWT answers 401 like GitHub unless the request carries a valid App JWT.
func (s *Server) checkAppJWT(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	key, appID := s.app.key, s.app.appID
	s.mu.Unlock()
	if key == nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "No GitHub App configured on the fake"})
		return false
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(bearerToken(r), &claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired(), jwt.WithIssuer(strconv.FormatInt(appID, 10)))
	if err == nil && claims.ExpiresAt.Sub(time.Now()) > 10*time.Minute {
		err = errors.New("expiry too far in the future")
	}
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "A JSON web token could not be decoded: " + err.Error()})
		return false
	}
	return true
}

func (s *Server) accessTokens(w http.ResponseWriter, r *http.Request) {
	if !s.checkAppJWT(w, r) {
		return
	}
	idText := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/app/installations/"), "/access_tokens")
	id, _ := strconv.ParseInt(idText, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.app.installations[id]; !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	token := InstallationTokenPrefix + randomHex(12)
	s.app.tokens[token] = id
	life := s.app.tokenLife
	if life == 0 {
		life = time.Hour // as GitHub
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": token, "expires_at": time.Now().Add(life).UTC().Format(time.RFC3339),
		"permissions": map[string]string{"issues": "write", "pull_requests": "read", "metadata": "read"}})
}

func (s *Server) repoInstallation(w http.ResponseWriter, r *http.Request) {
	if !s.checkAppJWT(w, r) {
		return
	}
	repo := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/repos/"), "/installation"))
	s.mu.Lock()
	defer s.mu.Unlock()
	var in *Installation
	if s.knownRepoLocked(repo) {
		in = s.installationForLocked(repo)
	}
	if in == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": in.ID, "account": map[string]any{"login": in.Account}, "app_id": s.app.appID})
}

// repoAsInstallation serves /repos/{owner}/{repo}[/...] for an installation token: the
// token reaches only its installation's repositories (404 otherwise, as on GitHub).
func (s *Server) repoAsInstallation(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/repos/"), "/")
	if len(parts) < 2 {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	repo := strings.ToLower(parts[0] + "/" + parts[1])
	rest := parts[2:]
	s.mu.Lock()
	defer s.mu.Unlock()
	instID, ok := s.app.tokens[bearerToken(r)]
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	in := s.app.installations[instID]
	if in == nil || !in.Repos[repo] {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	facts, _ := s.repoFactsLocked(repo)
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"id": facts.ID, "full_name": facts.FullName, "default_branch": facts.DefaultBranch, "private": facts.Private})
	case len(rest) == 3 && rest[0] == "collaborators" && rest[2] == "permission" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"permission": s.permissionLocked(repo, rest[1]), "user": map[string]any{"login": rest[1]}})
	case len(rest) == 1 && rest[0] == "issues" && r.Method == http.MethodGet:
		s.listIssuesLocked(w, r, repo)
	case len(rest) == 3 && rest[0] == "issues" && rest[2] == "comments" && r.Method == http.MethodPost:
		n, _ := strconv.Atoi(rest[1])
		s.createCommentLocked(w, r, repo, facts.FullName, n)
	case len(rest) == 3 && rest[0] == "issues" && rest[1] == "comments" && r.Method == http.MethodPatch:
		id, _ := strconv.ParseInt(rest[2], 10, 64)
		s.editCommentLocked(w, r, repo, id)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

// permissionLocked: the owner of a repository is admin on it; every known user may
// write to the organizations' repositories (miyabi-demo/*, octo-org/*); others none
// (someone else's hello-world is as invisible as on the OAuth side).
func (s *Server) permissionLocked(repo, login string) string {
	login = strings.ToLower(login)
	owner, _, _ := strings.Cut(repo, "/")
	if owner == login {
		return "admin"
	}
	if _, known := s.users[login]; known && (owner == "miyabi-demo" || owner == "octo-org") {
		return "write"
	}
	return "none"
}

func (s *Server) listIssuesLocked(w http.ResponseWriter, r *http.Request, repo string) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	perPage, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	page, perPage = max(page, 1), min(max(perPage, 1), 100)
	if r.URL.Query().Get("per_page") == "" {
		perPage = 30
	}
	all := s.issuesLocked(repo)
	sorted := append([]*Issue(nil), all...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Number > sorted[j].Number }) // newest first, like GitHub
	start := min((page-1)*perPage, len(sorted))
	end := min(start+perPage, len(sorted))
	facts, _ := s.repoFactsLocked(repo)
	items := []map[string]any{}
	for _, i := range sorted[start:end] {
		labels := []map[string]any{}
		for _, l := range i.Labels {
			labels = append(labels, map[string]any{"name": l, "color": labelColor(l)})
		}
		items = append(items, map[string]any{"number": i.Number, "title": i.Title, "state": "open", "labels": labels,
			"html_url": fmt.Sprintf("https://github.com/%s/issues/%d", facts.FullName, i.Number),
			"user":     map[string]any{"login": i.Author}, "comments": s.commentCountLocked(repo, i.Number),
			"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"})
	}
	if end < len(sorted) {
		next := *r.URL
		q := next.Query()
		q.Set("page", strconv.Itoa(page+1))
		next.RawQuery = q.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, next.String()))
	}
	writeJSON(w, http.StatusOK, items)
}

func labelColor(name string) string {
	if strings.HasPrefix(name, "miyabi:") {
		return "7057ff"
	}
	return "d73a4a"
}

func (s *Server) commentCountLocked(repo string, issue int) int {
	n := 0
	for _, c := range s.app.comments {
		if strings.EqualFold(c.Repo, repo) && c.Issue == issue {
			n++
		}
	}
	return n
}

func (s *Server) issueLocked(repo string, n int) *Issue {
	for _, i := range s.issuesLocked(repo) {
		if i.Number == n {
			return i
		}
	}
	return nil
}

func readCommentBody(r *http.Request) (string, bool) {
	var in struct {
		Body *string `json:"body"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil || in.Body == nil || len(*in.Body) > 65536 {
		return "", false
	}
	return *in.Body, true
}

func (s *Server) failCommentLocked(w http.ResponseWriter) bool {
	if s.app.failComments > 0 {
		s.app.failComments--
		writeJSON(w, http.StatusBadGateway, map[string]string{"message": "Server Error"})
		return true
	}
	return false
}

func (s *Server) createCommentLocked(w http.ResponseWriter, r *http.Request, repo, fullName string, n int) {
	if s.issueLocked(repo, n) == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	body, ok := readCommentBody(r)
	if !ok {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed"})
		return
	}
	if s.failCommentLocked(w) {
		return
	}
	c := &Comment{ID: s.app.nextID.Add(1), Repo: fullName, Issue: n, Author: "miyabi[bot]", Bodies: []string{body}}
	s.app.comments = append(s.app.comments, c)
	writeJSON(w, http.StatusCreated, commentJSON(c))
}

func (s *Server) editCommentLocked(w http.ResponseWriter, r *http.Request, repo string, id int64) {
	body, ok := readCommentBody(r)
	if !ok {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed"})
		return
	}
	for _, c := range s.app.comments {
		if c.ID == id && strings.EqualFold(c.Repo, repo) {
			if s.failCommentLocked(w) {
				return
			}
			c.Bodies = append(c.Bodies, body)
			writeJSON(w, http.StatusOK, commentJSON(c))
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
}

func commentJSON(c *Comment) map[string]any {
	return map[string]any{"id": c.ID, "body": c.Body(), "user": map[string]any{"login": c.Author, "type": "Bot"},
		"html_url": fmt.Sprintf("https://github.com/%s/issues/%d#issuecomment-%d", c.Repo, c.Issue, c.ID)}
}

// --- webhooks the fake sends ---

func (s *Server) userJSONLocked(login string) map[string]any {
	u, ok := s.users[strings.ToLower(login)]
	if !ok {
		u = User{Login: login}
	}
	return map[string]any{"id": UserID(u.Login), "login": u.Login, "type": "User"}
}

// eventBaseLocked is what every repository event carries: the repository, the
// installation and the sender.
func (s *Server) eventBaseLocked(repo, sender string) (map[string]any, error) {
	repo = strings.ToLower(repo)
	facts, ok := s.repoFactsLocked(repo)
	if !ok {
		return nil, fmt.Errorf("fake github: no repository %s", repo)
	}
	ev := map[string]any{
		"repository": map[string]any{"id": facts.ID, "full_name": facts.FullName, "private": facts.Private},
		"sender":     s.userJSONLocked(sender),
	}
	if in := s.installationForLocked(repo); in != nil {
		ev["installation"] = map[string]any{"id": in.ID}
	}
	return ev, nil
}

func (s *Server) issueJSONLocked(repo string, i *Issue) map[string]any {
	facts, _ := s.repoFactsLocked(repo)
	labels := []map[string]any{}
	for _, l := range i.Labels {
		labels = append(labels, map[string]any{"name": l, "color": labelColor(l)})
	}
	return map[string]any{"number": i.Number, "title": i.Title, "state": "open", "labels": labels,
		"html_url": fmt.Sprintf("https://github.com/%s/issues/%d", facts.FullName, i.Number), "user": s.userJSONLocked(i.Author)}
}

// LabelIssue adds a label to an issue as sender and sends the issues.labeled webhook.
func (s *Server) LabelIssue(repo string, issue int, label, sender string) (Delivery, error) {
	s.mu.Lock()
	repo = strings.ToLower(repo)
	i := s.issueLocked(repo, issue)
	if i == nil {
		s.mu.Unlock()
		return Delivery{}, fmt.Errorf("fake github: no issue %s#%d", repo, issue)
	}
	i.Labels = append(i.Labels, label)
	ev, err := s.eventBaseLocked(repo, sender)
	if err == nil {
		ev["action"] = "labeled"
		ev["issue"] = s.issueJSONLocked(repo, i)
		ev["label"] = map[string]any{"name": label, "color": labelColor(label)}
	}
	s.mu.Unlock()
	if err != nil {
		return Delivery{}, err
	}
	return s.Send("issues", ev)
}

// CommentOnIssue posts a comment as sender and sends the issue_comment.created webhook.
func (s *Server) CommentOnIssue(repo string, issue int, body, sender string) (Delivery, error) {
	s.mu.Lock()
	repo = strings.ToLower(repo)
	i := s.issueLocked(repo, issue)
	if i == nil {
		s.mu.Unlock()
		return Delivery{}, fmt.Errorf("fake github: no issue %s#%d", repo, issue)
	}
	facts, _ := s.repoFactsLocked(repo)
	c := &Comment{ID: s.app.nextID.Add(1), Repo: facts.FullName, Issue: issue, Author: sender, Bodies: []string{body}}
	s.app.comments = append(s.app.comments, c)
	ev, err := s.eventBaseLocked(repo, sender)
	if err == nil {
		ev["action"] = "created"
		ev["issue"] = s.issueJSONLocked(repo, i)
		ev["comment"] = map[string]any{"id": c.ID, "body": body, "user": s.userJSONLocked(sender)}
	}
	s.mu.Unlock()
	if err != nil {
		return Delivery{}, err
	}
	return s.Send("issue_comment", ev)
}

// PullRequest is a pull request event the fake sends.
type PullRequest struct {
	Repo   string
	Number int
	Head   string // branch name
	Body   string
	Action string // opened, closed, reopened
	Merged bool
	Sender string
}

// SendPullRequest sends a pull_request webhook.
func (s *Server) SendPullRequest(p PullRequest) (Delivery, error) {
	s.mu.Lock()
	ev, err := s.eventBaseLocked(p.Repo, p.Sender)
	if err == nil {
		facts, _ := s.repoFactsLocked(strings.ToLower(p.Repo))
		state := "open"
		var mergedAt any
		if p.Action == "closed" {
			state = "closed"
			if p.Merged {
				mergedAt = time.Now().UTC().Format(time.RFC3339)
			}
		}
		ev["action"] = p.Action
		ev["number"] = p.Number
		ev["pull_request"] = map[string]any{"number": p.Number, "state": state, "merged": p.Merged, "merged_at": mergedAt,
			"title": "Agent changes", "body": p.Body, "head": map[string]any{"ref": p.Head},
			"html_url": fmt.Sprintf("https://github.com/%s/pull/%d", facts.FullName, p.Number)}
	}
	s.mu.Unlock()
	if err != nil {
		return Delivery{}, err
	}
	return s.Send("pull_request", ev)
}

// Uninstall removes the App from an account and sends installation.deleted.
func (s *Server) Uninstall(installationID int64, sender string) (Delivery, error) {
	s.mu.Lock()
	in, ok := s.app.installations[installationID]
	if !ok {
		s.mu.Unlock()
		return Delivery{}, fmt.Errorf("fake github: no installation %d", installationID)
	}
	delete(s.app.installations, installationID)
	var repos []map[string]any
	for name := range in.Repos {
		facts, _ := s.repoFactsLocked(name)
		repos = append(repos, map[string]any{"id": facts.ID, "full_name": facts.FullName, "private": facts.Private})
		s.app.notInstalled[name] = true
	}
	ev := map[string]any{"action": "deleted", "installation": map[string]any{"id": in.ID, "account": map[string]any{"login": in.Account}},
		"repositories": repos, "sender": s.userJSONLocked(sender)}
	s.mu.Unlock()
	return s.Send("installation", ev)
}

// Send delivers a webhook: JSON body, X-GitHub-Event, a fresh X-GitHub-Delivery and
// X-Hub-Signature-256, as GitHub does; it records what the app answered.
func (s *Server) Send(event string, payload any) (Delivery, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return Delivery{}, err
	}
	return s.deliver(Delivery{ID: newDeliveryID(), Event: event, Payload: body})
}

// Redeliver sends an earlier delivery again, same id, as GitHub's "Redeliver" does.
func (s *Server) Redeliver(id string) (Delivery, error) {
	s.mu.Lock()
	var found *Delivery
	for i := range s.app.deliveries {
		if s.app.deliveries[i].ID == id {
			d := s.app.deliveries[i]
			found = &d
		}
	}
	s.mu.Unlock()
	if found == nil {
		return Delivery{}, fmt.Errorf("fake github: no delivery %s", id)
	}
	return s.deliver(*found)
}

func (s *Server) deliver(d Delivery) (Delivery, error) {
	s.mu.Lock()
	target, secret := s.app.webhookURL, s.app.webhookSecret
	s.mu.Unlock()
	if target == "" {
		return d, errors.New("fake github: no webhook URL configured")
	}
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(d.Payload))
	if err != nil {
		return d, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/fake")
	req.Header.Set("X-GitHub-Event", d.Event)
	req.Header.Set("X-GitHub-Delivery", d.ID)
	req.Header.Set("X-Hub-Signature-256", github.Sign(secret, d.Payload))
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return d, fmt.Errorf("fake github: deliver %s: %w", d.Event, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d.Status = resp.StatusCode
	s.mu.Lock()
	s.app.deliveries = append(s.app.deliveries, d)
	s.mu.Unlock()
	return d, nil
}

func newDeliveryID() string {
	h := randomHex(16)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
