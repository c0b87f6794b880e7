package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/drover-io/drover/pkg/importer"
)

// ImportOptions say which Nomad jobs to turn into specs, and where to
// write them.
type ImportOptions struct {
	// ClusterOptions reach Nomad, for JobIDs only.
	ClusterOptions
	// Files are job files: API JSON (nomad job inspect, nomad job run
	// -output, a bare job), or HCL job files, converted by `nomad job run
	// -output`. "-" reads stdin.
	Files []string
	// JobIDs are jobs read from Nomad, in Namespace (the configured
	// namespace when empty).
	JobIDs    []string
	Namespace string
	// Project names the project; see importer.Options.
	Project string
	// OutDir receives drover.hcl and the spec files; "-" prints them on
	// Stdout. Existing files are kept unless Force.
	OutDir string
	Force  bool
	// Check writes nothing: it imports, renders the specs and returns an
	// *ImportDiffError when a job does not render back to itself.
	Check  bool
	Stdin  io.Reader
	Stdout io.Writer
	// NomadCommand converts an HCL job file to JSON (`nomad job run
	// -output FILE`); nil runs the nomad binary on PATH.
	NomadCommand func(ctx context.Context, file string) ([]byte, error)
}

// ImportResult is what an import did.
type ImportResult struct {
	Report *importer.Report
	// Written are the files written (paths under OutDir).
	Written []string
}

// ImportDiffError: with Check, some jobs do not render back to
// themselves; the report has the differences.
type ImportDiffError struct{ Jobs int }

func (e *ImportDiffError) Error() string {
	return fmt.Sprintf("%d job(s) do not render back to themselves", e.Jobs)
}

// ImportIncompleteError: some jobs or groups could not be imported; the
// report says why. What could be imported was written.
type ImportIncompleteError struct{ Jobs int }

func (e *ImportIncompleteError) Error() string {
	return fmt.Sprintf("%d job(s) not imported (the report says why)", e.Jobs)
}

// Import reads the jobs, turns them into specs and writes them.
func Import(ctx context.Context, opts ImportOptions) (*ImportResult, error) {
	inputs, err := importInputs(ctx, opts)
	if err != nil {
		return nil, err
	}
	res, err := importer.Import(inputs, importer.Options{Project: opts.Project})
	if err != nil {
		return nil, err
	}
	out := &ImportResult{Report: res.Report}
	if opts.Check {
		if n := len(res.Report.Jobs) - res.Report.Summary.RoundTripEqual; n > 0 {
			return out, &ImportDiffError{Jobs: n}
		}
		return out, nil
	}
	if out.Written, err = writeImport(res.Files, opts); err != nil {
		return out, err
	}
	if n := res.Report.Summary.Jobs - res.Report.Summary.Imported; n > 0 {
		return out, &ImportIncompleteError{Jobs: n}
	}
	return out, nil
}

func importInputs(ctx context.Context, opts ImportOptions) ([]importer.Input, error) {
	var inputs []importer.Input
	for _, f := range opts.Files {
		var data []byte
		var err error
		if f == "-" {
			data, err = io.ReadAll(opts.Stdin)
		} else {
			data, err = os.ReadFile(f)
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		if !looksLikeJSON(data) {
			if data, err = hclToJSON(ctx, opts, f, data); err != nil {
				return nil, err
			}
		}
		in, err := importer.DecodeJSON(data, f)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, in...)
	}
	if len(opts.JobIDs) > 0 {
		c, err := opts.connect(ctx, nil, systems{nomad: true})
		if err != nil {
			return nil, err
		}
		c = c.inNamespace(opts.Namespace)
		for _, id := range opts.JobIDs {
			job, err := c.Nomad.Job(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("read job %q: %w", id, err)
			}
			inputs = append(inputs, importer.Input{Source: "nomad:" + c.Nomad.Namespace() + "/" + id, Job: job})
		}
	}
	if len(inputs) == 0 {
		return nil, errors.New("no job to import: name job files, - for stdin, or --job ID")
	}
	return inputs, nil
}

func looksLikeJSON(data []byte) bool {
	data = bytes.TrimSpace(data)
	return len(data) > 0 && (data[0] == '{' || data[0] == '[')
}

// hclToJSON converts an HCL job file with `nomad job run -output`, which
// only Nomad's own parser reads faithfully (variables, functions, HCL1).
func hclToJSON(ctx context.Context, opts ImportOptions, name string, data []byte) ([]byte, error) {
	file := name
	if name == "-" {
		tmp, err := os.CreateTemp("", "drover-import-*.nomad.hcl")
		if err != nil {
			return nil, err
		}
		defer os.Remove(tmp.Name())
		if _, err := tmp.Write(data); err != nil {
			tmp.Close()
			return nil, err
		}
		if err := tmp.Close(); err != nil {
			return nil, err
		}
		file = tmp.Name()
	}
	run := opts.NomadCommand
	if run == nil {
		run = nomadOutput
	}
	out, err := run(ctx, file)
	if err != nil {
		return nil, fmt.Errorf("%s is not JSON, so it was read as an HCL job file with 'nomad job run -output': %w", name, err)
	}
	return out, nil
}

// ErrNoNomadBinary: an HCL job file needs the nomad binary, and none is
// on PATH.
var ErrNoNomadBinary = errors.New("reading an HCL job file needs the nomad binary on PATH (or convert it first: nomad job run -output FILE > job.json)")

func nomadOutput(ctx context.Context, file string) ([]byte, error) {
	bin, err := exec.LookPath("nomad")
	if err != nil {
		return nil, ErrNoNomadBinary
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "job", "run", "-output", file)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("nomad job run -output: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

// writeImport writes the files under opts.OutDir, or to Stdout for "-".
func writeImport(files []importer.File, opts ImportOptions) ([]string, error) {
	if opts.OutDir == "-" {
		for i, f := range files {
			if i > 0 {
				fmt.Fprintln(opts.Stdout)
			}
			if _, err := fmt.Fprintf(opts.Stdout, "# --- %s\n%s", f.Path, f.Data); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	dir := opts.OutDir
	if dir == "" {
		dir = "."
	}
	if !opts.Force {
		for _, f := range files {
			p := filepath.Join(dir, filepath.FromSlash(f.Path))
			if _, err := os.Stat(p); err == nil {
				return nil, fmt.Errorf("%s exists; import into an empty directory, or pass --force to overwrite", p)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return written, fmt.Errorf("write %s: %w", p, err)
		}
		written = append(written, p)
	}
	return written, nil
}
