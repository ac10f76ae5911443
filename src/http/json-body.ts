import express from 'express';
import { DEFAULT_MAX_JSON_DEPTH, JSON_TOO_DEEP, exceedsJsonDepth } from './json-depth.js';

/** A refusal the body parser passes on as it is (`status` and `type` are what it reads). */
class JsonTooDeep extends Error {
  readonly status = 400;
  readonly type = JSON_TOO_DEEP;
}

/**
 * `/mcp` bodies: parsed as JSON whatever the content type, at most 4 MB, and nested at most
 * {@link DEFAULT_MAX_JSON_DEPTH} deep — checked on the raw bytes before `JSON.parse`, so nothing
 * deep reaches the recursive code of either era's request handling.
 */
export const jsonRpcBody: express.RequestHandler = boundedJson('4mb');

/**
 * A JSON body parser with a size bound and the depth bound, whatever the content type; an
 * empty body is `{}`. Refusals carry `status` and `type` for the one error answer.
 */
export function boundedJson(limit: string): express.RequestHandler {
  return express.json({
    limit,
    type: () => true,
    verify: (_req, _res, raw) => {
      if (exceedsJsonDepth(raw, DEFAULT_MAX_JSON_DEPTH)) throw new JsonTooDeep(`the message nests deeper than ${DEFAULT_MAX_JSON_DEPTH} levels`);
    },
  });
}
