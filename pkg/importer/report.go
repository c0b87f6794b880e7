package importer

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Classes of a field in the report.
const (
	// ClassTyped: carried by a typed spec block or attribute.
	ClassTyped = "typed"
	// ClassHatch: carried by the app's nomad { } block.
	ClassHatch = "hatch"
	// ClassTransformed: carried, changed as Reason says.
	ClassTransformed = "transformed"
	// ClassDropped: not carried; Reason says why.
	ClassDropped = "dropped"
	// ClassDefault: the value Nomad or drover gives anyway.
	ClassDefault = "default"
	// ClassIgnored: state Nomad keeps about a job, not its definition.
	ClassIgnored = "ignored"
)

// Report is what an import did, field by field. It is the document
// `drover import --json` prints.
type Report struct {
	// Project is the name of the project the specs belong to.
	Project string `json:"project"`
	// Files are the spec files written, relative to the output directory.
	Files []string     `json:"files"`
	Jobs  []*JobReport `json:"jobs"`
	// Summary counts the jobs by outcome.
	Summary Summary `json:"summary"`
}

// Summary counts jobs.
type Summary struct {
	Jobs int `json:"jobs"`
	// Imported jobs have every group written as an app.
	Imported int `json:"imported"`
	// NothingDropped: imported, and no field dropped.
	NothingDropped int `json:"nothing_dropped"`
	// NoHatch: imported, nothing dropped, and no field in a nomad block.
	NoHatch int `json:"no_hatch"`
	// RoundTripEqual: rendering the specs gives the job back.
	RoundTripEqual int `json:"round_trip_equal"`
}

// JobReport is one input job.
type JobReport struct {
	// Source is where the job came from (file, "-", "nomad:<id>").
	Source string `json:"source"`
	// Job is the input job's ID.
	Job string `json:"job"`
	// Apps are the apps written for the job's groups, in group order.
	Apps []AppReport `json:"apps"`
	// Error says why the job, or one of its groups, was not written.
	Error string `json:"error,omitempty"`
	// Fields classify every field of the input job.
	Fields []Field `json:"fields"`
	// Secrets are literal values moved out of env into secret blocks.
	Secrets []SecretMove `json:"secrets,omitempty"`
	// RoundTrip is "equal" or "differs" (see Differences); "" when the
	// job was not imported.
	RoundTrip string `json:"round_trip,omitempty"`
	// Differences between the input job and what the specs render,
	// apart from ownership metadata and transformations.
	Differences []string `json:"differences,omitempty"`
}

// AppReport names an app written for a group.
type AppReport struct {
	App   string `json:"app"`
	Group string `json:"group"`
	File  string `json:"file"`
}

// Field is one field of the input job.
type Field struct {
	// Path names the field in Nomad's job file vocabulary:
	// group[web].task[api].config.image, group[web].constraint[0].
	Path string `json:"path"`
	// Class is typed, hatch, transformed, dropped, default or ignored.
	Class string `json:"class"`
	// App is the app that carries the field ("" for job-level fields
	// carried by the project).
	App string `json:"app,omitempty"`
	// Reason says why a field was dropped or how it was transformed.
	Reason string `json:"reason,omitempty"`
}

// SecretMove is a literal secret taken out of a task's env. The value is
// never recorded.
type SecretMove struct {
	App  string `json:"app"`
	Task string `json:"task"`
	Env  string `json:"env"`
	// Mount, Path and Key say where to store the value: KV v2 mount Mount,
	// secret Path, field Key.
	Mount string `json:"mount"`
	Path  string `json:"path"`
	Key   string `json:"key"`
	// Why the value looked like a secret.
	Why string `json:"why"`
}

// Imported reports whether every group of the job was written.
func (j *JobReport) Imported() bool { return j.Error == "" }

// Count returns how many fields are of class c.
func (j *JobReport) Count(c string) int {
	n := 0
	for _, f := range j.Fields {
		if f.Class == c {
			n++
		}
	}
	return n
}

func (r *Report) summarize() {
	r.Summary = Summary{Jobs: len(r.Jobs)}
	for _, j := range r.Jobs {
		if !j.Imported() {
			continue
		}
		r.Summary.Imported++
		if j.Count(ClassDropped) == 0 {
			r.Summary.NothingDropped++
			if j.Count(ClassHatch) == 0 {
				r.Summary.NoHatch++
			}
		}
		if j.RoundTrip == "equal" {
			r.Summary.RoundTripEqual++
		}
	}
}

// WriteText prints the report for people: per job, the apps written, the
// fields by class (typed and default ones counted, the others listed with
// their reasons), where to store moved secrets, and round-trip
// differences.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, j := range r.Jobs {
		fmt.Fprintf(&b, "job %q (%s)", j.Job, j.Source)
		if len(j.Apps) > 0 {
			var apps []string
			for _, a := range j.Apps {
				apps = append(apps, fmt.Sprintf("%s -> app %q in %s", a.Group, a.App, a.File))
			}
			fmt.Fprintf(&b, ": %s", strings.Join(apps, "; "))
		}
		b.WriteString("\n")
		if j.Error != "" {
			fmt.Fprintf(&b, "  not imported: %s\n", j.Error)
		}
		fmt.Fprintf(&b, "  %d typed, %d in the nomad block, %d transformed, %d dropped, %d default, %d ignored\n",
			j.Count(ClassTyped), j.Count(ClassHatch), j.Count(ClassTransformed), j.Count(ClassDropped), j.Count(ClassDefault), j.Count(ClassIgnored))
		for _, c := range []string{ClassTyped, ClassHatch, ClassTransformed, ClassDropped} {
			var lines []string
			for _, f := range j.Fields {
				if f.Class != c {
					continue
				}
				if f.Reason != "" {
					lines = append(lines, fmt.Sprintf("%s: %s", f.Path, f.Reason))
				} else {
					lines = append(lines, f.Path)
				}
			}
			if len(lines) == 0 {
				continue
			}
			fmt.Fprintf(&b, "  %s:\n", c)
			for _, l := range lines {
				fmt.Fprintf(&b, "    %s\n", l)
			}
		}
		for _, s := range j.Secrets {
			fmt.Fprintf(&b, "  secret: store the current value of %s (task %q of app %q) at %s/%s key %s, e.g. vault kv patch -mount=%s %s %s=...  (%s)\n",
				s.Env, s.Task, s.App, s.Mount, s.Path, s.Key, s.Mount, s.Path, s.Key, s.Why)
		}
		switch j.RoundTrip {
		case "equal":
			b.WriteString("  round trip: rendering the specs gives the job back\n")
		case "differs":
			fmt.Fprintf(&b, "  round trip: %d difference(s) (drover import --check shows them)\n", len(j.Differences))
		}
	}
	s := r.Summary
	fmt.Fprintf(&b, "%d job(s): %d imported, %d with nothing dropped, %d without a nomad block, %d round-trip equal\n",
		s.Jobs, s.Imported, s.NothingDropped, s.NoHatch, s.RoundTripEqual)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteDifferences prints every round-trip difference, job by job.
func (r *Report) WriteDifferences(w io.Writer) error {
	var b strings.Builder
	for _, j := range r.Jobs {
		if len(j.Differences) == 0 {
			continue
		}
		fmt.Fprintf(&b, "job %q (%s): the specs render it with differences (input -> rendered):\n", j.Job, j.Source)
		for _, d := range j.Differences {
			for _, l := range strings.Split(strings.TrimRight(d, "\n"), "\n") {
				fmt.Fprintf(&b, "  %s\n", l)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func sortFields(fs []Field) {
	sort.SliceStable(fs, func(i, k int) bool { return fs[i].Path < fs[k].Path })
}
