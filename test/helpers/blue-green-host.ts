import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GIT_REF_PATTERN } from '../../lib/config/git-ref';
import { GitFixture } from './git-fixture';
import { freePort, runHostScript, type ScriptResult } from './host-scripts';
import { type Nginx, startNginx } from './nginx';
import { buildBusyboxImage, podmanEnv, removePodmanProject, strictPodmanCompose } from './podman';
import { busyboxRelease } from './release-host';

/*
 * One host as the blue/green tests and `npm run bench:deploy` use it: a git origin holding
 * releases of a busybox httpd app (podman-compose, the port from WEB_PORT), Debian's nginx in front
 * on its own prefix, state and audit log on disk, and the settings deploy.sh and rollback.sh need.
 * nginx sends /public-check to the app's /public.html: a release without that page passes its
 * smoke on its own port and fails it through nginx (a proxy-path mistake, what the second smoke
 * after the switch is for).
 */

/** The releases every host holds, by tag. */
export const RELEASES: Readonly<Record<string, { readonly body: string; readonly publicPage?: boolean; readonly listenPort?: number }>> = {
  v1: { body: 'release v1' },
  v2: { body: 'release v2' },
  'public-fails': { body: 'public smoke fails', publicPage: false },
  'no-answer': { body: 'never healthy', listenPort: 9999 },
  v3: { body: 'release v3' },
};

export interface BlueGreenHost {
  readonly root: string;
  readonly env: Record<string, string>;
  readonly nginx: Nginx;
  readonly project: string;
  readonly stateFile: string;
  readonly auditLog: string;
  /** The MemAvailable the scripts read (a file standing in for /proc/meminfo). */
  setMemoryMb(mb: number): void;
  deploy(ref: string, extra?: Record<string, string>): Promise<ScriptResult>;
  rollback(extra?: Record<string, string>): Promise<ScriptResult>;
  /** Container ids running in one colour's Compose project (`''` when none). */
  running(colour: 'blue' | 'green'): string;
  /** Stops nginx, removes every container, image and file of this host. */
  remove(): void;
}

/** A release of the test app with the pages its smoke plan checks (/public.html only through nginx). */
function releaseFiles(baseImage: string, body: string, options: { publicPage?: boolean; listenPort?: number }): Record<string, string | null> {
  return busyboxRelease(baseImage, `${body}\n`, {
    listenPort: options.listenPort,
    // On a colour's own port /public-check is this file; through nginx it is /public.html.
    files: { 'www/public-check': 'ok\n', 'www/public.html': options.publicPage === false ? null : 'ok\n' },
  });
}

/**
 * Sets up the host. `inPlace`: the old path (BLUE_GREEN=false), the release on one port that nginx
 * proxies to, smoked through nginx.
 */
export async function setUpBlueGreenHost(options: { inPlace?: boolean; name?: string } = {}): Promise<BlueGreenHost> {
  const suffix = `${process.pid}${Math.floor(Math.random() * 1e6)}`;
  const project = `${options.name ?? 'hostrtbg'}${suffix}`;
  const baseImage = `localhost/${project}-busybox`;
  const appImage = `localhost/${project}-app:latest`;
  const root = mkdtempSync('/tmp/hostrt-bluegreen-');
  const stateDir = join(root, 'state');
  const meminfo = join(root, 'meminfo');
  const fixture = new GitFixture(join(root, 'git'));
  const podman = podmanEnv(join(root, 'podman'));
  buildBusyboxImage(baseImage, root, podman);
  for (const [tag, release] of Object.entries(RELEASES)) fixture.commit(releaseFiles(baseImage, release.body, release), tag, tag);
  fixture.cloneTo();
  writeFileSync(join(fixture.checkout, '.env.production'), 'SECRET=1\n', { mode: 0o600 });
  const [bluePort, greenPort, nginxPort, legacyPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const nginx = startNginx(join(root, 'nginx'), {
    port: nginxPort,
    upstreamName: 'hostrt_app',
    initialUpstreamPort: legacyPort,
    locations: '        location = /public-check {\n            proxy_pass http://hostrt_app/public.html;\n        }',
  });
  const smokePlan = join(root, 'smoke.json');
  writeFileSync(
    smokePlan,
    JSON.stringify({
      checks: [
        { name: 'health', method: 'GET', path: '/healthz', headers: {}, auth: false, expectStatus: '200', json: [] },
        { name: 'public-check', method: 'GET', path: '/public-check', headers: {}, auth: false, expectStatus: '2xx', json: [] },
      ],
    }),
  );
  const setMemoryMb = (mb: number) =>
    writeFileSync(meminfo, `MemTotal:        4000000 kB\nMemFree:          100000 kB\nMemAvailable:   ${String(mb * 1024).padStart(8)} kB\n`);
  setMemoryMb(4000);
  const env: Record<string, string> = {
    ...podman,
    ...nginx.env,
    APP_NAME: 'hostrt',
    ENV_NAME: 'test',
    APP_DIR: fixture.checkout,
    STATE_DIR: stateDir,
    COMPOSE_CMD: strictPodmanCompose(root),
    COMPOSE_PROJECT: project,
    COMPOSE_FILE: 'compose.yml',
    // podman-compose 1.0 has no `config`; --dry-run parses the file. Nor does `up -d` recreate changed containers.
    COMPOSE_CONFIG_ARGS: '--dry-run ps',
    COMPOSE_PULL_ARGS: '',
    COMPOSE_UP_ARGS: 'up -d --force-recreate',
    CONTAINER_CMD: 'podman',
    HEALTH_URL: `http://127.0.0.1:${legacyPort}/healthz`,
    HEALTH_TIMEOUT: '30',
    HEALTH_INTERVAL: '0.2',
    MIN_FREE_MB: '1',
    DISK_PATHS: root,
    DEPLOY_ACTOR: 'jest',
    WEB_IMAGE: appImage,
    WEB_PORT: String(legacyPort),
    GIT_REF_PATTERN,
    SMOKE_PLAN: smokePlan,
    // In place the release's own port is the one nginx serves: smoke it through nginx.
    SMOKE_BASE_URL: options.inPlace ? nginx.url : `http://127.0.0.1:${legacyPort}`,
    BLUE_GREEN: options.inPlace ? 'false' : 'true',
    BLUE_PORT: String(bluePort),
    GREEN_PORT: String(greenPort),
    COLOUR_PORT_VAR: 'WEB_PORT',
    PUBLIC_SMOKE_URL: nginx.url,
    DRAIN_SECONDS: '1',
    MEMINFO_FILE: meminfo,
    COLOUR_MEMORY_NEED_MB: '512',
  };
  const podmanOptions = { env: { ...process.env, ...podman } };
  return {
    root,
    env,
    nginx,
    project,
    stateFile: join(stateDir, 'deploy_state.json'),
    auditLog: join(stateDir, 'audit.log'),
    setMemoryMb,
    deploy: (ref, extra = {}) => runHostScript('deploy.sh', [ref], { ...env, ...extra }),
    rollback: (extra = {}) => runHostScript('rollback.sh', [], { ...env, ...extra }),
    running: (colour) =>
      execFileSync('podman', ['ps', '-q', '--filter', `label=com.docker.compose.project=${project}-${colour}`], podmanOptions)
        .toString()
        .trim(),
    remove() {
      nginx.stop();
      for (const colour of ['blue', 'green']) removePodmanProject(`${project}-${colour}`, [], podman);
      removePodmanProject(project, [appImage, baseImage], podman);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
