package main

import (
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudfront"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AWS managed policy ids (the same in every account).
const (
	cachingOptimized          = "658327ea-f89d-4fab-a63d-7e88639e58f6"
	cachingDisabled           = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
	allViewerExceptHostHeader = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
)

// OriginVerifyHeader is the header CloudFront adds to API requests; the app refuses
// API requests without it when REQUIRE_ORIGIN_SECRET is true, so the execute-api URL
// cannot be used to go around CloudFront.
const OriginVerifyHeader = "X-Miyabi-Origin-Verify"

// spaRewrite serves index.html for client-side routes (paths whose last segment has
// no dot) on the S3 behaviour only, so an API 404 stays a 404.
const spaRewrite = `function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
`

// CDN is the distribution and the URLs it gives the stack.
type CDN struct {
	Distribution *cloudfront.Distribution
	// URL is https://<custom domain or distribution domain>, no trailing slash.
	URL pulumi.StringOutput
}

// newCDN fronts the bucket and, when api is not nil, the API under /api/*.
func newCDN(ctx *pulumi.Context, cfg Config, b *Bucket, api *HTTPAPI) (*CDN, error) {
	opt, err := newLayer(ctx, "CDN", "cdn")
	if err != nil {
		return nil, err
	}
	oac, err := cloudfront.NewOriginAccessControl(ctx, "dashboard", &cloudfront.OriginAccessControlArgs{
		Name:                          pulumi.String(cfg.name("dashboard")),
		OriginAccessControlOriginType: pulumi.String("s3"),
		SigningBehavior:               pulumi.String("always"),
		SigningProtocol:               pulumi.String("sigv4"),
	}, opt)
	if err != nil {
		return nil, err
	}
	spa, err := cloudfront.NewFunction(ctx, "spa", &cloudfront.FunctionArgs{
		Name:    pulumi.String(cfg.name("spa")),
		Runtime: pulumi.String("cloudfront-js-2.0"),
		Code:    pulumi.String(spaRewrite),
		Publish: pulumi.Bool(true),
		Comment: pulumi.String("Miyabi: client-side routes -> /index.html"),
	}, opt)
	if err != nil {
		return nil, err
	}
	headers, err := newSecurityHeaders(ctx, cfg, opt)
	if err != nil {
		return nil, err
	}

	origins, behaviours := cdnOrigins(cfg, b, api, oac, headers)
	if api != nil && api.Events != nil {
		// the events WebSocket (websocket.go), before /api/*
		o, eb, err := eventsBehaviour(ctx, cfg, api.Events)
		if err != nil {
			return nil, err
		}
		origins = append(origins, o)
		behaviours = append(cloudfront.DistributionOrderedCacheBehaviorArray{eb}, behaviours...)
	}
	cert, aliases := viewerCertificate(cfg)
	dist, err := cloudfront.NewDistribution(ctx, "cdn", &cloudfront.DistributionArgs{
		Enabled:           pulumi.Bool(true),
		Comment:           pulumi.String(cfg.name("cdn")),
		Aliases:           aliases,
		DefaultRootObject: pulumi.String("index.html"),
		HttpVersion:       pulumi.String("http2and3"),
		IsIpv6Enabled:     pulumi.Bool(true),
		// North America and Europe edges only: the cheapest class.
		PriceClass: pulumi.String("PriceClass_100"),
		Origins:    origins,
		DefaultCacheBehavior: cloudfront.DistributionDefaultCacheBehaviorArgs{
			TargetOriginId:          pulumi.String("dashboard"),
			ViewerProtocolPolicy:    pulumi.String("redirect-to-https"),
			AllowedMethods:          pulumi.ToStringArray([]string{"GET", "HEAD", "OPTIONS"}),
			CachedMethods:           pulumi.ToStringArray([]string{"GET", "HEAD"}),
			CachePolicyId:           pulumi.String(cachingOptimized),
			ResponseHeadersPolicyId: headers.ID(),
			Compress:                pulumi.Bool(true),
			FunctionAssociations: cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArray{
				cloudfront.DistributionDefaultCacheBehaviorFunctionAssociationArgs{EventType: pulumi.String("viewer-request"), FunctionArn: spa.Arn},
			},
		},
		OrderedCacheBehaviors: behaviours,
		Restrictions: cloudfront.DistributionRestrictionsArgs{
			GeoRestriction: cloudfront.DistributionRestrictionsGeoRestrictionArgs{RestrictionType: pulumi.String("none")},
		},
		ViewerCertificate: cert,
	}, opt)
	if err != nil {
		return nil, err
	}
	if err := allowDistribution(ctx, b, dist); err != nil {
		return nil, err
	}

	url := pulumi.Sprintf("https://%s", dist.DomainName)
	if cfg.DomainName != "" {
		url = pulumi.Sprintf("https://%s", cfg.DomainName)
	}
	return &CDN{Distribution: dist, URL: url}, nil
}

// cdnOrigins are the bucket (through origin access control) and, when api is not nil,
// the API under /api/* with the origin secret header.
func cdnOrigins(cfg Config, b *Bucket, api *HTTPAPI, oac *cloudfront.OriginAccessControl, headers *cloudfront.ResponseHeadersPolicy) (cloudfront.DistributionOriginArray, cloudfront.DistributionOrderedCacheBehaviorArray) {
	origins := cloudfront.DistributionOriginArray{cloudfront.DistributionOriginArgs{
		OriginId:              pulumi.String("dashboard"),
		DomainName:            b.Bucket.BucketRegionalDomainName,
		OriginAccessControlId: oac.ID(),
	}}
	var behaviours cloudfront.DistributionOrderedCacheBehaviorArray
	if api != nil {
		origins = append(origins, cloudfront.DistributionOriginArgs{
			OriginId:   pulumi.String("api"),
			DomainName: api.Host,
			CustomOriginConfig: cloudfront.DistributionOriginCustomOriginConfigArgs{
				HttpPort: pulumi.Int(80), HttpsPort: pulumi.Int(443),
				OriginProtocolPolicy: pulumi.String("https-only"),
				OriginSslProtocols:   pulumi.StringArray{pulumi.String("TLSv1.2")},
			},
			CustomHeaders: cloudfront.DistributionOriginCustomHeaderArray{cloudfront.DistributionOriginCustomHeaderArgs{
				Name:  pulumi.String(OriginVerifyHeader),
				Value: pulumi.ToSecret(pulumi.String(cfg.Secrets.OriginVerifySecret)).(pulumi.StringOutput),
			}},
		})
		// Never cached; every viewer header but Host goes to API Gateway, which
		// needs its own Host to route.
		behaviours = cloudfront.DistributionOrderedCacheBehaviorArray{cloudfront.DistributionOrderedCacheBehaviorArgs{
			PathPattern:             pulumi.String("/api/*"),
			TargetOriginId:          pulumi.String("api"),
			ViewerProtocolPolicy:    pulumi.String("https-only"),
			AllowedMethods:          pulumi.ToStringArray([]string{"GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"}),
			CachedMethods:           pulumi.ToStringArray([]string{"GET", "HEAD"}),
			CachePolicyId:           pulumi.String(cachingDisabled),
			OriginRequestPolicyId:   pulumi.String(allViewerExceptHostHeader),
			ResponseHeadersPolicyId: headers.ID(),
			Compress:                pulumi.Bool(true),
		}}
	}

	return origins, behaviours
}

// viewerCertificate is CloudFront's default certificate, or the custom domain's.
func viewerCertificate(cfg Config) (cloudfront.DistributionViewerCertificateArgs, pulumi.StringArray) {
	cert := cloudfront.DistributionViewerCertificateArgs{CloudfrontDefaultCertificate: pulumi.Bool(true)}
	var aliases pulumi.StringArray
	if cfg.DomainName != "" {
		aliases = pulumi.StringArray{pulumi.String(cfg.DomainName)}
		cert = cloudfront.DistributionViewerCertificateArgs{
			AcmCertificateArn:      pulumi.String(cfg.CertificateArn),
			SslSupportMethod:       pulumi.String("sni-only"),
			MinimumProtocolVersion: pulumi.String("TLSv1.2_2021"),
		}
	}

	return cert, aliases
}

// allowDistribution lets this distribution, and nothing else, read the bucket, and
// refuses plain HTTP.
func allowDistribution(ctx *pulumi.Context, b *Bucket, dist *cloudfront.Distribution) error {
	opt := b.opt
	policy := pulumi.All(b.Bucket.Arn, dist.Arn).ApplyT(func(v []any) (string, error) {
		bucketArn, distArn := v[0].(string), v[1].(string)
		doc, err := json.Marshal(policyDoc(
			statement{
				Sid: "CloudFrontReadsThroughOAC", Effect: "Allow",
				Principal: map[string]string{"Service": "cloudfront.amazonaws.com"},
				Action:    []string{"s3:GetObject"}, Resource: []string{bucketArn + "/*"},
				Condition: map[string]any{"StringEquals": map[string]string{"AWS:SourceArn": distArn}},
			},
			statement{
				Sid: "TLSOnly", Effect: "Deny", Principal: "*", Action: []string{"s3:*"},
				Resource:  []string{bucketArn, bucketArn + "/*"},
				Condition: map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}},
			},
		))
		return string(doc), err
	}).(pulumi.StringOutput)
	_, err := s3.NewBucketPolicy(ctx, "dashboard", &s3.BucketPolicyArgs{Bucket: b.Bucket.ID(), Policy: policy},
		pulumi.DependsOn([]pulumi.Resource{b.Private}), opt)
	return err
}

// newSecurityHeaders is the response-headers policy for both behaviours.
func newSecurityHeaders(ctx *pulumi.Context, cfg Config, opt pulumi.ResourceOption) (*cloudfront.ResponseHeadersPolicy, error) {
	connect := "'self'"
	if cfg.DashboardAPIBase == APIBaseGateway {
		// A wildcard, not the API's own host: the API's CORS names the distribution,
		// and naming the API here would make the two depend on each other.
		connect += " https://*.execute-api." + cfg.Region + ".amazonaws.com"
	}
	csp := "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data: https://avatars.githubusercontent.com; connect-src " + connect + "; " +
		"font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self' https://github.com; frame-ancestors 'none'"
	return cloudfront.NewResponseHeadersPolicy(ctx, "security", &cloudfront.ResponseHeadersPolicyArgs{
		Name: pulumi.String(cfg.name("security-headers")),
		SecurityHeadersConfig: cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs{
			StrictTransportSecurity: cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs{
				AccessControlMaxAgeSec: pulumi.Int(63072000), IncludeSubdomains: pulumi.Bool(true), Override: pulumi.Bool(true),
			},
			ContentTypeOptions: cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs{Override: pulumi.Bool(true)},
			FrameOptions:       cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs{FrameOption: pulumi.String("DENY"), Override: pulumi.Bool(true)},
			ReferrerPolicy: cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs{
				ReferrerPolicy: pulumi.String("strict-origin-when-cross-origin"), Override: pulumi.Bool(true),
			},
			ContentSecurityPolicy: cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs{
				ContentSecurityPolicy: pulumi.String(csp), Override: pulumi.Bool(true),
			},
		},
	}, opt)
}
