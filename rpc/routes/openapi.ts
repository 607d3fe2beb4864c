/** GET /openapi.json: the OpenAPI 3 document of this API, generated from the route schemas. */
import type { FastifyPluginAsync } from 'fastify';

export const openApiRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/openapi.json',
    {
      schema: {
        tags: ['meta'],
        summary: 'This API as an OpenAPI 3 document',
        response: { 200: { type: 'object', additionalProperties: true, description: 'OpenAPI 3.0 document' } },
      },
    },
    async () => app.swagger(),
  );
};
