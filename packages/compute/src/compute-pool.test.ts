import { readFileSync } from 'node:fs';
import { computeThreads } from './compute-config';
import { createComputePool, inlineCompute, type Compute } from './compute-pool';
import { TaskRunner } from './compute.tasks';

interface Row { text: string; label: string }
const rows: Row[] = readFileSync('../shared/datasets/trec/train.jsonl', 'utf8').trim().split('\n').slice(0, 300).map((line) => JSON.parse(line));
const labels = [...new Set(rows.map((r) => r.label))].sort();
const texts = rows.map((r) => r.text);
const y = rows.map((r) => labels.indexOf(r.label));

let threads: Compute;
beforeAll(() => {
  threads = createComputePool({ threads: 1 });
});
afterAll(async () => {
  await threads.close();
});

// Each task is one definition (TaskRunner) run on a compute thread or on the caller's: the
// results must be the same to the last bit, so nothing depends on which thread ran it.
describe('compute pool', () => {
  it('trains, predicts and scores on a thread exactly as on the calling thread', async () => {
    const input = { texts: texts.slice(0, 200), labels: y.slice(0, 200), numClasses: labels.length, options: { seed: 1, epochs: 2 }, testTexts: texts.slice(200, 250), stopSetTexts: texts.slice(250) };
    const inline = inlineCompute();
    const [onThread, here] = [await threads.train(input), await inline.train(input)];
    // (The bytes differ: the model records its training time.)
    expect(onThread.testPredictions).toEqual(here.testPredictions);
    expect(Array.from(onThread.stopSetProbs!)).toEqual(Array.from(here.stopSetProbs!));
    expect(onThread.stopSetProbs).toHaveLength(50 * labels.length);
    expect(onThread.summary).toMatchObject({ dim: 32, epochs: expect.any(Number), backend: expect.stringMatching(/^(wasm|cpu|tensorflow)$/) });

    const scored = await threads.model(onThread.params).score(texts.slice(0, 40), { embeddings: true });
    const scoredHere = await inline.model(here.params).score(texts.slice(0, 40), { embeddings: true });
    expect(Array.from(scored.probs)).toEqual(Array.from(scoredHere.probs));
    expect(scored.embeddings!.length).toBe(40 * onThread.summary.dim);
    const plain = await threads.model(onThread.params).score(texts.slice(0, 40));
    expect(plain.embeddings).toBeUndefined();
    expect(Array.from(plain.probs)).toEqual(Array.from(scored.probs));

    const model = threads.model(onThread.params);
    const candidates = texts.slice(0, 40);
    const selected = await model.select({
      strategy: 'hybrid',
      labels,
      candidateTexts: candidates,
      candidateEmbeddings: scored.embeddings!,
      drawKeys: Float64Array.from(candidates, (_, i) => i / 40),
      labeledTexts: texts.slice(200, 260),
      labeledY: y.slice(200, 260),
      labeledCount: 60,
      batch: 5,
      seed: 3,
    });
    expect(selected.picks).toHaveLength(5);
    expect(new Set(selected.picks).size).toBe(5);
    expect(selected.rationales[0]).toMatch(/pick 1 of 5/);
  }, 240_000);

  it('refuses embeddings that do not fit the candidates, and stays usable', async () => {
    const trained = await threads.train({ texts: texts.slice(0, 60), labels: y.slice(0, 60), numClasses: labels.length, options: { seed: 1, epochs: 1 }, testTexts: [], stopSetTexts: [] });
    const model = threads.model(trained.params);
    await expect(
      model.select({ strategy: 'coreset', labels, candidateTexts: ['a', 'b'], candidateEmbeddings: new Float32Array(3), drawKeys: new Float64Array(2), labeledTexts: [], labeledY: [], labeledCount: 0, batch: 1, seed: 1 }),
    ).rejects.toThrow(/embeddings do not match/);
    await expect(threads.model(new Uint8Array([1, 2, 3])).score(['x'])).rejects.toThrow();
    await expect(threads.coldStart(['a b c', 'd e f', 'g h i'], 1)).resolves.toHaveLength(3);
  }, 240_000);

  it('deserialises a job\'s model once, and selects on the embeddings scoring returned', async () => {
    const trained = await inlineCompute().train({ texts: texts.slice(0, 120), labels: y.slice(0, 120), numClasses: labels.length, options: { seed: 1, epochs: 1 }, testTexts: [], stopSetTexts: [] });
    const runner = new TaskRunner({ backend: 'auto' });
    const ref = { key: 'job-1', params: trained.params };
    const pages = [texts.slice(0, 50), texts.slice(50, 100)];
    let width = 0;
    for (const page of pages) {
      const scored = (await runner.run({ kind: 'score', model: ref, texts: page, embeddings: true })) as { embeddings: Float32Array };
      width = scored.embeddings.length / page.length;
    }
    // Embeddings the model would never produce: every candidate at the origin but five far
    // apart. Core-set must pick exactly those, so it used the embeddings it was given.
    const far = [7, 13, 21, 34, 42];
    const given = new Float32Array(100 * width);
    far.forEach((candidate, i) => (given[candidate * width + (i % width)] = 100 * (i + 1)));
    const selected = (await runner.run({
      kind: 'select',
      model: ref,
      input: { strategy: 'coreset', labels, candidateTexts: pages.flat(), candidateEmbeddings: given, drawKeys: new Float64Array(100), labeledTexts: [], labeledY: [], labeledCount: 0, batch: 6, seed: 1 },
    })) as { picks: number[] };
    expect(selected.picks).toEqual(expect.arrayContaining(far));
    // One deserialisation for both pages and the selection.
    expect(runner.counts.deserialised).toBe(1);
  }, 120_000);

  it('keeps the model when only its stop-set predictions fail, and says why', async () => {
    const trained = await inlineCompute().train({
      texts: texts.slice(0, 60),
      labels: y.slice(0, 60),
      numClasses: labels.length,
      options: { seed: 1, epochs: 1 },
      testTexts: texts.slice(60, 70),
      // Not text: featurising it fails.
      stopSetTexts: [undefined as unknown as string],
    });
    expect(trained.params.length).toBeGreaterThan(0);
    expect(trained.testPredictions).toHaveLength(10);
    expect(trained.stopSetProbs).toBeNull();
    expect(trained.stopSetError).toEqual(expect.any(String));
  }, 120_000);

  it('refuses a pool of no threads', () => {
    expect(() => createComputePool({ threads: 0 })).toThrow(/whole number >= 1/);
  });

  it('fails at start when an explicit backend is not the one that loads', async () => {
    // Asked for the native backend explicitly, a thread that can only load wasm must say so
    // rather than train on wasm unnoticed (where the native package is installed, it loads).
    const strict = createComputePool({ threads: 1, backend: 'tfjs-node-gpu', requiredBackend: 'tensorflow' });
    try {
      const outcome = await strict.backend().then((name) => name, (error: Error) => error.message);
      expect(outcome).toMatch(/^(tensorflow|TF_BACKEND=tensorflow was asked for, but this thread could only load "(wasm|cpu)".*)$/);
    } finally {
      await strict.close();
    }
  }, 120_000);
});
