"""Network: a VPC with public subnets in two or more AZs, optional private subnets behind a NAT gateway."""

from __future__ import annotations

from cdktf_app.cdk import (
    Construct,
    Fn,
    cloudwatch_log_group,
    data_aws_availability_zones,
    default_security_group,
    eip,
    flow_log,
    internet_gateway,
    nat_gateway,
    route,
    route_table,
    route_table_association,
    subnet,
    vpc,
)
from cdktf_app.config import Settings
from cdktf_app.constructs.iam import ServiceRole, allow


class Network(Construct):
    """The VPC the load balancer and container instances live in.

    Attributes: ``vpc``; ``public_subnet_ids`` (the load balancer's subnets); ``instance_subnet_ids``
    (private subnets when ``enable_private_subnets``, else the public ones); ``private_subnet_ids`` (empty
    without them); ``flow_log_group`` or ``None``.
    """

    def __init__(self, scope: Construct, id_: str, settings: Settings) -> None:
        super().__init__(scope, id_)
        self._name = name = settings.cluster_name
        self.vpc = vpc.Vpc(
            self,
            "vpc",
            cidr_block=settings.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": f"{name}-vpc"},
        )
        # The default security group of a VPC allows all traffic between its members: empty it.
        default_security_group.DefaultSecurityGroup(self, "default-sg", vpc_id=self.vpc.id)
        zones = settings.availability_zones or self._available_zones(len(settings.public_subnet_cidrs))
        gateway = internet_gateway.InternetGateway(
            self, "igw", vpc_id=self.vpc.id, tags={"Name": f"{name}-igw"}
        )

        public = self._subnets("public", settings.public_subnet_cidrs, zones)
        self._route_table("public", public, gateway_id=gateway.id)
        self.public_subnet_ids = [s.id for s in public]
        self.instance_subnet_ids = self.public_subnet_ids
        self.private_subnet_ids: list[str] = []

        if settings.enable_private_subnets:
            private = self._subnets("private", settings.private_subnet_cidrs, zones)
            address = eip.Eip(self, "nat-eip", domain="vpc", tags={"Name": f"{name}-nat"})
            # One NAT gateway (in the first public subnet) keeps the cost down; its zone is a single point
            # of failure for the instances' outbound traffic only, not for the load balancer.
            nat = nat_gateway.NatGateway(
                self,
                "nat",
                allocation_id=address.id,
                subnet_id=public[0].id,
                depends_on=[gateway],
                tags={"Name": f"{name}-nat"},
            )
            self._route_table("private", private, nat_gateway_id=nat.id)
            self.private_subnet_ids = self.instance_subnet_ids = [s.id for s in private]

        self.flow_log_group = None
        if settings.enable_flow_logs:
            self.flow_log_group = self._flow_logs(settings)

    def _available_zones(self, count: int) -> list[str]:
        """The region's first ``count`` available zones, looked up when Terraform plans."""
        zones = data_aws_availability_zones.DataAwsAvailabilityZones(self, "zones", state="available")
        return [Fn.element(zones.names, index) for index in range(count)]

    def _subnets(self, kind: str, cidrs: list[str], zones: list[str]) -> list[subnet.Subnet]:
        return [
            subnet.Subnet(
                self,
                f"{kind}-{index}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=zones[index],
                # Instances get a public address from the launch template only while they sit in
                # public subnets; nothing else launched here should get one by default.
                map_public_ip_on_launch=False,
                tags={"Name": f"{self._name}-{kind}-{index}", "Tier": kind},
            )
            for index, cidr in enumerate(cidrs)
        ]

    def _route_table(self, kind: str, subnets: list[subnet.Subnet], **target: str) -> None:
        table = route_table.RouteTable(
            self, f"{kind}-rt", vpc_id=self.vpc.id, tags={"Name": f"{self._name}-{kind}"}
        )
        route.Route(
            self, f"{kind}-default", route_table_id=table.id, destination_cidr_block="0.0.0.0/0", **target
        )
        for index, item in enumerate(subnets):
            route_table_association.RouteTableAssociation(
                self, f"{kind}-rta-{index}", subnet_id=item.id, route_table_id=table.id
            )

    def _flow_logs(self, settings: Settings) -> cloudwatch_log_group.CloudwatchLogGroup:
        group = cloudwatch_log_group.CloudwatchLogGroup(
            self,
            "flow-logs",
            name=f"/vpc/{settings.cluster_name}/flow-logs",
            retention_in_days=settings.log_retention_days,
        )
        role = ServiceRole(
            self,
            "flow-logs-role",
            name=f"{settings.cluster_name}-flow-logs",
            principal="vpc-flow-logs.amazonaws.com",
            statements=[
                allow(
                    ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    [group.arn, f"{group.arn}:*"],
                )
            ],
        )
        flow_log.FlowLog(
            self,
            "flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.role.arn,
        )
        return group
