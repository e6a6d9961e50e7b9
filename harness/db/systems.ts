/**
 * The systems `--db` can test: the one table (the options, the help and the
 * gate derive from it). To test another database, write its Db, its Client
 * and its SystemUnderTest (db/etcd/ is the worked example) and add it here.
 */
import { etcdSystem } from './etcd/system.js';
import { riftSystem } from './rift/system.js';
import type { SystemUnderTest } from './system.js';

export const systems = {
  rift: riftSystem,
  etcd: etcdSystem,
} as const satisfies Record<string, SystemUnderTest>;

export type DbName = keyof typeof systems;
export const dbNames = Object.keys(systems) as DbName[];
