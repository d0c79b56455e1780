import { environmentsOf } from '../../lib/config';
import { blueGreenOf } from '../../lib/config/schema/blue-green';
import { configWith, problemsOf, shippedConfigInput } from '../helpers/config-fixtures';

/*
 * app.blueGreen and its per-environment override: the shipped settings, the defaults, the merge,
 * and every rejection with its key path.
 */

// biome-ignore lint/suspicious/noExplicitAny: raw YAML data, broken on purpose
type Raw = Record<string, any>;

const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function brokenBy(edit: (raw: Raw) => void): readonly string[] {
  const raw = shippedConfigInput();
  edit(raw);
  return problemsOf(raw);
}

test('the shipped config runs blue/green in every environment, with the compose conventions of the docs', () => {
  const config = configWith(() => undefined);
  for (const env of environmentsOf(config)) {
    expect(blueGreenOf(config.app, env)).toEqual({
      enabled: true,
      ports: { blue: 3001, green: 3002 },
      portVariable: 'APP_HOST_PORT',
      colourServices: ['api'],
      sharedServices: ['postgres', 'redis'],
      memoryNeedMb: 512,
    });
  }
});

test('defaults: only colourServices is required; enabled, ports, variable, shared services and memory default', () => {
  const config = configWith((raw) => {
    raw.app.blueGreen = { colourServices: ['web'] };
  });
  expect(config.app.blueGreen).toEqual({
    enabled: true,
    ports: { blue: 3001, green: 3002 },
    portVariable: 'APP_HOST_PORT',
    colourServices: ['web'],
    sharedServices: [],
    memoryNeedMb: 512,
  });
});

test('without app.blueGreen, or with enabled: false, an environment restarts in place', () => {
  const none = configWith((raw) => {
    delete raw.app.blueGreen;
  });
  for (const env of environmentsOf(none)) expect(blueGreenOf(none.app, env)).toBeUndefined();
  const offInDev = configWith((raw) => {
    raw.environments.dev.blueGreen = { enabled: false };
  });
  const [dev, prod] = environmentsOf(offInDev);
  expect(blueGreenOf(offInDev.app, dev)).toBeUndefined();
  expect(blueGreenOf(offInDev.app, prod)?.enabled).toBe(true);
});

test("an environment's keys replace the app's, the others stay", () => {
  const config = configWith((raw) => {
    raw.environments.dev.blueGreen = { memoryNeedMb: 256, ports: { blue: 4001, green: 4002 } };
  });
  const [dev, prod] = environmentsOf(config);
  expect(blueGreenOf(config.app, dev)).toMatchObject({
    memoryNeedMb: 256,
    ports: { blue: 4001, green: 4002 },
    colourServices: ['api'],
    sharedServices: ['postgres', 'redis'],
  });
  expect(blueGreenOf(config.app, prod)).toMatchObject({ memoryNeedMb: 512, ports: { blue: 3001, green: 3002 } });
});

describe('rejected with the key path', () => {
  test.each<[string, (raw: Raw) => void, string]>([
    ['no colour service', (raw) => (raw.app.blueGreen.colourServices = []), 'app.blueGreen.colourServices: must name at least one service'],
    ['colourServices missing', (raw) => delete raw.app.blueGreen.colourServices, 'app.blueGreen.colourServices'],
    ['a colour on nginx port 80', (raw) => (raw.app.blueGreen.ports.blue = 80), 'app.blueGreen.ports.blue: must not be 80 or 443'],
    ['a colour on nginx port 443', (raw) => (raw.app.blueGreen.ports.green = 443), 'app.blueGreen.ports.green: must not be 80 or 443'],
    ['both colours on one port', (raw) => (raw.app.blueGreen.ports.green = 3001), 'app.blueGreen.ports.green: must differ from ports.blue (both 3001)'],
    ['a colour on the app port', (raw) => (raw.app.blueGreen.ports.blue = 3000), 'app.blueGreen.ports.blue: must differ from app.port (3000)'],
    ['a port out of range', (raw) => (raw.app.blueGreen.ports.blue = 70000), 'app.blueGreen.ports.blue: must be a port number from 1 to 65535'],
    ['a missing green port', (raw) => (raw.app.blueGreen.ports = { blue: 3001 }), 'app.blueGreen.ports.green'],
    ['a port variable that is not a name', (raw) => (raw.app.blueGreen.portVariable = 'APP PORT'), 'app.blueGreen.portVariable: is not a variable name'],
    [
      'a service that is not a Compose name',
      (raw) => (raw.app.blueGreen.sharedServices = ['postgres', 'redis;rm']),
      'app.blueGreen.sharedServices[1]: is not a Compose service name',
    ],
    [
      'a service both a colour and shared',
      (raw) => (raw.app.blueGreen.sharedServices = ['postgres', 'api']),
      'app.blueGreen.sharedServices: must not name a colour service (api)',
    ],
    ['zero memory', (raw) => (raw.app.blueGreen.memoryNeedMb = 0), 'app.blueGreen.memoryNeedMb: must be at least 1 MB'],
    ['enabled as a string', (raw) => (raw.app.blueGreen.enabled = 'yes'), 'app.blueGreen.enabled: must be true or false'],
    ['an unknown key', (raw) => (raw.app.blueGreen.colors = 2), 'app.blueGreen.colors: is not a known key'],
    ['an unknown key in an override', (raw) => (raw.environments.prod.blueGreen = { port: 1 }), 'environments.prod.blueGreen.port: is not a known key'],
    [
      'an override making the ports equal',
      (raw) => (raw.environments.prod.blueGreen = { ports: { blue: 5000, green: 5000 } }),
      'environments.prod.blueGreen.ports.green: must differ from ports.blue (both 5000)',
    ],
    [
      'an override sharing a colour service',
      (raw) => (raw.environments.dev.blueGreen = { colourServices: ['redis'] }),
      'environments.dev.blueGreen.colourServices: must not name a shared service (redis)',
    ],
    [
      'an override without app.blueGreen',
      (raw) => {
        delete raw.app.blueGreen;
        raw.environments.dev.blueGreen = { enabled: true };
      },
      'environments.dev.blueGreen: overrides app.blueGreen, which is not set',
    ],
  ])('%s', (_name, edit, expected) => {
    // A problem reads "<key path>: <the value> <message>".
    const [path, message = ''] = expected.split(': ');
    const problems = brokenBy(edit);
    expect(problems).toContainEqual(expect.stringMatching(new RegExp(`^${literal(path)}:.*${literal(message)}`)));
  });

  test('an app-level mistake is reported once, not once per environment', () => {
    const problems = brokenBy((raw) => (raw.app.blueGreen.ports.green = 3001));
    expect(problems.filter((p) => p.startsWith('app.blueGreen.ports.green:'))).toHaveLength(1);
  });
});
