package apm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/pkg/scaling"
)

// NomadReader is what nomad-apm needs from Nomad (*nomadx.Client).
type NomadReader interface {
	Job(ctx context.Context, id string) (*nomadapi.Job, error)
	Allocations(ctx context.Context, jobID string) ([]*nomadapi.AllocationListStub, error)
	AllocationStats(ctx context.Context, allocID string) (*nomadapi.AllocResourceUsage, error)
}

// NomadAPM aggregates the resource usage Nomad reports for a task group's
// running allocations, exactly as the Autoscaler's nomad-apm plugin does
// (plugins/builtin/apm/nomad/plugin/job.go). It returns a single point.
type NomadAPM struct {
	// Nomad returns a reader for a namespace: a policy's query names its
	// job's namespace.
	Nomad func(namespace string) NomadReader
	// Now stamps the point; time.Now when nil.
	Now func() time.Time
}

var _ scaling.MetricSource = (*NomadAPM)(nil)

// Query answers a full-form query, "taskgroup_<op>_<metric>/<group>/<job>@<ns>"
// (scaling.CanonicalizeAPMQueries expands the short form).
func (n *NomadAPM) Query(ctx context.Context, query string, _ scaling.TimeRange) ([]scaling.DataPoint, error) {
	q, err := scaling.ParseNomadAPMQuery(query, scaling.Target{})
	if err != nil {
		return nil, err
	}
	nomad := n.Nomad(q.Namespace)
	allocs, err := nomad.Allocations(ctx, q.Job)
	if err != nil {
		return nil, err
	}
	var allocated int
	if q.Metric == scaling.APMMetricCPUAllocated || q.Metric == scaling.APMMetricMemoryAllocated {
		job, err := nomad.Job(ctx, q.Job)
		if err != nil {
			return nil, err
		}
		tg := job.LookupTaskGroup(q.Group)
		if tg == nil {
			return nil, fmt.Errorf("task group %q not found in job %q", q.Group, q.Job)
		}
		for _, t := range tg.Tasks {
			if t.Resources == nil {
				continue
			}
			if q.Metric == scaling.APMMetricCPUAllocated && t.Resources.CPU != nil {
				allocated += *t.Resources.CPU
			}
			if q.Metric == scaling.APMMetricMemoryAllocated && t.Resources.MemoryMB != nil {
				allocated += *t.Resources.MemoryMB
			}
		}
		if allocated == 0 {
			return nil, fmt.Errorf("task group %q of job %q allocates no %s", q.Group, q.Job, q.Metric)
		}
	}
	var values []float64
	for _, a := range allocs {
		if a.ClientStatus != nomadapi.AllocClientStatusRunning || a.TaskGroup != q.Group {
			continue
		}
		u, err := nomad.AllocationStats(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		if u == nil || u.ResourceUsage == nil {
			continue
		}
		ru := u.ResourceUsage
		switch q.Metric {
		case scaling.APMMetricCPU:
			values = append(values, ru.CpuStats.Percent)
		case scaling.APMMetricCPUAllocated:
			values = append(values, ru.CpuStats.TotalTicks/float64(allocated)*100)
		case scaling.APMMetricMemory:
			values = append(values, float64(ru.MemoryStats.Usage))
		case scaling.APMMetricMemoryAllocated:
			usageMiB := ru.MemoryStats.Usage / 1024 / 1024 // integer MiB, as the plugin computes it
			values = append(values, float64(usageMiB)/float64(allocated)*100)
		}
	}
	if len(values) == 0 {
		return nil, errors.New("metric not found: no running allocation of group " + q.Group)
	}
	now := time.Now()
	if n.Now != nil {
		now = n.Now()
	}
	return []scaling.DataPoint{{Time: now, Value: aggregate(q.Op, values)}}, nil
}

// aggregate combines per-allocation values; max starts from the smallest
// positive float and min from the largest, as the plugin's do.
func aggregate(op string, values []float64) float64 {
	var r float64
	switch op {
	case scaling.APMOpSum, scaling.APMOpAvg:
		for _, v := range values {
			r += v
		}
		if op == scaling.APMOpAvg {
			r /= float64(len(values))
		}
	case scaling.APMOpMax:
		r = math.SmallestNonzeroFloat64
		for _, v := range values {
			r = math.Max(r, v)
		}
	case scaling.APMOpMin:
		r = math.MaxFloat64
		for _, v := range values {
			r = math.Min(r, v)
		}
	}
	return r
}
