import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapCommands, COMPOSE_SHA256, COMPOSE_VERSION } from '../../lib/host-runtime/first-boot';
import { hostScriptsDir, runHostScript } from '../helpers/host-scripts';

/* What runs as root on the host from outside this repository is pinned by a value kept in it. */

const bootstrap = bootstrapCommands({
  appName: 'auraxis',
  repository: 'https://example.com/a.git',
  gitRef: 'refs/tags/v1',
  agent: { containerLogGroupName: 'c', systemLogGroupName: 's' },
}).join('\n');

test('the Compose binary is checked against the sha256 kept in this repository, never one downloaded beside it', () => {
  expect(bootstrap).toContain(`x86_64) compose_sha256=${COMPOSE_SHA256.x86_64} ;;`);
  expect(bootstrap).toContain(`aarch64) compose_sha256=${COMPOSE_SHA256.aarch64} ;;`);
  expect(bootstrap).toContain('echo "$compose_sha256  /tmp/docker-compose" | sha256sum -c -');
  expect(bootstrap).toContain(`/download/${COMPOSE_VERSION}/docker-compose-linux-$(uname -m)`);
  expect(bootstrap).not.toContain('.sha256"');
  for (const sum of Object.values(COMPOSE_SHA256)) expect(sum).toMatch(/^[0-9a-f]{64}$/);
});

test('certbot (root, keys mounted) runs an image pinned by digest; an unpinned one is refused', async () => {
  expect(readFileSync(join(hostScriptsDir, 'tls.sh'), 'utf8')).toMatch(/CERTBOT_IMAGE=\$\{CERTBOT_IMAGE:-docker\.io\/certbot\/certbot@sha256:[0-9a-f]{64}\}/);
  const result = await runHostScript('tls.sh', ['apply'], { APP_NAME: 'hostrt', CERTBOT_IMAGE: 'certbot/certbot:latest' });
  expect(result.stderr).toContain("CERTBOT_IMAGE 'certbot/certbot:latest' is not pinned by digest");
  expect(result.code).toBe(1);
});
