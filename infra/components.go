package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// layer is one layer of the stack as a Pulumi ComponentResource (the way pulumi/examples'
// aws-go-s3-folder-component groups resources), so `pulumi preview` reads as a tree:
// network, database, secrets, dashboard, edge (the WAF, waf.go), api, cdn, compute.
type layer struct{ pulumi.ResourceState }

// newLayer registers the component and returns the option every resource of the layer
// is created with: the component as parent, and an alias to the same name with no
// parent. Resources created before the layers existed had no parent, so their URNs had
// no component in them; the alias tells the engine they are the same resources, and an
// existing stack updates in place instead of replacing them (a database among them).
func newLayer(ctx *pulumi.Context, kind, name string) (pulumi.ResourceOption, error) {
	l := &layer{}
	if err := ctx.RegisterComponentResource("miyabi:infra:"+kind, name, l); err != nil {
		return nil, err
	}
	return pulumi.Composite(pulumi.Parent(l), pulumi.Aliases([]pulumi.Alias{{NoParent: pulumi.Bool(true)}})), nil
}
