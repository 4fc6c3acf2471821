import { resolveFeatureConfig, type FeatureConfig } from './features';
import { buildRowOf, headInputDim, type Pooling, type TrainedModel, type TrainingMeta } from './model';

const MAGIC = 0x52444c41; // "ALDR" little-endian
const FORMAT = 'alder.embedding-bag';
const VERSION = 1;

interface Header {
  format: typeof FORMAT;
  version: number;
  featureConfig: FeatureConfig;
  numClasses: number;
  dim: number;
  hidden: number;
  pooling: Pooling;
  /** Number of table rows. */
  rows: number;
  unseenWeight: number;
  meta: TrainingMeta;
}

/**
 * Binary model: magic "ALDR", header length (u32), JSON header, zero padding to 4 bytes, then
 * the bucket id of each table row (u32), the row weights, the table and the head weights (f32),
 * little-endian.
 * The table holds only buckets seen in training, so a model is a few MiB, not buckets x dim.
 */
export function serializeModel(model: TrainedModel): Uint8Array {
  const { dim, table } = model;
  const rowIds = model.rowBuckets;
  const header: Header = {
    format: FORMAT, version: VERSION, featureConfig: model.featureConfig, numClasses: model.numClasses,
    dim, hidden: model.hidden, pooling: model.pooling, rows: rowIds.length, unseenWeight: model.unseenWeight, meta: model.meta,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = align4(8 + json.length);
  const floats = rowIds.length * (dim + 1) + model.hiddenWeights.length + model.hiddenBias.length + model.outWeights.length + model.outBias.length;
  const bytes = new Uint8Array(start + 4 * (rowIds.length + floats));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, json.length, true);
  bytes.set(json, 8);
  let off = start;
  for (const r of rowIds) off = putU32(view, off, r);
  for (const part of [model.rowWeights, table, model.hiddenWeights, model.hiddenBias, model.outWeights, model.outBias]) off = putF32(view, off, part);
  return bytes;
}

/** Inverse of serializeModel; throws on anything that is not a model of this format. */
export function deserializeModel(bytes: Uint8Array): TrainedModel {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || view.getUint32(0, true) !== MAGIC) throw new Error('not an Alder model');
  const jsonLength = view.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + jsonLength))) as Header;
  if (header.format !== FORMAT || header.version !== VERSION) throw new Error(`unsupported model ${header.format} v${header.version}`);
  // A model from before the text limit featurised whole texts: it keeps doing so.
  const featureConfig = resolveFeatureConfig({ maxTextChars: 0, ...(header.featureConfig as Partial<FeatureConfig>) });
  const { dim, hidden, numClasses, rows, pooling } = header;
  if (pooling !== 'mean' && pooling !== 'sqrt') throw new Error(`unknown pooling ${String(pooling)}`);
  const inDim = headInputDim({ dim, hidden });
  const expected = align4(8 + jsonLength) + 4 * (2 * rows + rows * dim + dim * hidden + hidden + inDim * numClasses + numClasses);
  if (bytes.length !== expected) throw new Error(`model is ${bytes.length} bytes, header implies ${expected}`);
  let off = align4(8 + jsonLength);
  const rowBuckets = new Uint32Array(rows);
  for (let i = 0; i < rows; i++, off += 4) {
    rowBuckets[i] = view.getUint32(off, true);
    if (rowBuckets[i] >= featureConfig.buckets) throw new Error(`row bucket ${rowBuckets[i]} out of range`);
  }
  const read = (n: number) => {
    const out = new Float32Array(n);
    off = getF32(view, off, out);
    return out;
  };
  const rowWeights = read(rows);
  const table = read(rows * dim);
  const hiddenWeights = read(dim * hidden);
  const hiddenBias = read(hidden);
  const outWeights = read(inDim * numClasses);
  const outBias = read(numClasses);
  const rowOf = buildRowOf(rowBuckets, featureConfig.buckets);
  return { featureConfig, numClasses, dim, hidden, pooling, rowBuckets, rowOf, rowWeights, unseenWeight: header.unseenWeight, table, hiddenWeights, hiddenBias, outWeights, outBias, meta: header.meta };
}

const align4 = (n: number) => (n + 3) & ~3;

function putU32(view: DataView, off: number, v: number): number {
  view.setUint32(off, v, true);
  return off + 4;
}

// DataView rather than a Float32Array over the buffer: explicit little-endian on any host.
function putF32(view: DataView, off: number, values: Float32Array): number {
  for (let i = 0; i < values.length; i++, off += 4) view.setFloat32(off, values[i], true);
  return off;
}

function getF32(view: DataView, off: number, into: Float32Array): number {
  for (let i = 0; i < into.length; i++, off += 4) into[i] = view.getFloat32(off, true);
  return off;
}
