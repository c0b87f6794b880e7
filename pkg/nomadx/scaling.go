package nomadx

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
)

// ScalingPolicies lists every scaling policy, blocking until the policies'
// index passes waitIndex when that is non-zero.
func (c *Client) ScalingPolicies(ctx context.Context, waitIndex uint64) ([]*nomadapi.ScalingPolicyListStub, uint64, error) {
	var stubs []*nomadapi.ScalingPolicyListStub
	var meta *nomadapi.QueryMeta
	q := c.q(ctx)
	q.WaitIndex = waitIndex
	err := c.read(ctx, "list scaling policies", "", func() error {
		var err error
		stubs, meta, err = c.api.Scaling().ListPolicies(q)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return stubs, meta.LastIndex, nil
}

// ScalingPolicy reads one scaling policy.
func (c *Client) ScalingPolicy(ctx context.Context, id string) (*nomadapi.ScalingPolicy, error) {
	var p *nomadapi.ScalingPolicy
	err := c.read(ctx, "read scaling policy", quote(id), func() error {
		var err error
		p, _, err = c.api.Scaling().GetPolicy(id, c.q(ctx))
		return err
	})
	return p, err
}

// AllocationStats reads an allocation's resource usage from its client.
func (c *Client) AllocationStats(ctx context.Context, allocID string) (*nomadapi.AllocResourceUsage, error) {
	var u *nomadapi.AllocResourceUsage
	err := c.read(ctx, "read stats of allocation", quote(shortID(allocID)), func() error {
		var err error
		u, err = c.api.Allocations().Stats(&nomadapi.Allocation{ID: allocID}, c.q(ctx))
		return err
	})
	return u, err
}

// WithLock runs fn only while this process holds the lock on the Nomad
// variable at path (Nomad's Variables lock, as the Autoscaler's HA mode
// uses it): it waits for the lock, renews it, and cancels fn's context if
// it is lost. Returns when ctx ends, after releasing the lock so that a
// standby takes over at once instead of after the TTL and lock delay.
func (c *Client) WithLock(ctx context.Context, path string, ttl time.Duration, fn func(context.Context) error) error {
	ns := c.ns
	if ns == "*" {
		ns = nomadapi.DefaultNamespace // a variable lives in one namespace
	}
	locks, err := c.api.Locks(nomadapi.WriteOptions{Namespace: ns}, nomadapi.Variable{
		Path: path,
		Lock: &nomadapi.VariableLock{TTL: ttl.String(), LockDelay: (ttl / 2).String()},
	})
	if err != nil {
		return fmt.Errorf("nomad: lock %q: %w", path, err)
	}
	// The leaser releases the lock with the context it was started with;
	// given ctx, that release would be made with a cancelled context and
	// fail. It gets a context of its own, ended when ctx ends and fn has
	// returned (or at once while the lock is not held), so the release is
	// sent; a hung release is cut off after releaseTimeout.
	leaseCtx, endLease := context.WithCancel(context.WithoutCancel(ctx))
	defer endLease()
	var holding atomic.Bool
	stop := context.AfterFunc(ctx, func() {
		if !holding.Load() {
			endLease()
		}
		time.AfterFunc(releaseTimeout, endLease)
	})
	defer stop()
	protected := func(funcCtx context.Context) error {
		holding.Store(true)
		defer holding.Store(false)
		runCtx, cancel := context.WithCancel(funcCtx)
		defer cancel()
		defer context.AfterFunc(ctx, cancel)()
		return fn(runCtx)
	}
	leaser := c.api.NewLockLeaser(locks)
	if err := leaser.Start(leaseCtx, protected); err != nil && ctx.Err() == nil {
		return fmt.Errorf("nomad: lock %q: %w", path, err)
	}
	return nil
}

// releaseTimeout bounds the lock release on shutdown.
const releaseTimeout = 5 * time.Second
