import { createHash } from 'node:crypto';
import { Token } from 'aws-cdk-lib';
import { gunzipSync, gzipSync } from 'fflate';
import type { AppConfig, NamedEnvironment } from '../config';
import { GIT_REF_PATTERN } from '../config/git-ref';
import { blueGreenOf } from '../config/schema/blue-green';
import { declaredSecretNames, SECRET_NAME_PATTERN, secretsPath } from '../config/schema/secrets';
import { checkoutDir, stateDir } from '../host-runtime/first-boot';
import { backupPrefix } from '../names';
import { publicBaseUrl, smokePlan } from '../smoke/plan';
import { BACKUP_METRIC } from './backup-metric';
import type { HostDocumentParameter, HostDocumentSpec, HostOperation } from './document-spec';
import { nginxUpstreamFile, nginxUpstreamName } from './nginx';
import { OUTCOME_PROLOGUE } from './outcome';
import { RESTORE_DOCUMENT_BACKUP_PATTERN } from './restore';
import { type HostScriptName, hostScript, scriptsCarriedWith } from './scripts';

/** Options that come from other stacks, not from the config. */
export interface HostDocumentOptions {
  /** Name of the environment's backups bucket (a token from the data stack is fine). */
  readonly backupBucketName: string;
}

/**
 * Git refs a deploy accepts (lib/config/git-ref): SSM checks it before anything runs, so no quotes,
 * spaces, `$`, `;`, backticks, `..` or a leading `-` can reach the shell or git; `deploy.sh` checks
 * the same pattern again, from host.env.
 */
export { GIT_REF_PATTERN };

/** Who asked for a deploy or rollback, recorded in the state file and audit log. */
export const REQUESTED_BY_PATTERN = '^[A-Za-z0-9][A-Za-z0-9@._:/+=-]{0,127}$';

/** Ends each script embedded in a document; no line of any script may equal it (a test checks). */
export const HEREDOC_END = 'HOST_SCRIPT_END_7d1c';

/**
 * Where the documents install the scripts on the instance: `<this>/<operation>/<sha256 of the
 * files>/`, one directory per distinct content, written in full before it is renamed into place
 * and never written again, so no invocation rewrites a file another one is executing.
 */
export const hostLibDir = (appName: string) => `/usr/local/lib/${appName}-host`;

/** Operator overrides on the instance, read before `host.env` (e.g. PGUSER, LEGACY_APP_DIRS). */
export const hostOverridesFile = (appName: string) => `/etc/default/${appName}-host`;

/**
 * The settings a document writes to `host.env` beside the scripts, from the validated config.
 * The scripts read them as KEY=VALUE data; the process environment and the overrides file win.
 */
export function hostSettings(app: AppConfig, environment: NamedEnvironment, options: HostDocumentOptions): Record<string, string> {
  const settings: Record<string, string> = {
    APP_NAME: app.name,
    ENV_NAME: environment.name,
    // The checkout the first boot clones.
    APP_DIR: checkoutDir(app.name),
    STATE_DIR: stateDir(app.name),
    COMPOSE_PROJECT: app.name,
    COMPOSE_FILE: app.composeFile,
    ENV_FILE: app.envFile,
    HEALTH_URL: `http://127.0.0.1:${app.port}${app.healthPath}`,
    DOMAIN: environment.domain,
    TLS_ENABLED: String(environment.tls),
    CERTBOT_EMAIL: environment.alarmEmail,
    BACKUP_BUCKET: options.backupBucketName,
    BACKUP_PREFIX: backupPrefix(environment.name),
    BACKUP_SCHEDULE: environment.backups.schedule,
    BACKUP_METRIC_NAMESPACE: BACKUP_METRIC.namespace(app.name),
    AWS_REGION: environment.region,
    AWS_DEFAULT_REGION: environment.region,
    HOST_OVERRIDES_FILE: hostOverridesFile(app.name),
    // Names and the path only, never values: secrets.sh renders the env file from the store.
    ...secretSettings(app, environment),
    GIT_REF_PATTERN,
    REQUIRE_PINNED_REF: String(environment.requirePinnedRef),
    // Release verification (lib/config/schema/smoke.ts): the new release's own address for the
    // smoke plan shipped as smoke.json, and the one-shot migration (words, no shell).
    SMOKE_BASE_URL: `http://127.0.0.1:${app.port}`,
    MIGRATE_SERVICE: app.migration?.service ?? '',
    MIGRATE_COMMAND: app.migration?.command.join(' ') ?? '',
    ...upstreamSettings(app, environment),
  };
  for (const [key, value] of Object.entries(settings)) {
    if (Token.isUnresolved(value)) continue;
    if (/[\n\r]/.test(value) || value.includes('{{')) {
      throw new Error(`hostDocumentSpecs: setting ${key} (${JSON.stringify(value)}) must be one line without '{{'`);
    }
  }
  return settings;
}

/**
 * The upstream nginx's site proxies to (the site is written by tls.sh from APP_UPSTREAM). In place:
 * the app's port. Blue/green (app.blueGreen merged with the environment's): a named upstream whose
 * include file switch.sh rewrites at each switch, and the settings switch.sh reads.
 */
function upstreamSettings(app: AppConfig, environment: NamedEnvironment): Record<string, string> {
  const blueGreen = blueGreenOf(app, environment);
  if (!blueGreen) return { APP_UPSTREAM: `http://127.0.0.1:${app.port}` };
  const upstream = nginxUpstreamName(app.name);
  return {
    APP_UPSTREAM: `http://${upstream}`,
    NGINX_UPSTREAM_NAME: upstream,
    // The same file nginx's pre-start step derives from the state file (./nginx.ts).
    NGINX_UPSTREAM_FILE: nginxUpstreamFile(app.name),
    BLUE_GREEN: 'true',
    BLUE_PORT: String(blueGreen.ports.blue),
    GREEN_PORT: String(blueGreen.ports.green),
    COLOUR_PORT_VAR: blueGreen.portVariable,
    COLOUR_SERVICES: blueGreen.colourServices.join(' '),
    SHARED_SERVICES: blueGreen.sharedServices.join(' '),
    COLOUR_MEMORY_NEED_MB: String(blueGreen.memoryNeedMb),
    // The second smoke goes through nginx by the public URL: with TLS, http://127.0.0.1 would only
    // get the port-80 redirect (smoke.py follows none), and the Host header picks the site.
    PUBLIC_SMOKE_URL: publicBaseUrl(environment),
  };
}

export { nginxUpstreamName };

function secretSettings(app: AppConfig, environment: NamedEnvironment): Record<string, string> {
  if (declaredSecretNames(app.secrets).length === 0) return {};
  return {
    SECRETS_PATH: secretsPath(app.name, environment.name, environment.secrets),
    SECRETS_REQUIRED: app.secrets.required.join(' '),
    SECRETS_OPTIONAL: app.secrets.optional.join(' '),
  };
}

/** What each operation runs, takes and may spend. */
interface OperationShape {
  /** The operation's script; the ones it sources or runs are installed beside it (`scriptsCarriedWith`). */
  readonly script: HostScriptName;
  readonly description: string;
  readonly parameters: Readonly<Record<string, HostDocumentParameter>>;
  /**
   * Shell lines after the scripts are in place; `$dir` is the operation's directory. No `exec`:
   * the document's shell must outlive the script to print the outcome marker (./outcome.ts);
   * under `set -e` a failing script still ends the shell with its exit code.
   */
  readonly invoke: readonly string[];
  readonly timeoutSeconds: number;
  /** Deploy and rollback verify the release: they also carry the smoke plan (smoke.json) for smoke.sh. @default false */
  readonly verifies?: boolean;
}

const requestedBy: HostDocumentParameter = {
  description: 'Who asked for this (recorded in the state file and the audit log).',
  default: 'ssm',
  allowedPattern: REQUESTED_BY_PATTERN,
};
const dryRun: HostDocumentParameter = { description: 'true: print what would change and change nothing.', default: 'false', allowedPattern: '^(true|false)$' };

function operations(environment: NamedEnvironment): Record<HostOperation, OperationShape> {
  return {
    deploy: {
      script: 'deploy.sh',
      description: `Deploy a git ref of the app on the ${environment.name} host: lock, drift check, preflight, fetch, build, start, health check; the previous release is put back on failure.`,
      parameters: {
        gitRef: {
          description: 'Branch, refs/tags/<tag>, origin/<branch> or commit sha to deploy.',
          default: environment.gitRef,
          allowedPattern: GIT_REF_PATTERN,
        },
        allowMovedTag: {
          description: 'true: deploy a tag even though it moved on the remote since this host last fetched it.',
          default: 'false',
          allowedPattern: '^(true|false)$',
        },
        requestedBy,
      },
      invoke: [`ALLOW_MOVED_TAG='{{ allowMovedTag }}' DEPLOY_ACTOR='{{ requestedBy }}' bash "$dir/deploy.sh" '{{ gitRef }}'`],
      timeoutSeconds: 1800,
      verifies: true,
    },
    rollback: {
      script: 'rollback.sh',
      description: `Put the previous good release of the ${environment.name} host back, by commit, without git fetch.`,
      parameters: { requestedBy },
      invoke: [`DEPLOY_ACTOR='{{ requestedBy }}' bash "$dir/rollback.sh"`],
      timeoutSeconds: 1200,
      verifies: true,
    },
    status: {
      script: 'status.sh',
      description: `Current and previous releases, health and containers of the ${environment.name} host.`,
      parameters: { format: { description: 'text or json.', default: 'text', allowedPattern: '^(text|json)$' } },
      invoke: [`bash "$dir/status.sh" '--{{ format }}'`],
      timeoutSeconds: 60,
    },
    backup: {
      script: 'backup.sh',
      description: `Refresh the backup timer (OnCalendar ${environment.backups.schedule}) and back up Postgres and Redis of the ${environment.name} host to S3 now.`,
      parameters: {
        // A replacement host (host-boot.sh step 5) installs the timer only: its release is still
        // being deployed, so a backup now would find no database.
        timerOnly: { description: 'true: install the timer only, back up nothing now.', default: 'false', allowedPattern: '^(true|false)$' },
      },
      invoke: ['bash "$dir/backup.sh" install-timer', `if [ '{{ timerOnly }}' != true ]; then bash "$dir/backup.sh" run; fi`],
      timeoutSeconds: 3600,
    },
    restore: {
      script: 'restore.sh',
      description: `Restore a backup into the LIVE ${environment.name} database: safety backup first, app stopped, pg_restore as the database owner in one transaction, release started, health gate; prints RTO and RPO.`,
      parameters: {
        backup: {
          description:
            'A backup key under the environment prefix, or latest; or resume: start the app again after an interrupted restore, on the database as it is.',
          allowedPattern: RESTORE_DOCUMENT_BACKUP_PATTERN,
        },
        confirm: { description: `Must be the environment name (${environment.name}): a restore replaces live data.`, allowedPattern: '^[a-z0-9-]{1,63}$' },
        requestedBy,
      },
      invoke: [
        `if [ '{{ confirm }}' != '${environment.name}' ]; then echo 'restore refused: confirm must be ${environment.name}' >&2; exit 2; fi`,
        `DEPLOY_ACTOR='{{ requestedBy }}' bash "$dir/restore.sh" '{{ backup }}'`,
      ],
      timeoutSeconds: 3600,
    },
    'restore-drill': {
      script: 'restore-drill.sh',
      description: `Restore the latest ${environment.name} backup (newest by S3's LastModified) into a throwaway PostgreSQL cluster as a non-superuser, compare row counts with those the backup recorded, report RTO/RPO, remove the cluster.`,
      parameters: {},
      invoke: ['bash "$dir/restore-drill.sh"'],
      timeoutSeconds: 3600,
    },
    tls: {
      script: 'tls.sh',
      description: `Serve ${environment.domain} over HTTPS when a certificate exists (issue one with certbot, webroot), HTTP until then; install the renew timer.`,
      parameters: { dryRun },
      invoke: [`if [ '{{ dryRun }}' = true ]; then bash "$dir/tls.sh" apply --dry-run; else bash "$dir/tls.sh" apply; fi`],
      timeoutSeconds: 600,
    },
    firewall: {
      script: 'firewall.sh',
      description: `Host firewall on the ${environment.name} host (ufw, or nftables where ufw is absent, as on Amazon Linux 2023): inbound 80/443 only, outbound open for the SSM agent (apply), or print the rules (status).`,
      parameters: {
        action: { description: 'apply or status.', default: 'status', allowedPattern: '^(apply|status)$' },
        dryRun,
      },
      invoke: [`if [ '{{ dryRun }}' = true ]; then bash "$dir/firewall.sh" '{{ action }}' --dry-run; else bash "$dir/firewall.sh" '{{ action }}'; fi`],
      timeoutSeconds: 120,
    },
    secrets: {
      script: 'secrets.sh',
      description: `Secrets of the ${environment.name} host (names and versions only, never values): the versions the running release was started with (versions), a restart with the store's newest values that puts the previous ones back if unhealthy (restart, for ops rotate), or a security.key_rotation audit line (audit).`,
      parameters: {
        action: { description: 'versions, restart or audit.', default: 'versions', allowedPattern: '^(versions|restart|audit)$' },
        name: { description: 'The secret being rotated (restart, audit).', default: 'NONE', allowedPattern: SECRET_NAME_PATTERN },
        event: { description: 'audit: the rotation step.', default: 'started', allowedPattern: '^(started|reencrypt|applied|rolled_back)$' },
        result: { description: 'audit: how the step ended.', default: 'ok', allowedPattern: '^(ok|failed|refused|critical)$' },
        requestedBy,
      },
      invoke: [
        `export DEPLOY_ACTOR='{{ requestedBy }}'`,
        `set -- '{{ action }}'`,
        `if [ '{{ action }}' = restart ]; then set -- restart '{{ name }}'; fi`,
        `if [ '{{ action }}' = audit ]; then set -- audit '{{ name }}' '{{ event }}' '{{ result }}'; fi`,
        'bash "$dir/secrets.sh" "$@"',
      ],
      timeoutSeconds: 900,
    },
  };
}

/** Seconds SSM lets one operation's document run (its `timeoutSeconds`): ops waits that long for the outcome. */
export function operationTimeoutSeconds(environment: NamedEnvironment, operation: HostOperation): number {
  return operations(environment)[operation].timeoutSeconds;
}

/** Shell lines that write `text` verbatim to the staged file `name` (a quoted here-document: no expansion). */
function writeFile(name: string, text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.includes(HEREDOC_END)) throw new Error(`hostDocumentSpecs: ${name} contains the line ${HEREDOC_END}`);
  return [`cat > "$stage/${name}" <<'${HEREDOC_END}'`, ...lines, HEREDOC_END];
}

/**
 * Shell lines that write a script to the staged file `name`: its text gzip'd (fflate: the same bytes
 * on every machine and Node version, no time in the header) and base64'd in a quoted here-document,
 * decoded on the host (coreutils base64, gzip). SSM takes at most 64 KB per document, and deploy
 * carries seven scripts: as text they no longer fit. The bytes written are the reviewed file's,
 * comments included (an error's line number is the file's), and `SCRIPT_SUMS` checks each against
 * the sha256 computed here before anything runs.
 */
function writeScript(name: HostScriptName): string[] {
  return encodedScript(name, hostScript(name));
}

function encodedScript(name: string, text: string): string[] {
  const encoded = Buffer.from(gzipSync(Buffer.from(text), { level: 9, mtime: 0 })).toString('base64');
  return [`base64 -d <<'${HEREDOC_END}' | gzip -dc > "$stage/${name}"`, ...(encoded.match(/.{1,76}/g) ?? []), HEREDOC_END];
}

/** The sha256 of a script's reviewed text, as `sha256sum` prints it. */
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Shell lines that check the decoded scripts against their sha256 (a bad decode never runs). */
function scriptSums(names: readonly HostScriptName[]): string[] {
  return [
    `if ! (cd "$stage" && sha256sum --check --quiet --strict) <<'${HEREDOC_END}'`,
    ...names.map((name) => `${sha256(hostScript(name))}  ${name}`),
    HEREDOC_END,
    'then rm -rf "$stage"; echo "the staged scripts do not match their sha256 (the document was altered, or decoding failed): nothing was run" >&2; exit 1; fi',
  ];
}

const STAGED_FILE = new RegExp(`^(?:cat > "\\$stage/([^"]+)" <<'${HEREDOC_END}'|base64 -d <<'${HEREDOC_END}' \\| gzip -dc > "\\$stage/([^"]+)")$`);

/** The files a document's `runCommand` stages on the host, in the order it writes them (scripts, smoke.json, host.env). */
export function stagedFiles(runCommand: readonly unknown[]): string[] {
  return runCommand.flatMap((line) => {
    const match = typeof line === 'string' ? STAGED_FILE.exec(line) : null;
    return match ? [match[1] ?? match[2]] : [];
  });
}

/**
 * A document's `runCommand` with the staged script `name` edited by `edit` (decoded, edited, staged
 * again): for tests and review scenarios that change what a document runs. Throws when the
 * document does not stage `name`.
 */
export function withStagedScript(runCommand: readonly unknown[], name: string, edit: (text: string) => string): unknown[] {
  const start = runCommand.findIndex((line) => typeof line === 'string' && STAGED_FILE.exec(line)?.[2] === name);
  if (start < 0) throw new Error(`withStagedScript: the document stages no ${name}`);
  const end = runCommand.indexOf(HEREDOC_END, start + 1);
  const text = Buffer.from(gunzipSync(Buffer.from(runCommand.slice(start + 1, end).join(''), 'base64'))).toString('utf8');
  return [...runCommand.slice(0, start), ...encodedScript(name, edit(text)), ...runCommand.slice(end + 1)];
}

/**
 * A document's shell as a person reads it: each script decoded back to its text, in a here-document
 * as the plain files are (for the review's diff of what runs on the host). Lines that are not
 * strings (another stack's token) are shown by `render` (default: as JSON).
 */
export function readableRunCommand(runCommand: readonly unknown[], render: (value: unknown) => string = (value) => JSON.stringify(value)): string {
  const out: string[] = [];
  for (let i = 0; i < runCommand.length; i++) {
    const line = runCommand[i];
    const match = typeof line === 'string' ? STAGED_FILE.exec(line) : null;
    if (!match?.[2]) {
      out.push(typeof line === 'string' ? line : render(line));
      continue;
    }
    const end = runCommand.indexOf(HEREDOC_END, i + 1);
    const text = Buffer.from(gunzipSync(Buffer.from(runCommand.slice(i + 1, end).join(''), 'base64'))).toString('utf8');
    out.push(`cat > "$stage/${match[2]}" <<'${HEREDOC_END}'`, text.replace(/\n$/, ''), HEREDOC_END);
    i = end;
  }
  return out.join('\n');
}

/**
 * The settings a document's `runCommand` writes to `host.env`, read back from its lines (in a
 * synthesized template a line holding another stack's token is an object: it is left out).
 */
export function stagedSettings(runCommand: readonly unknown[]): Record<string, string> {
  const start = runCommand.findIndex((line) => typeof line === 'string' && STAGED_FILE.exec(line)?.[1] === 'host.env');
  const settings: Record<string, string> = {};
  if (start < 0) return settings;
  for (const line of runCommand.slice(start + 1)) {
    if (line === HEREDOC_END) break;
    if (typeof line !== 'string') continue;
    const eq = line.indexOf('=');
    if (eq > 0) settings[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return settings;
}

/**
 * Shell lines that put the staged files (`$stage`) in place as `$dir`, named by their sha256.
 * The rename is atomic: a concurrent invocation of the same content either renamed first (this
 * one drops its stage) or finds the complete directory. An existing directory is checked against
 * its name before use, so a copy edited on the host is refused, never run.
 */
const INSTALL_STAGED = [
  'chmod 0755 "$stage" "$stage"/*.sh',
  'sum=$(cd "$stage" && cat $files | sha256sum | cut -d" " -f1)',
  'dir="$base/$sum"',
  'if [ -d "$dir" ] || ! mv -T "$stage" "$dir" 2>/dev/null; then rm -rf "$stage"; fi',
  'if [ "$(cd "$dir" && cat $files | sha256sum | cut -d" " -f1)" != "$sum" ]; then echo "installed copy $dir does not match its checksum (edited on the host?): remove that directory and run again" >&2; exit 1; fi',
];

/**
 * One SSM Command document spec per host operation. Each document stages the reviewed scripts
 * (the operation's script and those it sources or runs, `scriptsCarriedWith`), the smoke plan
 * where it verifies a release, and the environment's settings (`host.env`) in a fresh
 * directory, renames it to `/usr/local/lib/<app>-host/<operation>/<sha256>/` and runs the script
 * there, so what runs is exactly the merged text, no invocation rewrites another's files, and an
 * operator can run the same file by hand. `HOST_LIB_DIR` moves the directory.
 */
export function hostDocumentSpecs(app: AppConfig, environment: NamedEnvironment, options: HostDocumentOptions): HostDocumentSpec[] {
  const settings = hostSettings(app, environment, options);
  const env = `${Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')}\n`;
  const plan = `${JSON.stringify(smokePlan(app, environment))}\n`;
  if (plan.includes('{{')) throw new Error(`hostDocumentSpecs: the smoke checks of ${environment.name} contain '{{', which SSM would read as a parameter`);
  return Object.entries(operations(environment)).map(([operation, shape]) => ({
    operation: operation as HostOperation,
    description: shape.description,
    parameters: shape.parameters,
    runCommand: [
      ...OUTCOME_PROLOGUE,
      'set -eu',
      `base="\${HOST_LIB_DIR:-${hostLibDir(app.name)}}/${operation}"`,
      'install -d -m 0755 "$base"',
      'stage=$(mktemp -d "$base/.stage.XXXXXX")',
      ...scriptsCarriedWith(shape.script).flatMap((name) => writeScript(name)),
      ...scriptSums(scriptsCarriedWith(shape.script)),
      ...(shape.verifies ? writeFile('smoke.json', plan) : []),
      ...writeFile('host.env', env),
      `files='${[...scriptsCarriedWith(shape.script), ...(shape.verifies ? ['smoke.json'] : []), 'host.env'].join(' ')}'`,
      ...INSTALL_STAGED,
      ...shape.invoke,
    ],
    timeoutSeconds: shape.timeoutSeconds,
  }));
}
