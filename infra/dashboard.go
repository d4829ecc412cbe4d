package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/miyabi/miyabi/infra/webasset"
)

// Bucket is the dashboard's private bucket.
type Bucket struct {
	Bucket *s3.BucketV2
	// Private is the public access block; the bucket policy waits for it.
	Private *s3.BucketPublicAccessBlock
	// opt places the objects and the bucket policy in the dashboard layer.
	opt pulumi.ResourceOption
}

// newDashboardBucket creates a bucket nobody can make public; CloudFront reads it
// through origin access control (see cdn.go).
func newDashboardBucket(ctx *pulumi.Context, cfg Config) (*Bucket, error) {
	opt, err := newLayer(ctx, "Dashboard", "dashboard")
	if err != nil {
		return nil, err
	}
	bucket, err := s3.NewBucketV2(ctx, "dashboard", &s3.BucketV2Args{
		BucketPrefix: pulumi.String(cfg.name("dashboard-")),
		// Staging can be destroyed with its objects; production refuses.
		ForceDestroy: pulumi.Bool(!cfg.Production),
	}, opt)
	if err != nil {
		return nil, err
	}
	private, err := s3.NewBucketPublicAccessBlock(ctx, "dashboard", &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, opt)
	if err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, "dashboard", &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, opt); err != nil {
		return nil, err
	}
	// Versioning keeps the previous index.html, so a bad deploy can be undone by
	// restoring one object; old versions expire after 30 days.
	versioning, err := s3.NewBucketVersioningV2(ctx, "dashboard", &s3.BucketVersioningV2Args{
		Bucket:                  bucket.ID(),
		VersioningConfiguration: s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, opt)
	if err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, "dashboard", &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:                          pulumi.String("expire-old-versions"),
			Status:                      pulumi.String("Enabled"),
			Filter:                      s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
			NoncurrentVersionExpiration: s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(30)},
		}},
	}, pulumi.DependsOn([]pulumi.Resource{versioning}), opt); err != nil {
		return nil, err
	}
	// SSE-S3 rather than KMS: CloudFront's OAC can read it without a key policy.
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, "dashboard", &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm: pulumi.String("AES256"),
			},
		}},
	}, opt); err != nil {
		return nil, err
	}
	return &Bucket{Bucket: bucket, Private: private, opt: opt}, nil
}

// uploadDashboard puts every file of the build in the bucket. Only index.html
// differs per stack: it carries apiBase; the rest are the build's bytes. index.html goes
// last, after every asset it can name is in place, so no visitor gets an index whose
// chunks are missing. Hashed assets are never deleted by a deploy (RetainOnDelete): a
// tab opened before it still lazy-loads its chunks. An S3 lifecycle rule cannot tell a
// retired chunk from a current one that has not changed for as long (both age from
// their upload), so they are kept; docs/ops.md says how to prune them.
func uploadDashboard(ctx *pulumi.Context, b *Bucket, files []webasset.File, apiBase pulumi.StringOutput) error {
	opt := b.opt
	var assets []pulumi.Resource
	var index *webasset.File
	for i, f := range files {
		if f.Key == "index.html" {
			index = &files[i]
			continue
		}
		opts := []pulumi.ResourceOption{opt}
		if f.CacheControl == webasset.CacheImmutable {
			opts = append(opts, pulumi.RetainOnDelete(true))
		}
		o, err := s3.NewBucketObjectv2(ctx, "dashboard/"+f.Key, &s3.BucketObjectv2Args{
			Bucket:       b.Bucket.ID(),
			Key:          pulumi.String(f.Key),
			ContentType:  pulumi.String(f.ContentType),
			CacheControl: pulumi.String(f.CacheControl),
			Source:       pulumi.NewFileAsset(f.Path),
		}, opts...)
		if err != nil {
			return err
		}
		assets = append(assets, o)
	}
	if index == nil {
		return fmt.Errorf("dashboard: no index.html")
	}
	body, err := os.ReadFile(index.Path)
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	_, err = s3.NewBucketObjectv2(ctx, "dashboard/index.html", &s3.BucketObjectv2Args{
		Bucket:       b.Bucket.ID(),
		Key:          pulumi.String(index.Key),
		ContentType:  pulumi.String(index.ContentType),
		CacheControl: pulumi.String(index.CacheControl),
		Content: apiBase.ApplyT(func(base string) (string, error) {
			out, err := webasset.InjectAPIBase(body, base)
			return string(out), err
		}).(pulumi.StringOutput),
	}, pulumi.DependsOn(assets), opt)
	return err
}

// dashboardFiles lists the build and fails early when index.html cannot take the
// API base, rather than in the middle of an update.
func dashboardFiles(dist string) ([]webasset.File, error) {
	files, err := webasset.Files(dist)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if f.Key != "index.html" {
			continue
		}
		body, err := os.ReadFile(f.Path)
		if err != nil {
			return nil, fmt.Errorf("dashboard: %w", err)
		}
		if _, err := webasset.InjectAPIBase(body, "https://example.invalid/api/v1"); err != nil {
			return nil, fmt.Errorf("dashboard: %s: %w", f.Path, err)
		}
		return files, nil
	}
	return nil, fmt.Errorf("dashboard: %s has no index.html", dist)
}
