package lambdatest

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// Another process taking the Runtime API's port between the pick and the bind (seen in
// CI with several packages' tests at once) starts the emulator again on other ports
// instead of failing the test that needed it.
func TestStartRetriesWhenAPortWasTaken(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the emulator and the bootstrap")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bs, err := BuildBootstrap(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	rie, err := BuildEmulator(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	pick := freeAddr
	defer func() { freeAddr = pick }()
	calls := 0
	freeAddr = func() (string, error) {
		calls++
		if calls == 2 { // the first start's Runtime API address
			return taken.Addr().String(), nil
		}
		return pick()
	}

	sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
	defer scancel()
	e, err := Start(sctx, rie, bs.BinaryPath, map[string]string{})
	if err != nil {
		t.Fatalf("the emulator did not start on other ports: %v", err)
	}
	defer e.Stop()
	if calls < 4 {
		t.Fatalf("%d ports picked: the taken port did not make it start again", calls)
	}
	if strings.Contains(e.URL, taken.Addr().String()) {
		t.Fatalf("invoke URL %s uses the taken port", e.URL)
	}
	// and it serves: an invoke starts the bootstrap, whose init stops at the missing
	// configuration (reported as the function's failure, a 502 from the emulator)
	_, _ = e.Invoke(sctx, map[string]string{"action": "migrate"})
	if out := e.Output(); !strings.Contains(out, "START RequestId") || !strings.Contains(out, "miyabi: configuration") {
		t.Fatalf("the emulator did not run the bootstrap:\n%s", out)
	}
}
