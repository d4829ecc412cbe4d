package fakegithub

import (
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// The fake's control page (/_fake/): what a person does on github.com to drive Miyabi
// (label an issue, comment a command, open or merge a pull request), each of which makes
// the fake send the webhook GitHub would. `make dev` prints its URL and a curl line.

var controlPage = template.Must(template.New("control").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Fake GitHub — repositories</title><style>body{font-family:system-ui;max-width:60rem;margin:2rem auto;padding:0 1rem}
section{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}.c{background:#f6f8fa;border-radius:6px;padding:.5rem;margin:.25rem 0;white-space:pre-wrap}
form{display:inline}small{color:#555}</style></head><body><h1>Fake GitHub</h1>
<p>Label an issue <code>miyabi:&lt;agent&gt;</code> or comment <code>/miyabi &lt;agent&gt;</code>: the fake sends the signed webhook to {{.Target}}.</p>
{{if .Flash}}<p><strong>{{.Flash}}</strong></p>{{end}}
{{range .Repos}}<section><h2>{{.Name}}{{if not .Installed}} <small>(Miyabi App not installed)</small>{{end}}</h2>
{{range .Issues}}<div><h3>#{{.Number}} {{.Title}} <small>{{.Labels}}</small></h3>
<form method="post" action="/_fake/label"><input type="hidden" name="repo" value="{{$.Dummy}}{{.Repo}}"><input type="hidden" name="issue" value="{{.Number}}">
<select name="label"><option>miyabi:codegen</option><option>miyabi:review</option><option>miyabi:issue</option><option>miyabi:pr</option><option>miyabi:deployment</option><option>miyabi:coordinator</option></select>
as <select name="login"><option>alice</option><option>bob</option><option>carol</option></select> <button>Add label</button></form>
<form method="post" action="/_fake/comment"><input type="hidden" name="repo" value="{{.Repo}}"><input type="hidden" name="issue" value="{{.Number}}">
<input name="body" value="/miyabi codegen" size="24"> as <select name="login"><option>alice</option><option>bob</option><option>carol</option></select> <button>Comment</button></form>
{{range .Comments}}<div class="c"><small>{{.Author}}{{if gt (len .Bodies) 1}} (edited {{len .Bodies}} times){{end}}</small>
{{.Body}}</div>{{end}}</div>{{end}}</section>{{end}}
</body></html>`))

type controlIssue struct {
	Repo     string
	Number   int
	Title    string
	Labels   string
	Comments []Comment
}

type controlRepo struct {
	Name      string
	Installed bool
	Issues    []controlIssue
}

func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_fake/" && r.Method == http.MethodGet, r.URL.Path == "/_fake" && r.Method == http.MethodGet:
		s.controlPage(w, r.URL.Query().Get("flash"))
	case r.URL.Path == "/_fake/label" && r.Method == http.MethodPost:
		issue, _ := strconv.Atoi(r.FormValue("issue"))
		d, err := s.LabelIssue(r.FormValue("repo"), issue, r.FormValue("label"), r.FormValue("login"))
		s.controlAnswer(w, r, d, err)
	case r.URL.Path == "/_fake/comment" && r.Method == http.MethodPost:
		issue, _ := strconv.Atoi(r.FormValue("issue"))
		d, err := s.CommentOnIssue(r.FormValue("repo"), issue, r.FormValue("body"), r.FormValue("login"))
		s.controlAnswer(w, r, d, err)
	case r.URL.Path == "/_fake/pull" && r.Method == http.MethodPost:
		n, _ := strconv.Atoi(r.FormValue("number"))
		d, err := s.SendPullRequest(PullRequest{Repo: r.FormValue("repo"), Number: n, Head: r.FormValue("head"), Body: r.FormValue("body"),
			Action: r.FormValue("action"), Merged: r.FormValue("merged") == "true", Sender: r.FormValue("login")})
		s.controlAnswer(w, r, d, err)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

// controlAnswer redirects a browser back to the page, and tells curl what happened.
func (s *Server) controlAnswer(w http.ResponseWriter, r *http.Request, d Delivery, err error) {
	msg := fmt.Sprintf("sent %s %s: the app answered %d", d.Event, d.ID, d.Status)
	if err != nil {
		msg = err.Error()
	}
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		http.Redirect(w, r, "/_fake/?flash="+template.URLQueryEscaper(msg), http.StatusSeeOther)
		return
	}
	status := http.StatusOK
	if err != nil {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, map[string]any{"message": msg, "delivery": d.ID, "app_status": d.Status})
}

func (s *Server) controlPage(w http.ResponseWriter, flash string) {
	s.mu.Lock()
	var names []string
	for name := range s.repos {
		names = append(names, name)
	}
	sort.Strings(names)
	target := s.app.webhookURL
	var repos []controlRepo
	for _, name := range names {
		facts, _ := s.repoFactsLocked(name)
		cr := controlRepo{Name: facts.FullName, Installed: s.installationForLocked(name) != nil}
		for _, i := range s.issuesLocked(name) {
			ci := controlIssue{Repo: facts.FullName, Number: i.Number, Title: i.Title, Labels: strings.Join(i.Labels, ", ")}
			for _, c := range s.app.comments {
				if strings.EqualFold(c.Repo, name) && c.Issue == i.Number {
					cp := *c
					ci.Comments = append(ci.Comments, cp)
				}
			}
			cr.Issues = append(cr.Issues, ci)
		}
		repos = append(repos, cr)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = controlPage.Execute(w, map[string]any{"Repos": repos, "Target": target, "Flash": flash, "Dummy": ""})
}
