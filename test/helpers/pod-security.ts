/*
 * The `restricted` Pod Security Standard (Kubernetes v1.27, which the namespaces pin), checked on a
 * pod spec the way Pod Security Admission checks it, so a test can prove that what the charts render
 * is admitted by the labels they put on the namespaces. Baseline controls are part of restricted.
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/
 */

// biome-ignore lint/suspicious/noExplicitAny: parsed manifest fragments
type Any = any;

const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
];
const ALLOWED_SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t'];

/** Every control of `restricted` the pod (spec and annotations) breaks, one line each; [] when admitted. */
export function restrictedViolations(spec: Any, annotations: Record<string, string> = {}): string[] {
  const out: string[] = [];
  const pod = spec.securityContext ?? {};
  const containers: Any[] = [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
  const each = (what: string, bad: (c: Any) => boolean) => {
    for (const c of containers) if (bad(c)) out.push(`container ${c.name}: ${what}`);
  };

  // Baseline.
  if (pod.windowsOptions?.hostProcess) out.push('pod: hostProcess');
  each('hostProcess', (c) => c.securityContext?.windowsOptions?.hostProcess === true);
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[field]) out.push(`pod: ${field}`);
  each('privileged', (c) => c.securityContext?.privileged === true);
  each('hostPort', (c) => (c.ports ?? []).some((p: Any) => p.hostPort !== undefined && p.hostPort !== 0));
  for (const v of spec.volumes ?? []) if (v.hostPath) out.push(`volume ${v.name}: hostPath`);
  for (const [key, value] of Object.entries(annotations)) {
    if (key.startsWith('container.apparmor.security.beta.kubernetes.io/') && value !== 'runtime/default' && !value.startsWith('localhost/'))
      out.push(`annotation ${key}: AppArmor ${value}`);
  }
  const seLinuxBad = (o: Any) =>
    o?.seLinuxOptions && (!ALLOWED_SELINUX_TYPES.includes(o.seLinuxOptions.type ?? '') || o.seLinuxOptions.user || o.seLinuxOptions.role);
  if (seLinuxBad(pod)) out.push('pod: seLinuxOptions');
  each('seLinuxOptions', (c) => seLinuxBad(c.securityContext));
  each('procMount', (c) => c.securityContext?.procMount !== undefined && c.securityContext.procMount !== 'Default');
  for (const s of pod.sysctls ?? []) if (!SAFE_SYSCTLS.includes(s.name)) out.push(`pod: sysctl ${s.name}`);

  // Restricted.
  for (const v of spec.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== 'name');
    if (!type || !RESTRICTED_VOLUME_TYPES.includes(type)) out.push(`volume ${v.name}: type ${type}`);
  }
  each('allowPrivilegeEscalation is not false', (c) => c.securityContext?.allowPrivilegeEscalation !== false);
  if (pod.runAsNonRoot === false) out.push('pod: runAsNonRoot false');
  each('runAsNonRoot is not true (nor set on the pod)', (c) => (c.securityContext?.runAsNonRoot ?? pod.runAsNonRoot) !== true);
  if (pod.runAsUser === 0) out.push('pod: runAsUser 0');
  each('runAsUser 0', (c) => c.securityContext?.runAsUser === 0);
  const seccomp = (o: Any) => o?.seccompProfile?.type;
  if (seccomp(pod) !== undefined && !['RuntimeDefault', 'Localhost'].includes(seccomp(pod))) out.push(`pod: seccomp ${seccomp(pod)}`);
  each('seccomp profile is not RuntimeDefault or Localhost', (c) => !['RuntimeDefault', 'Localhost'].includes(seccomp(c.securityContext) ?? seccomp(pod)));
  each('capabilities do not drop ALL', (c) => !(c.securityContext?.capabilities?.drop ?? []).includes('ALL'));
  each('adds a capability other than NET_BIND_SERVICE', (c) => (c.securityContext?.capabilities?.add ?? []).some((cap: string) => cap !== 'NET_BIND_SERVICE'));
  return out;
}
