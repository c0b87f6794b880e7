package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/drover-io/drover/internal/jsonx"
	"github.com/drover-io/drover/internal/lazyregexp"
	"github.com/drover-io/drover/pkg/apierr"
	"github.com/drover-io/drover/pkg/render"
)

// policyKind is a Vault ACL policy, owned through its header comment.
type policyKind struct{}

// roleKind is a role of the JWT auth method; it is drover's when the
// same-named policy is.
type roleKind struct{}

var (
	managedHeader    = "# Managed by drover"
	headerProjectRe  = lazyregexp.New(`project "([^"]*)"`)
	headerAppRe      = lazyregexp.New(`app "([^"]*)"`)
	nonPolicyComment = lazyregexp.New(`(?m)^#.*\n`)
)

func (policyKind) label(*Change) string { return "policy" }

func (k policyKind) plan(ctx context.Context, p *planner) ([]*Change, error) {
	return planEach(p, p.bundle.VaultPolicies, func(pol *render.VaultPolicy) (*Change, error) {
		ch := &Change{System: apierr.Vault, Kind: KindPolicy, Name: pol.Name, App: pol.Owner.App, step: stepVaultPolicy, kind: k, object: pol}
		live, err := p.c.Vault.Policy(ctx, pol.Name)
		switch {
		case errors.Is(err, apierr.ErrNotFound):
			ch.Action = ActionCreate
			return ch, nil
		case err != nil:
			return nil, err
		}
		ch.existing = true
		p.checkOwner(fmt.Sprintf("vault policy %q", pol.Name), strings.Contains(live, managedHeader), policyProject(live))
		return ch.diffed(lineDiff(policyBody(live), policyBody(pol.Policy))), nil
	})
}

func (k policyKind) leftovers(ctx context.Context, p *planner) ([]*Change, error) {
	removed, err := p.removedPolicies(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Change
	for _, name := range sortedKeys(removed) {
		out = append(out, &Change{System: apierr.Vault, Kind: KindPolicy, Name: name, App: removed[name], Action: ActionDelete,
			step: stepVaultPolicy, kind: k})
	}
	return out, nil
}

func (policyKind) write(ctx context.Context, a *applier, ch *Change) error {
	pol := ch.object.(*render.VaultPolicy)
	return a.c.Vault.PutPolicy(ctx, pol.Name, pol.Policy)
}

func (policyKind) remove(ctx context.Context, a *applier, ch *Change) error {
	return a.c.Vault.DeletePolicy(ctx, ch.Name)
}

// removedPolicies finds, once per plan, this project's policies that the
// bundle no longer has: name -> app. Roles are pruned with them.
func (p *planner) removedPolicies(ctx context.Context) (map[string]string, error) {
	p.removedPoliciesOnce.Do(func() {
		p.removedPoliciesMap, p.removedPoliciesErr = p.findRemovedPolicies(ctx)
	})
	return p.removedPoliciesMap, p.removedPoliciesErr
}

func (p *planner) findRemovedPolicies(ctx context.Context) (map[string]string, error) {
	if p.c.VaultAbsent != nil {
		return nil, nil // the project has no secrets and no Vault answers
	}
	wanted := map[string]bool{}
	for _, pol := range p.bundle.VaultPolicies {
		wanted[pol.Name] = true
	}
	names, err := p.c.Vault.Policies(ctx)
	if err != nil {
		return nil, err
	}
	removed := map[string]string{}
	for _, name := range names {
		if !strings.HasPrefix(name, p.set.Project.Vault.PolicyPrefix) || wanted[name] {
			continue
		}
		text, err := p.c.Vault.Policy(ctx, name)
		if errors.Is(err, apierr.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		if strings.Contains(text, managedHeader) && policyProject(text) == p.bundle.Project {
			removed[name] = policyApp(text)
		}
	}
	return removed, nil
}

func (roleKind) label(*Change) string { return "jwt role" }

func (k roleKind) plan(ctx context.Context, p *planner) ([]*Change, error) {
	return planEach(p, p.bundle.VaultRoles, func(r *render.VaultRole) (*Change, error) {
		ch := &Change{System: apierr.Vault, Kind: KindVaultRole, Name: r.Name, App: r.Owner.App, step: stepVaultRole, kind: k, object: r}
		live, err := p.c.Vault.Read(ctx, r.Path())
		switch {
		case errors.Is(err, apierr.ErrNotFound):
			ch.Action = ActionCreate
			return ch, nil
		case err != nil:
			return nil, err
		}
		ch.existing = true
		if !containsString(live["token_policies"], r.Name) {
			p.conflict(fmt.Sprintf("vault role %q", r.Path()))
		}
		// Compare only what drover sets: Vault adds defaults for the rest.
		want, got := normalizeRole(r.Data), normalizeRole(pick(live, r.Data))
		return ch.diffed(jsonx.Diff(jsonx.Flatten(got), jsonx.Flatten(want))), nil
	})
}

func (k roleKind) leftovers(ctx context.Context, p *planner) ([]*Change, error) {
	removed, err := p.removedPolicies(ctx)
	if err != nil || len(removed) == 0 {
		return nil, err
	}
	mount := p.set.Project.Vault.AuthPath
	roles, err := p.c.Vault.List(ctx, "auth/"+mount+"/role")
	if err != nil && !errors.Is(err, apierr.ErrNotFound) {
		return nil, err
	}
	var out []*Change
	for _, name := range roles {
		if app, ok := removed[name]; ok {
			out = append(out, &Change{System: apierr.Vault, Kind: KindVaultRole, Name: name, App: app, Action: ActionDelete, step: stepVaultRole,
				kind: k, object: &render.VaultRole{Name: name, Mount: mount}})
		}
	}
	return out, nil
}

func (roleKind) write(ctx context.Context, a *applier, ch *Change) error {
	r := ch.object.(*render.VaultRole)
	return a.c.Vault.Write(ctx, r.Path(), r.Data)
}

func (roleKind) remove(ctx context.Context, a *applier, ch *Change) error {
	return a.c.Vault.Delete(ctx, ch.object.(*render.VaultRole).Path())
}

// policyBody drops comment lines: the header changes with each drover
// version and is not part of what the policy grants.
func policyBody(text string) string {
	return strings.TrimSpace(nonPolicyComment().ReplaceAllString(text+"\n", ""))
}

// policyProject reads the project from a drover policy's header comment.
func policyProject(text string) string {
	if m := headerProjectRe().FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}

// policyApp reads the app from a drover policy's header comment.
func policyApp(text string) string {
	if m := headerAppRe().FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}
