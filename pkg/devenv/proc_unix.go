//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package devenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// detached makes a child the leader of a new session (and so of its own
// process group), away from the terminal's signals: Ctrl-C on `drover dev`
// or closing its terminal does not stop the agents.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// signalPid sends sig to pid (the process only, not its group).
func signalPid(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }

// alive reports whether pid is a live process. A zombie whose parent has
// not reaped it yet is not alive, but only once all its threads are gone:
// the thread-group leader turns Z while other threads may still hold the
// process's files, its listening sockets among them.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	proc := "/proc/" + strconv.Itoa(pid)
	if b, err := os.ReadFile(proc + "/stat"); err == nil {
		// pid (comm) S ...: the state follows the last ')'.
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && b[i+2] == 'Z' {
			tasks, err := os.ReadDir(proc + "/task")
			return err == nil && len(tasks) > 1
		}
	}
	return true
}

// cmdline returns the argument vector of pid: /proc/<pid>/cmdline where
// there is one, else ps (split on blanks, so arguments with spaces are not
// kept whole).
func cmdline(ctx context.Context, pid int) ([]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err == nil {
		return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"), nil
	}
	if _, serr := os.Stat("/proc/self/cmdline"); serr == nil {
		return nil, err // there is a /proc, but not this pid
	}
	out, err := exec.CommandContext(ctx, "ps", "-ww", "-o", "command=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return nil, fmt.Errorf("ps -p %d: %w", pid, err)
	}
	return strings.Fields(string(out)), nil
}

// lockDir takes an exclusive lock on dir/lock, waiting (honouring ctx)
// while another Up or Down holds it.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	f, err := os.OpenFile(dir+"/"+lockName, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	delay := 50 * time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("lock %s (held by another drover dev): %w", f.Name(), ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, time.Second)
	}
}
