/**
 * Words a node puts at the start of a log line so that a reader can tell the
 * line's meaning without parsing free text (the harness's node-errors
 * analysis, harness/run/node-errors.ts).
 */

/**
 * A message the node built and could not send (its encoding failed: too
 * large, or invalid). Always a bug of the node: the core bounds what it
 * builds (AppendEntries by bytes, snapshot chunks by the datagram, commands
 * by what one entry carries), so a peer or a client that waits for such a
 * message waits forever. `rift-node` logs `unsendable: <what> failed: ...`.
 */
export const UNSENDABLE_MARK = 'unsendable';
