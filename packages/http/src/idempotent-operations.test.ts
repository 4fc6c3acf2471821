import { idempotentOperations, loadSpec, type OpenApiDocument } from './spec';

const KEY = { $ref: '#/components/parameters/IdempotencyKey' };
const spec = (post: Record<string, unknown>, extra: Record<string, unknown> = {}): OpenApiDocument => ({
  openapi: '3.1.0',
  security: [{ bearerAuth: [] }],
  paths: { '/things': { post: { operationId: 'createThing', ...post }, ...extra } },
  components: { parameters: { IdempotencyKey: { name: 'Idempotency-Key', in: 'header', schema: { type: 'string' } } } },
});

describe('idempotentOperations (x-alder-idempotent, checked when the app is built)', () => {
  it('lists the POSTs marked true, with the IdempotencyKey parameter', () => {
    expect(idempotentOperations(spec({ 'x-alder-idempotent': true, parameters: [KEY] }))).toEqual(new Set(['createThing']));
    expect(idempotentOperations(spec({ 'x-alder-idempotent': false }))).toEqual(new Set());
    expect(idempotentOperations(spec({}))).toEqual(new Set());
  });

  it('marks exactly the creating operations of the spec', () => {
    expect([...idempotentOperations(loadSpec())].sort()).toEqual([
      'createApiKey',
      'createIntegration',
      'createProject',
      'createUser',
      'createWebhook',
      'ingestItems',
      'rotateIntegrationSecret',
      'rotateWebhookSecret',
      'submitAnnotation',
    ]);
  });

  it('refuses a malformed mark: not a boolean, not a POST, no API key, no parameter, no such parameter', () => {
    expect(() => idempotentOperations(spec({ 'x-alder-idempotent': 'yes', parameters: [KEY] }))).toThrow(/createThing: x-alder-idempotent "yes" is not true or false/);
    expect(() => idempotentOperations(spec({}, { patch: { operationId: 'changeThing', 'x-alder-idempotent': true, parameters: [KEY] } }))).toThrow(/changeThing: x-alder-idempotent is for POSTs/);
    expect(() => idempotentOperations(spec({ 'x-alder-idempotent': true, parameters: [KEY], security: [], 'x-alder-access': { signature: 'integration' } }))).toThrow(
      /needs an operationId and an API key/,
    );
    expect(() => idempotentOperations(spec({ 'x-alder-idempotent': true }))).toThrow(/needs the parameter/);
    const withoutComponent = { ...spec({ 'x-alder-idempotent': true, parameters: [KEY] }), components: {} };
    expect(() => idempotentOperations(withoutComponent)).toThrow(/IdempotencyKey must be the Idempotency-Key header/);
  });
});
