package main

import (
	"strings"
	"testing"
)

// A deploy whose build no longer has a chunk the previous deploy uploaded re-writes that
// chunk tagged as retired, so the lifecycle rule expires it 30 days later; current chunks
// are left alone, and the deploy exports its own chunks for the next one.
func TestRetiredDashboardAssetsExpire(t *testing.T) {
	const gone = "assets/index-0ld0ld00.js"
	current := "assets/index-Bx1fX9aQ.js assets/index-C4pQ2mZr.css" // the fixture build
	m := &mocks{previousAssets: current + " " + gone}
	run, err := runStackWith(t, "staging", stackConfig(t, "staging"), testBuilders(t, ""), m)
	if err != nil {
		t.Fatal(err)
	}
	if got := run.outputs[assetsOutput]; got != current {
		t.Fatalf("%s output = %q, want %q", assetsOutput, got, current)
	}
	ref := run.one(t, "pulumi:pulumi:StackReference", "previous-deploy")
	if name, _ := ref.Inputs["name"].(string); !strings.HasSuffix(name, "miyabi/staging") {
		t.Errorf("the stack reference reads %q, not the stack itself", name)
	}

	copies := run.all("aws:s3/objectCopy:ObjectCopy")
	if len(copies) != 1 {
		t.Fatalf("%d objects retired, want 1 (%s): %+v", len(copies), gone, copies)
	}
	c := copies[0]
	bucket := run.outputs["bucketName"]
	if c.Inputs["key"] != gone || c.Inputs["source"] != bucket+"/"+gone || c.Inputs["bucket"] != bucket {
		t.Errorf("retired copy: bucket %v key %v source %v", c.Inputs["bucket"], c.Inputs["key"], c.Inputs["source"])
	}
	tags, _ := c.Inputs["tags"].(map[string]any)
	if tags[retiredTag] != "true" || c.Inputs["taggingDirective"] != "REPLACE" {
		t.Errorf("retired copy is not tagged %s: %v", retiredTag, c.Inputs)
	}
	// the copy keeps what browsers get for the chunk, and S3 accepts a self-copy only
	// when it changes metadata
	if c.Inputs["metadataDirective"] != "REPLACE" || c.Inputs["contentType"] != "text/javascript; charset=utf-8" ||
		c.Inputs["cacheControl"] != "public, max-age=31536000, immutable" {
		t.Errorf("retired copy headers: %v", c.Inputs)
	}
	if !c.Retain {
		t.Error("dropping the retired copy from the program would delete the chunk at once")
	}

	lc := run.one(t, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "dashboard")
	var found bool
	for _, r := range lc.Inputs["rules"].([]any) {
		rule := r.(map[string]any)
		filter, _ := rule["filter"].(map[string]any)
		tag, _ := filter["tag"].(map[string]any)
		if tag == nil || tag["key"] != retiredTag {
			continue
		}
		found = true
		exp, _ := rule["expiration"].(map[string]any)
		if tag["value"] != "true" || rule["status"] != "Enabled" || exp == nil || exp["days"] != float64(retiredAssetDays) {
			t.Errorf("retired-assets rule: %v", rule)
		}
		if filter["prefix"] != nil && filter["prefix"] != "" {
			t.Errorf("retired-assets rule also filters on prefix %v", filter["prefix"])
		}
	}
	if !found {
		t.Fatal("no lifecycle rule expires retired assets")
	}
	// the only other rule with an expiration removes leftover delete markers, never a
	// current object by age
	for _, r := range lc.Inputs["rules"].([]any) {
		rule := r.(map[string]any)
		if exp, _ := rule["expiration"].(map[string]any); exp != nil && exp["days"] != nil {
			if filter, _ := rule["filter"].(map[string]any); filter["tag"] == nil {
				t.Errorf("rule %v expires objects by age without the retired tag", rule["id"])
			}
		}
	}
}

// A first deploy (nothing exported yet) and a deploy of the same build retire nothing.
func TestNoRetiredAssetsWithoutAChangedBuild(t *testing.T) {
	for name, prev := range map[string]string{"first deploy": "", "same build": "assets/index-Bx1fX9aQ.js assets/index-C4pQ2mZr.css"} {
		t.Run(name, func(t *testing.T) {
			run, err := runStackWith(t, "staging", stackConfig(t, "staging"), testBuilders(t, ""), &mocks{previousAssets: prev})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(run.all("aws:s3/objectCopy:ObjectCopy")); n != 0 {
				t.Fatalf("%d assets retired", n)
			}
		})
	}
}
