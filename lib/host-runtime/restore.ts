/**
 * What `ops restore --backup` accepts and the restore document's `backup` parameter enforces:
 * `latest`, or a backup key (`<env>/<app>-<env>-<UTC stamp>.tar.gz`); restore.sh checks that the
 * key belongs to its own environment. No spaces, quotes, `$` or leading `-` reach the shell.
 */
export const RESTORE_BACKUP_PATTERN = '^(latest|[a-z0-9][a-z0-9-]{0,62}/[a-z0-9][a-z0-9-]*-[0-9]{8}T[0-9]{6}Z\\.tar\\.gz)$';

/** What the restore document's `backup` parameter accepts: a backup as above, or `resume` (restore.sh --resume: start the app again after an interrupted restore). */
export const RESTORE_DOCUMENT_BACKUP_PATTERN = RESTORE_BACKUP_PATTERN.replace('^(latest|', '^(latest|resume|');
