import {
  type AutoScalingClientResolvedConfig,
  DescribeAutoScalingGroupsCommand,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-auto-scaling';
import type { AwsStub } from 'aws-sdk-client-mock';

/** The mocked Auto Scaling API answers that `group` runs `instanceId`, in service (ops finds the host by its group). */
export function inService(stub: AwsStub<ServiceInputTypes, ServiceOutputTypes, AutoScalingClientResolvedConfig>, group: string, instanceId: string): void {
  stub.on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [group] }).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: group,
        MinSize: 1,
        MaxSize: 1,
        DesiredCapacity: 1,
        DefaultCooldown: 300,
        AvailabilityZones: ['us-east-1a'],
        HealthCheckType: 'EC2',
        CreatedTime: new Date(0),
        Instances: [
          { InstanceId: instanceId, LifecycleState: 'InService', HealthStatus: 'Healthy', AvailabilityZone: 'us-east-1a', ProtectedFromScaleIn: false },
        ],
      },
    ],
  });
}
