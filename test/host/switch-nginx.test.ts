import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BlueGreenHost, RELEASES, setUpBlueGreenHost } from '../helpers/blue-green-host';
import { httpBody, startCommand, stopStrayCommands, waitForFile } from '../helpers/host-scripts';
import { expectOutcome } from '../helpers/outcomes';
import { SWITCH_STEPS, type SwitchFaults, switchFaults } from '../helpers/switch-faults';

/*
 * nginx and the blue/green switch under faults (scripts/host/switch.sh, nginx-upstream.sh): nginx
 * killed, or restarted by systemd, at every step of a switch, the deploy itself killed with -9 or
 * signalled between writing the upstream include and the reload. Whatever happens, the include
 * names the colour the state file records, and nginx (once systemd has started it again, through
 * the first boot's pre-start step) serves the release the state file records. Real podman,
 * Debian's nginx on its own prefix, the busybox app (test/helpers/blue-green-host.ts).
 */

let host: BlueGreenHost;
let faults: SwitchFaults;

// A blue/green deploy builds and starts a colour and waits for it; on this shared 2-core machine
// one was seen taking over 2 minutes under load. Each test runs at most two, plus its setup.
jest.setTimeout(900_000);

beforeAll(async () => {
  host = await setUpBlueGreenHost({ name: 'hostrtsw' });
  faults = switchFaults(join(host.root, 'switch-faults'), host.nginx, host.env, host.preStart);
}, 300_000);

afterEach(async () => {
  faults.clear();
  await stopStrayCommands();
});

afterAll(() => {
  host?.remove();
});

const throughNginx = () => httpBody(`${host.nginx.url}/healthz`);
const include = () => readFileSync(host.env.NGINX_UPSTREAM_FILE, 'utf8');
const state = () => JSON.parse(readFileSync(host.stateFile, 'utf8'));
const port = (colour: string) => host.env[colour === 'green' ? 'GREEN_PORT' : 'BLUE_PORT'];
const auditLines = () => readFileSync(host.auditLog, 'utf8').trim().split('\n');

/** GIVEN a release serving as the state file records it, with nothing in progress: v1 on blue unless such a state is already there. */
async function givenSteadyHost(): Promise<void> {
  const tag = host.recordedTag();
  const colour = existsSync(host.stateFile) ? state().servingColour : undefined;
  await host.given(tag === 'v1' || tag === 'v2' ? { ref: tag, colour } : { ref: 'v1', colour: 'blue' });
}

/** THEN what serves is what the state file records: the include names its colour, and nginx (started as systemd does) serves its release. */
async function expectServesRecorded(): Promise<void> {
  const recorded = state();
  const tag = host.recordedTag() as string;
  expect(include()).toContain(`server 127.0.0.1:${port(recorded.servingColour)};`);
  if (!host.nginx.running()) await host.startNginxAsSystemd();
  expect(await throughNginx()).toBe(`200 ${RELEASES[tag].body}`);
}

describe.each(['die', 'restart'] as const)('nginx %s at every step of a switch', (fault) => {
  test.each([...SWITCH_STEPS])(`%s: the include names the recorded colour, and a (re)started nginx serves the recorded release`, async (step) => {
    await givenSteadyHost();
    const from = host.recordedTag() as string;
    const to = from === 'v1' ? 'v2' : 'v1';
    faults.arm(step, fault);

    const result = await host.deploy(to, faults.env);

    expect(faults.fired(step)).toBe(true);
    // The documented outcomes of a deploy that switches: done, failed with the old release back, or act now.
    expect([0, 1, 3]).toContain(result.code);
    await expectServesRecorded();
    // Every run ends with its outcome in the audit log.
    expect(auditLines().at(-1)).toMatch(
      { 0: /op=deploy result=ok /, 1: /op=deploy result=failed /, 3: /op=deploy result=critical / }[result.code as 0 | 1 | 3],
    );
  });
});

test('nginx dies during the switch (the include already names the new colour, the reload fails): the include names the serving colour again, and a restarted nginx serves the recorded release', async () => {
  await givenSteadyHost();
  const before = readFileSync(host.stateFile, 'utf8');
  const from = host.recordedTag() as string;
  faults.arm('before-reload', 'die');

  const result = await host.deploy(from === 'v1' ? 'v2' : 'v1', faults.env);

  // Nothing may serve now: act now (exit 3), and the message says what to do.
  expect(result.stderr).toMatch(
    /nginx could not be reloaded on (blue|green) \(.*is nginx running\?.*\): .* names it again, so nginx serves it once nginx runs/,
  );
  expectOutcome('deploy', 3, result, host.auditLog);
  expect(readFileSync(host.stateFile, 'utf8')).toBe(before);
  expect(include()).toContain(`server 127.0.0.1:${port(state().servingColour)};`);
  expect(host.nginx.running()).toBe(false);
  await host.startNginxAsSystemd();
  expect(await throughNginx()).toBe(`200 ${RELEASES[from].body}`);
});

test('kill -9 of the deploy between writing the include and the reload: nginx started again serves the recorded release, not the unrecorded new one', async () => {
  await givenSteadyHost();
  const from = host.recordedTag() as string;
  faults.arm('include-written', 'hold');
  const started = startCommand('bash', [join(__dirname, '../../scripts/host/deploy.sh'), from === 'v1' ? 'v2' : 'v1'], { ...host.env, ...faults.env });
  await waitForFile(faults.heldFile, 600_000);
  process.kill(started.pid, 'SIGKILL');
  expect((await started.done).code).toBe(-1);
  faults.release('include-written');

  // nginx is restarted (systemd, a reboot) before anyone runs anything on the host
  host.nginx.kill();
  await host.startNginxAsSystemd();

  expect(await throughNginx()).toBe(`200 ${RELEASES[from].body}`);
  expect(include()).toContain(`server 127.0.0.1:${port(state().servingColour)};`);
});

test('SIGTERM to the deploy between writing the include and the reload: the include is put back, nginx keeps serving the recorded release, and the outcome is audited (exit 143)', async () => {
  await givenSteadyHost();
  const from = host.recordedTag() as string;
  faults.arm('include-written', 'hold');
  const started = startCommand('bash', [join(__dirname, '../../scripts/host/deploy.sh'), from === 'v1' ? 'v2' : 'v1'], { ...host.env, ...faults.env });
  await waitForFile(faults.heldFile, 600_000);
  process.kill(started.pid, 'SIGTERM');
  faults.release('include-written');
  const result = await started.done;

  expectOutcome('deploy', 143, result, host.auditLog);
  expect(include()).toContain(`server 127.0.0.1:${port(state().servingColour)};`);
  expect(host.nginx.running()).toBe(true);
  expect(await throughNginx()).toBe(`200 ${RELEASES[from].body}`);
  expect(auditLines().at(-1)).toMatch(/op=deploy result=interrupted .*exit=143 .*message="interrupted by SIGTERM/);
});
