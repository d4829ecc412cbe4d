package webasset

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Build modes: auto rebuilds only when a source is newer than dist/index.html;
// always rebuilds; never uses dist as it is (for a CI that built it already).
const (
	BuildAuto   = "auto"
	BuildAlways = "always"
	BuildNever  = "never"
)

// Build makes sure dir/dist holds a build of the dashboard in dir and returns the
// dist path. It runs `npm ci` when node_modules is missing or older than
// package-lock.json, then `npm run build`.
func Build(ctx context.Context, dir, mode string) (string, error) {
	dist := filepath.Join(dir, "dist")
	index := filepath.Join(dist, "index.html")
	switch mode {
	case BuildNever:
		if _, err := os.Stat(index); err != nil {
			return "", fmt.Errorf("webasset: dashboard build is off but %s is missing: %w", index, err)
		}
		return dist, nil
	case BuildAuto:
		fresh, err := distIsFresh(dir, index)
		if err != nil {
			return "", err
		}
		if fresh {
			return dist, nil
		}
	case BuildAlways:
	default:
		return "", fmt.Errorf("webasset: build mode must be auto, always or never, not %q", mode)
	}

	if needsInstall(dir) {
		if err := npm(ctx, dir, "ci"); err != nil {
			return "", err
		}
	}
	if err := npm(ctx, dir, "run", "build"); err != nil {
		return "", err
	}
	if _, err := os.Stat(index); err != nil {
		return "", fmt.Errorf("webasset: npm run build did not write %s", index)
	}
	return dist, nil
}

func npm(ctx context.Context, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "npm", args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("webasset: npm %v in %s: %w\n%s", args, dir, err, out.Bytes())
	}
	return nil
}

func needsInstall(dir string) bool {
	marker, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if err != nil {
		return true
	}
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	return err != nil || lock.ModTime().After(marker.ModTime())
}

// distIsFresh reports whether index.html is newer than every source file; dist,
// node_modules and dot-directories are not sources.
func distIsFresh(dir, index string) (bool, error) {
	st, err := os.Stat(index)
	if err != nil {
		return false, nil
	}
	built := st.ModTime()
	newest := time.Time{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != dir && (name == "dist" || name == "node_modules" || name[0] == '.') {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.ModTime().After(newest) {
			newest = info.ModTime()
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("webasset: scan %s: %w", dir, err)
	}
	return !newest.After(built), nil
}
