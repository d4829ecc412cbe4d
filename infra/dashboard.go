package main

import (
	"fmt"
	"os"
	"strings"

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
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{
			s3.BucketLifecycleConfigurationV2RuleArgs{
				Id:                          pulumi.String("expire-old-versions"),
				Status:                      pulumi.String("Enabled"),
				Filter:                      s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
				NoncurrentVersionExpiration: s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(30)},
				// an expired retired asset leaves a delete marker; once its versions are gone
				// the marker goes too
				Expiration: s3.BucketLifecycleConfigurationV2RuleExpirationArgs{ExpiredObjectDeleteMarker: pulumi.Bool(true)},
			},
			// Hashed assets a deploy retired (retireAssets) are tagged and re-written then,
			// so they expire retiredAssetDays after they left the build, never while a
			// current index.html names them.
			s3.BucketLifecycleConfigurationV2RuleArgs{
				Id:     pulumi.String("expire-retired-assets"),
				Status: pulumi.String("Enabled"),
				Filter: s3.BucketLifecycleConfigurationV2RuleFilterArgs{Tag: s3.BucketLifecycleConfigurationV2RuleFilterTagArgs{
					Key: pulumi.String(retiredTag), Value: pulumi.String("true"),
				}},
				Expiration: s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(retiredAssetDays)},
			},
		},
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
// tab opened before it still lazy-loads its chunks; retireAssets marks them for the
// lifecycle rule when they leave the build.
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

// A hashed asset that leaves the build stays readable for retiredAssetDays (a tab opened
// before the deploy keeps lazy-loading its chunks), then the bucket's lifecycle rule
// expires it. S3 ages an object from its last write, so a lifecycle rule on assets/
// alone would also expire a current chunk that has not changed for as long; the rule
// therefore matches only objects retireAssets tagged and re-wrote at their retirement.
const (
	retiredAssetDays = 30
	retiredTag       = "miyabi-retired"
	// assetsOutput is the stack output that lists the build's hashed assets; the next
	// deploy reads it back (previousAssets) to see which ones left.
	assetsOutput = "dashboardAssets"
)

// hashedAssets are the build's content-hashed keys (assets/...), sorted, space-separated.
func hashedAssets(files []webasset.File) string {
	var keys []string
	for _, f := range files {
		if f.CacheControl == webasset.CacheImmutable {
			keys = append(keys, f.Key)
		}
	}
	return strings.Join(keys, " ")
}

// retireAssets re-writes, in place, each hashed asset the previous deploy had and this
// build has not, with the retiredTag tag: the copy restarts the object's age, so the
// lifecycle rule expires it retiredAssetDays after this deploy. The copy is retained when
// the next deploy drops it from the program, and a chunk that comes back in a later
// build is uploaded afresh, untagged.
func retireAssets(ctx *pulumi.Context, b *Bucket, previous []string, files []webasset.File) error {
	current := map[string]bool{}
	for _, f := range files {
		current[f.Key] = true
	}
	for _, key := range previous {
		if current[key] || !strings.HasPrefix(key, "assets/") {
			continue
		}
		if _, err := s3.NewObjectCopy(ctx, "dashboard/retired/"+key, &s3.ObjectCopyArgs{
			Bucket: b.Bucket.Bucket,
			Key:    pulumi.String(key),
			Source: pulumi.Sprintf("%s/%s", b.Bucket.Bucket, key),
			// S3 refuses a copy onto itself that changes nothing but tags; the headers
			// are those the upload set, plus a note of why the object was re-written.
			MetadataDirective: pulumi.String("REPLACE"),
			ContentType:       pulumi.String(webasset.ContentType(key)),
			CacheControl:      pulumi.String(webasset.CacheImmutable),
			Metadata:          pulumi.StringMap{"miyabi-retired": pulumi.String("true")},
			TaggingDirective:  pulumi.String("REPLACE"),
			Tags:              pulumi.StringMap{retiredTag: pulumi.String("true")},
		}, b.opt, pulumi.RetainOnDelete(true)); err != nil {
			return err
		}
	}
	return nil
}
