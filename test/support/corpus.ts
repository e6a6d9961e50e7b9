/**
 * Where the reference history corpus lives: $RIFT_CORPUS, else `shared/corpus`
 * beside the repository (how CI and the developers' machines lay it out),
 * else /work/shared/corpus.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './build.js';

export function corpusDir(): string {
  const candidates = [process.env['RIFT_CORPUS'], join(repoRoot, '..', 'shared', 'corpus'), '/work/shared/corpus'];
  for (const dir of candidates) if (dir !== undefined && dir !== '' && existsSync(join(dir, 'porcupine', 'MANIFEST.tsv'))) return dir;
  throw new Error(`reference corpus not found (looked in ${candidates.filter(Boolean).join(', ')}); set RIFT_CORPUS`);
}
