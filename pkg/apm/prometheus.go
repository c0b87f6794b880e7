package apm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/drover-io/drover/pkg/scaling"
)

// PrometheusStep is the resolution of range queries, the Autoscaler's: a
// one-minute window gives about sixty points.
const PrometheusStep = time.Second

// PrometheusTimeout bounds one query, as the Autoscaler's plugin does.
const PrometheusTimeout = 10 * time.Second

// Prometheus queries a Prometheus server's HTTP API: /api/v1/query and
// /api/v1/query_range, form-encoded POSTs (a GET when the server refuses
// POST), as client_golang's API client sends them. Two endpoints do not
// warrant that client: it links json-iterator and much of
// prometheus/common, whose package initializers every drover command
// would pay for at start-up.
type Prometheus struct {
	base   *url.URL
	client *http.Client
}

var _ scaling.MetricSource = (*Prometheus)(nil)

// NewPrometheus returns a source for the server at address.
func NewPrometheus(address string) (*Prometheus, error) {
	u, err := url.Parse(address)
	if err == nil && (u.Scheme != "http" && u.Scheme != "https" || u.Host == "") {
		err = errors.New("want http://host:port or https://host:port")
	}
	if err != nil {
		return nil, fmt.Errorf("prometheus address %q: %w", address, err)
	}
	return &Prometheus{base: u, client: &http.Client{}}, nil
}

// Query runs query over r: an instant query when the window is empty, a
// range query at one-second steps otherwise. The result must be exactly one
// series.
func (p *Prometheus) Query(ctx context.Context, query string, r scaling.TimeRange) ([]scaling.DataPoint, error) {
	ctx, cancel := context.WithTimeout(ctx, PrometheusTimeout)
	defer cancel()
	form := url.Values{"query": {query}}
	endpoint := "query"
	if r.From.Equal(r.To) {
		form.Set("time", promTime(r.To))
	} else {
		endpoint = "query_range"
		form.Set("start", promTime(r.From))
		form.Set("end", promTime(r.To))
		form.Set("step", strconv.FormatFloat(PrometheusStep.Seconds(), 'f', -1, 64))
	}
	data, err := p.call(ctx, endpoint, form)
	if err != nil {
		return nil, fmt.Errorf("prometheus query %q: %w", query, err)
	}
	points, err := data.points()
	if err != nil {
		return nil, fmt.Errorf("prometheus query %q %w", query, err)
	}
	return points, nil
}

// promResponse is the envelope of every Prometheus API answer.
type promResponse struct {
	Status    string     `json:"status"`
	Data      promResult `json:"data"`
	ErrorType string     `json:"errorType"`
	Error     string     `json:"error"`
}

// promResult is a query's result: a matrix (series of [time, "value"]
// pairs), a vector (series of one pair), a scalar (one pair) or a string.
type promResult struct {
	ResultType string          `json:"resultType"`
	Result     json.RawMessage `json:"result"`
}

type promSeries struct {
	Values     []promSample      `json:"values"`     // matrix
	Value      *promSample       `json:"value"`      // vector
	Histograms []json.RawMessage `json:"histograms"` // native histograms: not a number
	Histogram  json.RawMessage   `json:"histogram"`
}

// promSample is [<unix seconds>, "<value>"].
type promSample struct {
	Time  time.Time
	Value float64
}

func (s *promSample) UnmarshalJSON(b []byte) error {
	var pair [2]json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil {
		return fmt.Errorf("a sample is not [time, \"value\"]: %w", err)
	}
	var ts json.Number
	var val string
	if err := json.Unmarshal(pair[0], &ts); err != nil {
		return fmt.Errorf("a sample's time: %w", err)
	}
	if err := json.Unmarshal(pair[1], &val); err != nil {
		return fmt.Errorf("a sample's value: %w", err)
	}
	t, err := parsePromTime(ts.String())
	if err != nil {
		return err
	}
	// ParseFloat reads Prometheus's "NaN", "+Inf" and "-Inf" too.
	v, err := strconv.ParseFloat(val, 64)
	if err != nil {
		return fmt.Errorf("a sample's value %q: %w", val, err)
	}
	s.Time, s.Value = t, v
	return nil
}

// call POSTs form to the API endpoint and returns the data of a success.
func (p *Prometheus) call(ctx context.Context, endpoint string, form url.Values) (*promResult, error) {
	u := *p.base
	u.Path = path.Join(u.Path, "/api/v1", endpoint)
	body := form.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	if err == nil && resp.StatusCode == http.StatusMethodNotAllowed {
		// A server (or a proxy before it) that takes GET only.
		resp.Body.Close()
		u.RawQuery = body
		if req, err = http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil); err != nil {
			return nil, err
		}
		resp, err = p.client.Do(req)
	}
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	var pr promResponse
	if jerr := json.Unmarshal(raw, &pr); jerr != nil || pr.Status == "" {
		// Not the API's envelope: a proxy's page, say.
		return nil, fmt.Errorf("server returned HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(raw[:min(len(raw), 200)]))
	}
	if pr.Status != "success" {
		return nil, fmt.Errorf("%s: %s", pr.ErrorType, pr.Error)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("server returned HTTP %d", resp.StatusCode)
	}
	return &pr.Data, nil
}

// points are the samples of the result, which must be one series of
// numbers; an error reads on from "prometheus query %q".
func (r *promResult) points() ([]scaling.DataPoint, error) {
	var samples []promSample
	switch r.ResultType {
	case "matrix", "vector":
		var series []promSeries
		if err := json.Unmarshal(r.Result, &series); err != nil {
			return nil, fmt.Errorf("returned an unreadable %s: %w", r.ResultType, err)
		}
		if len(series) != 1 {
			return nil, fmt.Errorf("returned %d series, want exactly 1", len(series))
		}
		s := series[0]
		if len(s.Histograms) > 0 || len(s.Histogram) > 0 {
			return nil, errors.New("returned native histograms, not numbers")
		}
		samples = s.Values
		if s.Value != nil {
			samples = []promSample{*s.Value}
		}
	case "scalar":
		var one promSample
		if err := json.Unmarshal(r.Result, &one); err != nil {
			return nil, fmt.Errorf("returned an unreadable scalar: %w", err)
		}
		samples = []promSample{one}
	default:
		return nil, fmt.Errorf("returned an unsupported result type %q", r.ResultType)
	}
	points := make([]scaling.DataPoint, 0, len(samples))
	for _, s := range samples {
		if math.IsNaN(s.Value) {
			return nil, errors.New("returned NaN")
		}
		points = append(points, scaling.DataPoint{Time: s.Time, Value: s.Value})
	}
	return points, nil
}

// promTime writes t as the API takes it: Unix seconds, fractional.
func promTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.Unix())+float64(t.Nanosecond())/1e9, 'f', -1, 64)
}

// parsePromTime reads Unix seconds with up to millisecond decimals (the
// API's resolution) exactly, without a float's rounding.
func parsePromTime(s string) (time.Time, error) {
	secs, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err == nil && frac != "" {
		var ms int64
		ms, err = strconv.ParseInt((frac + "00")[:3], 10, 64)
		if err == nil {
			return time.UnixMilli(sec*1000 + ms).UTC(), nil
		}
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("a sample's time %q: not Unix seconds", s)
	}
	return time.Unix(sec, 0).UTC(), nil
}
