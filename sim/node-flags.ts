/**
 * The V8 flags `npm run sim` starts Node with (package.json spells them out;
 * a test keeps the two in step). The simulator allocates a few short-lived
 * objects per datagram (the bytes, the decoded message, its answer), so its
 * speed depends on the young generation:
 *
 * - `--max-semi-space-size=64` (MB): fewer scavenges, and fewer short-lived
 *   objects promoted to the old generation only to die there;
 * - `--single-threaded-gc`: no GC helper threads, which with `--workers N`
 *   on N cores would compete with the workers for the same cores.
 *
 * `npm run bench -- sim` measures campaigns with and without them, side by side.
 */
export const SIM_V8_FLAGS: readonly string[] = ['--max-semi-space-size=64', '--single-threaded-gc'];
