/**
 * Telling a failed disk operation (ENOSPC, EROFS, EIO, a failed fsync...)
 * from damaged data and from bugs: the binary exits with its own code for it
 * (NODE_EXIT.diskFailed) and an operator is told to fix the disk and restart,
 * not to replace the node.
 */

/** Errno codes that say the path or its permissions are wrong (a configuration problem), not that the disk failed. */
const PATH_PROBLEMS: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'ENAMETOOLONG', 'ELOOP']);

/**
 * The errno code (`ENOSPC`, `EROFS`, `EIO`, `EDQUOT`, ...) of `error` or of an error in its `cause` chain,
 * when it says the disk refused an operation; null when none carries a code, or the code is a path or
 * permission problem (PATH_PROBLEMS).
 */
export function diskErrorCode(error: unknown): string | null {
  let e: unknown = error;
  for (let depth = 0; depth < 8 && e instanceof Error; depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return PATH_PROBLEMS.has(code) ? null : code;
    e = e.cause;
  }
  return null;
}
