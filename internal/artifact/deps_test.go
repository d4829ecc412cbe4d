package artifact

import (
	"os/exec"
	"strings"
	"testing"
)

// app/ ships in the Lambda and runs the tests; infra/ deploys it. The dependency goes
// one way: nothing under app/ (tests included) may import infra/ or the Pulumi SDK, or
// the function would carry the deployment tooling and app tests would build it.
func TestAppDoesNotDependOnInfraOrPulumi(t *testing.T) {
	root := repoRoot(t)
	cmd := exec.Command("go", "list", "-deps", "-test", "-f", "{{.ImportPath}}", "./app/...")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var bad []string
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/miyabi/miyabi/infra") || strings.HasPrefix(p, "github.com/pulumi/") {
			bad = append(bad, p)
		}
	}
	if len(bad) > 0 {
		t.Fatalf("app/ depends on %v", bad)
	}
	if !strings.Contains(string(out), "github.com/miyabi/miyabi/internal/artifact") {
		t.Fatal("app/ no longer uses internal/artifact: the check above proves nothing; update it")
	}
}
