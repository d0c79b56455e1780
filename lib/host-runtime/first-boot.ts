import { gzipSync } from 'fflate';
import { type NginxStartSettings, nginxStartCommands, nginxUpstreamFile, nginxUpstreamName, nginxUpstreamScriptPath } from './nginx';
import { shippedScript } from './scripts';

/*
 * Pure builders for what the EC2 compose host runs at first boot: the CloudWatch agent's
 * configuration, the user-data shell, and the host's directory layout the SSM documents
 * (./documents.ts), the host stack and its alarms rely on. No CDK here, so tests read the text directly.
 */

import { type HostLifecycleOptions, lifecycleInstallCommands, lifecycleStartCommands } from './lifecycle';

/** Docker Compose v2 plugin release installed on the host; bump it together with COMPOSE_SHA256. */
export const COMPOSE_VERSION = 'v2.30.3';

/**
 * sha256 of the Compose release binary per `uname -m`, kept in this repository (as docker-library's
 * docker image does): a checksum downloaded from the same place as the binary proves nothing.
 */
export const COMPOSE_SHA256: Readonly<Record<'x86_64' | 'aarch64', string>> = {
  x86_64: 'fbb4853d3f2148b0f2f0916f8971c9e500784e4e4949324934fc0b7dc2ed5016',
  aarch64: '8fed7b79b8bd1cb0624142f7d723c3cc67ba747c77ed69abbdefdc77a6d416d1',
};

/**
 * Amazon Linux 2023 package with the PostgreSQL server binaries (initdb, pg_ctl, in /usr/bin) that
 * scripts/host/restore-drill.sh runs its throwaway cluster with; it also creates the `postgres`
 * user the cluster runs as. Its pg_restore must be at least as new as the pg_dump in the app's
 * database container: bump it with that image's major version.
 */
export const DRILL_POSTGRES_PACKAGE = 'postgresql16-server';

/** CloudWatch agent metric namespace; host alarms read `disk_used_percent` from it. */
export const AGENT_NAMESPACE = 'CWAgent';

/** Seconds between agent metric samples: 5 minutes, like EC2 basic monitoring, to keep PutMetricData requests few. */
export const AGENT_METRICS_INTERVAL_SECONDS = 300;

/** File system type of the Amazon Linux 2023 root volume: a dimension of the agent's disk metric. */
export const ROOT_FSTYPE = 'xfs';

/** Where the agent reads its configuration on the host. */
export const AGENT_CONFIG_PATH = '/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json';

export interface AgentConfigOptions {
  /** Log group receiving every container's stdout and stderr. */
  readonly containerLogGroupName: string;
  /** Log group receiving `/var/log/messages` and the first-boot log. */
  readonly systemLogGroupName: string;
  /**
   * Fixed dimensions of the disk metric, e.g. `{ AutoScalingGroupName: 'shop-prod-host' }`, so the
   * disk alarm follows the group's current instance.
   * @default - `InstanceId` of the instance (the agent's placeholder)
   */
  readonly diskMetricDimensions?: Readonly<Record<string, string>>;
}

/**
 * CloudWatch agent configuration: container logs (Docker's json-file logs), the system log and
 * cloud-init's output, and one custom metric, `disk_used_percent` of `/`, with the dimensions
 * `InstanceId`, `path` and `fstype` (the host name and device are dropped so alarms can name them).
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Agent-Configuration-File-Details.html
 */
export function cloudWatchAgentConfig(options: AgentConfigOptions): Record<string, unknown> {
  return {
    // root: Docker's log directory and /var/log/messages are readable by root only.
    agent: { run_as_user: 'root', omit_hostname: true, metrics_collection_interval: AGENT_METRICS_INTERVAL_SECONDS },
    metrics: {
      namespace: AGENT_NAMESPACE,
      ...(options.diskMetricDimensions
        ? {}
        : // biome-ignore lint/suspicious/noTemplateCurlyInString: the agent's own placeholder, expanded on the host
          { append_dimensions: { InstanceId: '${aws:InstanceId}' } }),
      metrics_collected: {
        disk: {
          measurement: ['used_percent'],
          resources: ['/'],
          drop_device: true,
          ...(options.diskMetricDimensions ? { append_dimensions: options.diskMetricDimensions } : {}),
        },
      },
    },
    logs: {
      logs_collected: {
        files: {
          collect_list: [
            {
              file_path: '/var/lib/docker/containers/*/*-json.log',
              log_group_name: options.containerLogGroupName,
              log_stream_name: '{instance_id}/containers',
            },
            { file_path: '/var/log/messages', log_group_name: options.systemLogGroupName, log_stream_name: '{instance_id}/messages' },
            { file_path: '/var/log/cloud-init-output.log', log_group_name: options.systemLogGroupName, log_stream_name: '{instance_id}/cloud-init' },
          ],
        },
      },
    },
  };
}

/**
 * Docker daemon settings: json-file logs (what the agent tails), rotated so they cannot fill the
 * disk, each line carrying the compose service and project labels so CloudWatch can tell them apart.
 */
export const DOCKER_DAEMON_CONFIG = {
  'log-driver': 'json-file',
  'log-opts': { 'max-size': '10m', 'max-file': '5', labels: 'com.docker.compose.service,com.docker.compose.project' },
} as const;

export interface BootstrapOptions {
  /** App name: the checkout lives at `/opt/<appName>`. */
  readonly appName: string;
  /** Git remote cloned into the checkout. */
  readonly repository: string;
  /** Ref checked out (detached) after cloning, e.g. `origin/master`. */
  readonly gitRef: string;
  /** CloudWatch agent settings. */
  readonly agent: AgentConfigOptions;
  /** Size of the swap file created on the root volume; 0 for none. @default 0 */
  readonly swapGiB?: number;
  /**
   * The data volume attached and mounted before Docker starts (`scripts/host/data-volume.sh`).
   * @default - none: Postgres and Redis live on the root volume
   */
  readonly dataVolume?: DataVolumeMount;
  /**
   * The boot sequence, clean stop and interruption watch (./lifecycle.ts): installed in place of
   * `dataVolume`'s step (it mounts the same volume), the boot sequence run last.
   * @default - none: the app is started by a deploy
   */
  readonly lifecycle?: HostLifecycleOptions;
}

/** How the first boot finds and mounts the environment's data volume. */
export interface DataVolumeMount {
  /** EBS volume id (a token from the data stack is fine). */
  readonly volumeId: string;
  /** Where the volume is mounted: the host scripts' STATE_DIR. */
  readonly mountPoint: string;
  /** ext4 label written when the volume is formatted (empty volumes only), at most 16 characters. */
  readonly label: string;
  /** Region of the volume, for `aws ec2 attach-volume`. */
  readonly region: string;
  /** The text of scripts/host/data-volume.sh. */
  readonly script: string;
}

/** Where the first boot installs data-volume.sh, so an operator can run it again by hand. */
export const DATA_VOLUME_SCRIPT_PATH = '/usr/local/sbin/data-volume.sh';

/**
 * Installs and runs data-volume.sh: attach, format only if empty, mount by UUID, bind Docker's
 * volumes directory onto it, order docker.service after the mounts. Must run before Docker starts.
 */
export function dataVolumeCommands(mount: DataVolumeMount): string[] {
  const end = 'DATA_VOLUME_SCRIPT_END';
  const lines = mount.script.replace(/\n$/, '').split('\n');
  if (lines.includes(end)) throw new Error(`dataVolumeCommands: the script contains the line ${end}`);
  return [
    '# Data volume: Postgres, Redis, the state file and the audit log (mounted before Docker starts)',
    `cat > ${DATA_VOLUME_SCRIPT_PATH} <<'${end}'`,
    ...lines,
    end,
    `chmod 0755 ${DATA_VOLUME_SCRIPT_PATH}`,
    `DATA_VOLUME_ID=${mount.volumeId} DATA_MOUNT_POINT=${shellQuote(mount.mountPoint)} DATA_VOLUME_LABEL=${shellQuote(mount.label)} AWS_DEFAULT_REGION=${mount.region} ${DATA_VOLUME_SCRIPT_PATH}`,
  ];
}

/**
 * A swap file, so a memory spike pages instead of the kernel killing PostgreSQL. `dd` rather than
 * `fallocate`: swap on a preallocated file is not supported on every filesystem.
 */
export function swapCommands(gib: number): string[] {
  if (gib <= 0) return [];
  return [
    `# ${gib} GiB swap file`,
    `if [ ! -f /swapfile ]; then dd if=/dev/zero of=/swapfile bs=1M count=${gib * 1024} status=none; chmod 0600 /swapfile; mkswap /swapfile; fi`,
    'swapon --show=NAME --noheadings | grep -qx /swapfile || swapon /swapfile',
    "grep -q '^/swapfile ' /etc/fstab || echo '/swapfile none swap defaults 0 0' >> /etc/fstab",
  ];
}

/** The checkout directory of the app on the host. */
export const checkoutDir = (appName: string) => `/opt/${appName}`;

/** The host scripts' state directory (state file, audit log, lock): the data volume's mount point. */
export const stateDir = (appName: string) => `/var/lib/${appName}`;

/** The state file in it (lib.sh's STATE_FILE default): the one record of what serves. */
export const stateFile = (appName: string) => `${stateDir(appName)}/deploy_state.json`;

/** What nginx's pre-start step is given on the host (./nginx.ts). */
export function nginxStartSettings(appName: string): NginxStartSettings {
  return {
    appName,
    stateFile: stateFile(appName),
    stateDir: stateDir(appName),
    upstreamFile: nginxUpstreamFile(appName),
    upstreamName: nginxUpstreamName(appName),
    scriptPath: nginxUpstreamScriptPath(appName),
  };
}

/**
 * First-boot shell (run by cloud-init as root): Docker, the Compose plugin, the CloudWatch agent
 * with its configuration, the PostgreSQL server binaries of the restore drill, rsyslog (Amazon Linux 2023 logs to the journal only), nginx, nftables
 * and the app checkout on the configured ref. Steps are idempotent.
 * nginx starts with its packaged default page: `ops tls` (scripts/host/tls.sh) writes the app's
 * site into /etc/nginx/conf.d and reloads it; before nginx is first started, its pre-start step
 * (./nginx.ts) is installed, which derives the blue/green upstream include from the state file; deploys check health on the app port directly, so
 * nothing needs the site before then. nftables is only installed: `ops firewall --apply`
 * (scripts/host/firewall.sh) loads the host rules, keeps them for boot and enables the service. The env file with secrets is not placed
 * here: an operator puts it in the checkout (see docs/aws.md).
 */
export function bootstrapCommands(options: BootstrapOptions): string[] {
  const dir = checkoutDir(options.appName);
  const composeUrl = `https://github.com/docker/compose/releases/download/${COMPOSE_VERSION}/docker-compose-linux-$(uname -m)`;
  return [
    'set -euo pipefail',
    ...swapCommands(options.swapGiB ?? 0),
    'dnf install -y docker git rsyslog amazon-cloudwatch-agent nginx nftables',
    'systemctl enable --now rsyslog',
    ...nginxStartCommands(nginxStartSettings(options.appName), shippedScript('nginx-upstream.sh')),
    'systemctl enable --now nginx',
    '# PostgreSQL server binaries for the restore drill, which starts a throwaway cluster of its own: the service stays off',
    `dnf install -y ${DRILL_POSTGRES_PACKAGE}`,
    'install -d -m 0755 /etc/docker',
    // Both JSON files on one line each: user data holds at most 16 KB (the host stack's test sums it).
    `cat > /etc/docker/daemon.json <<'JSON'`,
    JSON.stringify(DOCKER_DAEMON_CONFIG),
    'JSON',
    ...(options.lifecycle ? lifecycleInstallCommands(options.lifecycle) : options.dataVolume ? dataVolumeCommands(options.dataVolume) : []),
    'systemctl enable --now docker',
    `# Docker Compose ${COMPOSE_VERSION} plugin, checked against the sha256 kept in this repository`,
    'install -d -m 0755 /usr/local/lib/docker/cli-plugins',
    `case "$(uname -m)" in ${Object.entries(COMPOSE_SHA256)
      .map(([arch, sum]) => `${arch}) compose_sha256=${sum} ;;`)
      .join(' ')} *) echo "no Compose checksum for $(uname -m)" >&2; exit 1 ;; esac`,
    `curl -fsSL --retry 5 -o /tmp/docker-compose "${composeUrl}"`,
    'echo "$compose_sha256  /tmp/docker-compose" | sha256sum -c -',
    'install -m 0755 /tmp/docker-compose /usr/local/lib/docker/cli-plugins/docker-compose',
    'docker compose version',
    `cat > ${AGENT_CONFIG_PATH} <<'JSON'`,
    JSON.stringify(cloudWatchAgentConfig(options.agent)),
    'JSON',
    `/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${AGENT_CONFIG_PATH}`,
    `# App checkout on ${options.gitRef}`,
    `if [ ! -d ${dir}/.git ]; then git clone ${shellQuote(options.repository)} ${dir}; fi`,
    `git -C ${dir} fetch --tags origin`,
    `git -C ${dir} checkout --detach ${shellQuote(options.gitRef)}`,
    ...(options.lifecycle ? lifecycleStartCommands(options.lifecycle) : []),
  ];
}

/** Single-quotes a value for the shell. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Where the packed first boot is decoded on the host (root only), and run from. */
export const FIRST_BOOT_DIR = '/var/lib/first-boot';

/** Ends the packed first boot's base64 block; base64 never contains it. */
const PACKED_END = 'FIRST_BOOT_END';

/** Stands for the `index`th value only CloudFormation knows (a volume or allocation id) in a packed first boot. */
export const firstBootPlaceholder = (index: number) => `@@FIRST_BOOT_VALUE_${index}@@`;

/**
 * The first boot as user data EC2 accepts (at most 16 KB, and the scripts it carries grow): the
 * script gzip'd (fflate: the same bytes on every machine, no time in the header) and base64'd,
 * decoded on the host into FIRST_BOOT_DIR with each `firstBootPlaceholder(i)` replaced by
 * `values[i]`, then run. The values are resource ids (`vol-…`, `eipalloc-…`, or the tokens
 * CloudFormation resolves to them): no `|`, `&`, `\` or quote, which sed's replacement would read.
 */
export function packedFirstBoot(script: string, values: readonly string[] = []): string[] {
  const encoded = Buffer.from(gzipSync(Buffer.from(script), { level: 9, mtime: 0 })).toString('base64');
  const substitute = values.length === 0 ? 'cat' : `sed ${values.map((v, i) => `-e 's|${firstBootPlaceholder(i)}|${v}|g'`).join(' ')}`;
  return [
    'set -euo pipefail',
    `install -d -m 0700 ${FIRST_BOOT_DIR}`,
    `base64 -d > ${FIRST_BOOT_DIR}/first-boot.sh.gz <<'${PACKED_END}'`,
    ...(encoded.match(/.{1,76}/g) ?? []),
    PACKED_END,
    `gunzip -c ${FIRST_BOOT_DIR}/first-boot.sh.gz | ${substitute} > ${FIRST_BOOT_DIR}/first-boot.sh`,
    `exec bash ${FIRST_BOOT_DIR}/first-boot.sh`,
  ];
}
