package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const dbName = "miyabi"

// Database is what the Lambda needs to connect.
type Database struct {
	Instance   *rds.Instance
	Identifier string
	Address    pulumi.StringOutput
	Port       pulumi.IntOutput
	// MasterSecretArn is the Secrets Manager secret RDS creates and rotates for the
	// master user; the password never passes through Pulumi state. Only the migrate
	// function reads it.
	MasterSecretArn pulumi.StringOutput
	// ResourceID (db-XXXX) names the instance in rds-db:connect ARNs.
	ResourceID pulumi.StringOutput
	// Proxy is RDS Proxy in front of the instance (miyabi:rdsProxy), nil without it: the
	// API then connects to the instance itself.
	Proxy *DBProxy
	// ProxyRetiring: this deploy switches the proxy off (the previous one had it). The
	// proxy's resources are deleted at the end of the update, after the alias moved; until
	// then it serves the live version, so what it needs that an update would take away
	// earlier stays for this deploy: the database's ingress from its security group (and
	// so the group) and its database login (the migrate function's DB_PROXY_RETIRING). The
	// next deploy removes them.
	ProxyRetiring bool
}

// appDBUser is the role migration 00009 creates; the API connects as it with IAM
// authentication.
const appDBUser = "miyabi_app"

// newDatabase creates PostgreSQL 16 in the private subnets, reachable on 5432 only
// from the Lambda's security group (and RDS Proxy's, with miyabi:rdsProxy and on the
// deploy that switches it off: retiringProxy).
func newDatabase(ctx *pulumi.Context, cfg Config, net *Network, retiringProxy bool) (*Database, error) {
	opt, err := newLayer(ctx, "Database", "database")
	if err != nil {
		return nil, err
	}
	ingress := ec2.SecurityGroupIngressArray{
		ec2.SecurityGroupIngressArgs{
			Protocol: pulumi.String("tcp"), FromPort: pulumi.Int(5432), ToPort: pulumi.Int(5432),
			SecurityGroups: pulumi.StringArray{net.LambdaSGID},
			Description:    pulumi.String("PostgreSQL from the API Lambda"),
		},
	}
	var proxySG *ec2.SecurityGroup
	if cfg.RDSProxy || retiringProxy {
		if proxySG, err = newProxySecurityGroup(ctx, cfg, net, opt); err != nil {
			return nil, err
		}
		// the migrate function still connects directly (as the master user)
		ingress = append(ingress, ec2.SecurityGroupIngressArgs{
			Protocol: pulumi.String("tcp"), FromPort: pulumi.Int(5432), ToPort: pulumi.Int(5432),
			SecurityGroups: pulumi.StringArray{proxySG.ID()},
			Description:    pulumi.String("PostgreSQL from RDS Proxy"),
		})
	}
	sg, err := ec2.NewSecurityGroup(ctx, "db", &ec2.SecurityGroupArgs{
		VpcId:       net.VpcID,
		Description: pulumi.String("Miyabi PostgreSQL: only the API Lambda"),
		Ingress:     ingress,
		Tags:        nameTag(cfg.name("db")),
	}, opt)
	if err != nil {
		return nil, err
	}
	subnets, err := rds.NewSubnetGroup(ctx, "db", &rds.SubnetGroupArgs{
		SubnetIds:   net.PrivateSubnetIDs,
		Description: pulumi.String("Miyabi private subnets"),
	}, opt)
	if err != nil {
		return nil, err
	}
	params, err := rds.NewParameterGroup(ctx, "db", &rds.ParameterGroupArgs{
		Family:      pulumi.String("postgres16"),
		Description: pulumi.String("Miyabi PostgreSQL 16"),
		Parameters: rds.ParameterGroupParameterArray{
			rds.ParameterGroupParameterArgs{Name: pulumi.String("rds.force_ssl"), Value: pulumi.String("1")},
			rds.ParameterGroupParameterArgs{Name: pulumi.String("log_min_duration_statement"), Value: pulumi.String("1000")},
			// Set, not left to the memory formula, so the budget rule checks the real
			// figure (budget.go); a static parameter, applied at the next reboot.
			rds.ParameterGroupParameterArgs{Name: pulumi.String("max_connections"), Value: pulumi.String(strconv.Itoa(cfg.DBMaxConnections)), ApplyMethod: pulumi.String("pending-reboot")},
			// A frozen Lambda environment cannot close its pool; the server closes
			// sessions idle this long, so old environments do not hold slots for hours.
			rds.ParameterGroupParameterArgs{Name: pulumi.String("idle_session_timeout"), Value: pulumi.String(strconv.Itoa(idleSessionTimeoutMs))},
		},
	}, opt)
	if err != nil {
		return nil, err
	}

	// The exported PostgreSQL log would otherwise get a log group with no retention;
	// creating it first, by its fixed name, gives it ours.
	identifier := cfg.name("db")
	logs, err := cloudwatch.NewLogGroup(ctx, "db-postgresql", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(fmt.Sprintf("/aws/rds/instance/%s/postgresql", identifier)),
		RetentionInDays: pulumi.Int(cfg.LogRetentionDays),
	}, opt)
	if err != nil {
		return nil, err
	}

	args := &rds.InstanceArgs{
		Identifier:                         pulumi.String(identifier),
		Engine:                             pulumi.String("postgres"),
		EngineVersion:                      pulumi.String("16"),
		AutoMinorVersionUpgrade:            pulumi.Bool(true),
		InstanceClass:                      pulumi.String(cfg.DBInstanceClass),
		StorageType:                        pulumi.String("gp3"),
		AllocatedStorage:                   pulumi.Int(cfg.DBAllocatedStorage),
		MaxAllocatedStorage:                pulumi.Int(cfg.DBMaxAllocatedStorage),
		StorageEncrypted:                   pulumi.Bool(true),
		DbName:                             pulumi.String(dbName),
		Username:                           pulumi.String("miyabi_admin"),
		ManageMasterUserPassword:           pulumi.Bool(true),
		DbSubnetGroupName:                  subnets.Name,
		VpcSecurityGroupIds:                pulumi.StringArray{sg.ID()},
		ParameterGroupName:                 params.Name,
		PubliclyAccessible:                 pulumi.Bool(false),
		IamDatabaseAuthenticationEnabled:   pulumi.Bool(true),
		BackupWindow:                       pulumi.String(cfg.DBBackupWindow),
		MaintenanceWindow:                  pulumi.String(cfg.DBMaintenanceWindow),
		MultiAz:                            pulumi.Bool(cfg.DBMultiAZ),
		BackupRetentionPeriod:              pulumi.Int(cfg.DBBackupRetentionDays),
		CopyTagsToSnapshot:                 pulumi.Bool(true),
		PerformanceInsightsEnabled:         pulumi.Bool(true),
		PerformanceInsightsRetentionPeriod: pulumi.Int(7), // the free tier
		EnabledCloudwatchLogsExports:       pulumi.StringArray{pulumi.String("postgresql")},
		DeletionProtection:                 pulumi.Bool(cfg.Production),
		SkipFinalSnapshot:                  pulumi.Bool(!cfg.Production),
		// Staging changes land at once; production waits for the maintenance window.
		ApplyImmediately: pulumi.Bool(!cfg.Production),
		Tags:             nameTag(identifier),
	}
	opts := []pulumi.ResourceOption{pulumi.DependsOn([]pulumi.Resource{logs}), pulumi.Protect(cfg.Production), opt}
	if cfg.Production {
		// Unique per instance: a destroyed and re-created stack would otherwise collide
		// with the first one's final snapshot. Fixed at creation (ignored afterwards), so
		// later runs show no change.
		args.FinalSnapshotIdentifier = pulumi.String(identifier + "-final-" + finalSnapshotStamp())
		opts = append(opts, pulumi.IgnoreChanges([]string{"finalSnapshotIdentifier"}))
	}
	db, err := rds.NewInstance(ctx, "db", args, opts...)
	if err != nil {
		return nil, err
	}
	secretArn := db.MasterUserSecrets.ApplyT(func(s []rds.InstanceMasterUserSecret) (string, error) {
		if len(s) == 0 || s[0].SecretArn == nil {
			return "", fmt.Errorf("database: RDS returned no master user secret")
		}
		return *s[0].SecretArn, nil
	}).(pulumi.StringOutput)
	out := &Database{Instance: db, Identifier: identifier, Address: db.Address, Port: db.Port, MasterSecretArn: secretArn, ResourceID: db.ResourceId,
		ProxyRetiring: retiringProxy}
	if cfg.RDSProxy {
		if out.Proxy, err = newDBProxy(ctx, cfg, net, db, proxySG, opt); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// finalSnapshotStamp is the creation time, to the second, in a form RDS accepts in an
// identifier. A variable so tests can pin it.
var finalSnapshotStamp = func() string { return time.Now().UTC().Format("20060102-150405") }
