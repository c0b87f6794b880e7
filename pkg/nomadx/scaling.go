package nomadx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
// variable at path (the Variables lock the Autoscaler's HA mode uses). It
// waits for the lock, renews it every ttl/3, and cancels fn's context as
// soon as the lock may be lost: a renew refused (another holder) or not
// confirmed within the TTL. It then waits to acquire the lock again. When
// ctx ends it waits for fn to return and releases the lock, so a standby
// takes over at once instead of after the TTL and lock delay.
//
// Nomad's LockLeaser is not used: it keeps running the protected function
// after a failed renew, and releases with an already cancelled context.
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
	log := c.log.With("lock", path)
	for {
		if !c.acquire(ctx, locks, ttl, log) {
			return nil
		}
		log.Info("acquired the lock")
		lost, err := c.holdLock(ctx, locks, ttl, fn, log)
		if !lost {
			// fn returned: ctx ended, or fn failed. Release either way.
			relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
			if rerr := locks.Release(relCtx); rerr != nil {
				log.Warn("releasing the lock failed; a standby takes over after its TTL and lock delay", "error", rerr)
			} else {
				log.Info("released the lock")
			}
			cancel()
			if err != nil && ctx.Err() == nil {
				return err
			}
			return nil
		}
	}
}

// acquire tries for the lock every ttl/10 until it has it (true) or ctx
// ends (false): a standby takes over within a tenth of the TTL of a
// release (6 s at the default minute), at one request per try.
func (c *Client) acquire(ctx context.Context, locks *nomadapi.Locks, ttl time.Duration, log *slog.Logger) bool {
	for {
		_, err := locks.Acquire(ctx)
		switch {
		case err == nil:
			return true
		case ctx.Err() != nil:
			return false
		case !errors.Is(err, nomadapi.ErrLockConflict):
			log.Warn("acquiring the lock failed", "error", err)
		}
		t := time.NewTimer(ttl / 10)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// holdLock runs fn while renewing the lock. lost reports that the lock was
// (or may have been) lost and fn was stopped for it; otherwise fn returned
// on its own with err.
func (c *Client) holdLock(ctx context.Context, locks *nomadapi.Locks, ttl time.Duration, fn func(context.Context) error, log *slog.Logger) (lost bool, err error) {
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- fn(runCtx) }()
	renew := time.NewTicker(ttl / 3)
	defer renew.Stop()
	confirmed := time.Now()
	for {
		select {
		case err := <-done:
			return false, err
		case <-renew.C:
			rctx, cancel := context.WithTimeout(runCtx, ttl/3)
			rerr := locks.Renew(rctx)
			cancel()
			switch {
			case rerr == nil:
				confirmed = time.Now()
				continue
			case runCtx.Err() != nil:
				continue // shutting down: fn is returning
			case errors.Is(rerr, nomadapi.ErrLockConflict):
				log.Warn("lost the lock: the renew was refused", "error", rerr)
			case time.Since(confirmed)+ttl/3 < ttl:
				log.Warn("renewing the lock failed; retrying within its TTL", "error", rerr)
				continue
			default:
				log.Warn("lost the lock: no renew confirmed within its TTL", "error", rerr)
			}
			stop()
			<-done
			return true, nil
		}
	}
}

// releaseTimeout bounds the lock release on shutdown.
const releaseTimeout = 5 * time.Second
