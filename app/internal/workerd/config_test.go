package workerd

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCommandTemplateNeverGoesThroughAShell(t *testing.T) {
	tmpl, err := SplitCommand(`miyabi agent run {agent_type} --issue {issue_number} --repository {repository} --note "two words" --x='{task_id}'`)
	if err != nil {
		t.Fatal(err)
	}
	got := Expand(tmpl, map[string]string{"agent_type": "codegen", "issue_number": "7", "repository": "o/r; rm -rf /", "task_id": "$(id)"})
	want := []string{"miyabi", "agent", "run", "codegen", "--issue", "7", "--repository", "o/r; rm -rf /", "--note", "two words", "--x=$(id)"}
	if !slices.Equal(got, want) {
		t.Fatalf("argv %q, want %q", got, want)
	}
	for _, bad := range []string{"", "   ", `"unclosed`, `''`} {
		if _, err := SplitCommand(bad); err == nil {
			t.Errorf("SplitCommand(%q) accepted", bad)
		}
	}
}

func TestParseConfig(t *testing.T) {
	env := map[string]string{"MIYABI_WORKER_TOKEN": "mw_abc", "MIYABI_AGENT_TYPES": "codegen, review", "MIYABI_WORKER_LEASE": "30s"}
	c, err := ParseConfig([]string{"--concurrency", "4", "--api-url", "http://127.0.0.1:9"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.APIURL != "http://127.0.0.1:9/api/v1" || c.Concurrency != 4 || !slices.Equal(c.AgentTypes, []string{"codegen", "review"}) ||
		c.Lease != 30*time.Second || c.Heartbeat != 7500*time.Millisecond || c.Command[0] != "miyabi" {
		t.Fatalf("config %+v", c)
	}
	cases := map[string][]string{
		"--token":       {"--token", "eyJhbGciOi"},
		"--concurrency": {"--token", "mw_x", "--concurrency", "0"},
		"--heartbeat":   {"--token", "mw_x", "--lease", "3s", "--heartbeat", "1s"},
		"--lease":       {"--token", "mw_x", "--lease", "1500ms"},
		"--api-url":     {"--token", "mw_x", "--api-url", "ftp://x"},
		"--command":     {"--token", "mw_x", "--command", `"`},
	}
	for flag, args := range cases {
		t.Run(flag, func(t *testing.T) {
			_, err := ParseConfig(args, func(string) string { return "" }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), flag) {
				t.Fatalf("error %v, want one naming %s", err, flag)
			}
		})
	}
}

func TestLongLinesAreSplitForTheAPI(t *testing.T) {
	long := strings.Repeat("é", maxLineBytes) // 2 bytes each
	var got []string
	readLines(strings.NewReader("short\n"+long+"\nlast"), func(l string) { got = append(got, l) })
	if len(got) != 4 || got[0] != "short" || got[3] != "last" || strings.Join(got[1:3], "") != long {
		t.Fatalf("got %d lines", len(got))
	}
	for _, l := range got {
		if len(l) > maxLineBytes || !strings.HasPrefix(l, "é") && l != "short" && l != "last" {
			t.Fatalf("line of %d bytes or cut inside a character", len(l))
		}
	}
}
