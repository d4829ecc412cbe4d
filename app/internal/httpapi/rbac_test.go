package httpapi_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

// rolePermissions is api.md's role table, written out independently of the seed.
var rolePermissions = func() map[string][]string {
	all := []string{
		"repositories.read", "repositories.write", "repositories.delete", "repositories.manage",
		"agents.read", "agents.execute", "agents.stop", "agents.manage",
		"workflows.read", "workflows.create", "workflows.update", "workflows.delete", "workflows.execute",
		"tasks.read", "tasks.create", "tasks.update", "tasks.delete", "tasks.assign",
		"organization.read", "organization.update", "organization.delete", "organization.members.read", "organization.members.manage",
		"teams.read", "teams.create", "teams.update", "teams.delete",
		"notifications.manage",
		"organization.audit.read", // the audit trail: owners and admins only (issue 14)
	}
	var reads []string
	for _, p := range all {
		if strings.HasSuffix(p, ".read") && p != "organization.audit.read" {
			reads = append(reads, p)
		}
	}
	return map[string][]string{
		"owner": all,
		"admin": slices.DeleteFunc(slices.Clone(all), func(p string) bool { return p == "organization.delete" }),
		"member": {"repositories.read", "repositories.write", "agents.read", "agents.execute", "agents.stop",
			"workflows.read", "workflows.create", "workflows.update", "workflows.execute",
			"tasks.read", "tasks.create", "tasks.update", "organization.read", "organization.members.read", "teams.read"},
		"viewer": reads,
	}
}()

// Every seeded role against every route that needs a permission: the route lets the role
// through exactly when api.md gives the role that permission.
func TestRolePermissionMatrix(t *testing.T) {
	env := apitest.New(t)
	owner := env.Login("alice")
	type route struct{ method, path, perm string }
	var routes []route
	for path, item := range env.Server.OpenAPI().Paths {
		for _, o := range operations(item) {
			perm, _ := o.Extensions["x-miyabi-permission"].(string)
			perm = strings.TrimPrefix(strings.TrimPrefix(perm, "path-org:"), "team:")
			// member-or-worker (the events ticket) and ticket (the WebSocket) are open to
			// every role: events_test.go proves each role gets a ticket and connects
			if perm == "public" || perm == "person" || perm == "worker" || perm == "member-or-worker" || perm == "ticket" {
				continue
			}
			routes = append(routes, route{o.Method, path, perm})
		}
	}
	// deleting the organization goes last: it ends the test organization
	sort.SliceStable(routes, func(i, j int) bool {
		last := func(r route) bool { return r.perm == "organization.delete" }
		if last(routes[i]) != last(routes[j]) {
			return !last(routes[i])
		}
		return routes[i].path+routes[i].method < routes[j].path+routes[j].method
	})
	covered := map[string]bool{}
	for _, r := range routes {
		covered[r.perm] = true
	}
	for _, perm := range rolePermissions["owner"] {
		if !covered[perm] && perm != "repositories.manage" && perm != "tasks.assign" {
			t.Errorf("no route needs %s", perm)
		}
	}

	for role, perms := range rolePermissions {
		t.Run(role, func(t *testing.T) {
			org := newTeamOrg(t, owner.For(t), "Matrix "+role)
			caller := env.Login("user-" + role).For(t)
			if role == "owner" {
				caller = owner.For(t)
			} else {
				if _, err := env.DB.Exec(context.Background(), `INSERT INTO organization_members (organization_id, user_id, role, status, joined_at)
					VALUES ($1, $2, $3, 'active', now())`, org.ID, caller.UserID, role); err != nil {
					t.Fatal(err)
				}
			}
			switchTo(t, caller, org.ID)
			for _, r := range routes {
				path := strings.ReplaceAll(r.path, "{id}", uuid.NewString())
				if strings.HasPrefix(r.path, "/organizations/{id}") {
					path = "/organizations/" + org.ID.String() + strings.TrimPrefix(r.path, "/organizations/{id}")
				}
				for _, param := range []string{"{team_id}", "{user_id}", "{invitation_id}"} {
					path = strings.ReplaceAll(path, param, uuid.NewString())
				}
				got := caller.Do(r.method, path, nil).Status
				allowed := slices.Contains(perms, r.perm)
				switch {
				case allowed && (got == 401 || got == 403):
					t.Errorf("%s %s (%s): %s refused with %d", r.method, r.path, r.perm, role, got)
				case !allowed && got != 403:
					t.Errorf("%s %s (%s): %s got %d, want 403", r.method, r.path, r.perm, role, got)
				}
			}
		})
	}
}
