// Command probe is the data-plane integration test's client, built by the
// test (CGO_ENABLED=0) into a FROM-scratch image. It has two modes:
//
//	probe sleep      block until SIGTERM or SIGINT: the main task of an
//	                 allocation that the test runs probes in (nomad alloc exec)
//	probe get URL    one HTTP GET on a new connection (no keep-alive); print
//	                 "HTTP <status> <body>" and exit 0, or "ERROR <error>" and
//	                 exit 1
//
// It is test code: only the standard library, nothing configurable.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	switch {
	case len(os.Args) == 2 && os.Args[1] == "sleep":
		// As PID 1 in a container a process gets no default signal
		// handling: without this, stopping the task waits out the kill
		// timeout.
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
	case len(os.Args) == 3 && os.Args[1] == "get":
		os.Exit(get(os.Args[2]))
	default:
		fmt.Fprintln(os.Stderr, "usage: probe sleep | probe get URL")
		os.Exit(2)
	}
}

// get makes one request on a fresh connection: the mesh authorizes a
// caller once per TLS handshake, so a reused connection would hide a
// changed intention.
func get(url string) int {
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
	}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Printf("ERROR %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		fmt.Printf("ERROR reading the body after HTTP %d: %v\n", resp.StatusCode, err)
		return 1
	}
	fmt.Printf("HTTP %d %s\n", resp.StatusCode, strings.TrimSpace(string(body)))
	return 0
}
