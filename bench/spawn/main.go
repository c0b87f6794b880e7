// Command spawn runs the command its arguments name, and writes its wall
// time and CPU time (user + system) in nanoseconds and its peak RSS in KiB
// to file descriptor 3: bench/ runs every measured process through it.
// The peak RSS the kernel reports for a child is at least its parent's at
// the fork (Go forks with vfork: the child shares its parent's memory
// until it execs), so that the parent must be this small process, not
// bench/ with its cases in memory, for a small child's to be its own.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

func main() {
	report := os.NewFile(3, "report")
	code, err := run(os.Args[1:], report)
	if err != nil {
		os.Stderr.WriteString("spawn: " + err.Error() + "\n")
		os.Exit(127)
	}
	os.Exit(code)
}

// run runs argv (a path, then its arguments) and writes what it measured
// to report as one line, "wall cpu rss": nanoseconds, nanoseconds, KiB. It
// returns the exit code spawn exits with: the child's, or 128 and its
// signal's number.
func run(argv []string, report io.Writer) (int, error) {
	if len(argv) == 0 {
		return 0, errors.New("usage: spawn COMMAND [ARG...]")
	}
	start := time.Now()
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{0, 1, 2}})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", argv[0], err)
	}
	var status syscall.WaitStatus
	var usage syscall.Rusage
	for {
		if _, err = syscall.Wait4(pid, &status, 0, &usage); err != syscall.EINTR {
			break
		}
	}
	wall := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("wait: %w", err)
	}
	cpu := usage.Utime.Nano() + usage.Stime.Nano()
	if _, err := fmt.Fprintf(report, "%d %d %d\n", wall.Nanoseconds(), cpu, usage.Maxrss); err != nil {
		return 0, fmt.Errorf("report: %w", err)
	}
	if status.Exited() {
		return status.ExitStatus(), nil
	}
	return 128 + int(status.Signal()), nil
}
