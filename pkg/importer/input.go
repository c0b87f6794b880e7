package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	nomadapi "github.com/hashicorp/nomad/api"
)

// Input is one job to import and where it came from.
type Input struct {
	// Source names the job's origin in the report: a file, "-" for stdin,
	// or "nomad:<id>" for a job read from a cluster.
	Source string
	Job    *nomadapi.Job
}

// DecodeJSON reads the jobs in data: one or more JSON documents, each a
// {"Job": {...}} wrapper (what `nomad job inspect` and `nomad job run
// -output` print), a bare job object, or a list of either.
func DecodeJSON(data []byte, source string) ([]Input, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []Input
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: not a Nomad job in JSON: %w", source, err)
		}
		jobs, err := decodeDocument(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		for _, j := range jobs {
			out = append(out, Input{Source: source, Job: j})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no job in the input", source)
	}
	return out, nil
}

func decodeDocument(raw json.RawMessage) ([]*nomadapi.Job, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, err
		}
		var out []*nomadapi.Job
		for _, r := range list {
			jobs, err := decodeDocument(r)
			if err != nil {
				return nil, err
			}
			out = append(out, jobs...)
		}
		return out, nil
	}
	var wrapper struct {
		Job *nomadapi.Job `json:"Job"`
	}
	if err := json.Unmarshal(raw, &wrapper); err != nil {
		return nil, fmt.Errorf("not a Nomad job in JSON: %w", err)
	}
	job := wrapper.Job
	if job == nil {
		job = new(nomadapi.Job)
		if err := json.Unmarshal(raw, job); err != nil {
			return nil, fmt.Errorf("not a Nomad job in JSON: %w", err)
		}
	}
	if job.ID == nil && job.Name == nil || len(job.TaskGroups) == 0 {
		return nil, errors.New("not a Nomad job: a job needs an ID and at least one group")
	}
	return []*nomadapi.Job{job}, nil
}
