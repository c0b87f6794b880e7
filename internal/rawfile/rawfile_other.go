//go:build !linux

package rawfile

import (
	"io"
	"os"
)

// ReadFile reads the file at path whole: os.ReadFile.
func ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

// ReadFull reads the file at path into buf until buf is full or the file
// ends, and returns how many bytes it read: fewer than len(buf) means
// that buf holds the whole file.
func ReadFull(path string, buf []byte) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := io.ReadFull(f, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return n, err
}

// WriteFile writes data to the file at path: os.WriteFile.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return os.WriteFile(path, data, perm)
}
