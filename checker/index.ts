// Public API of the linearizability checker (see types.ts for the shapes).
export * from './types.js';
export { checkFile, checkHistory, checkHistoryAsync, checkPrepared, checkPreparedAsync } from './check.js';
export { prepareHistory, type KeyHistory, type PreparedHistory, type PreparedOp } from './history.js';
export { readHistoryFile, parseHistoryText, type HistoryFormat } from './read.js';
export { parseEdn, type EdnValue } from './edn.js';
export { MODELS, inferModel } from './models/registry.js';
export type { Model, ModelOp } from './models/model.js';
export { formatResult } from './format.js';
export { main as cliMain, parseArgs, USAGE } from './cli-main.js';
