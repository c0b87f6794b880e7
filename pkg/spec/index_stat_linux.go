//go:build linux

package spec

import (
	"os"
	"syscall"
)

// fileStat is what the index compares to tell that a file changed: size,
// modification and change times, and inode (a file replaced by a rename
// has another one). The change time cannot be set back by a tool that
// restores modification times.
type fileStat struct {
	size, mtime, ctime int64
	ino                uint64
}

func statFile(path string) (fileStat, error) {
	info, err := os.Stat(path)
	if err != nil {
		return fileStat{}, err
	}
	st := fileStat{size: info.Size(), mtime: info.ModTime().UnixNano()}
	if sys, ok := info.Sys().(*syscall.Stat_t); ok {
		st.ctime = sys.Ctim.Nano()
		st.ino = sys.Ino
	}
	return st, nil
}
