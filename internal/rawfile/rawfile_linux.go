//go:build linux

package rawfile

import (
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// ReadFile reads the file at path whole, as os.ReadFile does.
func ReadFile(path string) ([]byte, error) {
	fd, err := open(path, unix.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	size := 512 // what os.ReadFile starts with when the size is unknown
	var st unix.Stat_t
	if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size > 0 && st.Size < 1<<40 {
		size = int(st.Size) + 1 // one more, to see the end at once
	}
	data := make([]byte, 0, size)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // grew since the stat
		}
		n, err := read(fd, data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err != nil {
			return data, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return data, nil
		}
	}
}

// ReadFull reads the file at path into buf until buf is full or the file
// ends, and returns how many bytes it read: fewer than len(buf) means
// that buf holds the whole file.
func ReadFull(path string, buf []byte) (int, error) {
	fd, err := open(path, unix.O_RDONLY, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	total := 0
	for total < len(buf) {
		n, err := read(fd, buf[total:])
		total += n
		if err != nil {
			return total, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			break
		}
	}
	return total, nil
}

// WriteFile writes data to the file at path, creating it with perm (before
// the umask) or truncating it, as os.WriteFile does.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	fd, err := open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC, uint32(perm.Perm()))
	if err != nil {
		return err
	}
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			unix.Close(fd)
			return &fs.PathError{Op: "write", Path: path, Err: err}
		}
		data = data[n:]
	}
	if err := unix.Close(fd); err != nil {
		return &fs.PathError{Op: "close", Path: path, Err: err}
	}
	return nil
}

func open(path string, flags int, perm uint32) (int, error) {
	for {
		fd, err := unix.Open(path, flags|unix.O_CLOEXEC, perm)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}

func read(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Read(fd, b)
		if err == unix.EINTR {
			continue
		}
		return max(n, 0), err
	}
}
