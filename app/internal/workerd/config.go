// Package workerd is the worker daemon: it claims tasks from the Miyabi API under a
// lease, runs each task's agent command, streams its output as logs, heartbeats to keep
// its leases and hear about cancels, and reports each result until the API accepts it.
package workerd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultCommand is how a task becomes a process; placeholders are substituted inside
// single arguments, never through a shell.
const DefaultCommand = "miyabi agent run {agent_type} --issue {issue_number} --repository {repository}"

// DefaultRetries bounds a call that must arrive: with the backoff (100 ms doubling to
// 5 s) 8 attempts span about 15 s.
const DefaultRetries = 8

// Config is everything the daemon reads at start.
type Config struct {
	APIURL      string
	Token       string
	AgentTypes  []string // narrows the worker's registered types; empty = all of them
	Concurrency int
	Command     []string // the template, split into arguments
	Lease       time.Duration
	Heartbeat   time.Duration
	Poll        time.Duration
	// IdlePoll is the wait between empty claims while the events WebSocket is connected:
	// work.available wakes the worker, the poll is only a safety net.
	IdlePoll time.Duration
	// Live subscribes to the events WebSocket (work.available) instead of polling.
	Live  bool
	Grace time.Duration // how long SIGTERM waits for running tasks
	// Deliver bounds how long a stopping daemon keeps trying to hand over finished results
	// once the grace is over.
	Deliver time.Duration
	// Retries is how many attempts a call that must arrive (logs, a result) makes before
	// the task fails with the error (DefaultRetries).
	Retries int
	Version string
}

// ParseConfig reads flags, falling back to MIYABI_* environment variables.
func ParseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	envDur := func(name string, def time.Duration) time.Duration {
		if d, err := time.ParseDuration(getenv(name)); err == nil {
			return d
		}
		return def
	}
	envInt := func(name string, def int) int {
		if n, err := strconv.Atoi(getenv(name)); err == nil {
			return n
		}
		return def
	}
	var c Config
	var types, command string
	fs.StringVar(&c.APIURL, "api-url", env("MIYABI_API_URL", "http://127.0.0.1:8080/api/v1"), "the API base URL (env MIYABI_API_URL)")
	fs.StringVar(&c.Token, "token", getenv("MIYABI_WORKER_TOKEN"), "the worker token mw_... (env MIYABI_WORKER_TOKEN; prefer the environment)")
	fs.StringVar(&types, "agent-types", getenv("MIYABI_AGENT_TYPES"), "comma-separated agent types to run; all the worker's types when empty (env MIYABI_AGENT_TYPES)")
	fs.IntVar(&c.Concurrency, "concurrency", envInt("MIYABI_WORKER_CONCURRENCY", 1), "tasks run at once (env MIYABI_WORKER_CONCURRENCY)")
	fs.StringVar(&command, "command", env("MIYABI_WORKER_COMMAND", DefaultCommand),
		"the command per task; placeholders {agent_type} {issue_number} {repository} {task_id} {execution_id} (env MIYABI_WORKER_COMMAND)")
	fs.DurationVar(&c.Lease, "lease", envDur("MIYABI_WORKER_LEASE", 60*time.Second), "lease asked for each task (env MIYABI_WORKER_LEASE)")
	fs.DurationVar(&c.Heartbeat, "heartbeat", envDur("MIYABI_WORKER_HEARTBEAT", 0), "heartbeat interval; lease/4 when 0 (env MIYABI_WORKER_HEARTBEAT)")
	fs.DurationVar(&c.Poll, "poll", envDur("MIYABI_WORKER_POLL", 2*time.Second), "wait between empty claims (env MIYABI_WORKER_POLL)")
	fs.DurationVar(&c.IdlePoll, "idle-poll", envDur("MIYABI_WORKER_IDLE_POLL", 30*time.Second), "wait between empty claims while subscribed to live events (env MIYABI_WORKER_IDLE_POLL)")
	fs.BoolVar(&c.Live, "live", env("MIYABI_WORKER_LIVE", "true") == "true", "claim when the API announces work.available over its events WebSocket (env MIYABI_WORKER_LIVE)")
	fs.DurationVar(&c.Grace, "grace", envDur("MIYABI_WORKER_GRACE", 30*time.Second), "on SIGTERM, how long running tasks may finish (env MIYABI_WORKER_GRACE)")
	fs.DurationVar(&c.Deliver, "deliver-timeout", envDur("MIYABI_WORKER_DELIVER_TIMEOUT", 10*time.Second), "after the grace, how long to keep trying to report finished tasks (env MIYABI_WORKER_DELIVER_TIMEOUT)")
	fs.IntVar(&c.Retries, "retries", envInt("MIYABI_WORKER_RETRIES", DefaultRetries), "attempts for a log batch or a result before the task fails with the error (env MIYABI_WORKER_RETRIES)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("--api-url: must be an http(s) URL, not %q", c.APIURL)
	} else if u.Path == "" || u.Path == "/" {
		c.APIURL = strings.TrimRight(c.APIURL, "/") + "/api/v1"
	}
	if !strings.HasPrefix(c.Token, "mw_") {
		bad("--token (MIYABI_WORKER_TOKEN): a worker token mw_... is required; create one with POST /workers")
	}
	for _, t := range strings.Split(types, ",") {
		if t = strings.TrimSpace(t); t != "" {
			c.AgentTypes = append(c.AgentTypes, t)
		}
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		bad("--concurrency: must be 1..64, not %d", c.Concurrency)
	}
	var err error
	if c.Command, err = SplitCommand(command); err != nil {
		bad("--command: %v", err)
	}
	if c.Lease < time.Second || c.Lease > 10*time.Minute || c.Lease%time.Second != 0 {
		bad("--lease: must be whole seconds from 1s to 10m, not %s", c.Lease)
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = c.Lease / 4
	}
	if c.Heartbeat <= 0 || c.Heartbeat >= c.Lease/3 {
		bad("--heartbeat: must be shorter than a third of the lease (%s), not %s", c.Lease, c.Heartbeat)
	}
	if c.Poll <= 0 || c.IdlePoll <= 0 {
		bad("--poll and --idle-poll: must be positive")
	}
	if c.Retries < 1 || c.Retries > 100 {
		bad("--retries: must be 1..100, not %d", c.Retries)
	}
	if c.Grace < 0 || c.Deliver < 0 {
		bad("--grace and --deliver-timeout must not be negative")
	}
	return c, errors.Join(errs...)
}

// SplitCommand splits a command template into arguments on blanks, honouring single and
// double quotes (no escapes, no variables: nothing a shell would expand).
func SplitCommand(s string) ([]string, error) {
	var (
		args    []string
		cur     strings.Builder
		inArg   bool
		quote   rune
		started bool
	)
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inArg, started = r, true, true
		case r == ' ' || r == '\t' || r == '\n':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg, started = true, true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed quote in %q", s)
	}
	if inArg {
		args = append(args, cur.String())
	}
	if !started || len(args) == 0 || args[0] == "" {
		return nil, errors.New("empty command")
	}
	return args, nil
}

// Expand substitutes a task's values into each argument of the template.
func Expand(template []string, vars map[string]string) []string {
	pairs := make([]string, 0, 2*len(vars))
	for k, v := range vars {
		pairs = append(pairs, "{"+k+"}", v)
	}
	r := strings.NewReplacer(pairs...)
	out := make([]string, len(template))
	for i, a := range template {
		out[i] = r.Replace(a)
	}
	return out
}
