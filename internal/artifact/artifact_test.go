package artifact

import (
	"archive/zip"
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := FindRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func build(t *testing.T, pkg string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := BuildLambda(ctx, Options{RepoRoot: repoRoot(t), OutDir: t.TempDir(), GOARCH: "arm64", Package: pkg})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The zip is the deploy trigger: the same source must give the same bytes, or every
// `pulumi up` would redeploy the function and re-run the migrations.
func TestZipIsDeterministic(t *testing.T) {
	a := build(t, "./internal/artifact/testdata/hello")
	b := build(t, "./internal/artifact/testdata/hello")
	if a.SHA256 != b.SHA256 {
		t.Fatalf("two builds, two hashes: %s vs %s", a.SHA256, b.SHA256)
	}
	checkZip(t, a)
}

func checkZip(t *testing.T, res Result) {
	t.Helper()
	zr, err := zip.OpenReader(res.ZipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
		t.Fatalf("zip entries = %v, want exactly [bootstrap]", names(zr.File))
	}
	f := zr.File[0]
	if f.Mode().Perm() != 0o755 {
		t.Errorf("bootstrap mode = %v, want 0755 (Lambda must be able to exec it)", f.Mode())
	}
	if !f.Modified.Equal(zipTime) {
		t.Errorf("bootstrap time = %v, want the fixed %v", f.Modified, zipTime)
	}
}

func names(fs []*zip.File) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

// The artifact that ships: ./app for provided.al2023 on Graviton.
func TestBuildLambdaApp(t *testing.T) {
	if _, err := os.Stat(filepath.Join(repoRoot(t), "app", "main.go")); err != nil {
		t.Skip("app/main.go does not exist yet; the app artifact cannot be built")
	}
	a := build(t, "./app")
	checkZip(t, a)
	f, err := elf.Open(a.BinaryPath)
	if err != nil {
		t.Fatalf("bootstrap is not an ELF binary: %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		t.Errorf("bootstrap machine = %v, want EM_AARCH64", f.Machine)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		t.Errorf("bootstrap ELF type = %v, want an executable", f.Type)
	}
	const maxZip = 8 << 20
	if a.Size >= maxZip {
		t.Errorf("bootstrap.zip is %d bytes, want under %d", a.Size, maxZip)
	}
	t.Logf("bootstrap.zip %d bytes, sha256 %s", a.Size, a.SHA256)

	// Other work may change ./app between two builds; a third build that matches
	// the second still proves the build itself is deterministic.
	b := build(t, "./app")
	if a.SHA256 != b.SHA256 {
		c := build(t, "./app")
		if b.SHA256 != c.SHA256 {
			t.Errorf("consecutive builds of ./app, different hashes: %s, %s, %s", a.SHA256, b.SHA256, c.SHA256)
		}
	}
}

func TestBuildLambdaRejectsUnknownArch(t *testing.T) {
	_, err := BuildLambda(context.Background(), Options{RepoRoot: repoRoot(t), OutDir: t.TempDir(), GOARCH: "386"})
	if err == nil {
		t.Fatal("want an error for GOARCH=386")
	}
}
