//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	consulapi "github.com/hashicorp/consul/api"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/render"
	"github.com/drover-io/drover/pkg/spec"
)

// The data-plane test's project: a callee, a caller that declares it as an
// upstream, and a stranger that does not. The caller and the stranger run
// the probe image in its sleep mode; the probe itself runs with alloc exec.
const (
	dpProject = `
project "drover-it-dp" {
  datacenters = ["*"]
}
`
	dpCallee = `
app "it-dp-callee" {
  image = "testapp:local"
  port "http" {
    to = 8080
  }
  env = {
    # Bound to the loopback of its allocation: reachable only through the
    # proxy, never around the mesh at the bridge IP.
    LISTEN_ADDR = "127.0.0.1:8080"
  }
  service {}
}
`
	dpStranger = `
app "it-dp-stranger" {
  image = "` + dpProbeImage + `"
  args  = ["sleep"]
  service {}
}
`
)

func dpCaller(withUpstream bool) string {
	upstream := ""
	if withUpstream {
		upstream = `
    upstream "it-dp-callee" {
      local_port = 19191
    }`
	}
	return `
app "it-dp-caller" {
  image = "` + dpProbeImage + `"
  args  = ["sleep"]
  service {` + upstream + `
  }
}
`
}

const (
	// dpProbeImage is built by the test FROM scratch; never pulled.
	dpProbeImage = "drover-it-probe:1"
	// dpMeshPort is where each allocation's built-in proxy takes inbound
	// mTLS connections (the group port "mesh" maps to it).
	dpMeshPort = 21000
	// dpAttemptPort is the local port of the upstream the test gives an
	// app whose spec declares none: it tries to call the callee anyway, and
	// only the intentions stand in its way.
	dpAttemptPort = 19192
	// dpProxyTask names the proxy task of every native-shape group.
	dpProxyTask = "mesh-proxy"
	// dpSourceLabel marks the images the test builds with the digest of
	// the binary inside, so an unchanged binary is not built again.
	dpSourceLabel = "drover-it.source-sha256"
)

// TestDataPlaneEnforcesRenderedIntentions proves on a real data plane that
// drover's rendered intentions separate apps: Consul's built-in proxy
// (there is no Envoy here, see ../shared/research/mesh-data-plane.md)
// serves Connect-native shapes of drover's own jobs, with the service
// names and upstream ports of drover's render, and the service-defaults
// and service-intentions drover rendered are written to Consul as they are.
// The declared caller gets its answer, the stranger is refused, and once
// the upstream is gone from the spec and the re-rendered intentions are
// written, the former caller is refused too.
//
// The native shape is test code, not a product mode: drover's own jobs
// use an Envoy sidecar, which cannot run here.
func TestDataPlaneEnforcesRenderedIntentions(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"drover.hcl": dpProject, "callee.hcl": dpCallee, "caller.hcl": dpCaller(true), "stranger.hcl": dpStranger,
	})
	before := dpRender(t, dir)
	callee := dpAppOf(t, before, "it-dp-callee")
	caller := dpAppOf(t, before, "it-dp-caller")
	stranger := dpAppOf(t, before, "it-dp-stranger")
	if len(caller.upstreams) != 1 || caller.upstreams[0].DestinationName != callee.service || caller.upstreams[0].LocalBindPort == 0 {
		t.Fatalf("the caller's rendered upstreams = %s, want one to %s with a local port", dpUpstreamList(caller.upstreams), callee.service)
	}
	if len(stranger.upstreams) != 0 {
		t.Fatalf("the stranger's rendered upstreams = %s, want none", dpUpstreamList(stranger.upstreams))
	}
	if got, want := dpSources(t, before, callee.service), []string{caller.service + "=allow", "*=deny"}; !slices.Equal(got, want) {
		t.Fatalf("rendered intentions of %s = %v, want %v", callee.service, got, want)
	}
	if callee.servicePort == "" {
		t.Fatalf("the callee's rendered service has no port")
	}

	nomad, consul, _ := requireAll(t)
	nc := nomadClient(t)
	dpLogVersions(t, nomad, consul)
	proxyImage := dpRequireImages(t, nomad)

	// Control plane first, as drover applies it: entries, then jobs.
	t.Cleanup(func() { dpDeleteEntries(t, consul, before) })
	dpWriteEntries(t, consul, before)

	ctx := t.Context()
	calleeAlloc := dpRun(ctx, t, nc, dpNativeJob(callee, proxyImage, nil))
	callerUp := caller.upstreams[0]
	callerAlloc := dpRun(ctx, t, nc, dpNativeJob(caller, proxyImage, []string{callerUp.DestinationName + ":" + strconv.Itoa(callerUp.LocalBindPort)}))
	strangerAlloc := dpRun(ctx, t, nc, dpNativeJob(stranger, proxyImage, []string{callee.service + ":" + strconv.Itoa(dpAttemptPort)}))
	allocs := []*nomadapi.Allocation{calleeAlloc, callerAlloc, strangerAlloc}
	t.Cleanup(func() {
		if t.Failed() {
			for _, a := range allocs {
				t.Logf("%s's %s log:\n%s", a.JobID, dpProxyTask, dpProxyLog(t, nc, a))
			}
		}
	})
	for _, a := range allocs {
		dpWaitProxyReady(t, nc, a)
	}
	calleeAddr := dpWaitConnect(t, consul, callee.service)
	dpWaitConnect(t, consul, caller.service)
	dpWaitConnect(t, consul, stranger.service)

	callerURL := fmt.Sprintf("http://127.0.0.1:%d/", callerUp.LocalBindPort)
	strangerURL := fmt.Sprintf("http://127.0.0.1:%d/", dpAttemptPort)

	// 1. The declared caller reaches the callee through its upstream.
	dpExpectAllowed(t, nc, callerAlloc, caller.task.Name, callerURL, "caller (declared upstream)")

	// 2. The stranger's proxy dials the callee too; the callee's proxy
	// refuses the handshake (its log says why).
	dpExpectRefused(t, nc, strangerAlloc, stranger.task.Name, strangerURL, calleeAlloc, "stranger (no upstream in the spec)", false)

	// ... and cannot go around the mesh: the callee listens on its
	// allocation's loopback only, and its proxy speaks only mTLS.
	for _, url := range []string{
		fmt.Sprintf("http://%s:%s/", calleeAddr, callee.servicePort),
		fmt.Sprintf("http://%s:%d/", calleeAddr, dpMeshPort),
	} {
		out, code := dpProbe(t, nc, strangerAlloc, stranger.task.Name, url)
		t.Logf("probe stranger around the mesh: GET %s -> exit %d: %s", url, code, out)
		if code == 0 || strings.HasPrefix(out, "HTTP ") {
			t.Errorf("the stranger reached the callee around the mesh at %s: %s", url, out)
		}
	}

	// The declared caller still gets through: only what comes next changes.
	dpExpectAllowed(t, nc, callerAlloc, caller.task.Name, callerURL, "caller (before the upstream is removed)")

	// 3. The upstream leaves the spec: re-render, write the new entries as
	// drover's deploy would. The caller's proxy keeps dialing the callee
	// (its native job is left as it is): it is the intentions, not a
	// missing listener, that must now refuse it.
	if err := os.WriteFile(filepath.Join(dir, "caller.hcl"), []byte(dpCaller(false)), 0o644); err != nil {
		t.Fatal(err)
	}
	after := dpRender(t, dir)
	if ups := dpAppOf(t, after, "it-dp-caller").upstreams; len(ups) != 0 {
		t.Fatalf("after removing the upstream the caller still renders upstreams %s", dpUpstreamList(ups))
	}
	if got, want := dpSources(t, after, callee.service), []string{"*=deny"}; !slices.Equal(got, want) {
		t.Fatalf("re-rendered intentions of %s = %v, want %v", callee.service, got, want)
	}
	t.Cleanup(func() { dpDeleteEntries(t, consul, after) })
	dpDeleteEntries(t, consul, dpMissing(before, after))
	dpWriteEntries(t, consul, after)
	dpExpectRefused(t, nc, callerAlloc, caller.task.Name, callerURL, calleeAlloc, "former caller (upstream removed, intentions redeployed)", true)
}

// dpApp is what the test takes from drover's render of one app.
type dpApp struct {
	job *render.Job
	// service is the Consul service name drover registers.
	service string
	// servicePort is the port the app listens on inside its allocation
	// (the rendered service's port label is the container port); "" when
	// the app takes no connections.
	servicePort string
	// upstreams are the rendered Connect sidecar's upstreams.
	upstreams []*nomadapi.ConsulUpstream
	// task is the rendered app task.
	task *nomadapi.Task
}

func dpRender(t *testing.T, dir string) *render.Bundle {
	t.Helper()
	set, diags := spec.Load(spec.LoadOptions{Paths: []string{dir}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	b, err := render.Render(set, render.Options{Version: "integration"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func dpAppOf(t *testing.T, b *render.Bundle, id string) dpApp {
	t.Helper()
	for _, j := range b.Jobs {
		if j.ID() != id {
			continue
		}
		if len(j.Job.TaskGroups) != 1 || len(j.Job.TaskGroups[0].Tasks) != 1 || len(j.Job.TaskGroups[0].Services) != 1 {
			t.Fatalf("rendered job %s: want one group with one task and one service", id)
		}
		g := j.Job.TaskGroups[0]
		svc := g.Services[0]
		app := dpApp{job: j, service: svc.Name, servicePort: svc.PortLabel, task: g.Tasks[0]}
		if svc.Connect == nil || svc.Connect.SidecarService == nil {
			t.Fatalf("rendered service %s has no Connect sidecar", svc.Name)
		}
		if p := svc.Connect.SidecarService.Proxy; p != nil {
			app.upstreams = p.Upstreams
		}
		return app
	}
	t.Fatalf("the render has no job %s", id)
	return dpApp{}
}

func dpUpstreamList(ups []*nomadapi.ConsulUpstream) string {
	var s []string
	for _, u := range ups {
		s = append(s, fmt.Sprintf("%s:%d", u.DestinationName, u.LocalBindPort))
	}
	return "[" + strings.Join(s, " ") + "]"
}

// dpSources lists the rendered intentions of dest as name=action.
func dpSources(t *testing.T, b *render.Bundle, dest string) []string {
	t.Helper()
	for _, ce := range b.ConfigEntries {
		e, ok := ce.Entry.(*consulapi.ServiceIntentionsConfigEntry)
		if !ok || e.Name != dest {
			continue
		}
		var out []string
		for _, s := range e.Sources {
			out = append(out, s.Name+"="+string(s.Action))
		}
		return out
	}
	t.Fatalf("the render has no service-intentions for %s", dest)
	return nil
}

// dpWriteEntries writes every rendered config entry, as rendered (PUT
// /v1/config takes the entry's JSON).
func dpWriteEntries(t *testing.T, consul string, b *render.Bundle) {
	t.Helper()
	for _, ce := range b.ConfigEntries {
		data, err := json.Marshal(ce.Entry)
		if err != nil {
			t.Fatal(err)
		}
		if code, body := api(t, "PUT", consul+"/v1/config", "", string(data)); code != 200 || strings.TrimSpace(body) != "true" {
			t.Fatalf("write %s/%s: %d %s", ce.Kind(), ce.Name(), code, body)
		}
		t.Logf("consul: wrote %s/%s %s", ce.Kind(), ce.Name(), data)
	}
}

// dpDeleteEntries deletes the bundle's entries, intentions before the
// service-defaults they may depend on.
func dpDeleteEntries(t *testing.T, consul string, b *render.Bundle) {
	t.Helper()
	for i := len(b.ConfigEntries) - 1; i >= 0; i-- {
		ce := b.ConfigEntries[i]
		if code, body := api(t, "DELETE", consul+"/v1/config/"+ce.Kind()+"/"+ce.Name(), "", ""); code != 200 {
			t.Errorf("delete %s/%s: %d %s", ce.Kind(), ce.Name(), code, body)
		}
	}
}

// dpMissing returns a bundle of the entries of before that after no
// longer renders: a deploy deletes them.
func dpMissing(before, after *render.Bundle) *render.Bundle {
	kept := map[string]bool{}
	for _, ce := range after.ConfigEntries {
		kept[ce.Kind()+"/"+ce.Name()] = true
	}
	out := &render.Bundle{}
	for _, ce := range before.ConfigEntries {
		if !kept[ce.Kind()+"/"+ce.Name()] {
			out.ConfigEntries = append(out.ConfigEntries, ce)
		}
	}
	return out
}

// dpNativeJob builds the Connect-native shape of a rendered app job (the
// research doc's shape): the rendered app task, the rendered service name
// registered as a native service on the allocation's bridge address, and a
// prestart sidecar running Consul's built-in proxy under that name, with
// the given upstreams ("name:local-port").
func dpNativeJob(app dpApp, proxyImage string, upstreams []string) *nomadapi.Job {
	r := app.job.Job
	args := []string{"connect", "proxy", "-service", app.service}
	if app.servicePort != "" {
		args = append(args, "-listen", "0.0.0.0:"+strconv.Itoa(dpMeshPort), "-service-addr", "127.0.0.1:"+app.servicePort)
	}
	for _, u := range upstreams {
		args = append(args, "-upstream", u)
	}
	meta := map[string]string{"drover-it-shape": "connect-native"}
	for k, v := range r.Meta {
		meta[k] = v
	}
	rt := app.task
	return &nomadapi.Job{
		ID:          r.ID,
		Name:        r.Name,
		Type:        r.Type,
		Datacenters: r.Datacenters,
		Meta:        meta,
		TaskGroups: []*nomadapi.TaskGroup{{
			Name:  r.TaskGroups[0].Name,
			Count: dpPtr(1),
			Networks: []*nomadapi.NetworkResource{{
				Mode:         "bridge",
				DynamicPorts: []nomadapi.Port{{Label: "mesh", To: dpMeshPort}},
			}},
			Services: []*nomadapi.Service{{
				Name:        app.service,
				PortLabel:   "mesh",
				AddressMode: "alloc",
				TaskName:    dpProxyTask,
				Provider:    "consul",
				Connect:     &nomadapi.ConsulConnect{Native: true},
			}},
			// Fail fast and visibly: the test reads the task events.
			RestartPolicy: &nomadapi.RestartPolicy{Attempts: dpPtr(0), Mode: dpPtr("fail")},
			ReschedulePolicy: &nomadapi.ReschedulePolicy{
				Attempts: dpPtr(0), Unlimited: dpPtr(false),
			},
			Tasks: []*nomadapi.Task{
				{
					Name:      dpProxyTask,
					Driver:    "docker",
					Lifecycle: &nomadapi.TaskLifecycle{Hook: nomadapi.TaskLifecycleHookPrestart, Sidecar: true},
					Config:    map[string]any{"image": proxyImage, "args": args},
					Resources: &nomadapi.Resources{CPU: dpPtr(50), MemoryMB: dpPtr(128)},
				},
				{
					Name:      rt.Name,
					Driver:    rt.Driver,
					Config:    rt.Config,
					Env:       rt.Env,
					Resources: &nomadapi.Resources{CPU: rt.Resources.CPU, MemoryMB: rt.Resources.MemoryMB},
				},
			},
		}},
	}
}

func dpPtr[T any](v T) *T { return &v }

// dpRun registers job (purged in cleanup) and waits until its allocation
// runs both tasks.
func dpRun(ctx context.Context, t *testing.T, nc *nomadapi.Client, job *nomadapi.Job) *nomadapi.Allocation {
	t.Helper()
	id := *job.ID
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, _, err := nc.Jobs().DeregisterOpts(id, &nomadapi.DeregisterOptions{Purge: true}, (&nomadapi.WriteOptions{}).WithContext(ctx)); err != nil {
			t.Errorf("purge job %s: %v", id, err)
		}
	})
	resp, _, err := nc.Jobs().Register(job, (&nomadapi.WriteOptions{}).WithContext(ctx))
	if err != nil {
		t.Fatalf("register %s: %v", id, err)
	}
	info, _, err := nc.Jobs().Info(id, (&nomadapi.QueryOptions{}).WithContext(ctx))
	if err != nil {
		t.Fatalf("read back %s: %v", id, err)
	}
	version := *info.Version
	t.Logf("nomad: registered %s version %d (eval %s), proxy args %v", id, version, resp.EvalID, job.TaskGroups[0].Tasks[0].Config["args"])
	deadline := time.Now().Add(2 * time.Minute)
	for {
		stubs, _, err := nc.Jobs().Allocations(id, false, (&nomadapi.QueryOptions{}).WithContext(ctx))
		if err != nil {
			t.Fatalf("allocations of %s: %v", id, err)
		}
		for _, s := range stubs {
			if s.DesiredStatus != nomadapi.AllocDesiredStatusRun || s.JobVersion != version {
				continue // a leftover of an earlier run, on its way out
			}
			switch s.ClientStatus {
			case nomadapi.AllocClientStatusFailed, nomadapi.AllocClientStatusLost:
				t.Fatalf("allocation %s of %s %s: %s", s.ID[:8], id, s.ClientStatus, dpEvents(s.TaskStates))
			case nomadapi.AllocClientStatusRunning:
				if len(s.TaskStates) == 2 && s.TaskStates[dpProxyTask].State == "running" && s.TaskStates[job.TaskGroups[0].Tasks[1].Name].State == "running" {
					alloc, _, err := nc.Allocations().Info(s.ID, (&nomadapi.QueryOptions{}).WithContext(ctx))
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("nomad: %s runs in allocation %s", id, s.ID[:8])
					return alloc
				}
			}
		}
		if time.Now().After(deadline) {
			var states []string
			for _, s := range stubs {
				states = append(states, s.ID[:8]+" "+s.ClientStatus+": "+dpEvents(s.TaskStates))
			}
			t.Fatalf("%s is not running after 2m: %s", id, strings.Join(states, "; "))
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

func dpEvents(states map[string]*nomadapi.TaskState) string {
	var out []string
	for name, st := range states {
		var evs []string
		for _, e := range st.Events {
			msg := e.Type
			if e.DisplayMessage != "" {
				msg += " (" + e.DisplayMessage + ")"
			}
			evs = append(evs, msg)
		}
		out = append(out, name+"="+st.State+" ["+strings.Join(evs, ", ")+"]")
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// dpWaitConnect waits until Consul lists service as a passing
// Connect-capable instance (the proxies resolve upstreams from there) and
// returns its address, the allocation's bridge IP.
func dpWaitConnect(t *testing.T, consul, service string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := api(t, "GET", consul+"/v1/health/connect/"+service+"?passing", "", "")
		var instances []struct{ Service struct{ Address string } }
		if code == 200 && json.Unmarshal([]byte(body), &instances) == nil && len(instances) > 0 {
			addr := instances[0].Service.Address
			t.Logf("consul: %s is a Connect-native instance at %s:%d", service, addr, dpMeshPort)
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("consul lists no Connect instance of %s after 30s: %d %s", service, code, body)
		}
		time.Sleep(dpPoll)
	}
}

// dpWaitProxyReady waits until the allocation's proxy has its certificate
// and listeners, so a refusal cannot be a proxy that is not ready.
func dpWaitProxyReady(t *testing.T, nc *nomadapi.Client, alloc *nomadapi.Allocation) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		log := dpProxyLog(t, nc, alloc)
		if strings.Contains(log, "ready to serve") {
			if m := regexp.MustCompile(`Parsed TLS identity: uri=(\S+)`).FindStringSubmatch(log); m != nil {
				t.Logf("%s: proxy ready, identity %s", alloc.JobID, m[1])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the proxy of %s is not ready after 30s:\n%s", alloc.JobID, log)
		}
		time.Sleep(dpPoll)
	}
}

// dpProbe runs one GET in the app task of alloc and returns the probe's
// output line and exit code.
func dpProbe(t *testing.T, nc *nomadapi.Client, alloc *nomadapi.Allocation, task, url string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code, err := nc.Allocations().Exec(ctx, alloc, task, false, []string{"/probe", "get", url}, strings.NewReader(""), &stdout, &stderr, nil, nil)
	if err != nil {
		t.Fatalf("alloc exec in %s/%s: %v (stderr %q)", alloc.ID[:8], task, err, stderr.String())
	}
	return strings.TrimSpace(stdout.String() + stderr.String()), code
}

const (
	dpPoll     = 500 * time.Millisecond
	dpPatience = 20 * time.Second
)

// dpExpectAllowed polls until a probe gets the callee's answer.
func dpExpectAllowed(t *testing.T, nc *nomadapi.Client, alloc *nomadapi.Allocation, task, url, who string) {
	t.Helper()
	start := time.Now()
	for i := 1; ; i++ {
		out, code := dpProbe(t, nc, alloc, task, url)
		t.Logf("probe %s #%d at +%v: GET %s -> exit %d: %s", who, i, time.Since(start).Round(time.Millisecond), url, code, out)
		if code == 0 && strings.HasPrefix(out, "HTTP 200 ") && strings.Contains(out, "hello from testapp") {
			t.Logf("ALLOWED: %s got the callee's answer after %v", who, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > dpPatience {
			t.Fatalf("%s did not get the callee's answer within %v; last: %s", who, dpPatience, out)
		}
		time.Sleep(dpPoll)
	}
}

// dpExpectRefused polls until a probe fails, the callee's proxy has
// logged one more authorization denial than before and the prober's own
// proxy one more rejected handshake: the refusal came from the intentions,
// for this caller. An HTTP answer fails the test, except, while wasAllowed,
// for the time the agent takes to see new intentions.
func dpExpectRefused(t *testing.T, nc *nomadapi.Client, alloc *nomadapi.Allocation, task, url string, callee *nomadapi.Allocation, who string, wasAllowed bool) {
	t.Helper()
	start := time.Now()
	denied, _ := dpCount(t, nc, callee, dpDenied)
	rejected, _ := dpCount(t, nc, alloc, dpRejected)
	for i := 1; ; i++ {
		out, code := dpProbe(t, nc, alloc, task, url)
		t.Logf("probe %s #%d at +%v: GET %s -> exit %d: %s", who, i, time.Since(start).Round(time.Millisecond), url, code, out)
		switch answered := code == 0 || strings.HasPrefix(out, "HTTP "); {
		case answered && !wasAllowed:
			t.Fatalf("the mesh let the %s through: %s", who, out)
		case !answered:
			nd, lastDenied := dpCount(t, nc, callee, dpDenied)
			nr, lastRejected := dpCount(t, nc, alloc, dpRejected)
			if nd > denied && nr > rejected {
				t.Logf("REFUSED: %s after %v: probe %q; the callee's proxy logged %q; its own proxy logged %q",
					who, time.Since(start).Round(time.Millisecond), out, lastDenied, lastRejected)
				if !strings.Contains(lastDenied, "Action: DENY") {
					t.Errorf("the callee's proxy refused for another reason than a deny intention: %s", lastDenied)
				}
				return
			}
		}
		if time.Since(start) > dpPatience {
			t.Fatalf("%s was not refused by the callee's proxy within %v; last probe: %s", who, dpPatience, out)
		}
		time.Sleep(dpPoll)
	}
}

var (
	// dpDenied is the callee proxy's line for a refused handshake.
	dpDenied = regexp.MustCompile(`(?m)^.*authz call denied.*$`)
	// dpRejected is the calling proxy's line for the same handshake.
	dpRejected = regexp.MustCompile(`(?m)^.*proxy\.upstream: (connection failed|failed to dial).*$`)
)

// dpCount counts the lines matching re in alloc's proxy log and returns
// the last.
func dpCount(t *testing.T, nc *nomadapi.Client, alloc *nomadapi.Allocation, re *regexp.Regexp) (int, string) {
	t.Helper()
	lines := re.FindAllString(dpProxyLog(t, nc, alloc), -1)
	if len(lines) == 0 {
		return 0, ""
	}
	return len(lines), strings.TrimSpace(lines[len(lines)-1])
}

// dpProxyLog reads the proxy task's stdout and stderr (Consul's proxy
// logs to stdout); "" for what is not written yet.
func dpProxyLog(t *testing.T, nc *nomadapi.Client, alloc *nomadapi.Allocation) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b strings.Builder
	for _, stream := range []string{"stdout", "stderr"} {
		rc, err := nc.AllocFS().Cat(alloc, "alloc/logs/"+dpProxyTask+"."+stream+".0", (&nomadapi.QueryOptions{}).WithContext(ctx))
		if err != nil {
			continue
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		b.Write(data)
	}
	return b.String()
}

// dpLogVersions records the agents' versions.
func dpLogVersions(t *testing.T, nomad, consul string) {
	t.Helper()
	var n struct {
		Config struct {
			Version struct{ Version, VersionPrerelease string }
		}
	}
	if _, body := api(t, "GET", nomad+"/v1/agent/self", "", ""); json.Unmarshal([]byte(body), &n) == nil {
		t.Logf("nomad agent %s-%s", n.Config.Version.Version, n.Config.Version.VersionPrerelease)
	}
	var c struct {
		Config struct{ Version, BuildDate string }
	}
	if _, body := api(t, "GET", consul+"/v1/agent/self", "", ""); json.Unmarshal([]byte(body), &c) == nil {
		t.Logf("consul agent %s (build date %s)", c.Config.Version, c.Config.BuildDate)
	}
}

// dpRequireImages checks that every image the test deploys exists locally
// (nothing may be pulled), building the proxy and probe images FROM
// scratch, and returns the proxy image. It skips when docker, the consul
// binary or testapp:local is missing.
func dpRequireImages(t *testing.T, nomad string) string {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("docker is not on PATH: the data-plane test builds local images")
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Skipf("docker does not answer: %v %s", err, out)
	}
	// Nomad starts a bridge group with its infra (pause) image: if that is
	// not local it would pull it.
	var self struct {
		Config struct {
			Plugins []struct {
				Name   string
				Config map[string]any
			}
		}
	}
	if _, body := api(t, "GET", nomad+"/v1/agent/self", "", ""); json.Unmarshal([]byte(body), &self) == nil {
		for _, p := range self.Config.Plugins {
			if img, _ := p.Config["infra_image"].(string); p.Name == "docker" && img != "" && !dpImageExists(img) {
				t.Skipf("Nomad's docker infra_image %s is not a local image: a bridge group would pull it", img)
			}
		}
	}
	if !dpImageExists("testapp:local") {
		t.Skip("image testapp:local is missing: the test bed (../shared/testbed/up.sh) builds it")
	}

	consulBin := dpConsulBinary(t)
	out, err := exec.Command(consulBin, "version").Output()
	if err != nil {
		t.Skipf("%s version: %v", consulBin, err)
	}
	m := regexp.MustCompile(`Consul v(\S+)`).FindSubmatch(out)
	if m == nil {
		t.Skipf("cannot read the version of %s: %s", consulBin, out)
	}
	proxyImage := "drover-it-mesh-consul:" + string(m[1])
	dpBuildImage(t, proxyImage, consulBin, "consul")

	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH: the data-plane test builds its probe client with it")
	}
	probeBin := filepath.Join(t.TempDir(), "probe")
	build := exec.Command(goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", probeBin, "./testdata/probe")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the probe: %v\n%s", err, out)
	}
	dpBuildImage(t, dpProbeImage, probeBin, "probe")

	for _, img := range []string{proxyImage, dpProbeImage, "testapp:local"} {
		if !dpImageExists(img) {
			t.Fatalf("image %s is not local after the build", img)
		}
	}
	return proxyImage
}

// dpConsulBinary finds a static consul binary (a FROM-scratch image has no
// dynamic loader) on PATH or in $AGENT_BIN.
func dpConsulBinary(t *testing.T) string {
	t.Helper()
	var candidates []string
	if p, err := exec.LookPath("consul"); err == nil {
		candidates = append(candidates, p)
	}
	if d := os.Getenv("AGENT_BIN"); d != "" {
		candidates = append(candidates, filepath.Join(d, "consul"))
	}
	for _, p := range candidates {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		static := true
		for _, prog := range f.Progs {
			static = static && prog.Type != elf.PT_INTERP
		}
		f.Close()
		if static {
			return p
		}
		t.Logf("%s is dynamically linked: it cannot run in a FROM-scratch image", p)
	}
	t.Skip("no static consul binary on PATH or in $AGENT_BIN: the data-plane test runs Consul's built-in proxy from it")
	return ""
}

// dpImageExists reports whether ref is in the local image list.
func dpImageExists(ref string) bool {
	out, err := exec.Command("docker", "images", "--format", "{{.Repository}}:{{.Tag}}").Output()
	if err != nil {
		return false
	}
	return slices.Contains(strings.Fields(string(out)), ref)
}

// dpBuildImage builds tag FROM scratch with bin as /name (the entry point),
// unless a local image of that tag already holds the same binary. It never
// pulls: FROM scratch has no base, and --pull=false says so.
func dpBuildImage(t *testing.T, tag, bin, name string) {
	t.Helper()
	if strings.HasSuffix(tag, ":latest") || !strings.Contains(tag, ":") {
		t.Fatalf("image tag %q: never latest (Nomad always pulls it)", tag)
	}
	sum := dpSHA256(t, bin)
	if out, err := exec.Command("docker", "image", "inspect", "--format", `{{index .Config.Labels "`+dpSourceLabel+`"}}`, tag).Output(); err == nil && strings.TrimSpace(string(out)) == sum {
		t.Logf("docker: %s is up to date (%s %s)", tag, name, sum[:12])
		return
	}
	ctxDir := t.TempDir()
	if err := dpCopy(bin, filepath.Join(ctxDir, name)); err != nil {
		t.Fatal(err)
	}
	dockerfile := fmt.Sprintf("FROM scratch\nCOPY %s /%s\nENTRYPOINT [\"/%s\"]\n", name, name, name)
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("docker", "build", "--pull=false", "-q", "--label", dpSourceLabel+"="+sum, "-t", tag, ctxDir)
	// The legacy builder, as the test bed uses: buildx may be absent.
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker build %s: %v\n%s%s", tag, err, out, stderr.String())
	}
	t.Logf("docker: built %s (%s %s) %s", tag, name, sum[:12], strings.TrimSpace(string(out)))
}

func dpSHA256(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func dpCopy(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
