import { readdirSync } from 'node:fs';
import { hostScriptsDir, runCommand } from '../helpers/host-scripts';
import { projectRoot } from '../helpers/paths';

// shellcheck needs about 10 s of CPU for these scripts; on this shared 2-core machine at a load of
// ~30 that was seen taking 3 minutes of wall time. Bounded at 5 minutes.
test('shellcheck: every host script is clean (style level, sourced lib.sh followed)', async () => {
  const scripts = readdirSync(hostScriptsDir)
    .filter((f) => f.endsWith('.sh'))
    .map((f) => `scripts/host/${f}`);
  expect(scripts).toEqual(expect.arrayContaining(['scripts/host/lib.sh', 'scripts/host/deploy.sh', 'scripts/host/firewall.sh']));
  const result = await runCommand('shellcheck', ['-x', '--severity=style', ...scripts], {}, projectRoot);
  if (result.code !== 0) throw new Error(`shellcheck found problems:\n${result.stdout}${result.stderr}`);
}, 300000);
