import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostScriptsDir, recorderScript, runCommand, runHostScript } from '../helpers/host-scripts';

/*
 * firewall.sh's nftables backend (Amazon Linux 2023 has no ufw). nft and systemctl are recording
 * stand-ins here: the tests assert the generated ruleset and the exact commands. The last block
 * runs the real nft (Debian's nftables package) inside a throwaway network namespace, whose
 * ruleset is its own: this machine's firewall is never touched.
 */

const root = mkdtempSync('/tmp/hostrt-nft-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The table firewall.sh generates for the default FIREWALL_ALLOW, exactly as `nft list table` prints it. */
const WANTED_TABLE = `table inet hostrt_host {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		ct state invalid drop
		icmp type { destination-unreachable, echo-request, time-exceeded, parameter-problem } accept
		icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, echo-request, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept
		udp sport 67 udp dport 68 accept
		ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept
		tcp dport { 80, 443 } accept
	}
}
`;

/** The whole script: our table deleted and recreated in one transaction, nothing else. */
const WANTED_SCRIPT = `#!/usr/sbin/nft -f
# Managed by scripts/host/firewall.sh for hostrt: inbound 80/tcp 443/tcp only. Local edits are overwritten.
# Replaces table inet hostrt_host alone, atomically; every other table (Docker's) is left as it is.
table inet hostrt_host
delete table inet hostrt_host
${WANTED_TABLE}`;

/** AL2023's /etc/sysconfig/nftables.conf as the package ships it: comments only. */
const SHIPPED_BOOT_CONF = '# Uncomment the include statement here to load the default config sample\n#include "/etc/nftables/main.nft"\n';

let counter = 0;
/**
 * A host with stand-ins: nft keeps its one table in a file (`-f` loads the table definition of the
 * script, `list table` prints it, `delete table` removes it) and copies every script it is given;
 * systemctl remembers `enable`. `live` is the table loaded before the run, if any.
 */
function nftHost(options: { live?: string; ufw?: boolean; env?: Record<string, string> } = {}) {
  const dir = join(root, `host-${++counter}`);
  const given = join(dir, 'given');
  mkdirSync(given, { recursive: true });
  const calls = join(dir, 'calls');
  const live = join(dir, 'live');
  if (options.live !== undefined) writeFileSync(live, options.live);
  const nft = join(dir, 'nft');
  writeFileSync(
    nft,
    recorderScript(
      calls,
      `keep() { cp "$2" "${given}/$(ls '${given}' | wc -l)-$1.nft"; }
case "$1" in
  --version) echo 'nftables v1.0.6 (stand-in)' ;;
  list) if [ -f '${live}' ]; then cat '${live}'; else echo 'Error: No such file or directory' >&2; exit 1; fi ;;
  delete) rm -f '${live}' ;;
  -c) keep check "$3"; [ -z "\${NFT_REJECT:-}" ] || { echo "$3:7:1-5: Error: syntax error" >&2; exit 1; } ;;
  -f) keep load "$2"; sed -n '/^table .* {$/,$p' "$2" > '${live}' ;;
  *) echo "stand-in nft: unexpected $*" >&2; exit 2 ;;
esac`,
    ),
    { mode: 0o755 },
  );
  const systemctl = join(dir, 'systemctl');
  writeFileSync(systemctl, recorderScript(calls, `case "$1" in is-enabled) [ -f '${dir}/enabled' ] ;; enable) touch '${dir}/enabled' ;; *) exit 2 ;; esac`), {
    mode: 0o755,
  });
  const ufw = join(dir, 'ufw');
  if (options.ufw) {
    writeFileSync(ufw, recorderScript(calls, `case "$*" in version) echo 'ufw 0.36.2' ;; "status verbose") echo 'Status: inactive' ;; esac`), { mode: 0o755 });
  }
  const bootConf = join(dir, 'sysconfig/nftables.conf');
  mkdirSync(join(dir, 'sysconfig'));
  writeFileSync(bootConf, SHIPPED_BOOT_CONF);
  const rulesFile = join(dir, 'nftables/hostrt-host.nft');
  const env = {
    APP_NAME: 'hostrt',
    STATE_DIR: join(dir, 'state'),
    UFW_CMD: ufw,
    NFT_CMD: nft,
    SYSTEMCTL_CMD: systemctl,
    NFT_RULES_FILE: rulesFile,
    NFT_BOOT_CONF: bootConf,
    FIREWALL_CHECK_URL: '',
    ...options.env,
  };
  return {
    env,
    rulesFile,
    bootConf,
    run: (args: string[], more: Record<string, string> = {}) => runHostScript('firewall.sh', args, { ...env, ...more }),
    calls: (): string[] =>
      existsSync(calls)
        ? readFileSync(calls, 'utf8')
            .trim()
            .split('\n')
            .map((l) => l.trimEnd())
        : [],
    /** The calls that change something: reads (version, list, is-enabled) filtered out. */
    changes(): string[] {
      return this.calls().filter((l) => !/^(nft --version|nft list |systemctl is-enabled |ufw version|ufw status|ufw show)/.test(l));
    },
    /** The scripts given to nft, in order, as [kind, text]. */
    given: (): [string, string][] =>
      readdirSync(given)
        .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10))
        .map((f) => [f.replace(/^\d+-|\.nft$/g, ''), readFileSync(join(given, f), 'utf8')]),
    live: () => (existsSync(live) ? readFileSync(live, 'utf8') : undefined),
    audit: () => readFileSync(join(dir, 'state/audit.log'), 'utf8'),
  };
}

describe('firewall.sh, nftables backend', () => {
  test('apply on a fresh host: the exact table, checked with nft -c before nft -f, then kept for boot', async () => {
    const host = nftHost();
    const result = await host.run(['apply']);
    expect(result.code).toBe(0);
    const next = `${host.rulesFile}.new`;
    expect(host.calls()).toEqual([
      'nft --version',
      'nft list table inet hostrt_host',
      'systemctl is-enabled --quiet nftables.service',
      `nft -c -f ${next}`,
      `nft -f ${next}`,
      'systemctl enable nftables.service',
      'nft list table inet hostrt_host',
    ]);
    // The same script is checked, loaded and kept for boot.
    expect(host.given()).toEqual([
      ['check', WANTED_SCRIPT],
      ['load', WANTED_SCRIPT],
    ]);
    expect(readFileSync(host.rulesFile, 'utf8')).toBe(WANTED_SCRIPT);
    expect(existsSync(next)).toBe(false);
    expect(readFileSync(host.bootConf, 'utf8')).toBe(`${SHIPPED_BOOT_CONF}include "${host.rulesFile}"\n`);
    expect(host.live()).toBe(WANTED_TABLE);
    expect(result.stdout).toBe(WANTED_TABLE);
    expect(host.audit()).toMatch(/op=firewall result=ok .* backend=nftables allow="80\/tcp 443\/tcp" steps=5 message="rules applied"/);
  });

  test('the ruleset: inbound 80 and 443 only with policy drop; no SSH, no output chain, only our table', async () => {
    const host = nftHost();
    expect((await host.run(['apply'])).code).toBe(0);
    const script = readFileSync(host.rulesFile, 'utf8');
    const rules = script.split('\n').filter((l) => l.startsWith('\t\t'));
    expect(rules[0]).toBe('\t\ttype filter hook input priority filter; policy drop;');
    expect(rules.filter((r) => /dport/.test(r) && !/udp sport (67|547)/.test(r))).toEqual(['\t\ttcp dport { 80, 443 } accept']);
    expect(script).not.toMatch(/\b22\b/);
    expect(script).not.toMatch(/chain (output|forward)|hook (output|forward)|flush|ruleset/);
    expect(script.match(/^\tchain \w+/gm)).toEqual(['\tchain input']);
    // Every table the script or a command names is ours.
    const named = [
      ...script.matchAll(/table (\w+ \w+)/g),
      ...host
        .calls()
        .join('\n')
        .matchAll(/table (\w+ \w+)/g),
    ].map((m) => m[1]);
    expect(new Set(named)).toEqual(new Set(['inet hostrt_host']));
  });

  test('a second apply with the live table already equal runs nothing and rewrites nothing', async () => {
    const host = nftHost();
    expect((await host.run(['apply'])).code).toBe(0);
    const before = host.calls().length;
    const mtime = statSync(host.rulesFile).mtimeMs;
    const second = await host.run(['apply']);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('firewall already applied (nftables, table inet hostrt_host): inbound 80/tcp 443/tcp only, outbound allowed');
    expect(host.calls().slice(before)).toEqual(['nft --version', 'nft list table inet hostrt_host', 'systemctl is-enabled --quiet nftables.service']);
    expect(statSync(host.rulesFile).mtimeMs).toBe(mtime);
    expect(readFileSync(host.bootConf, 'utf8').match(/^include /gm)).toHaveLength(1);
  });

  test('a live table that drifted (SSH opened by hand) is replaced as a whole', async () => {
    const drifted = WANTED_TABLE.replace('\t\ttcp dport { 80, 443 } accept', '\t\ttcp dport { 22, 80, 443 } accept');
    const host = nftHost({ live: drifted });
    expect((await host.run(['apply'])).code).toBe(0);
    expect(host.changes()).toEqual([`nft -c -f ${host.rulesFile}.new`, `nft -f ${host.rulesFile}.new`, 'systemctl enable nftables.service']);
    expect(host.live()).toBe(WANTED_TABLE);
  });

  test('live rules in place but the boot file gone: only the file is written, nft is not run', async () => {
    const host = nftHost();
    expect((await host.run(['apply'])).code).toBe(0);
    rmSync(host.rulesFile);
    const before = host.calls().length;
    const result = await host.run(['apply']);
    expect(result.code).toBe(0);
    expect(host.calls().slice(before)).toEqual([
      'nft --version',
      'nft list table inet hostrt_host',
      'systemctl is-enabled --quiet nftables.service',
      'nft list table inet hostrt_host',
    ]);
    expect(readFileSync(host.rulesFile, 'utf8')).toBe(WANTED_SCRIPT);
  });

  test('apply --dry-run prints the script and the commands, and runs and writes nothing', async () => {
    const host = nftHost();
    const result = await host.run(['apply', '--dry-run']);
    expect(result.code).toBe(0);
    const next = `${host.rulesFile}.new`;
    expect(result.stdout).toBe(
      [
        `# ${next} would hold:`,
        WANTED_SCRIPT,
        `nft -c -f ${next}`,
        `nft -f ${next}`,
        `mv ${next} ${host.rulesFile}`,
        `echo 'include "${host.rulesFile}"' >> ${host.bootConf}`,
        'systemctl enable nftables.service',
        '',
      ].join('\n'),
    );
    expect(result.stderr).toContain('dry run: the 5 command(s) above would be run');
    expect(host.changes()).toEqual([]);
    expect(host.given()).toEqual([]);
    expect(existsSync(host.rulesFile)).toBe(false);
    expect(readFileSync(host.bootConf, 'utf8')).toBe(SHIPPED_BOOT_CONF);
  });

  test('when the SSM endpoint stops answering after apply, our table is removed and the script fails; nothing is kept for boot', async () => {
    const host = nftHost({ env: { FIREWALL_CHECK_URL: 'http://127.0.0.1:9/' } });
    const result = await host.run(['apply']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `after applying the rules http://127.0.0.1:9/ no longer answers (the SSM agent needs it); table inet hostrt_host has been removed, and the boot-time rules in ${host.rulesFile} are unchanged`,
    );
    expect(host.changes()).toEqual([`nft -c -f ${host.rulesFile}.new`, `nft -f ${host.rulesFile}.new`, 'nft delete table inet hostrt_host']);
    expect(host.live()).toBeUndefined();
    expect(existsSync(host.rulesFile)).toBe(false);
    expect(existsSync(`${host.rulesFile}.new`)).toBe(false);
    expect(readFileSync(host.bootConf, 'utf8')).toBe(SHIPPED_BOOT_CONF);
    expect(host.audit()).toMatch(
      /result=failed .* backend=nftables checkUrl=http:\/\/127\.0\.0\.1:9\/ message="outbound check failed after apply; table inet hostrt_host removed"/,
    );
  });

  test('when the SSM check fails and our table existed before, the previous table is put back', async () => {
    const previous = WANTED_TABLE.replace('\t\ttcp dport { 80, 443 } accept', '\t\ttcp dport 80 accept');
    const host = nftHost({ live: previous, env: { FIREWALL_CHECK_URL: 'http://127.0.0.1:9/' } });
    const result = await host.run(['apply']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('table inet hostrt_host has been put back as it was');
    expect(host.live()).toBe(previous);
    const [, , restore] = host.given();
    expect(restore).toEqual(['load', expect.stringContaining(`table inet hostrt_host\ndelete table inet hostrt_host\n${previous}`)]);
  });

  test('rules nft -c rejects are never loaded', async () => {
    const host = nftHost();
    const result = await host.run(['apply'], { NFT_REJECT: '1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("nft rejected the generated rules ('nft -c -f' failed, see above); nothing was changed");
    expect(host.changes()).toEqual([`nft -c -f ${host.rulesFile}.new`]);
    expect(host.live()).toBeUndefined();
    expect(existsSync(host.rulesFile)).toBe(false);
  });

  test('FIREWALL_ALLOW is the one list of ports: sorted per protocol, a bare port is tcp and udp; bad entries are refused', async () => {
    const host = nftHost({ env: { FIREWALL_ALLOW: '443/tcp 80/tcp 8080 53/udp' } });
    expect((await host.run(['apply'])).code).toBe(0);
    expect(host.live()).toContain('\t\ttcp dport { 80, 443, 8080 } accept\n\t\tudp dport { 53, 8080 } accept\n\t}\n}\n');

    const bad = await host.run(['apply'], { FIREWALL_ALLOW: '80/tcp 70000/tcp' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("FIREWALL_ALLOW entry '70000/tcp' is not <port>[/tcp|/udp] with a port from 1 to 65535");
  });

  test('auto picks nftables when ufw is absent and ufw when it is installed; an explicit backend wins', async () => {
    const noUfw = nftHost();
    expect((await noUfw.run(['status'])).stdout).toContain('firewall backend: nftables (FIREWALL_BACKEND=auto, ufw is not installed)');

    const withUfw = nftHost({ ufw: true });
    const ufwStatus = await withUfw.run(['status']);
    expect(ufwStatus.stdout).toContain('firewall backend: ufw (FIREWALL_BACKEND=auto, ufw is installed)');
    expect(withUfw.calls()).toEqual(['ufw version', 'ufw status verbose', 'ufw show added']);

    const forced = nftHost({ ufw: true, env: { FIREWALL_BACKEND: 'nftables' } });
    expect((await forced.run(['apply'])).code).toBe(0);
    expect(forced.calls().filter((c) => c.startsWith('ufw'))).toEqual([]);
    expect(forced.live()).toBe(WANTED_TABLE);

    const bogus = await noUfw.run(['status'], { FIREWALL_BACKEND: 'iptables' });
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("FIREWALL_BACKEND must be auto, ufw or nftables, got 'iptables'");

    const neither = await noUfw.run(['apply'], { NFT_CMD: join(root, 'no-such-nft') });
    expect(neither.code).toBe(1);
    expect(neither.stderr).toContain('nft is not available');
    expect(neither.stderr).toContain('FIREWALL_BACKEND=auto, ufw is not installed); install the nftables package on the host first (dnf install -y nftables)');
  });

  test('status prints the backend, our table, whether it matches and what loads it at boot; it changes nothing', async () => {
    const host = nftHost();
    const before = await host.run(['status']);
    expect(before.code).toBe(0);
    expect(before.stdout).toBe(
      [
        'firewall backend: nftables (FIREWALL_BACKEND=auto, ufw is not installed)',
        '',
        "table inet hostrt_host is not loaded: this host does not filter inbound traffic (run 'firewall.sh apply')",
        `at boot: ${host.rulesFile} missing; ${host.bootConf} does not include it; nftables.service not enabled`,
        '',
      ].join('\n'),
    );
    await host.run(['apply']);
    const after = await host.run(['status']);
    expect(after.stdout).toBe(
      [
        'firewall backend: nftables (FIREWALL_BACKEND=auto, ufw is not installed)',
        '',
        WANTED_TABLE,
        'table inet hostrt_host matches the wanted rules: inbound 80/tcp 443/tcp only, outbound allowed',
        `at boot: ${host.rulesFile} present; ${host.bootConf} includes it; nftables.service enabled`,
        '',
      ].join('\n'),
    );
    const calls = host.calls();
    expect(calls.slice(calls.lastIndexOf('nft --version'))).toEqual([
      'nft --version',
      'nft list table inet hostrt_host',
      'systemctl is-enabled --quiet nftables.service',
    ]);
  });
});

/**
 * The real nft in a network namespace of its own (`unshare -rn`: a user namespace maps us to root
 * there). Its ruleset starts empty and disappears with the process, so the host's is untouched.
 * `nft -c` sends the batch to the kernel, which checks it and aborts (no batch end), so it needs
 * netlink with CAP_NET_ADMIN: where namespaces are not allowed, these tests say why and skip.
 */
function realNftUnavailable(): string | undefined {
  const probe = spawnSync('unshare', ['-rn', 'nft', 'list', 'ruleset'], { encoding: 'utf8' });
  if (probe.status === 0) return undefined;
  const why = probe.error ? probe.error.message : `exit ${probe.status}: ${probe.stderr.trim()}`;
  return `real nft in a private network namespace is not available here (unshare -rn nft list ruleset: ${why}); install Debian's nftables package and allow user namespaces`;
}

// Decided when the file is collected, so jest reports these tests as skipped (with the reason in
// the describe title), never as passed.
const realNftSkip = realNftUnavailable();
const maybe = realNftSkip ? test.skip : test;

describe(`firewall.sh with the real nft (throwaway network namespace)${realNftSkip ? `: skipped, ${realNftSkip}` : ''}`, () => {
  maybe('nft -c -f accepts the generated script (default ports, and single and mixed port lists)', async () => {
    for (const allow of ['80/tcp 443/tcp', '443/tcp', '443/tcp 80/tcp 8080 53/udp']) {
      const host = nftHost({ env: { FIREWALL_ALLOW: allow } });
      expect((await host.run(['apply'])).code).toBe(0);
      const check = await runCommand('unshare', ['-rn', 'nft', '-c', '-f', host.rulesFile]);
      if (check.code !== 0) throw new Error(`nft -c rejected the rules for FIREWALL_ALLOW='${allow}':\n${check.stderr}`);
    }
    // The check is a real one: a broken script is refused.
    const broken = join(root, 'broken.nft');
    writeFileSync(broken, WANTED_SCRIPT.replace('policy drop;', 'policy dorp;'));
    const refused = await runCommand('unshare', ['-rn', 'nft', '-c', '-f', broken]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('dorp');
  });

  maybe('apply loads the table nft lists exactly as generated, so a second apply runs nothing; only our table exists', async () => {
    const host = nftHost();
    const script = join(hostScriptsDir, 'firewall.sh');
    const env = { ...host.env, NFT_CMD: 'nft' };
    const result = await runCommand(
      'unshare',
      ['-rn', 'bash', '-c', `bash '${script}' apply >/dev/null && bash '${script}' apply >/dev/null && bash '${script}' status && nft list ruleset`],
      env,
    );
    if (result.code !== 0) throw new Error(`real apply failed:\n${result.output}`);
    expect(result.stderr).toContain('firewall applied (nftables, table inet hostrt_host)');
    expect(result.stderr).toContain('firewall already applied (nftables, table inet hostrt_host)');
    expect(result.stdout).toContain('table inet hostrt_host matches the wanted rules');
    // `nft list ruleset`: our table and nothing else.
    expect(result.stdout.endsWith(WANTED_TABLE)).toBe(true);
    expect(result.stdout.match(/^table .* \{$/gm)).toEqual(['table inet hostrt_host {', 'table inet hostrt_host {']);
  });
});
