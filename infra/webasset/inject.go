// Package webasset prepares the built dashboard for serving: it builds it once,
// lists its files with their content types and cache headers, and writes the API base
// into index.html. The Pulumi program and the app's local server share it, so the
// dashboard finds its API the same way on a laptop and on AWS.
package webasset

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"strings"

	xhtml "golang.org/x/net/html"
)

// APIBaseMeta is the name of the meta tag the dashboard reads its API base from.
const APIBaseMeta = "miyabi-api-base"

// InjectAPIBase sets <meta name="miyabi-api-base" content="apiBase"> in indexHTML:
// the content is replaced when the tag exists, otherwise the tag is inserted right
// after <head>. Every other byte of the document is kept, so one dashboard build
// serves every stack.
func InjectAPIBase(indexHTML []byte, apiBase string) ([]byte, error) {
	tag := `<meta name="` + APIBaseMeta + `" content="` + html.EscapeString(apiBase) + `">`

	z := xhtml.NewTokenizer(bytes.NewReader(indexHTML))
	offset, headEnd := 0, -1
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			if errors.Is(z.Err(), io.EOF) {
				break
			}
			return nil, fmt.Errorf("webasset: parse index.html: %w", z.Err())
		}
		start := offset
		offset += len(z.Raw())
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		switch {
		case string(name) == "head" && headEnd < 0:
			headEnd = offset
		case string(name) == "meta" && hasAttr && isAPIBaseMeta(z):
			return splice(indexHTML, start, offset, tag), nil
		}
	}
	if headEnd < 0 {
		return nil, errors.New("webasset: index.html has no <head> to put the API base in")
	}
	return splice(indexHTML, headEnd, headEnd, tag), nil
}

func isAPIBaseMeta(z *xhtml.Tokenizer) bool {
	for {
		key, val, more := z.TagAttr()
		if string(key) == "name" && strings.EqualFold(string(val), APIBaseMeta) {
			return true
		}
		if !more {
			return false
		}
	}
}

func splice(doc []byte, from, to int, insert string) []byte {
	out := make([]byte, 0, len(doc)+len(insert))
	out = append(out, doc[:from]...)
	out = append(out, insert...)
	return append(out, doc[to:]...)
}
