//go:build linux

package dirstat

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// byDirectory: Dirs holds directories open to stat by name in them.
const byDirectory = true

// At stats the file name in the open directory dir, whose full path is
// path (for errors). It follows symbolic links.
func At(dir uintptr, path, name string) (Stat, error) {
	var sys unix.Stat_t
	for {
		err := unix.Fstatat(int(dir), name, &sys, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return Stat{}, &os.PathError{Op: "stat", Path: path, Err: err}
		}
		return Stat{Size: sys.Size, Mtime: sys.Mtim.Nano(), Ctime: sys.Ctim.Nano(), Ino: sys.Ino, Regular: sys.Mode&unix.S_IFMT == unix.S_IFREG}, nil
	}
}

// File stats the file at path, following symbolic links.
func File(path string) (Stat, error) {
	var sys syscall.Stat_t
	for {
		err := syscall.Stat(path, &sys)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return Stat{}, &os.PathError{Op: "stat", Path: path, Err: err}
		}
		return Stat{Size: sys.Size, Mtime: sys.Mtim.Nano(), Ctime: sys.Ctim.Nano(), Ino: sys.Ino, Regular: sys.Mode&syscall.S_IFMT == syscall.S_IFREG}, nil
	}
}
