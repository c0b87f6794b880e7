package scaling

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ParseTrace reads a CSV trace: a header, then rows of seconds since the
// start and total load. Lines starting with # are comments.
func ParseTrace(r io.Reader) (Trace, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	var t Trace
	for i, row := range rows {
		if len(row) < 2 {
			return nil, fmt.Errorf("trace line %d: want seconds,load", i+1)
		}
		sec, err1 := strconv.ParseFloat(strings.TrimSpace(row[0]), 64)
		load, err2 := strconv.ParseFloat(strings.TrimSpace(row[1]), 64)
		if err1 != nil || err2 != nil {
			if i == 0 {
				continue // the header
			}
			return nil, fmt.Errorf("trace line %d: %q is not seconds,load", i+1, strings.Join(row, ","))
		}
		if sec < 0 || load < 0 || math.IsNaN(load) {
			return nil, fmt.Errorf("trace line %d: seconds and load must not be negative", i+1)
		}
		t = append(t, TracePoint{At: time.Duration(sec * float64(time.Second)), Load: load})
	}
	sort.SliceStable(t, func(i, j int) bool { return t[i].At < t[j].At })
	if len(t) < 2 {
		return nil, errors.New("trace: need at least two rows")
	}
	return t, nil
}

// WriteTrace writes a trace as CSV.
func WriteTrace(w io.Writer, t Trace) error {
	if _, err := fmt.Fprintln(w, "seconds,load"); err != nil {
		return err
	}
	for _, p := range t {
		if _, err := fmt.Fprintf(w, "%g,%g\n", p.At.Seconds(), math.Round(p.Load*100)/100); err != nil {
			return err
		}
	}
	return nil
}

// builtinTraces are 30-minute loads for a target of 70 per instance:
// 140 is two instances' worth.
var builtinTraces = map[string]func() Trace{
	// step: two instances' worth, then eight for 15 minutes, then two.
	"step": func() Trace {
		return Trace{{0, 140}, {299 * time.Second, 140}, {300 * time.Second, 560}, {1199 * time.Second, 560}, {1200 * time.Second, 140}, {1800 * time.Second, 140}}
	},
	// ramp: a linear climb to twelve instances' worth over 20 minutes, then
	// back down over 10.
	"ramp": func() Trace {
		return Trace{{0, 140}, {1200 * time.Second, 840}, {1800 * time.Second, 140}}
	},
	// spike: three instances' worth with a one-minute burst to fifteen.
	"spike": func() Trace {
		return Trace{{0, 210}, {599 * time.Second, 210}, {600 * time.Second, 1050}, {660 * time.Second, 1050}, {661 * time.Second, 210}, {1800 * time.Second, 210}}
	},
	// noisy: five instances' worth, +-30% every 10 seconds (a fixed
	// pseudo-random sequence, so runs compare).
	"noisy": func() Trace {
		var t Trace
		x := uint32(2463534242)
		for s := 0; s <= 1800; s += 10 {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			u := float64(x) / float64(math.MaxUint32)
			t = append(t, TracePoint{At: time.Duration(s) * time.Second, Load: 350 * (1 + 0.3*(2*u-1))})
		}
		return t
	},
}

// BuiltinTrace returns a built-in trace by name.
func BuiltinTrace(name string) (Trace, bool) {
	f, ok := builtinTraces[name]
	if !ok {
		return nil, false
	}
	return f(), true
}

// BuiltinTraces lists the built-in traces, sorted.
func BuiltinTraces() []string {
	out := make([]string, 0, len(builtinTraces))
	for n := range builtinTraces {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
