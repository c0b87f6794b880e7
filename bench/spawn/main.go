// Command spawn runs the command its arguments name, and writes its wall
// time and CPU time (user + system) in nanoseconds and its peak RSS in KiB
// to file descriptor 3: bench/ runs every measured process through it.
// The peak RSS the kernel reports for a child is at least its parent's at
// the fork (Go forks with vfork: the child shares its parent's memory
// until it execs), so that the parent must be this small process, not
// bench/ with its cases in memory, for a small child's to be its own.
package main

import (
	"os"
	"strconv"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: spawn COMMAND [ARG...]")
	}
	start := time.Now()
	pid, err := syscall.ForkExec(os.Args[1], os.Args[1:], &syscall.ProcAttr{Env: os.Environ(), Files: []uintptr{0, 1, 2}})
	if err != nil {
		fail(os.Args[1] + ": " + err.Error())
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
		fail("wait: " + err.Error())
	}
	cpu := usage.Utime.Nano() + usage.Stime.Nano()
	report := os.NewFile(3, "report")
	if _, err := report.WriteString(strconv.FormatInt(wall.Nanoseconds(), 10) + " " + strconv.FormatInt(cpu, 10) + " " + strconv.FormatInt(usage.Maxrss, 10) + "\n"); err != nil {
		fail("report: " + err.Error())
	}
	switch {
	case status.Exited():
		os.Exit(status.ExitStatus())
	default:
		os.Exit(128 + int(status.Signal()))
	}
}

func fail(msg string) {
	os.Stderr.WriteString("spawn: " + msg + "\n")
	os.Exit(127)
}
