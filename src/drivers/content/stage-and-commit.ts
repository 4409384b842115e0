import { Readable } from 'node:stream';
import type { Digest } from '../../core/image/digest.ts';
import type { ContentStore } from '../../core/image/stores.ts';

/** `ContentStore.write` for any store: stage the bytes (verified), then commit them. */
export async function stageAndCommit(
  store: Pick<ContentStore, 'stage'>,
  source: Readable | Uint8Array,
  expected?: { digest?: Digest; size?: number },
): Promise<{ digest: Digest; size: number }> {
  const readable = source instanceof Uint8Array ? Readable.from([Buffer.from(source)]) : source;
  const staged = await store.stage(readable, expected);
  staged.commit();
  return { digest: staged.digest, size: staged.size };
}
