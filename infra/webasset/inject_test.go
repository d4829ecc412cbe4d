package webasset

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestInjectAPIBase(t *testing.T) {
	tests := []struct {
		name, in, base, want string
	}{
		{
			name: "inserted after head",
			in:   `<!doctype html><html><head><title>x</title></head><body></body></html>`,
			base: "https://d1.cloudfront.net/api/v1",
			want: `<!doctype html><html><head><meta name="miyabi-api-base" content="https://d1.cloudfront.net/api/v1"><title>x</title></head><body></body></html>`,
		},
		{
			name: "head with attributes",
			in:   `<html><head lang="en">` + "\n" + `</head></html>`,
			base: "/api/v1",
			want: `<html><head lang="en"><meta name="miyabi-api-base" content="/api/v1">` + "\n" + `</head></html>`,
		},
		{
			name: "existing tag replaced",
			in:   `<html><head><meta charset="utf-8"><meta name="miyabi-api-base" content="/api/v1" /><title>x</title></head></html>`,
			base: "https://abc.execute-api.us-west-2.amazonaws.com/api/v1",
			want: `<html><head><meta charset="utf-8"><meta name="miyabi-api-base" content="https://abc.execute-api.us-west-2.amazonaws.com/api/v1"><title>x</title></head></html>`,
		},
		{
			name: "value escaped",
			in:   `<html><head></head></html>`,
			base: `x"><script>alert(1)</script>`,
			want: `<html><head><meta name="miyabi-api-base" content="x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"></head></html>`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := InjectAPIBase([]byte(tc.in), tc.base)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			again, err := InjectAPIBase(got, tc.base)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, got) {
				t.Errorf("injecting twice changed the document:\n%s", again)
			}
		})
	}
}

func TestInjectAPIBaseNeedsHead(t *testing.T) {
	if _, err := InjectAPIBase([]byte(`<p>no head here</p>`), "/api/v1"); err == nil {
		t.Fatal("want an error when there is no <head>")
	}
}

// Only the meta tag changes; the script and stylesheet links that name the hashed
// assets must stay byte for byte.
func TestInjectKeepsTheRestOfARealIndex(t *testing.T) {
	in, err := os.ReadFile("testdata/dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	out, err := InjectAPIBase(in, "https://example.cloudfront.net/api/v1")
	if err != nil {
		t.Fatal(err)
	}
	tag := `<meta name="miyabi-api-base" content="https://example.cloudfront.net/api/v1">`
	if got := strings.Replace(string(out), tag, "", 1); got != string(in) {
		t.Errorf("injection changed more than the tag:\n%s", out)
	}
}
