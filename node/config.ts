/**
 * Loading and validating the cluster configuration file. Every problem is
 * reported with the JSON path it concerns, so a person can fix the file
 * without guessing; the binary exits with code 2 on any of them.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import {
  addressBook,
  configDefaults,
  defaultSnapshotting,
  leaseProblem,
  type ClusterConfig,
  type NodeAddress,
  type ReadMode,
} from './config-types.js';
import { defaultStreamerOptions } from './snapshot/streamer.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const nodeIdPattern = /^[A-Za-z0-9_-]{1,32}$/;

function positiveInteger(obj: Record<string, Json>, field: string, fallback: number | undefined, max: number): number {
  const value = obj[field];
  if (value === undefined) {
    if (fallback === undefined) throw new ConfigError(`"${field}" is required`);
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > max) {
    throw new ConfigError(`"${field}" must be an integer between 1 and ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Bound on `spareNodes` (with the 15 bootstrap nodes, within the core's MAX_MEMBERS of 32). */
export const MAX_SPARE_NODES = 17;

/** Parses "host:port" as used in `routes`. */
export function parseHostPort(text: string): { host: string; port: number } | null {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return null;
  const host = text.slice(0, colon);
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host, port };
}

/** Validates an already-parsed config object. `baseDir` resolves a relative dataDir. */
export function validateConfig(raw: Json, baseDir: string): ClusterConfig {
  if (!isObject(raw)) throw new ConfigError('the config must be a JSON object');
  const known = new Set([
    'cluster',
    'peerSecret',
    'clientSecret',
    'clientFreshnessMs',
    'dataDir',
    'electionTimeoutMsMin',
    'electionTimeoutMsMax',
    'heartbeatIntervalMs',
    'tickMs',
    'nodes',
    'spareNodes',
    'routes',
    'readMode',
    'clockDriftBound',
    'maxKeyBytes',
    'maxValueBytes',
    'maxSessions',
    'snapshotEveryEntries',
    'snapshotEveryBytes',
    'snapshotTrailingEntries',
    'snapshotChunkBytes',
  ]);
  if (raw['secret'] !== undefined) {
    throw new ConfigError(
      '"secret" is no longer accepted: clients must not hold the key nodes authenticate each other with. ' +
        'Replace it with "peerSecret" (held by the nodes only) and "clientSecret" (held by clients and nodes): ' +
        'two different random strings of at least 16 characters, e.g. from `openssl rand -hex 24`',
    );
  }
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) throw new ConfigError(`unknown field "${key}" (known: ${[...known].join(', ')})`);
  }
  const cluster = raw['cluster'];
  if (typeof cluster !== 'string' || cluster.length === 0 || cluster.length > 64) {
    throw new ConfigError('"cluster" must be a non-empty string of at most 64 characters');
  }
  const peerSecret = raw['peerSecret'];
  if (typeof peerSecret !== 'string' || peerSecret.length < 16) {
    throw new ConfigError(
      '"peerSecret" must be a string of at least 16 characters (the nodes authenticate each other with keys derived from it)',
    );
  }
  const clientSecret = raw['clientSecret'];
  if (typeof clientSecret !== 'string' || clientSecret.length < 16) {
    throw new ConfigError(
      '"clientSecret" must be a string of at least 16 characters (clients and nodes authenticate client traffic with a key derived from it)',
    );
  }
  if (clientSecret === peerSecret) {
    throw new ConfigError(
      '"clientSecret" must differ from "peerSecret": every client holds the client secret, and must not be able to speak as a node',
    );
  }
  const clientFreshnessMs = positiveInteger(raw, 'clientFreshnessMs', configDefaults.clientFreshnessMs, 3_600_000);
  const dataDirRaw = raw['dataDir'];
  if (typeof dataDirRaw !== 'string' || dataDirRaw.length === 0) throw new ConfigError('"dataDir" must be a non-empty string');
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(baseDir, dataDirRaw);

  const electionTimeoutMsMin = positiveInteger(raw, 'electionTimeoutMsMin', configDefaults.electionTimeoutMsMin, 600_000);
  const electionTimeoutMsMax = positiveInteger(raw, 'electionTimeoutMsMax', configDefaults.electionTimeoutMsMax, 600_000);
  const heartbeatIntervalMs = positiveInteger(raw, 'heartbeatIntervalMs', configDefaults.heartbeatIntervalMs, 600_000);
  const tickMs = positiveInteger(raw, 'tickMs', configDefaults.tickMs, 10_000);
  if (electionTimeoutMsMax < electionTimeoutMsMin) {
    throw new ConfigError(`"electionTimeoutMsMax" (${electionTimeoutMsMax}) must be >= "electionTimeoutMsMin" (${electionTimeoutMsMin})`);
  }
  // §5.6: broadcastTime << electionTimeout. A heartbeat interval that is not
  // well below the election timeout makes followers campaign against a live leader.
  if (heartbeatIntervalMs * 2 > electionTimeoutMsMin) {
    throw new ConfigError(
      `"heartbeatIntervalMs" (${heartbeatIntervalMs}) must be at most half of "electionTimeoutMsMin" (${electionTimeoutMsMin})`,
    );
  }
  if (tickMs > heartbeatIntervalMs) {
    throw new ConfigError(`"tickMs" (${tickMs}) must not exceed "heartbeatIntervalMs" (${heartbeatIntervalMs})`);
  }

  const nodesRaw = raw['nodes'];
  if (!Array.isArray(nodesRaw) || nodesRaw.length === 0 || nodesRaw.length > 15) {
    throw new ConfigError('"nodes" must be an array of 1 to 15 nodes');
  }
  const ids = new Set<string>();
  const endpoints = new Set<string>();
  const address =
    (field: string) =>
    (node: Json, i: number): NodeAddress => {
      if (!isObject(node)) throw new ConfigError(`${field}[${i}] must be an object with id, host, port`);
      const id = node['id'];
      const host = node['host'];
      const port = node['port'];
      if (typeof id !== 'string' || !nodeIdPattern.test(id)) {
        throw new ConfigError(`${field}[${i}].id must match ${nodeIdPattern} (got ${JSON.stringify(id)})`);
      }
      if (ids.has(id))
        throw new ConfigError(`${field}[${i}].id "${id}" is used twice (an identity is either a bootstrap node or a spare, once)`);
      ids.add(id);
      if (typeof host !== 'string' || host.length === 0) throw new ConfigError(`${field}[${i}].host must be a non-empty string`);
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new ConfigError(`${field}[${i}].port must be an integer in 1..65535 (got ${JSON.stringify(port)})`);
      }
      const endpoint = `${host}:${port}`;
      if (endpoints.has(endpoint)) throw new ConfigError(`${field}[${i}] address ${endpoint} is used twice`);
      endpoints.add(endpoint);
      return { id, host, port };
    };
  const nodes: NodeAddress[] = nodesRaw.map(address('nodes'));
  const sparesRaw = raw['spareNodes'] ?? [];
  if (!Array.isArray(sparesRaw) || sparesRaw.length > MAX_SPARE_NODES) {
    throw new ConfigError(`"spareNodes" must be an array of at most ${MAX_SPARE_NODES} nodes`);
  }
  const spareNodes: NodeAddress[] = sparesRaw.map(address('spareNodes'));

  const routesRaw = raw['routes'] ?? {};
  if (!isObject(routesRaw)) throw new ConfigError('"routes" must be an object {from: {to: "host:port"}}');
  const routes: Record<string, Record<string, string>> = {};
  for (const [from, table] of Object.entries(routesRaw)) {
    if (!ids.has(from)) throw new ConfigError(`routes.${from}: no node has id "${from}"`);
    if (!isObject(table)) throw new ConfigError(`routes.${from} must be an object {to: "host:port"}`);
    routes[from] = {};
    for (const [to, address] of Object.entries(table)) {
      if (!ids.has(to)) throw new ConfigError(`routes.${from}.${to}: no node has id "${to}"`);
      if (typeof address !== 'string' || parseHostPort(address) === null) {
        throw new ConfigError(`routes.${from}.${to} must be "host:port" (got ${JSON.stringify(address)})`);
      }
      routes[from][to] = address;
    }
  }

  const readModeRaw = raw['readMode'] ?? configDefaults.readMode;
  if (readModeRaw !== 'readindex' && readModeRaw !== 'lease') {
    throw new ConfigError(`"readMode" must be "readindex" or "lease" (got ${JSON.stringify(readModeRaw)})`);
  }
  const readMode: ReadMode = readModeRaw;
  const clockDriftBound = raw['clockDriftBound'] ?? configDefaults.clockDriftBound;
  if (typeof clockDriftBound !== 'number' || !(clockDriftBound >= 1) || clockDriftBound > 10) {
    throw new ConfigError(`"clockDriftBound" must be a number in [1, 10] (got ${JSON.stringify(clockDriftBound)})`);
  }
  if (readMode === 'lease') {
    const problem = leaseProblem({ electionTimeoutMsMin, tickMs, clockDriftBound });
    if (problem !== null) throw new ConfigError(problem);
  }
  const maxKeyBytes = positiveInteger(raw, 'maxKeyBytes', configDefaults.maxKeyBytes, 4096);
  const maxValueBytes = positiveInteger(raw, 'maxValueBytes', configDefaults.maxValueBytes, 32_768);
  const maxSessions = raw['maxSessions'] === undefined ? undefined : positiveInteger(raw, 'maxSessions', undefined, 1_000_000);
  // null: never snapshot (the log grows without bound); absent: the defaults (config-types.ts defaultSnapshotting).
  const snapshotEveryEntries =
    raw['snapshotEveryEntries'] === null
      ? null
      : positiveInteger(raw, 'snapshotEveryEntries', defaultSnapshotting.snapshotEveryEntries ?? undefined, 1_000_000_000);
  const snapshotEveryBytes = positiveInteger(raw, 'snapshotEveryBytes', defaultSnapshotting.snapshotEveryBytes, 1024 * 1024 * 1024);
  const trailingRaw = raw['snapshotTrailingEntries'];
  if (trailingRaw !== undefined && !(typeof trailingRaw === 'number' && Number.isSafeInteger(trailingRaw) && trailingRaw >= 0)) {
    throw new ConfigError(`"snapshotTrailingEntries" must be a non-negative integer, got ${JSON.stringify(trailingRaw)}`);
  }
  const snapshotTrailingEntries = trailingRaw ?? defaultSnapshotting.snapshotTrailingEntries;
  const snapshotChunkBytes =
    raw['snapshotChunkBytes'] === undefined
      ? undefined
      : positiveInteger(raw, 'snapshotChunkBytes', undefined, defaultStreamerOptions.chunkBytes);

  return {
    cluster,
    peerSecret,
    clientSecret,
    clientFreshnessMs,
    dataDir,
    electionTimeoutMsMin,
    electionTimeoutMsMax,
    heartbeatIntervalMs,
    tickMs,
    nodes,
    ...(spareNodes.length > 0 ? { spareNodes } : {}),
    routes,
    readMode,
    clockDriftBound,
    maxKeyBytes,
    maxValueBytes,
    ...(maxSessions === undefined ? {} : { maxSessions }),
    snapshotEveryEntries,
    snapshotEveryBytes,
    snapshotTrailingEntries,
    ...(snapshotChunkBytes === undefined ? {} : { snapshotChunkBytes }),
  };
}

/** Reads and validates a config file; every failure is a ConfigError naming the file. */
export function loadConfig(path: string): ClusterConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let raw: Json;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return validateConfig(raw, dirname(resolve(path)));
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`config file ${path}: ${error.message}`);
    throw error;
  }
}

/** Where node `from` sends datagrams for peer `to`: the route override if any, else the peer's own address. */
export function peerAddress(config: ClusterConfig, from: string, to: string): { host: string; port: number } {
  const route = config.routes[from]?.[to];
  if (route !== undefined) {
    const parsed = parseHostPort(route);
    if (parsed !== null) return parsed;
  }
  const node = addressBook(config).find((n) => n.id === to);
  if (node === undefined) throw new ConfigError(`no node "${to}" in the config (nodes or spareNodes)`);
  return { host: node.host, port: node.port };
}
