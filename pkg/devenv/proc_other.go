//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package devenv

import (
	"context"
	"errors"
	"syscall"
)

// errUnsupported: detached agents and pid-file management need a Unix.
var errUnsupported = errors.New("drover dev needs Linux, macOS or a BSD")

func detached() *syscall.SysProcAttr { return nil }

func signalPid(int, syscall.Signal) error { return errUnsupported }

func alive(int) bool { return false }

func cmdline(context.Context, int) ([]string, error) { return nil, errUnsupported }

func lockDir(context.Context, string) (func(), error) { return nil, errUnsupported }
