"""The ECS cluster and its EC2 capacity: launch template, auto scaling group, capacity provider."""

from __future__ import annotations

import base64

from cdktf_app.cdk import (
    Construct,
    TerraformResourceLifecycle,
    autoscaling_group,
    data_aws_ssm_parameter,
    ecs_capacity_provider,
    ecs_cluster,
    ecs_cluster_capacity_providers,
    iam_instance_profile,
    launch_template,
    security_group,
    service_discovery_http_namespace,
)
from cdktf_app.config import Settings
from cdktf_app.constructs.iam import ServiceRole
from cdktf_app.constructs.network import Network
from cdktf_app.constructs.security import ANYWHERE, allow_tcp

# Host ports Docker hands out for bridge-mode tasks with hostPort 0 (the ECS dynamic port range).
DYNAMIC_PORTS = (32768, 65535)


def user_data(cluster_name: str, *, gpu: bool = False) -> str:
    """Instance start-up script (base64) that joins the cluster; the AMI's ECS agent does the rest.

    ``gpu``: the agent registers the instance's GPUs, so tasks can reserve them.
    """
    script = "\n".join(
        [
            "#!/bin/bash",
            "cat >> /etc/ecs/ecs.config <<'EOF'",
            f"ECS_CLUSTER={cluster_name}",
            "ECS_ENABLE_TASK_IAM_ROLE=true",
            "ECS_ENABLE_CONTAINER_METADATA=true",
            # Images are pulled by immutable tag, so a cached copy is the same image (faster scale-out).
            "ECS_IMAGE_PULL_BEHAVIOR=prefer-cached",
            *(["ECS_ENABLE_GPU_SUPPORT=true"] if gpu else []),
            "EOF",
            "",
        ]
    )
    return base64.b64encode(script.encode()).decode()


class Cluster(Construct):
    """ECS cluster with Container Insights, backed by an auto scaling group through a capacity provider.

    Instances use the ECS-optimized AMI from its public SSM parameter, require IMDSv2 (hop limit 1, so
    bridge-mode containers cannot read the instance's credentials), boot from an encrypted gp3 volume and
    accept only the dynamic port range from the load balancer (plus SSH when both a key pair and an
    allowed CIDR are set). Managed scaling grows and shrinks the group to fit the tasks.

    The services find each other through ECS Service Connect in a Cloud Map HTTP namespace (the web page's
    server calls the APIs that way, inside the VPC); its proxies talk between instances on the dynamic
    port range, which the instances' group allows from itself.

    Attributes: ``cluster``; ``namespace`` (Cloud Map, for Service Connect); ``capacity_provider``;
    ``capacity_providers`` (the cluster association, which services must depend on); ``security_group``;
    ``auto_scaling_group``; ``instance_role``; with ``gpu``, ``gpu_capacity_provider`` and
    ``gpu_auto_scaling_group`` (else None): a second group of GPU instances on the GPU-optimized AMI.
    """

    def __init__(
        self, scope: Construct, id_: str, *, settings: Settings, network: Network, alb_security_group_id: str
    ) -> None:
        super().__init__(scope, id_)
        name = settings.cluster_name
        self.namespace = service_discovery_http_namespace.ServiceDiscoveryHttpNamespace(
            self,
            "namespace",
            name=settings.service_connect_namespace,
            description=f"{name}: services reach each other by name (ECS Service Connect)",
        )
        self.cluster = ecs_cluster.EcsCluster(
            self,
            "cluster",
            name=name,
            setting=[ecs_cluster.EcsClusterSetting(name="containerInsights", value="enabled")],
            service_connect_defaults={"namespace": self.namespace.arn},
        )
        self.security_group = self._security_group(settings, network, alb_security_group_id)
        self._instance_profile(settings)
        self.auto_scaling_group, self.capacity_provider = self._capacity(settings, network)
        self.gpu_auto_scaling_group, self.gpu_capacity_provider = (
            self._capacity(settings, network, gpu=True) if settings.gpu else (None, None)
        )
        providers = [self.capacity_provider, *([self.gpu_capacity_provider] if settings.gpu else [])]
        self.capacity_providers = ecs_cluster_capacity_providers.EcsClusterCapacityProviders(
            self,
            "capacity-providers",
            cluster_name=self.cluster.name,
            capacity_providers=[provider.name for provider in providers],
            default_capacity_provider_strategy=[
                ecs_cluster_capacity_providers.EcsClusterCapacityProvidersDefaultCapacityProviderStrategy(
                    capacity_provider=self.capacity_provider.name, weight=1, base=0
                )
            ],
        )

    def _capacity(
        self, settings: Settings, network: Network, *, gpu: bool = False
    ) -> tuple[autoscaling_group.AutoscalingGroup, ecs_capacity_provider.EcsCapacityProvider]:
        """Launch template, auto scaling group and capacity provider of the instances; with ``gpu``, of
        the APIs' GPU instances (GPU-optimized AMI, GPU instance type, a capacity provider of their own)."""
        if gpu:
            ami, instance_type, volume = (
                settings.gpu_ami_ssm_parameter,
                settings.gpu_instance_type,
                settings.gpu_root_volume_size,
            )
            sizes = (settings.gpu_asg_min_size, settings.gpu_asg_max_size, settings.gpu_asg_min_size)
        else:
            ami, instance_type, volume = (
                settings.ami_ssm_parameter,
                settings.instance_type,
                settings.root_volume_size,
            )
            sizes = (settings.asg_min_size, settings.asg_max_size, settings.asg_desired_capacity)
        template = self._launch_template(
            settings, network, ami_parameter=ami, instance_type=instance_type, volume_size=volume, gpu=gpu
        )
        group = self._auto_scaling_group(settings, network, template, sizes=sizes, gpu=gpu)
        provider = self._capacity_provider(
            "gpu-capacity-provider" if gpu else "capacity-provider",
            f"{settings.cluster_name}-{'gpu' if gpu else 'ec2'}",
            group,
            settings.capacity_target_percent,
        )
        return group, provider

    def _auto_scaling_group(
        self,
        settings: Settings,
        network: Network,
        template: launch_template.LaunchTemplate,
        *,
        sizes: tuple[int, int, int],
        gpu: bool = False,
    ) -> autoscaling_group.AutoscalingGroup:
        """The group behind a capacity provider; sizes are (min, max, desired at creation)."""
        min_size, max_size, desired = sizes
        prefix = "gpu-" if gpu else ""
        return autoscaling_group.AutoscalingGroup(
            self,
            f"{prefix}asg",
            name=f"{settings.cluster_name}-{prefix}instances",
            vpc_zone_identifier=network.instance_subnet_ids,
            min_size=min_size,
            max_size=max_size,
            desired_capacity=desired,
            launch_template={"id": template.id, "version": "$Latest"},
            health_check_type="EC2",
            health_check_grace_period=300,
            # ECS managed termination protection needs scale-in protection on the instances.
            protect_from_scale_in=True,
            tag=[
                autoscaling_group.AutoscalingGroupTag(
                    key="Name", value=f"{settings.cluster_name}-{prefix}instance", propagate_at_launch=True
                ),
                autoscaling_group.AutoscalingGroupTag(
                    key="AmazonECSManaged", value="true", propagate_at_launch=True
                ),
            ],
            # Managed scaling owns the desired capacity after creation.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_capacity"]),
        )

    def _capacity_provider(
        self, id_: str, name: str, group: autoscaling_group.AutoscalingGroup, target_percent: int
    ) -> ecs_capacity_provider.EcsCapacityProvider:
        return ecs_capacity_provider.EcsCapacityProvider(
            self,
            id_,
            name=name,
            auto_scaling_group_provider={
                "auto_scaling_group_arn": group.arn,
                "managed_termination_protection": "ENABLED",
                "managed_draining": "ENABLED",
                "managed_scaling": {
                    "status": "ENABLED",
                    "target_capacity": target_percent,
                    "minimum_scaling_step_size": 1,
                    "maximum_scaling_step_size": 2,
                    "instance_warmup_period": 300,
                },
            },
        )

    def _security_group(
        self, settings: Settings, network: Network, alb_security_group_id: str
    ) -> security_group.SecurityGroup:
        group = security_group.SecurityGroup(
            self,
            "sg",
            name=f"{settings.cluster_name}-instances",
            description="Container instances: task ports from the load balancer only",
            vpc_id=network.vpc.id,
        )
        allow_tcp(
            self,
            "from-alb",
            security_group_id=group.id,
            ports=DYNAMIC_PORTS,
            description="Task host ports from the load balancer",
            peer_group_id=alb_security_group_id,
        )
        allow_tcp(
            self,
            "alb-to-instances",
            security_group_id=alb_security_group_id,
            ports=DYNAMIC_PORTS,
            description="Load balancer to task host ports",
            peer_group_id=group.id,
            outbound=True,
        )
        # Service Connect: a client task's proxy reaches a server task's proxy on its dynamic host port.
        for rule_id, outbound in (("between-instances", False), ("to-instances", True)):
            allow_tcp(
                self,
                rule_id,
                security_group_id=group.id,
                ports=DYNAMIC_PORTS,
                description="Service Connect proxies between tasks",
                peer_group_id=group.id,
                outbound=outbound,
            )
        # Outbound: HTTPS for ECR, ECS, SSM, CloudWatch; HTTP(S) for OS package mirrors. DNS and NTP use
        # link-local VPC services.
        for port in (80, 443):
            allow_tcp(
                self,
                f"egress-{port}",
                security_group_id=group.id,
                ports=port,
                description=f"Outbound TCP {port}",
                cidr=ANYWHERE,
                outbound=True,
            )
        if settings.ssh_enabled:
            allow_tcp(
                self,
                "ssh",
                security_group_id=group.id,
                ports=22,
                description="SSH from the allowed range",
                cidr=settings.ssh_allowed_cidr,
            )
        return group

    def _instance_profile(self, settings: Settings) -> None:
        name = settings.cluster_name
        role = ServiceRole(
            self,
            "instance-role",
            name=f"{name}-instance",
            principal="ec2.amazonaws.com",
            managed_policy_arns=[
                f"arn:{settings.partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
                # Shell access through Session Manager instead of SSH.
                f"arn:{settings.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore",
            ],
        )
        self.instance_role = role
        self.instance_profile = iam_instance_profile.IamInstanceProfile(
            self, "instance-profile", name=f"{name}-instance", role=role.role.name
        )

    def _launch_template(
        self,
        settings: Settings,
        network: Network,
        *,
        ami_parameter: str,
        instance_type: str,
        volume_size: int,
        gpu: bool = False,
    ) -> launch_template.LaunchTemplate:
        """The instances' launch template; ``gpu``: the GPU instances' (own ids and names, GPU agent)."""
        name = settings.cluster_name
        prefix = "gpu-" if gpu else ""
        ami = data_aws_ssm_parameter.DataAwsSsmParameter(self, f"{prefix}ami", name=ami_parameter)
        return launch_template.LaunchTemplate(
            self,
            f"{prefix}launch-template",
            name=f"{name}-{prefix}instances",
            image_id=ami.insecure_value,
            instance_type=instance_type,
            key_name=settings.key_name if settings.ssh_enabled else None,
            iam_instance_profile={"arn": self.instance_profile.arn},
            user_data=user_data(name, gpu=gpu),
            update_default_version=True,
            network_interfaces=[
                launch_template.LaunchTemplateNetworkInterfaces(
                    device_index=0,
                    associate_public_ip_address="false" if settings.enable_private_subnets else "true",
                    security_groups=[self.security_group.id],
                    delete_on_termination="true",
                )
            ],
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": 1,
                "instance_metadata_tags": "disabled",
            },
            block_device_mappings=[
                launch_template.LaunchTemplateBlockDeviceMappings(
                    device_name="/dev/xvda",
                    ebs=launch_template.LaunchTemplateBlockDeviceMappingsEbs(
                        volume_size=volume_size,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            monitoring={"enabled": True},
            tag_specifications=[
                launch_template.LaunchTemplateTagSpecifications(
                    resource_type="instance", tags={"Name": f"{name}-{prefix}instance"}
                )
            ],
        )
