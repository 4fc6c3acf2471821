import { loadSpec, operationAccess, type OpenApiDocument } from './spec';

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
