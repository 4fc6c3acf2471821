import { servedSpec, SERVED_SERVERS } from './served-spec';
import type { OpenApiDocument } from './spec';

const projectId = { name: 'project_id', in: 'path', required: true, schema: { type: 'string' } };
const spec = (): OpenApiDocument => ({
  openapi: '3.1.0',
  servers: [{ url: 'http://localhost:8080' }],
  paths: {
    '/p/{project_id}': {
      parameters: [{ $ref: '#/components/parameters/ProjectId' }],
      get: { operationId: 'get', parameters: [{ $ref: '#/components/parameters/Limit' }] },
    },
    '/plain': { get: { operationId: 'plain' } },
  },
  components: { parameters: { ProjectId: projectId, Limit: { name: 'limit', in: 'query' }, Alias: { $ref: '#/components/parameters/ProjectId' } } },
});

describe('servedSpec', () => {
  it('writes out path-level parameter $refs and leaves operations as they are', () => {
    const served = servedSpec(spec());
    expect(served.paths!['/p/{project_id}']!.parameters).toEqual([projectId]);
    expect(served.paths!['/p/{project_id}']!.get).toEqual({ operationId: 'get', parameters: [{ $ref: '#/components/parameters/Limit' }] });
    expect(served.paths!['/plain']).toEqual({ get: { operationId: 'plain' } });
    expect(served.components).toEqual(spec().components);
  });

  it('follows a $ref to a $ref, and does not share objects with the spec', () => {
    const source = spec();
    source.paths!['/p/{project_id}']!.parameters = [{ $ref: '#/components/parameters/Alias' }];
    const served = servedSpec(source);
    expect(served.paths!['/p/{project_id}']!.parameters).toEqual([projectId]);
    (served.paths!['/p/{project_id}']!.parameters as { name: string }[])[0]!.name = 'changed';
    expect((source.components as any).parameters.ProjectId.name).toBe('project_id');
  });

  it('serves a relative server URL instead of the file\'s fixed one', () => {
    expect(servedSpec(spec()).servers).toEqual(SERVED_SERVERS);
    expect(SERVED_SERVERS.map((s) => s.url)).toEqual(['/']);
  });

  it('refuses a parameter $ref that leads nowhere or in a circle', () => {
    const dangling = spec();
    dangling.paths!['/p/{project_id}']!.parameters = [{ $ref: '#/components/parameters/Nope' }];
    expect(() => servedSpec(dangling)).toThrow('path /p/{project_id} has a parameter $ref #/components/parameters/Nope that resolves to nothing');
    const circle = spec();
    (circle.components as any).parameters.Loop = { $ref: '#/components/parameters/Loop' };
    circle.paths!['/p/{project_id}']!.parameters = [{ $ref: '#/components/parameters/Loop' }];
    expect(() => servedSpec(circle)).toThrow(/\$ref cycle/);
  });
});
