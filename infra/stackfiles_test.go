package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Top-level keys Pulumi knows. A misspelled `runtime:` makes `pulumi preview` show
// no resources and exit 0, and `pulumi up` would then delete the stack, so anything
// else is an error.
var (
	projectKeys = []string{"name", "runtime", "description", "main", "stackConfigDir", "backend", "options",
		"template", "config", "plugins", "packages", "author", "website", "license"}
	stackKeys = []string{"config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"}
)

func checkTopLevel(doc []byte, allowed []string) error {
	var top map[string]any
	if err := yaml.Unmarshal(doc, &top); err != nil {
		return err
	}
	var unknown []string
	for k := range top {
		if !contains0(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		return fmt.Errorf("unknown top-level keys %v", unknown)
	}
	return nil
}

func contains0(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestProjectFile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkTopLevel(b, projectKeys); err != nil {
		t.Fatalf("Pulumi.yaml: %v", err)
	}
	var p struct{ Name, Runtime, Main string }
	if err := yaml.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.Name != "miyabi" || p.Runtime != "go" || p.Main != "infra/" {
		t.Errorf("Pulumi.yaml = %+v, want name miyabi, runtime go, main infra/", p)
	}
	// The config keys the program reads are prefixed with the project name.
	if _, err := os.Stat(filepath.Join("..", p.Main, "main.go")); err != nil {
		t.Errorf("main %s: %v", p.Main, err)
	}
}

func TestTopLevelCheckCatchesTypos(t *testing.T) {
	if err := checkTopLevel([]byte("name: miyabi\nruntme: go\nmain: infra/\n"), projectKeys); err == nil {
		t.Error("a misspelled runtime key was accepted")
	}
	if err := checkTopLevel([]byte("confg:\n  miyabi:environment: staging\n"), stackKeys); err == nil {
		t.Error("a misspelled config key was accepted")
	}
}

// Every key in a stack file is one the program reads (a misspelled key would be
// ignored, and its default used, silently), and the stack files hold every key the
// program reads.
func TestStackFiles(t *testing.T) {
	for _, stack := range []string{"staging", "production"} {
		t.Run(stack, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "Pulumi."+stack+".yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if err := checkTopLevel(b, stackKeys); err != nil {
				t.Fatalf("Pulumi.%s.yaml: %v", stack, err)
			}
			doc := readStackFile(t, stack)
			if len(doc.Config) == 0 {
				t.Fatal("no config")
			}
			_, read, err := read(stackConfig(t, stack))
			if err != nil {
				t.Fatal(err)
			}
			for k := range doc.Config {
				if strings.HasPrefix(k, "miyabi:") && !read[k] {
					t.Errorf("%s is in Pulumi.%s.yaml but the program never reads it", k, stack)
				}
				if !strings.HasPrefix(k, "miyabi:") && !strings.HasPrefix(k, "aws:") {
					t.Errorf("%s: config for a provider this program does not use", k)
				}
			}
			for k := range read {
				if _, ok := doc.Config[k]; !ok {
					t.Errorf("the program reads %s but Pulumi.%s.yaml does not set it", k, stack)
				}
			}
			if doc.Config["miyabi:environment"] != stack {
				t.Errorf("miyabi:environment = %v in the %s stack", doc.Config["miyabi:environment"], stack)
			}
		})
	}
}
