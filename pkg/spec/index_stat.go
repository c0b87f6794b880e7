package spec

import "github.com/drover-io/drover/internal/dirstat"

// fileStat is what the index compares to tell that a file changed: size,
// modification and change times, and inode (a file replaced by a rename
// has another one). The change time cannot be set back by a tool that
// restores modification times. Change time and inode are 0 where the
// system has none (dirstat).
type fileStat struct {
	size, mtime, ctime int64
	ino                uint64
}

func asFileStat(s dirstat.Stat, err error) (fileStat, error) {
	return fileStat{size: s.Size, mtime: s.Mtime, ctime: s.Ctime, ino: s.Ino}, err
}

// statAt stats the file name in the open directory dir, at path.
func statAt(dir uintptr, path, name string) (fileStat, error) {
	return asFileStat(dirstat.At(dir, path, name))
}

func statFile(path string) (fileStat, error) { return asFileStat(dirstat.File(path)) }
