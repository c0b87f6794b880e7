// Package importer turns Nomad jobs into drover specs: `drover import`.
//
// It reads jobs in the API's JSON form (what `nomad job inspect` and
// `nomad job run -output` print, or a bare job object), and writes one app
// per task group, a drover.hcl project file and a report that classifies
// every field of the input:
//
//	typed        carried by a spec block or attribute (image, ports,
//	             services, the group's and tasks', files, volumes, docker
//	             options, ...), including Nomad's own group blocks at the
//	             app level (constraint, restart, ...), parameterized and a
//	             task's csi_plugin, written with pkg/jobspec
//	hatch        carried by the app's `nomad { }` block, in Nomad's own
//	             vocabulary, written with pkg/jobspec
//	transformed  carried, but changed in a way the report names (a renamed
//	             job, a job-level constraint moved into the group, a
//	             literal secret moved to Vault, an http check in the mesh
//	             exposed through its sidecar)
//	dropped      not carried, with the reason
//	default      the value Nomad or drover gives anyway; nothing to write
//	ignored      state Nomad keeps about a job (versions, indexes, status)
//
// The typed part prefers the spec's own forms wherever they render the
// input exactly; each typed proposal is rendered and checked, and what
// does not render as the input has it goes to the hatch instead. The
// hatch holds exactly what rendering the typed spec does not already
// produce: the importer renders the typed part, compares it with the
// input, field by field, and writes the difference. What of that
// difference is Nomad's own group vocabulary that an app takes at its top
// level (constraint, affinity, spread, restart, reschedule, migrate,
// ephemeral_disk, disconnect; parameterized for the job), or a task at its
// own (csi_plugin), is written there rather than in the nomad block. It
// then checks the
// round trip: the written specs, loaded with pkg/spec and rendered with
// pkg/render, must give the input job back (both canonicalized, apart from
// drover's ownership metadata and the named transformations); Check lists
// what differs.
//
// Secret values never leave this package: an env var that looks like a
// literal credential becomes a `secret` block, and the report says where to
// store the value, not what it is.
//
// The package does not read files, talk to Nomad or run the nomad binary
// (pkg/app does), and knows nothing of the command line.
package importer
