import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { environmentsOf } from '../../lib/config';
import { BOOTSTRAP_TEMPLATE, bootstrapPlan, shellLine } from '../../scripts/bootstrap/plan';
import { configWith, shippedConfig } from '../helpers/config-fixtures';
import { projectRoot } from '../helpers/paths';

const plan = (env: string, config = shippedConfig()) => bootstrapPlan(config, environmentsOf(config).find((e) => e.name === env)!);

describe('bootstrapPlan', () => {
  test('prod: policies first, then cdk bootstrap with its own qualifier, toolkit stack, execution policy and boundary, then the GitHub subject', () => {
    expect(plan('prod').map((s) => shellLine(s.argv))).toEqual([
      "npx cdk --app 'npx ts-node --swc bin/bootstrap-app.ts' deploy auraxis-prod-bootstrap-policies --require-approval broadening",
      'npx cdk bootstrap aws://765480282720/us-east-1 --template lib/bootstrap/bootstrap-template.yaml --qualifier auraxiprod --toolkit-stack-name CDKToolkit-auraxiprod --cloudformation-execution-policies arn:aws:iam::765480282720:policy/auraxis-prod-cfn-execution --custom-permissions-boundary auraxis-prod-permissions-boundary --termination-protection',
      "gh api --method PUT repos/auraxis/auraxis-infra/actions/oidc/customization/sub -F use_default=false -f 'include_claim_keys[]=repo' -f 'include_claim_keys[]=context' -f 'include_claim_keys[]=ref' -f 'include_claim_keys[]=job_workflow_ref'",
    ]);
  });

  test('an environment outside us-east-1 is bootstrapped in its region and in us-east-1 (health stack)', () => {
    const config = configWith((c) => {
      c.environments.dev.region = 'eu-west-1';
      c.environments.dev.instance.availabilityZone = 'eu-west-1a';
    });
    const targets = plan('dev', config)
      .map((s) => s.argv)
      .filter((a) => a[2] === 'bootstrap')
      .map((a) => a[3]);
    expect(targets).toEqual(['aws://444455556666/eu-west-1', 'aws://444455556666/us-east-1']);
  });

  test('every cdk bootstrap uses the project template, kept in the repository', () => {
    const bootstraps = ['dev', 'prod'].flatMap((env) => plan(env).filter((s) => s.argv[2] === 'bootstrap'));
    expect(bootstraps.length).toBe(2);
    for (const step of bootstraps) expect(step.argv[step.argv.indexOf('--template') + 1]).toBe(BOOTSTRAP_TEMPLATE);
    expect(existsSync(join(projectRoot, BOOTSTRAP_TEMPLATE))).toBe(true);
  });

  test('the commands of dev and prod share no qualifier, toolkit stack, policy or boundary', () => {
    const words = (env: string) =>
      new Set(
        plan(env)
          .slice(0, -1)
          .flatMap((s) => s.argv.filter((a) => /auraxi/.test(a))),
      );
    const prod = words('prod');
    expect([...words('dev')].filter((w) => prod.has(w))).toEqual([]);
  });
});
