/*
 * Pure builders for the host's lifecycle at first boot (every boot of an instance the Auto Scaling
 * group launches is a first boot: the root volume is new): install the lifecycle programs
 * (scripts/host/host-boot.sh, host-stop.sh, interruption-watch.sh), write their settings, enable
 * the interruption watch and run the boot sequence. No CDK here; tokens in values are fine.
 */
import type { REAPPLIED_OPERATIONS } from './document-spec';
import { checkoutDir, type DataVolumeMount } from './first-boot';
import { type HostScriptName, scriptsCarriedWith, shippedScript } from './scripts';

/** How the host makes its environment's address point at itself at boot. */
export type HostAddress =
  /** Always-on environments: the environment's Elastic IP, associated by the host. */
  | { readonly kind: 'elastic-ip'; readonly allocationId: string }
  /** Scheduled environments: the auto-assigned public IPv4, written into the host's own A record. */
  | { readonly kind: 'dns'; readonly hostedZoneId: string; readonly recordName: string; readonly ttlSeconds: number };

export interface HostLifecycleOptions {
  /** App name: names the install directory, the settings file and the units. */
  readonly appName: string;
  /** Compose file of the app in the checkout (the shared services' flush runs through it). */
  readonly composeFile: string;
  /** Services both colours share; a service named like `postgres`/`redis` gets its flush. */
  readonly sharedServices: readonly string[];
  /** The data volume, as the first boot mounts it (its script is installed beside the others). */
  readonly dataVolume: DataVolumeMount;
  /** The address step of the boot. */
  readonly address: HostAddress;
  /**
   * The environment's deploy document (`hostDocumentName(app, env, 'deploy')`): a replacement
   * host sends it to itself with the commit the state file records, so it serves that release again.
   * @default - none: a replacement starts Docker and nginx only
   */
  readonly deployDocumentName?: string;
  /**
   * The environment's documents of the host-wide settings on the root volume (`hostDocumentName`
   * of tls, firewall, backup): a replacement host sends each to itself when the data volume records
   * that it was applied before (scripts/host/host-boot.sh, step 5).
   * @default - none: a replacement applies none of them again
   */
  readonly reapplyDocumentNames?: Readonly<Partial<Record<(typeof REAPPLIED_OPERATIONS)[number], string>>>;
  /** Where those commands' output goes (the environment's command log group). Required with any document name. */
  readonly commandLogGroupName?: string;
  /** The Auto Scaling group of one and its termination hook (completed by the clean stop). */
  readonly groupName: string;
  readonly hookName: string;
  /**
   * Seconds the clean stop waits for EC2 to report the detached volume `available`.
   * @default 90
   */
  readonly detachTimeoutSeconds?: number;
}

/** The programs installed, in install order: each with what it sources or runs. */
export const LIFECYCLE_PROGRAMS = ['host-boot.sh', 'host-stop.sh', 'interruption-watch.sh'] as const satisfies readonly HostScriptName[];

/** Where the lifecycle programs live on the host (root volume: a new instance installs them again). */
export const lifecycleDir = (appName: string) => `/usr/local/lib/${appName}-lifecycle`;
/** Their settings (KEY=VALUE data, read by lifecycle-lib.sh). */
export const lifecycleSettingsFile = (appName: string) => `/etc/default/${appName}-lifecycle`;
/** The systemd unit that runs interruption-watch.sh for the life of the instance. */
export const interruptionWatchUnit = (appName: string) => `${appName}-interruption-watch.service`;

/** The first service of `services` whose name contains `word`, if any. */
const serviceLike = (services: readonly string[], word: string) => services.find((s) => s.toLowerCase().includes(word));

/**
 * The settings file's values. Commands are words (never a shell): traffic off first (nginx fronts
 * both colours), the flushes through Compose in the shared services' project, then every container
 * (both colours and the shared services) stopped with Docker itself, so nothing holds the volume.
 * At boot the app's start is Docker and nginx: the containers of the base project come back with
 * their restart policy.
 */
export function lifecycleSettings(options: HostLifecycleOptions): Record<string, string> {
  const compose = `docker compose --project-directory ${checkoutDir(options.appName)} -p ${options.appName} -f ${options.composeFile}`;
  const postgres = serviceLike(options.sharedServices, 'postgres');
  const redis = serviceLike(options.sharedServices, 'redis');
  const reapply = options.reapplyDocumentNames ?? {};
  const address: Record<string, string> =
    options.address.kind === 'elastic-ip'
      ? { ADDRESS_MODE: 'elastic-ip', EIP_ALLOCATION_ID: options.address.allocationId }
      : {
          ADDRESS_MODE: 'dns',
          HOSTED_ZONE_ID: options.address.hostedZoneId,
          RECORD_NAME: options.address.recordName.replace(/\.$/, '').toLowerCase(),
          RECORD_TTL: String(options.address.ttlSeconds),
        };
  return {
    AWS_DEFAULT_REGION: options.dataVolume.region,
    DATA_VOLUME_ID: options.dataVolume.volumeId,
    DATA_MOUNT_POINT: options.dataVolume.mountPoint,
    DATA_VOLUME_LABEL: options.dataVolume.label,
    ...address,
    APP_START_CMD: 'systemctl start docker nginx',
    APP_STOP_CMD: 'systemctl stop nginx',
    PG_FLUSH_CMD: postgres ? `${compose} exec -T ${postgres} psql -U postgres -c CHECKPOINT` : '',
    REDIS_FLUSH_CMD: redis ? `${compose} exec -T ${redis} redis-cli SAVE` : '',
    SERVICES_STOP_CMD: 'systemctl stop docker.socket docker',
    // The Spot warning's final backup: the backup unit the backup document installs (backup.sh
    // run, which audits op=backup); systemctl start waits for the oneshot service to finish.
    BACKUP_CMD: `systemctl start ${options.appName}-backup.service`,
    ...(options.deployDocumentName ? { DEPLOY_DOCUMENT: options.deployDocumentName } : {}),
    ...(reapply.tls ? { TLS_DOCUMENT: reapply.tls } : {}),
    ...(reapply.firewall ? { FIREWALL_DOCUMENT: reapply.firewall } : {}),
    ...(reapply.backup ? { BACKUP_DOCUMENT: reapply.backup } : {}),
    ...(options.deployDocumentName || Object.keys(reapply).length > 0 ? { COMMAND_LOG_GROUP: options.commandLogGroupName ?? '' } : {}),
    ASG_NAME: options.groupName,
    LIFECYCLE_HOOK_NAME: options.hookName,
    DETACH_TIMEOUT: String(options.detachTimeoutSeconds ?? 90),
    LIFECYCLE_RUN_DIR: `/run/${options.appName}-lifecycle`,
  };
}

/** Every script the lifecycle programs need, once each (what they source and run). */
export function lifecycleScripts(): HostScriptName[] {
  return [...new Set(LIFECYCLE_PROGRAMS.flatMap((p) => scriptsCarriedWith(p)))];
}

/** Ends each file of the install archive; no line of any script may equal it. */
const FILE_END = 'HOST_LIFECYCLE_FILE_END';

/**
 * One shell archive of the lifecycle scripts (`cat > <dir>/<name> <<'END'` per file). The first
 * boot carries it as plain text: the whole first boot is compressed once (`packedFirstBoot`).
 */
export function lifecycleArchive(dir: string): string {
  return lifecycleScripts()
    .map((name) => {
      const script = shippedScript(name);
      if (script.split('\n').includes(FILE_END)) throw new Error(`lifecycleArchive: scripts/host/${name} contains the line ${FILE_END}`);
      return `cat > ${dir}/${name} <<'${FILE_END}'\n${script.replace(/\n?$/, '\n')}${FILE_END}\n`;
    })
    .join('');
}

/**
 * User-data lines in place of the data volume's own step (before Docker starts): install the
 * scripts, write the settings and the interruption watch's unit, and mount the data volume
 * (`host-boot.sh --volume-only`), so Docker starts on it.
 */
export function lifecycleInstallCommands(options: HostLifecycleOptions): string[] {
  const dir = lifecycleDir(options.appName);
  const settingsFile = lifecycleSettingsFile(options.appName);
  const end = 'HOST_LIFECYCLE_END';
  const settings = Object.entries(lifecycleSettings(options)).map(([k, v]) => {
    if (/[\n]/.test(v) || v === end) throw new Error(`lifecycleInstallCommands: the setting ${k} cannot be written as one line`);
    return `${k}=${v}`;
  });
  return [
    '# Host lifecycle: the boot sequence, the clean stop and the interruption watch (scripts/host/host-*.sh)',
    `install -d -m 0755 ${dir}`,
    ...lifecycleArchive(dir).replace(/\n$/, '').split('\n'),
    `chmod 0755 ${dir}/*.sh`,
    `cat > ${settingsFile} <<'${end}'`,
    ...settings,
    end,
    `cat > /etc/systemd/system/${interruptionWatchUnit(options.appName)} <<'${end}'`,
    '[Unit]',
    'Description=Clean stop of the host on a Spot interruption warning or the Auto Scaling termination hook',
    'Wants=network-online.target',
    'After=network-online.target',
    '[Service]',
    `Environment=LIFECYCLE_ENV_FILE=${settingsFile}`,
    `ExecStart=/bin/bash ${dir}/interruption-watch.sh`,
    'Restart=always',
    'RestartSec=5',
    '[Install]',
    'WantedBy=multi-user.target',
    end,
    'systemctl daemon-reload',
    '# The data volume, before Docker starts',
    `LIFECYCLE_ENV_FILE=${settingsFile} bash ${dir}/host-boot.sh --volume-only`,
  ];
}

/**
 * The last user-data lines: the interruption watch from now on, then the boot sequence (volume
 * again, a no-op; the address; the app). A failing step fails the first boot (cloud-init reports
 * it) and leaves the app stopped.
 */
export function lifecycleStartCommands(options: HostLifecycleOptions): string[] {
  const settingsFile = lifecycleSettingsFile(options.appName);
  return [
    `systemctl enable --now ${interruptionWatchUnit(options.appName)}`,
    `LIFECYCLE_ENV_FILE=${settingsFile} bash ${lifecycleDir(options.appName)}/host-boot.sh`,
  ];
}
