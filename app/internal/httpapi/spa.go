package httpapi

import (
	"bytes"
	"html"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"
)

var metaAPIBase = regexp.MustCompile(`<meta\s+name="miyabi-api-base"\s+content="[^"]*"\s*/?>`)

// injectAPIBase sets the dashboard's API base meta tag, as the deploy does per stack.
func injectAPIBase(page []byte, apiBase string) []byte {
	tag := []byte(`<meta name="miyabi-api-base" content="` + html.EscapeString(apiBase) + `">`)
	if metaAPIBase.Match(page) {
		return metaAPIBase.ReplaceAllLiteral(page, tag)
	}
	return bytes.Replace(page, []byte("<head>"), append([]byte("<head>"), tag...), 1)
}

// serveDashboard serves the built dashboard for any path outside /api: a file when one
// exists, else index.html (deep links). /api/* never falls back to the page.
func (s *Server) serveDashboard(c *gin.Context) bool {
	p := c.Request.URL.Path
	if p == "/api" || strings.HasPrefix(p, "/api/") || (c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead) {
		return false
	}
	dir := s.cfg.DashboardDir
	if dir == "" {
		return false
	}
	clean := path.Clean("/" + p)
	if clean != "/" && !strings.HasSuffix(clean, "/index.html") {
		f := filepath.Join(dir, filepath.FromSlash(clean))
		if st, err := os.Stat(f); err == nil && !st.IsDir() {
			if strings.HasPrefix(clean, "/assets/") {
				c.Header("Cache-Control", "public, max-age=31536000, immutable")
			}
			c.File(f)
			return true
		}
		if strings.HasPrefix(clean, "/assets/") {
			return false // a missing asset is a 404, not the page
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		return false
	}
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "text/html; charset=utf-8", injectAPIBase(page, APIPrefix))
	return true
}
