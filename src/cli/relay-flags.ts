/** What the commands that talk to a relay as a client (`tail`, `forward`) read from their flags alike. */

/** A comma-separated flag (`--types a,b`) as its non-blank items; undefined when it names none. */
export function listFlag(text: string | undefined): string[] | undefined {
  const items = text
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  return items?.length ? items : undefined;
}

/** The relay's MCP endpoint from its base URL, given with or without `/mcp`. */
export function mcpEndpoint(url: string): string {
  const base = url.replace(/\/+$/, '');
  return base.endsWith('/mcp') ? base : `${base}/mcp`;
}
