// Command demoagent stands in for a real coding agent in development and tests: it
// prints progress lines on stdout and stderr, takes its time, and ends with the result
// line a worker reads, e.g. {"pr_number":123,"quality_score":87.5,"summary":"..."}.
//
//	demoagent [flags] <agent_type>
//
// The knobs exist for tests: --sleep (or --wait-file) holds it mid-task, --pid-file
// tells a test which process to watch, --exit-code fails it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demoagent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	issue := fs.Int("issue", 0, "issue number")
	repo := fs.String("repository", "", "owner/name")
	steps := fs.Int("steps", 5, "progress steps to print")
	stepDelay := fs.Duration("step-delay", 400*time.Millisecond, "time per step")
	sleep := fs.Duration("sleep", 0, "extra time to spend before the result")
	waitFile := fs.String("wait-file", "", "wait until this file exists before the result")
	pidFile := fs.String("pid-file", "", "write the process id here at start")
	exitCode := fs.Int("exit-code", 0, "exit with this code instead of a result")
	// accept an empty --issue value: a task without an issue substitutes ""
	for i, a := range args {
		if a == "--issue" && i+1 < len(args) && args[i+1] == "" {
			args[i+1] = "0"
		}
	}
	// flags may come before or after the agent type
	agentType := ""
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		if agentType == "" {
			agentType = fs.Arg(0)
		}
		args = fs.Args()[1:]
	}
	if agentType == "" {
		agentType = "codegen"
	}
	if *pidFile != "" {
		if err := os.WriteFile(*pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			fmt.Fprintln(stderr, "pid file:", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "%s agent starting on %s issue #%d\n", agentType, orDefault(*repo, "(no repository)"), *issue)
	phases := []string{"reading the issue", "exploring the code", "writing changes", "running the tests", "opening the pull request"}
	for i := range *steps {
		if !pause(ctx, *stepDelay) {
			fmt.Fprintln(stderr, "interrupted")
			return 130
		}
		fmt.Fprintf(stdout, "[%d/%d] %s\n", i+1, *steps, phases[i%len(phases)])
		if i%2 == 1 {
			fmt.Fprintf(stderr, "note: step %d took %s\n", i+1, *stepDelay)
		}
	}
	if !pause(ctx, *sleep) {
		fmt.Fprintln(stderr, "interrupted")
		return 130
	}
	for *waitFile != "" {
		if _, err := os.Stat(*waitFile); err == nil {
			break
		}
		if !pause(ctx, 20*time.Millisecond) {
			return 130
		}
	}
	if *exitCode != 0 {
		fmt.Fprintf(stderr, "error: the %s agent gave up\n", agentType)
		return *exitCode
	}
	pr := 100 + *issue
	if *issue == 0 {
		pr = 100 + os.Getpid()%900
	}
	score := 70 + float64((pr*37)%300)/10
	res, _ := json.Marshal(map[string]any{"pr_number": pr, "quality_score": score,
		"summary": fmt.Sprintf("%s agent opened PR #%d for issue #%d", agentType, pr, *issue)})
	fmt.Fprintln(stdout, string(res))
	return 0
}

func pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
