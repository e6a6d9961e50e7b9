// The built-in models by name, and inference of the model from `f` names.
import type { Model } from './model.js';
import { casRegister } from './cas-register.js';
import { kv } from './kv.js';
import type { ModelName } from '../types.js';

export const MODELS: Readonly<Record<ModelName, Model<unknown>>> = {
  'cas-register': casRegister,
  kv: kv as Model<unknown>,
};

export function isModelName(s: string): s is ModelName {
  return Object.prototype.hasOwnProperty.call(MODELS, s);
}

/** The model whose `fs` contain every given f name, or null (none or ambiguous). */
export function inferModel(fs: Iterable<string>): ModelName | null {
  const names = [...new Set(fs)];
  const fits = (Object.keys(MODELS) as ModelName[]).filter((m) => names.every((f) => MODELS[m].fs.includes(f)));
  return fits.length === 1 ? fits[0]! : fits.length > 1 && names.length === 0 ? 'cas-register' : null;
}
