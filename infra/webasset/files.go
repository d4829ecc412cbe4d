package webasset

import (
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Cache-Control values. index.html must be revalidated on every load so a deploy is
// seen at once; Vite's assets/ carry a content hash in their names, so they never
// change and may be cached for a year.
const (
	CacheNoCache   = "no-cache"
	CacheImmutable = "public, max-age=31536000, immutable"
	cacheShort     = "public, max-age=300"
)

// File is one file of the built dashboard.
type File struct {
	Key          string // slash-separated path under dist, e.g. assets/index-abc123.js
	Path         string // path on disk
	ContentType  string
	CacheControl string
}

// Files lists dist recursively in a fixed order.
func Files(dist string) ([]File, error) {
	var out []File
	err := filepath.WalkDir(dist, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dist, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		out = append(out, File{Key: key, Path: p, ContentType: ContentType(key), CacheControl: CacheControl(key)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("webasset: list %s: %w", dist, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// CacheControl is the Cache-Control header for the file at key.
func CacheControl(key string) string {
	switch {
	case strings.HasSuffix(key, ".html"):
		return CacheNoCache
	case strings.HasPrefix(key, "assets/"):
		return CacheImmutable
	default:
		// public/ files (favicon, robots.txt) keep their names across builds.
		return cacheShort
	}
}

// contentTypes is explicit rather than mime.TypeByExtension, whose answer depends on
// the machine's /etc/mime.types and would make deploys differ between laptops.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".map":         "application/json",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/x-icon",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".txt":         "text/plain; charset=utf-8",
	".xml":         "application/xml",
	".wasm":        "application/wasm",
}

// ContentType is the Content-Type for the file at key.
func ContentType(key string) string {
	if ct, ok := contentTypes[strings.ToLower(path.Ext(key))]; ok {
		return ct
	}
	return "application/octet-stream"
}
