/*
 * nginx in front of the app on the host: the upstream include the blue/green switch rewrites, and
 * the pre-start step that derives it from the state file whenever systemd starts nginx (boot,
 * crash restart, `systemctl restart nginx`). Pure builders: the first boot (./first-boot.ts) and the
 * SSM documents (./documents.ts) use them, tests read the text directly.
 */

/** nginx upstream name of the app's colours (letters, digits, `_`): passed to the host as NGINX_UPSTREAM_NAME. */
export const nginxUpstreamName = (appName: string) => `${appName.replace(/-/g, '_')}_app`;

/** The upstream include switch.sh rewrites at each switch (NGINX_UPSTREAM_FILE); nginx's conf.d includes it. */
export const nginxUpstreamFile = (appName: string) => `/etc/nginx/conf.d/${appName}-upstream.conf`;

/** Where the first boot installs scripts/host/nginx-upstream.sh for nginx's pre-start step. */
export const nginxUpstreamScriptPath = (appName: string) => `/usr/local/sbin/${appName}-nginx-upstream.sh`;

/** The drop-in of nginx.service the first boot writes. */
export const NGINX_DROP_IN_PATH = '/etc/systemd/system/nginx.service.d/upstream-from-state.conf';

/** What nginx's pre-start step is given: where the state file and the include are, the upstream's name. */
export interface NginxStartSettings {
  readonly appName: string;
  /** The host scripts' state file (STATE_FILE). */
  readonly stateFile: string;
  /** The upstream include (NGINX_UPSTREAM_FILE). */
  readonly upstreamFile: string;
  /** The upstream's name (NGINX_UPSTREAM_NAME). */
  readonly upstreamName: string;
  /** The installed nginx-upstream.sh. */
  readonly scriptPath: string;
  /** The state file's directory (the data volume's mount point): nginx starts only once it is mounted. */
  readonly stateDir: string;
}

/**
 * The drop-in of nginx.service: before nginx starts, nginx-upstream.sh rewrites the upstream include
 * from the state file, so a started nginx serves the recorded release and never a colour that a
 * killed switch left in the file; nginx starts only once the state directory is mounted (the data
 * volume is mounted with `nofail`, so nothing else orders it first); a crashed nginx is restarted
 * (the packaged unit does not), through the same pre-start step. ExecStartPre adds to the unit's
 * own steps (`nginx -t` runs first, on the file as it was: nginx-upstream.sh only ever writes a valid one).
 * @see https://www.freedesktop.org/software/systemd/man/latest/systemd.service.html#ExecStartPre=
 */
export function nginxDropIn(settings: NginxStartSettings): string {
  const environment = {
    APP_NAME: settings.appName,
    STATE_FILE: settings.stateFile,
    NGINX_UPSTREAM_FILE: settings.upstreamFile,
    NGINX_UPSTREAM_NAME: settings.upstreamName,
  };
  for (const [key, value] of Object.entries(environment)) {
    if (!/^[A-Za-z0-9_./-]+$/.test(value)) throw new Error(`nginxDropIn: ${key} (${JSON.stringify(value)}) must be letters, digits and _./-`);
  }
  return [
    '# Written by the first boot (lib/host-runtime/nginx.ts): nginx starts on the upstream the state file records.',
    '[Unit]',
    `RequiresMountsFor=${settings.stateDir}`,
    '',
    '[Service]',
    ...Object.entries(environment).map(([key, value]) => `Environment=${key}=${value}`),
    `ExecStartPre=${settings.scriptPath}`,
    'Restart=on-failure',
    'RestartSec=2s',
    '',
  ].join('\n');
}

/**
 * User-data lines that install nginx-upstream.sh (`script`, its text) and the drop-in, then make
 * systemd read it. Run before nginx is first started.
 */
export function nginxStartCommands(settings: NginxStartSettings, script: string): string[] {
  const end = 'NGINX_UPSTREAM_SCRIPT_END';
  const dropInEnd = 'NGINX_DROP_IN_END';
  const lines = script.replace(/\n$/, '').split('\n');
  const dropIn = nginxDropIn(settings).replace(/\n$/, '').split('\n');
  if (lines.includes(end) || dropIn.includes(dropInEnd)) throw new Error('nginxStartCommands: a here-document end marker occurs in the text');
  return [
    '# nginx starts on the upstream the state file records (a restart never serves an unrecorded release)',
    `cat > ${settings.scriptPath} <<'${end}'`,
    ...lines,
    end,
    `chmod 0755 ${settings.scriptPath}`,
    `install -d -m 0755 ${NGINX_DROP_IN_PATH.replace(/\/[^/]+$/, '')}`,
    `cat > ${NGINX_DROP_IN_PATH} <<'${dropInEnd}'`,
    ...dropIn,
    dropInEnd,
    'systemctl daemon-reload',
  ];
}
