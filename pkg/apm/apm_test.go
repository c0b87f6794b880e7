package apm

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/scaling"
)

// fakeNomad is the three reads nomad-apm makes, in memory.
type fakeNomad struct {
	job    *nomadapi.Job
	allocs []*nomadapi.AllocationListStub
	stats  map[string]*nomadapi.AllocResourceUsage
}

func (f *fakeNomad) Job(context.Context, string) (*nomadapi.Job, error) { return f.job, nil }
func (f *fakeNomad) Allocations(context.Context, string) ([]*nomadapi.AllocationListStub, error) {
	return f.allocs, nil
}
func (f *fakeNomad) AllocationStats(_ context.Context, id string) (*nomadapi.AllocResourceUsage, error) {
	return f.stats[id], nil
}

func usage(ticks, percent float64, memBytes uint64) *nomadapi.AllocResourceUsage {
	return &nomadapi.AllocResourceUsage{ResourceUsage: &nomadapi.ResourceUsage{
		CpuStats:    &nomadapi.CpuStats{TotalTicks: ticks, Percent: percent},
		MemoryStats: &nomadapi.MemoryStats{Usage: memBytes},
	}}
}

// twoTaskGroup allocates 500 MHz and 256 MiB over two tasks; two of its
// allocations run, one has failed, and another group runs beside it.
func twoTaskGroup() *fakeNomad {
	group := nomadapi.NewTaskGroup("api", 2)
	for _, name := range []string{"app", "log"} {
		group.Tasks = append(group.Tasks, &nomadapi.Task{Name: name, Resources: &nomadapi.Resources{CPU: new(250), MemoryMB: new(128)}})
	}
	job := nomadapi.NewServiceJob("api", "api", "global", 50)
	job.TaskGroups = []*nomadapi.TaskGroup{group}
	const mib = 1 << 20
	return &fakeNomad{
		job: job,
		allocs: []*nomadapi.AllocationListStub{
			{ID: "a1", TaskGroup: "api", ClientStatus: "running"},
			{ID: "a2", TaskGroup: "api", ClientStatus: "running"},
			{ID: "a3", TaskGroup: "api", ClientStatus: "failed"},
			{ID: "w1", TaskGroup: "worker", ClientStatus: "running"},
		},
		stats: map[string]*nomadapi.AllocResourceUsage{
			"a1": usage(250, 10, 64*mib),
			"a2": usage(750, 30, 192*mib+mib-1), // 192.99 MiB: the plugin truncates to 192
			"a3": usage(9999, 99, 999*mib),
			"w1": usage(9999, 99, 999*mib),
		},
	}
}

func TestNomadAPMAggregatesLikeThePlugin(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	var namespaces []string
	f := twoTaskGroup()
	src := &NomadAPM{Nomad: func(ns string) NomadReader { namespaces = append(namespaces, ns); return f }, Now: func() time.Time { return at }}
	for query, want := range map[string]float64{
		// cpu-allocated: ticks over the group's 500 MHz: 50% and 150%.
		"taskgroup_avg_cpu-allocated/api/api@default": 100,
		"taskgroup_max_cpu-allocated/api/api@default": 150,
		"taskgroup_min_cpu-allocated/api/api@default": 50,
		"taskgroup_sum_cpu-allocated/api/api@default": 200,
		"taskgroup_avg_cpu/api/api@default":           20,
		"taskgroup_sum_memory/api/api@default":        float64(64<<20 + 192<<20 + 1<<20 - 1),
		// memory-allocated: whole MiB over 256: 25% and 75%.
		"taskgroup_avg_memory-allocated/api/api@default": 50,
	} {
		points, err := src.Query(context.Background(), query, scaling.TimeRange{})
		if err != nil {
			t.Errorf("%s: %v", query, err)
			continue
		}
		if len(points) != 1 || points[0].Value != want || !points[0].Time.Equal(at) {
			t.Errorf("%s = %v, want one point of %g", query, points, want)
		}
	}
	// The job's namespace, from the query, picks where to read.
	namespaces = nil
	if _, err := src.Query(context.Background(), "taskgroup_avg_cpu/api/api@prod", scaling.TimeRange{}); err != nil || len(namespaces) != 1 || namespaces[0] != "prod" {
		t.Errorf("read in %v (%v), want prod", namespaces, err)
	}
}

func in(f *fakeNomad) func(string) NomadReader { return func(string) NomadReader { return f } }

func TestNomadAPMErrors(t *testing.T) {
	src := &NomadAPM{Nomad: in(twoTaskGroup())}
	for query, want := range map[string]string{
		"taskgroup_avg_cpu/db/api@default":           "no running allocation of group db",
		"taskgroup_avg_cpu-allocated/db/api@default": `task group "db" not found`,
		"avg_cpu":                                 "",
		"taskgroup_median_cpu/api/api@default":    "",
		"taskgroup_avg_bandwidth/api/api@default": "",
	} {
		_, err := src.Query(context.Background(), query, scaling.TimeRange{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %q", query, err, want)
		}
	}
	// A group that reserves no CPU cannot have a CPU-allocated percentage.
	f := twoTaskGroup()
	for _, task := range f.job.TaskGroups[0].Tasks {
		task.Resources.CPU = nil
	}
	if _, err := (&NomadAPM{Nomad: in(f)}).Query(context.Background(), "taskgroup_avg_cpu-allocated/api/api@default", scaling.TimeRange{}); err == nil ||
		!strings.Contains(err.Error(), "allocates no") {
		t.Errorf("no allocated CPU: %v", err)
	}
}

// fakePrometheus answers /api/v1/query and /api/v1/query_range as the
// Prometheus HTTP API does (form-encoded POST or GET; errors as
// {"status":"error","errorType":...,"error":...} with 400 or 422).
func fakePrometheus(t *testing.T, results map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json")
		q := r.Form.Get("query")
		switch r.URL.Path {
		case "/api/v1/query_range":
			for _, p := range []string{"start", "end", "step"} {
				if r.Form.Get(p) == "" {
					w.WriteHeader(http.StatusBadRequest)
					fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"invalid parameter \"%s\""}`, p)
					return
				}
			}
		case "/api/v1/query":
		default:
			http.NotFound(w, r)
			return
		}
		data, ok := results[q]
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			body, _ := json.Marshal(map[string]string{"status": "error", "errorType": "bad_data",
				"error": fmt.Sprintf(`invalid parameter "query": 1:1: parse error: unexpected %q`, q)})
			w.Write(body)
			return
		}
		fmt.Fprintf(w, `{"status":"success","data":%s}`, data)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPrometheusQueries(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	ts := func(d time.Duration) int64 { return t0.Add(d).Unix() }
	series := func(labels string, values ...string) string {
		var pts []string
		for i, v := range values {
			pts = append(pts, fmt.Sprintf(`[%d,%q]`, ts(time.Duration(i)*time.Second), v))
		}
		return fmt.Sprintf(`{"metric":{%s},"values":[%s]}`, labels, strings.Join(pts, ","))
	}
	srv := fakePrometheus(t, map[string]string{
		"rps":     `{"resultType":"matrix","result":[` + series(`"job":"api"`, "10", "12.5", "15") + `]}`,
		"two":     `{"resultType":"matrix","result":[` + series(`"i":"1"`, "1") + `,` + series(`"i":"2"`, "2") + `]}`,
		"none":    `{"resultType":"matrix","result":[]}`,
		"nan":     `{"resultType":"matrix","result":[` + series(``, "1", "NaN") + `]}`,
		"instant": fmt.Sprintf(`{"resultType":"vector","result":[{"metric":{},"value":[%d,"42"]}]}`, ts(0)),
		"scalar":  fmt.Sprintf(`{"resultType":"scalar","result":[%d,"7"]}`, ts(0)),
	})
	p, err := NewPrometheus(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	window := scaling.TimeRange{From: t0.Add(-time.Minute), To: t0}
	points, err := p.Query(context.Background(), "rps", window)
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 3 || points[1].Value != 12.5 || !points[2].Time.Equal(t0.Add(2*time.Second)) {
		t.Errorf("rps: %v", points)
	}
	instant := scaling.TimeRange{From: t0, To: t0}
	for q, want := range map[string]float64{"instant": 42, "scalar": 7} {
		points, err := p.Query(context.Background(), q, instant)
		if err != nil || len(points) != 1 || points[0].Value != want {
			t.Errorf("%s: %v %v", q, points, err)
		}
	}
	for q, want := range map[string]string{
		"two":     "returned 2 series, want exactly 1",
		"none":    "returned 0 series",
		"nan":     "NaN",
		"rate(x[": "parse error",
	} {
		_, err := p.Query(context.Background(), q, window)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprintf("%q", q)) {
			t.Errorf("%s: got %v, want an error naming the query and %q", q, err, want)
		}
	}
}

func TestPrometheusUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	p, err := NewPrometheus(addr)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Query(context.Background(), "up", scaling.TimeRange{})
	if err == nil || !strings.Contains(err.Error(), "prometheus") {
		t.Errorf("unreachable server: %v", err)
	}
}

// TestPrometheusWire: what goes to the server (form-encoded POST, Unix
// seconds, a one-second step; GET when POST is refused) and what comes
// back besides data (a proxy's page, native histograms, millisecond
// times).
func TestPrometheusWire(t *testing.T) {
	var got []string
	postAllowed := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && !postAllowed {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Form.Encode())
		switch r.Form.Get("query") {
		case "proxy":
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>502 Bad Gateway</html>")
		case "histogram":
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1,{"count":"2"}]}]}}`)
		default:
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1764583200.781,"+Inf"]}]}}`)
		}
	}))
	t.Cleanup(srv.Close)
	p, err := NewPrometheus(srv.URL + "/prom")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1764583200, 500_000_000)
	points, err := p.Query(context.Background(), "up", scaling.TimeRange{From: at, To: at})
	if err != nil || len(points) != 1 || !math.IsInf(points[0].Value, 1) || !points[0].Time.Equal(time.UnixMilli(1764583200781)) {
		t.Errorf("instant query: %v %v", points, err)
	}
	if _, err := p.Query(context.Background(), "up", scaling.TimeRange{From: at.Add(-time.Minute), To: at}); err != nil {
		t.Error(err)
	}
	postAllowed = false
	if _, err := p.Query(context.Background(), "up", scaling.TimeRange{From: at, To: at}); err != nil {
		t.Errorf("with GET only: %v", err)
	}
	want := []string{
		"POST /prom/api/v1/query query=up&time=1764583200.5",
		"POST /prom/api/v1/query_range end=1764583200.5&query=up&start=1764583140.5&step=1",
		"GET /prom/api/v1/query query=up&time=1764583200.5",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	postAllowed = true
	for q, want := range map[string]string{"proxy": "HTTP 502: <html>502 Bad Gateway</html>", "histogram": "native histograms"} {
		if _, err := p.Query(context.Background(), q, scaling.TimeRange{}); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprintf("prometheus query %q", q)) {
			t.Errorf("%s: got %v, want an error naming the query and %q", q, err, want)
		}
	}
	for _, bad := range []string{"", "localhost:9090", "ftp://host"} {
		if _, err := NewPrometheus(bad); err == nil {
			t.Errorf("NewPrometheus(%q) took it", bad)
		}
	}
}
