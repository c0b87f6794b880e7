//go:build !linux

package dirstat

import "os"

// byDirectory: At takes paths here, so Dirs opens no directory.
const byDirectory = false

// At stats the file at path (named name in the open directory dir).
func At(_ uintptr, path, _ string) (Stat, error) { return File(path) }

// File stats the file at path, following symbolic links.
func File(path string) (Stat, error) {
	info, err := os.Stat(path)
	if err != nil {
		return Stat{}, err
	}
	return Stat{Size: info.Size(), Mtime: info.ModTime().UnixNano(), Regular: info.Mode().IsRegular()}, nil
}
