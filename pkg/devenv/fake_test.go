package devenv

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// fakeAgentEnv makes the test binary act as an agent when re-executed: it
// is set for the whole test process, so every agent that Up starts from a
// link to the test binary (see fakeBinDir) is a fake.
const fakeAgentEnv = "DEVENV_TEST_FAKE_AGENT"

func TestMain(m *testing.M) {
	if os.Getenv(fakeAgentEnv) == "1" {
		os.Exit(fakeAgent(os.Args[1:]))
	}
	os.Setenv(fakeAgentEnv, "1")
	os.Exit(m.Run())
}

// fakeBehaviourFile, in the agent's working directory (the state
// directory), holds "<agent>=<mode>" lines: fail (exit 1 at once),
// ignore-int (ignore SIGINT, so only SIGKILL stops it).
const fakeBehaviourFile = "fake-behaviour"

var httpPortRE = regexp.MustCompile(`(?m)^\s*http\s*=\s*(\d+)`)

// fakeAgent serves the health endpoints of the agent its arguments name,
// the way Up starts it:
//
//	server -dev ... -dev-listen-address=127.0.0.1:P   Vault (P from the flag)
//	agent -dev -config-file=consul.hcl                Consul (http port from the file)
//	agent -dev -config=nomad.hcl                      Nomad (http port from the file)
//	sleep                                             nothing: waits for a signal
//
// GET /fake/env answers its environment, for the tests to inspect.
func fakeAgent(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "fake agent: no arguments")
		return 2
	}
	name, addr := "", ""
	switch {
	case args[0] == "sleep":
		name = "sleep"
	case args[0] == "server":
		name = Vault
		for _, a := range args {
			if v, ok := strings.CutPrefix(a, "-dev-listen-address="); ok {
				addr = v
			}
		}
	case args[0] == "agent":
		for _, a := range args {
			file := ""
			if v, ok := strings.CutPrefix(a, "-config-file="); ok {
				name, file = Consul, v
			} else if v, ok := strings.CutPrefix(a, "-config="); ok {
				name, file = Nomad, v
			}
			if file != "" {
				b, err := os.ReadFile(file)
				if err != nil {
					fmt.Fprintln(os.Stderr, "fake agent:", err)
					return 2
				}
				m := httpPortRE.FindSubmatch(b)
				if m == nil {
					fmt.Fprintln(os.Stderr, "fake agent: no http port in", file)
					return 2
				}
				addr = "127.0.0.1:" + string(m[1])
			}
		}
	}
	if name == "" {
		fmt.Fprintln(os.Stderr, "fake agent: cannot tell the agent from", args)
		return 2
	}
	mode := fakeMode(name)
	if mode == "fail" {
		fmt.Println("fake", name, "failing on purpose")
		return 1
	}
	sigs := make(chan os.Signal, 1)
	if mode == "ignore-int" {
		signal.Ignore(syscall.SIGINT)
		signal.Notify(sigs, syscall.SIGTERM)
	} else {
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	}
	if name == "sleep" {
		<-sigs
		return 0
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake agent:", err)
		return 1
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fake/env", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(os.Environ())
	})
	switch name {
	case Vault:
		token := os.Getenv("VAULT_DEV_ROOT_TOKEN_ID")
		if token == "" || token != os.Getenv("BAO_DEV_ROOT_TOKEN_ID") {
			fmt.Fprintln(os.Stderr, "fake vault: no root token in the environment")
			return 1
		}
		mux.Handle("/", newFakeVault(token))
	case Consul:
		mux.HandleFunc("GET /v1/status/leader", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `"127.0.0.1:8300"`)
		})
	case Nomad:
		mux.HandleFunc("GET /v1/agent/health", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"client":{"ok":true},"server":{"ok":true}}`)
		})
		mux.HandleFunc("GET /v1/nodes", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `[{"ID":"fake","Name":"fake","Status":"ready"}]`)
		})
		mux.HandleFunc("GET /v1/allocations", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `[]`)
		})
		mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"fake","x":"AAAA"}]}`)
		})
	}
	fmt.Println("fake", name, "listening on", addr)
	go http.Serve(ln, mux)
	sig := <-sigs
	fmt.Println("fake", name, "stopping on", sig)
	return 0
}

// fakeMode returns this agent's line of the behaviour file, if any.
func fakeMode(name string) string {
	f, err := os.Open(fakeBehaviourFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && k == name {
			return v
		}
	}
	return ""
}

// fakeVault is the part of Vault's HTTP API that configureVault uses:
// sys/health, sys/mounts, sys/auth, and any other path as a store of the
// last JSON body written to it (answered as {"data": body}).
type fakeVault struct {
	token string

	mu     sync.Mutex
	mounts map[string]mountInfo
	auths  map[string]mountInfo
	data   map[string]json.RawMessage
	writes []string // "METHOD path" of every write, in order
}

func newFakeVault(token string) *fakeVault {
	return &fakeVault{
		token: token,
		// what a dev server has mounted
		mounts: map[string]mountInfo{
			"secret/":    {Type: "kv", Accessor: "kv_fake", Options: map[string]string{"version": "2"}},
			"sys/":       {Type: "system", Accessor: "system_fake"},
			"cubbyhole/": {Type: "cubbyhole", Accessor: "cubbyhole_fake"},
		},
		auths: map[string]mountInfo{"token/": {Type: "token", Accessor: "auth_token_fake"}},
		data:  map[string]json.RawMessage{},
	}
}

func (f *fakeVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	if path == "sys/health" {
		io.WriteString(w, `{"initialized":true,"sealed":false,"standby":false}`)
		return
	}
	if r.Header.Get("X-Vault-Token") != f.token {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"errors":["permission denied"]}`)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"data": v})
	}
	if r.Method == http.MethodGet {
		switch path {
		case "sys/mounts":
			reply(f.mounts)
		case "sys/auth":
			reply(f.auths)
		default:
			if d, ok := f.data[path]; ok {
				reply(d)
				return
			}
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"errors":[]}`)
		}
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.writes = append(f.writes, r.Method+" "+path)
	var m struct {
		Type    string            `json:"type"`
		Options map[string]string `json:"options"`
	}
	json.Unmarshal(body, &m)
	switch {
	case strings.HasPrefix(path, "sys/auth/"):
		f.auths[strings.TrimPrefix(path, "sys/auth/")+"/"] = mountInfo{Type: m.Type, Accessor: "auth_" + m.Type + "_fake"}
	case strings.HasSuffix(path, "/tune") && strings.HasPrefix(path, "sys/mounts/"):
		mp := strings.TrimSuffix(strings.TrimPrefix(path, "sys/mounts/"), "/tune") + "/"
		mi := f.mounts[mp]
		mi.Options = m.Options
		f.mounts[mp] = mi
	case strings.HasPrefix(path, "sys/mounts/"):
		f.mounts[strings.TrimPrefix(path, "sys/mounts/")+"/"] = mountInfo{Type: m.Type, Accessor: m.Type + "_new", Options: m.Options}
	default:
		f.data[path] = body
	}
	w.WriteHeader(http.StatusNoContent)
}
