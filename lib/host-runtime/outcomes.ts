/*
 * How each host operation ends: its exit codes, the `result=` of the last audit line it writes, the
 * state it leaves and what to run next. One definition: docs/host-runtime.md shows these tables
 * (a test compares them with `outcomeTable`), the host tests assert each run against them
 * (test/helpers/outcomes.ts) and a test checks that every row is exercised by one of them.
 */

/** The `result=` of an operation's last audit line; `none` when that outcome writes none (usage errors, reports). */
export type AuditResult = 'ok' | 'failed' | 'refused' | 'critical' | 'unrecorded' | 'interrupted' | 'recovered' | 'skipped' | 'none';

/** One way an operation ends. */
export interface OutcomeRow {
  /** Exit codes of this outcome (the signals share one row). */
  readonly codes: readonly number[];
  /** The results its last audit line may carry. */
  readonly audit: readonly AuditResult[];
  readonly meaning: string;
  readonly state: string;
  readonly next: string;
}

/** A host operation as its outcomes are documented: the script (and action) and the `op=` its audit lines carry. */
export interface OperationOutcomes {
  /** How it is run, e.g. `deploy.sh <git-ref>`. */
  readonly run: string;
  /** The `op=` of its audit lines (`none`: it audits nothing). */
  readonly auditOp: string;
  readonly rows: readonly OutcomeRow[];
}

const SIGNALS = [129, 130, 143] as const;

/** Every trappable signal ends an operation the same way (lib.sh's EXIT trap). */
const interrupted = (state: string, next: string): OutcomeRow => ({
  codes: SIGNALS,
  audit: ['interrupted'],
  meaning: 'HUP, INT or TERM (an operator, a shutdown): the script stopped where it was',
  state,
  next,
});
const usage = (what = 'bad usage or a setting out of range'): OutcomeRow => ({
  codes: [2],
  audit: ['none'],
  meaning: what,
  state: 'nothing changed',
  next: 'fix the command line or setting',
});

const releaseRows = (action: 'deploy' | 'rollback'): OutcomeRow[] => [
  {
    codes: [0],
    audit: ['ok'],
    meaning: action === 'deploy' ? 'deployed' : 'rolled back (or an interrupted operation undone: the last good release serves again)',
    state: 'the release serves and is `current` in the state file, nginx on its colour; no in-progress record',
    next: 'nothing',
  },
  {
    codes: [1],
    audit: ['failed'],
    meaning: "the release failed (build, migration, `up`, health, smoke; blue/green also nginx's check and the smoke through nginx)",
    state:
      'the last good release serves and is healthy (blue/green: nginx on the old colour, the new one stopped); state file, env file and secret versions unchanged',
    next: '`ops logs`, fix the release, deploy again',
  },
  ...(action === 'deploy'
    ? [
        {
          codes: [2],
          audit: ['refused', 'none'] as AuditResult[],
          meaning: 'bad usage, a ref outside the grammar, unknown, ambiguous (tag and branch), moved on the remote, or unpinned where `requirePinnedRef`',
          state: 'nothing changed (audited `refused` when the ref was resolved)',
          next: 'deploy `refs/tags/<tag>` or `origin/<branch>`; `allowMovedTag=true` if a tag move is intended',
        },
      ]
    : [usage('bad usage (rollback takes no arguments)')]),
  {
    codes: [3],
    audit: ['critical', 'failed'],
    meaning:
      'the release failed and putting the last good one back failed too (blue/green: nginx could not be switched back or reloaded), or an unexpected error after the change began (`failed`)',
    state:
      "unknown, the service may be down; the in-progress record stays; nginx's include names the colour the state file records, which nginx serves once it runs",
    next: '`ops status`, then act (start nginx if it is down); the next deploy or rollback first puts the last good release back',
  },
  {
    codes: [4],
    audit: ['unrecorded'],
    meaning: 'the release came up healthy but the state file could not be written (disk full, read-only)',
    state: 'the last good release was put back and serves, as the state file says',
    next: 'free space in or fix `STATE_DIR`, then run it again',
  },
  {
    codes: [65],
    audit: ['refused', 'failed'],
    meaning: `refused before any change: state file not JSON, ${action === 'rollback' ? 'no state file or no previous release, ' : ''}drift, low disk, env file, checkout owned by another user, lock or in-progress record not writable, a secret missing or unreadable${action === 'deploy' ? ', fetch failed' : ''}; or an unexpected error before any change (\`failed\`)`,
    state: 'nothing changed',
    next: 'fix what the message names, run again',
  },
  {
    codes: [75],
    audit: ['refused'],
    meaning: 'another deploy, rollback, restore or rotation holds the lock (the message names its pid, operation, start and actor)',
    state: 'nothing changed',
    next: 'wait, or retry with `LOCK_WAIT_SECONDS`',
  },
  interrupted(
    "nginx's include back on the colour the state file records (reloaded when nginx runs); a new colour may still run; the in-progress record stays unless nothing had changed yet",
    '`ops status`; the next deploy or rollback puts the last good release back first',
  ),
];

/** The outcomes of every host operation, by name (the ops command, or the script's action). */
export const HOST_OUTCOMES = {
  deploy: { run: 'deploy.sh <git-ref>', auditOp: 'deploy', rows: releaseRows('deploy') },
  rollback: { run: 'rollback.sh', auditOp: 'rollback', rows: releaseRows('rollback') },
  status: {
    run: 'status.sh [--json|--text]',
    auditOp: 'none',
    rows: [
      {
        codes: [0],
        audit: ['none'],
        meaning: 'reported (including an INTERRUPTED operation or a DISAGREEMENT between the include, the state file and the containers)',
        state: 'nothing changed (read-only)',
        next: 'what the report says',
      },
      { codes: [1], audit: ['none'], meaning: 'the report could not be built (one line names why)', state: 'nothing changed', next: 'what the line names' },
      usage(),
      { codes: [65], audit: ['none'], meaning: 'the state file is not valid JSON', state: 'nothing changed', next: 'inspect and fix or remove the state file' },
    ],
  },
  backup: {
    run: 'backup.sh [run|install-timer]',
    auditOp: 'backup',
    rows: [
      {
        codes: [0],
        audit: ['ok', 'none'],
        meaning: 'uploaded, then its manifest; the key on stdout (install-timer: the timer is in place)',
        state: 'the backup and its manifest in S3; the last-backup record and the backup-age metric updated',
        next: 'nothing',
      },
      {
        codes: [1],
        audit: ['failed', 'none'],
        meaning:
          "the snapshot, pg_dump, Redis copy, a full disk, the upload or the manifest's upload failed, or any unexpected error (install-timer: the timer could not be installed, nothing audited)",
        state:
          'its partial files removed; nothing uploaded (or the archive without its manifest, which restore and the drill skip); the last-backup record and the metric unchanged',
        next: 'fix what it names, `ops backup`',
      },
      usage(),
      {
        codes: [65],
        audit: ['refused'],
        meaning: 'the lock file cannot be opened or written (state directory read-only or full)',
        state: 'nothing changed',
        next: 'fix `STATE_DIR`',
      },
      {
        codes: [75],
        audit: ['refused'],
        meaning: 'another backup holds the lock (the message names its pid, key, start and actor)',
        state: 'nothing changed',
        next: 'wait for it: its backup counts',
      },
      interrupted('its partial files removed; nothing uploaded, or the archive without its manifest (skipped by restore)', '`ops backup`'),
    ],
  },
  restore: {
    run: 'restore.sh <key>|latest|--resume',
    auditOp: 'restore',
    rows: [
      {
        codes: [0],
        audit: ['ok', 'recovered', 'none'],
        meaning:
          'restored and healthy; RTO and RPO printed (--resume: the app runs again after an interrupted restore, `recovered`; nothing to resume: nothing audited)',
        state: 'the database holds the backup the message names; the app healthy; no in-progress record',
        next: 'nothing; keep the safety backup until you are sure',
      },
      {
        codes: [1],
        audit: ['failed', 'refused'],
        meaning:
          'refused or failed before the app was stopped: no backup whose manifest and sha256 verify (each skipped one named), download, archive, owner, safety backup, the in-progress record not writable, or an interrupted deploy or rollback recorded (`refused`)',
        state: 'nothing changed',
        next: 'what the message names (`ops rollback` after an interrupted deploy)',
      },
      usage('bad usage, or a key of another environment'),
      {
        codes: [3],
        audit: ['failed'],
        meaning: 'failed after the app was stopped (pg_restore failed, the app could not be stopped, an unexpected error)',
        state:
          "the app started again and healthy on the database as it is, which the message and audit line name: unchanged (pg_restore's one transaction rolled back) or the backup",
        next: 'read which state the database is in; fix and restore again',
      },
      {
        codes: [4],
        audit: ['failed', 'critical'],
        meaning: "the app is not healthy after the restore, or after starting it again (`critical`: an interrupted restore's app did not come back)",
        state: 'the database as the message names; the in-progress record stays (status shows it)',
        next: 'act now: `ops logs`, fix, then `ops restore --resume`',
      },
      { codes: [65], audit: ['refused'], meaning: 'the lock file cannot be opened or written', state: 'nothing changed', next: 'fix `STATE_DIR`' },
      {
        codes: [75],
        audit: ['refused'],
        meaning: 'another deploy, rollback, restore or rotation holds the lock (also: the pg_restore of a killed restore still runs)',
        state: 'nothing changed',
        next: 'wait, then run it again',
      },
      interrupted(
        'when the app had been stopped: started again on the database as it is (the audit line says which state); otherwise nothing changed',
        '`ops status`',
      ),
    ],
  },
  'restore-drill': {
    run: 'restore-drill.sh',
    auditOp: 'restore-drill',
    rows: [
      {
        codes: [0],
        audit: ['ok'],
        meaning: 'the newest intact backup restored every recorded table with its row count; RTO and RPO printed',
        state: 'nothing left behind; the live server never touched',
        next: 'nothing; record the RTO and RPO',
      },
      {
        codes: [1],
        audit: ['failed'],
        meaning:
          'no backup whose manifest and sha256 verify (each skipped one named), corrupt archive, no row counts, not enough disk, the cluster did not start, pg_restore failed, or a table `LOST`/`EXTRA`/`MISSING` rows',
        state: 'the throwaway cluster stopped and removed; the live server never touched',
        next: 'the newest backup cannot be trusted: `ops backup`, then `ops restore-drill`',
      },
      usage(),
      interrupted('the throwaway cluster stopped and removed', '`ops restore-drill`'),
    ],
  },
  tls: {
    run: 'tls.sh [apply|renew] [--dry-run]',
    auditOp: 'tls',
    rows: [
      {
        codes: [0],
        audit: ['ok', 'none'],
        meaning: 'nginx serves the site as the configuration says (renew: renewed and reloaded, or not due; dry run: nothing audited)',
        state: 'the site file, certificate and renew timer in place',
        next: 'nothing',
      },
      {
        codes: [1],
        audit: ['failed', 'none'],
        meaning: 'nginx rejected the site (the previous one is back), a reload failed, or certbot failed (nginx keeps serving HTTP)',
        state: 'the previous site serves',
        next: 'what the message names; `ops tls` again',
      },
      usage('bad usage, or DOMAIN / TLS_ENABLED out of range'),
      interrupted('the site file as it was, or the new one already checked by nginx', '`ops tls` again'),
    ],
  },
  firewall: {
    run: 'firewall.sh apply [--dry-run] | status',
    auditOp: 'firewall',
    rows: [
      {
        codes: [0],
        audit: ['ok', 'none'],
        meaning: 'the rules applied (status and dry runs: printed, nothing audited)',
        state: 'inbound FIREWALL_ALLOW only; outbound open',
        next: 'nothing',
      },
      {
        codes: [1],
        audit: ['failed'],
        meaning: 'a rule command failed, nft rejected the rules, or the outbound check failed after applying (the previous rules are back)',
        state: 'the previous rules, or none of ours',
        next: 'what the message names',
      },
      usage('bad usage, or a FIREWALL_ALLOW entry or backend out of range'),
      interrupted('the rules of the last step that ran (nftables: all or nothing)', '`ops firewall --apply` again'),
    ],
  },
  'secrets restart': {
    run: 'secrets.sh restart NAME',
    auditOp: 'security.key_rotation.restart',
    rows: [
      {
        codes: [0],
        audit: ['ok'],
        meaning: 'restarted healthy on the new value',
        state: 'the env file and the version record name the new version',
        next: 'nothing',
      },
      {
        codes: [1],
        audit: ['failed'],
        meaning: 'unhealthy on the new value; the previous values are back and healthy',
        state: 'the env file and the version record as before',
        next: 'put the previous value back in Parameter Store too (`ops rotate` does)',
      },
      usage(),
      {
        codes: [3],
        audit: ['critical', 'failed'],
        meaning:
          "unhealthy on the new value and still unhealthy on the previous one, an interrupted restore's app did not come back, or an unexpected error after rendering (`failed`)",
        state: 'the service may be down; the env file is the previous one',
        next: '`ops status` and act now',
      },
      {
        codes: [65],
        audit: ['refused'],
        meaning: 'refused before any change: a secret missing or unreadable, state file, no declared secrets, an interrupted deploy or rollback recorded',
        state: 'nothing changed',
        next: 'what the message names',
      },
      {
        codes: [75],
        audit: ['refused'],
        meaning: 'another deploy, rollback, restore or rotation holds the lock',
        state: 'nothing changed',
        next: 'wait, then rotate again',
      },
      interrupted('the previous env file back; the release may have restarted on either value', '`ops status`, then `ops rotate` again'),
    ],
  },
  'nginx-upstream': {
    run: "nginx-upstream.sh (nginx's pre-start step)",
    auditOp: 'none',
    rows: [
      {
        codes: [0],
        audit: ['none'],
        meaning: 'the include names the colour the state file records (or it records none, or cannot be read: left as it is, with a warning)',
        state: 'nginx starts',
        next: 'nothing',
      },
      {
        codes: [1],
        audit: ['none'],
        meaning: 'the include could not be written',
        state: 'systemd does not start nginx: it must not serve an include that may name an unrecorded release',
        next: 'fix /etc/nginx/conf.d, `systemctl start nginx`',
      },
      usage('bad usage, or a setting of the drop-in missing'),
    ],
  },
  // The host's lifecycle (scripts/host/host-boot.sh, host-stop.sh, interruption-watch.sh): they run
  // at boot and at termination, outside any deploy and its lock, and audit to the data volume while
  // it is mounted.
  'host-boot': {
    run: 'host-boot.sh [--volume-only]',
    auditOp: 'host-boot',
    rows: [
      {
        codes: [0],
        audit: ['ok', 'none'],
        meaning:
          "host ready: data volume mounted, the environment's address on this instance (Elastic IP or own A record), Docker and nginx started, the recorded release sent to the deploy document (or none recorded), and the tls, firewall and backup-timer documents sent again where the data volume records them as applied before (each audited op=host-reapply); --volume-only: the volume alone, not audited",
        state: 'the deploy of the recorded commit and the settings applied again run as SSM commands (output in the command log group)',
        next: '`ops status` once the deploy has finished',
      },
      {
        codes: [1],
        audit: ['failed', 'none'],
        meaning:
          'a step failed and the message names it: the volume (not audited: it is not mounted), the address, the app, the recorded release (state file unreadable, SSM refused), or a setting applied before that could not be sent again (op=host-reapply failed names it)',
        state:
          'the steps after it did not run: no address or app without the volume, no app without the address; a failed release step leaves Docker and nginx up without it; a setting not sent again is missing until its ops command (ops tls, ops firewall --apply, ops backup) runs',
        next: 'fix what the message names, then run host-boot.sh again (or `ops deploy --ref <recorded commit>`)',
      },
      usage('bad usage, or a setting missing or out of range (all named at once)'),
    ],
  },
  'host-stop': {
    run: 'host-stop.sh --reason lifecycle|spot',
    auditOp: 'none',
    rows: [
      {
        codes: [0],
        audit: ['none'],
        meaning:
          'clean stop: app stopped, PostgreSQL and Redis flushed and stopped, the volume unmounted and detached; lifecycle: the hook completed with CONTINUE',
        state: 'the volume is `available` for the next host; the instance goes',
        next: 'nothing: the group launches the replacement',
      },
      {
        codes: [1],
        audit: ['none'],
        meaning: 'a step failed (each logged); a volume that could not be unmounted is never detached; lifecycle: the hook completed with ABANDON',
        state: 'the last line says whether the volume is detached, unmounted but attached, or still mounted (EC2 detaches it at termination, crash-consistent)',
        next: 'the replacement attaches the volume once EC2 frees it; `ops status` on the new host',
      },
      usage('bad usage, or a setting missing (all named at once)'),
    ],
  },
  'interruption-watch': {
    run: 'interruption-watch.sh [--once]',
    auditOp: 'final-backup',
    rows: [
      {
        codes: [0],
        audit: ['ok', 'failed', 'skipped', 'none'],
        meaning:
          'nothing announced (--once), or a stop that succeeded; on a Spot warning the final backup is audited first: `ok`, `failed` (or cut off), `skipped` (no time, or no BACKUP_CMD)',
        state: 'after a Spot stop: the volume detached, the hook completed when the group marks the instance Terminated',
        next: 'nothing; a `failed` final backup leaves the newest scheduled backup as the latest',
      },
      {
        codes: [1],
        audit: ['ok', 'failed', 'skipped', 'none'],
        meaning: 'the clean stop reported failures (host-stop.sh exit 1)',
        state: "as host-stop.sh's exit 1",
        next: "as host-stop.sh's exit 1",
      },
      usage('bad usage, or a setting out of range'),
    ],
  },
} as const satisfies Record<string, OperationOutcomes>;

export type OutcomeOperation = keyof typeof HOST_OUTCOMES;

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** The markdown table of one operation's outcomes, as docs/host-runtime.md shows it. */
export function outcomeTable(operation: OutcomeOperation): string {
  const rows = HOST_OUTCOMES[operation].rows.map(
    (row) =>
      `| ${row.codes.join(', ')} | ${row.audit.map((a) => (a === 'none' ? 'none' : `\`${a}\``)).join(', ')} | ${cell(row.meaning)} | ${cell(row.state)} | ${cell(row.next)} |`,
  );
  return [
    `| \`${cell(HOST_OUTCOMES[operation].run)}\` exit | audit \`result=\` | Meaning | State after it | What to run next |`,
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
