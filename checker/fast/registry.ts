// Each model's fast paths by model name.
import type { ModelName } from '../types.js';
import type { ModelFastPaths } from './fast-paths.js';
import { kvFastPaths } from './kv.js';
import { registerFastPaths } from './register.js';

export const FAST_PATHS: Readonly<Record<ModelName, ModelFastPaths>> = {
  'cas-register': registerFastPaths,
  kv: kvFastPaths,
};
