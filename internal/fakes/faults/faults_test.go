package faults

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func newServer(t *testing.T) (*Injector, *httptest.Server) {
	t.Helper()
	in := &Injector{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := in.Intercept(w, r, func(w http.ResponseWriter, status int, body string) {
			w.WriteHeader(status)
			io.WriteString(w, "fake error: "+body)
		})
		if ok {
			io.WriteString(w, "served "+string(body))
		}
	}))
	t.Cleanup(srv.Close)
	return in, srv
}

func do(t *testing.T, method, url, body string) (int, string, error) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data), nil
}

func TestFailNextMatchesMethodAndPrefixAndRunsOut(t *testing.T) {
	in, srv := newServer(t)
	in.FailNext("PUT", "/v1/job/", 503, "no leader", 2)
	if code, body, _ := do(t, "GET", srv.URL+"/v1/job/api", ""); code != 200 || body != "served " {
		t.Errorf("a GET is not a PUT: %d %q", code, body)
	}
	for range 2 {
		if code, body, _ := do(t, "PUT", srv.URL+"/v1/job/api", "x"); code != 503 || body != "fake error: no leader" {
			t.Errorf("injected failure: %d %q", code, body)
		}
	}
	if code, body, _ := do(t, "PUT", srv.URL+"/v1/job/api", "x"); code != 200 || body != "served x" {
		t.Errorf("after n failures the request is served: %d %q", code, body)
	}
	// Every attempt is recorded, failed ones too, with its body.
	reqs := in.Requests()
	if len(reqs) != 4 || reqs[1].Method != "PUT" || reqs[1].Body != "x" {
		t.Errorf("log %+v", reqs)
	}
	in.ResetRequests()
	if len(in.Requests()) != 0 {
		t.Error("ResetRequests kept entries")
	}
}

func TestHangupDropsTheConnection(t *testing.T) {
	in, srv := newServer(t)
	in.Hangup("/v1/var/", 1)
	if _, _, err := do(t, "PUT", srv.URL+"/v1/var/x", "v"); err == nil {
		t.Fatal("want a transport error from a dropped connection")
	}
	if code, _, err := do(t, "PUT", srv.URL+"/v1/var/x", "v"); err != nil || code != 200 {
		t.Errorf("the next request is served: %d %v", code, err)
	}
}

func TestDelayHoldsUntilTheClientGivesUp(t *testing.T) {
	in, srv := newServer(t)
	in.Delay("/slow", time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/slow", nil)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("want the client's deadline, got %v", err)
	}
	in.Delay("/slow", 0)
	if code, _, err := do(t, "GET", srv.URL+"/slow", ""); err != nil || code != 200 {
		t.Errorf("a zero delay removes it: %d %v", code, err)
	}
}
