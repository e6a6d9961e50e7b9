// The top-level source folders, in layer order (each may import only the
// ones before it; test/layering.test.ts enforces it). One list for the
// build, the staleness check and the layering test.
export const SOURCE_DIRS = ['node', 'checker', 'report', 'sim', 'mc', 'harness', 'bench'];
