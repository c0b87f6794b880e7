package app

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	nomadapi "github.com/hashicorp/nomad/api"
)

// TestExplainAllocsWithoutTaskEvents: an allocation the client could not
// set up has no task events; its client description says why, and the
// explanation shows it rather than nothing.
func TestExplainAllocsWithoutTaskEvents(t *testing.T) {
	allocs := []*nomadapi.AllocationListStub{
		{ID: "91a605cd-0000-4000-8000-000000000000", ClientStatus: nomadapi.AllocClientStatusFailed,
			ClientDescription: "Unable to add allocation due to error: failed to configure network manager: hostname is not currently supported on driver raw_exec",
			TaskStates:        map[string]*nomadapi.TaskState{"keeper": {}, "web": {}}},
		// Failed with task events: those, not the description.
		{ID: "a0000000-0000-4000-8000-000000000000", ClientStatus: nomadapi.AllocClientStatusFailed, ClientDescription: "Failed tasks",
			TaskStates: map[string]*nomadapi.TaskState{"web": {Events: []*nomadapi.TaskEvent{{Type: "Driver Failure", DisplayMessage: "no such image"}}}}},
		// Still running: nothing to explain.
		{ID: "b0000000-0000-4000-8000-000000000000", ClientStatus: nomadapi.AllocClientStatusRunning, ClientDescription: "Tasks are running"},
	}
	got := explainAllocs(allocs, func(*nomadapi.AllocationListStub) bool { return false })
	want := []string{
		"alloc 91a605cd: Unable to add allocation due to error: failed to configure network manager: hostname is not currently supported on driver raw_exec",
		"alloc a0000000 task web: Driver Failure: no such image",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("explanation (-want +got):\n%s", diff)
	}
}
