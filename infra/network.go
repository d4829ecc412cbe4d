package main

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const vpcCIDR = "10.40.0.0/16"

// Network is what the database and the Lambda need from the VPC.
type Network struct {
	VpcID            pulumi.StringOutput
	PrivateSubnetIDs pulumi.StringArray
	LambdaSGID       pulumi.StringOutput
	// Egress is the private default route; the migration waits for it because the
	// Lambda reaches Secrets Manager through it.
	Egress pulumi.Resource
}

// newNetwork builds a VPC over two AZs: public subnets with an internet gateway, and
// private subnets (Lambda, RDS) whose only way out is the NAT.
func newNetwork(ctx *pulumi.Context, cfg Config) (*Network, error) {
	opt, err := newLayer(ctx, "Network", "network")
	if err != nil {
		return nil, err
	}
	// Only zones every account has: an opt-in zone (a Local Zone) would fail the subnet.
	azs, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{
		State:   pulumi.StringRef("available"),
		Filters: []aws.GetAvailabilityZonesFilter{{Name: "opt-in-status", Values: []string{"opt-in-not-required"}}},
	})
	if err != nil {
		return nil, fmt.Errorf("network: availability zones: %w", err)
	}
	if len(azs.Names) < 2 {
		return nil, fmt.Errorf("network: %s has %d available AZs, need 2", cfg.Region, len(azs.Names))
	}

	vpc, err := ec2.NewVpc(ctx, "vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(vpcCIDR),
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               nameTag(cfg.name("vpc")),
	}, opt)
	if err != nil {
		return nil, err
	}
	igw, err := ec2.NewInternetGateway(ctx, "igw", &ec2.InternetGatewayArgs{VpcId: vpc.ID(), Tags: nameTag(cfg.name("igw"))}, opt)
	if err != nil {
		return nil, err
	}

	publicRT, err := ec2.NewRouteTable(ctx, "public-rt", &ec2.RouteTableArgs{VpcId: vpc.ID(), Tags: nameTag(cfg.name("public"))}, opt)
	if err != nil {
		return nil, err
	}
	if _, err := ec2.NewRoute(ctx, "public-default", &ec2.RouteArgs{
		RouteTableId: publicRT.ID(), DestinationCidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID(),
	}, opt); err != nil {
		return nil, err
	}
	privateRT, err := ec2.NewRouteTable(ctx, "private-rt", &ec2.RouteTableArgs{VpcId: vpc.ID(), Tags: nameTag(cfg.name("private"))}, opt)
	if err != nil {
		return nil, err
	}

	public, private, err := newSubnets(ctx, cfg, vpc, azs.Names[:2], publicRT, privateRT, opt)
	if err != nil {
		return nil, err
	}
	route := &ec2.RouteArgs{RouteTableId: privateRT.ID(), DestinationCidrBlock: pulumi.String("0.0.0.0/0")}
	if err := newEgress(ctx, cfg, vpc, public[0], igw, route, opt); err != nil {
		return nil, err
	}
	egress, err := ec2.NewRoute(ctx, "private-default", route, opt)
	if err != nil {
		return nil, err
	}

	lambdaSG, err := newLambdaSG(ctx, cfg, vpc, opt)
	if err != nil {
		return nil, err
	}
	if cfg.Production {
		if err := newSecretsEndpoint(ctx, cfg, vpc, private, lambdaSG, opt); err != nil {
			return nil, err
		}
	}
	return &Network{VpcID: vpc.ID().ToStringOutput(), PrivateSubnetIDs: private, LambdaSGID: lambdaSG.ID().ToStringOutput(), Egress: egress}, nil
}

// newSubnets makes a public and a private subnet in each AZ, each on its route table.
func newSubnets(ctx *pulumi.Context, cfg Config, vpc *ec2.Vpc, azs []string, publicRT, privateRT *ec2.RouteTable, opt pulumi.ResourceOption) ([]*ec2.Subnet, pulumi.StringArray, error) {
	var public []*ec2.Subnet
	var private pulumi.StringArray
	for i, az := range azs {
		pub, err := ec2.NewSubnet(ctx, fmt.Sprintf("public-%d", i), &ec2.SubnetArgs{
			VpcId: vpc.ID(), AvailabilityZone: pulumi.String(az),
			CidrBlock: pulumi.String(fmt.Sprintf("10.40.%d.0/24", i)),
			Tags:      nameTag(cfg.name(fmt.Sprintf("public-%s", az))),
		}, opt)
		if err != nil {
			return nil, nil, err
		}
		priv, err := ec2.NewSubnet(ctx, fmt.Sprintf("private-%d", i), &ec2.SubnetArgs{
			VpcId: vpc.ID(), AvailabilityZone: pulumi.String(az),
			CidrBlock:           pulumi.String(fmt.Sprintf("10.40.%d.0/24", 10+i)),
			MapPublicIpOnLaunch: pulumi.Bool(false),
			Tags:                nameTag(cfg.name(fmt.Sprintf("private-%s", az))),
		}, opt)
		if err != nil {
			return nil, nil, err
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("public-%d", i), &ec2.RouteTableAssociationArgs{SubnetId: pub.ID(), RouteTableId: publicRT.ID()}, opt); err != nil {
			return nil, nil, err
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("private-%d", i), &ec2.RouteTableAssociationArgs{SubnetId: priv.ID(), RouteTableId: privateRT.ID()}, opt); err != nil {
			return nil, nil, err
		}
		public = append(public, pub)
		private = append(private, priv.ID())
	}

	return public, private, nil
}

// newEgress gives the private subnets their way out through a NAT gateway or instance,
// completing route.
func newEgress(ctx *pulumi.Context, cfg Config, vpc *ec2.Vpc, publicSubnet *ec2.Subnet, igw *ec2.InternetGateway, route *ec2.RouteArgs, opt pulumi.ResourceOption) error {
	if cfg.NatMode == "gateway" {
		eip, err := ec2.NewEip(ctx, "nat", &ec2.EipArgs{Domain: pulumi.String("vpc"), Tags: nameTag(cfg.name("nat"))}, opt)
		if err != nil {
			return err
		}
		// One gateway, not one per AZ: an AZ outage costs the Lambda its egress for
		// a while, which is cheaper than a second ~$33/month gateway.
		nat, err := ec2.NewNatGateway(ctx, "nat", &ec2.NatGatewayArgs{
			AllocationId: eip.ID(), SubnetId: publicSubnet.ID(), Tags: nameTag(cfg.name("nat")),
		}, pulumi.DependsOn([]pulumi.Resource{igw}), opt)
		if err != nil {
			return err
		}
		route.NatGatewayId = nat.ID()
	} else {
		eni, err := newNatInstance(ctx, cfg, vpc, publicSubnet, igw, opt)
		if err != nil {
			return err
		}
		route.NetworkInterfaceId = eni
	}
	return nil
}

// newLambdaSG: the Lambda talks HTTPS out (GitHub, Secrets Manager) and PostgreSQL in
// the VPC.
func newLambdaSG(ctx *pulumi.Context, cfg Config, vpc *ec2.Vpc, opt pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	return ec2.NewSecurityGroup(ctx, "lambda", &ec2.SecurityGroupArgs{
		VpcId:       vpc.ID(),
		Description: pulumi.String("Miyabi API Lambda"),
		Egress: ec2.SecurityGroupEgressArray{
			ec2.SecurityGroupEgressArgs{Protocol: pulumi.String("tcp"), FromPort: pulumi.Int(443), ToPort: pulumi.Int(443), CidrBlocks: pulumi.StringArray{pulumi.String("0.0.0.0/0")}, Description: pulumi.String("HTTPS: GitHub, AWS APIs")},
			ec2.SecurityGroupEgressArgs{Protocol: pulumi.String("tcp"), FromPort: pulumi.Int(5432), ToPort: pulumi.Int(5432), CidrBlocks: pulumi.StringArray{pulumi.String(vpcCIDR)}, Description: pulumi.String("PostgreSQL")},
		},
		Tags: nameTag(cfg.name("lambda")),
	}, opt)
}

// newSecretsEndpoint lets production's Lambda read Secrets Manager inside the VPC, in
// both AZs: with the one NAT gateway's AZ down, cold starts still get their keys (and
// IAM tokens are built locally). ~$15/month against ~$33 for a second NAT gateway;
// GitHub calls still need the NAT (docs/ops.md).
func newSecretsEndpoint(ctx *pulumi.Context, cfg Config, vpc *ec2.Vpc, subnets pulumi.StringArray, lambdaSG *ec2.SecurityGroup, opt pulumi.ResourceOption) error {
	sg, err := ec2.NewSecurityGroup(ctx, "secrets-endpoint", &ec2.SecurityGroupArgs{
		VpcId:       vpc.ID(),
		Description: pulumi.String("Miyabi Secrets Manager endpoint: HTTPS from the API Lambda"),
		Ingress: ec2.SecurityGroupIngressArray{ec2.SecurityGroupIngressArgs{
			Protocol: pulumi.String("tcp"), FromPort: pulumi.Int(443), ToPort: pulumi.Int(443),
			SecurityGroups: pulumi.StringArray{lambdaSG.ID()}, Description: pulumi.String("HTTPS from the API Lambda"),
		}},
		Tags: nameTag(cfg.name("secrets-endpoint")),
	}, opt)
	if err != nil {
		return err
	}
	_, err = ec2.NewVpcEndpoint(ctx, "secretsmanager", &ec2.VpcEndpointArgs{
		VpcId:             vpc.ID(),
		ServiceName:       pulumi.String("com.amazonaws." + cfg.Region + ".secretsmanager"),
		VpcEndpointType:   pulumi.String("Interface"),
		PrivateDnsEnabled: pulumi.Bool(true),
		SubnetIds:         subnets,
		SecurityGroupIds:  pulumi.StringArray{sg.ID()},
		Tags:              nameTag(cfg.name("secretsmanager")),
	}, opt)
	return err
}

// natUserData turns Amazon Linux 2023 into a NAT: forward and masquerade.
const natUserData = `#!/bin/bash
set -euo pipefail
dnf install -y iptables-services
echo 'net.ipv4.ip_forward = 1' > /etc/sysctl.d/90-nat.conf
sysctl -p /etc/sysctl.d/90-nat.conf
IFACE=$(ip route show default | awk '{print $5; exit}')
iptables -t nat -A POSTROUTING -o "$IFACE" -j MASQUERADE
iptables -F FORWARD
service iptables save
systemctl enable --now iptables
`

// newNatInstance is the staging alternative to a managed NAT gateway: a t4g.nano
// costs ~$3/month against ~$33, at the price of being a single instance.
func newNatInstance(ctx *pulumi.Context, cfg Config, vpc *ec2.Vpc, subnet *ec2.Subnet, igw *ec2.InternetGateway, opt pulumi.ResourceOption) (pulumi.StringOutput, error) {
	ami, err := ec2.LookupAmi(ctx, &ec2.LookupAmiArgs{
		MostRecent: pulumi.BoolRef(true),
		Owners:     []string{"amazon"},
		Filters: []ec2.GetAmiFilter{
			{Name: "name", Values: []string{"al2023-ami-2023.*-kernel-*-arm64"}},
			{Name: "architecture", Values: []string{"arm64"}},
		},
	})
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("network: NAT AMI: %w", err)
	}
	sg, err := ec2.NewSecurityGroup(ctx, "nat", &ec2.SecurityGroupArgs{
		VpcId:       vpc.ID(),
		Description: pulumi.String("Miyabi NAT instance: forwards the VPC's traffic out"),
		Ingress: ec2.SecurityGroupIngressArray{
			ec2.SecurityGroupIngressArgs{Protocol: pulumi.String("-1"), FromPort: pulumi.Int(0), ToPort: pulumi.Int(0), CidrBlocks: pulumi.StringArray{pulumi.String(vpcCIDR)}, Description: pulumi.String("from the VPC only")},
		},
		Egress: ec2.SecurityGroupEgressArray{
			ec2.SecurityGroupEgressArgs{Protocol: pulumi.String("-1"), FromPort: pulumi.Int(0), ToPort: pulumi.Int(0), CidrBlocks: pulumi.StringArray{pulumi.String("0.0.0.0/0")}},
		},
		Tags: nameTag(cfg.name("nat")),
	}, opt)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	inst, err := ec2.NewInstance(ctx, "nat", &ec2.InstanceArgs{
		Ami:                      pulumi.String(ami.Id),
		InstanceType:             pulumi.String(cfg.NatInstanceType),
		SubnetId:                 subnet.ID(),
		VpcSecurityGroupIds:      pulumi.StringArray{sg.ID()},
		AssociatePublicIpAddress: pulumi.Bool(true),
		SourceDestCheck:          pulumi.Bool(false), // it forwards others' packets
		UserData:                 pulumi.String(natUserData),
		UserDataReplaceOnChange:  pulumi.Bool(true),
		MetadataOptions:          ec2.InstanceMetadataOptionsArgs{HttpTokens: pulumi.String("required")},
		RootBlockDevice:          ec2.InstanceRootBlockDeviceArgs{Encrypted: pulumi.Bool(true), VolumeType: pulumi.String("gp3")},
		Tags:                     nameTag(cfg.name("nat")),
	}, pulumi.DependsOn([]pulumi.Resource{igw}), pulumi.IgnoreChanges([]string{"ami"}), opt)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	return inst.PrimaryNetworkInterfaceId, nil
}

func nameTag(name string) pulumi.StringMap { return pulumi.StringMap{"Name": pulumi.String(name)} }
