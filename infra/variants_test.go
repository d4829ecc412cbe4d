package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miyabi/miyabi/infra/webasset"
)

// The dashboard calls API Gateway directly: CORS names exactly the dashboard, the
// distribution has no /api/* behaviour, and the app does not require the origin header.
func TestDashboardAPIBaseGateway(t *testing.T) {
	cfg := stackConfig(t, "staging")
	cfg["miyabi:dashboardApiBase"] = "apigateway"
	run, err := runStack(t, "staging", cfg, testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	checkPolicies(t, run)
	api := run.one(t, "aws:apigatewayv2/api:Api", "http").Inputs
	if origins := strs(get(api, "corsConfiguration", "allowOrigins")); len(origins) != 1 || origins[0] != "https://"+fakeCDNHost {
		t.Errorf("CORS origins = %v, want exactly the dashboard", origins)
	}
	if want := "https://" + fakeAPIHost + "/api/v1"; run.outputs["apiUrl"] != want {
		t.Errorf("apiUrl = %q, want %q", run.outputs["apiUrl"], want)
	}
	index := run.one(t, "aws:s3/bucketObjectv2:BucketObjectv2", "dashboard/index.html").Inputs
	if !strings.Contains(index["content"].(string), `content="https://`+fakeAPIHost+`/api/v1"`) {
		t.Error("index.html does not carry the API Gateway base")
	}
}

func TestCustomDomain(t *testing.T) {
	cfg := stackConfig(t, "production")
	cfg["miyabi:domainName"] = "app.example.com"
	cfg["miyabi:certificateArn"] = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"
	run, err := runStack(t, "production", cfg, testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	checkPolicies(t, run)
	if run.outputs["dashboardUrl"] != "https://app.example.com" || run.outputs["apiUrl"] != "https://app.example.com/api/v1" {
		t.Errorf("outputs = %v, want the custom domain", run.outputs)
	}
}

// The uploaded index.html carries the stack's API base; every other object is the
// build's file, byte for byte.
func TestDashboardUpload(t *testing.T) {
	run, err := runStack(t, "staging", stackConfig(t, "staging"), testBuilders(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	checkUpload(t, run, fixtureDist(t))
}

// The same over the real dashboard, built with `npm ci && npm run build` when its
// dist is missing or stale.
func TestRealDashboardUpload(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("..", "dashboard"))
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		t.Skip("dashboard/package.json does not exist yet")
	}
	ctx, cancel := contextWithTimeout(t, 10*time.Minute)
	defer cancel()
	dist, err := webasset.Build(ctx, dir, webasset.BuildAuto)
	if err != nil {
		t.Fatal(err)
	}
	run, err := runStack(t, "production", stackConfig(t, "production"), testBuilders(t, dist))
	if err != nil {
		t.Fatal(err)
	}
	checkUpload(t, run, dist)
}

func checkUpload(t *testing.T, run *stackRun, dist string) {
	t.Helper()
	files, err := webasset.Files(dist)
	if err != nil {
		t.Fatal(err)
	}
	objects := run.all("aws:s3/bucketObjectv2:BucketObjectv2")
	if len(objects) != len(files) {
		t.Errorf("%d objects for %d files", len(objects), len(files))
	}
	for _, f := range files {
		o := run.one(t, "aws:s3/bucketObjectv2:BucketObjectv2", "dashboard/"+f.Key).Inputs
		if o["key"] != f.Key || o["contentType"] != f.ContentType || o["cacheControl"] != f.CacheControl {
			t.Errorf("%s: key/type/cache = %v/%v/%v", f.Key, o["key"], o["contentType"], o["cacheControl"])
		}
		want, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if f.Key == "index.html" {
			tag := `<meta name="miyabi-api-base" content="` + run.outputs["apiUrl"] + `">`
			got, _ := o["content"].(string)
			if !strings.Contains(got, tag) {
				t.Errorf("index.html lacks %s", tag)
			}
			if o["cacheControl"] != webasset.CacheNoCache {
				t.Errorf("index.html Cache-Control = %v", o["cacheControl"])
			}
			continue
		}
		src, _ := get(o, "source", "assetPath").(string)
		got, err := os.ReadFile(src)
		if err != nil {
			t.Fatalf("%s: source %q: %v", f.Key, src, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: uploaded bytes differ from dist", f.Key)
		}
		if strings.HasPrefix(f.Key, "assets/") && o["cacheControl"] != webasset.CacheImmutable {
			t.Errorf("%s: Cache-Control = %v, want immutable", f.Key, o["cacheControl"])
		}
	}
}
