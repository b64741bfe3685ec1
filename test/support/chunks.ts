/**
 * Cutting a byte stream into chunks, the way a socket may hand it over.
 * Shared by the property tests (framer, payload scanner) and the
 * integration tests that write a line in pieces.
 */

/**
 * `bytes` cut at `cuts`, any integers, each taken modulo length + 1 so that
 * a generator's numbers always land inside. Duplicates are cut once; a cut
 * at 0 or at the end gives an empty chunk there.
 */
export function cutAt<T extends Uint8Array>(bytes: T, cuts: readonly number[]): T[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: T[] = [];
  let from = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(from, point) as T);
    from = point;
  }
  chunks.push(bytes.subarray(from) as T);
  return chunks;
}
