import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GIT_REF_PATTERN } from '../../lib/config/git-ref';
import { GitFixture } from './git-fixture';
import { freePort, httpBody, runHostScript, type ScriptResult } from './host-scripts';
import { type Nginx, startNginx } from './nginx';
import { type PreStart, startAsSystemd, testPreStart } from './nginx-boot';
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

export type Colour = 'blue' | 'green';

/** A release serving on one colour, as a test's GIVEN names it. */
export interface ServingRelease {
  /** A tag of RELEASES. */
  readonly ref: string;
  readonly colour: Colour;
}

export interface BlueGreenHost {
  readonly root: string;
  readonly env: Record<string, string>;
  readonly nginx: Nginx;
  readonly project: string;
  readonly stateFile: string;
  readonly auditLog: string;
  /** The commit of each release of RELEASES, by tag. */
  readonly commits: Readonly<Record<string, string>>;
  /** The tag of RELEASES whose commit the state file records as current (undefined: none recorded). */
  recordedTag(): string | undefined;
  /** nginx's pre-start step on the host (the first boot's drop-in), for this host's paths. */
  readonly preStart: PreStart;
  /** Starts nginx as systemd does on the host: the drop-in's pre-start step, then nginx. */
  startNginxAsSystemd(): Promise<void>;
  /** The MemAvailable the scripts read (a file standing in for /proc/meminfo). */
  setMemoryMb(mb: number): void;
  deploy(ref: string, extra?: Record<string, string>): Promise<ScriptResult>;
  /**
   * Brings the host to the state a test starts from, whatever ran before it: nothing deployed
   * (`null`: no containers, no state, nginx on the pre-blue/green upstream), or `serving` running
   * alone on its colour behind nginx, recorded as current with `previous` (a tag) as the rollback
   * target. Deploys only when what serves differs.
   */
  given(serving: ServingRelease | null, previous?: string): Promise<void>;
  rollback(extra?: Record<string, string>): Promise<ScriptResult>;
  /** Container ids running in one colour's Compose project (`''` when none). */
  running(colour: Colour): string;
  /** Container ids running in the in-place Compose project, which blue/green never starts (`''` when none). */
  runningInPlace(): string;
  /** Stops nginx, removes every container, image and file of this host. */
  remove(): void;
}

/** A release of the test app with the pages its smoke plan checks (/public.html only through nginx). */
function releaseFiles(baseImage: string, body: string, options: { publicPage?: boolean; listenPort?: number }): Record<string, string | null> {
  return busyboxRelease(baseImage, `${body}\n`, {
    // The app refuses to serve with a ROTATED_KEY starting "rejected" (a bad secret value): it only sleeps.
    entrypoint: [
      '/bin/busybox',
      'sh',
      '-c',
      `case "$ROTATED_KEY" in rejected*) exec /bin/busybox sleep 3600 ;; esac; exec /bin/busybox httpd -f -p ${options.listenPort ?? 8080} -h /www`,
    ],
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
  const commits: Record<string, string> = {};
  for (const [tag, release] of Object.entries(RELEASES)) commits[tag] = fixture.commit(releaseFiles(baseImage, release.body, release), tag, tag);
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
  const stateFile = join(stateDir, 'deploy_state.json');
  const deploy = (ref: string, extra: Record<string, string> = {}) => runHostScript('deploy.sh', [ref], { ...env, ...extra });
  const runningIn = (composeProject: string) =>
    execFileSync('podman', ['ps', '-q', '--filter', `label=com.docker.compose.project=${composeProject}`], podmanOptions)
      .toString()
      .trim();
  const running = (colour: Colour) => runningIn(`${project}-${colour}`);
  const initialUpstream = readFileSync(nginx.env.NGINX_UPSTREAM_FILE, 'utf8');
  const other = (colour: Colour): Colour => (colour === 'blue' ? 'green' : 'blue');

  /** Nothing deployed: both colours and the in-place project stopped, no state, nginx on its first upstream. */
  function reset(): void {
    for (const p of [`${project}-blue`, `${project}-green`, project]) removePodmanProject(p, [], podman);
    for (const name of existsSync(stateDir) ? readdirSync(stateDir) : []) rmSync(join(stateDir, name), { recursive: true, force: true });
    writeFileSync(nginx.env.NGINX_UPSTREAM_FILE, initialUpstream);
    execFileSync('sh', ['-c', nginx.env.NGINX_RELOAD_CMD], { stdio: 'pipe' });
  }

  async function serves({ ref, colour }: ServingRelease): Promise<boolean> {
    if (!existsSync(stateFile) || existsSync(join(stateDir, 'in_progress'))) return false;
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    const head = execFileSync('git', ['-C', fixture.checkout, 'rev-parse', 'HEAD']).toString().trim();
    return (
      state.servingColour === colour &&
      state.current?.commit === commits[ref] &&
      head === commits[ref] &&
      running(colour) !== '' &&
      running(other(colour)) === '' &&
      runningIn(project) === '' &&
      (await httpBody(`${nginx.url}/healthz`)) === `200 ${RELEASES[ref].body}`
    );
  }

  async function given(serving: ServingRelease | null, previous?: string): Promise<void> {
    setMemoryMb(4000);
    // An earlier test may have left nginx dead (a fault it injected).
    if (!nginx.running()) nginx.start();
    if (serving === null) return reset();
    if (!(await serves(serving))) {
      reset();
      // The first deploy starts blue; deploying the same commit again starts the other colour.
      for (const _ of serving.colour === 'blue' ? [1] : [1, 2]) {
        const result = await deploy(serving.ref);
        if (result.code !== 0) throw new Error(`setup: deploying ${serving.ref} failed (exit ${result.code}): ${result.stderr}`);
      }
      if (!(await serves(serving))) throw new Error(`setup: ${serving.ref} does not serve on ${serving.colour} after deploying it`);
    }
    // The state deploy.sh wrote, with the rollback target the GIVEN names (a repeated deploy of
    // the same commit records itself as previous).
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    state.previous = previous === undefined ? null : { ...state.current, ref: previous, commit: commits[previous] };
    writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
  }

  const preStart = testPreStart({
    appName: 'hostrt',
    stateFile,
    stateDir,
    upstreamFile: nginx.env.NGINX_UPSTREAM_FILE,
    upstreamName: nginx.env.NGINX_UPSTREAM_NAME,
  });
  return {
    root,
    env,
    nginx,
    project,
    stateFile,
    auditLog: join(stateDir, 'audit.log'),
    commits,
    recordedTag() {
      if (!existsSync(stateFile)) return undefined;
      const commit = JSON.parse(readFileSync(stateFile, 'utf8')).current?.commit;
      return Object.keys(commits).find((tag) => commits[tag] === commit);
    },
    preStart,
    async startNginxAsSystemd() {
      const step = await startAsSystemd(nginx, preStart);
      if (step.code !== 0) throw new Error(`nginx's pre-start step failed (exit ${step.code}): ${step.stderr}`);
    },
    setMemoryMb,
    deploy,
    given,
    rollback: (extra = {}) => runHostScript('rollback.sh', [], { ...env, ...extra }),
    running,
    runningInPlace: () => runningIn(project),
    remove() {
      nginx.stop();
      for (const colour of ['blue', 'green']) removePodmanProject(`${project}-${colour}`, [], podman);
      removePodmanProject(project, [appImage, baseImage], podman);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
