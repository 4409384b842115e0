/**
 * tar-stream's `pack` and `extract`, for lazy imports. tar-stream is CommonJS: Node's loader finds its named exports,
 * but in the code-split bundle (scripts/build.sh) a lazily imported CommonJS module has only a default export. A
 * default import here works in both.
 */
import tarStream from 'tar-stream';

export const { pack, extract } = tarStream;
