package httpapi_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

// notifications is the path of the client's organization's notification routes.
func notifications(c *apitest.Client, rest string) string {
	return "/organizations/" + c.OrgID.String() + "/notification-" + rest
}

type notificationChannelJSON struct {
	ID            uuid.UUID   `json:"id"`
	Name          string      `json:"name"`
	Kind          string      `json:"kind"`
	Target        string      `json:"target"`
	EventTypes    []string    `json:"event_types"`
	RepositoryIDs []uuid.UUID `json:"repository_ids"`
	IsActive      bool        `json:"is_active"`
	Status        string      `json:"status"`
	SigningSecret string      `json:"signing_secret"`
}

// Channels of one organization are invisible to another: every route answers 404.
func TestNotificationChannelsAcrossOrganizations(t *testing.T) {
	env := apitest.New(t)
	alice, bob := env.Login("alice"), env.Login("bob")
	var ch notificationChannelJSON
	alice.Do("POST", notifications(alice, "channels"), map[string]any{"name": "ops", "kind": "webhook", "url": "https://hooks.example.com/miyabi",
		"event_types": []string{"execution.completed", "execution.failed"}}).Expect(201).JSON(&ch)
	if ch.Kind != "webhook" || ch.Target != "https://hooks.example.com/miyabi" || ch.Status != "ok" || !ch.IsActive || len(ch.RepositoryIDs) != 0 {
		t.Fatalf("created %+v", ch)
	}
	path := notifications(alice, "channels/"+ch.ID.String())
	for _, call := range []struct {
		method, path string
		body         any
	}{
		{"GET", path, nil},
		{"PATCH", path, map[string]any{"name": "mine now"}},
		{"POST", path + "/test", nil},
		{"GET", path + "/deliveries", nil},
		{"DELETE", path, nil},
	} {
		// through alice's organization (bob is no member) or through his own
		bob.Do(call.method, call.path, call.body).Problem(404)
		bob.Do(call.method, notifications(bob, "channels/"+ch.ID.String())+strings.TrimPrefix(call.path, path), call.body).Problem(404)
	}
	bob.Do("GET", notifications(alice, "channels"), nil).Problem(404)
	bob.Do("GET", notifications(alice, "settings"), nil).Problem(404)
	var page pageJSON[notificationChannelJSON]
	bob.Do("GET", notifications(bob, "channels"), nil).Expect(200).JSON(&page)
	if page.Total != 0 {
		t.Fatalf("bob sees %d channels", page.Total)
	}
	var got notificationChannelJSON
	alice.Do("GET", path, nil).Expect(200).JSON(&got)
	if got.Name != "ops" {
		t.Fatalf("bob changed alice's channel: %+v", got)
	}
	// settings are per organization: bob's language is not alice's
	bob.Do("PATCH", notifications(bob, "settings"), map[string]any{"language": "ja"}).Expect(200)
	var settings struct{ Language string }
	alice.Do("GET", notifications(alice, "settings"), nil).Expect(200).JSON(&settings)
	if settings.Language != "en" {
		t.Fatalf("alice's language became %q", settings.Language)
	}
	// bob cannot subscribe his channel to alice's repositories either
	repo := connectRepo(t, alice, "miyabi-demo/webapp")
	p := bob.Do("POST", notifications(bob, "channels"), map[string]any{"name": "spy", "kind": "webhook", "url": "https://hooks.example.com/x",
		"event_types": []string{"execution.completed"}, "repository_ids": []uuid.UUID{repo.ID}}).Problem(422)
	if !p.Mentions("repository_ids") {
		t.Fatalf("problem %+v", p)
	}
}

func TestNotificationChannelBadInput(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"webhook without url", map[string]any{"name": "x", "kind": "webhook", "event_types": []string{"execution.completed"}}, "url"},
		{"webhook url not http", map[string]any{"name": "x", "kind": "webhook", "url": "ftp://example.com/", "event_types": []string{"execution.completed"}}, "url"},
		{"url with a password", map[string]any{"name": "x", "kind": "slack", "url": "https://u:p@hooks.slack.com/services/a", "event_types": []string{"execution.completed"}}, "url"},
		{"line without recipient", map[string]any{"name": "x", "kind": "line", "line_channel_access_token": "0123456789abc", "event_types": []string{"execution.completed"}}, "line_to"},
		{"line recipient malformed", map[string]any{"name": "x", "kind": "line", "line_to": "alice", "line_channel_access_token": "0123456789abc", "event_types": []string{"execution.completed"}}, "line_to"},
		{"line without token", map[string]any{"name": "x", "kind": "line", "line_to": "U0123456789abcdef0123456789abcdef", "event_types": []string{"execution.completed"}}, "line_channel_access_token"},
		{"unknown kind", map[string]any{"name": "x", "kind": "email", "url": "https://example.com", "event_types": []string{"execution.completed"}}, "kind"},
		{"unknown event", map[string]any{"name": "x", "kind": "webhook", "url": "https://example.com", "event_types": []string{"execution.exploded"}}, "event_types"},
		{"no events", map[string]any{"name": "x", "kind": "webhook", "url": "https://example.com", "event_types": []string{}}, "event_types"},
		{"empty name", map[string]any{"name": "", "kind": "webhook", "url": "https://example.com", "event_types": []string{"execution.completed"}}, "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := alice.For(t).Do("POST", notifications(alice, "channels"), c.body).Problem(422)
			if !p.Mentions(c.field) {
				t.Fatalf("problem does not name %s: %+v", c.field, p)
			}
		})
	}
	var page pageJSON[notificationChannelJSON]
	alice.Do("GET", notifications(alice, "channels"), nil).Expect(200).JSON(&page)
	if page.Total != 0 {
		t.Fatalf("bad input created %d channels", page.Total)
	}

	var ch notificationChannelJSON
	alice.Do("POST", notifications(alice, "channels"), map[string]any{"name": "team", "kind": "slack", "url": "https://hooks.slack.com/services/T0/B0/secret",
		"event_types": []string{"execution.completed"}}).Expect(201).JSON(&ch)
	if ch.Target != "https://hooks.slack.com/…" || ch.SigningSecret != "" {
		t.Fatalf("slack channel shows %+v", ch)
	}
	path := notifications(alice, "channels/"+ch.ID.String())
	if p := alice.Do("PATCH", path, map[string]any{"line_to": "U0123456789abcdef0123456789abcdef"}).Problem(422); !p.Mentions("line_to") {
		t.Fatalf("problem %+v", p)
	}
	if p := alice.Do("PATCH", path, map[string]any{"url": "not a url"}).Problem(422); !p.Mentions("url") {
		t.Fatalf("problem %+v", p)
	}
	var patched notificationChannelJSON
	alice.Do("PATCH", path, map[string]any{"event_types": []string{"execution.failed", "worker.offline"}, "is_active": false}).Expect(200).JSON(&patched)
	if patched.IsActive || len(patched.EventTypes) != 2 || patched.Target != ch.Target {
		t.Fatalf("patched %+v", patched)
	}
	alice.Do("DELETE", path, nil).Expect(204)
	alice.Do("GET", path, nil).Problem(404)
}
