import { z } from 'zod';
import { dnsLabel, hostname, typeError } from '../primitives';

/** How the app runs on Kubernetes in one environment. */
export const kubernetesSchema = z.strictObject({
  /** Namespace the chart creates and deploys into. */
  namespace: dnsLabel,
  /** Deployment replicas (the HPA's minimum when autoscaling is on). */
  replicas: z.number(typeError('must be a whole number')).int({ message: 'must be a whole number' }).min(1, { message: 'must be at least 1' }),
  /** IngressClass name, e.g. `nginx`. */
  ingressClass: dnsLabel,
  /** Public host of the Ingress. */
  host: hostname,
  /** Secret holding the TLS certificate; required when the environment's `tls` is true. */
  tlsSecretName: dnsLabel.optional(),
  /** Existing Secret with DATABASE_URL, RATE_LIMIT_REDIS_URL, JWT secrets, wired with `envFrom`. */
  existingSecret: dnsLabel.optional(),
});
