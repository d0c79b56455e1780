/*
 * Kubernetes resource quantities in the shapes the config admits, defined once: the config schema
 * compares requests with limits in these units, and the charts render them.
 */

/** CPU: `250m` → 250, `1` → 1000, `0.5` → 500 millicores; `undefined` for any other shape. */
export function parseCpuMillis(quantity: string): number | undefined {
  if (/^\d+m$/.test(quantity)) return Number(quantity.slice(0, -1));
  if (/^\d+(\.\d+)?$/.test(quantity)) return Math.round(Number(quantity) * 1000);
  return undefined;
}

/** Memory: `256Mi` → 268435456, `1Gi` → 1073741824 bytes; `undefined` for any other shape (and for zero). */
export function parseMemoryBytes(quantity: string): number | undefined {
  const match = /^([1-9]\d*)(Mi|Gi)$/.exec(quantity);
  return match ? Number(match[1]) * (match[2] === 'Gi' ? 2 ** 30 : 2 ** 20) : undefined;
}
