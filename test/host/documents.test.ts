import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lazy, Stack } from 'aws-cdk-lib';
import { gunzipSync, gzipSync } from 'fflate';
import { environmentsOf, type NamedEnvironment } from '../../lib/config';
import type { HostDocumentSpec, HostOperation } from '../../lib/host-runtime/document-spec';
import {
  GIT_REF_PATTERN,
  HEREDOC_END,
  hostDocumentSpecs,
  hostSettings,
  nginxUpstreamName,
  readableRunCommand,
  stagedFiles,
  stagedSettings,
} from '../../lib/host-runtime/documents';
import { OUTCOME_MARKER, OUTCOME_PROLOGUE, parseOutcome } from '../../lib/host-runtime/outcome';
import { hostScript as hostScriptText, shippedScript, withoutCommentLines } from '../../lib/host-runtime/scripts';
import { smokePlan } from '../../lib/smoke/plan';
import { configWith, shippedConfig } from '../helpers/config-fixtures';
import { renderedDocument } from '../helpers/documents';
import { GitFixture } from '../helpers/git-fixture';
import { BAD_GIT_REFS, GOOD_GIT_REFS } from '../helpers/git-refs';
import { hostScriptsDir, runCommand } from '../helpers/host-scripts';
import { expectOutcome } from '../helpers/outcomes';

const ALL_OPERATIONS: Record<HostOperation, string> = {
  deploy: 'deploy.sh',
  rollback: 'rollback.sh',
  status: 'status.sh',
  backup: 'backup.sh',
  'restore-drill': 'restore-drill.sh',
  tls: 'tls.sh',
  firewall: 'firewall.sh',
  secrets: 'secrets.sh',
  restore: 'restore.sh',
};

/** The scripts lib.sh brings into every document: state_file.py, which reads and writes the state file, and the module it imports. */
const LIB = ['lib.sh', 'state_file.py', 'subcommands.py'];

/** What deploy and rollback carry: they change releases the same way (release.sh). */
const RELEASE = [...LIB, 'release.sh', 'smoke.sh', 'smoke.py', 'switch.sh', 'nginx-upstream.sh', 'secrets-lib.sh', 'render_env_file.py', 'smoke.json'];

/**
 * What each document installs beside its script: every script that one sources or runs, and theirs
 * (release.sh changes releases, smoke.sh verifies them with smoke.py, secrets-lib.sh renders the env
 * file with render_env_file.py; switch.sh for the serving colour, with nginx-upstream.sh for its
 * upstream include; backup-lib.sh for backups and restores, with backup_objects.py for the objects
 * in S3; backup_archive.py for the manifest inside an archive), the modules the Python programs
 * import, and nothing else.
 */
const CARRIED: Record<HostOperation, string[]> = {
  deploy: RELEASE,
  rollback: RELEASE,
  status: [...LIB, 'switch.sh', 'nginx-upstream.sh', 'status_report.py'],
  backup: [...LIB, 'backup-lib.sh', 'backup_objects.py', 'backup_archive.py', 'backup-metric.sh'],
  'restore-drill': [...LIB, 'backup-lib.sh', 'backup_objects.py', 'backup_archive.py'],
  tls: [...LIB, 'switch.sh', 'nginx-upstream.sh'],
  firewall: LIB,
  secrets: [...LIB, 'switch.sh', 'nginx-upstream.sh', 'secrets-lib.sh', 'render_env_file.py'],
  restore: [...LIB, 'backup-lib.sh', 'backup_objects.py', 'switch.sh', 'nginx-upstream.sh', 'backup_archive.py'],
};

const config = shippedConfig();
const prod = environmentsOf(config).find((e) => e.name === 'prod') as NamedEnvironment;
const specs = hostDocumentSpecs(config.app, prod, { backupBucketName: 'auraxis-prod-backups' });
const spec = (operation: HostOperation) => specs.find((s) => s.operation === operation) as HostDocumentSpec;

/** The files a runCommand stages, by target path: here-documents, scripts decoded (gzip'd, base64'd). */
function embedded(s: HostDocumentSpec): Record<string, string> {
  const files: Record<string, string> = {};
  const lines = s.runCommand;
  for (let i = 0; i < lines.length; i++) {
    const plain = /^cat > "\$stage\/(.+)" <<'(.+)'$/.exec(lines[i]);
    const packed = /^base64 -d <<'(.+)' \| gzip -dc > "\$stage\/(.+)"$/.exec(lines[i]);
    if (!plain && !packed) continue;
    const end = lines.indexOf(plain ? plain[2] : (packed as RegExpExecArray)[1], i + 1);
    const body = lines.slice(i + 1, end);
    if (plain) files[plain[1]] = `${body.join('\n')}\n`;
    else files[(packed as RegExpExecArray)[2]] = Buffer.from(gunzipSync(Buffer.from(body.join(''), 'base64'))).toString('utf8');
    i = end;
  }
  return files;
}

const rendered = renderedDocument;

test('one document per host operation, each running its own reviewed script', () => {
  expect(specs.map((s) => s.operation).sort()).toEqual(Object.keys(ALL_OPERATIONS).sort());
  for (const s of specs) {
    expect(Object.keys(embedded(s)).sort()).toEqual([ALL_OPERATIONS[s.operation], ...CARRIED[s.operation], 'host.env'].sort());
    // What the picture and the checksum list read is what is written.
    expect(stagedFiles(s.runCommand)).toEqual(Object.keys(embedded(s)));
    expect(s.runCommand).toContain(`files='${stagedFiles(s.runCommand).join(' ')}'`);
    expect(stagedSettings(s.runCommand)).toEqual(hostSettings(config.app, prod, { backupBucketName: 'auraxis-prod-backups' }));
    expect(s.runCommand.at(-1)).toContain(`"$dir/${ALL_OPERATIONS[s.operation]}"`);
    expect(s.timeoutSeconds).toBeGreaterThan(0);
  }
});

test('every script a carried script sources or runs by $HOST_SCRIPT_DIR is carried with it', () => {
  for (const s of specs) {
    const files = embedded(s);
    for (const [name, text] of Object.entries(files)) {
      // systemd units name the operation's own script (ExecStart=$HOST_SCRIPT_DIR/backup.sh run).
      const named = [...text.matchAll(/\$HOST_SCRIPT_DIR\/([\w.-]+\.sh)/g)].map((m) => m[1]);
      for (const other of named) expect({ document: s.operation, script: name, uses: other, carried: other in files }).toMatchObject({ carried: true });
    }
  }
});

test("scripts are staged byte for byte as reviewed (gzip'd and base64'd, each checked against its sha256 before anything runs); nothing staged could end a here-document, and no line reads as an SSM parameter but the parameters", () => {
  for (const s of specs) {
    const files = embedded(s);
    for (const [name, text] of Object.entries(files)) {
      if (name === 'host.env' || name === 'smoke.json') continue;
      expect(text).toBe(readFileSync(join(hostScriptsDir, name), 'utf8'));
      const sum = execFileSync('sha256sum', [join(hostScriptsDir, name)])
        .toString()
        .split(' ')[0];
      expect(s.runCommand).toContain(`${sum}  ${name}`);
    }
    for (const name of ['host.env', 'smoke.json']) if (files[name]) expect(files[name].split('\n')).not.toContain(HEREDOC_END);
    expect(s.runCommand.filter((line) => line.includes('{{') && !/\{\{ \w+ \}\}/.test(line))).toEqual([]);
  }
});

test('the review reads a document as text: readableRunCommand shows each staged script as its reviewed text', () => {
  const text = readableRunCommand(spec('deploy').runCommand);
  expect(text).toContain(`cat > "$stage/deploy.sh" <<'${HEREDOC_END}'\n${hostScriptText('deploy.sh').trimEnd()}\n${HEREDOC_END}`);
  expect(text).not.toMatch(/base64 -d <<'/);
});

test('every parameter the script references is declared with a default and an allowedPattern, and vice versa', () => {
  for (const s of specs) {
    const referenced = new Set([...s.runCommand.join('\n').matchAll(/\{\{ (\w+) \}\}/g)].map((m) => m[1]));
    expect([...referenced].sort()).toEqual(Object.keys(s.parameters).sort());
    for (const [name, parameter] of Object.entries(s.parameters)) {
      expect(parameter.allowedPattern).toBeDefined();
      // Only the restore's backup and confirmation are required: a live restore never runs on defaults.
      if (s.operation === 'restore' && ['backup', 'confirm'].includes(name)) expect(parameter.default).toBeUndefined();
      else expect(parameter.default).toMatch(new RegExp(parameter.allowedPattern as string));
      expect(parameter.description.length).toBeGreaterThan(5);
      // Parameters only ever appear inside single quotes, which the patterns keep out.
      for (const line of s.runCommand.filter((l) => l.includes(`{{ ${name} }}`))) expect(line).toMatch(new RegExp(`'[^']*\\{\\{ ${name} \\}\\}[^']*'`));
    }
  }
  expect(Object.keys(spec('deploy').parameters).sort()).toEqual(['allowMovedTag', 'gitRef', 'requestedBy']);
  expect(spec('deploy').parameters.gitRef.default).toBe(prod.gitRef);
  expect(Object.keys(spec('tls').parameters)).toEqual(['dryRun']);
  expect(Object.keys(spec('firewall').parameters).sort()).toEqual(['action', 'dryRun']);
  expect(Object.keys(spec('restore').parameters).sort()).toEqual(['backup', 'confirm', 'requestedBy']);
});

test('restore document: refuses unless confirm is the environment name, before restore.sh runs', async () => {
  const dir = mkdtempSync('/tmp/hostrt-restore-doc-');
  try {
    const run = (confirm: string) =>
      runCommand('bash', ['-c', rendered(spec('restore'), { backup: 'latest', confirm })], {
        HOST_LIB_DIR: dir,
        PATH: process.env.PATH as string,
        APP_NAME: 'x',
      });
    const refused = await run('dev');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('restore refused: confirm must be prod');
    // The pattern keeps anything but latest or a key of the form <env>/<app>-<env>-<stamp>.tar.gz out.
    const pattern = new RegExp(spec('restore').parameters.backup.allowedPattern as string);
    expect(['latest', 'prod/auraxis-prod-20261125T150000Z.tar.gz'].every((v) => pattern.test(v))).toBe(true);
    expect(["latest'; rm -rf /", '../x.tar.gz', '-h', 'prod/auraxis-prod-latest.tar.gz'].some((v) => pattern.test(v))).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.each(GOOD_GIT_REFS.filter((ref) => ref.length <= 200))('gitRef allowedPattern accepts %s', (ref) => {
  expect(ref).toMatch(new RegExp(spec('deploy').parameters.gitRef.allowedPattern as string));
});

// The length limit is checked by deploy.sh and the config, not the pattern (see lib/config/git-ref).
test.each(BAD_GIT_REFS.filter((ref) => ref.length <= 200))('gitRef allowedPattern rejects %j', (ref) => {
  expect(ref).not.toMatch(new RegExp(spec('deploy').parameters.gitRef.allowedPattern as string));
});

test('host.env carries the git-ref grammar and the pinned-ref rule to deploy.sh', () => {
  const env = embedded(spec('deploy'))['host.env'];
  expect(env).toContain(`GIT_REF_PATTERN=${GIT_REF_PATTERN}\n`);
  expect(env).toContain('REQUIRE_PINNED_REF=true\n');
});

test('host.env carries the environment settings from the config, schedule included', () => {
  const env = embedded(spec('backup'))['host.env'];
  expect(env).toContain('APP_NAME=auraxis\nENV_NAME=prod\nAPP_DIR=/opt/auraxis\n');
  expect(env).toContain(`BACKUP_SCHEDULE=${prod.backups.schedule}\n`);
  expect(env).toContain('BACKUP_BUCKET=auraxis-prod-backups\nBACKUP_PREFIX=prod/\n');
  expect(env).toContain(`HEALTH_URL=http://127.0.0.1:${config.app.port}${config.app.healthPath}\n`);
  expect(env).toContain(`COMPOSE_FILE=${config.app.composeFile}\nENV_FILE=${config.app.envFile}\n`);
  expect(env).toContain(`DOMAIN=${prod.domain}\nTLS_ENABLED=true\n`);
  const dev = environmentsOf(config).find((e) => e.name === 'dev') as NamedEnvironment;
  expect(embedded(hostDocumentSpecs(config.app, dev, { backupBucketName: 'b' })[0])['host.env']).toContain('TLS_ENABLED=false\n');
});

test('a bucket name token from another stack passes through unresolved', () => {
  const stack = new Stack();
  const token = Lazy.string({ produce: () => 'resolved-bucket' });
  const withToken = hostDocumentSpecs(config.app, prod, { backupBucketName: token });
  // host.env is written last (backup-lib.sh, in the documents that carry it, has a BACKUP_BUCKET= line of its own).
  const line = withToken[0].runCommand.filter((l) => l.startsWith('BACKUP_BUCKET=')).at(-1);
  expect(stack.resolve(line)).toBe('BACKUP_BUCKET=resolved-bucket');
});

test('the shipped copy of a script drops comment lines but keeps here-documents whole, the shebang and shellcheck directives', () => {
  const release = shippedScript('release.sh');
  expect(release.startsWith('#!/usr/bin/env bash\n')).toBe(true);
  expect(release).toContain('# shellcheck disable=SC2034');
  expect(release).not.toContain('# How deploy and rollback change the serving release');
  // A comment inside a here-document is data (a config file's comment here): it stays, to its end.
  const text = [
    '#!/usr/bin/env bash',
    '# gone',
    "cat <<'CONF' >x.conf",
    '# kept: data',
    '  # kept too',
    'CONF',
    '  # gone too',
    'echo "# kept: not a comment"',
  ];
  expect(withoutCommentLines(text.join('\n'))).toBe(
    ['#!/usr/bin/env bash', "cat <<'CONF' >x.conf", '# kept: data', '  # kept too', 'CONF', 'echo "# kept: not a comment"'].join('\n'),
  );
});

test('each document stays under the SSM limit of 64 KB of content', () => {
  for (const s of specs) expect(Buffer.byteLength(JSON.stringify(s))).toBeLessThan(64 * 1024);
});

describe('the rendered documents run', () => {
  const root = mkdtempSync('/tmp/hostrt-docs-');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('status: installs status.sh, lib.sh, state_file.py, subcommands.py, switch.sh, nginx-upstream.sh, status_report.py and host.env, and reports from them (the environment overriding host.env)', async () => {
    // GIVEN a checkout and a state file where the test puts them
    const fixture = new GitFixture(join(root, 'git'));
    const commit = fixture.commit({ 'README.md': 'app\n' }, 'first', 'v1');
    fixture.cloneTo();
    const stateDir = join(root, 'state');
    mkdirSync(stateDir);
    const release = { ref: 'v1', commit, deployedAt: '2024-01-01T00:00:00Z', deployedBy: 'ci', action: 'deploy' };
    writeFileSync(join(stateDir, 'deploy_state.json'), JSON.stringify({ schemaVersion: 1, current: release, previous: null }));

    // WHEN SSM would run the status document with format=json
    const result = await runCommand('sh', ['-c', rendered(spec('status'), { format: 'json' })], {
      HOST_LIB_DIR: join(root, 'lib'),
      APP_DIR: fixture.checkout,
      STATE_DIR: stateDir,
      HEALTH_URL: 'http://127.0.0.1:9/healthz',
      CONTAINER_CMD: 'false',
    });

    // THEN
    expect(result.code).toBe(0);
    const [sum] = readdirSync(join(root, 'lib/status'));
    expect(sum).toMatch(/^[0-9a-f]{64}$/);
    const installed = join(root, 'lib/status', sum);
    expect(
      execFileSync('sh', ['-c', 'cat status.sh lib.sh state_file.py subcommands.py switch.sh nginx-upstream.sh status_report.py host.env | sha256sum'], {
        cwd: installed,
      })
        .toString()
        .split(' ')[0],
    ).toBe(sum);
    expect(readFileSync(join(installed, 'status.sh'), 'utf8')).toBe(hostScriptText('status.sh'));
    expect(readFileSync(join(installed, 'host.env'), 'utf8')).toContain('APP_NAME=auraxis\n');
    // The last stdout line is the outcome marker ops reads from CloudWatch Logs; before it, the JSON.
    expect(result.stdout.trimEnd().split('\n').at(-1)).toBe(`${OUTCOME_MARKER} 0`);
    expect(JSON.parse(parseOutcome(result.stdout).output)).toMatchObject({
      app: 'auraxis',
      environment: 'prod',
      current: { ref: 'v1', commit },
      checkout: { path: fixture.checkout, commit, clean: true, matchesCurrent: true },
      health: { ok: false, httpStatus: null },
      containers: [],
    });

    // A second run reuses the same directory (same content) without rewriting it; a copy edited
    // on the host is refused, never run.
    const mtime = statSync(join(installed, 'status.sh')).mtimeMs;
    const again = await runCommand('sh', ['-c', rendered(spec('status'), { format: 'json' })], {
      HOST_LIB_DIR: join(root, 'lib'),
      APP_DIR: fixture.checkout,
      STATE_DIR: stateDir,
      HEALTH_URL: 'http://127.0.0.1:9/healthz',
      CONTAINER_CMD: 'false',
    });
    expect(again.code).toBe(0);
    expect(statSync(join(installed, 'status.sh')).mtimeMs).toBe(mtime);
    expect(readdirSync(join(root, 'lib/status'))).toEqual([sum]);
    writeFileSync(join(installed, 'status.sh'), 'echo tampered\n');
    const tampered = await runCommand('sh', ['-c', rendered(spec('status'), { format: 'json' })], { HOST_LIB_DIR: join(root, 'lib') });
    expect(tampered.stderr).toContain(`installed copy ${installed} does not match its checksum`);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).not.toContain('tampered');
    expect(parseOutcome(tampered.stdout).exitCode).toBe(1);
  });

  test('status: the script exit code (65, state file not JSON) ends the document and is what its marker reports', async () => {
    const stateDir = join(root, 'bad-state');
    mkdirSync(stateDir);
    writeFileSync(join(stateDir, 'deploy_state.json'), '{not json');
    for (const shell of ['sh', 'bash']) {
      const result = await runCommand(shell, ['-c', rendered(spec('status'), { format: 'json' })], {
        HOST_LIB_DIR: join(root, 'lib-bad'),
        STATE_DIR: stateDir,
        APP_DIR: join(root, 'nowhere'),
        HEALTH_URL: 'http://127.0.0.1:9/healthz',
        CONTAINER_CMD: 'false',
      });
      expect({ shell, code: result.code, outcome: parseOutcome(result.stdout).exitCode }).toEqual({ shell, code: 65, outcome: 65 });
      expectOutcome('status', 65, result, join(stateDir, 'audit.log'));
      expect(result.stdout.trimEnd().split('\n').at(-1)).toBe(`${OUTCOME_MARKER} 65`);
    }
  });

  test('restore: the refusal (exit 2 from the document itself) is reported by the marker', async () => {
    const result = await runCommand('sh', ['-c', rendered(spec('restore'), { backup: 'latest', confirm: 'dev' })], { HOST_LIB_DIR: join(root, 'lib-restore') });
    expect(result.code).toBe(2);
    expect(parseOutcome(result.stdout)).toEqual({ output: '', exitCode: 2 });
  });
});

describe('the outcome marker', () => {
  test('a staged script whose bytes are not the reviewed ones (the document altered) is refused before anything runs (exit 1)', async () => {
    // GIVEN the status document with lib.sh swapped for another gzip'd, base64'd text that decodes fine
    const lines = [...spec('status').runCommand];
    const start = lines.indexOf(`base64 -d <<'${HEREDOC_END}' | gzip -dc > "$stage/lib.sh"`);
    const end = lines.indexOf(HEREDOC_END, start + 1);
    const forged = Buffer.from(gzipSync(Buffer.from('echo forged >&2\n'))).toString('base64');
    lines.splice(start + 1, end - start - 1, forged);
    const root = mkdtempSync('/tmp/hostrt-forged-');
    const marker = join(root, 'forged-ran');
    // WHEN SSM would run it
    const result = await runCommand('sh', ['-c', rendered({ ...spec('status'), runCommand: lines }, { format: 'json' })], {
      HOST_LIB_DIR: join(root, 'forged-lib'),
      STATE_DIR: join(root, 'forged-state'),
      CONTAINER_CMD: `touch ${marker}`,
    });
    // THEN
    expect(result.stderr).toContain('the staged scripts do not match their sha256');
    expect(result.code).toBe(1);
    expect(parseOutcome(result.stdout).exitCode).toBe(1);
    expect(result.stderr).not.toContain('forged');
    expect(readdirSync(join(root, 'forged-lib/status')).filter((d) => !d.startsWith('.'))).toEqual([]);
    expect(existsSync(marker)).toBe(false);
    rmSync(root, { recursive: true, force: true });
  });

  test('every document starts with the prologue, and its own shell never execs (the trap must outlive the script)', () => {
    for (const s of specs) {
      expect(s.runCommand.slice(0, OUTCOME_PROLOGUE.length)).toEqual(OUTCOME_PROLOGUE);
      // Lines of the document's shell: everything outside the embedded scripts.
      const own = s.runCommand.filter((line, i) => {
        const open = s.runCommand.slice(0, i).filter((l) => /^cat > .* <<'/.test(l)).length;
        const closed = s.runCommand.slice(0, i + 1).filter((l) => l === HEREDOC_END).length;
        return open === closed && line !== HEREDOC_END;
      });
      expect(own.filter((line) => /(^|[;&|]\s*|\bthen\s+|\belse\s+)exec\b/.test(line))).toEqual([]);
    }
  });

  test.each(['sh', 'bash'])('%s: 0 on success, the code of exit N, of a failing command under set -e, and the output kept before it', async (shell) => {
    const body = (lines: string) => [...OUTCOME_PROLOGUE, 'set -eu', lines].join('\n');
    const ok = await runCommand(shell, ['-c', body('echo built; printf "no newline"')]);
    expect({ code: ok.code, ...parseOutcome(ok.stdout) }).toEqual({ code: 0, output: 'built\nno newline\n', exitCode: 0 });
    const exited = await runCommand(shell, ['-c', body('echo partial; exit 4')]);
    expect({ code: exited.code, ...parseOutcome(exited.stdout) }).toEqual({ code: 4, output: 'partial\n', exitCode: 4 });
    const failed = await runCommand(shell, ['-c', body("bash -c 'exit 3'; echo never")]);
    expect({ code: failed.code, ...parseOutcome(failed.stdout) }).toEqual({ code: 3, output: '', exitCode: 3 });
    // Positive control: without the prologue there is no marker, and ops could not claim an outcome.
    const bare = await runCommand(shell, ['-c', 'set -eu; echo done']);
    expect(parseOutcome(bare.stdout)).toEqual({ output: 'done\n' });
  });

  test.each(['sh', 'bash'])('%s: TERM to the process group (an operator kill, a shutdown) is still reported, as 143', async (shell) => {
    const dir = mkdtempSync('/tmp/hostrt-term-');
    try {
      const started = join(dir, 'started');
      // Its own process group, as the SSM agent runs a command; TERM goes to the whole group.
      const child = spawn(shell, ['-c', [...OUTCOME_PROLOGUE, 'set -eu', `bash -c 'touch "${started}"; exec sleep 30'`, 'echo never'].join('\n')], {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      while (!readdirSync(dir).includes('started')) await new Promise((r) => setTimeout(r, 20));
      process.kill(-(child.pid as number), 'SIGTERM');
      expect(await exited).toBe(143);
      expect(parseOutcome(stdout)).toEqual({ output: '', exitCode: 143 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('deploy and rollback carry the smoke plan rendered from config, and the migration and smoke settings', () => {
  const deploy = spec('deploy');
  expect(JSON.parse(embedded(deploy)['smoke.json'])).toEqual(smokePlan(config.app, prod));
  expect(embedded(deploy)['host.env']).toContain('MIGRATE_SERVICE=api\nMIGRATE_COMMAND=npx prisma migrate deploy\n');
  expect(embedded(deploy)['host.env']).toContain('SMOKE_BASE_URL=http://127.0.0.1:3000\n');
});

/** host.env of a document as KEY -> value. */
function settingsOf(s: HostDocumentSpec): Record<string, string> {
  return Object.fromEntries(
    embedded(s)
      ['host.env'].trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

const BLUE_GREEN_KEYS = [
  'BLUE_GREEN',
  'BLUE_PORT',
  'GREEN_PORT',
  'COLOUR_PORT_VAR',
  'COLOUR_SERVICES',
  'SHARED_SERVICES',
  'COLOUR_MEMORY_NEED_MB',
  'PUBLIC_SMOKE_URL',
  'NGINX_UPSTREAM_NAME',
];

test("deploy and rollback carry the blue/green settings of app.blueGreen; tls.sh's site proxies to the same upstream name", () => {
  for (const operation of ['deploy', 'rollback', 'tls'] as const) {
    expect(settingsOf(spec(operation))).toMatchObject({
      BLUE_GREEN: 'true',
      BLUE_PORT: '3001',
      GREEN_PORT: '3002',
      COLOUR_PORT_VAR: 'APP_HOST_PORT',
      COLOUR_SERVICES: 'api',
      SHARED_SERVICES: 'postgres redis',
      COLOUR_MEMORY_NEED_MB: '512',
      // prod serves HTTPS: the smoke after the switch goes through nginx by the public URL.
      PUBLIC_SMOKE_URL: 'https://api.auraxis.com.br',
      NGINX_UPSTREAM_NAME: 'auraxis_app',
      APP_UPSTREAM: 'http://auraxis_app',
    });
  }
  // dev serves HTTP only.
  const dev = environmentsOf(config).find((e) => e.name === 'dev') as NamedEnvironment;
  expect(settingsOf(hostDocumentSpecs(config.app, dev, { backupBucketName: 'b' })[0]).PUBLIC_SMOKE_URL).toBe('http://dev.api.auraxis.com.br');
});

test('an environment that turns blue/green off, or an app without it, renders none of its settings (the in-place restart)', () => {
  const offInProd = configWith((raw) => {
    raw.environments.prod.blueGreen = { enabled: false };
  });
  const noneAtAll = configWith((raw) => {
    delete raw.app.blueGreen;
  });
  for (const c of [offInProd, noneAtAll]) {
    const env = environmentsOf(c).find((e) => e.name === 'prod') as NamedEnvironment;
    for (const s of hostDocumentSpecs(c.app, env, { backupBucketName: 'b' }).filter((d) => ['deploy', 'rollback', 'tls'].includes(d.operation))) {
      const settings = settingsOf(s);
      for (const key of BLUE_GREEN_KEYS) expect(settings).not.toHaveProperty(key);
      expect(settings.APP_UPSTREAM).toBe('http://127.0.0.1:3000');
    }
  }
  // Per environment: dev keeps the app's blue/green while prod turned it off.
  const dev = environmentsOf(offInProd).find((e) => e.name === 'dev') as NamedEnvironment;
  expect(settingsOf(hostDocumentSpecs(offInProd.app, dev, { backupBucketName: 'b' })[0]).BLUE_GREEN).toBe('true');
});

test('the upstream name given to the host is the one switch.sh derives from APP_NAME when run by hand', () => {
  const derived = execFileSync('bash', ['-c', '. ./lib.sh && . ./switch.sh && printf %s "$NGINX_UPSTREAM_NAME"'], {
    cwd: hostScriptsDir,
    env: { PATH: process.env.PATH, APP_NAME: 'my-shop-api', HOST_ENV_FILE: '/nonexistent' },
  }).toString();
  expect(derived).toBe('my_shop_api_app');
  expect(nginxUpstreamName('my-shop-api')).toBe(derived);
});
