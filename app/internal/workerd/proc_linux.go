package workerd

import "syscall"

// processGroup puts the agent in its own process group, so stopping a task stops
// everything it started, and has the kernel kill it if the worker itself dies.
func processGroup() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
