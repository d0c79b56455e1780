import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Debian's nginx run from its own prefix on a loopback port, as the host's nginx fronts the app:
 * the site proxies to an upstream defined in an include file that switch.sh rewrites. Its pid,
 * logs and temp paths live under the prefix, so a test needs no system nginx.
 */

export interface NginxOptions {
  /** Port nginx listens on (127.0.0.1). */
  readonly port: number;
  /** Upstream name the site proxies to (NGINX_UPSTREAM_NAME). */
  readonly upstreamName: string;
  /** The first upstream: nginx refuses to start without one. */
  readonly initialUpstreamPort: number;
  /** Extra `location` blocks placed before the catch-all one. @default - none */
  readonly locations?: string;
}

export interface Nginx {
  readonly prefix: string;
  readonly url: string;
  /** The settings switch.sh needs to drive this nginx. */
  readonly env: Record<string, string>;
  /** The shell words that start this nginx (what the unit's ExecStart runs on the host). */
  readonly startCommand: string;
  /** The shell line that makes this nginx die: SIGKILL to its master and the master's workers (a crash, the OOM killer). */
  readonly killCommand: string;
  stop(): void;
  /** nginx dies (`killCommand`); returns once the master is gone. */
  kill(): void;
  /** Starts nginx again, as it is (no pre-start step: see startAsSystemd in ./nginx-boot.ts). */
  start(): void;
  /** Whether the master recorded in the pid file is running. */
  running(): boolean;
}

/** Starts nginx under `prefix`; `stop()` quits it (graceful) and waits for the master to go. */
export function startNginx(prefix: string, options: NginxOptions): Nginx {
  for (const dir of ['logs', 'tmp', 'conf']) mkdirSync(join(prefix, dir), { recursive: true });
  const conf = join(prefix, 'conf/nginx.conf');
  const upstreamFile = join(prefix, 'conf/upstream.conf');
  const pidFile = join(prefix, 'logs/nginx.pid');
  writeFileSync(upstreamFile, `upstream ${options.upstreamName} {\n    server 127.0.0.1:${options.initialUpstreamPort};\n}\n`);
  writeFileSync(
    conf,
    [
      'worker_processes 1;',
      `pid ${pidFile};`,
      `error_log ${join(prefix, 'logs/error.log')} warn;`,
      'events { worker_connections 256; }',
      'http {',
      '    access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path ${join(prefix, 'tmp', t)};`),
      `    include ${upstreamFile};`,
      '    server {',
      `        listen 127.0.0.1:${options.port};`,
      options.locations ?? '',
      '        location / {',
      `            proxy_pass http://${options.upstreamName};`,
      '        }',
      '    }',
      '}',
      '',
    ].join('\n'),
  );
  const base = ['-p', prefix, '-c', conf, '-e', join(prefix, 'logs/error.log')];
  execFileSync('nginx', base, { stdio: 'pipe' });
  const masterPid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0);
  // Running, not a zombie: the container's PID 1 may never reap a killed master.
  const alive = (pid: number) => {
    try {
      return pid > 0 && readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0] !== 'Z';
    } catch {
      return false;
    }
  };
  // Only this nginx's own processes: the master named by its pid file and that master's workers,
  // listed first and killed after it (a master that sees a worker die starts another one).
  const killCommand = [
    `master=$(cat '${pidFile}' 2>/dev/null)`,
    'if [ -n "$master" ]; then',
    '  workers=$(pgrep -P "$master")',
    '  kill -9 "$master" 2>/dev/null',
    '  [ -z "$workers" ] || kill -9 $workers 2>/dev/null',
    '  for pid in $master $workers; do while [ -e "/proc/$pid" ] && [ "$(sed \'s/^.*) //; s/ .*//\' "/proc/$pid/stat" 2>/dev/null)" != Z ]; do sleep 0.02; done; done',
    // The dead master stays a zombie here (this container's PID 1 reaps nothing), and a signal to a
    // zombie succeeds: `nginx -s reload` would take it for a live nginx. On a host systemd reaps it
    // and the reload fails; without the pid file it fails here too.
    `  rm -f '${pidFile}'`,
    'fi',
    'true',
  ]
    .join('; ')
    .replace('then;', 'then');
  return {
    prefix,
    url: `http://127.0.0.1:${options.port}`,
    startCommand: `nginx ${base.join(' ')}`,
    killCommand,
    kill() {
      execFileSync('sh', ['-c', killCommand], { stdio: 'pipe' });
    },
    start() {
      execFileSync('nginx', base, { stdio: 'pipe' });
    },
    running() {
      return alive(masterPid());
    },
    env: {
      NGINX_UPSTREAM_FILE: upstreamFile,
      NGINX_UPSTREAM_NAME: options.upstreamName,
      NGINX_TEST_CMD: `nginx -q -t ${base.join(' ')}`,
      NGINX_RELOAD_CMD: `nginx ${base.join(' ')} -s reload`,
      NGINX_PID_FILE: pidFile,
    },
    stop() {
      if (!existsSync(pidFile)) return;
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      try {
        execFileSync('nginx', [...base, '-s', 'quit'], { stdio: 'pipe' });
      } catch {
        // already gone
      }
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        execFileSync('sleep', ['0.05']);
      }
      process.kill(pid, 'SIGKILL');
    },
  };
}
