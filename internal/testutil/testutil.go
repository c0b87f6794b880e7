package testutil

import (
	"bytes"
	"io/fs"
	"os"
	"sync"
	"testing"
	"time"
)

// SyncBuffer collects output written from several goroutines (loggers,
// progress writers) and reads it back at any time.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Reset forgets everything written so far.
func (s *SyncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

// PollInterval is how often Eventually checks its condition.
const PollInterval = 10 * time.Millisecond

// Eventually fails the test unless cond holds within timeout; what says
// what was awaited ("scale to 3").
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting to %s", timeout, what)
		}
		time.Sleep(PollInterval)
	}
}

// ContractCase is one case of a fake's contract: a behaviour of the real
// API that the fake must show too, run against a target T (the fake, or
// the real agent in the integration build).
type ContractCase[T any] struct {
	Name string
	Run  func(t *testing.T, target T)
}

// RunContract runs every case as a subtest, each against a fresh target
// from newTarget.
func RunContract[T any](t *testing.T, cases []ContractCase[T], newTarget func(t *testing.T) T) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) { tc.Run(t, newTarget(t)) })
	}
}

// ReadFile reads the file at path, failing the test when it cannot.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Stat stats the file at path, failing the test when it cannot.
func Stat(t testing.TB, path string) fs.FileInfo {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info
}
