package domain

import (
	"regexp"
	"strings"
	"testing"
)

var slugSchema = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func TestSlugifyAnyScript(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"Acme Robotics", "acme-robotics"},
		{"Café Déjà Vu", "cafe-deja-vu"},
		{"とうきょう", "toukyou"},
		{"チーム", "chiimu"},
		{"ｆｕｌｌｗｉｄｔｈ", "fullwidth"},
		{"きゃっと", "kyatto"},
	} {
		if got := Slugify(tc.name, "org"); got != tc.want {
			t.Errorf("Slugify(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSlugifyNeverCollapsesUnspellableNames(t *testing.T) {
	a, b := Slugify("雅 東京", "org"), Slugify("雅 大阪", "org")
	if !strings.HasPrefix(a, "org-") || a == b {
		t.Fatalf("two all-kanji names: %q and %q, want distinct org-xxxx", a, b)
	}
	if got := Slugify("雅 東京チーム", "team"); !strings.HasPrefix(got, "chiimu-") {
		t.Fatalf("a partly spelled name keeps what it spells and gets a suffix: %q", got)
	}
	for _, name := range []string{"雅", "---", "🎉", strings.Repeat("a", 200), "Ünïcödé", "a b c"} {
		if got := Slugify(name, "org"); !slugSchema.MatchString(got) {
			t.Errorf("Slugify(%q) = %q, not a slug the schema accepts", name, got)
		}
	}
}

func TestCreateWithSlugRetriesOnlyMadeUpSlugs(t *testing.T) {
	taken := map[string]bool{"acme": true}
	create := func(slug string) (string, error) {
		if taken[slug] {
			return "", Errorf(CodeConflict, "the slug %q is taken", slug)
		}
		taken[slug] = true
		return slug, nil
	}
	got, err := CreateWithSlug("", "Acme", "org", create)
	if err != nil || !strings.HasPrefix(got, "acme-") || !slugSchema.MatchString(got) {
		t.Fatalf("a made-up slug that is taken gets a suffix: %q, %v", got, err)
	}
	if _, err := CreateWithSlug("acme", "Acme", "org", create); ErrorCode(err) != CodeConflict {
		t.Fatalf("a chosen slug that is taken is a conflict, got %v", err)
	}
}
