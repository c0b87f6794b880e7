package app

import "context"

// artifactKind is everything plan, deploy, prune and destroy do with one
// kind of object, in one place: how the bundle's objects of the kind are
// compared with the live ones, how this project's leftovers are found, and
// how a change is written and deleted. A new kind implements it in its own
// file and joins artifactKinds; nothing else needs to learn about it.
type artifactKind interface {
	// label is how a change of the kind reads in progress lines ("job").
	label(ch *Change) string
	// plan returns a change (ActionNone when in sync) for every object of
	// the kind that the planner's bundle holds.
	plan(ctx context.Context, p *planner) ([]*Change, error)
	// leftovers returns deletions of the objects of the kind that this
	// project owns but the bundle no longer holds (--prune, destroy).
	leftovers(ctx context.Context, p *planner) ([]*Change, error)
	// write creates or updates ch's object.
	write(ctx context.Context, a *applier, ch *Change) error
	// remove deletes ch's object; deleting one that is gone succeeds.
	remove(ctx context.Context, a *applier, ch *Change) error
}

// artifactKinds are every kind drover manages. Planning, pruning and
// applying iterate over this list, so a kind cannot be planned and then
// forgotten by prune or destroy.
var artifactKinds = []artifactKind{
	namespaceKind{},
	policyKind{},
	roleKind{},
	entryKind{},
	catalogKind{},
	jobKind{},
}

// step orders changes: an object's dependencies are applied in an earlier
// step. Deletions run the steps backwards.
type step int

const (
	stepNamespace step = iota
	stepVaultPolicy
	stepVaultRole
	stepServiceDefaults
	stepIntentions
	stepCatalog
	stepRouters
	stepGatewayEntries
	stepGatewayJobs
	stepAppJobs
)
