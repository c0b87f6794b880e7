package apm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/drover-io/drover/pkg/scaling"
)

// PrometheusStep is the resolution of range queries, the Autoscaler's: a
// one-minute window gives about sixty points.
const PrometheusStep = time.Second

// PrometheusTimeout bounds one query, as the Autoscaler's plugin does.
const PrometheusTimeout = 10 * time.Second

// Prometheus queries a Prometheus server's HTTP API.
type Prometheus struct {
	api promv1.API
}

var _ scaling.MetricSource = (*Prometheus)(nil)

// NewPrometheus returns a source for the server at address.
func NewPrometheus(address string) (*Prometheus, error) {
	c, err := promapi.NewClient(promapi.Config{Address: address})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: %w", address, err)
	}
	return &Prometheus{api: promv1.NewAPI(c)}, nil
}

// Query runs query over r: an instant query when the window is empty, a
// range query at one-second steps otherwise. The result must be exactly one
// series.
func (p *Prometheus) Query(ctx context.Context, query string, r scaling.TimeRange) ([]scaling.DataPoint, error) {
	ctx, cancel := context.WithTimeout(ctx, PrometheusTimeout)
	defer cancel()
	var v model.Value
	var err error
	if r.From.Equal(r.To) {
		v, _, _, err = p.api.Query(ctx, query, r.To)
	} else {
		v, _, _, err = p.api.QueryRange(ctx, query, promv1.Range{Start: r.From, End: r.To, Step: PrometheusStep})
	}
	if err != nil {
		return nil, fmt.Errorf("prometheus query %q: %w", query, err)
	}
	var points []scaling.DataPoint
	add := func(t model.Time, val model.SampleValue) error {
		f := float64(val)
		if math.IsNaN(f) {
			return fmt.Errorf("prometheus query %q returned NaN", query)
		}
		points = append(points, scaling.DataPoint{Time: t.Time(), Value: f})
		return nil
	}
	switch x := v.(type) {
	case model.Matrix:
		if len(x) != 1 {
			return nil, fmt.Errorf("prometheus query %q returned %d series, want exactly 1", query, len(x))
		}
		for _, s := range x[0].Values {
			if err := add(s.Timestamp, s.Value); err != nil {
				return nil, err
			}
		}
	case model.Vector:
		if len(x) != 1 {
			return nil, fmt.Errorf("prometheus query %q returned %d series, want exactly 1", query, len(x))
		}
		if err := add(x[0].Timestamp, x[0].Value); err != nil {
			return nil, err
		}
	case *model.Scalar:
		if err := add(x.Timestamp, x.Value); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("prometheus returned an unsupported result type " + v.Type().String())
	}
	return points, nil
}
