package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/drover-io/drover/internal/parallel"
	"github.com/drover-io/drover/pkg/render"
	"github.com/drover-io/drover/pkg/spec"
)

// Output formats of render.
const (
	FormatJSON = "json"
	FormatHCL  = "hcl"
)

// RenderOptions say what to render and where.
type RenderOptions struct {
	Load spec.LoadOptions
	// OutDir receives one file per artifact plus manifest.json; when empty
	// the bundle goes to Stdout as one document.
	OutDir string
	// Format is json or hcl (stdout only; files use each system's format).
	Format string
	// Version is recorded in ownership metadata.
	Version string
	Stdout  io.Writer
}

// RenderResult says what was rendered.
type RenderResult struct {
	Diagnostics
	Bundle *render.Bundle
	// Written lists the files written under OutDir.
	Written []string
}

// Render loads, validates and renders the specs, offline.
func Render(opts RenderOptions) (*RenderResult, error) {
	set, diags := spec.Load(opts.Load)
	res := &RenderResult{Diagnostics: Diagnostics{Diags: diags}}
	if set != nil {
		res.Files = set.Files
	}
	if err := inputError(diags, res.Files); err != nil {
		return res, err
	}
	bundle, err := render.Render(set, render.Options{Version: opts.Version})
	if err != nil {
		if err = renderError(err, &res.Diagnostics); errors.As(err, new(*InputError)) {
			return res, err
		}
		return res, fmt.Errorf("render: %w", err)
	}
	res.Bundle = bundle
	if opts.OutDir != "" {
		res.Written, err = writeBundle(bundle, opts.OutDir, opts.Version)
		return res, err
	}
	switch opts.Format {
	case FormatHCL:
		err = bundle.WriteHCL(opts.Stdout)
	case FormatJSON, "":
		var data []byte
		if data, err = bundle.JSON(opts.Version); err == nil {
			_, err = opts.Stdout.Write(data)
		}
	default:
		err = fmt.Errorf("unknown format %q: use json or hcl", opts.Format)
	}
	return res, err
}

// writeBundle writes every file of the bundle under dir. Files that the
// previous render listed in dir's manifest.json and this one does not (an
// app removed since) are deleted; nothing else in dir is touched.
func writeBundle(b *render.Bundle, dir, version string) ([]string, error) {
	files, err := b.Files(version)
	if err != nil {
		return nil, err
	}
	keep := make(map[string]bool, len(files))
	for _, f := range files {
		keep[f.Path] = true
	}
	if old, err := os.ReadFile(filepath.Join(dir, render.ManifestFileName)); err == nil {
		var m render.Manifest
		if json.Unmarshal(old, &m) == nil {
			for _, a := range m.Artifacts {
				if !keep[a.Path] && filepath.IsLocal(filepath.FromSlash(a.Path)) {
					_ = os.Remove(filepath.Join(dir, filepath.FromSlash(a.Path)))
				}
			}
		}
	}
	// Directories first (few), then the files on every core.
	made := map[string]bool{}
	for _, f := range files {
		d := filepath.Dir(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, fmt.Errorf("create %s: %w", d, err)
			}
			made[d] = true
		}
	}
	written := make([]string, len(files))
	errs := make([]error, len(files))
	parallel.ForEach(len(files), func(i int) {
		path := filepath.Join(dir, filepath.FromSlash(files[i].Path))
		written[i] = path
		// Leave a file that already has these bytes alone: rewriting is far
		// slower than reading on many file systems, and an unchanged mtime
		// keeps make and file watchers quiet.
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, files[i].Data) {
			return
		}
		if err := os.WriteFile(path, files[i].Data, 0o644); err != nil {
			errs[i] = fmt.Errorf("write %s: %w", path, err)
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return written, nil
}
