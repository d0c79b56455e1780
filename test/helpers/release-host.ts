import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GIT_REF_PATTERN } from '../../lib/config/git-ref';
import { GitFixture, git } from './git-fixture';
import { freePort, httpBody, runHostScript, type ScriptResult } from './host-scripts';
import { buildBusyboxImage, podmanEnv, removePodmanProject, strictPodmanCompose } from './podman';

/** How one release of the test app is built and served. */
export interface ReleaseOptions {
  /**
   * The port busybox httpd listens on inside the container (Compose publishes 8080).
   * @default 8080 - another port makes a release that never answers its health check
   */
  readonly listenPort?: number;
  /**
   * Adds a `COPY` of a missing file, so the release does not build.
   * @default false
   */
  readonly copyMissing?: boolean;
  /**
   * The container's entrypoint.
   * @default - busybox, with httpd serving /www on `listenPort` as its command, so `compose run --rm
   * web <applet> ...` runs a one-shot migration
   */
  readonly entrypoint?: readonly string[];
  /**
   * Leaves out /www/index.html: a release that is healthy but fails a smoke check of the index page.
   * @default false
   */
  readonly noIndex?: boolean;
  /**
   * More files of the release (null: left out), e.g. pages a smoke plan checks.
   * @default - none
   */
  readonly files?: Readonly<Record<string, string | null>>;
}

/** A release as the state file records it, and the /healthz body it serves. */
export interface RecordedRelease {
  readonly ref: string;
  readonly commit: string;
  /** The health file's content (trimmed), as `served()` reports it after "200 ". */
  readonly body: string;
}

/**
 * One host of the real deploy flow, as deploy.sh, rollback.sh and status.sh see it: a git origin
 * and the host's checkout (GitFixture), podman-compose with runc and a FROM-scratch busybox image,
 * a health URL on a free loopback port, and the state directory. `env` is what the scripts get;
 * the files are removed and the containers and images stopped by `dispose`.
 */
export class ReleaseHost {
  readonly root: string;
  readonly stateDir: string;
  readonly stateFile: string;
  readonly auditLog: string;
  readonly fixture: GitFixture;
  readonly podman: Record<string, string>;
  readonly project: string;
  readonly baseImage: string;
  readonly appImage: string;
  env: Record<string, string> = {};
  healthUrl = '';

  /** `name` keeps the temporary directory, Compose project and images apart from other files'. */
  constructor(readonly name: string) {
    const suffix = `${process.pid}${Math.floor(Math.random() * 1e6)}`;
    this.project = `${name}${suffix}`;
    this.baseImage = `localhost/${name}-busybox-${suffix}`;
    this.appImage = `localhost/${name}-app-${suffix}:latest`;
    this.root = mkdtempSync(`/tmp/${name}-`);
    this.stateDir = join(this.root, 'state');
    this.stateFile = join(this.stateDir, 'deploy_state.json');
    this.auditLog = join(this.stateDir, 'audit.log');
    this.fixture = new GitFixture(join(this.root, 'git'));
    this.podman = podmanEnv(join(this.root, 'podman'));
  }

  /** The files of one release: a web root whose /healthz says `body` (null: no health file). */
  release(body: string | null, options: ReleaseOptions = {}): Record<string, string | null> {
    return busyboxRelease(this.baseImage, body, options);
  }

  /**
   * Builds the base image, picks the health port and sets `env` (the settings the SSM document's
   * host.env would give, for this host), with `extra` added. Call it in beforeAll, after the
   * releases are committed or before, as the test needs.
   */
  async start(extra: Record<string, string> = {}): Promise<void> {
    buildBusyboxImage(this.baseImage, this.root, this.podman);
    const port = await freePort();
    this.healthUrl = `http://127.0.0.1:${port}/healthz`;
    this.env = {
      ...this.podman,
      APP_NAME: this.name,
      ENV_NAME: 'test',
      APP_DIR: this.fixture.checkout,
      STATE_DIR: this.stateDir,
      COMPOSE_CMD: strictPodmanCompose(this.root),
      COMPOSE_PROJECT: this.project,
      COMPOSE_FILE: 'compose.yml',
      // podman-compose 1.0 has no `config`; --dry-run parses the file. Nor does `up -d` recreate changed containers.
      COMPOSE_CONFIG_ARGS: '--dry-run ps',
      COMPOSE_PULL_ARGS: '',
      COMPOSE_UP_ARGS: 'up -d --force-recreate',
      CONTAINER_CMD: 'podman',
      HEALTH_URL: this.healthUrl,
      HEALTH_TIMEOUT: '3',
      HEALTH_INTERVAL: '0.2',
      MIN_FREE_MB: '1',
      DISK_PATHS: this.root,
      DEPLOY_ACTOR: 'jest',
      WEB_PORT: String(port),
      WEB_IMAGE: this.appImage,
      // What the deploy document writes into host.env: the one git-ref grammar deploy.sh checks refs with.
      GIT_REF_PATTERN,
      ...extra,
    };
  }

  deploy(ref: string, extra: Record<string, string> = {}): Promise<ScriptResult> {
    return runHostScript('deploy.sh', [ref], { ...this.env, ...extra });
  }

  rollback(extra: Record<string, string> = {}): Promise<ScriptResult> {
    return runHostScript('rollback.sh', [], { ...this.env, ...extra });
  }

  /** `status.sh --json`, parsed. */
  async status() {
    return JSON.parse((await runHostScript('status.sh', ['--json'], this.env)).stdout);
  }

  /** What the health URL answers now: "200 <body>" or "error <message>". */
  served(): Promise<string> {
    return httpBody(this.healthUrl);
  }

  state(): Record<string, unknown> {
    return JSON.parse(readFileSync(this.stateFile, 'utf8'));
  }

  auditLines(): string[] {
    return existsSync(this.auditLog) ? readFileSync(this.auditLog, 'utf8').trim().split('\n') : [];
  }

  /**
   * Puts the host in a known state whatever an earlier test left (so a test runs alone or after a
   * failed one): the state directory holding only a state file recording `current` and `previous`
   * (nothing at all when `current` is null), the checkout at `current`, and `current` serving,
   * deployed for real with deploy.sh when it is not already.
   */
  async given(current: RecordedRelease | null, previous: RecordedRelease | null = null): Promise<void> {
    const emptyStateDir = () => {
      for (const name of existsSync(this.stateDir) ? readdirSync(this.stateDir) : []) rmSync(join(this.stateDir, name), { recursive: true, force: true });
    };
    emptyStateDir();
    if (current === null) return;
    if ((await this.served()) !== `200 ${current.body}` || git(this.fixture.checkout, 'rev-parse', 'HEAD') !== current.commit) {
      const result = await this.deploy(current.ref);
      if (result.code !== 0) throw new Error(`setup: deploying ${current.ref} failed (exit ${result.code}): ${result.stderr}`);
      emptyStateDir();
    }
    const entry = (r: RecordedRelease) => ({ ref: r.ref, commit: r.commit, deployedAt: '2026-01-01T00:00:00Z', deployedBy: 'jest', action: 'deploy' });
    const state = {
      schemaVersion: 1,
      app: this.name,
      environment: 'test',
      current: entry(current),
      previous: previous && entry(previous),
      updatedAt: '2026-01-01T00:00:00Z',
    };
    writeFileSync(this.stateFile, `${JSON.stringify(state, null, 2)}\n`);
  }

  /** Stops the project's containers, removes its images and every file under `root`. */
  dispose(): void {
    removePodmanProject(this.project, [this.appImage, this.baseImage], this.podman);
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * The files of one release of the test app, built FROM `baseImage` (a FROM-scratch busybox): a web
 * root whose /healthz says `body` (null: no health file), published on 127.0.0.1:${WEB_PORT}.
 */
export function busyboxRelease(baseImage: string, body: string | null, options: ReleaseOptions = {}): Record<string, string | null> {
  const start = options.entrypoint
    ? [`ENTRYPOINT ${JSON.stringify(options.entrypoint)}`]
    : ['ENTRYPOINT ["/bin/busybox"]', `CMD ${JSON.stringify(['httpd', '-f', '-p', String(options.listenPort ?? 8080), '-h', '/www'])}`];
  return {
    '.gitignore': '.env.production\n',
    'compose.yml': [
      'services:',
      '  web:',
      '    build: .',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolates it from the environment
      '    image: ${WEB_IMAGE}',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Compose interpolates it from the environment
      '    ports: ["127.0.0.1:${WEB_PORT}:8080"]',
      '    env_file: .env.production',
      // busybox httpd as PID 1 ignores SIGTERM: without this each stop waits 10 s for the kill.
      '    stop_signal: SIGKILL',
      '',
    ].join('\n'),
    Containerfile: [`FROM ${baseImage}`, 'COPY www /www', ...(options.copyMissing ? ['COPY does-not-exist /nowhere'] : []), ...start, ''].join('\n'),
    'www/index.html': options.noIndex ? null : 'app\n',
    'www/healthz': body,
    ...options.files,
  };
}
