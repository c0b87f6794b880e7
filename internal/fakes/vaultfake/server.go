package vaultfake

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/drover-io/drover/internal/fakes/faults"
)

// Request is one request the fake received (see faults.Request).
type Request = faults.Request

// Server is a fake Vault server (unsealed, active, root namespace only).
// All state is behind one mutex; handlers are safe for concurrent requests.
type Server struct {
	// Injector records every request and injects faults: FailNext,
	// Delay, Hangup, Requests, ResetRequests.
	faults.Injector

	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	token    string
	policies map[string]string // name -> policy text
	auth     map[string]*mount // "jwt-nomad/" -> mount
	mounts   map[string]*mount // "secret/" -> mount

}

// mount is an auth method or a secrets engine.
type mount struct {
	typ         string
	description string
	accessor    string
	uuid        string
	options     map[string]string
	version     string              // running plugin version
	roles       map[string]*jwtRole // jwt and oidc auth methods
	kv          map[string]*kvSecret
}

// RootToken is the token the fake accepts until SetToken changes it.
const RootToken = "root"

// New starts a fake Vault server that is closed when the test ends. It
// has the default and root policies, the token auth method plus a "jwt"
// auth method at jwt-nomad/, and a KV version 2 engine at secret/ besides
// Vault's built-in cubbyhole/, identity/ and sys/.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		t:        t,
		token:    RootToken,
		policies: map[string]string{"default": defaultPolicy},
		auth:     map[string]*mount{},
		mounts:   map[string]*mount{},
	}
	s.auth["token/"] = newMount("token", "token based credentials", nil)
	s.auth["jwt-nomad/"] = newMount("jwt", "", nil)
	s.mounts["secret/"] = newMount("kv", "key/value secret storage", map[string]string{"version": "2"})
	s.mounts["cubbyhole/"] = newMount("cubbyhole", "per-token private secret storage", nil)
	s.mounts["identity/"] = newMount("identity", "identity store", nil)
	s.mounts["sys/"] = newMount("system", "system endpoints used for control, policy and debugging", nil)
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	return s
}

func newMount(typ, description string, options map[string]string) *mount {
	m := &mount{
		typ: typ, description: description, options: options,
		accessor: typ + "_" + randomHex(4), uuid: uuid(),
		version: "v1.17.0+builtin.vault",
	}
	switch typ {
	case "jwt", "oidc":
		m.roles = map[string]*jwtRole{}
		m.version = "v0.21.0+builtin"
	case "kv":
		m.kv = map[string]*kvSecret{}
		m.version = "v0.20.0+builtin"
	}
	return m
}

// URL is the server address, for VAULT_ADDR.
func (s *Server) URL() string { return s.srv.URL }

// Token is the token requests must carry in X-Vault-Token.
func (s *Server) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// Writes returns the requests received so far that could change state:
// every method but GET, HEAD and LIST (and GET with ?list=true).
func (s *Server) Writes() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != "LIST" {
			out = append(out, r)
		}
	}
	return out
}

// ServeHTTP implements http.Handler.
// writeInjected answers with an injected failure's body as given: tests
// pass Vault's whole JSON error ({"errors":[...]}).
func writeInjected(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := s.Intercept(w, r, writeInjected)
	if !ok {
		return
	}
	s.route(w, r, body)
}

// operation is Vault's logical operation for a request.
type operation int

const (
	opRead operation = iota
	opList
	opWrite
	opDelete
)

func operationOf(r *http.Request) (operation, bool) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if l := r.URL.Query().Get("list"); l == "true" || l == "1" {
			return opList, true
		}
		return opRead, true
	case "LIST":
		return opList, true
	case http.MethodPut, http.MethodPost, http.MethodPatch:
		return opWrite, true
	case http.MethodDelete:
		return opDelete, true
	}
	return 0, false
}

// request is a decoded logical request.
type request struct {
	op    operation
	path  string         // without /v1/
	query url.Values     // query parameters
	data  map[string]any // JSON body, numbers as json.Number
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte) {
	if !strings.HasPrefix(r.URL.Path, "/v1/") {
		http.NotFound(w, r)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	if path == "sys/health" {
		s.health(w, r)
		return
	}
	token := r.Header.Get("X-Vault-Token")
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && token == "" {
		token = bearer
	}
	if token == "" || token != s.Token() {
		respondError(w, http.StatusForbidden, "permission denied")
		return
	}
	op, ok := operationOf(r)
	if !ok {
		respondError(w, http.StatusMethodNotAllowed, "unsupported operation")
		return
	}
	req := request{op: op, path: path, query: r.URL.Query()}
	if len(bytes.TrimSpace(body)) > 0 && (op == opWrite || op == opDelete) {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&req.data); err != nil {
			respondError(w, http.StatusBadRequest, "failed to parse JSON input: "+err.Error())
			return
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case path == "sys/policies/acl" || path == "sys/policies/acl/":
		s.policyList(w, req)
	case strings.HasPrefix(path, "sys/policies/acl/"):
		s.policy(w, req, strings.TrimPrefix(path, "sys/policies/acl/"))
	case path == "sys/auth" || path == "sys/mounts":
		s.mountList(w, req, path == "sys/auth")
	case strings.HasPrefix(path, "sys/"):
		// Enabling mounts, tokens, leases...: tests use AddMount and RemoveMount.
		respondError(w, http.StatusNotImplemented, fmt.Sprintf("vaultfake: %s is not modelled", path))
	case strings.HasPrefix(path, "auth/"):
		s.authPath(w, req, strings.TrimPrefix(path, "auth/"))
	default:
		s.secretPath(w, req)
	}
}

// noHandler is the router's answer for a path no mount serves.
func noHandler(w http.ResponseWriter, path string) {
	respondError(w, http.StatusNotFound, fmt.Sprintf("no handler for route %q. route entry not found.", path))
}

// respondError writes Vault's error body, {"errors":[...]}; an empty
// message gives the empty list Vault sends with a plain 404.
func respondError(w http.ResponseWriter, status int, msg string) {
	errs := []string{}
	if msg != "" {
		errs = append(errs, msg)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": errs})
}

// respondData writes a logical response: the data inside Vault's secret
// envelope, with warnings when there are any.
func respondData(w http.ResponseWriter, status int, data map[string]any, warnings []string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(envelope(data, warnings))
}

func envelope(data map[string]any, warnings []string) map[string]any {
	var ws any
	if len(warnings) > 0 {
		ws = warnings
	}
	return map[string]any{
		"request_id":     uuid(),
		"lease_id":       "",
		"renewable":      false,
		"lease_duration": 0,
		"data":           data,
		"wrap_info":      nil,
		"warnings":       ws,
		"auth":           nil,
	}
}

// respondNoContent is Vault's answer to a write that returns nothing.
func respondNoContent(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNoContent)
}

// respondList answers a LIST like RespondErrorCommon: no keys is a 404.
func respondList(w http.ResponseWriter, keys []string) {
	if len(keys) == 0 {
		respondError(w, http.StatusNotFound, "")
		return
	}
	sort.Strings(keys)
	respondData(w, http.StatusOK, map[string]any{"keys": keys}, nil)
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}
