package webasset

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestFiles(t *testing.T) {
	files, err := Files("testdata/dist")
	if err != nil {
		t.Fatal(err)
	}
	want := []File{
		{Key: "assets/index-Bx1fX9aQ.js", ContentType: "text/javascript; charset=utf-8", CacheControl: CacheImmutable},
		{Key: "assets/index-C4pQ2mZr.css", ContentType: "text/css; charset=utf-8", CacheControl: CacheImmutable},
		{Key: "favicon.svg", ContentType: "image/svg+xml", CacheControl: "public, max-age=300"},
		{Key: "index.html", ContentType: "text/html; charset=utf-8", CacheControl: CacheNoCache},
	}
	if len(files) != len(want) {
		t.Fatalf("got %d files, want %d: %+v", len(files), len(want), files)
	}
	for i, w := range want {
		f := files[i]
		if f.Key != w.Key || f.ContentType != w.ContentType || f.CacheControl != w.CacheControl {
			t.Errorf("file %d = %+v, want %+v", i, f, w)
		}
		if f.Path != filepath.Join("testdata/dist", filepath.FromSlash(w.Key)) {
			t.Errorf("file %d path = %s", i, f.Path)
		}
	}
}

func TestContentTypeUnknown(t *testing.T) {
	if got := ContentType("LICENSE"); got != "application/octet-stream" {
		t.Errorf("ContentType(LICENSE) = %q", got)
	}
	if got := ContentType("assets/Font.WOFF2"); got != "font/woff2" {
		t.Errorf("ContentType(Font.WOFF2) = %q", got)
	}
}

func TestBuildNeverNeedsDist(t *testing.T) {
	if _, err := Build(context.Background(), t.TempDir(), BuildNever); err == nil {
		t.Fatal("want an error when dist is missing and the build is off")
	}
	if _, err := Build(context.Background(), t.TempDir(), "sometimes"); err == nil {
		t.Fatal("want an error for an unknown mode")
	}
}

// A fixture project whose build script writes dist/index.html: auto builds when dist
// is missing or stale and skips npm when dist is newer than every source.
func TestBuildAuto(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "package.json", `{"name":"fixture","version":"1.0.0","private":true,"scripts":{"build":"node build.js"}}`)
	write(t, dir, "package-lock.json", `{"name":"fixture","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"fixture","version":"1.0.0"}}}`)
	write(t, dir, "build.js", `const fs=require("fs");fs.mkdirSync("dist",{recursive:true});fs.writeFileSync("dist/index.html","<html><head></head>"+Date.now()+"</html>");`)
	old := time.Now().Add(-time.Hour)
	for _, f := range []string{"package.json", "package-lock.json", "build.js"} {
		os.Chtimes(filepath.Join(dir, f), old, old)
	}

	ctx := context.Background()
	dist, err := Build(ctx, dir, BuildAuto)
	if err != nil {
		t.Fatal(err)
	}
	first := read(t, filepath.Join(dist, "index.html"))

	// Fresh: nothing runs, the file stays as it was.
	if _, err := Build(ctx, dir, BuildAuto); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dist, "index.html")); got != first {
		t.Error("auto rebuilt a fresh dist")
	}

	// A source newer than dist: rebuilt.
	time.Sleep(5 * time.Millisecond)
	write(t, dir, "src.ts", "export {}")
	future := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "src.ts"), future, future)
	if _, err := Build(ctx, dir, BuildAuto); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dist, "index.html")); got == first {
		t.Error("auto did not rebuild a stale dist")
	}
}

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
