package httpapi_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/miyabi/miyabi/app/internal/apitest"
	"github.com/miyabi/miyabi/app/internal/store"
	"github.com/miyabi/miyabi/app/internal/testdb"
)

type auditPage struct {
	Items []struct {
		Action        string         `json:"action"`
		ActorUserID   *uuid.UUID     `json:"actor_user_id"`
		ActorLogin    string         `json:"actor_login"`
		TargetID      string         `json:"target_id"`
		Details       map[string]any `json:"details"`
		ClientAddress string         `json:"client_address"`
	} `json:"items"`
	Total int `json:"total"`
}

// Every audited change writes its entry, in its own transaction; the trail is for
// owners and admins of the organization only, filterable, paginated and append-only.
func TestAuditTrailRecordsEveryChangeAppendOnly(t *testing.T) {
	// the API as miyabi_app; the owner's connection only ages entries for the retention check
	ownerURL := testdb.OwnerURL(t)
	cfg, err := pgxpool.ParseConfig(testdb.AsApp(ownerURL))
	if err != nil {
		t.Fatal(err)
	}
	cfg.AfterConnect = store.RegisterTypes // as the server's pool does
	app, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	owner, err := pgxpool.New(context.Background(), ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(owner.Close)
	env := apitest.NewOn(t, app)
	alice, bob, carol := env.Login("alice"), env.Login("bob"), env.Login("carol")
	org := newTeamOrg(t, alice, "Audited")
	switchTo(t, alice, org.ID)
	o := "/organizations/" + org.ID.String()

	alice.Do("PATCH", o, map[string]any{"name": "Audited Co", "slug": "audited-co"}).Expect(200)
	invite(t, alice, bob, org.ID, "member")
	var inv struct {
		Invitation struct {
			ID uuid.UUID `json:"id"`
		} `json:"invitation"`
	}
	alice.Do("POST", o+"/invitations", map[string]any{"github_login": "carol", "role": "viewer"}).Expect(201).JSON(&inv)
	alice.Do("DELETE", o+"/invitations/"+inv.Invitation.ID.String(), nil).Expect(204)
	m := o + "/members/" + bob.UserID.String()
	alice.Do("PATCH", m, map[string]any{"role": "admin"}).Expect(200)
	alice.Do("PATCH", m, map[string]any{"status": "suspended"}).Expect(200)
	alice.Do("PATCH", m, map[string]any{"status": "active"}).Expect(200)
	env.Login("bob") // a member's sign-in
	// a refused change writes nothing: the last owner cannot be demoted
	alice.Do("PATCH", o+"/members/"+alice.UserID.String(), map[string]any{"role": "member"}).Expect(409)

	var team struct {
		ID uuid.UUID `json:"id"`
	}
	alice.Do("POST", o+"/teams", map[string]any{"name": "Core"}).Expect(201).JSON(&team)
	tp := o + "/teams/" + team.ID.String()
	alice.Do("PATCH", tp, map[string]any{"description": "the core"}).Expect(200)
	alice.Do("POST", tp+"/members", map[string]any{"user_id": bob.UserID, "role": "lead"}).Expect(201, 200)
	alice.Do("DELETE", tp+"/members/"+bob.UserID.String(), nil).Expect(204)
	alice.Do("DELETE", tp, nil).Expect(204)

	var repo struct {
		ID uuid.UUID `json:"id"`
	}
	alice.Do("POST", "/repositories", map[string]any{"full_name": "miyabi-demo/webapp"}).Expect(201).JSON(&repo)
	alice.Do("PATCH", "/repositories/"+repo.ID.String(), map[string]any{"is_active": false}).Expect(200)
	alice.Do("DELETE", "/repositories/"+repo.ID.String(), nil).Expect(204)
	// GitHub takes the App away from an account: its repositories here are deactivated
	alice.Do("POST", "/repositories", map[string]any{"full_name": "alice/hello-world"}).Expect(201)
	sentOf(env.GitHub.Uninstall(env.GitHub.InstallationFor("alice/hello-world"), "alice")).want(t, 204)
	var w workerBody
	alice.Do("POST", "/workers", map[string]any{"name": "w", "agent_types": []string{"codegen"}}).Expect(201).JSON(&w)
	alice.Do("DELETE", "/workers/"+w.ID.String(), nil).Expect(204)
	var ch notificationChannelJSON
	alice.Do("POST", o+"/notification-channels", map[string]any{"name": "ops", "kind": "webhook", "url": "https://hooks.example.com/audit",
		"event_types": []string{"execution.failed"}}).Expect(201).JSON(&ch)
	alice.Do("PATCH", o+"/notification-channels/"+ch.ID.String(), map[string]any{"is_active": false}).Expect(200)
	alice.Do("DELETE", o+"/notification-channels/"+ch.ID.String(), nil).Expect(204)
	alice.Do("DELETE", m, nil).Expect(204)

	var all auditPage
	alice.Do("GET", o+"/audit-events?limit=100", nil).Expect(200).JSON(&all)
	seen := map[string]int{}
	for _, e := range all.Items {
		seen[e.Action]++
		if e.ClientAddress != "127.0.0.1" {
			t.Errorf("%s without the client address: %q", e.Action, e.ClientAddress)
		}
	}
	for _, e := range all.Items {
		if strings.HasPrefix(e.Action, "notification_channel.") && strings.Contains(fmt.Sprint(e.Details), "hooks.example.com") {
			t.Errorf("%s leaks the channel's URL into the trail: %v", e.Action, e.Details)
		}
	}
	for _, action := range store.AuditActions {
		if seen[action] == 0 {
			t.Errorf("no %s entry; the trail has %v", action, seen)
		}
	}
	if seen[store.AuditMemberRoleChanged] != 1 {
		t.Errorf("%d role changes recorded, want 1 (the refused demotion must not be)", seen[store.AuditMemberRoleChanged])
	}
	if all.Total != len(all.Items) {
		t.Fatalf("total %d, items %d", all.Total, len(all.Items))
	}

	// filters and pages
	var members auditPage
	alice.Do("GET", o+"/audit-events?action=member.&limit=100", nil).Expect(200).JSON(&members)
	for _, e := range members.Items {
		if e.Action[:7] != "member." {
			t.Fatalf("action filter let %s through", e.Action)
		}
	}
	var bobs auditPage
	alice.Do("GET", o+"/audit-events?actor="+bob.UserID.String(), nil).Expect(200).JSON(&bobs)
	if bobs.Total == 0 || slices.ContainsFunc(bobs.Items, func(e struct {
		Action        string         `json:"action"`
		ActorUserID   *uuid.UUID     `json:"actor_user_id"`
		ActorLogin    string         `json:"actor_login"`
		TargetID      string         `json:"target_id"`
		Details       map[string]any `json:"details"`
		ClientAddress string         `json:"client_address"`
	}) bool {
		return e.ActorUserID == nil || *e.ActorUserID != bob.UserID
	}) {
		t.Fatalf("actor filter: %+v", bobs)
	}
	var page auditPage
	alice.Do("GET", o+"/audit-events?limit=2&page=2", nil).Expect(200).JSON(&page)
	if len(page.Items) != 2 || page.Total != all.Total {
		t.Fatalf("page 2 of 2: %d items of %d", len(page.Items), page.Total)
	}
	var none auditPage
	alice.Do("GET", o+"/audit-events?since="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339), nil).Expect(200).JSON(&none)
	if none.Total != 0 {
		t.Fatalf("since the future: %d", none.Total)
	}
	alice.Do("GET", o+"/audit-events?action=DROP%20TABLE", nil).Problem(422)

	// another organization's people see nothing of it; a viewer may not read it
	carol.Do("GET", o+"/audit-events", nil).Problem(404)
	var theirs auditPage
	carol.Do("GET", "/organizations/"+carol.OrgID.String()+"/audit-events", nil).Expect(200).JSON(&theirs)
	for _, e := range theirs.Items {
		if e.TargetID == org.ID.String() || e.Action != store.AuditMemberSignedIn {
			t.Fatalf("carol's trail shows %+v", e)
		}
	}
	dave := env.Login("dave")
	invite(t, alice, dave, org.ID, "viewer")
	switchTo(t, dave, org.ID)
	dave.Do("GET", o+"/audit-events", nil).Problem(403)

	// append-only: the trail cannot be rewritten, even with SQL: not by the API's role
	// (no UPDATE or DELETE grant), not by the tables' owner (the trigger)
	ctx := context.Background()
	for _, db := range []*pgxpool.Pool{env.DB, owner} {
		if _, err := db.Exec(ctx, `UPDATE audit_events SET action = 'member.joined' WHERE organization_id = $1`, org.ID); err == nil {
			t.Fatal("an audit entry was updated")
		}
		if _, err := db.Exec(ctx, `DELETE FROM audit_events WHERE organization_id = $1`, org.ID); err == nil {
			t.Fatal("a recent audit entry was deleted")
		}
	}
	// retention removes what is older than audit_retention_days, through the purge only
	if _, err := owner.Exec(ctx, `ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
		UPDATE audit_events SET created_at = now() - interval '500 days' WHERE action = 'organization.created';
		ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only`); err != nil {
		t.Fatal(err)
	}
	p, err := env.Store.PurgeExpired(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.AuditEvents < 1 {
		t.Fatalf("retention purged %d entries", p.AuditEvents)
	}
}
