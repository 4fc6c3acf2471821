/**
 * dst[dstOff + d] += scale * src[srcOff + d] for d < n: the inner loop of pooling and of the
 * embedding table's sparse updates, most of a training step on long texts. Four lanes at a time,
 * each lane's sums in the same order as the plain loop, so the float32 results are the same.
 */
export function axpy(dst: Float32Array, dstOff: number, scale: number, src: Float32Array, srcOff: number, n: number): void {
  let d = 0;
  for (; d + 3 < n; d += 4) {
    dst[dstOff + d] += scale * src[srcOff + d];
    dst[dstOff + d + 1] += scale * src[srcOff + d + 1];
    dst[dstOff + d + 2] += scale * src[srcOff + d + 2];
    dst[dstOff + d + 3] += scale * src[srcOff + d + 3];
  }
  for (; d < n; d++) dst[dstOff + d] += scale * src[srcOff + d];
}
