package httpapi_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/miyabi/miyabi/app/internal/apitest"
)

type memberPage struct {
	Items []struct {
		UserID uuid.UUID `json:"user_id"`
		Login  string    `json:"login"`
		Status string    `json:"status"`
	} `json:"items"`
	Total int `json:"total"`
	Page  int `json:"page"`
	Limit int `json:"limit"`
}

func (p memberPage) logins() []string {
	out := make([]string, len(p.Items))
	for i, m := range p.Items {
		out[i] = m.Login
	}
	return out
}

// addPeople puts people straight into an organization (more than the invitation flow
// makes in a test): login => name, as active members.
func addPeople(t *testing.T, env *apitest.Env, org uuid.UUID, people map[string]string) map[string]uuid.UUID {
	t.Helper()
	ctx := context.Background()
	if _, err := env.DB.Exec(ctx, `UPDATE organizations SET max_members = 1000 WHERE id = $1`, org); err != nil {
		t.Fatal(err)
	}
	ids := map[string]uuid.UUID{}
	for login, name := range people {
		var id uuid.UUID
		var n *string
		if name != "" {
			n = &name
		}
		err := env.DB.QueryRow(ctx, `INSERT INTO users (github_id, login, name) VALUES ((SELECT coalesce(max(github_id), 0) + 1000 FROM users), $1, $2) RETURNING id`, login, n).Scan(&id)
		if err != nil {
			t.Fatalf("user %s: %v", login, err)
		}
		if _, err := env.DB.Exec(ctx, `INSERT INTO organization_members (organization_id, user_id, role, status, joined_at) VALUES ($1, $2, 'member', 'active', now())`, org, id); err != nil {
			t.Fatalf("member %s: %v", login, err)
		}
		ids[login] = id
	}
	return ids
}

func searchMembers(t *testing.T, c *apitest.Client, org uuid.UUID, query url.Values) memberPage {
	t.Helper()
	var p memberPage
	c.Do("GET", "/organizations/"+org.String()+"/members?"+query.Encode(), nil).Expect(200).JSON(&p)
	return p
}

// Finding a member in an organization larger than one page: q matches the login or the
// name anywhere, ignoring case, logins starting with it first, one organization only.
func TestMemberSearch(t *testing.T) {
	env := apitest.New(t)
	alice, bob := env.Login("alice"), env.Login("bob")
	org := newTeamOrg(t, alice, "Big Org")
	people := map[string]string{"kazuha": "Kazuha Sato", "akazawa": "", "ktanaka": "Kenji TANAKA", "Mixed-Case": ""}
	for i := 1; i <= 130; i++ {
		people[fmt.Sprintf("user-%03d", i)] = ""
	}
	ids := addPeople(t, env, org.ID, people)
	// Another organization with people whose logins and names match the same searches.
	other := newTeamOrg(t, bob, "Other Org")
	addPeople(t, env, other.ID, map[string]string{"user-055b": "", "user-12x": "", "kazuo": "Tanaka Kazuo"})

	q := func(s string) url.Values { return url.Values{"q": {s}} }
	all := searchMembers(t, alice, org.ID, url.Values{"limit": {"100"}})
	if all.Total != 135 || len(all.Items) != 100 {
		t.Fatalf("unfiltered: total %d, %d items", all.Total, len(all.Items))
	}

	t.Run("substring of the login, across pages", func(t *testing.T) {
		p := searchMembers(t, alice, org.ID, q("user-12"))
		want := []string{"user-120", "user-121", "user-122", "user-123", "user-124", "user-125", "user-126", "user-127", "user-128", "user-129"}
		if p.Total != 10 || strings.Join(p.logins(), ",") != strings.Join(want, ",") {
			t.Fatalf("user-12: total %d, %v", p.Total, p.logins())
		}
		second := searchMembers(t, alice, org.ID, url.Values{"q": {"user-12"}, "limit": {"3"}, "page": {"2"}})
		if second.Total != 10 || strings.Join(second.logins(), ",") != "user-123,user-124,user-125" {
			t.Fatalf("page 2 of 3: total %d, %v", second.Total, second.logins())
		}
	})

	t.Run("ignores case and surrounding spaces", func(t *testing.T) {
		for _, s := range []string{"USER-12", "  user-12  "} {
			if p := searchMembers(t, alice, org.ID, q(s)); p.Total != 10 {
				t.Errorf("%q: total %d", s, p.Total)
			}
		}
		if p := searchMembers(t, alice, org.ID, q("mixed-c")); p.Total != 1 || p.Items[0].Login != "Mixed-Case" {
			t.Errorf("mixed-c: %v", p.logins())
		}
	})

	t.Run("by name, logins starting with the text first", func(t *testing.T) {
		p := searchMembers(t, alice, org.ID, q("tanaka"))
		if strings.Join(p.logins(), ",") != "ktanaka" {
			t.Fatalf("tanaka: %v", p.logins())
		}
		p = searchMembers(t, alice, org.ID, q("Kaz"))
		// kazuha starts with it; akazawa holds it; ktanaka does not (Kenji); bob's kazuo never
		if strings.Join(p.logins(), ",") != "kazuha,akazawa" {
			t.Fatalf("kaz: %v", p.logins())
		}
	})

	t.Run("wildcards are plain text", func(t *testing.T) {
		for _, s := range []string{"%", "_", `\`, "user%", "user_1"} {
			if p := searchMembers(t, alice, org.ID, q(s)); p.Total != 0 {
				t.Errorf("%q matched %v", s, p.logins())
			}
		}
	})

	t.Run("with a status", func(t *testing.T) {
		alice.Do("PATCH", "/organizations/"+org.ID.String()+"/members/"+ids["user-125"].String(), map[string]any{"status": "suspended"}).Expect(200)
		active := searchMembers(t, alice, org.ID, url.Values{"q": {"user-12"}, "status": {"active"}})
		if active.Total != 9 || strings.Contains(strings.Join(active.logins(), ","), "user-125") {
			t.Fatalf("active: total %d, %v", active.Total, active.logins())
		}
		suspended := searchMembers(t, alice, org.ID, url.Values{"status": {"suspended"}})
		if strings.Join(suspended.logins(), ",") != "user-125" {
			t.Fatalf("suspended: %v", suspended.logins())
		}
	})

	t.Run("another organization's members never appear", func(t *testing.T) {
		// bob's organization has user-055b, user-12x and kazuo (Tanaka Kazuo)
		if p := searchMembers(t, alice, org.ID, q("user-05")); p.Total != 10 || strings.Contains(strings.Join(p.logins(), ","), "user-055b") {
			t.Fatalf("user-05 in alice's: total %d, %v", p.Total, p.logins())
		}
		if p := searchMembers(t, alice, org.ID, q("12x")); p.Total != 0 {
			t.Fatalf("12x in alice's: %v", p.logins())
		}
		// and the other way: bob finds his own people only
		switchTo(t, bob, other.ID)
		if p := searchMembers(t, bob, other.ID, q("tanaka")); strings.Join(p.logins(), ",") != "kazuo" {
			t.Fatalf("tanaka in bob's: %v", p.logins())
		}
		if p := searchMembers(t, bob, other.ID, q("user-1")); strings.Join(p.logins(), ",") != "user-12x" {
			t.Fatalf("user-1 in bob's: %v", p.logins())
		}
		if p := searchMembers(t, bob, other.ID, q("user-05")); strings.Join(p.logins(), ",") != "user-055b" {
			t.Fatalf("user-05 in bob's: %v", p.logins())
		}
		// and asking for alice's organization, with or without a search, is a 404 to him
		bob.Do("GET", "/organizations/"+org.ID.String()+"/members?q=user", nil).Problem(404)
	})

	t.Run("bad input is a 422 naming q or status", func(t *testing.T) {
		base := "/organizations/" + org.ID.String() + "/members?"
		for _, tc := range []struct{ name, query, field string }{
			{"control character", "q=user%01", "q"},
			{"NUL", "q=%00", "q"},
			{"newline", "q=a%0Ab", "q"},
			{"not UTF-8", "q=%FF%FE", "q"},
			{"too long", "q=" + strings.Repeat("x", 101), "q"},
			{"unknown status", "status=gone", "status"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := alice.For(t).Do("GET", base+tc.query, nil).Problem(422)
				if !p.Mentions(tc.field) {
					t.Fatalf("problem does not name %s: %+v", tc.field, p)
				}
			})
		}
		// at the limit is fine
		alice.Do("GET", base+"q="+strings.Repeat("x", 100), nil).Expect(200)
	})
}

// The invitations and a team's members page like every other list.
func TestInvitationsAndTeamMembersPage(t *testing.T) {
	env := apitest.New(t)
	alice := env.Login("alice")
	org := newTeamOrg(t, alice, "Paged")
	ids := addPeople(t, env, org.ID, map[string]string{"p1": "", "p2": "", "p3": "", "p4": "", "p5": ""})
	o := org.ID.String()
	for _, login := range []string{"bob", "carol", "dave"} {
		alice.Do("POST", "/organizations/"+o+"/invitations", map[string]any{"github_login": login, "role": "member"}).Expect(201)
	}
	var inv struct {
		Items []struct {
			GitHubLogin string `json:"github_login"`
		} `json:"items"`
		Total, Page, Limit int
	}
	alice.Do("GET", "/organizations/"+o+"/invitations?limit=2&page=2", nil).Expect(200).JSON(&inv)
	if inv.Total != 3 || inv.Page != 2 || inv.Limit != 2 || len(inv.Items) != 1 || inv.Items[0].GitHubLogin != "bob" {
		t.Fatalf("invitations page 2: %+v", inv)
	}
	alice.Do("GET", "/organizations/"+o+"/invitations?github_login=CAROL", nil).Expect(200).JSON(&inv)
	if inv.Total != 1 || inv.Items[0].GitHubLogin != "carol" {
		t.Fatalf("invitation of carol: %+v", inv)
	}
	alice.Do("GET", "/organizations/"+o+"/invitations?github_login=car", nil).Expect(200).JSON(&inv)
	if inv.Total != 0 {
		t.Fatalf("github_login is exact: %+v", inv)
	}

	var team struct {
		ID uuid.UUID `json:"id"`
	}
	alice.Do("POST", "/organizations/"+o+"/teams", map[string]any{"name": "Crew"}).Expect(201).JSON(&team)
	base := "/organizations/" + o + "/teams/" + team.ID.String() + "/members"
	for _, login := range []string{"p1", "p2", "p3", "p4", "p5"} {
		role := "member"
		if login == "p5" {
			role = "lead"
		}
		alice.Do("POST", base, map[string]any{"user_id": ids[login], "role": role}).Expect(201)
	}
	var tm memberPage
	alice.Do("GET", base+"?limit=2", nil).Expect(200).JSON(&tm)
	if tm.Total != 5 || strings.Join(tm.logins(), ",") != "p5,p1" {
		t.Fatalf("team page 1: total %d, %v", tm.Total, tm.logins())
	}
	alice.Do("GET", base+"?limit=2&page=3", nil).Expect(200).JSON(&tm)
	if tm.Total != 5 || strings.Join(tm.logins(), ",") != "p4" {
		t.Fatalf("team page 3: total %d, %v", tm.Total, tm.logins())
	}
	alice.Do("GET", base+"?limit=2&page=9", nil).Expect(200).JSON(&tm)
	if tm.Total != 5 || len(tm.Items) != 0 {
		t.Fatalf("past the end: %+v", tm)
	}
	alice.Do("GET", base+"?limit=101", nil).Problem(422)
}
