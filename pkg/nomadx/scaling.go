package nomadx

import (
	"context"
	"fmt"
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
// it is lost. Returns when ctx ends.
func (c *Client) WithLock(ctx context.Context, path string, ttl time.Duration, fn func(context.Context) error) error {
	locks, err := c.api.Locks(nomadapi.WriteOptions{Namespace: c.ns}, nomadapi.Variable{
		Path: path,
		Lock: &nomadapi.VariableLock{TTL: ttl.String(), LockDelay: (ttl / 2).String()},
	})
	if err != nil {
		return fmt.Errorf("nomad: lock %q: %w", path, err)
	}
	leaser := c.api.NewLockLeaser(locks)
	if err := leaser.Start(ctx, fn); err != nil && ctx.Err() == nil {
		return fmt.Errorf("nomad: lock %q: %w", path, err)
	}
	return nil
}
