//go:build unix && !linux

package workerd

import "syscall"

// processGroup puts the agent in its own process group, so stopping a task stops
// everything it started.
func processGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
