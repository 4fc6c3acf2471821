import { loadSpec, operationAccess, unboundedRequestNumbers, type OpenApiDocument } from './spec';

const KEYED = [{ bearerAuth: [] }];
const specWith = (op: Record<string, unknown>, security: unknown[] = KEYED): OpenApiDocument => ({ security, paths: { '/x/{integration_id}': { post: { operationId: 'op', ...op } } } });

describe('operationAccess', () => {
  it('reads a signed operation: no key, the signer named by the rule', () => {
    const access = operationAccess(specWith({ security: [], 'x-alder-access': { signature: 'integration' } }));
    expect(access.get('op')).toEqual({ authenticated: false, rule: { signature: 'integration' } });
  });

  it('takes an integration as the project of a keyed operation', () => {
    const access = operationAccess(specWith({ 'x-alder-access': { project: 'integration', roles: ['manager'] } }));
    expect(access.get('op')).toEqual({ authenticated: true, rule: { project: 'integration', roles: ['manager'] } });
  });

  it('refuses a signed operation that also takes keys, and an open one that names no signer', () => {
    expect(() => operationAccess(specWith({ 'x-alder-access': { signature: 'integration' } }))).toThrow(/signature.*without an API key/);
    expect(() => operationAccess(specWith({ security: [] }))).toThrow(/takes no API key .* names no signer/);
    expect(() => operationAccess(specWith({ 'x-alder-access': { instance: 'admin' } }, []))).toThrow(/names no signer/);
  });

  it('refuses a malformed signature rule', () => {
    for (const rule of [{ signature: 'user' }, { signature: 'integration', roles: ['manager'] }, { signature: true }]) {
      expect(() => operationAccess(specWith({ security: [], 'x-alder-access': rule }))).toThrow(/is not/);
    }
  });

  it('accepts the spec: the inbound webhooks are its only signed operations', () => {
    const signed = [...operationAccess(loadSpec())].filter(([, access]) => 'signature' in access.rule).map(([id]) => id);
    expect(signed).toEqual(['receiveItemsWebhook']);
  });
});

describe('unboundedRequestNumbers', () => {
  it('finds a request number without bounds, or with bounds past 2^53 - 1', () => {
    const spec: OpenApiDocument = {
      paths: {
        '/x/{n}': {
          parameters: [{ name: 'n', in: 'path', schema: { type: 'integer', minimum: 1 } }],
          post: {
            parameters: [{ name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 2 ** 63 } }],
            requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Body' } } } },
          },
        },
      },
      components: {
        schemas: {
          Body: {
            type: 'object',
            properties: {
              ok: { type: 'integer', minimum: 0, maximum: 10 },
              share: { type: ['number', 'null'], format: 'float' },
              fine: { type: 'number', minimum: 0, maximum: 1, format: 'double' },
              loose: { type: 'number', minimum: 0, maximum: 1 },
            },
          },
        },
      },
    };
    expect(unboundedRequestNumbers(spec)).toEqual([
      'POST /x/{n} path n',
      'POST /x/{n} query offset',
      'POST /x/{n} body application/json (Body)/share',
      'POST /x/{n} body application/json (Body)/loose (no format float or double)',
    ]);
  });

  it('accepts the spec: every number a request may carry has bounds a column holds', () => {
    expect(unboundedRequestNumbers(loadSpec())).toEqual([]);
  });
});
