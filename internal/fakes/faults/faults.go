package faults

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Request is one request a fake received, recorded before fault injection
// so that retried and failed attempts are counted too.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Body   string
}

// Injector holds the injected faults and the request log. Its zero value
// is ready to use; it is safe for concurrent requests.
type Injector struct {
	mu      sync.Mutex
	fails   []*failure
	delays  []delay
	hangups []*hangup
	log     []Request
}

type failure struct {
	method, prefix string
	status         int
	body           string
	remaining      int
}

type delay struct {
	prefix string
	d      time.Duration
}

type hangup struct {
	prefix    string
	remaining int
}

// FailNext makes the next n requests whose method matches (any method when
// method is "") and whose path starts with pathPrefix fail with status and
// body, before the request reaches any state.
func (in *Injector) FailNext(method, pathPrefix string, status int, body string, n int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.fails = append(in.fails, &failure{method: method, prefix: pathPrefix, status: status, body: body, remaining: n})
}

// Delay holds every request whose path starts with pathPrefix for d before
// serving it (or until the client gives up). A zero d removes the delay.
func (in *Injector) Delay(pathPrefix string, d time.Duration) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for i, dl := range in.delays {
		if dl.prefix == pathPrefix {
			in.delays = append(in.delays[:i], in.delays[i+1:]...)
			break
		}
	}
	if d > 0 {
		in.delays = append(in.delays, delay{prefix: pathPrefix, d: d})
	}
}

// Hangup makes the next n requests whose path starts with pathPrefix see
// the connection closed without any response, as when the agent dies
// mid-request. Go's transport retries an idempotent request (GET) once on
// a reused connection, so a GET needs n >= 2 to surface the error.
func (in *Injector) Hangup(pathPrefix string, n int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.hangups = append(in.hangups, &hangup{prefix: pathPrefix, remaining: n})
}

// Requests returns every request received so far, oldest first.
func (in *Injector) Requests() []Request {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]Request, len(in.log))
	copy(out, in.log)
	return out
}

// ResetRequests forgets the request log, for tests that only care about
// what happens after their setup.
func (in *Injector) ResetRequests() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.log = nil
}

// Intercept records r and applies the injected faults, in the order a
// client would see them: a delay, then a dropped connection, then an error
// status, written by fail in the fake's own error format. It returns the
// request body, and whether the fake should serve the request (false: a
// fault answered it, or the client gave up during a delay).
func (in *Injector) Intercept(w http.ResponseWriter, r *http.Request, fail func(w http.ResponseWriter, status int, body string)) ([]byte, bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	in.mu.Lock()
	in.log = append(in.log, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: string(body)})
	d := in.delayFor(r.URL.Path)
	in.mu.Unlock()

	if d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return nil, false
		}
	}

	in.mu.Lock()
	hang := in.takeHangup(r.URL.Path)
	f := in.takeFailure(r.Method, r.URL.Path)
	in.mu.Unlock()

	switch {
	case hang:
		hangUp(w)
		return nil, false
	case f != nil:
		fail(w, f.status, f.body)
		return nil, false
	}
	return body, true
}

func (in *Injector) delayFor(path string) time.Duration {
	for _, dl := range in.delays {
		if strings.HasPrefix(path, dl.prefix) {
			return dl.d
		}
	}
	return 0
}

func (in *Injector) takeHangup(path string) bool {
	for i, h := range in.hangups {
		if strings.HasPrefix(path, h.prefix) {
			h.remaining--
			if h.remaining <= 0 {
				in.hangups = append(in.hangups[:i], in.hangups[i+1:]...)
			}
			return true
		}
	}
	return false
}

func (in *Injector) takeFailure(method, path string) *failure {
	for i, f := range in.fails {
		if (f.method == "" || f.method == method) && strings.HasPrefix(path, f.prefix) {
			f.remaining--
			if f.remaining <= 0 {
				in.fails = append(in.fails[:i], in.fails[i+1:]...)
			}
			return f
		}
	}
	return nil
}

// hangUp closes the connection under the request without writing a byte.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // the server drops the connection
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
