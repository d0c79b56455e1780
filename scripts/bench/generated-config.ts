import { type ProjectConfig, parseConfig } from '../../lib/config';

/**
 * A config with `count` environments cloned from the shipped ones (alternating dev-like and
 * prod-like), each with its own name, domain and namespace, validated like a user's file.
 */
export function generatedConfig(base: ProjectConfig, count: number): ProjectConfig {
  const templates = Object.values(base.environments);
  const environments: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const name = `env${String(i + 1).padStart(2, '0')}`;
    const template = structuredClone(templates[i % templates.length]);
    const zone = template.hostedZone?.name ?? 'example.com';
    const domain = `${name}.${zone}`;
    environments[name] = {
      ...template,
      domain,
      // Twenty environments in the shipped config's two accounts: they share them on purpose.
      sharedAccount: true,
      kubernetes: { ...template.kubernetes, namespace: `${base.app.name}-${name}`, host: domain },
    };
  }
  return parseConfig({ ...base, environments }, `generated config (${count} environments)`);
}
