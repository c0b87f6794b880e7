//go:build !linux

package spec

import "os"

// fileStat is what the index compares to tell that a file changed: size
// and modification time (change time and inode on Linux).
type fileStat struct {
	size, mtime, ctime int64
	ino                uint64
}

func statFile(path string) (fileStat, error) {
	info, err := os.Stat(path)
	if err != nil {
		return fileStat{}, err
	}
	return fileStat{size: info.Size(), mtime: info.ModTime().UnixNano()}, nil
}

// statAt stats the file at path, named name in the open directory dir.
func statAt(_ uintptr, path, _ string) (fileStat, error) { return statFile(path) }
