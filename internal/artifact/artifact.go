// Package artifact builds the Lambda deployment package: the app compiled for
// provided.al2023 and zipped so that the same source always gives the same bytes.
// It lives outside both app/ and infra/ because three users share it: `make lambda`
// and the Pulumi program (infra/), and the emulator tests and cold-start benchmark
// (app/internal/lambdafn/lambdatest, lambdabench). It imports nothing of either, and no
// Pulumi, so app/ never depends on infra/ (deps_test.go checks it).
package artifact

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Options says what to build and where.
type Options struct {
	RepoRoot string // directory holding go.mod
	OutDir   string // where bootstrap and bootstrap.zip go; relative paths are under RepoRoot
	GOARCH   string // arm64 (what the stacks run) or amd64
	Package  string // main package to build; "./app" when empty
	Go       string // go binary; "go" when empty
}

// Result is the built package.
type Result struct {
	ZipPath      string
	BinaryPath   string
	SHA256       string // hex, for people
	SHA256Base64 string // base64, what lambda.Function's SourceCodeHash expects
	Size         int64  // zip size in bytes
}

// zipTime is fixed so the zip does not change with the clock; 1980-01-01 is the
// earliest time the zip format can hold.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// BuildLambda compiles the package as `bootstrap` for linux/GOARCH and writes
// bootstrap.zip next to it.
func BuildLambda(ctx context.Context, opts Options) (Result, error) {
	if opts.RepoRoot == "" {
		return Result{}, errors.New("artifact: RepoRoot is required")
	}
	if opts.GOARCH != "arm64" && opts.GOARCH != "amd64" {
		return Result{}, fmt.Errorf("artifact: GOARCH must be arm64 or amd64, not %q", opts.GOARCH)
	}
	pkg := opts.Package
	if pkg == "" {
		pkg = "./app"
	}
	goBin := opts.Go
	if goBin == "" {
		goBin = "go"
	}
	out := opts.OutDir
	if out == "" {
		return Result{}, errors.New("artifact: OutDir is required")
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(opts.RepoRoot, out)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return Result{}, fmt.Errorf("artifact: %w", err)
	}
	bin := filepath.Join(out, "bootstrap")

	// -trimpath and -buildvcs=false keep paths and the git state out of the binary, so
	// an unchanged app gives an unchanged hash and no spurious deploy. lambda.norpc
	// drops the legacy RPC mode that provided.al2023 never uses.
	cmd := exec.CommandContext(ctx, goBin, "build",
		"-tags", "lambda.norpc", "-trimpath", "-buildvcs=false",
		"-ldflags=-s -w", "-o", bin, pkg)
	cmd.Dir = opts.RepoRoot
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+opts.GOARCH, "CGO_ENABLED=0", "GOTOOLCHAIN="+Toolchain)
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return Result{}, fmt.Errorf("artifact: go build %s for linux/%s: %w\n%s", pkg, opts.GOARCH, err, stderr.Bytes())
	}

	zipPath := filepath.Join(out, "bootstrap.zip")
	if err := writeZip(bin, zipPath); err != nil {
		return Result{}, fmt.Errorf("artifact: %w", err)
	}
	return Describe(zipPath, bin)
}

// Toolchain is the Go release every artifact is built with, whatever Go runs the
// build: another patch release compiles other bytes, which would be another zip hash,
// a new Lambda version and a migration run for nothing. Raise it on purpose, with the
// go directive of go.mod. A machine with another Go fetches this one from the module
// proxy (the go command does it by itself).
const Toolchain = "go1.26.8"

// Describe hashes an existing zip; tests and callers that bring a prebuilt package
// use it to get the same Result the build returns.
func Describe(zipPath, binaryPath string) (Result, error) {
	f, err := os.Open(zipPath)
	if err != nil {
		return Result{}, fmt.Errorf("artifact: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Result{}, fmt.Errorf("artifact: hash %s: %w", zipPath, err)
	}
	sum := h.Sum(nil)
	return Result{
		ZipPath:      zipPath,
		BinaryPath:   binaryPath,
		SHA256:       hex.EncodeToString(sum),
		SHA256Base64: base64.StdEncoding.EncodeToString(sum),
		Size:         n,
	}, nil
}

// writeZip writes one entry, `bootstrap`, executable, with a fixed time, through a
// temporary file so a failed write never leaves a half zip that looks valid.
func writeZip(bin, zipPath string) error {
	body, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipTime}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	tmp := zipPath + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, zipPath)
}

// FindRepoRoot walks up from dir to the directory holding go.mod; `pulumi up` runs
// the program from infra/ and `go run` may run from anywhere in the repository.
func FindRepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("artifact: no go.mod above the working directory")
		}
		dir = parent
	}
}
