//go:build linux

package spec

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// fileStat is what the index compares to tell that a file changed: size,
// modification and change times, and inode (a file replaced by a rename
// has another one). The change time cannot be set back by a tool that
// restores modification times.
type fileStat struct {
	size, mtime, ctime int64
	ino                uint64
}

// statAt stats the file name in the open directory dir, at path.
func statAt(dir uintptr, path, name string) (fileStat, error) {
	var sys unix.Stat_t
	for {
		err := unix.Fstatat(int(dir), name, &sys, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fileStat{}, &os.PathError{Op: "stat", Path: path, Err: err}
		}
		return fileStat{size: sys.Size, mtime: sys.Mtim.Nano(), ctime: sys.Ctim.Nano(), ino: sys.Ino}, nil
	}
}

func statFile(path string) (fileStat, error) {
	// syscall.Stat rather than os.Stat: a 5,000-spec project stats every
	// file on every call, and os.Stat allocates a FileInfo for each.
	var sys syscall.Stat_t
	for {
		err := syscall.Stat(path, &sys)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fileStat{}, &os.PathError{Op: "stat", Path: path, Err: err}
		}
		return fileStat{size: sys.Size, mtime: sys.Mtim.Nano(), ctime: sys.Ctim.Nano(), ino: sys.Ino}, nil
	}
}
