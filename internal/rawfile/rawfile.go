// Package rawfile reads and writes whole files with as few system calls
// as the kernel needs. os.Open and os.Create ready every file they open
// for the runtime's network poller: on Linux that is four fcntl calls and
// an epoll_ctl that fails for a regular file, besides the open, read or
// write and close, and an os.File with a cleanup to allocate. render -o
// writes 25,000 files for 5,000 specs, and every load reads each spec it
// parses; through here each costs its open, its reads or writes and its
// close alone.
//
// The functions behave as their os namesakes do, errors included (an
// *fs.PathError naming the operation and path). Elsewhere than on Linux
// they are those namesakes.
package rawfile
