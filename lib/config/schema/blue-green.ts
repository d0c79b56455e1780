import { z } from 'zod';
import { port, typeError } from '../primitives';

/*
 * Blue/green releases on the single host (scripts/host/switch.sh): what the compose file and the
 * host must agree on. Declared once for the app, overridable per environment (a small host may
 * turn it off or need another memory figure); the documents write the merged result to host.env.
 */

/** The ports nginx's own listeners hold: a colour published there would fight nginx for them. */
const NGINX_PORTS: readonly number[] = [80, 443];

const colourPort = port.refine((p) => !NGINX_PORTS.includes(p), { message: 'must not be 80 or 443 (nginx listens there)' });
const composeService = z
  .string(typeError('must be a Compose service name'))
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, { message: 'is not a Compose service name' });
const services = z.array(composeService, typeError('must be a list of Compose service names'));

const blueGreenFields = {
  /** Start the new release beside the old one and switch nginx (false: restart in place). @default true */
  enabled: z.boolean(typeError('must be true or false')),
  /** Loopback port each colour publishes the app on (nginx's upstream points at one of them). @default { blue: 3001, green: 3002 } */
  ports: z.strictObject({ blue: colourPort, green: colourPort }),
  /** The compose file's variable holding the published port, e.g. `ports: ["127.0.0.1:${APP_HOST_PORT}:3000"]`. @default APP_HOST_PORT */
  portVariable: z
    .string(typeError('must be a variable name'))
    .regex(/^[A-Z][A-Z0-9_]*$/, { message: 'is not a variable name (upper-case letters, digits, "_")' }),
  /** The app services a colour runs (each colour starts only these). */
  colourServices: services.min(1, { message: 'must name at least one service (the app a colour runs)' }),
  /** Services both colours share, outside the colours (Postgres, Redis). @default - none */
  sharedServices: services,
  /** Memory (MB) the second colour needs; below it the deploy restarts in place with a warning. @default 512 */
  memoryNeedMb: z.number(typeError('must be a number of MB')).int({ message: 'must be a whole number of MB' }).min(1, { message: 'must be at least 1 MB' }),
};

/** `app.blueGreen`: absent means the in-place restart (deploys before blue/green existed). */
export const blueGreenSchema = z.strictObject({
  enabled: blueGreenFields.enabled.default(true),
  ports: blueGreenFields.ports.default({ blue: 3001, green: 3002 }),
  portVariable: blueGreenFields.portVariable.default('APP_HOST_PORT'),
  colourServices: blueGreenFields.colourServices,
  sharedServices: blueGreenFields.sharedServices.default([]),
  memoryNeedMb: blueGreenFields.memoryNeedMb.default(512),
});

/** `environments.<env>.blueGreen`: replaces the app's values key by key (e.g. `enabled: false`). */
export const blueGreenOverrideSchema = z.strictObject({
  enabled: blueGreenFields.enabled.optional(),
  ports: blueGreenFields.ports.optional(),
  portVariable: blueGreenFields.portVariable.optional(),
  colourServices: blueGreenFields.colourServices.optional(),
  sharedServices: blueGreenFields.sharedServices.optional(),
  memoryNeedMb: blueGreenFields.memoryNeedMb.optional(),
});

export type BlueGreen = z.output<typeof blueGreenSchema>;

/** An environment's blue/green settings: the app's with the environment's keys over them; undefined when off. */
export function blueGreenOf(
  app: { readonly blueGreen?: BlueGreen },
  env: { readonly blueGreen?: z.output<typeof blueGreenOverrideSchema> },
): BlueGreen | undefined {
  if (!app.blueGreen) return undefined;
  const defined = Object.fromEntries(Object.entries(env.blueGreen ?? {}).filter(([, v]) => v !== undefined));
  const merged: BlueGreen = { ...app.blueGreen, ...defined };
  return merged.enabled ? merged : undefined;
}

/**
 * Checks of the merged settings of each environment: two distinct ports, neither the app's own
 * (the in-place release publishes there until the first switch) nor its metrics port, and no service both a colour's
 * and shared. Reported at the key that set the value (the environment's, else the app's).
 */
export function blueGreenIssues(
  app: { readonly port: number; readonly metricsPort: number; readonly blueGreen?: BlueGreen },
  environments: Readonly<Record<string, { readonly blueGreen?: z.output<typeof blueGreenOverrideSchema> }>>,
): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  if (!app.blueGreen) {
    for (const [name, env] of Object.entries(environments)) {
      if (env.blueGreen)
        issues.push({ path: ['environments', name, 'blueGreen'], message: 'overrides app.blueGreen, which is not set: declare app.blueGreen first' });
    }
    return issues;
  }
  const seen = new Set<string>();
  for (const [name, env] of Object.entries(environments)) {
    const merged = blueGreenOf(app, env);
    if (!merged) continue;
    const where = (key: keyof BlueGreen) => (env.blueGreen?.[key] !== undefined ? ['environments', name, 'blueGreen', key] : ['app', 'blueGreen', key]);
    const add = (key: keyof BlueGreen, message: string, ...sub: string[]) => {
      const path = [...where(key), ...sub];
      // An app-level mistake is reported once, not once per environment.
      if (seen.has(`${path.join('.')}:${message}`)) return;
      seen.add(`${path.join('.')}:${message}`);
      issues.push({ path, message });
    };
    if (merged.ports.blue === merged.ports.green) add('ports', `must differ from ports.blue (both ${merged.ports.blue})`, 'green');
    for (const colour of ['blue', 'green'] as const) {
      if (merged.ports[colour] === app.port)
        add('ports', `must differ from app.port (${app.port}), where the in-place release publishes until the first switch`, colour);
      if (merged.ports[colour] === app.metricsPort)
        add('ports', `must differ from app.metricsPort (${app.metricsPort}), where the app serves /metrics: one port cannot carry both`, colour);
    }
    const both = merged.colourServices.filter((s) => merged.sharedServices.includes(s));
    if (both.length > 0) {
      // Blame the list the environment set, when it set only the colours.
      const colours = env.blueGreen?.colourServices !== undefined && env.blueGreen.sharedServices === undefined;
      const what = colours ? 'shared' : 'colour';
      add(colours ? 'colourServices' : 'sharedServices', `must not name a ${what} service (${both.join(', ')}): shared services run once, outside the colours`);
    }
  }
  return issues;
}
