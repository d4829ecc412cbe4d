// Package lambdatest runs the shipped artifact the way Lambda does: the `bootstrap`
// built by internal/artifact (the same function `make lambda` and the Pulumi program use)
// under the Lambda Runtime Interface Emulator (pinned as a Go tool in go.mod). The
// emulator test and the cold-start benchmark share it.
package lambdatest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miyabi/miyabi/internal/artifact"
)

// RIEPackage is the emulator's main package, pinned by the `tool` line in go.mod.
const RIEPackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// Arch is the GOARCH the emulator can run here: this machine's.
func Arch() string { return runtime.GOARCH }

// BuildBootstrap builds the Lambda package for this machine's architecture into dir
// with artifact.BuildLambda: exactly what ships, except GOARCH.
func BuildBootstrap(ctx context.Context, dir string) (artifact.Result, error) {
	root, err := RepoRoot()
	if err != nil {
		return artifact.Result{}, err
	}
	return artifact.BuildLambda(ctx, artifact.Options{RepoRoot: root, OutDir: dir, GOARCH: Arch()})
}

// BuildEmulator builds the pinned aws-lambda-rie into dir (from the module cache, or
// the module proxy on a clean machine) and returns its path.
func BuildEmulator(ctx context.Context, dir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "aws-lambda-rie")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, RIEPackage)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", RIEPackage, err, b)
	}
	return out, nil
}

// RepoRoot is the directory holding go.mod.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return artifact.FindRepoRoot(wd)
}

// Emulator is one running aws-lambda-rie with one bootstrap. It serves one invoke at a
// time; init happens on the first invoke, as on Lambda.
type Emulator struct {
	URL string // the invoke URL

	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// Start runs the emulator on free loopback ports with the bootstrap and exactly env
// (plus PATH and HOME), and waits until it accepts invokes. Stop it when done.
//
// The ports are picked free and then handed to the emulator, so another process may take
// one in between (tests of several packages run at once): an emulator that exits with
// "address already in use" is started again on other ports, a few times.
func Start(ctx context.Context, rie, bootstrap string, env map[string]string) (*Emulator, error) {
	for attempt := 1; ; attempt++ {
		e, err := start(ctx, rie, bootstrap, env)
		if err == nil || attempt == 5 || !errors.Is(err, errPortTaken) {
			return e, err
		}
	}
}

// errPortTaken marks a start that lost one of its ports to another process.
var errPortTaken = errors.New("a port was taken before the emulator bound it")

func start(ctx context.Context, rie, bootstrap string, env map[string]string) (*Emulator, error) {
	rieAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	apiAddr, err := freeAddr() // the Runtime API, off its default :9001 so runs never collide
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", rieAddr,
		"--runtime-api-address", apiAddr,
		"--log-level", "error",
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// its own process group, so Stop ends the bootstrap the emulator started too
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	e := &Emulator{URL: "http://" + rieAddr + "/2015-03-31/functions/function/invocations", cmd: cmd,
		out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout = e.out
	cmd.Stderr = e.out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start emulator: %w", err)
	}
	go func() { _ = cmd.Wait(); close(e.done) }()

	deadline := time.Now().Add(15 * time.Second)
	for {
		// Ready when both of its ports answer and it is still running a moment later: the
		// Runtime API is bound by its own goroutine, which ends the process when its port
		// was taken, sometimes after the invoke port already answered.
		if listening(rieAddr) && listening(apiAddr) {
			select {
			case <-e.done:
			case <-time.After(300 * time.Millisecond):
				return e, nil
			}
		}
		select {
		case <-e.done:
			if strings.Contains(e.out.String(), "address already in use") {
				return nil, fmt.Errorf("%w:\n%s", errPortTaken, e.out.String())
			}
			return nil, fmt.Errorf("the emulator exited before it listened:\n%s", e.out.String())
		case <-ctx.Done():
			e.Stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.Stop()
			return nil, fmt.Errorf("the emulator did not listen on %s within 15s:\n%s", rieAddr, e.out.String())
		}
	}
}

// Invocation is the emulator's answer to one invoke.
type Invocation struct {
	Body []byte
	// FunctionError is set when the handler returned an error (errorMessage, errorType).
	FunctionError *FunctionError
	Took          time.Duration // client-side, from request to answer
}

// FunctionError is how Lambda reports a handler's error.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// Invoke sends one event and waits for the answer.
func (e *Emulator) Invoke(ctx context.Context, event any) (Invocation, error) {
	payload, err := json.Marshal(event)
	if err != nil {
		return Invocation{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(payload))
	if err != nil {
		return Invocation{}, err
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Invocation{}, fmt.Errorf("invoke: %w\nemulator output:\n%s", err, e.out.String())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	inv := Invocation{Body: body, Took: time.Since(start)}
	if err != nil {
		return inv, err
	}
	if resp.StatusCode != http.StatusOK {
		return inv, fmt.Errorf("invoke: emulator answered %d: %s\nemulator output:\n%s", resp.StatusCode, body, e.out.String())
	}
	var fe FunctionError
	if json.Unmarshal(body, &fe) == nil && fe.Type != "" && fe.Message != "" {
		inv.FunctionError = &fe
	}
	return inv, nil
}

// Output is everything the emulator and the bootstrap printed so far.
func (e *Emulator) Output() string { return e.out.String() }

// Stop ends the emulator and the bootstrap (their process group) and waits for them.
func (e *Emulator) Stop() {
	if e.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-e.done:
	case <-time.After(5 * time.Second):
	}
}

func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// freeAddr picks a loopback port nobody listens on (a variable so a test can hand out a
// taken one).
var freeAddr = func() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
